"""Every URL path pardot-frames calls, in one place (see ``pardot-api-facts.md``).

Paths are relative to ``pardot_domain`` (Pardot) or ``login_url`` (Salesforce login), with their
query already percent-encoded.
"""

from __future__ import annotations

from urllib.parse import quote

DEFAULT_LOGIN = "https://login.salesforce.com"
DEFAULT_REDIRECT = "http://localhost:8080"
TOKEN = "/services/oauth2/token"
AUTHORIZE = "/services/oauth2/authorize"

PROSPECT_V4 = "/api/prospect/version/4/do"
MEMBERSHIP_V4 = "/api/listMembership/version/4/do"
QUERY_PAGE = 200  # prospects a v4 query answers at most


def batch_upsert(encoded_prospects: str) -> str:
    """batchUpsert with the ``prospects`` parameter (already percent-encoded) in the query string."""
    return f"{PROSPECT_V4}/batchUpsert?format=json&prospects={encoded_prospects}"


def batch_upsert_body() -> str:
    """batchUpsert with ``prospects`` in the POST body (form or multipart); only ``format`` in the query."""
    return f"{PROSPECT_V4}/batchUpsert?format=json"


def prospect_read_by_email(email: str) -> str:
    """Read every prospect with this email (one object for one match, a list for several)."""
    return f"{PROSPECT_V4}/read/email/{quote(email, safe='@')}?format=json"


def prospect_read_by_id(prospect_id: int) -> str:
    """Read one prospect by its id."""
    return f"{PROSPECT_V4}/read/id/{prospect_id}?format=json"


def prospect_query(limit: int = QUERY_PAGE, id_greater_than: int | None = None) -> str:
    """One page of the account's prospects, by ascending id."""
    after = f"&id_greater_than={id_greater_than}" if id_greater_than is not None else ""
    return f"{PROSPECT_V4}/query?format=json&sort_by=id&sort_order=ascending&limit={limit}{after}"


LIST_V4 = "/api/list/version/4/do"
CUSTOM_FIELD_V4 = "/api/customField/version/4/do"


def custom_field_query(offset: int = 0, limit: int = QUERY_PAGE) -> str:
    """One page of the account's custom fields."""
    return f"{CUSTOM_FIELD_V4}/query?format=json&limit={limit}&offset={offset}"


def list_query(name: str) -> str:
    """The lists with this exact name."""
    return f"{LIST_V4}/query?format=json&name={quote(name, safe='')}"


def list_create(name: str) -> str:
    return f"{LIST_V4}/create?format=json&name={quote(name, safe='')}"


def membership_query(list_id: int, id_greater_than: int | None = None, limit: int = QUERY_PAGE) -> str:
    """One page of a list's memberships, by ascending membership id."""
    after = f"&id_greater_than={id_greater_than}" if id_greater_than is not None else ""
    return f"{MEMBERSHIP_V4}/query?format=json&list_id={list_id}&sort_by=id&sort_order=ascending&limit={limit}{after}"


def membership(operation: str, list_id: int, prospect_id: int) -> str:
    """v4 list membership ``create`` or ``delete`` for one (list, prospect) pair."""
    return f"{MEMBERSHIP_V4}/{operation}/list_id/{list_id}/prospect_id/{prospect_id}?format=json"
