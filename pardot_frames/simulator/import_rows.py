"""The simulated account's rows of an import (v5 Import API): one CSV row applied as Pardot applies it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .basics import ApiError
from .records import STANDARD
from .v5_imports import FORCED_NULL_OVERWRITE, LISTS, MATCH, NEVER_NULL_OVERWRITE, v4_name


class ImportRows:
    """Import operations of ``PardotState`` (a mixin: the state's fields live there)."""

    custom_fields: dict[str, dict[str, Any]]
    prospects: dict[int, dict[str, Any]]
    _by_fid: dict[str, int]

    if TYPE_CHECKING:  # the state's own operations

        def _upsert_one(self, row: dict[str, Any]) -> bool: ...

        def latest_by_email(self, email: str) -> dict[str, Any] | None: ...

        def import_binned(self, kind: str, value: str, restore: bool) -> int | None: ...

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
            if target is None:  # a match in the recycle bin: refused, or brought back (restoreDeleted)
                target = self.import_binned(*match, bool(options.get("restoreDeleted")))
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
