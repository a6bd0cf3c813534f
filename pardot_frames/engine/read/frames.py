"""Reading Pardot back into frames: prospects, lists and list members, typed by the account's fields and
named as a job sends them, so a read frame can be sent back unchanged.

Reads go through v5 (``pardot.objects``: 1,000 records a call, by ascending id). Array custom fields
(Checkbox, Multi-Select, multiple responses) are refused in v5 queries: their values come from
``pardot.array_values`` (the v4 query, 200 prospects a call; single reads for one or two), so a page of
1,000 with such fields costs 1 + 5 calls. Calls count against
``max_api_calls``; a read stopped by the budget, the daily limit or Ctrl-C raises ``ReadStopped`` with
what was read and the id to resume after (``after_id=``; ``--after-id`` on the command line).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from pardot_frames._control import ResumableStop
from pardot_frames.config.connection import Connection
from pardot_frames.config.job import Reachable
from pardot_frames.engine.host.bridge import run_sync
from pardot_frames.engine.host.progress import Progress
from pardot_frames.engine.read.runs import Tally, recorded
from pardot_frames.engine.read.since import Since
from pardot_frames.engine.state.field_cache import account_fields
from pardot_frames.engine.state.journal import state_dir as default_state_dir
from pardot_frames.errors import ConfigError, ReadStopped
from pardot_frames.limits import CONCURRENT_LIMIT
from pardot_frames.pardot import lists, objects
from pardot_frames.pardot.array_values import array_values
from pardot_frames.pardot.client import Client
from pardot_frames.pardot.slots import shared_folder
from pardot_frames.prepare.account_fields import Fields
from pardot_frames.prepare.read_frames import TIMES, DType, column_type, prospect_columns, records_frame

OnPage = Callable[[pl.DataFrame], None]
UTC_TIMES: dict[str, DType] = {"created_at": pl.Datetime("us", "UTC"), "updated_at": pl.Datetime("us", "UTC")}
PER_ITEM = 50  # at most this many ids or emails are read one query each; more: pages, filtered here


@dataclass(frozen=True)
class ProspectQuery:
    """What a prospect read asks for: columns (product names), v5 filters, and the rows it keeps."""

    columns: dict[str, str]  # product column -> v5 field (what the v5 query selects)
    types: dict[str, DType]
    filters: dict[str, str]
    ids: tuple[int, ...] = ()
    emails: tuple[str, ...] = ()
    arrays: tuple[str, ...] = ()  # array custom fields (product columns): never in a v5 query, read another way
    order: tuple[str, ...] = ()  # every column, in the frame's order

    def without(self, refused: list[str]) -> ProspectQuery:
        """The query with these v5 fields (refused by Pardot as arrays) read the other way instead."""
        gone = {objects.column(f) for f in refused}
        columns = {c: v for c, v in self.columns.items() if c not in gone}
        types = {**self.types, **{c: pl.List(pl.String) for c in gone}}
        return replace(self, columns=columns, types=types, arrays=(*self.arrays, *sorted(gone - set(self.arrays))))


def prospect_query(
    fields: Fields | None, wanted: list[str] | None, filters: dict[str, str], ids: Any = None, emails: Any = None
) -> ProspectQuery:
    """The query for these columns; an unknown column is a ConfigError naming it (every problem at once)."""
    names = prospect_columns(fields, wanted)
    custom = set(fields.custom) if fields is not None else set()
    standard = set(prospect_columns(None, None)) | set(TIMES)
    unknown = [c for c in names if c not in standard and c not in custom]
    if unknown and fields is not None:
        raise ConfigError([f"fields: {c!r} is neither a readable standard field nor a custom field" for c in unknown])
    arrays = tuple(c for c in names if fields is not None and c in fields.custom and fields.custom[c].array)
    columns = {c: objects.v5_field(c, custom=c in custom) for c in names if c not in arrays}
    types = {c: column_type(c, fields) for c in names}
    wanted_ids = tuple(sorted({int(i) for i in ids})) if ids is not None else ()
    wanted_emails = tuple(sorted({str(e).strip().lower() for e in emails})) if emails is not None else ()
    return ProspectQuery(columns, types, filters, wanted_ids, wanted_emails, arrays, tuple(names))


async def with_arrays(client: Client, records: list[dict[str, Any]], query: ProspectQuery) -> pl.DataFrame:
    """A page's records as a frame, its array custom fields read the other way (``pardot.array_values``)."""
    frame = records_frame(records, query.columns, query.types)
    if not query.arrays:
        return frame
    found = await array_values(client, [int(r["id"]) for r in records], list(query.arrays))
    extra = {a: pl.Series(a, [found.get(int(r["id"]), {}).get(a) for r in records], dtype=query.types[a])
             for a in query.arrays}  # fmt: skip
    return frame.with_columns(**extra).select([c for c in query.order if c in frame.columns or c in extra])


async def read_prospect_pages(client: Client, query: ProspectQuery, on_page: OnPage, after: int | None = None,
                              parallel: int = 1, ranges: dict[int, int] | None = None) -> None:  # fmt: skip
    """Every prospect of the query, page by page (``on_page`` gets each page as a frame); a whole read goes in
    ``parallel`` id ranges at once (``pardot.objects.ranges``, whose progress ``ranges`` keeps)."""

    def keep(frame: pl.DataFrame) -> pl.DataFrame:
        if query.ids and len(query.ids) > PER_ITEM:
            frame = frame.filter(pl.col("id").is_in(query.ids))
        if query.emails and len(query.emails) > PER_ITEM:
            frame = frame.filter(pl.col("email").str.to_lowercase().is_in(query.emails))
        return frame

    async def run(filters: dict[str, str], start: int | None) -> None:
        nonlocal query
        while True:
            try:
                async for page in objects.pages(
                    client, "prospects", list(query.columns.values()), filters, after=start
                ):
                    start = max(int(r["id"]) for r in page)
                    on_page(keep(await with_arrays(client, page, query)))
                return
            except objects.ArrayFieldsRefused as refused:  # an array the account's fields did not show
                query = query.without(refused.fields)

    if query.ids and len(query.ids) <= PER_ITEM:  # one query each: id-1 < id < id+1
        for pid in query.ids:
            if after is None or pid > after:
                await run({**query.filters, "idLessThan": str(pid + 1)}, pid - 1)
    elif query.emails and len(query.emails) <= PER_ITEM:
        for email in query.emails:
            await run({**query.filters, "email": email}, after)
    elif parallel > 1 and not query.ids:
        await in_ranges(client, query, on_page, after, parallel, ranges)
    else:
        bound = {"idLessThan": str(query.ids[-1] + 1)} if query.ids else {}
        await run({**query.filters, **bound}, after if after is not None else (query.ids[0] - 1 if query.ids else None))


async def in_ranges(client: Client, query: ProspectQuery, on_page: OnPage, after: int | None, parallel: int,
                    ranges: dict[int, int] | None) -> None:  # fmt: skip
    """A whole prospect read in parallel id ranges; an array field Pardot refuses (always on the first call, before
    any page went) is read the other way and the read starts again."""
    while True:
        try:

            async def handle(records: list[dict[str, Any]], asked: ProspectQuery = query) -> None:
                on_page(await with_arrays(client, records, asked))

            columns = list(query.columns.values())
            await objects.ranges(client, "prospects", columns.copy, query.filters,
                                 after=after, parallel=parallel, handle=handle, progress=ranges)  # fmt: skip
            return
        except objects.ArrayFieldsRefused as refused:
            query = query.without(refused.fields)


async def reading(config: Reachable, read: Callable[[Client, OnPage], Awaitable[None]], on_page: OnPage | None,
                  progress: bool | None, parallel: int = 1, ranges: dict[int, int] | None = None,
                  tally: Tally | None = None) -> pl.DataFrame:  # fmt: skip
    """Run a read with its own client; pages are kept (and passed on); a stop raises ReadStopped. ``tally``
    counts rows, calls and retries for the run history."""
    if missing := config.missing_credentials():
        raise ConfigError([f"{key} is required to read from Pardot" for key in missing])
    kept: list[pl.DataFrame] = []
    bar = Progress(None, progress)
    tally = tally if tally is not None else Tally()

    def page(frame: pl.DataFrame) -> None:
        bar.update(frame.height)
        tally.rows += frame.height
        if on_page is not None:
            on_page(frame)
        else:
            kept.append(frame)

    try:
        slots = shared_folder()  # the business unit's five calls in flight on this machine, shared with jobs
        async with Client(Connection.of(config).replace(parallel_tasks=parallel), slots_folder=slots) as client:
            try:
                await read(client, page)
            except ResumableStop as exc:
                raise ReadStopped(str(exc.reason or exc), *stopped_rows(kept, ranges)) from None
            finally:
                tally.calls, tally.retries, tally.began = (
                    client.stats.api_calls,
                    client.stats.retries,
                    client.server_time,
                )
    finally:
        bar.close()
    return pl.concat(kept, how="vertical_relaxed") if kept else pl.DataFrame()


def stopped_rows(kept: list[pl.DataFrame], ranges: dict[int, int] | None) -> tuple[pl.DataFrame, int | None]:
    """What a stopped read hands back: the rows up to the id every record below was read to (in ranges, the
    smallest unfinished cursor: rows past it are read again by the resume), and that id."""
    done = pl.concat(kept, how="vertical_relaxed") if kept else pl.DataFrame()
    last = objects.safe_after(ranges) if ranges else None
    if last is not None:  # pages handed to on_page were not kept: the ranges still say where to resume
        return (done.filter(pl.col("id") <= last) if "id" in done.columns else done), last
    if not done.height or "id" not in done.columns:
        return done, None
    return done, int(done["id"].max())  # type: ignore[arg-type]


def read_prospects(
    config: Reachable,
    *,
    fields: list[str] | None = None,
    updated_after: str | None = None,
    since_last: bool = False,
    ids: Any = None,
    emails: Any = None,
    after_id: int | None = None,
    state_dir: str | Path | None = None,
    progress: bool | None = False,
    on_page: OnPage | None = None,
    with_updated_at: bool = False,
    parallel: int = CONCURRENT_LIMIT,
    tally: Tally | None = None,
    since: Since | None = None,
) -> pl.DataFrame:
    """Prospects as a frame: ``fields`` (product names; default every readable standard and custom field),
    those updated at or after ``updated_after`` (ISO 8601), with these ``ids`` or ``emails``; ``after_id`` resumes
    a stopped read. ``since_last``: only what changed since the last such read (``engine.read.since``; ``since``:
    a caller's own starting point). ``on_page`` takes the pages instead of the returned frame; ``with_updated_at``
    adds ``updated_at``. A read goes in ``parallel`` id ranges at once (within the five shared call slots)."""
    folder = Path(state_dir) if state_dir else default_state_dir()
    connection = Connection.of(config)
    since = Since.load(connection, "prospects", folder, "updated_at") if since_last else since
    filters = {**({"updatedAtAfterOrEqualTo": updated_after} if updated_after else {}),
               **(since.filters("updatedAt") if since is not None else {})}  # fmt: skip
    timed, schema = with_updated_at or since is not None, dict[str, DType]()

    async def read(client: Client, page: OnPage) -> None:
        known = await account_fields(client, config, folder)
        names = prospect_columns(known, fields)
        asked = "updated_at" in names or not timed
        query = prospect_query(known, names if asked else [*names, "updated_at"], filters, ids, emails)
        shown = asked or with_updated_at  # a time read only to follow changes is not handed on
        schema.update(query.types if shown else _without(query.types, "updated_at"))

        def kept(frame: pl.DataFrame) -> None:
            frame = since.keep(frame) if since is not None else frame
            page(frame if shown else frame.drop("updated_at"))

        await read_prospect_pages(client, query, kept, after_id, parallel, ranges)

    ranges: dict[int, int] = {}
    tally, lanes = tally if tally is not None else Tally(), max(1, min(parallel, CONCURRENT_LIMIT))
    frame = recorded("read", "prospects", connection, folder, tally,
                     lambda: run_sync(reading(config, read, on_page, progress, lanes, ranges, tally)))  # fmt: skip
    if since_last and since is not None:
        since.save(connection, "prospects", folder, tally.began)
    return frame if frame.width else pl.DataFrame(schema=schema)


def _without(types: dict[str, DType], name: str) -> dict[str, DType]:
    return {k: v for k, v in types.items() if k != name}


def read_lists(config: Reachable, *, progress: bool | None = False) -> pl.DataFrame:
    """The account's lists: id, name, title, is_public, is_dynamic, created_at, updated_at."""
    names = ["id", "name", "title", "is_public", "is_dynamic", "created_at", "updated_at"]
    types: dict[str, DType] = {"id": pl.Int64, "is_public": pl.Boolean, "is_dynamic": pl.Boolean, **UTC_TIMES}
    return _read_simple(config, "lists", names, types, {}, progress)


def read_list_members(config: Reachable, list_: int | str, *, progress: bool | None = False) -> pl.DataFrame:
    """The members of one list (its id or name): list_id, prospect_id, opted_out, created_at, updated_at."""
    names = ["id", "list_id", "prospect_id", "opted_out", "created_at", "updated_at"]
    types: dict[str, DType] = {"id": pl.Int64, "list_id": pl.Int64, "prospect_id": pl.Int64, "opted_out": pl.Boolean,
                               **UTC_TIMES}  # fmt: skip

    async def list_id(client: Client) -> int:
        if isinstance(list_, int) or str(list_).isdigit():
            return int(list_)
        return (await lists.resolve(client, (str(list_),), create=False))[str(list_)] or 0

    frame = _read_simple(config, "list-memberships", names, types, {}, progress, list_id)
    return frame.drop("id") if "id" in frame.columns else frame


def _read_simple(config: Reachable, kind: str, names: list[str], types: dict[str, DType],
                 filters: dict[str, str], progress: bool | None,
                 list_id: Callable[[Client], Awaitable[int]] | None = None) -> pl.DataFrame:  # fmt: skip
    columns = {c: objects.v5_field(c) for c in names}
    typed = {c: types.get(c, pl.String) for c in names}

    async def read(client: Client, page: OnPage) -> None:
        where = {**filters, "listId": str(await list_id(client))} if list_id is not None else filters
        async for records in objects.pages(client, kind, list(columns.values()), where):
            page(records_frame(records, columns, typed))

    tally, what = Tally(), "list_members" if list_id is not None else kind
    frame = recorded(
        "read",
        what,
        Connection.of(config),
        default_state_dir(),
        tally,
        lambda: run_sync(reading(config, read, None, progress, tally=tally)),
    )
    return frame if frame.height else pl.DataFrame(schema=typed)
