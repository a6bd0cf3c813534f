"""Verifying a job: read back the prospects it touched and compare them, field by field, with what it sent.

Pardot answers ``stat ok`` while it silently drops values a field cannot take (a Dropdown value the
account does not list) and normalises others, so what Pardot answered is not what it holds.

How the sample is drawn: the prospects the job touched are those updated since it started. Windows of
1,000 of them (one v5 call each, by ascending id) start at random ids between the lowest and the highest
touched id (two calls find those). Every sent row whose prospect is in a window is checked (rows
join by id, else fid, else email). By default windows are read until 500 rows are checked, within 1%
of the job's calls (at least 3 calls); ``sample`` (a fraction of the rows) asks for more, 1.0 reads every
touched prospect. With 500 rows checked, a silent drop that touches 1% of the rows at random is found
with probability 1 - 0.99^500 = 99.3%. What a sample can miss: a drop confined to rows outside the
windows (for example one batch whose prospects sit in one id range), and rows whose send changed
nothing (Pardot may then leave ``updated_at`` as it was).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.host.bridge import run_sync
from pardot_frames.engine.read.frames import prospect_query, with_arrays
from pardot_frames.engine.read.runs import Tally, recorded
from pardot_frames.engine.state.field_cache import account_fields
from pardot_frames.engine.state.journal import state_dir as default_state_dir
from pardot_frames.pardot import objects
from pardot_frames.pardot.array_values import calls_for
from pardot_frames.pardot.client import Client
from pardot_frames.prepare.account_fields import Fields
from pardot_frames.prepare.compare import MISMATCH_SCHEMA, held_keys, mismatches, row_key
from pardot_frames.prepare.frames import ROW_NR, chunks
from pardot_frames.prepare.read_frames import prospect_columns
from pardot_frames.prepare.validation import validate

ENOUGH_ROWS = 500  # rows checked by default: a 1% silent drop is found with probability 1 - 0.99^500
CALL_SHARE = 0.01  # the default sample costs at most this share of the job's calls ...
MIN_CALLS = 3  # ... and at least this many (the bounds and one window)


@dataclass
class Verification:
    """What a verify found: ``mismatches`` (row_nr, key, column, sent, held) and the summary figures."""

    mismatches: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=MISMATCH_SCHEMA))
    rows_checked: int = 0
    prospects_read: int = 0
    missing: int = 0  # rows named by an id inside a window read whose prospect was not there (or not updated)
    duplicate_emails: int = 0  # checked rows whose email several prospects share
    calls: int = 0
    sample: str = "default"

    @property
    def ok(self) -> bool:
        return not self.mismatches.height and not self.missing

    def summary(self) -> dict[str, Any]:
        by_column = dict(self.mismatches.group_by("column").len().sort("column").iter_rows())
        rows = self.mismatches[ROW_NR].n_unique()
        return {
            "rows_checked": self.rows_checked, "matched": self.rows_checked - rows, "mismatched_rows": rows,
            "mismatched_by_column": by_column, "missing": self.missing, "duplicate_emails": self.duplicate_emails,
            "prospects_read": self.prospects_read, "calls": self.calls, "sample": self.sample,
        }  # fmt: skip


def verify(
    data: Any,
    config: ExportConfig,
    *,
    sample: float | None = None,
    started_after: str | None = None,
    job_calls: int | None = None,
    state_dir: str | None = None,
    seed: int | None = None,
) -> Verification:
    """Read back the prospects ``data`` was sent to and compare them with it (see the module docstring);
    ``started_after`` (ISO time, UTC) limits the read to prospects updated since then (the job's start)."""
    folder = default_state_dir() if state_dir is None else Path(state_dir)

    tally = Tally()

    async def run() -> Verification:
        async with Client(config) as client:
            try:
                fields = await account_fields(client, config, folder)
                found = await verify_async(client, data, config, fields, sample, started_after, job_calls, seed)
            finally:
                tally.calls, tally.retries = client.stats.api_calls, client.stats.retries
        tally.rows, tally.verify = found.rows_checked, found.summary()
        return found

    return recorded("verify", "prospects", config, folder, tally, lambda: run_sync(run()))


async def verify_async(
    client: Client, data: Any, config: ExportConfig, fields: Fields | None, sample: float | None,
    started_after: str | None, job_calls: int | None, seed: int | None = None,
) -> Verification:  # fmt: skip
    """The verify of a job, on the job's client (its calls are counted with the job's). The input is read twice
    whatever the sample: once for the rows' keys (which say when the windows read are enough), once to compare
    the rows whose prospects were read."""
    before = client.stats.api_calls
    checked = config.replace(skip_invalid_records=True)
    keys = sent_keys(data, checked, fields)
    wanted = ENOUGH_ROWS if sample is None else max(1, int(sample * keys.height))
    budget = max(MIN_CALLS, int(CALL_SHARE * (job_calls if job_calls is not None else keys.height / 50)))
    filters = {"updatedAtAfterOrEqualTo": started_after} if started_after else {}
    reader = Windows(client, fields, filters, random.Random(seed), sent_columns(data))
    result = Verification(sample="all" if sample == 1.0 else ("default" if sample is None else f"{sample:.2%}"))
    held: list[pl.DataFrame] = []
    covered = 0
    while not held or sample == 1.0 or (covered < wanted and client.stats.api_calls - before < budget):
        window = await reader.next(whole=sample == 1.0) if held or await reader.bounds() else None
        if window is None:
            break
        held.append(window)
        covered += int(keys["key"].is_in(held_keys(window)["key"].implode()).sum())
    if held:
        merge(result, check(data, checked, pl.concat(held).unique("id"), fields, reader.done, keys))
    result.prospects_read = reader.read
    result.calls = client.stats.api_calls - before
    return result


def sent_keys(data: Any, config: ExportConfig, fields: Fields | None) -> pl.DataFrame:
    """row_nr, key (``compare.row_key``) and id of every valid row of ``data``."""
    parts = []
    for offset, chunk in _offsets(chunks(data, 100_000)):
        rows = validate(chunk, config, first_row=offset, fields=fields, with_json=False).rows
        ids = pl.col("id") if "id" in rows.columns else pl.lit(None, pl.Int64)
        parts.append(rows.select(ROW_NR, row_key(rows.columns).alias("key"), ids.alias("id")))
    return pl.concat(parts) if parts else pl.DataFrame(schema={ROW_NR: pl.Int64, "key": pl.String, "id": pl.Int64})


def sent_columns(data: Any) -> list[str] | None:
    """The input's column names, when they can be known without reading it (None: every column counts)."""
    if isinstance(data, pl.LazyFrame):
        return data.collect_schema().names()
    names = getattr(getattr(data, "schema", None), "names", None)  # pyarrow tables and readers
    if names is None:
        names = getattr(data, "columns", None)  # polars and pandas frames, DuckDB relations
    try:
        listed = [str(n) for n in names] if names is not None else None
    except TypeError:
        return None
    return listed


def verify_calls(job_calls: int, rows: int, verify: bool | float, arrays: bool = False) -> int:
    """The calls a verify takes at most: the default sample's budget, or the windows a share of rows needs. A
    window is one v5 call, plus 5 v4 calls when the input sent array custom fields (``engine.read``); the
    default sample reads its first window whatever the budget, and stops before a window past it."""
    window = 1 + (calls_for(objects.PAGE) if arrays else 0)
    if verify is True:
        return max(2 + window, max(MIN_CALLS, int(CALL_SHARE * job_calls)) - 1 + window)
    return 2 + max(1, -(-int(float(verify) * rows) // objects.PAGE)) * window


class Windows:
    """Windows of touched prospects, 1,000 by ascending id from random starts (or every page, in order).

    A window reads every column the input sent plus ``last_activity_at`` (which prospect an email means);
    array custom fields the input sent come the way ``engine.read`` reads them (1 + 5 calls a window)."""

    def __init__(self, client: Client, fields: Fields | None, filters: dict[str, str], rng: random.Random,
                 sent: list[str] | None = None) -> None:  # fmt: skip
        self.client, self.fields, self.filters, self.rng = client, fields, filters, rng
        query = prospect_query(fields, [*prospect_columns(fields, None), "last_activity_at"], {})
        arrays = tuple(a for a in query.arrays if sent is None or a in sent)  # only what the input sent
        order = tuple(c for c in query.order if c in query.columns or c in arrays)
        self.query = replace(query, arrays=arrays, order=order)
        self.low = self.high = 0
        self.done: list[tuple[int, int]] = []  # id ranges read
        self.read = 0
        self.cursor: int | None = None

    async def bounds(self) -> bool:
        """The lowest and highest touched id (two calls); False when the job touched nothing."""
        lowest = await self._page(None, 1, order="id asc")
        if not lowest:
            return False
        highest = await self._page(None, 1, order="id desc")
        self.low, self.high = int(lowest[0]["id"]), int(highest[0]["id"])
        return True

    async def next(self, whole: bool) -> pl.DataFrame | None:
        """The next window as a frame, or None when every touched prospect was read."""
        if whole:
            if self.cursor is not None and self.cursor >= self.high:
                return None  # the highest touched id was read: no call to learn that the next page is empty
            start = self.cursor if self.cursor is not None else self.low - 1
        else:
            free = [
                i for i in range(max(1, (self.high - self.low) // 1000 + 1)) if not self._covered(self.low + i * 1000)
            ]
            if not free:
                return None
            start = self.low - 1 + self.rng.choice(free) * 1000
        records = await self._page(start, objects.PAGE)
        if not records:
            return None
        ids = [int(r["id"]) for r in records]
        self.cursor = max(ids)
        self.done.append((start + 1, self.cursor if len(records) == objects.PAGE else self.high))
        self.read += len(records)
        return await with_arrays(self.client, records, self.query)

    def _covered(self, at: int) -> bool:
        return any(lo <= at <= hi for lo, hi in self.done)

    async def _page(self, after: int | None, limit: int, order: str = "id asc") -> list[dict[str, Any]]:
        params = {**self.filters, "orderBy": order}
        fields = list(self.query.columns.values()) if limit > 1 else ["id"]
        path = objects.query_path("prospects", fields, after, params, limit)
        reply = await self.client.get_as(path, "import")
        return objects.records_of(reply, "prospects")


def check(
    data: Any, config: ExportConfig, held: pl.DataFrame, fields: Fields | None, ranges: list[tuple[int, int]],
    keys: pl.DataFrame,
) -> Verification:  # fmt: skip
    """The rows of ``data`` whose prospects are in ``held``, compared with them (one pass over the input);
    rows named by an id inside a window read whose prospect is not there are missing."""
    keyed_held = held_keys(held)
    found = Verification()
    inside = pl.any_horizontal([pl.col("id").is_between(lo, hi) for lo, hi in ranges])
    found.missing = keys.filter(inside & ~pl.col("key").is_in(keyed_held["key"].implode())).height
    wanted = keys.filter(pl.col("key").is_in(keyed_held["key"].implode()))[ROW_NR]
    shared = keyed_held.filter(pl.col("sharing") > 1)["key"]
    for offset, chunk in _offsets(chunks(data, 100_000)):
        mine = wanted.filter(wanted.is_between(offset, offset + chunk.height - 1))
        if not mine.len():
            continue
        rows = validate(chunk, config, first_row=offset, fields=fields, with_json=False).rows
        sent = rows.filter(pl.col(ROW_NR).is_in(mine.implode())).with_columns(row_key(rows.columns).alias("key"))
        found.rows_checked += sent.height
        found.mismatches = pl.concat([found.mismatches, mismatches(sent, keyed_held.drop("sharing"), fields)])
        found.duplicate_emails += int(sent["key"].is_in(shared.implode()).sum())
    return found


def merge(total: Verification, part: Verification) -> None:
    total.rows_checked += part.rows_checked
    total.missing += part.missing
    total.duplicate_emails += part.duplicate_emails
    total.mismatches = pl.concat([total.mismatches, part.mismatches])


def _offsets(frames: Iterable[pl.DataFrame]) -> Iterable[tuple[int, pl.DataFrame]]:
    offset = 0
    for frame in frames:
        yield offset, frame
        offset += frame.height
