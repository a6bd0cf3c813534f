"""What the simulated Pardot holds, and the object rules of the v4/v5 API, with no HTTP in sight.

Errors are raised as ``ApiError(code, message)``; the HTTP layer turns them into Pardot's bodies.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .criteria import number, v4_select
from .imports import FORCED_NULL_OVERWRITE, LISTS, MATCH, NEVER_NULL_OVERWRITE, v4_name
from .records import STANDARD, typed_value

EMAIL = re.compile(r"^[^ @]{1,64}@[^ @]{1,255}\.[^ @]{2,13}$")
INTEGER_FIELDS = frozenset({"campaign_id", "prospect_account_id", "score"})
BOOLEAN_FIELDS = frozenset({"is_do_not_email", "is_do_not_call", "is_reviewed", "is_starred", "is_archived"})
LIST_FIELD = re.compile(r"list_(\d+)")
SEVERAL = re.compile(r"(.+)_(\d+)")
READ_ONLY = frozenset({"created_at", "updated_at", "last_activity_at"})

MESSAGES = {
    3: "Invalid prospect ID",
    4: "Invalid prospect email address",
    13: "Required parameters are missing",
    50: "Invalid boolean",
    55: "Invalid list ID",
    56: "Invalid number",
    58: "That prospect is already a memeber of that list. Update the membership instead.",
    70: "Batch processing is limited to 50 prospects at once.",
    71: "Input needs to be valid JSON or XML",
    90: "Prospect array must be flat",
    109: "The requested record was not found.",
}


class ApiError(Exception):
    """A Pardot error: its numeric code and message."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, "Error")
        super().__init__(f"{code}: {self.message}")


_clock: list = [0, ""]


def now() -> str:
    """The current time as Pardot writes it (cached per second: the simulator calls it per field)."""
    second = int(time.time())
    if second != _clock[0]:
        _clock[:] = [second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%d %H:%M:%S")]
    return _clock[1]


def _truthy(value: Any) -> bool | None:
    """Pardot's boolean parsing: true/false, 1/0 (as numbers or text); anything else is None."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return {"1": True, "true": True, "0": False, "false": False}.get(text)


@dataclass
class PardotState:
    """Prospects, lists and memberships of one simulated account, plus what was asked of it."""

    one_prospect_per_email: bool = False
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
    imports: Any = None  # the Import API's imports (``imports.Imports``), made by the app

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

    # ---- imports ----------------------------------------------------------------------------
    def import_fields(self) -> set[str]:
        """v4 names an import may set: the standard prospect fields and the account's custom fields."""
        return (set(STANDARD) - {"id", "opted_out", "created_at", "updated_at"}) | set(self.custom_fields)

    def import_row(self, row: dict[str, str], options: dict[str, Any]) -> bool:
        """Apply one CSV row of an import (v5 names); True when it created a prospect. Raises ApiError."""
        columns = options.get("fields") or {}
        values: dict[str, Any] = {}
        match: tuple[str, str] | None = None
        for name, cell in row.items():
            low = name.lower()
            if low in MATCH:
                match = (MATCH[low], cell.strip()) if cell.strip() else None
            elif low in LISTS:
                for part in re.split(r"[;,|]", cell):
                    if part.strip():
                        values[f"list_{int(part)}"] = 1 if LISTS[low] else 0
            elif (
                cell != ""
                or name in FORCED_NULL_OVERWRITE
                or ((columns.get(name) or {}).get("nullOverwrite") and name not in NEVER_NULL_OVERWRITE)
            ):
                values[v4_name(name)] = cell
        if match is not None:
            target = self._import_match(*match)
            if target is not None:
                return self._upsert_one({**values, "id": target})
            if not options.get("createOnNoMatch"):
                raise ApiError(3, f"No prospect matches {match[0]} {match[1]!r}")
            if match[0] == "fid":
                values["fid"] = match[1]
        return self._upsert_one(values)

    def _import_match(self, kind: str, value: str) -> int | None:
        if kind == "id":
            return int(value) if value.isdigit() and int(value) in self.prospects else None
        if kind == "fid":
            return self._by_fid.get(value)
        found = self.latest_by_email(value)
        return found["id"] if found else None

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
        values, lists = self._check_row(row)
        target = None
        if row.get("id") not in (None, ""):
            try:
                target = self.prospects.get(int(row["id"]))
            except (TypeError, ValueError):
                target = None
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

    def _check_row(self, row: dict[str, Any]) -> tuple[dict[str, Any], dict[int, bool]]:
        """Validate one row before anything is applied; returns (field values, list flags)."""
        values: dict[str, Any] = {}
        lists: dict[int, bool] = {}
        for key, value in row.items():
            if key == "id" or key in READ_ONLY:
                continue
            if match := LIST_FIELD.fullmatch(key):
                flag = _truthy(value)
                if flag is None:
                    raise ApiError(50, f"Invalid boolean for {key}")
                if int(match.group(1)) not in self.lists:
                    raise ApiError(55)
                lists[int(match.group(1))] = flag
            elif value is None or value == "":
                several = SEVERAL.fullmatch(key)
                if several and self._takes_several(several.group(1)):
                    values[several.group(1)] = None  # <field>_0 = "" clears a field of several values
                else:
                    values[key] = None  # "" clears a value
            elif key in self.custom_fields:
                kept, typed = typed_value(self.custom_fields[key], value)
                if kept:  # a value the field's type cannot take is dropped silently, as Pardot does
                    values[key] = typed
            elif (several := SEVERAL.fullmatch(key)) and self._takes_several(several.group(1)):
                kept, typed = typed_value(self.custom_fields[several.group(1)], value)
                if kept:  # <field>_0, <field>_1, ...: the values of a field that takes several
                    values.setdefault(several.group(1), {})[int(several.group(2))] = typed
            elif key == "email":
                if len(str(value)) > 255 or not EMAIL.match(str(value)):
                    raise ApiError(4)
                values[key] = str(value)
            elif key in INTEGER_FIELDS:
                if isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value).strip()):
                    raise ApiError(56, f"Invalid number for {key}")
                values[key] = int(str(value).strip())
            elif key in BOOLEAN_FIELDS:
                flag = _truthy(value)
                if flag is None:
                    raise ApiError(50, f"Invalid boolean for {key}")
                values[key] = flag
            else:
                values[key] = value if isinstance(value, str) else str(value)
        for key, value in values.items():
            if isinstance(value, dict):  # the several values, in index order
                values[key] = [value[k] for k in sorted(value)]
        return values, lists

    def _takes_several(self, field_id: str) -> bool:
        found = self.custom_fields.get(field_id)
        return found is not None and (
            found.get("type") == "Multi-Select" or bool(found.get("is_record_multiple_responses"))
        )

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

    def delete_prospect(self, prospect_id: str) -> None:
        """v4 delete: the prospect goes to the recycle bin, with its memberships."""
        record = self.read_prospect(prospect_id=prospect_id)[0]
        email = record.get("email")
        self.set_field(record, "email", None)  # out of the email index, then the record keeps its email
        record["email"] = email
        self._by_fid.pop(str(record.get("fid")), None)
        del self.prospects[record["id"]]
        for key in [k for k in self.memberships if k[1] == record["id"]]:
            del self.memberships[key]
        self.deleted[record["id"]] = record

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
