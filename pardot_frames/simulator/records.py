"""How real Pardot (v4, JSON) shows its records, and how it stores typed custom-field values.

Shapes follow the recorded traffic in ``shared/reference/recorded``: a prospect read carries the full
standard field set (nulls included), ``campaign``, the custom fields that hold a value, ``profile``,
``visitors``, ``visitor_activities`` and ``lists`` (null, or ``{"list_subscription": one or many}``);
no ``is_archived``. ``output=mobile`` gives the short form. Typed custom fields are normalised
(a Date from an ISO timestamp keeps ``YYYY-MM-DD``; a Number keeps its number) and a value the type
cannot take is dropped without an error, as Pardot does.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

STANDARD = (
    "id campaign_id salutation first_name last_name email password company website job_title department "
    "country address_one address_two city state territory zip phone fax source annual_revenue employees "
    "industry years_in_business comments notes score grade last_activity_at recent_interaction crm_lead_fid "
    "crm_contact_fid crm_owner_fid crm_account_fid salesforce_fid crm_last_sync crm_url is_do_not_email "
    "is_do_not_call opted_out is_reviewed is_starred created_at updated_at"
).split()
MOBILE = ("id", "first_name", "last_name", "email", "company")
CAMPAIGN = {"id": 8245, "name": "Website Tracking"}
PROFILE = {
    "id": 1009,
    "name": "Default",
    "profile_criteria": [
        {"id": 5063 + 2 * i, "name": name, "matches": "Unknown"}
        for i, name in enumerate(["Company Size", "Industry", "Location", "Job Title", "Department"])
    ],
}
INTERNAL = frozenset({"is_archived", "fid"})
DEFAULTS = {"campaign_id": CAMPAIGN["id"], "score": 0, "recent_interaction": "Never active."}
TYPE_IDS = {
    "Text": 1, "Radio Button": 2, "Checkbox": 3, "Dropdown": 4, "Textarea": 5, "Multi-Select": 6, "Hidden": 7,
    "Number": 8, "Date": 12, "CRM User": 14,
}  # fmt: skip


def one_or_many(records: list[Any]) -> Any:
    """v4 gives one result as an object and several as a list."""
    return records[0] if len(records) == 1 else records


def list_record(record: dict[str, Any]) -> dict[str, Any]:
    """A list as v4 shows it."""
    return {
        "id": record["id"],
        "name": record.get("name"),
        "is_public": record.get("is_public", False),
        "is_dynamic": record.get("is_dynamic", False),
        "title": record.get("title"),
        "description": record.get("description"),
        "is_crm_visible": record.get("is_crm_visible", False),
        "created_at": record.get("created_at"),
        "updated_at": record.get("updated_at", record.get("created_at")),
    }


def prospect_record(
    record: dict[str, Any], custom: dict[str, dict[str, Any]], subscriptions: list[dict[str, Any]], *, mobile: bool
) -> dict[str, Any]:
    """A prospect as a v4 read (or ``output=mobile`` query) shows it."""
    if mobile:
        return {key: record.get(key) for key in MOBILE}
    out = {key: record.get(key, DEFAULTS.get(key)) for key in STANDARD}
    out["campaign"] = dict(CAMPAIGN)
    for field_id in sorted(custom):
        if record.get(field_id) is not None:
            out[field_id] = record[field_id]
    extra = {k: v for k, v in record.items() if k not in out and k not in INTERNAL and k not in custom}
    out.update(extra)  # fields this simulator takes that the account does not define (kept as sent)
    out["profile"] = PROFILE
    out["visitors"] = None
    out["visitor_activities"] = None
    out["lists"] = {"list_subscription": one_or_many(subscriptions)} if subscriptions else None
    return out


def subscription(membership: dict[str, Any], list_: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": membership["id"],
        "did_opt_in": False,
        "did_opt_out": bool(membership.get("opted_out")),
        "created_at": membership["created_at"],
        "updated_at": membership["updated_at"],
        "list": list_record(list_),
    }


def custom_field(definition: dict[str, Any], values_shown: bool = True) -> dict[str, Any]:
    """A custom field definition as the customField query shows it (its allowed values when ``values_shown``)."""
    kind = definition.get("type", "Text")
    shown = definition.get("values") and values_shown
    values = {"values": {"value": list(definition["values"])}} if shown else {}
    return {
        "id": definition["id"],
        "name": definition.get("name", definition["field_id"]),
        "field_id": definition["field_id"],
        "type": kind,
        "type_id": definition.get("type_id", TYPE_IDS.get(kind, 1)),
        "crm_id": definition.get("crm_id"),
        "is_record_multiple_responses": definition.get("is_record_multiple_responses", False),
        "is_use_values": definition.get("is_use_values", bool(definition.get("values"))),
        "is_analytics_synced": definition.get("is_analytics_synced", False),
        "created_at": definition.get("created_at"),
        "updated_at": definition.get("updated_at", definition.get("created_at")),
        **values,  # the allowed values, where the account defines them (not in the recorded answers)
    }


_NUMBER = re.compile(r"^\s*-?(\d+(\.\d*)?|\.\d+)\s*$")


def typed_value(definition: dict[str, Any], value: Any) -> tuple[bool, Any]:
    """(kept, stored value) for a custom field: Pardot drops what the type cannot take, silently."""
    kind = definition.get("type", "Text")
    allowed = definition.get("values")
    if kind == "Date":
        parsed = _date(value)
        return (parsed is not None, parsed)
    if kind == "Number":
        if isinstance(value, bool) or not _NUMBER.match(str(value)):
            return False, None
        number = float(str(value))
        return True, int(number) if number.is_integer() else number
    if allowed and kind in ("Dropdown", "Radio Button", "Checkbox", "Multi-Select") and str(value) not in allowed:
        return False, None
    return True, value if isinstance(value, str | int | float) else str(value)


def _date(value: Any) -> str | None:
    text = str(value).strip()
    for parse in (date.fromisoformat, lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")).date()):
        try:
            return parse(text).isoformat() if len(text) >= 8 else None
        except ValueError:
            continue
    return None
