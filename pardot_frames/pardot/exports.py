"""Pardot's Export API (v5): create an export, read its status, download its result files.

The choices where ``pardot-export-api.md`` says "not confirmed", in one place:

- path ``/api/v5/exports`` (section 2: the sheet's client rule); create sends JSON with ``fields``, ``procedure``
  (``<Object>/filterByCreatedAt`` style, camelCase arguments, ISO datetimes with an offset) and asks
  ``?fields=`` of the answer; any 2xx with the export's id is Pardot's.
- ``status`` is read (``state`` too, the v4 name): ``Complete`` ends the wait with files; ``Failed``,
  ``Canceled``/``Cancelled`` and an expired export end it without; a status the client does not know ends it after
  three reads in a row.
- ``resultRefs`` may be absent, null, one text or a list; each URL is fetched verbatim with the same headers,
  only on the Pardot host the job names (a token never goes to another host).
- The CSV's header names the fields: columns are matched by header, v5 camelCase or v3/v4 snake_case; dates
  come ISO 8601 with an offset or ``YYYY-MM-DD HH:MM:SS`` in the creating user's zone (read as UTC then: the
  offset of the legacy form is not said).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from pardot_frames.errors import ApiError
from pardot_frames.pardot.transport import Request

if TYPE_CHECKING:
    from pardot_frames.pardot.client import Client

EXPORTS = "/api/v5/exports"
STATUS = "id,status,isExpired,resultRefs,createdAt,updatedAt"
DONE = "Complete"
ENDED = frozenset({"Failed", "Canceled", "Cancelled"})
KNOWN = frozenset({"Waiting", "Processing", DONE, *ENDED})
PROCEDURE_OBJECTS = {"visitor-activities": "VisitorActivity", "prospects": "Prospect",
                     "list-memberships": "ListMembership", "prospect-accounts": "ProspectAccount",
                     "visitors": "Visitor", "visits": "Visit"}  # fmt: skip


async def create(client: Client, kind: str, fields: list[str], arguments: dict[str, Any], by: str) -> int:
    """A new export of ``kind`` (``by``: "created" or "updated"); its id. A refusal is an ApiError with its code."""
    name = f"{PROCEDURE_OBJECTS[kind]}/filterBy{'CreatedAt' if by == 'created' else 'UpdatedAt'}"
    body = orjson.dumps({"fields": fields, "procedure": {"name": name, "arguments": arguments}})
    reply = await client.repeat(Request("POST", f"{EXPORTS}?fields={STATUS}", json_body=body, accept="import"))
    if reply.code is not None or not isinstance(reply.body, dict) or "id" not in reply.body:
        raise ApiError(f"creating an export of {kind} was refused: Pardot error {reply.code} ({reply.message})",
                       reply.code, reply.status)  # fmt: skip
    return int(reply.body["id"])


async def status(client: Client, export_id: int) -> dict[str, Any]:
    """The export's status, expiry and result URLs (``resultRefs`` as a list, whatever shape it came in)."""
    reply = await client.repeat(Request("GET", f"{EXPORTS}/{export_id}?fields={STATUS}", accept="import"))
    if reply.code is not None or not isinstance(reply.body, dict):
        raise ApiError(f"reading export {export_id} failed: Pardot error {reply.code} ({reply.message})",
                       reply.code, reply.status)  # fmt: skip
    body = dict(reply.body)
    refs = body.get("resultRefs")
    body["resultRefs"] = [refs] if isinstance(refs, str) else list(refs or [])
    body["status"] = body.get("status") or body.get("state")
    return body


async def download(client: Client, url: str, base: str) -> str:
    """One result file's CSV text; only from the job's own Pardot host."""
    parts, home = urlsplit(url), urlsplit(base)
    if parts.netloc and (parts.scheme, parts.netloc) != (home.scheme, home.netloc):
        raise ApiError(f"an export result is on another host ({parts.netloc}); the token is not sent there")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    reply = await client.repeat(Request("GET", path, accept="csv"))
    if not isinstance(reply.body, str) or reply.code is not None:
        raise ApiError(f"downloading an export file failed: Pardot error {reply.code} ({reply.message})",
                       reply.code, reply.status)  # fmt: skip
    return reply.body
