"""What the simulated Pardot holds, and the object rules of the v4/v5 API, with no HTTP in sight.

Errors are raised as ``ApiError(code, message)``; the HTTP layer turns them into Pardot's bodies.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .basics import ApiError, now
from .batch_rows import check_row
from .criteria import V4_LIMIT, number, v4_by_id_only, v4_select
from .import_rows import ImportRows
from .lists import ListsAndMemberships
from .recycle_bin import RecycleBin


@dataclass
class PardotState(ListsAndMemberships, ImportRows, RecycleBin):
    """Prospects, lists and memberships of one simulated account, plus what was asked of it."""

    one_prospect_per_email: bool = False
    batch_email_unarchives: bool = True  # recycle_bin: an email-only batch row brings a binned prospect back
    delete_touches_updated_at: bool = True  # recycle_bin: deleting a prospect sets its updated_at
    prospects: dict[int, dict[str, Any]] = field(default_factory=dict)
    lists: dict[int, dict[str, Any]] = field(default_factory=dict)
    memberships: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    custom_fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # field_id -> definition
    deleted: dict[int, dict[str, Any]] = field(default_factory=dict)  # prospects deleted (the recycle bin)
    next_prospect_id: int = 1001
    next_list_id: int = 7001
    next_membership_id: int = 5001
    calls_by_endpoint: Counter = field(default_factory=Counter)
    status_counts: Counter = field(default_factory=Counter)
    error_counts: Counter = field(default_factory=Counter)
    fault_counts: Counter = field(default_factory=Counter)
    rows_by_call: list[int] = field(default_factory=list)
    _by_email: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _by_fid: dict[str, int] = field(default_factory=dict, repr=False)
    activity: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)  # every other v5 object (activity)
    exports: dict[int, dict[str, Any]] = field(default_factory=dict)  # the Export API's exports, by id
    email_clicks: dict[int, dict[str, Any]] = field(default_factory=dict)  # v4 email clicks, by id
    activity_ids: dict[str, list[int]] = field(default_factory=dict, repr=False)  # their sorted ids, while unchanged
    imports: Any = None  # the Import API's imports (``imports.Imports``), made by the app
    _sorted: tuple[Any, list[int]] = field(default=(None, []), repr=False)

    # ---- seeding and inspection -------------------------------------------------------------
    def add_list(self, list_id: int | None = None, name: str | None = None) -> dict[str, Any]:
        list_id = int(list_id or self.next_list_id)
        self.next_list_id = max(self.next_list_id, list_id + 1)
        record = {"id": list_id, "name": name or f"List {list_id}", "created_at": now(), "updated_at": now()}
        self.lists[list_id] = record
        return record

    def add_custom_field(self, definition: dict[str, Any]) -> None:
        """Define a custom field of the account (``field_id``, ``type``, optional allowed ``values``)."""
        field_id = str(definition["field_id"])
        self.custom_fields[field_id] = {"id": 7000 + len(self.custom_fields), "created_at": now(), **definition}

    def add_prospect(self, **values: Any) -> dict[str, Any]:
        """Create a prospect directly (seeding); returns its record with the new id."""
        pid = int(values.pop("id", 0)) or self.next_prospect_id
        self.next_prospect_id = max(self.next_prospect_id, pid + 1)
        record = {"id": pid, "created_at": now(), "updated_at": now()}
        self.prospects[pid] = record
        for key, value in values.items():
            self.set_field(record, key, value)
        return record

    def set_field(self, record: dict[str, Any], key: str, value: Any) -> None:
        """Set one prospect field, keeping the email and fid indexes right."""
        if key == "email":
            old = str(record.get("email") or "").lower()
            if old and record["id"] in self._by_email.get(old, []):
                self._by_email[old].remove(record["id"])
            if value:
                self._by_email.setdefault(str(value).lower(), []).append(record["id"])
        elif key == "fid":
            self._by_fid.pop(str(record.get("fid")), None)
            if value:
                self._by_fid[str(value)] = record["id"]
        record[key] = value

    def find_by_email(self, email: str) -> list[dict[str, Any]]:
        """Every prospect with this email (case-insensitive), lowest id first."""
        return [self.prospects[i] for i in sorted(self._by_email.get(email.strip().lower(), []))]

    def latest_by_email(self, email: str) -> dict[str, Any] | None:
        """The prospect an email means to Pardot (matchEmail, upsertLatestByEmail): the most recently active;
        between equals (no activity), the newest."""
        found = self.find_by_email(email)
        return max(found, key=lambda p: (str(p.get("last_activity_at") or ""), p["id"])) if found else None

    def sorted_ids(self) -> list[int]:
        """The prospects' ids in order, kept while the prospects stay the same (readers page by id)."""
        stamp = (len(self.prospects), next(reversed(self.prospects)) if self.prospects else None)
        if self._sorted[0] != stamp:
            self._sorted = (stamp, sorted(self.prospects))
        return self._sorted[1]

    def members(self, list_id: int) -> set[int]:
        """Ids of the prospects on a list."""
        return {pid for (lid, pid) in self.memberships if lid == list_id}

    def snapshot(self) -> dict[str, Any]:
        """Everything, as JSON-ready data (for ``GET /__sim__/state``)."""
        return {
            "prospects": list(self.prospects.values()),
            "lists": list(self.lists.values()),
            "memberships": list(self.memberships.values()),
            "calls_by_endpoint": dict(self.calls_by_endpoint),
            "status_counts": {str(k): v for k, v in self.status_counts.items()},
            "error_counts": {str(k): v for k, v in self.error_counts.items()},
            "fault_counts": dict(self.fault_counts),
        }

    # ---- prospects ---------------------------------------------------------------------------
    def batch_upsert(self, rows: Any) -> tuple[int, dict[str, str]]:
        """Apply a v4 batchUpsert: (rows created, {index: error message}). Raises for whole-call errors."""
        if not isinstance(rows, list):
            raise ApiError(90)
        if len(rows) > 50:
            raise ApiError(70)
        for row in rows:
            if not isinstance(row, dict) or any(isinstance(v, (dict, list)) for v in row.values()):
                raise ApiError(90)
        created, errors = 0, {}
        for index, row in enumerate(rows):
            try:
                created += self._upsert_one(row)
            except ApiError as exc:
                errors[str(index)] = exc.message
        self.rows_by_call.append(len(rows))
        return created, errors

    def _upsert_one(self, row: dict[str, Any]) -> bool:
        values, lists = check_row(row, self.lists, self.custom_fields)
        target = None
        if row.get("id") not in (None, ""):
            try:
                pid = int(row["id"])
            except (TypeError, ValueError):
                raise ApiError(3) from None
            target = self.prospects.get(pid)
            if target is None and pid in self.deleted:  # stays in the bin unless is_archived is set false
                if values.get("is_archived") is not False:
                    return self._update_binned(self.deleted[pid], values)
                target = self.unarchive(self.deleted[pid])
            if target is None:
                raise ApiError(3)
        elif row.get("fid") not in (None, ""):
            found = self._by_fid.get(str(row["fid"]))
            target = None if found is None else self.prospects[found]
            if target is None and not row.get("email"):
                raise ApiError(3, "Invalid CRM FID")
        elif not row.get("email"):
            raise ApiError(13, "Email address is required to create a prospect")
        elif self.one_prospect_per_email:
            target = self.latest_by_email(str(row["email"]))
            if target is None and self.batch_email_unarchives:
                target = self.restore_by_email(str(row["email"]))
        created = target is None
        if created:
            target = self.add_prospect()
        assert target is not None
        for key, value in values.items():
            self.set_field(target, key, value)
        target["is_archived"] = values.get("is_archived") or False  # an upsert unarchives unless told not to
        target["updated_at"] = now()
        for list_id, add in lists.items():
            if add:
                self._add_member(list_id, target["id"], tolerate_existing=True)
            else:
                self.memberships.pop((list_id, target["id"]), None)
        return created

    def _update_binned(self, record: dict[str, Any], values: dict[str, Any]) -> bool:
        """An update of a prospect in the bin: its fields change, it stays there (facts 7)."""
        record.update({k: v for k, v in values.items() if k != "is_archived"})
        record["updated_at"] = now()
        return False

    def follow(self, config: Any) -> None:
        """The account rules of the simulator's settings (``SimConfig``), applied while it runs."""
        self.one_prospect_per_email = config.one_prospect_per_email
        self.batch_email_unarchives = config.batch_email_unarchives
        self.delete_touches_updated_at = config.delete_touches_updated_at

    def read_prospect(self, *, prospect_id: str | None = None, email: str | None = None) -> list[dict[str, Any]]:
        """v4 read by id (one) or by email (every match)."""
        if prospect_id is not None:
            try:
                found = self.prospects.get(int(prospect_id))
            except ValueError:
                found = None
            if found is None:
                raise ApiError(3)
            return [found]
        matches = self.find_by_email(email or "")
        if not matches:
            raise ApiError(4)
        return matches

    def query_prospects(self, params: dict[str, str]) -> tuple[int, list[dict[str, Any]]]:
        """v4 query: (total matches, one page). Filters email (case-insensitive), deleted (true: the recycle
        bin; all: both), list_id, then the common criteria (``criteria.v4_select``)."""
        if v4_by_id_only(params):  # the readers' usual loop: an id range, by ascending id; no scan
            ids = self.sorted_ids()
            start = bisect.bisect_right(ids, number(params, "id_greater_than") or 0)
            below = number(params, "id_less_than")
            end = bisect.bisect_left(ids, below) if below is not None else len(ids)
            offset, limit = (
                number(params, "offset", 0) or 0,
                min(number(params, "limit", V4_LIMIT) or V4_LIMIT, V4_LIMIT),
            )
            chosen = ids[start + offset : min(start + offset + limit, end)]
            return max(end - start, 0), [self.prospects[i] for i in chosen]
        deleted = str(params.get("deleted", "")).lower()
        if deleted in ("true", "all"):
            found = list(self.deleted.values()) + (list(self.prospects.values()) if deleted == "all" else [])
        elif "email" in params:
            found = self.find_by_email(params["email"])
        else:
            found = list(self.prospects.values())
        if params.get("list_id"):
            members = self.members(int(number(params, "list_id") or 0))
            found = [p for p in found if p["id"] in members]
        return v4_select(found, params)

    def upsert_one(self, row: dict[str, Any]) -> dict[str, Any]:
        """Apply one row as batchUpsert would (v4 single-record create, update, upsert); the prospect's record."""
        before = set(self.prospects)
        self._upsert_one(row)
        new = set(self.prospects) - before
        if new:
            return self.prospects[new.pop()]
        if row.get("id") not in (None, ""):
            return self.prospects[int(row["id"])]
        if row.get("fid") and str(row["fid"]) in self._by_fid:
            return self.prospects[self._by_fid[str(row["fid"])]]
        found = self.latest_by_email(str(row.get("email") or ""))
        assert found is not None
        return found
