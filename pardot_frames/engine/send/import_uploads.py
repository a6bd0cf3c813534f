"""Batches into imports: each group has one Open import that takes its batches; at ``per_import`` batches
(or error 160) it is submitted and handed to ``Waits``. What an upload's answer means:

- lost (in doubt): nothing more goes into that import; it is submitted, and its counts say whether the
  batch in doubt arrived, so a lost answer costs one batch, not the import;
- 413: the batch size halves and the batch goes again, smaller; 160: submit, then the next import;
- 2 (expired) or 161 (not Open): its batches go again in a new import;
- a CSV refused (159, 130, 13, 165): its rows are rejected with Pardot's message;
- 164, the daily batch limit: the job stops like error 122 (resumable).

Every way rows go again (``again``) is bounded by ``maximum_retries``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from pardot_frames._control import DailyBatchLimit, ImportRefused, UploadInDoubt
from pardot_frames.engine.send.import_waits import Open, Waits
from pardot_frames.errors import RetriesExhausted
from pardot_frames.pardot import imports
from pardot_frames.prepare.csv_batches import MAX_BATCHES, Batch, Cutter, creates, split
from pardot_frames.prepare.import_rows import by_email, note

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.send.ledger import Ledger
    from pardot_frames.pardot.client import Client

log = logging.getLogger("pardot_frames")
HEADER_REFUSALS = frozenset({130, 13, 165})  # refusals of a header: every batch with that header would get them


class Uploads:
    """The Open import of each group and the batches waiting to go again; callers hold the path's lock."""

    def __init__(
        self, config: ExportConfig, client: Client | None, ledger: Ledger | None, counts: Counter[str], waits: Waits
    ) -> None:
        self.config, self.client, self.ledger, self.counts, self.waits = config, client, ledger, counts, waits
        self.cutter = Cutter(config.import_batch_bytes)
        self.per_import = MAX_BATCHES
        self.open: dict[str, Open] = {}  # group -> the import taking its batches
        self.queue: list[tuple[Batch, bool]] = []  # batches to send again (rows in doubt: True)
        self.tries: Counter[int] = Counter()  # row_nr -> times its rows went again
        self.refused_headers: dict[tuple[str, ...], tuple[int | None, str]] = {}
        self.upload_seconds = 0.0

    def requeue(self, batch: Batch, doubt: bool) -> None:
        self.queue.append((batch, doubt))

    def _ledger(self) -> Ledger:
        assert self.client is not None and self.ledger is not None, "a planning-only path cannot send"
        return self.ledger

    def _client(self) -> Client:
        assert self.client is not None and self.ledger is not None, "a planning-only path cannot send"
        return self.client

    async def drain(self) -> None:
        """Send again what came back from imports that ended without an outcome."""
        while self.queue:
            batch, doubt = self.queue.pop(0)
            await self.again(batch, doubt)

    async def submit_all(self) -> None:
        for group in list(self.open):
            await self.submit(group)

    async def again(self, batch: Batch, doubt: bool) -> None:
        """A batch's rows go again (bounded by maximum_retries); rows in doubt that would create go by
        matchEmail."""
        rows = batch.rows
        self.tries.update(rows)
        over = [r for r in rows if self.tries[r] > self.config.maximum_retries]
        if over:
            reason = f"not applied after {self.config.maximum_retries} retries through imports; resume to try again"
            self._ledger().reject(over, None, reason, transient=True)
        if len(over) == len(rows):
            return
        keep = np.isin(batch.row_nrs, over, invert=True)
        group, head, texts = batch.group, batch.header, pl.Series(batch.lines(), dtype=pl.String).filter(keep)
        if doubt and group.startswith("create"):
            group, head, texts = by_email(group, head, texts)
        for part in split(group, head, batch.row_nrs[keep], texts, self.cutter.limit):
            await self.upload(part)

    async def upload(self, batch: Batch) -> None:
        """Upload one batch into its group's Open import; submit the import when it is full."""
        ledger = self._ledger()
        if (refused := self.refused_headers.get(tuple(batch.header))) is not None:
            return ledger.reject(batch.rows, *refused)
        item = self.open.get(batch.group) or await self._create(batch)
        if item is None:
            return
        number = len(item.batches)
        await ledger.mark(batch.rows, note(item.id, number, batch.group))
        started = time.perf_counter()
        try:
            reply = await imports.add_batch(self._client(), item.id, batch.data, number)
        except UploadInDoubt:
            return await self._in_doubt(item, batch)
        except RetriesExhausted as exc:
            if exc.unknown:
                return await self._in_doubt(item, batch)
            return ledger.reject(batch.rows, exc.code, str(exc), transient=True)
        self.upload_seconds += time.perf_counter() - started
        await self._answered(item, batch, reply, number)

    async def _answered(self, item: Open, batch: Batch, reply: Any, number: int) -> None:
        """What an upload's answer means for the batch and its import."""
        code = reply.code if reply.code is not None else (reply.status if reply.status >= 300 else None)
        if code is None:
            return await self._kept(item, batch, number)
        if imports.too_big(reply):  # batches cut before an earlier 413 lower the limit no further
            self.cutter.limit = max(min(self.cutter.limit, len(batch.data) // 2), 1_000)
            log.warning("an import batch of %d bytes was refused (413); batches now hold %d bytes at most",
                        len(batch.data), self.cutter.limit)  # fmt: skip
            return await self.again(batch, False)
        if code == imports.TOO_MANY_BATCHES:
            self.per_import = max(len(item.batches), 1)
            await self.submit(batch.group)
            return await self.upload(batch)
        if code == imports.DAILY_BATCHES:
            await self.submit(batch.group)
            self._ledger().not_sent(batch.rows, code, f"not sent: {DailyBatchLimit.reason}")
            raise DailyBatchLimit(DailyBatchLimit.reason)
        if code in (imports.EXPIRED, imports.NOT_OPEN):
            return await self._closed(item, batch, code)
        message = str(imports.refusal(f"batch {number + 1} of import {item.id}", reply))
        self._ledger().reject(batch.rows, code, message)
        if code in HEADER_REFUSALS:
            self.refused_headers[tuple(batch.header)] = (code, message)

    async def _kept(self, item: Open, batch: Batch, number: int) -> None:
        item.keep(batch)
        self.counts["batches"] += 1
        self.counts["bytes"] += len(batch.data)
        self.waits.status(f"import {item.id}: batch {number + 1} uploaded")
        if len(item.batches) >= self.per_import:
            await self.submit(batch.group)

    async def _closed(self, item: Open, batch: Batch, code: int) -> None:
        """An import that takes no batch any more: expired (nothing of it was applied: its batches simply go
        again), or no longer Open (what it holds is read when it ends)."""
        self.open.pop(batch.group, None)
        if code == imports.EXPIRED:
            self.counts["imports_expired"] += 1
            self.queue += [(b, False) for b in item.sure()]
            item.close()
        else:
            self.counts["imports_closed"] += 1
            if item.batches:
                self.waits.watch(item)
        await self.again(batch, False)

    async def _create(self, batch: Batch) -> Open | None:
        """A new Open import for the batch's group; None when it cannot be had (rows reported)."""
        ledger = self._ledger()
        try:
            import_id = await imports.create(self._client(), batch.header, creates(batch.group),
                                             self.config.restore_deleted)  # fmt: skip
        except ImportRefused as exc:
            if exc.code == imports.DAILY_BATCHES:
                ledger.not_sent(batch.rows, exc.code, f"not sent: {DailyBatchLimit.reason}")
                raise DailyBatchLimit(DailyBatchLimit.reason) from None
            ledger.reject(batch.rows, exc.code, str(exc))
            if exc.code in HEADER_REFUSALS or exc.code == 400:
                self.refused_headers[tuple(batch.header)] = (exc.code, str(exc))
            return None
        except RetriesExhausted as exc:
            ledger.reject(batch.rows, exc.code, str(exc), transient=True)
            return None
        self.counts["imports"] += 1
        self.open[batch.group] = item = Open(import_id, batch.group, batch.header)
        return item

    async def _in_doubt(self, item: Open, batch: Batch) -> None:
        """An upload's answer was lost: this import takes nothing more; it goes now, with its batch in doubt."""
        self.counts["uploads_in_doubt"] += 1
        item.doubt = batch
        await self.submit(item.group)

    async def submit(self, group: str) -> None:
        """Set a group's import Ready and wait for it in the background."""
        item = self.open.pop(group)
        if not item.batches and item.doubt is None:
            return  # an empty Open import expires unapplied
        try:
            await imports.submit(self._client(), item.id)
        except ImportRefused as exc:
            if exc.code == 156 and not item.batches and item.doubt is not None:  # only the batch in doubt: lost
                return self.requeue(item.doubt, False)
        except RetriesExhausted:
            pass  # perhaps submitted: its end state (or expiry) says
        self.waits.watch(item)

    def abandon(self, code: int | None, reason: str, processing: list[Open]) -> None:
        """The job stops: rows of an import still processing, or still Open with batches in it, stay in doubt
        with their import's note, for a resume to read (or submit) that import; rows not uploaded are not
        sent."""
        ledger = self._ledger()
        for item in [*processing, *self.open.values()]:
            item.close()
            state = "not yet submitted" if item.id in {i.id for i in self.open.values()} else "still processing"
            message = f"outcome unknown: import {item.id} was {state} when the job stopped; resume to settle it"
            for number, batch in enumerate(item.held()):
                ledger.reject(batch.rows, None, message, transient=True, note=note(item.id, number, item.group))
        waiting = self.cutter.waiting() + [r for batch, _ in self.queue for r in batch.rows]
        ledger.not_sent([r for r in waiting if not ledger.done(r)], code, f"not sent: {reason}")
        self.open, self.queue = {}, []
