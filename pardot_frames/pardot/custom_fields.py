"""The account's custom fields (v4 customField query, paged): field id, type, several values, allowed
values. An answer that is not a readable list of fields is an error, never "no custom fields"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pardot_frames.errors import ApiError
from pardot_frames.pardot import endpoints
from pardot_frames.pardot.answers import records

if TYPE_CHECKING:
    from pardot_frames.pardot.client import Client


async def read_custom_fields(client: Client) -> list[dict[str, Any]]:
    """Every custom field record of the account."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    while True:
        reply = await client.get(endpoints.custom_field_query(offset=len(out)))
        result = reply.body.get("result") if isinstance(reply.body, dict) else None
        if reply.code is not None or not isinstance(result, dict):
            raise ApiError(
                f"reading the account's custom fields failed ({reply.message or 'no result'}); "
                "set check_fields = false to send without checking them",
                reply.code,
                reply.status,
            )
        page = records(result.get("customField"))
        ids = {str(r.get("id")) for r in page}
        if page and ids <= seen:  # a server that ignores offset: the same page again, never a longer list
            raise ApiError("reading the account's custom fields: the server answered the same page again "
                           "(it ignores offset); set check_fields = false to send without checking them")  # fmt: skip
        seen |= ids
        out += page
        total = int(result.get("total_results") or 0)
        if not page or len(out) >= total or len(page) < endpoints.QUERY_PAGE:
            return out
