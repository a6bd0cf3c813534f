"""What a v5 object query may carry (``pardot-v5-objects.md`` section 3): its parameters per object, the filter
families, ``deleted`` on archivable objects, and the custom-field object's keys."""

from __future__ import annotations

from typing import Any

from .activity import ACTIVITY_ARCHIVABLE, ACTIVITY_FIELDS
from .criteria import BadCriterion
from .v5_fields import ARCHIVABLE

FILTERS = {"listId": "list_id", "prospectId": "prospect_id", "visitorId": "visitor_id", "visitId": "visit_id",
           "dynamicContentId": "dynamic_content_id"}  # fmt: skip
PAGING = frozenset({"fields", "limit", "orderBy", "offset", "deleted", "nextPageToken", "format"})
EXTRA_FILTERS = {
    "prospects": {"email"}, "lists": {"name"}, "list-memberships": {"listId", "prospectId"},
    "campaigns": {"name"}, "users": {"email"},
    "visitor-activities": {"prospectId", "visitorId", "visitId", "type"}, "visits": {"visitorId", "prospectId"},
    "visitor-page-views": {"visitorId", "visitId"}, "visitors": {"prospectId", "isIdentified"},
    "lifecycle-histories": {"prospectId"}, "emails": {"prospectId"},
    "dynamic-content-variations": {"dynamicContentId"},
}  # fmt: skip
TIMED = ("id", "createdAt", "updatedAt", "lastActivityAt", "sentAt")
ALL_ARCHIVABLE = ARCHIVABLE | ACTIVITY_ARCHIVABLE
OBJECTS = ("prospects", "lists", "list-memberships", "custom-fields", *ACTIVITY_FIELDS)


def id_order(query: dict[str, str]) -> str | None:
    """ "asc" or "desc" for a query the id index answers (ordered by id alone, ascending by default, not continued
    from a token), else None: the others are sorted in full."""
    order = (query.get("orderBy") or "id asc").replace(" ", "").lower()
    if "_skip" in query:
        return None
    return "asc" if order in ("idasc", "id") else "desc" if order == "iddesc" else None


def check_params(kind: str, query: dict[str, str]) -> None:
    """Every parameter is one a v5 query of this object takes (code 51 naming the first that is not)."""
    allowed = PAGING | EXTRA_FILTERS.get(kind, set())
    for name in query:
        if name not in allowed and not is_filter(name):
            raise BadCriterion(51, f"Invalid parameter: {name}. It is not a known parameter of {kind} queries.")


def is_filter(name: str) -> bool:
    for field in TIMED:
        if name.startswith(field) and name[len(field) :] in FILTER_SUFFIXES:
            return True
    return False


FILTER_SUFFIXES = frozenset({"", "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo", "After",
                             "AfterOrEqualTo", "Before", "BeforeOrEqualTo"})  # fmt: skip


def deleted_of(kind: str, query: dict[str, str]) -> str:
    """The ``deleted`` filter of an archivable object (``false`` when not given; section 3)."""
    value = (query.get("deleted") or "false").lower()
    if kind not in ALL_ARCHIVABLE:
        return "false"
    if value not in ("true", "false", "all"):
        raise BadCriterion(51, f"Invalid parameter: deleted. It must be true, false or all, not {value!r}.")
    return value


def custom_field(definition: dict[str, Any]) -> dict[str, Any]:
    """A custom field under its v5 keys: the type as a lower-case word (recorded: "radio button", "multi-select")."""
    return {
        **definition,
        "type": str(definition.get("type", "Text")).lower(),
        "fid": definition.get("crm_id"),
        "api_field_id": definition.get("field_id"),
        "updated_at": definition.get("updated_at", definition.get("created_at")),
    }
