"""The v5 field names of the objects the simulator serves, and how a record looks under them.

Names follow ``pardot-v5-objects.md`` sections 6-7 (what a working reader sends to real Pardot): prospects
take every name of section 7 (the CRM ids are ``salesforce...``, never ``crm...Fid``; ``prospectAccountId``
is readable), lists, list memberships and custom fields the names of section 6 plus the ones it lists
beside them (``isSalesforceVisible``, ``isDeleted``, ``apiFieldId``). Custom prospect fields are
``<fieldId>__c``.

``fields`` is parsed as Pardot's ``FieldsParser`` does (section 1): names match without regard to case, an
empty name is code 51 "Empty strings are not allowed", every unknown name is listed in one code 51, and a
*query* that selects a custom field whose values are an array (Checkbox, Multi-Select, or one that records
multiple responses) is refused with "Custom fields that return array types are not allowed to be
selected: ..."; a single-record read returns those values as arrays.

Datetimes are ISO 8601 with the API user's offset (section 4: ``2025-05-16T11:27:08-07:00``); the offset is
a setting (``SimConfig.v5_utc_offset``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from .activity import ACTIVITY_FIELDS
from .criteria import BadCriterion

_INTS = "campaignId prospectAccountId profileId lifecycleStageId userId assignedToId score createdById updatedById"
_BOOLS = "optedOut isDeleted isDoNotCall isDoNotEmail isEmailHardBounced isReviewed isStarred doNotSell"
_TIMES = (
    "createdAt updatedAt lastActivityAt emailBouncedAt firstActivityAt firstAssignedAt convertedAt salesforceLastSync"
)
_TEXTS = (
    "email firstName lastName salutation jobTitle company website department phone fax addressOne addressTwo city "
    "state zip country territory annualRevenue employees industry yearsInBusiness comments notes source grade "
    "recentInteraction emailBouncedReason sourceParameter campaignParameter mediumParameter contentParameter "
    "termParameter firstReferrerQuery firstReferrerType firstReferrerUrl convertedFromObjectName "
    "convertedFromObjectType salesforceId salesforceContactId salesforceLeadId salesforceAccountId "
    "salesforceCampaignId salesforceOwnerId salesforceUrl password"
)
# section 7, by type; "id" first
PROSPECT = ("id", *_INTS.split(), *_BOOLS.split(), *_TIMES.split(), *_TEXTS.split())
# section 7's renames: the v5 name -> the record's (v4) key; the rest is camelCase of the v4 name
RENAMED = {
    "salesforceId": "fid", "salesforceLeadId": "crm_lead_fid", "salesforceContactId": "crm_contact_fid",
    "salesforceOwnerId": "crm_owner_fid", "salesforceAccountId": "crm_account_fid",
    "salesforceLastSync": "crm_last_sync", "salesforceUrl": "crm_url", "isSalesforceVisible": "is_crm_visible",
}  # fmt: skip
_WHO = ("createdAt", "updatedAt", "createdById", "updatedById")
OBJECT_FIELDS = {
    "prospects": PROSPECT,
    "lists": ("id", "name", "title", "description", "isPublic", "folderId", "campaignId", "isDeleted", "isDynamic",
              "isSalesforceVisible", *_WHO),
    "list-memberships": ("id", "listId", "prospectId", "optedOut", "isDeleted", *_WHO),
    "custom-fields": ("id", "name", "fieldId", "type", "salesforceId", "isRequired", "isRecordMultipleResponses",
                      "isUseValues", "isAnalyticsSynced", "apiFieldId", *_WHO),
}  # fmt: skip
ARCHIVABLE = frozenset({"prospects", "lists", "list-memberships"})  # take ``deleted`` and answer ``isDeleted``
TIME_FIELDS = frozenset(_TIMES.split())
# flags of lists and custom fields read false when unset (v4 shows them so; recorded: "isRequired": false); a
# prospect's unset flags stay null, as the recorded v4 prospects show them
FALSE_BY_DEFAULT = frozenset({"isPublic", "isDynamic", "isSalesforceVisible", "isRequired",
                              "isRecordMultipleResponses", "isUseValues", "isAnalyticsSynced"})  # fmt: skip
NEVER_SHOWN = frozenset({"password"})  # readable value not confirmed: never echoed back
ARRAY_TYPES = frozenset({"Checkbox", "Multi-Select"})


@functools.cache  # a page of 1,000 records asks it for every field of every record
def snake(v5: str) -> str:
    """The record key of a v5 name: ``firstName`` -> ``first_name``, ``colour__c`` -> ``colour``."""
    if v5.endswith("__c"):
        return v5[:-3]
    if v5 in RENAMED:
        return RENAMED[v5]
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in v5)


def is_array_field(definition: dict[str, Any]) -> bool:
    """A custom field whose values are an array: Checkbox, Multi-Select, or recording multiple responses."""
    return definition.get("type") in ARRAY_TYPES or bool(definition.get("is_record_multiple_responses"))


def parse_fields(kind: str, raw: str, custom: dict[str, dict[str, Any]], *, query: bool) -> list[str]:
    """The canonical names a ``fields`` value selects (FieldsParser's rules, see the module docstring)."""
    names = raw.split(",")
    if not raw.strip():
        raise BadCriterion(13, "One or more required parameters are missing: fields")
    if any(not n.strip() for n in names):
        raise BadCriterion(51, "Invalid parameter: fields. Empty strings are not allowed.")
    known = {n.lower(): n for n in (OBJECT_FIELDS[kind] if kind in OBJECT_FIELDS else ACTIVITY_FIELDS[kind])}
    if kind == "prospects":
        known |= {f"{f}__c".lower(): f"{f}__c" for f in custom}
    chosen: dict[str, str] = {}
    unknown: list[str] = []
    for name in (n.strip() for n in names):
        if name.lower() in known:
            chosen.setdefault(name.lower(), known[name.lower()])
        elif name not in unknown:
            unknown.append(name)
    if unknown:
        raise BadCriterion(
            51, f"Invalid parameter: fields. It contains an invalid or unknown field: {', '.join(unknown)}."
        )
    arrays = [n for n in chosen.values() if n.endswith("__c") and is_array_field(custom[n[:-3]])]
    if query and arrays:
        listed = ", ".join(arrays)
        raise BadCriterion(
            51,
            "Invalid parameter: fields. Custom fields that return array types are not allowed to be selected: "
            f"{listed}.",
        )
    return list(chosen.values())


def v5_time(value: Any, offset: str) -> str | None:
    """A stored time (``YYYY-MM-DD HH:MM:SS``, UTC) as v5 writes it: ISO 8601 in the API user's offset."""
    if value in (None, ""):
        return None
    text = str(value).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    sign = -1 if offset.startswith("-") else 1
    hours, _, minutes = offset.lstrip("+-").partition(":")
    zone = timezone(sign * timedelta(hours=int(hours or 0), minutes=int(minutes or 0)))
    return moment.astimezone(zone).isoformat(timespec="seconds")


def shape(record: dict[str, Any], fields: list[str], custom: dict[str, dict[str, Any]], *, deleted: bool,
          offset: str) -> dict[str, Any]:  # fmt: skip
    """A record under the requested v5 names: every one present, ``null`` when empty; arrays for array fields."""
    return shaper(fields, custom, offset)(record, deleted)


def shaper(fields: list[str], custom: dict[str, dict[str, Any]], offset: str) -> Callable[[dict[str, Any], bool],
                                                                                         dict[str, Any]]:  # fmt: skip
    """``shape`` for many records of one page: the field plan worked out once (a page shapes 1,000 records)."""
    every, others = _plan(tuple(fields), tuple(k for k in custom if is_array_field(custom[k])))
    pairs = tuple((name, key) for name, key, _ in every)
    empty, name_of = dict.fromkeys(name for name, _ in pairs), {key: name for name, key in pairs}
    sparse = len(name_of) == len(pairs)  # each stored key gives one name: a record fills a copy of the empty one

    def one(record: dict[str, Any], deleted: bool) -> dict[str, Any]:
        if sparse and len(record) < len(pairs):  # most records hold a few of the fields asked: 2.5x faster
            out = empty.copy()
            for key, value in record.items():
                if (name := name_of.get(key)) is not None:
                    out[name] = value
        else:
            get = record.get
            out = {name: get(key) for name, key in pairs}  # every name, in order, as stored
        for name, key, how in others:  # then the others' shapes
            value = record.get(key)
            if how == "time":
                out[name] = _time(value, offset) if value not in (None, "") else None
            elif how == "deleted":
                out[name] = deleted
            elif how == "false":
                out[name] = False if value is None else value
            elif how == "array" and value not in (None, ""):
                out[name] = (
                    list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]
                )
            elif how == "hidden":
                out[name] = None
        return out

    return one


@functools.cache
def _plan(fields: tuple[str, ...], arrays: tuple[str, ...]) -> tuple[tuple[tuple[str, str, str], ...], ...]:
    """How each requested field is shaped (worked out once per field list: a page asks it of 1,000 records)."""
    plan = []
    for name in fields:
        key = snake(name)
        how = ("hidden" if name in NEVER_SHOWN else "deleted" if name == "isDeleted"
               else "array" if name.endswith("__c") and key in arrays else "time" if name in TIME_FIELDS
               else "false" if name in FALSE_BY_DEFAULT else "plain")  # fmt: skip
        plan.append((name, key, how))
    return tuple(plan), tuple(p for p in plan if p[2] != "plain")  # (every field, those not copied as stored)


@functools.lru_cache(maxsize=65_536)
def _time(value: Any, offset: str) -> str | None:
    return v5_time(value, offset)
