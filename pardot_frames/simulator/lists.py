"""The simulated account's lists and list memberships (v4 rules: errors 55, 58, 109; opted_out)."""

from __future__ import annotations

from typing import Any

from .basics import ApiError, now
from .criteria import number, v4_select


class ListsAndMemberships:
    """List and membership operations of ``PardotState`` (a mixin: the state's fields live there)."""

    lists: dict[int, dict[str, Any]]
    memberships: dict[tuple[int, int], dict[str, Any]]
    prospects: dict[int, dict[str, Any]]
    next_membership_id: int

    # ---- lists -------------------------------------------------------------------------------
    def lists_named(self, name: str | None) -> list[dict[str, Any]]:
        return [r for r in sorted(self.lists.values(), key=lambda r: r["id"]) if name is None or r["name"] == name]

    def delete_list(self, list_id: str) -> None:
        try:
            found = self.lists.pop(int(list_id))
        except (KeyError, ValueError):
            raise ApiError(55) from None
        for key in [k for k in self.memberships if k[0] == found["id"]]:
            del self.memberships[key]

    # ---- list memberships --------------------------------------------------------------------
    def memberships_where(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """List memberships with the ``list_id`` and ``prospect_id`` given (the query's own filters)."""
        found = list(self.memberships.values())
        for key in ("list_id", "prospect_id"):
            wanted = number(params, key)
            if wanted is not None:
                found = [r for r in found if r[key] == wanted]
        return found

    def query_memberships(self, params: dict[str, str]) -> tuple[int, list[dict[str, Any]]]:
        """v4 listMembership query: (total matches, one page) under ``criteria.v4_select``."""
        return v4_select(self.memberships_where(params), params)

    def membership_by_id(self, text: str) -> dict[str, Any] | None:
        return next((r for r in self.memberships.values() if str(r["id"]) == text), None)

    def subscriptions(self, prospect_id: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(membership, list) pairs of one prospect, by membership id."""
        pairs = [(r, self.lists[lid]) for (lid, pid), r in self.memberships.items() if pid == prospect_id]
        return sorted(pairs, key=lambda pair: pair[0]["id"])

    def _check_ids(self, list_id: int, prospect_id: int) -> None:
        if list_id not in self.lists:
            raise ApiError(55)
        if prospect_id not in self.prospects:
            raise ApiError(3)

    def _add_member(self, list_id: int, prospect_id: int, *, tolerate_existing: bool, opted_out: bool = False) -> dict:
        key = (list_id, prospect_id)
        if key in self.memberships:
            if tolerate_existing:
                return self.memberships[key]
            raise ApiError(58)
        record = {
            "id": self.next_membership_id,
            "list_id": list_id,
            "prospect_id": prospect_id,
            "opted_out": opted_out,
            "created_at": now(),
            "updated_at": now(),
        }
        self.next_membership_id += 1
        self.memberships[key] = record
        return record

    def create_membership(self, list_id: int, prospect_id: int, opted_out: bool = False) -> dict[str, Any]:
        self._check_ids(list_id, prospect_id)
        return self._add_member(list_id, prospect_id, tolerate_existing=False, opted_out=opted_out)

    def get_membership(self, list_id: int, prospect_id: int) -> dict[str, Any]:
        self._check_ids(list_id, prospect_id)
        found = self.memberships.get((list_id, prospect_id))
        if found is None:
            raise ApiError(109)
        return found

    def update_membership(self, list_id: int, prospect_id: int, opted_out: bool | None) -> dict[str, Any]:
        record = self.get_membership(list_id, prospect_id)
        if opted_out is not None:
            record["opted_out"] = opted_out
        record["updated_at"] = now()
        return record

    def delete_membership(self, list_id: int, prospect_id: int) -> None:
        self.get_membership(list_id, prospect_id)
        del self.memberships[(list_id, prospect_id)]

    def delete_membership_by_id(self, membership_id: int) -> None:
        for key, record in self.memberships.items():
            if record["id"] == membership_id:
                del self.memberships[key]
                return
        raise ApiError(109)
