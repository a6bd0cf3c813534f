"""Prospects in Pardot v4: the batchUpsert request and its per-row errors, and emails to prospect ids.

Pardot v4 has no batch lookup by email. Reading one email costs one call; listing the whole account
costs one call per 200 prospects. ``resolve_emails`` asks for the account size first (one call) and
takes whichever way is cheaper.

Which prospect an email means, in one place (``preferred``), the same rule as Pardot's own matchEmail
and upsertLatestByEmail: the most recently active (``last_activity_at``); between prospects with the
same activity (none at all, typically), the newest (highest id). Email lookups, the resends of rows
whose outcome is unknown, the id map and the mirror all use it, so batch and import jobs update the
same prospect.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import orjson

from pardot_frames._control import LookupFailed
from pardot_frames.pardot import endpoints
from pardot_frames.pardot.answers import Reply, records
from pardot_frames.pardot.paging import forward
from pardot_frames.pardot.transport import Request

if TYPE_CHECKING:
    from pardot_frames.pardot.client import Client

PAGE = endpoints.QUERY_PAGE
NO_SUCH_EMAIL = 4  # "Invalid prospect email address": the only answer that means no prospect has it


def batch_upsert(encoded_prospects: str) -> Request:
    """The batchUpsert call carrying ``prospects`` (percent-encoded ``{"prospects":[...]}``) in the query."""
    return Request("POST", endpoints.batch_upsert(encoded_prospects), in_uri=True)


def batch_upsert_in_body(prospects_json: str) -> Request:
    """The batchUpsert call carrying ``{"prospects":[...]}`` in a multipart/form-data body part ``prospects``
    (the shape real Pardot accepted in the recorded traffic)."""
    return Request("POST", endpoints.batch_upsert_body(), form={"prospects": prospects_json}, multipart=True)


def row_errors(reply: Reply) -> dict[int, str]:
    """Per-row errors keyed by 0-based index, from every shape seen: {"1": "msg"}, [{"index":..}], ["msg"]."""
    body = reply.body if isinstance(reply.body, dict) else {}
    errors = body.get("errors")
    out: dict[int, str] = {}
    if isinstance(errors, dict):
        for key, message in errors.items():
            if str(key).lstrip("-").isdigit():
                out[int(key)] = message if isinstance(message, str) else orjson.dumps(message).decode()
    elif isinstance(errors, list):
        for position, item in enumerate(errors):
            if isinstance(item, dict):
                index = item.get("index", item.get("@attributes", {}).get("index", position))
                out[int(index)] = str(item.get("message", item.get("err", item)))
            elif item:
                out[position] = str(item)
    return out


def call_failed(reply: Reply) -> bool:
    """True when a v4 answer says ``stat: fail`` for the whole call."""
    return isinstance(reply.body, dict) and reply.body.get("@attributes", {}).get("stat") == "fail"


def preferred(found: list[dict]) -> list[int]:
    """Prospect ids of records with one email, the one the email means last (see the module docstring)."""
    ranked = sorted(found, key=lambda p: (str(p.get("last_activity_at") or ""), int(p["id"])))
    return [int(p["id"]) for p in ranked]


async def ids_for_email(client: Client, email: str) -> list[int]:
    """Every prospect id with this email, the one it means last; [] when Pardot knows none (error 4)."""
    reply = await client.get(endpoints.prospect_read_by_email(email))
    if reply.code == NO_SUCH_EMAIL:
        return []
    if reply.code is not None:
        raise LookupFailed(f"reading prospects by email failed: Pardot error {reply.code} ({reply.message})")
    body = reply.body if isinstance(reply.body, dict) else {}
    return preferred([p for p in records(body.get("prospect")) if "id" in p])


INVALID_PROSPECT_CODE = 3  # "Invalid prospect ID": no prospect has this id (any more)
FID_KEYS = ("fid", "crm_lead_fid", "crm_contact_fid")


async def identity(client: Client, prospect_id: int) -> tuple[str | None, set[str]] | None:
    """(lower-cased email, CRM ids) of one prospect; None when Pardot has no prospect with this id."""
    reply = await client.get(endpoints.prospect_read_by_id(prospect_id))
    if reply.code == INVALID_PROSPECT_CODE:
        return None
    body = reply.body if isinstance(reply.body, dict) else {}
    found = records(body.get("prospect"))
    if reply.code is not None or not found:
        raise LookupFailed(f"reading prospect {prospect_id} failed: Pardot error {reply.code} ({reply.message})")
    email = found[0].get("email")
    fids = {str(found[0][k]) for k in FID_KEYS if found[0].get(k) not in (None, "")}
    return (str(email).lower() if email else None), fids


def lookup_calls(emails: int, account_size: int | None = None) -> int:
    """The calls ``resolve_emails`` spends on this many distinct emails: with the account's size known, what
    it will spend (the first listing page gives the size: listing costs its pages, reading each email one call
    more); unknown, the most it may spend."""
    if not emails:
        return 0
    if account_size is None:
        return 1 + emails
    pages = math.ceil(account_size / PAGE)
    return max(pages, 1) if pages - 1 < emails else 1 + emails


async def account_size(client: Client) -> int:
    """How many prospects the account holds (one call: a one-prospect page of the v4 query)."""
    reply = _listing(await client.get(endpoints.prospect_query(limit=1)))
    result = reply.body.get("result", {}) if isinstance(reply.body, dict) else {}
    return int(result.get("total_results") or 0)


async def resolve_emails(client: Client, emails: list[str]) -> dict[str, list[int]]:
    """Map each (lower-cased) email to its prospect ids, the one it means last; unknown emails are absent."""
    wanted = {e.strip().lower() for e in emails if e}
    if not wanted:
        return {}
    first = _listing(await client.get(endpoints.prospect_query()))
    result = first.body.get("result", {}) if isinstance(first.body, dict) else {}
    total = int(result.get("total_results") or 0)
    if math.ceil(total / PAGE) - 1 < len(wanted):  # listing the account is cheaper than a read per email
        return await _by_listing(client, wanted, records(result.get("prospect")))
    found: dict[str, list[int]] = {}
    for email in sorted(wanted):
        ids = await ids_for_email(client, email)
        if ids:
            found[email] = ids
    return found


def _listing(reply: Reply) -> Reply:
    """A page of the account's prospects, or LookupFailed: an unreadable page must not look like "none"."""
    result = reply.body.get("result") if isinstance(reply.body, dict) else None
    if reply.code is not None or not isinstance(result, dict):
        raise LookupFailed(f"listing prospects failed: Pardot error {reply.code} ({reply.message or 'no result'})")
    return reply


async def _by_listing(client: Client, wanted: set[str], page: list[dict]) -> dict[str, list[int]]:
    found: dict[str, list[dict]] = {}
    cursor, pages = None, 0
    while page:
        for p in page:
            key = str(p.get("email") or "").lower()
            if key in wanted:
                found.setdefault(key, []).append(p)
        if len(page) < PAGE:
            break
        pages += 1
        cursor = forward(cursor, [int(p["id"]) for p in page], pages, "listing prospects", LookupFailed)
        reply = _listing(await client.get(endpoints.prospect_query(id_greater_than=cursor)))
        body = reply.body.get("result", {}) if isinstance(reply.body, dict) else {}
        page = records(body.get("prospect"))
    return {k: preferred(v) for k, v in found.items()}
