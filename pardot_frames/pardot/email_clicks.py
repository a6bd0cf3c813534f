"""Email clicks, read through v4 (``pardot-v5-objects.md`` section 6: v5 has no email-click object): ``query``
with ``output=bulk``, by ascending id from ``id_greater_than``, 200 a page; a page of fewer than 200 is the last.
The records sit at ``result.emailClick`` (one record as an object, several as a list: the v4 shape)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from pardot_frames.errors import ApiError
from pardot_frames.pardot.answers import records
from pardot_frames.pardot.paging import forward

if TYPE_CHECKING:
    from pardot_frames.pardot.client import Client

PATH = "/api/emailClick/version/4/do/query"
LIMIT = 200  # v4's page


def query_path(after: int | None) -> str:
    params = {"format": "json", "output": "bulk", "sort_by": "id", "sort_order": "ascending", "limit": str(LIMIT)}
    if after is not None:
        params["id_greater_than"] = str(after)
    return f"{PATH}?{urlencode(params)}"


async def pages(client: Client, after: int | None = None) -> AsyncIterator[list[dict[str, Any]]]:
    """Every email click after the id ``after``, a page at a time (v4 snake_case keys, as Pardot answers)."""
    count = 0
    while True:
        reply = await client.get(query_path(after))
        result = reply.body.get("result") if isinstance(reply.body, dict) else None
        if reply.code is not None or not isinstance(result, dict):
            reason = f"Pardot error {reply.code} ({reply.message})" if reply.code else "no result in the answer"
            raise ApiError(f"reading email clicks failed: {reason}", reply.code, reply.status)
        page = records(result.get("emailClick"))
        if not page:
            return
        count += 1
        after = forward(after, [int(r["id"]) for r in page], count, "reading email clicks", ApiError)
        yield page
        if len(page) < LIMIT:
            return
