"""Reading any Pardot object into a typed frame (``pf.read``): every object of ``pardot-v5-objects.md`` section 6,
in parallel id ranges, incrementally (``since_last``), deletions included.

How a read goes: the first page (1,000 records by ascending id) is read alone; if it is not the last, one call
asks the highest id, and the ids after the first page are cut into ``parallel`` ranges of equal width, each read
by ascending id (``idGreaterThan`` .. ``idLessThan``) at the same time within the business unit's call slots. So
no page is read twice and none skipped (the ranges are disjoint and cover every id), and no ``nextPageToken``
chain is followed: its 100,000-record cap never cuts a read (a warning about it is an error). 1M records cost
1,000 pages + 1 probe + at most ``parallel`` partial pages.

``since_last``: the newest (time, id) a read of this object saw is kept per business unit (``state.reads``);
the next read asks only records at or after that time (``<since>AfterOrEqualTo`` where Pardot filters by it,
otherwise the whole object, compared here) and keeps those after it, (time, id) as the tie-break; once that
second is settled (61 s before the last read began, by Pardot's clock: ``state.reads``), only records after it
(``<since>After``), so a quiet object costs one call. Objects with a recycle bin are read with ``deleted=all``
then, so a deletion shows as ``is_deleted`` true.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from pardot_frames._control import ResumableStop
from pardot_frames.config.connection import Connection
from pardot_frames.config.job import Reachable
from pardot_frames.engine.host.bridge import run_sync
from pardot_frames.engine.host.progress import Progress
from pardot_frames.engine.read import plan
from pardot_frames.engine.read.export import export_frames, exportable
from pardot_frames.engine.read.frames import read_prospects, stopped_rows
from pardot_frames.engine.read.runs import Tally, recorded
from pardot_frames.engine.read.shapes import read_shaped
from pardot_frames.engine.read.since import Since
from pardot_frames.engine.state import reads
from pardot_frames.engine.state.journal import state_dir as default_state_dir
from pardot_frames.errors import ConfigError, ReadStopped
from pardot_frames.limits import CONCURRENT_LIMIT
from pardot_frames.pardot import objects
from pardot_frames.pardot.client import Client
from pardot_frames.pardot.slots import shared_folder
from pardot_frames.prepare import catalog
from pardot_frames.prepare.catalog import ObjectSpec

OnPage = Callable[[pl.DataFrame], None]


def read(
    name: str,
    config: Reachable,
    *,
    fields: list[str] | None = None,
    since_last: bool = False,
    deleted: bool = False,
    parallel: int = CONCURRENT_LIMIT,
    state_dir: str | Path | None = None,
    progress: bool | None = False,
    on_page: OnPage | None = None,
    method: str = "query",
    poll: float = 60.0,
    after: datetime | None = None,
    after_exclusive: bool = False,
    after_id: int | None = None,
    tally: Tally | None = None,
    timezone: str = "UTC",
) -> pl.DataFrame:
    """Every record of the object ``name`` (``"visitor_activities"`` or ``"visitor-activities"``) as a typed frame:
    ``fields``: v5 names (default: section 6's list); ``since_last``: only what changed since the last such read
    of this object and business unit (deletions too, as ``is_deleted``); ``deleted``: include the recycle bin;
    ``parallel``: id ranges read at once (at most Pardot's five calls in flight, shared with other jobs);
    ``on_page``: each page goes there (a file, a table) instead of into the returned frame. ``method``: "query"
    (v5 queries), "export" (the Export API, a result file at a time: visitor activities, visitors, visits, list
    memberships, prospect accounts) or "auto" (export when the ids span at least ``EXPORT_FROM`` records, two
    calls to tell); ``poll``: the first wait between an export's status reads; ``after``: only records changed at
    or after that time (a caller's own cursor, as dlt's), deletions included (``after_exclusive``: after it only);
    ``after_id``: resume a stopped read after that id (``ReadStopped.after_id``); ``tally``: counts for a caller;
    ``timezone``: the API user's (IANA name), for the times Pardot writes without an offset (v4, legacy files)."""
    if name.strip().lower() == "prospects":  # the product's own prospect read (its names, array fields, verify)
        given = Since.given(after, after_exclusive, "updated_at") if after is not None else None
        return read_prospects(config, fields=fields, state_dir=state_dir, progress=progress, on_page=on_page,
                              parallel=parallel, after_id=after_id, tally=tally, since_last=since_last,
                              since=given)  # fmt: skip
    spec, connection = _checked(name, config, since_last, method, timezone)
    folder = Path(state_dir) if state_dir else default_state_dir()
    at = catalog.column(spec.since)
    since = Since.load(connection, spec.kind, folder, at) if since_last else Since.given(after, after_exclusive, at)
    reader = _reader(spec, fields, deleted, since_last or after is not None, since, parallel)
    reader.method, reader.poll, reader.after_id, reader.zone = method, poll, after_id, timezone
    reader.journal = reads.path(connection, spec.kind, folder).with_suffix(".export.json")
    frame = _run(reader, connection, folder, on_page, progress, tally)
    if since_last:
        since.save(connection, spec.kind, folder, reader.began)
    return frame


def _run(reader: Reader, connection: Connection, folder: Path, on_page: OnPage | None, progress: bool | None,
         tally: Tally | None) -> pl.DataFrame:  # fmt: skip
    """The read with its row of the run history; its counts to ``tally`` whatever the outcome."""
    try:
        return recorded("read", reader.spec.name, connection, folder, reader,
                        lambda: run_sync(reader.run(connection, on_page, progress)))  # fmt: skip
    finally:
        if tally is not None:
            tally.rows, tally.calls, tally.retries = reader.rows, reader.calls, reader.retries
            tally.began = reader.began


def _checked(name: str, config: Reachable, since_last: bool, method: str,
             timezone: str) -> tuple[ObjectSpec, Connection]:  # fmt: skip
    """The object a read names and its connection, or the ConfigError saying what is wrong (before any call)."""
    if not known_zone(timezone):
        raise ConfigError([f"read: timezone {timezone!r} is not an IANA timezone name (such as 'America/Chicago')"])
    spec = catalog.spec_of(name)
    if spec is None:
        known = ", ".join(["prospects", *sorted(s.name for s in catalog.OBJECTS.values())])
        raise ConfigError([f"read: {name!r} is not an object pardot-frames reads; use one of: {known}"])
    connection = Connection.of(config)
    if missing := connection.missing_credentials():
        raise ConfigError([f"{key} is required to read from Pardot" for key in missing])
    if since_last and not spec.since:
        raise ConfigError([f"read {spec.name}: it has no time to follow, so since_last cannot tell what changed; "
                           "read it whole"])  # fmt: skip
    _check_method(spec, method)
    return spec, connection


def _reader(spec: ObjectSpec, fields: list[str] | None, deleted: bool, changes: bool, since: Since,
            parallel: int) -> Reader:  # fmt: skip
    """The read's fields, filters and lanes: what changed comes with its deletions where there is a recycle bin."""
    wanted = _fields(spec, fields, with_deleted=deleted or (changes and spec.archivable))
    bin_too = {"deleted": "all"} if (deleted or changes) and spec.archivable else {}
    filters = {**bin_too, **(since.filters(spec.since) if spec.server_since else {})}
    reader = Reader(spec, wanted, filters, max(1, min(parallel, CONCURRENT_LIMIT)))
    reader.since = since
    return reader


def _check_method(spec: ObjectSpec, method: str) -> None:
    if method not in ("query", "export", "auto"):
        raise ConfigError([f"read: method {method!r} is not allowed; use query, export or auto"])
    if method == "export" and not exportable(spec):
        raise ConfigError([f"read {spec.name}: the Export API does not export it; use method='query'"])


def _fields(spec: ObjectSpec, fields: list[str] | None, *, with_deleted: bool) -> tuple[str, ...]:
    chosen = list(fields or spec.fields)
    unknown = [f for f in chosen if f.split(".")[0] not in {s.split(".")[0] for s in spec.fields} and f != "isDeleted"]
    if unknown:
        raise ConfigError([f"read {spec.name}: {f!r} is not one of its fields ({', '.join(spec.fields)})"
                           for f in unknown])  # fmt: skip
    for needed in ("id", spec.since, *(["isDeleted"] if with_deleted and spec.archivable else [])):
        if needed not in chosen and needed in (*spec.fields, "isDeleted"):
            chosen.append(needed)
    return tuple(chosen)


def known_zone(name: str) -> bool:
    """Whether ``name`` is a timezone this machine knows (the IANA database)."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


class Reader:
    """One read: the first page, the highest id, then the ranges at once; the newest (time, id) it saw."""

    def __init__(self, spec: ObjectSpec, fields: tuple[str, ...], filters: dict[str, str], parallel: int) -> None:
        self.spec, self.fields, self.filters, self.parallel = spec, fields, filters, parallel
        self.since = Since(None, False, "")  # where a since-last read starts, and the newest it saw
        self.zone = "UTC"  # where times without an offset are (v4, legacy export files): the API user's timezone
        self.after_id: int | None = None
        self.began: datetime | None = None  # when the read began, by Pardot's clock (the next mark's read_at)
        self.top_id: int | None = None  # the highest id handed on (a v4 read, in id order)
        self.ranges: dict[int, int] = {}  # the unfinished id ranges (``objects.ranges``): where a resume starts
        self.kept: list[pl.DataFrame] = []
        self.method, self.poll, self.journal, self.chosen = "query", 60.0, Path(), "query"
        self.rows = self.calls = self.retries = 0  # what the run history keeps of it

    async def run(self, connection: Connection, on_page: OnPage | None, progress: bool | None,
                  ) -> pl.DataFrame:  # fmt: skip
        bar = Progress(None, progress)

        def page(records: list[dict[str, Any]] | pl.DataFrame) -> None:
            typed = records if isinstance(records, pl.DataFrame) else catalog.frame(self.spec, records, self.fields,
                                                                                    self.zone)  # fmt: skip
            if typed.height and self.spec.shape == "v4":  # read in id order: where a stop resumes
                self.top_id = max(self.top_id or 0, int(typed["id"].max()))  # type: ignore[arg-type]
            frame = self.since.keep(typed)
            bar.update(frame.height)
            self.rows += frame.height
            if on_page is not None:
                on_page(frame)
            else:
                self.kept.append(frame)

        try:
            slots = shared_folder()  # the five calls in flight this business unit has on this machine, jobs included
            async with Client(connection.replace(parallel_tasks=self.parallel), slots_folder=slots) as client:
                try:
                    if await self._exports(client):
                        self.chosen = "export"
                        mark = self.since.mark
                        await export_frames(client, self.spec, self.fields, mark[0] if mark else None, self.journal,
                                            self.poll, page, self.zone)  # fmt: skip
                    else:
                        await self._pages(client, page)
                except ResumableStop as exc:
                    raise ReadStopped(str(exc.reason or exc), *self._stopped()) from None
                finally:
                    self.calls, self.retries = client.stats.api_calls, client.stats.retries
                    self.began = client.server_time
        finally:
            bar.close()
        return self._result()

    def _stopped(self) -> tuple[pl.DataFrame, int | None]:
        """A stopped read's rows up to where a resume starts, and that id (None: read it again whole)."""
        if self.spec.shape in ("one", "per-parent") or self.chosen == "export":
            return self._result(), None
        rows, last = stopped_rows(self.kept, self.ranges if self.spec.shape == "pages" else None)
        last = last if last is not None else self.top_id if self.top_id is not None else self.after_id
        return (rows.sort("id") if rows.height else self._result()), last

    def _result(self) -> pl.DataFrame:
        if not self.kept:
            return catalog.frame(self.spec, [], self.fields)
        return pl.concat(self.kept, how="vertical_relaxed").sort("id")

    async def _exports(self, client: Client) -> bool:
        """Whether this read goes through the Export API: asked, or (auto) the ids span ``EXPORT_FROM`` records."""
        if self.method != "auto" or not exportable(self.spec):
            return self.method == "export"
        low = objects.records_of(await client.get_as(objects.query_path(self.spec.kind, ["id"], None, {}, 1),
                                                     "import"), self.spec.kind)  # fmt: skip
        path = objects.query_path(self.spec.kind, ["id"], None, {}, 1).replace("orderBy=id+asc", "orderBy=id+desc")
        high = objects.records_of(await client.get_as(path, "import"), self.spec.kind)
        return bool(low and high) and int(high[0]["id"]) - int(low[0]["id"]) + 1 >= plan.EXPORT_FROM

    async def _pages(self, client: Client, page: Callable[[list[dict[str, Any]]], None]) -> None:
        """Every page, in parallel id ranges (``pardot.objects.ranges``)."""

        async def handle(records: list[dict[str, Any]]) -> None:
            page(records)

        if self.spec.shape != "pages":
            mark = self.since.mark
            after_id = self.after_id or (mark[1] if mark is not None and mark[1] else None)
            await read_shaped(client, self.spec, list(self.fields), handle, after_id=after_id, parallel=self.parallel)
            return
        await objects.ranges(client, self.spec.kind, lambda: list(self.fields), self.filters, after=self.after_id,
                             parallel=self.parallel, handle=handle, progress=self.ranges)  # fmt: skip
