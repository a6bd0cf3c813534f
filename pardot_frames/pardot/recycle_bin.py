"""The account's recycle bin, read from Pardot (``pardot-api-facts.md`` 7; ``pardot-v5-objects.md`` 3).

- ``binned``: the bin's prospects (``id``, ``email``, ``updatedAt``), 1,000 a v5 call (``deleted=true``), all
  of them or those updated since a time;
- ``probe``: one v4 call (``query?deleted=true``, the newest by ``updated_at``, one record) gives the bin's
  size (``total_results``) and its most recently updated prospect: unchanged since the last read when both
  are the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from pardot_frames.errors import ApiError
from pardot_frames.pardot import endpoints, objects
from pardot_frames.pardot.answers import records

if TYPE_CHECKING:
    from pardot_frames.pardot.client import Client

FIELDS = ["id", "email", "updatedAt"]


async def binned(client: Client, since: str | None = None) -> AsyncIterator[list[dict[str, Any]]]:
    """The bin's prospects (or those updated after ``since``, ISO 8601: one deleted in the same second as the
    newest kept is then found by the size check), a page at a time by ascending id."""
    filters = {"deleted": "true", **({"updatedAtAfter": since} if since else {})}
    async for page in objects.pages(client, "prospects", FIELDS, filters):
        yield page


async def probe(client: Client) -> tuple[int, int | None]:
    """(prospects in the bin, id of its most recently updated one) in one call."""
    path = (f"{endpoints.PROSPECT_V4}/query?format=json&deleted=true&sort_by=updated_at&sort_order=descending"
            "&limit=1&output=mobile")  # fmt: skip
    reply = await client.get(path)
    result = reply.body.get("result") if isinstance(reply.body, dict) else None
    if reply.code is not None or not isinstance(result, dict):
        raise ApiError(f"reading the recycle bin failed: Pardot error {reply.code} ({reply.message})",
                       reply.code, reply.status)  # fmt: skip
    newest = records(result.get("prospect"))
    return int(result.get("total_results") or 0), int(newest[0]["id"]) if newest else None
