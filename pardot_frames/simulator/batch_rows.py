"""One batchUpsert row checked as Pardot checks it before applying anything: list flags, typed custom fields,
the fields of several values, email, numbers and booleans (errors 4, 50, 55, 56)."""

from __future__ import annotations

import re
from collections.abc import Container
from typing import Any

from .basics import ApiError
from .records import typed_value

EMAIL = re.compile(r"^[^ @]{1,64}@[^ @]{1,255}\.[^ @]{2,13}$")
INTEGER_FIELDS = frozenset({"campaign_id", "prospect_account_id", "score"})
BOOLEAN_FIELDS = frozenset({"is_do_not_email", "is_do_not_call", "is_reviewed", "is_starred", "is_archived"})
LIST_FIELD = re.compile(r"list_(\d+)")
SEVERAL = re.compile(r"(.+)_(\d+)")
READ_ONLY = frozenset({"created_at", "updated_at", "last_activity_at"})


def truthy(value: Any) -> bool | None:
    """Pardot's boolean parsing: true/false, 1/0 (as numbers or text); anything else is None."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return {"1": True, "true": True, "0": False, "false": False}.get(text)


def check_row(
    row: dict[str, Any], known_lists: Container[int], custom_fields: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], dict[int, bool]]:
    """Validate one row before anything is applied; returns (field values, list flags)."""
    values: dict[str, Any] = {}
    lists: dict[int, bool] = {}
    for key, value in row.items():
        if key == "id" or key in READ_ONLY:
            continue
        if match := LIST_FIELD.fullmatch(key):
            flag = truthy(value)
            if flag is None:
                raise ApiError(50, f"Invalid boolean for {key}")
            if int(match.group(1)) not in known_lists:
                raise ApiError(55)
            lists[int(match.group(1))] = flag
        elif value is None or value == "":
            several = SEVERAL.fullmatch(key)
            if several and takes_several(custom_fields, several.group(1)):
                values[several.group(1)] = None  # <field>_0 = "" clears a field of several values
            else:
                values[key] = None  # "" clears a value
        elif key in custom_fields:
            kept, typed = typed_value(custom_fields[key], value)
            if kept:  # a value the field's type cannot take is dropped silently, as Pardot does
                values[key] = typed
        elif (several := SEVERAL.fullmatch(key)) and takes_several(custom_fields, several.group(1)):
            kept, typed = typed_value(custom_fields[several.group(1)], value)
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
            flag = truthy(value)
            if flag is None:
                raise ApiError(50, f"Invalid boolean for {key}")
            values[key] = flag
        else:
            values[key] = value if isinstance(value, str) else str(value)
    for key, value in values.items():
        if isinstance(value, dict):  # the several values, in index order
            values[key] = [value[k] for k in sorted(value)]
    return values, lists


def takes_several(custom_fields: dict[str, dict[str, Any]], field_id: str) -> bool:
    """A Multi-Select field, or one recording several responses: its values come as <field>_0, <field>_1 ..."""
    found = custom_fields.get(field_id)
    return found is not None and (
        found.get("type") == "Multi-Select" or bool(found.get("is_record_multiple_responses"))
    )
