"""The recycle bin of the simulated account (``pardot-api-facts.md`` 7; ``pardot-import-api.md`` 7).

A deleted prospect leaves the account's prospects (and its list memberships) for the bin, keeping its id
and email; deleting touches its ``updated_at`` unless ``delete_touches_updated_at`` is off (not confirmed
either way: both variants tested). What brings one back (facts 7):

- an update by email or id, or an upsert by id, changes its fields and leaves it in the bin, unless the row
  sets ``is_archived`` to false (an editable field in the connector's table): then it comes back;
- an upsert by email (v4 ``upsert/email``) and a create with its email (``create/email``) bring it back;
- an email-only batchUpsert row: on an account with one prospect per email, it brings the binned prospect
  back when ``batch_email_unarchives`` (likely, not confirmed: both variants tested); on an account that
  allows several prospects per email it creates a new prospect, as any email-only row does;
- an import row whose match column (matchId, matchEmail) finds only a binned prospect is refused unless the
  import says ``restoreDeleted`` (import-api.md 7); a row without a match column creates, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .basics import ApiError, now

IN_BIN = "The matching prospect is in the recycle bin (restoreDeleted is false)"


class RecycleBin:
    """Recycle-bin operations of ``PardotState`` (a mixin: the state's fields live there)."""

    prospects: dict[int, dict[str, Any]]
    deleted: dict[int, dict[str, Any]]
    memberships: dict[tuple[int, int], dict[str, Any]]
    _by_fid: dict[str, int]
    batch_email_unarchives: bool = True
    delete_touches_updated_at: bool = True

    if TYPE_CHECKING:  # the state's own operations

        def set_field(self, record: dict[str, Any], key: str, value: Any) -> None: ...

        def read_prospect(
            self, *, prospect_id: str | None = None, email: str | None = None
        ) -> list[dict[str, Any]]: ...

    def delete_prospect(self, prospect_id: str) -> None:
        """v4/v5 delete: the prospect goes to the bin, with its memberships."""
        record = self.read_prospect(prospect_id=prospect_id)[0]
        email = record.get("email")
        self.set_field(record, "email", None)  # out of the email index, then the record keeps its email
        record["email"] = email
        self._by_fid.pop(str(record.get("fid")), None)
        del self.prospects[record["id"]]
        for key in [k for k in self.memberships if k[1] == record["id"]]:
            del self.memberships[key]
        if self.delete_touches_updated_at:
            record["updated_at"] = now()
        self.deleted[record["id"]] = record

    def binned_by_email(self, email: str) -> dict[str, Any] | None:
        """The bin's prospect with this email (the newest), if any."""
        key = email.strip().lower()
        found = [p for p in self.deleted.values() if str(p.get("email") or "").lower() == key]
        return max(found, key=lambda p: p["id"]) if found else None

    def unarchive(self, record: dict[str, Any]) -> dict[str, Any]:
        """Bring a binned prospect back (its email and fid indexed again); its memberships stay gone."""
        self.deleted.pop(record["id"], None)
        self.prospects[record["id"]] = record
        email, fid = record.pop("email", None), record.pop("fid", None)
        self.set_field(record, "email", email)
        self.set_field(record, "fid", fid)
        record["is_archived"] = False
        record["updated_at"] = now()
        return record

    def restore_by_email(self, email: str) -> dict[str, Any] | None:
        """An upsert by email or a create with an email no live prospect has: the bin's prospect comes back."""
        found = self.binned_by_email(email)
        return self.unarchive(found) if found is not None else None

    def import_binned(self, kind: str, value: str, restore: bool) -> int | None:
        """An import row's match in the bin: brought back (``restoreDeleted``) or refused; None: no bin match."""
        if kind == "id" and value.isdigit() and int(value) in self.deleted:
            found: dict[str, Any] | None = self.deleted[int(value)]
        elif kind == "email":
            found = self.binned_by_email(value)
        else:
            return None
        if found is None:
            return None
        if not restore:
            raise ApiError(3, IN_BIN)
        return int(self.unarchive(found)["id"])
