"""Imports after their submit: waited for in the background until they end, then their rows settled.

A ``Complete`` import gives its rows their outcome (the errors file says which were refused; the counts
decide a batch whose upload was in doubt). Any other end (``Failed``, ``Cancelled``, expired, unreadable,
or past ``import_max_wait``) leaves the rows an unknown outcome: they go again the safe way
(``requeue``, the uploads' queue).
"""

from __future__ import annotations

import asyncio
import io
import logging
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from pardot_frames._control import ImportRefused
from pardot_frames.errors import RetriesExhausted
from pardot_frames.pardot import imports
from pardot_frames.prepare.csv_batches import Batch
from pardot_frames.prepare.import_rows import match_errors

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.host.progress import Progress
    from pardot_frames.engine.send.ledger import Ledger
    from pardot_frames.pardot.client import Client

log = logging.getLogger("pardot_frames")
OUTCOMES_AT_ONCE = 100_000  # rows whose outcome is written to the journal in one go


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

    def held(self) -> list[Batch]:
        """Every batch of the import, rows only (no bytes read back)."""
        return [*self.batches, *([self.doubt] if self.doubt else [])]

    def rows(self) -> list[int]:
        return [r for b in self.held() for r in b.rows]

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()
            self.spill = None


def _end_word(seen: dict[str, Any] | None) -> str:
    """How an import ended without counts, in one word the counts use (the status as read, in brackets)."""
    if seen is None:
        return "timed out"
    status = seen.get("status")
    if seen.get("isExpired"):
        return "expired"
    if status in imports.ENDED and status != "Failed":
        return f"cancelled ({status})"
    return "failed" if status == "Failed" else f"unknown ({status!r}, read {imports.UNKNOWN_POLLS} times)"


class Waits:
    """Submitted imports, each waited for by a background task; ``requeue(batch, in_doubt)`` sends rows again."""

    def __init__(
        self,
        config: ExportConfig,
        client: Client | None,
        ledger: Ledger | None,
        counts: Counter[str],
        requeue: Callable[[Batch, bool], None],
        progress: Progress | None = None,
    ) -> None:
        self.config, self.client, self.ledger, self.counts = config, client, ledger, counts
        self.requeue, self.progress = requeue, progress
        self.running: dict[asyncio.Task[None], Open] = {}
        self.failure: BaseException | None = None  # a stop raised in a background wait

    def watch(self, item: Open) -> None:
        """Wait for a submitted import in the background."""
        task = asyncio.get_running_loop().create_task(self._settle_import(item))
        self.running[task] = item
        task.add_done_callback(self._done)

    def raise_failure(self) -> None:
        """A stop that a background wait met (the daily limit, a fatal error) is the job's."""
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise failure

    def cancel(self) -> list[Open]:
        """The job stops: waits end; the imports they waited for."""
        for task in self.running:
            task.cancel()
        items, self.running = list(self.running.values()), {}
        return items

    def _done(self, task: asyncio.Task[None]) -> None:
        self.running.pop(task, None)
        if not task.cancelled() and task.exception() is not None and self.failure is None:
            self.failure = task.exception()

    def _client(self) -> Client:
        assert self.client is not None and self.ledger is not None, "a planning-only path cannot send"
        return self.client

    async def _settle_import(self, item: Open) -> None:
        """Wait for a submitted import's end; its rows then take their outcome or go again."""
        try:
            seen = await self._wait(item.id)
        except (ImportRefused, RetriesExhausted) as exc:
            self.counts["imports_unreadable"] += 1
            return self.again(item, f"import {item.id} could not be read ({exc})")
        if seen is None or seen.get("status") != imports.DONE:
            state = _end_word(seen)
            self.counts[f"imports_{state.split(' (')[0].replace(' ', '_')}"] += 1
            log.warning("import %s ended %s: its %d rows go again", item.id, state, len(item.rows()))
            return self.again(item, f"import {item.id} ended {state}")
        self.counts["imports_complete"] += 1
        await self.complete(item, seen)

    def again(self, item: Open, reason: str) -> None:
        """Every row of an import that ended without an outcome goes again, as an unknown outcome."""
        log.info("%s: its rows go again, the safe way", reason)
        for batch in item.every():
            self.requeue(batch, True)
        item.close()

    async def complete(self, item: Open, seen: dict[str, Any]) -> None:
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
                self.requeue(item.doubt, False)  # nothing of it was applied
            else:
                check = False
                self.requeue(item.doubt, True)
        sure = [*item.batches, *arrived]
        rows = np.concatenate([b.row_nrs for b in sure]) if sure else np.zeros(0, dtype=np.int64)
        if len(rows):  # each row's line (read back from disk) only when the errors file must be matched

            def found() -> dict[int, str]:
                return {r: line for b in [*item.sure(), *arrived] for r, line in zip(b.rows, b.lines(), strict=True)}

            await self._outcomes(item, rows, found, seen, check_counts=check)
        item.close()

    async def _wait(self, import_id: int, seen: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Read the import until it ends (Complete, Failed, cancelled, expired): first after
        ``import_poll_seconds``, then 1.5x longer each time, at most ``import_poll_max`` apart; None when it
        has not ended after ``import_max_wait`` seconds. A status this client does not know, read
        ``imports.UNKNOWN_POLLS`` times in a row, ends the wait too (its rows go again)."""
        delay, waited, strange = self.config.import_poll_seconds, 0.0, 0
        while seen is None or not imports.ended(seen) and seen.get("status") != "Open":
            if strange >= imports.UNKNOWN_POLLS:
                return seen
            if waited >= self.config.import_max_wait:
                return None
            await asyncio.sleep(delay)
            waited += delay
            seen = await imports.read(self._client(), import_id)
            strange = strange + 1 if seen.get("status") not in imports.KNOWN else 0
            self.counts["polls"] += 1
            self.status(f"import {import_id}: {seen.get('status')}")
            delay = min(delay * 1.5, self.config.import_poll_max)
        return seen

    async def _outcomes(
        self,
        item: Open,
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
            failed, unmatched = match_errors(await imports.errors(self._client(), item.id), item.header, lines())
        counted = sum(int(seen.get(k) or 0) for k in ("createdCount", "updatedCount", "errorCount"))
        if check_counts and counted != len(found):
            self.counts["count_mismatch"] += 1
            log.warning("import %s counts %d rows (created, updated, errors) for %d sent", item.id, counted, len(found))
        applied = found[np.isin(found, list(failed), invert=True)] if failed else found
        message = f"import {item.id} reported {unmatched} error(s) that match no row: outcome unknown"
        for start in range(0, len(applied), OUTCOMES_AT_ONCE):  # a million rows' entries are not held at once
            part = applied[start : start + OUTCOMES_AT_ONCE].tolist()
            if unmatched:  # errors we cannot place: those rows' outcome is unknown, never a success
                self.ledger.reject(part, None, message, transient=True)
            else:
                self.ledger.ok(part)
            await self.ledger.commit()
        for row_nr, text in failed.items():
            self.ledger.reject([row_nr], None, text)
        if self.progress is not None:
            self.progress.update(len(found))

    def status(self, text: str) -> None:
        if self.progress is not None:
            self.progress.status(text)
