"""One export while it runs: its send path over the chunks, the worker pool, and the stop rule."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from typing import Any

import polars as pl

from pardot_frames._control import ResumableStop
from pardot_frames.config.job import ExportConfig
from pardot_frames.engine import send as paths
from pardot_frames.engine.host.progress import Progress
from pardot_frames.engine.send.ledger import Ledger, rejected_frame
from pardot_frames.engine.send.pool import run_calls
from pardot_frames.engine.stop import Stop, StopFlag, stop_for
from pardot_frames.errors import PardotError
from pardot_frames.pardot.client import Client
from pardot_frames.prepare.frames import ROW_NR, detached
from pardot_frames.prepare.validation import Validated

WINDOW_PER_WORKER = 4  # calls marked in flight ahead, per call in flight


class Job:
    """Sends chunk after chunk through the job's send path; the path learns across chunks."""

    def __init__(
        self,
        config: ExportConfig,
        client: Client,
        ledger: Ledger,
        progress: Progress,
        unknown: set[int],
        flag: StopFlag,
        ids: paths.KnownIds | None = None,
        attached: dict[int, str] | None = None,
    ) -> None:
        self.config, self.client, self.ledger, self.progress = config, client, ledger, progress
        self.unknown = unknown  # rows a stopped run left in flight
        importing = config.data_object == "prospects" and config.method == "import"
        resume = {"attached": attached or {}, "unknown": unknown, "progress": progress} if importing else {}
        self.path = paths.for_job(config, client, ledger, ids, **resume)
        self.extra: dict[str, Any] = {}  # figures of steps after the rows (the mirror)
        self.flag = flag
        self.planned_calls = 0

    def should_stop(self) -> Stop | None:
        """The job's own stop rule, asked after every call."""
        if self.flag.set:
            return Stop.interrupted()
        if not self.config.skip_invalid_records and self.ledger.first_refusal is not None:
            # only a refusal of this run stops it: a resume goes on past rows refused before (still reported)
            return Stop.row_refused(*self.ledger.first_refusal)
        return None

    async def send(self, checked: Validated) -> Stop | None:
        """Send a chunk's outstanding rows, phase by phase; the stop, or None."""
        if self.flag.set:
            return Stop.interrupted()
        for phase in self.path.phases(outstanding(checked, self.ledger)):
            try:  # lookups go out here, outside the pool: their stops are the job's too
                lookups = phase.lookups  # at most: the resolved phase knows what it spent
                phase = await self.path.resolve(phase)
                calls = self.path.calls(phase)
                self.planned_calls += len(calls) + lookups
                calls = await self.path.settle(calls, self.unknown)
            except (ResumableStop, PardotError) as exc:
                return stop_for(exc)
            ahead = WINDOW_PER_WORKER * self.config.parallel_tasks
            window = Window(self.path, self.ledger, calls, ahead, self.progress)
            try:
                stop = await run_calls(
                    enumerate(calls),
                    window.send,
                    self.config.parallel_tasks,
                    self.should_stop,
                    self.client.first_exchange,
                )
            finally:
                await window.settle()
            if stop is not None:
                return stop
        return None

    async def finish(self) -> Stop | None:
        """After the last chunk: what the path still holds goes and is waited for; the stop, or None."""
        try:
            await self.path.finish(lambda: self.flag.set)
        except (ResumableStop, PardotError) as exc:
            return stop_for(exc)
        return self.should_stop()

    def abandon(self, stop: Stop) -> None:
        """The job stopped: the path reports the rows it still holds."""
        self.path.abandon(stop.code, f"the job stopped ({stop.reason})")

    def figures(self) -> dict[str, Any]:
        return {**self.path.figures(), **self.extra}


class Window:
    """Writes the rows of upcoming calls in flight ``size`` calls at a time: one journal write serves
    many calls, and the next window is written while the calls of this one go out, so no call waits for
    a write (the write-ahead still covers every call before it goes out)."""

    def __init__(
        self, path: paths.SendPath, ledger: Ledger, calls: Sequence[Any], size: int, progress: Progress | None = None
    ) -> None:
        self.path, self.ledger, self.calls, self.size = path, ledger, calls, max(size, 1)
        self.progress = progress
        self.marked_to = 0  # calls[:marked_to] are durably written in flight
        self.ahead: asyncio.Task[int] | None = None  # the write of the next window, under way
        self._lock = asyncio.Lock()

    async def reach(self, index: int) -> None:
        """Return once call ``index`` is written in flight (the write covering it may be another worker's)."""
        async with self._lock:
            while index >= self.marked_to:
                self.marked_to = await (self.ahead or self._write(self.marked_to))
                self.ahead = None
            if self.ahead is None and self.marked_to < len(self.calls) and index >= self.marked_to - self.size // 2:
                self.ahead = asyncio.ensure_future(self._write(self.marked_to))

    async def settle(self) -> None:
        """The pool is done: a write of the next window still under way finishes before anything follows."""
        if self.ahead is not None:
            await self.ahead
            self.ahead = None

    async def _write(self, start: int) -> int:
        """Write calls[start : start + size] in flight; the end it reached."""
        end = min(start + self.size, len(self.calls))
        await self.ledger.mark([r for k in range(start, end) for r in self._rows(k)])
        return end

    def _rows(self, index: int) -> list[int]:
        """The input rows of call ``index`` (a planned call's without building it)."""
        calls = self.calls
        return calls.rows(index) if isinstance(calls, paths.Planned) else self.path.rows(calls[index])

    async def send(self, item: tuple[int, Any]) -> None:
        """The pool's handler: call ``index`` goes out after its write-ahead."""
        index, call = item
        await self.reach(index)
        done = await self.path.send(call)
        if self.progress is not None:
            self.progress.update(done)


def outstanding(checked: Validated, ledger: Ledger) -> Validated:
    """The rows of a chunk that a resumed job still has to send."""
    if not (ledger.succeeded or ledger.unapplied):
        return checked
    done = [r for r in checked.rows[ROW_NR].to_list() if ledger.done(r)]
    if not done:
        return checked
    keep = ~pl.col(ROW_NR).is_in(done)
    return replace(checked, rows=checked.rows.filter(keep), payloads=checked.payloads.filter(keep))


@dataclass
class Totals:
    """What the chunks of one job add up to."""

    rows_in: int = 0
    valid: int = 0
    rejected_validation: int = 0
    unchanged: int = 0
    may_create: int = 0  # rows sent by email alone with upsert_by_email off
    rejected: list[pl.DataFrame] = dataclass_field(default_factory=list)
    reported: set[int] = dataclass_field(default_factory=set)  # rows whose outcome is in ``rejected``
    stopped: bool = False  # the send path was told the job stopped
    stop_logged: bool = False  # the stop event went to the log (--log-json)

    def add(self, chunk: pl.DataFrame, checked: Validated, ledger: Ledger, first_row: int) -> None:
        self.rows_in += checked.rows_in
        self.valid += checked.rows.height
        self.rejected_validation += checked.rejected_rows
        end = first_row + chunk.height
        mine = Ledger(unapplied={r: v for r, v in ledger.unapplied.items() if first_row <= r < end})
        self.reported |= set(mine.unapplied)
        self.rejected.append(detached(rejected_frame(chunk, mine, checked.problems, first_row)))

    def add_late(self, chunks: Iterable[pl.DataFrame], ledger: Ledger, empty: pl.DataFrame) -> None:
        """Rows refused after their chunk was counted (an import settles after later chunks are read): their
        input columns are read again from ``chunks`` (the input, re-read), only when there are such rows."""
        late = {r: v for r, v in ledger.unapplied.items() if r not in self.reported}
        offset = 0
        for chunk in chunks if late else ():
            mine = Ledger(unapplied={r: v for r, v in late.items() if offset <= r < offset + chunk.height})
            if mine.unapplied:
                self.rejected.append(detached(rejected_frame(chunk, mine, empty, offset)))
                self.reported |= set(mine.unapplied)
            offset += chunk.height
        unread = {r: v for r, v in late.items() if r not in self.reported}  # an input that cannot be read again
        if unread:
            self.rejected.append(rejected_frame(pl.DataFrame(), Ledger(unapplied=unread), empty))
            self.reported |= set(unread)
