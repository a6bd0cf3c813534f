"""Email to prospect ids through the API, in as few calls as the account allows.

Pardot v4 has no batch lookup by email. Reading one email costs one call; listing the whole account
costs one call per 200 prospects. ``resolve_emails`` asks for the account size first (one call) and
takes whichever way is cheaper.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

from .transport import Reply, Request, Transport

V4 = "/api/prospect/version/4/do"
PAGE = 200


def _records(value: Any) -> list[dict[str, Any]]:
    """v4 gives one record as an object and several as a list; always a list here."""
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


async def _get(transport: Transport, path_query: str) -> Reply:
    async def make(_unknown: bool) -> Request:
        return Request("GET", path_query)

    return await transport.call(make)


async def ids_for_email(transport: Transport, email: str) -> list[int]:
    """Every prospect id with this email (ascending); [] when Pardot knows none (error 4)."""
    reply = await _get(transport, f"{V4}/read/email/{quote(email, safe='@')}?format=json")
    if reply.code is not None:
        return []
    body = reply.body if isinstance(reply.body, dict) else {}
    return sorted(int(p["id"]) for p in _records(body.get("prospect")) if "id" in p)


async def resolve_emails(transport: Transport, emails: list[str]) -> dict[str, list[int]]:
    """Map each (lower-cased) email to its prospect ids, ascending; unknown emails are absent."""
    wanted = {e.strip().lower() for e in emails if e}
    if not wanted:
        return {}
    first = await _get(transport, f"{V4}/query?format=json&sort_by=id&sort_order=ascending&limit={PAGE}")
    result = first.body.get("result", {}) if isinstance(first.body, dict) else {}
    total = int(result.get("total_results") or 0)
    found: dict[str, list[int]] = {}
    if math.ceil(total / PAGE) - 1 < len(wanted):  # listing the account is cheaper than a read per email
        page = _records(result.get("prospect"))
        while page:
            for p in page:
                key = str(p.get("email") or "").lower()
                if key in wanted:
                    found.setdefault(key, []).append(int(p["id"]))
            if len(page) < PAGE:
                break
            last = max(int(p["id"]) for p in page)
            reply = await _get(
                transport, f"{V4}/query?format=json&sort_by=id&sort_order=ascending&limit={PAGE}&id_greater_than={last}"
            )
            body = reply.body.get("result", {}) if isinstance(reply.body, dict) else {}
            page = _records(body.get("prospect"))
        return {k: sorted(v) for k, v in found.items()}
    for email in sorted(wanted):
        ids = await ids_for_email(transport, email)
        if ids:
            found[email] = ids
    return found
