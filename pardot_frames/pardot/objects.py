"""Reading Pardot's objects through v5 (``GET /api/v5/objects/{prospects|lists|list-memberships}``, facts 9).

Why v5: a page holds up to 1,000 records (v4's query 200), so reading an account costs a fifth of the
calls. Every page is its own query ordered by id and started after the last id read (``idGreaterThan``),
not a ``nextPageToken`` chain: a chain ends after 100,000 records and its tokens expire after about
4 hours, while an id cursor reads any number of records and resumes from any id. A page that does not
move the cursor forward is an error (``paging.forward``), never an endless loop.

Names: the product's (v4) column names map to v5 field names here (``first_name`` <-> ``firstName``,
``fid`` <-> ``salesforceId``, a custom field ``colour`` <-> ``colour__c``). A full page whose answer carries
``"nextPageToken": null`` is the last (``last_page``): no call is spent to find an empty page.

Array custom fields (Checkbox, Multi-Select, multiple responses) are refused in v5 queries (v5-objects 1):
callers leave them out (``pardot.array_values`` reads their values); should Pardot refuse one the account's
fields did not show as an array, ``ArrayFieldsRefused`` names them, so the caller reads them that other way.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from pardot_frames.errors import ApiError, ConfigError
from pardot_frames.pardot.paging import forward

if TYPE_CHECKING:
    from pardot_frames.pardot.client import Client

ARRAY_REFUSAL = re.compile(r"array types are not allowed to be selected: (.+?)\.?$")
OBJECTS = "/api/v5/objects"
PAGE = 1000  # records a v5 query answers at most
RANGES_PER_CALL = 2  # id ranges of a parallel read per call it may have in flight
RENAMED = {"fid": "salesforceId"}


class ArrayFieldsRefused(ApiError):
    """A v5 query refused array custom fields (code 51, Pardot's FieldsParser); ``fields`` names them (v5)."""

    def __init__(self, kind: str, fields: list[str], message: str) -> None:
        super().__init__(f"reading {kind}: {message}", 51, 400)
        self.fields = fields


def v5_field(name: str, custom: bool = False) -> str:
    """The v5 name of a product column: ``first_name`` -> ``firstName``; custom ``colour`` -> ``colour__c``."""
    if custom:
        return name if name.endswith("__c") else f"{name}__c"
    if name in RENAMED:
        return RENAMED[name]
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def column(v5: str) -> str:
    """The product column of a v5 field name (the inverse of ``v5_field``)."""
    if v5.endswith("__c"):
        return v5[:-3]
    back = {v: k for k, v in RENAMED.items()}
    return back.get(v5) or re.sub(r"(?<!^)([A-Z])", r"_\1", v5).lower()


def query_path(kind: str, fields: list[str], after: int | None, filters: dict[str, str], limit: int) -> str:
    params = {"fields": ",".join(fields), "orderBy": "id asc", "limit": str(limit), **filters}
    if after is not None:
        params["idGreaterThan"] = str(after)
    return f"{OBJECTS}/{kind}?{urlencode(params)}"


async def pages(
    client: Client, kind: str, fields: list[str], filters: dict[str, str] | None = None, *,
    after: int | None = None, limit: int = PAGE,
) -> AsyncIterator[list[dict[str, Any]]]:  # fmt: skip
    """Every record of ``kind`` under ``filters`` (v5 names), a page at a time, by ascending id from ``after``. A
    range (``idLessThan``) ends at its last id without a call to see the next page empty (Pardot gives a token
    after a full page even where the data ends: v5-objects 2). The next page is asked as soon as this one's last
    id is known, before this one is handed on: still one call in flight, its wait spent on this page's work."""
    wanted = fields if "id" in fields else ["id", *fields]
    end = int(filters["idLessThan"]) - 1 if filters and "idLessThan" in filters else None

    count, pending = 0, await ahead(client, query_path(kind, wanted, after, filters or {}, limit))
    try:
        while True:
            reply = await pending
            records = records_of(reply, kind)
            if not records:
                return
            count += 1
            after = forward(after, [int(r["id"]) for r in records], count, f"reading {kind}", ApiError)
            last = len(records) < limit or last_page(reply.body) or (end is not None and after >= end)
            if not last:
                pending = await ahead(client, query_path(kind, wanted, after, filters or {}, limit))
            yield records
            if last:
                return
    finally:
        await dropped(pending)


async def ahead(client: Client, path: str) -> Awaitable[Any]:
    """A read call started now (its request on its way before the caller's next work holds the loop). Under a call
    budget (``max_api_calls``) it starts when awaited instead: every call the budget allows goes to pages used."""
    call = client.get_as(path, "import")
    if client.config.max_api_calls is not None:
        return call
    task = asyncio.ensure_future(call)
    await asyncio.sleep(0)
    return task


async def dropped(call: Awaitable[Any]) -> None:
    """A call asked ahead that the reader no longer wants (it stopped early): cancelled and waited for (or, not
    started, closed); its error, if any, seen (never reported as never retrieved). A cancel of the reader itself
    still goes through."""
    if not isinstance(call, asyncio.Future):
        call.close() if isinstance(call, Coroutine) else None
        return
    if not call.done():
        call.cancel()
        await asyncio.wait([call])
    if not call.cancelled():
        call.exception()


async def ranges(
    client: Client, kind: str, fields: Callable[[], list[str]], filters: dict[str, str], *, after: int | None,
    parallel: int, handle: Callable[[list[dict[str, Any]]], Awaitable[None]], progress: dict[int, int] | None = None,
) -> None:  # fmt: skip
    """Every record of ``kind`` after ``after``, to ``handle`` a page at a time: the first page alone; when more
    follow, one call asks the highest id and the ids after the first page are cut into ranges of whole pages (twice
    as many as ``parallel``: a range whose answer is being parsed or its page handled holds no call, so another's
    call takes its place and the calls in flight stay ``parallel``), read at once by ascending id. The ranges are
    disjoint and cover every id, so no page is read twice and none skipped, and no token chain is followed (its
    100,000-record cap never applies). ``fields`` is asked afresh for each range (a caller may drop a field Pardot
    refused). ``progress`` (range start -> the last id read in it) holds the unfinished ranges: after a stop, every
    id up to its smallest value was read (``safe_after``). The first error of the ranges is raised as itself."""
    progress = {} if progress is None else progress
    progress[after or 0] = after or 0
    first = await client.get_as(query_path(kind, _with_id(fields()), after, filters, PAGE), "import")
    records = records_of(first, kind)
    if len(records) < PAGE or last_page(first.body):
        await handle(records) if records else None
        progress.pop(after or 0)
        return
    top_path = query_path(kind, ["id"], None, filters, 1).replace("orderBy=id+asc", "orderBy=id+desc")
    probe = await ahead(client, top_path)  # the highest id is asked while the first page is handled
    try:
        await handle(records)
    except BaseException:
        await dropped(probe)
        raise
    start = max(int(r["id"]) for r in records)
    progress[after or 0] = start
    top = records_of(await probe, kind)
    highest = int(top[0]["id"]) if top else start
    step = _step(records, start, highest, parallel)

    async def one(low: int, below: int) -> None:
        async for page in pages(client, kind, fields(), {**filters, "idLessThan": str(below)}, after=low):
            await handle(page)
            progress[low] = int(page[-1]["id"])  # by ascending id; were it not, a smaller mark only reads more again
        progress.pop(low)

    progress.pop(after or 0)
    lows = range(start, highest, step)
    progress.update({low: low for low in lows})  # every range unfinished until it ends, even one never started
    await together(one(low, min(low + step, highest) + 1) for low in lows)


async def together(work: Iterable[Coroutine[Any, Any, None]]) -> None:
    """The reads run at once (within the client's call slots); the first error raised as itself, not as a group."""
    try:
        async with asyncio.TaskGroup() as group:
            for item in work:
                group.create_task(item)
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None


def _step(records: list[dict[str, Any]], start: int, highest: int, parallel: int) -> int:
    """The width of the id ranges after the first page: at most ``RANGES_PER_CALL`` per call in flight (one read
    alone: one range), each as many whole pages as the first page's density of ids says, so few pages are partial."""
    density = len(records) / max(start - min(int(r["id"]) for r in records) + 1, 1)
    left = math.ceil((highest - start) * density / PAGE)  # pages
    count = max(1, min(parallel * RANGES_PER_CALL if parallel > 1 else 1, left))
    whole = math.ceil(math.ceil(left / count) * PAGE / density)  # the ids of a range of whole pages
    return max(1, whole, math.ceil((highest - start) / count))  # never more than ``count`` ranges


def safe_after(progress: dict[int, int]) -> int | None:
    """After a stopped ``ranges``: the id up to which every record was read (None: all of them were)."""
    return min(progress.values()) if progress else None


def _with_id(fields: list[str]) -> list[str]:
    return fields if "id" in fields else ["id", *fields]


def last_page(body: Any) -> bool:
    """The answer says no record follows: ``nextPageToken`` present and JSON null (v5-objects 2: a token comes
    after a full page unless the data ends there; recorded). Each page here is its own query, so the
    100,000-record cap of a token chain cannot be what ended it. A server that leaves the key out says nothing."""
    return isinstance(body, dict) and "nextPageToken" in body and body["nextPageToken"] is None


def record_of(reply: Any, kind: str) -> dict[str, Any]:
    """The one object an answer holds (the account: not a page); an answer without its id is not Pardot's."""
    body = reply.body if isinstance(reply.body, dict) else None
    if reply.code is not None or body is None or "id" not in body:
        message = reply.message or f"HTTP {reply.status}"
        raise ApiError(f"reading {kind} failed: Pardot error {reply.code} ({message})", reply.code, reply.status)
    return body


def records_of(reply: Any, kind: str) -> list[dict[str, Any]]:
    """A page's records; a refusal is one clear error (an unknown field names it: code 51). A warning that a
    token chain was cut at its 100,000-record cap is an error: this reader never follows a chain that far, so
    records could have been left out (v5-objects 2: detected by its text, its code is not confirmed)."""
    if reply.warning and "nextPageToken sequence" in reply.warning:
        raise ApiError(f"reading {kind}: Pardot cut the read short ({reply.warning}); no record was skipped silently")
    body = reply.body if isinstance(reply.body, dict) else None
    if reply.code is not None or body is None or not isinstance(body.get("values"), list):
        message = reply.message or f"HTTP {reply.status}"
        refused = ARRAY_REFUSAL.search(message) if reply.code == 51 else None
        if refused:
            raise ArrayFieldsRefused(kind, [f.strip() for f in refused.group(1).split(",")], message)
        if reply.code == 51:
            raise ConfigError([f"reading {kind}: {message} (check the field names; 'pardot-frames fields' lists them)"])
        raise ApiError(f"reading {kind} failed: Pardot error {reply.code} ({message})", reply.code, reply.status)
    return [r for r in body["values"] if isinstance(r, dict)]
