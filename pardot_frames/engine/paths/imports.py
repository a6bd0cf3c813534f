"""Prospects through the Import API (``method = "import"``): one call per CSV batch of up to 10 MB.

A chunk's rows that a CSV can carry are cut into batches per group (``prepare.imports``); the rest go
through batchUpsert in the same job (``UpsertPath``). Each group has one Open import that takes its
batches across chunks; when it holds ten, or the input ends, it is submitted and waited for in the
background (a growing wait, bounded by ``import_max_wait``) while the next import fills. Rows are
written to the journal with their import's id (``import:<id>``) before their batch goes, so a resumed
job re-attaches to an import instead of sending its rows again.

What can go wrong, and what then (every way rows go again is bounded by ``maximum_retries``):

- an upload whose answer was lost (in doubt): nothing more goes into that import; it is submitted, and
  its counts say whether the batch in doubt arrived (processed rows = the sure batches, or those plus
  it): only a batch that did not arrive goes again, so a lost answer costs one batch, not the import;
- a batch over the size limit (413): the job's batch size halves and the batch goes again, smaller;
  the batches-per-import limit (160): the import is submitted and the batch opens the next one;
- an import that expired or is no longer Open (2, 161): its batches go again in a new import;
- an import that ends ``Failed`` or ``Cancelled``, expires, or cannot be read: its rows are an unknown
  outcome and go again the safe way (by id or fid as they were; rows that would create go by
  ``matchEmail``, so a prospect the first import created is updated, not created twice);
- a CSV Pardot refuses (159, 130, 13, 165): its rows are rejected with Pardot's message;
- the daily batch limit (164) stops the job like error 122 (exit 3, resumable).
"""

from __future__ import annotations

import asyncio
import io
import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import polars as pl

from pardot_frames.engine.paths.base import KnownIds, Phase
from pardot_frames.engine.paths.upsert import UpsertPath
from pardot_frames.pardot import imports
from pardot_frames.pardot.answers import DailyLimitReached, RetriesExhausted
from pardot_frames.prepare.frames import ROW_NR
from pardot_frames.prepare.import_rows import attachments, by_email, match_errors, note
from pardot_frames.prepare.imports import (
    MAX_BATCHES,
    ROUTE_BATCH,
    Batch,
    Cutter,
    batches,
    creates,
    group_of,
    header,
    lines,
    match_kind,
    split,
)
from pardot_frames.prepare.validation import Validated

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.ledger import Ledger
    from pardot_frames.engine.progress import Progress
    from pardot_frames.pardot.client import Client

log = logging.getLogger("pardot_frames")
EXPECTED_POLLS = 3  # reads while an import waits and processes (the dry run's estimate)
OUTCOMES_AT_ONCE = 100_000  # rows whose outcome is written to the journal in one go
HEADER_REFUSALS = frozenset({130, 13, 165})  # refusals of a header: every batch with that header would get them


class DailyBatchLimit(DailyLimitReached):
    """Error 164: the account's import batches for the day are used up."""

    code = imports.DAILY_BATCHES
    reason = "the daily limit of import batches is reached (error 164); resume after the account's day resets"


@dataclass
class Open:
    """An import of one group: its id, the batches it surely holds, and one whose upload is in doubt.

    An uploaded batch's bytes wait on disk (a temporary file per import, gone when the import is settled),
    not in memory: they are read again only to match an errors file or to send the rows again."""

    id: int
    group: str
    header: list[str]
    batches: list[Batch] = field(default_factory=list)  # uploaded; their ``data`` is on disk (``spans``)
    doubt: Batch | None = None
    spill: IO[bytes] | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)

    def keep(self, batch: Batch) -> None:
        """A batch that went into this import: its rows in memory, its bytes on disk."""
        self.spill = self.spill or tempfile.TemporaryFile(prefix="pardot-frames-import-")
        self.spill.seek(0, io.SEEK_END)
        self.spans.append((self.spill.tell(), len(batch.data)))
        self.spill.write(batch.data)
        self.batches.append(replace(batch, data=b""))

    def sure(self) -> list[Batch]:
        """The uploaded batches, their bytes read back."""
        if self.spill is None:
            return list(self.batches)
        out = []
        for batch, (start, size) in zip(self.batches, self.spans, strict=True):
            self.spill.seek(start)
            out.append(replace(batch, data=self.spill.read(size)))
        return out

    def every(self) -> list[Batch]:
        return [*self.sure(), *([self.doubt] if self.doubt else [])]

    def rows(self) -> list[int]:
        return [r for b in [*self.batches, *([self.doubt] if self.doubt else [])] for r in b.rows]

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()
            self.spill = None


class ImportPath:
    """Sends prospects as imports; rows a CSV cannot carry go through the embedded batchUpsert path."""

    def __init__(
        self,
        config: ExportConfig,
        client: Client | None = None,
        ledger: Ledger | None = None,
        ids: KnownIds | None = None,
        *,
        attached: dict[int, str] | None = None,
        unknown: set[int] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.config, self.client, self.ledger = config, client, ledger
        self.batch = UpsertPath(config, client, ledger, ids)
        self.cutter = Cutter(config.import_batch_bytes)
        self.per_import = MAX_BATCHES
        # rows a stopped run handed to imports (their journal notes): row_nr -> (import id, batch number)
        self.attached, self.attached_group, self.expected = attachments(attached or {})
        self.gathered: dict[int, list[pl.DataFrame]] = {}  # import id -> its rows read so far (a resume)
        self.unknown = unknown or set()  # rows a stopped run may have applied
        self.progress = progress
        self.counts: Counter[str] = Counter()
        self.planned: Counter[str] = Counter()  # batches cut so far (figures for the dry run)
        self.open: dict[str, Open] = {}  # group -> the import taking its batches
        self.running: dict[asyncio.Task[None], Open] = {}  # submitted imports, waited for in the background
        self.queue: list[tuple[Batch, bool]] = []  # batches to send again (rows in doubt: True)
        self.tries: Counter[int] = Counter()  # row_nr -> times its rows went again
        self.refused_headers: dict[tuple[str, ...], tuple[int | None, str]] = {}
        self.failure: BaseException | None = None  # a stop raised in a background wait
        self.lock = asyncio.Lock()
        self.upload_seconds = 0.0

    # planning

    def phases(self, checked: Validated) -> list[Phase]:
        kinds = checked.rows.select(match_kind(checked.rows, self.config).alias("k"))["k"]
        by_batch = checked.rows.filter(kinds == ROUTE_BATCH)
        out = []
        if by_batch.height < checked.rows.height:
            out.append(Phase(checked.rows.filter(kinds != ROUTE_BATCH), checked.payloads.clear(), route="import"))
        if by_batch.height:
            payloads = checked.payloads.filter(pl.col(ROW_NR).is_in(by_batch[ROW_NR].implode()))
            out += self.batch.phases(replace(checked, rows=by_batch, payloads=payloads))
        return out

    def calls(self, phase: Phase) -> Sequence[Any]:
        """The import route: the batches these rows fill (an unfilled one waits for the next chunk)."""
        if phase.route != "import":
            return self.batch.calls(phase)
        doubt = pl.col(ROW_NR).is_in(list(self.unknown)) if self.unknown else None
        cut = batches(phase.rows, self.config, self.cutter, final=False, unknown=doubt)
        self._plan(cut)
        return cut

    def rest(self) -> list[Batch]:
        """The batches the input's end completes (planning: the dry run's last step)."""
        cut = self.cutter.flush()
        self._plan(cut)
        return cut

    def _plan(self, cut: list[Batch]) -> None:
        for b in cut:
            if self.planned[f"batches:{b.group}"] % self.per_import == 0:
                self.planned["imports"] += 1
            self.planned[f"batches:{b.group}"] += 1
            self.planned["batches"] += 1
            self.planned["bytes"] += len(b.data)

    def planned_figures(self) -> dict[str, int]:
        """Imports, batches, bytes and API calls of everything planned so far."""
        imports_, batches_ = self.planned["imports"], self.planned["batches"]
        return {"imports": imports_, "batches": batches_, "bytes": self.planned["bytes"],
                "calls": batches_ + imports_ * (2 + EXPECTED_POLLS)}  # fmt: skip

    def count(self, phase: Phase) -> int:
        """batchUpsert calls; the import route's batches are cut and counted in ``planned_figures``."""
        if phase.route != "import":
            return self.batch.count(phase)
        self.calls(phase)
        return 0

    def api_calls(self, calls: Sequence[Any]) -> int:
        """batchUpsert calls, or one upload per batch (the imports' create, submit and polls: ``finish``)."""
        return len(calls)

    def rows(self, call: Any) -> list[int]:
        return [] if isinstance(call, Batch) else self.batch.rows(call)  # a batch's rows are marked with their import

    # sending

    async def resolve(self, phase: Phase) -> Phase:
        """Rows a stopped run handed to an import are taken out and gathered by import; once an import's rows
        are all read, that import is picked up where the stopped run left it (``_pick_up``)."""
        if phase.route != "import":
            return await self.batch.resolve(phase)
        mine = phase.rows.filter(pl.col(ROW_NR).is_in(list(self.attached))) if self.attached else phase.rows.clear()
        if not mine.height:
            return phase
        keys = [self.attached[r] for r in mine[ROW_NR].to_list()]
        mine = mine.with_columns(pl.Series("_import", [k[0] for k in keys]), pl.Series("_batch", [k[1] for k in keys]))
        for import_id in sorted(set(mine["_import"].to_list())):
            part = mine.filter(pl.col("_import") == import_id)
            group = self.attached_group.get(import_id) or part.select(group_of(part, self.config)).to_series()[0]
            lined = lines(part.drop("_import", "_batch"), group, self.config).with_columns(part["_batch"])
            self.gathered.setdefault(import_id, []).append(lined)
            if sum(f.height for f in self.gathered[import_id]) >= self.expected[import_id]:
                await self._pick_up(import_id, group, part.schema)
        return replace(phase, rows=phase.rows.filter(~pl.col(ROW_NR).is_in(mine[ROW_NR].implode())))

    async def _pick_up(self, import_id: int, group: str, schema: Any) -> None:
        """A stopped run's import, rebuilt from its rows (one batch per batch number, the last one in doubt):
        an Open one is submitted (its batches are still there); one that ended or processes is read; the
        counts then say whether the last batch arrived, as for an upload in doubt."""
        frame = pl.concat(self.gathered.pop(import_id)).sort("_batch", ROW_NR)
        head = header(group, {c: t for c, t in schema.items() if not c.startswith("_")}, self.config)
        parts = [frame.filter(pl.col("_batch") == k) for k in sorted(set(frame["_batch"].to_list()))]
        cut = [split(group, head, p[ROW_NR].to_numpy().astype(np.int64), p["line"], 1 << 62)[0] for p in parts]
        item = Open(import_id, group, head, cut[:-1], cut[-1])
        self.counts["reattached"] += 1
        try:
            seen = await imports.read(self._client(), import_id)
            if seen.get("status") == "Open" and not seen.get("isExpired"):
                await imports.submit(self._client(), import_id)
                seen = None
        except (imports.ImportRefused, RetriesExhausted):
            return self._requeue(item, f"import {import_id} of the stopped run cannot be read")
        if seen is not None and seen.get("status") == imports.DONE:
            return await self._complete(item, seen)
        if seen is not None and imports.ended(seen):
            return self._requeue(item, f"import {import_id} of the stopped run ended {seen.get('status')}")
        self._watch(item)

    async def settle(self, calls: Sequence[Any], unknown: set[int]) -> Sequence[Any]:
        if calls and isinstance(calls[0], Batch):
            return calls  # rows in doubt were given their safe group when cut
        return await self.batch.settle(calls, unknown)

    async def send(self, call: Any) -> int:
        if not isinstance(call, Batch):
            self.counts["batch_rows"] += len(self.batch.rows(call))
            return await self.batch.send(call)
        self._raise_failure()
        async with self.lock:
            await self._drain()
            await self._upload(call)
        return 0  # rows count as done when their import has settled them

    async def finish(self, stopping: Callable[[], object] = lambda: None) -> None:
        """The input ended: the unfilled batches go, every import is submitted and waited for (until
        ``stopping()`` says the job stops)."""
        for import_id in list(self.gathered):  # a stopped run's import whose rows were not all read again
            frames = self.gathered[import_id]
            await self._pick_up(import_id, self.attached_group.get(import_id) or "create", frames[0].schema)
        async with self.lock:
            for batch in self.cutter.flush():
                await self._upload(batch)
        while not stopping():
            async with self.lock:
                await self._drain()
                for group in list(self.open):
                    await self._submit(group)
            if not self.running and not self.queue:
                break
            if self.running:
                await asyncio.wait(list(self.running), timeout=0.2, return_when=asyncio.FIRST_COMPLETED)
            self._raise_failure()

    def abandon(self, code: int | None, reason: str) -> None:
        """The job stops: rows of an import still processing, or still Open with batches in it, stay in doubt
        with their import's note, for a resume to read (or submit) that import; rows not uploaded are not
        sent."""
        assert self.ledger is not None
        for task in self.running:
            task.cancel()
        for item in [*self.running.values(), *self.open.values()]:
            item.close()
            state = "still processing" if item.id not in {i.id for i in self.open.values()} else "not yet submitted"
            message = f"outcome unknown: import {item.id} was {state} when the job stopped; resume to settle it"
            for number, batch in enumerate([*item.batches, *([item.doubt] if item.doubt else [])]):  # rows only
                self.ledger.reject(batch.rows, None, message, transient=True, note=note(item.id, number, item.group))
        waiting = self.cutter.waiting() + [r for batch, _ in self.queue for r in batch.rows]
        self.ledger.not_sent([r for r in waiting if not self.ledger.done(r)], code, f"not sent: {reason}")
        self.running, self.open, self.queue = {}, {}, []

    def _client(self) -> Client:
        assert self.client is not None and self.ledger is not None, "a planning-only path cannot send"
        return self.client

    def _raise_failure(self) -> None:
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise failure

    async def _drain(self) -> None:
        """Send again what came back from imports that ended without an outcome (lock held)."""
        while self.queue:
            batch, doubt = self.queue.pop(0)
            await self._again(batch, doubt)

    async def _again(self, batch: Batch, doubt: bool) -> None:
        """A batch's rows go again (bounded by maximum_retries); rows in doubt that would create go by
        matchEmail (lock held)."""
        assert self.ledger is not None
        rows = batch.rows
        self.tries.update(rows)
        over = [r for r in rows if self.tries[r] > self.config.maximum_retries]
        if over:
            reason = f"not applied after {self.config.maximum_retries} retries through imports; resume to try again"
            self.ledger.reject(over, None, reason, transient=True)
        if len(over) == len(rows):
            return
        keep = np.isin(batch.row_nrs, over, invert=True)
        group, head, texts = batch.group, batch.header, pl.Series(batch.lines(), dtype=pl.String).filter(keep)
        if doubt and group.startswith("create"):
            group, head, texts = by_email(group, head, texts)
        for part in split(group, head, batch.row_nrs[keep], texts, self.cutter.limit):
            await self._upload(part)

    async def _upload(self, batch: Batch) -> None:
        """Upload one batch into its group's Open import (lock held); submit the import when it is full."""
        ledger = self.ledger
        assert ledger is not None
        key = tuple(batch.header)
        if key in self.refused_headers:
            code, message = self.refused_headers[key]
            ledger.reject(batch.rows, code, message)
            return
        item = self.open.get(batch.group) or await self._create(batch)
        if item is None:
            return
        number = len(item.batches)
        await ledger.mark(batch.rows, note(item.id, number, batch.group))
        started = time.perf_counter()
        try:
            reply = await imports.add_batch(self._client(), item.id, batch.data, number)
        except imports.UploadInDoubt:
            return await self._in_doubt(item, batch)
        except RetriesExhausted as exc:
            if exc.last.unknown:
                return await self._in_doubt(item, batch)
            message = f"gave up after {self.config.maximum_retries} retries: {exc.last.reason}"
            ledger.reject(batch.rows, exc.last.code, message, transient=True)
            return
        self.upload_seconds += time.perf_counter() - started
        await self._answered(item, batch, reply, number)

    async def _answered(self, item: Open, batch: Batch, reply: Any, number: int) -> None:
        """What an upload's answer means for the batch and its import (lock held)."""
        assert self.ledger is not None
        code = reply.code if reply.code is not None else (reply.status if reply.status >= 300 else None)
        if code is None:
            item.keep(batch)
            self.counts["batches"] += 1
            self.counts["bytes"] += len(batch.data)
            self._status(f"import {item.id}: batch {number + 1} uploaded")
            if len(item.batches) >= self.per_import:
                await self._submit(batch.group)
        elif code == imports.BATCH_TOO_BIG:  # batches cut before an earlier 413 lower the limit no further
            self.cutter.limit = max(min(self.cutter.limit, len(batch.data) // 2), 1_000)
            log.warning("an import batch of %d bytes was refused (413); batches now hold %d bytes at most",
                        len(batch.data), self.cutter.limit)  # fmt: skip
            await self._again(batch, False)
        elif code == imports.TOO_MANY_BATCHES:
            self.per_import = max(len(item.batches), 1)
            await self._submit(batch.group)
            await self._upload(batch)
        elif code == imports.DAILY_BATCHES:
            await self._submit(batch.group)
            self.ledger.not_sent(batch.rows, code, f"not sent: {DailyBatchLimit.reason}")
            raise DailyBatchLimit(DailyBatchLimit.reason)
        elif code == imports.EXPIRED:  # nothing of an expired import was applied: its batches simply go again
            self.open.pop(batch.group, None)
            self.counts["imports_expired"] += 1
            self.queue += [(b, False) for b in item.sure()]
            item.close()
            await self._again(batch, False)
        elif code == imports.NOT_OPEN:  # it takes no batch any more: what it holds is read when it ends
            self.open.pop(batch.group, None)
            self.counts["imports_closed"] += 1
            if item.batches:
                self._watch(item)
            await self._again(batch, False)
        else:
            message = str(imports.ImportRefused(f"batch {number + 1} of import {item.id}", reply))
            self.ledger.reject(batch.rows, code, message)
            if code in HEADER_REFUSALS:
                self.refused_headers[tuple(batch.header)] = (code, message)

    async def _create(self, batch: Batch) -> Open | None:
        """A new Open import for the batch's group (lock held); None when it cannot be had (rows reported)."""
        assert self.ledger is not None
        try:
            import_id = await imports.create(self._client(), batch.header, creates(batch.group))
        except imports.ImportRefused as exc:
            if exc.code == imports.DAILY_BATCHES:
                self.ledger.not_sent(batch.rows, exc.code, f"not sent: {DailyBatchLimit.reason}")
                raise DailyBatchLimit(DailyBatchLimit.reason) from None
            self.ledger.reject(batch.rows, exc.code, str(exc))
            if exc.code in HEADER_REFUSALS or exc.code == 400:
                self.refused_headers[tuple(batch.header)] = (exc.code, str(exc))
            return None
        except RetriesExhausted as exc:
            message = f"gave up after {self.config.maximum_retries} retries: {exc.last.reason}"
            self.ledger.reject(batch.rows, exc.last.code, message, transient=True)
            return None
        self.counts["imports"] += 1
        self.open[batch.group] = item = Open(import_id, batch.group, batch.header)
        return item

    async def _in_doubt(self, item: Open, batch: Batch) -> None:
        """An upload's answer was lost: this import takes nothing more; it goes now, with its batch in doubt."""
        self.counts["uploads_in_doubt"] += 1
        item.doubt = batch
        await self._submit(item.group)

    async def _submit(self, group: str) -> None:
        """Set a group's import Ready and wait for it in the background (lock held)."""
        assert self.ledger is not None
        item = self.open.pop(group)
        if not item.batches and item.doubt is None:
            return  # an empty Open import expires unapplied
        try:
            await imports.submit(self._client(), item.id)
        except imports.ImportRefused as exc:
            if exc.code == 156 and not item.batches:  # only the batch in doubt, and it never arrived
                self.queue.append((item.doubt, False))  # type: ignore[arg-type]
                return
            self._watch(item)
            return
        except RetriesExhausted:
            self._watch(item)  # perhaps submitted: its end state (or expiry) says
            return
        self._watch(item)

    def _watch(self, item: Open) -> None:
        task = asyncio.get_running_loop().create_task(self._settle_import(item))
        self.running[task] = item
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.running.pop(task, None)
        if not task.cancelled() and task.exception() is not None and self.failure is None:
            self.failure = task.exception()

    async def _settle_import(self, item: Open) -> None:
        """Wait for a submitted import's end; its rows then take their outcome or go again."""
        try:
            seen = await self._wait(item.id)
        except (imports.ImportRefused, RetriesExhausted) as exc:
            self.counts["imports_unreadable"] += 1
            return self._requeue(item, f"import {item.id} could not be read ({exc})")
        if seen is None or seen.get("status") != imports.DONE:
            state = "timed out" if seen is None else ("expired" if seen.get("isExpired") else seen.get("status"))
            self.counts[f"imports_{str(state).lower().replace(' ', '_')}"] += 1
            log.warning("import %s ended %s: its %d rows go again", item.id, state, len(item.rows()))
            return self._requeue(item, f"import {item.id} ended {state}")
        self.counts["imports_complete"] += 1
        await self._complete(item, seen)

    def _requeue(self, item: Open, reason: str) -> None:
        """Every row of an import that ended without an outcome goes again, as an unknown outcome."""
        log.info("%s: its rows go again, the safe way", reason)
        for batch in item.every():
            self.queue.append((batch, True))
        item.close()

    async def _complete(self, item: Open, seen: dict[str, Any]) -> None:
        """A Complete import: the sure batches' rows take their outcome; the batch in doubt arrived when the
        counts include it, did not when they match the sure batches alone, and is unknown otherwise."""
        processed = sum(int(seen.get(k) or 0) for k in ("createdCount", "updatedCount", "errorCount"))
        known = sum(len(b.row_nrs) for b in item.batches)
        check, arrived = True, []
        if item.doubt is not None:
            if processed == known + len(item.doubt.row_nrs):
                arrived = [item.doubt]
                self.counts["doubts_arrived"] += 1
            elif processed == known:
                self.counts["doubts_missing"] += 1
                self.queue.append((item.doubt, False))  # nothing of it was applied
            else:
                check = False
                self.queue.append((item.doubt, True))
        sure = [*item.batches, *arrived]
        rows = np.concatenate([b.row_nrs for b in sure]) if sure else np.zeros(0, dtype=np.int64)
        if len(rows):  # each row's line (read back from disk) only when the errors file must be matched

            def found() -> dict[int, str]:
                return {r: line for b in [*item.sure(), *arrived] for r, line in zip(b.rows, b.lines(), strict=True)}

            await self._outcomes(item.id, item.header, rows, found, seen, check_counts=check)
        item.close()

    async def _wait(self, import_id: int, seen: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Read the import until it ends (Complete, Failed, Cancelled, expired): first after
        ``import_poll_seconds``, then 1.5x longer each time, at most ``import_poll_max`` apart; None when it
        has not ended after ``import_max_wait`` seconds."""
        delay, waited = self.config.import_poll_seconds, 0.0
        while seen is None or not imports.ended(seen) and seen.get("status") != "Open":
            if waited >= self.config.import_max_wait:
                return None
            await asyncio.sleep(delay)
            waited += delay
            seen = await imports.read(self._client(), import_id)
            self.counts["polls"] += 1
            self._status(f"import {import_id}: {seen.get('status')}")
            delay = min(delay * 1.5, self.config.import_poll_max)
        return seen

    async def _outcomes(
        self,
        import_id: int,
        head: list[str],
        found: np.ndarray,
        lines: Callable[[], dict[int, str]],
        seen: dict[str, Any],
        check_counts: bool,
    ) -> None:
        """Each row of a Complete import: applied, or rejected with the errors file's message."""
        assert self.ledger is not None
        failed: dict[int, str] = {}
        unmatched = 0
        if int(seen.get("errorCount") or 0):
            failed, unmatched = match_errors(await imports.errors(self._client(), import_id), head, lines())
        counted = sum(int(seen.get(k) or 0) for k in ("createdCount", "updatedCount", "errorCount"))
        if check_counts and counted != len(found):
            self.counts["count_mismatch"] += 1
            log.warning("import %s counts %d rows (created, updated, errors) for %d sent", import_id, counted,
                        len(found))  # fmt: skip
        applied = found[np.isin(found, list(failed), invert=True)] if failed else found
        message = f"import {import_id} reported {unmatched} error(s) that match no row: outcome unknown"
        for start in range(0, len(applied), OUTCOMES_AT_ONCE):  # a million rows' entries are not held at once
            part = applied[start : start + OUTCOMES_AT_ONCE].tolist()
            if unmatched:  # errors we cannot place: those rows' outcome is unknown, never a success
                self.ledger.reject(part, None, message, transient=True)
            else:
                self.ledger.ok(part)
            await self.ledger.commit()
        for row_nr, message in failed.items():
            self.ledger.reject([row_nr], None, message)
        if self.progress is not None:
            self.progress.update(len(found))

    def _status(self, text: str) -> None:
        if self.progress is not None:
            self.progress.status(text)

    def figures(self) -> dict[str, Any]:
        ended = {k.removeprefix("imports_"): v for k, v in self.counts.items() if k.startswith("imports_")}
        return {
            **self.batch.figures(),
            "method": "import",
            "imports": self.counts["imports"],
            "import_batches": self.counts["batches"],
            "import_bytes": self.counts["bytes"],
            "import_polls": self.counts["polls"],
            "import_uploads_in_doubt": self.counts["uploads_in_doubt"],
            "import_ends": ended,
            "imports_reattached": self.counts["reattached"],
            "final_import_batch_bytes": self.cutter.limit,
            "import_upload_seconds": round(self.upload_seconds, 3),
            "rows_by_batch_upsert": self.counts["batch_rows"],
            "imports_with_count_mismatch": self.counts["count_mismatch"],
        }
