"""The objects a read cannot cut into id ranges (``pardot-v5-objects.md`` section 6): the account (one object,
one call), dynamic content variations (a query per dynamic content, ``dynamicContentId``, several at once within
the call slots) and email clicks (v4 only: pages of 200 by ascending id, from the last click a since-last read
saw). Each hands its records on under the v5 field names, as the id-range reads do."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from pardot_frames.pardot import email_clicks, objects
from pardot_frames.pardot.client import Client
from pardot_frames.prepare import catalog
from pardot_frames.prepare.catalog import ObjectSpec

Handle = Callable[[list[dict[str, Any]]], Awaitable[None]]


async def read_shaped(client: Client, spec: ObjectSpec, fields: list[str], handle: Handle, *,
                      after_id: int | None, parallel: int) -> None:  # fmt: skip
    """Every record of an object whose ``shape`` is not ``pages``, to ``handle``."""
    if spec.shape == "one":
        path = f"{objects.OBJECTS}/{spec.kind}?{urlencode({'fields': ','.join(fields)})}"
        await handle([objects.record_of(await client.get_as(path, "import"), spec.kind)])
    elif spec.shape == "per-parent":
        await _per_parent(client, spec, fields, handle, parallel)
    else:
        names = {catalog.column(f): f for f in spec.fields}
        async for page in email_clicks.pages(client, after_id):
            await handle([{names.get(k, k): v for k, v in r.items()} for r in page])


async def _per_parent(client: Client, spec: ObjectSpec, fields: list[str], handle: Handle, parallel: int) -> None:
    """The parents' ids first (a page per 1,000), then each parent's records, ``parallel`` parents at once."""
    parent, key = catalog.PER_PARENT[spec.kind]
    ids: list[int] = []
    async for page in objects.pages(client, parent, ["id"]):
        ids += [int(r["id"]) for r in page]
    gate = asyncio.Semaphore(parallel)

    async def one(parent_id: int) -> None:
        async with gate:
            async for page in objects.pages(client, spec.kind, fields, {key: str(parent_id)}):
                await handle(page)

    await objects.together(one(parent_id) for parent_id in ids)
