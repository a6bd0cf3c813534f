"""Prospects through the Import API (``method = "import"``): one call per CSV batch instead of one per 50 rows.

A chunk's rows that a CSV can carry become imports (``prepare.imports.units``: grouped by match kind,
batches of at most ``import_batch_bytes``, ten a batch); the rest (a ``""`` that clears a field, a field
of several values) go through batchUpsert in the same job (``UpsertPath``). Per import: create, upload
each batch, submit, poll with a growing wait, then read the counts and the errors file and map each
error back to its input row by the row's cells. Rows are written to the journal with their import's id
before the first upload, so a resumed job re-attaches to an import that was submitted instead of
sending its rows again.

An import is never submitted when one of its uploads went wrong: an Open import expires unapplied, so
its rows can safely go again in a new one (an upload whose answer was lost; a batch over the size limit,
413, which also halves the job's batch size; the batches-per-import limit, 160). A refused CSV (159,
130, 13) rejects the import's rows with Pardot's message; the daily batch limit (164) stops the job like
error 122 (exit 3, resumable).
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import polars as pl

from pardot_frames.engine.paths.base import KnownIds, Phase
from pardot_frames.engine.paths.upsert import UpsertPath
from pardot_frames.pardot import imports
from pardot_frames.pardot.answers import DailyLimitReached, RetriesExhausted
from pardot_frames.prepare.frames import ROW_NR
from pardot_frames.prepare.imports import MAX_BATCHES, ROUTE_BATCH, Unit, match_kind, units
from pardot_frames.prepare.validation import Validated

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.ledger import Ledger
    from pardot_frames.engine.progress import Progress
    from pardot_frames.pardot.client import Client

log = logging.getLogger("pardot_frames")
EXPECTED_POLLS = 3  # reads while an import waits and processes (the dry run's estimate)
ATTACHED = "import:"  # the journal note of rows handed to an import: "import:<id>"


class DailyBatchLimit(DailyLimitReached):
    """Error 164: the account's import batches for the day are used up."""

    code = imports.DAILY_BATCHES
    reason = "the daily limit of import batches is reached (error 164); resume after the account's day resets"


class ImportPath:
    """Sends prospects as imports; rows a CSV cannot carry go through the embedded batchUpsert path."""

    def __init__(
        self,
        config: ExportConfig,
        client: Client | None = None,
        ledger: Ledger | None = None,
        ids: KnownIds | None = None,
    ) -> None:
        self.config, self.client, self.ledger = config, client, ledger
        self.batch = UpsertPath(config, client, ledger, ids)
        self.limit, self.per_import = config.import_batch_bytes, MAX_BATCHES
        self.counts: Counter[str] = Counter()
        self.planned: Counter[str] = Counter()  # what calls() planned: imports, batches, bytes, calls
        self.attached: dict[int, int] = {}  # row_nr -> import id, from a stopped run's journal
        self.progress: Progress | None = None
        self.upload_seconds = 0.0

    # planning (pure)

    def phases(self, checked: Validated) -> list[Phase]:
        kinds = checked.rows.select(match_kind(checked.rows, self.config).alias("k"))["k"]
        by_batch = checked.rows.filter(kinds == ROUTE_BATCH)[ROW_NR]
        keep = ~pl.col(ROW_NR).is_in(by_batch.implode())
        out = []
        if by_batch.len() < checked.rows.height:
            out.append(Phase(checked.rows.filter(keep), checked.payloads.filter(keep), route="import"))
        if by_batch.len():
            rest = ~keep
            out += self.batch.phases(
                replace(checked, rows=checked.rows.filter(rest), payloads=checked.payloads.filter(rest))
            )
        return out

    def calls(self, phase: Phase) -> Sequence[Any]:
        if phase.route != "import":
            return self.batch.calls(phase)
        planned = units(phase.rows, self.config, self.limit, self.per_import)
        self.planned.update(imports=len(planned), batches=sum(len(u.batches) for u in planned),
                            bytes=sum(u.bytes for u in planned), calls=self.api_calls(planned))  # fmt: skip
        return planned

    def count(self, phase: Phase) -> int:
        return self.api_calls(self.calls(phase)) if phase.route == "import" else self.batch.count(phase)

    def api_calls(self, calls: Sequence[Any]) -> int:
        """The calls these items take: batchUpsert calls, or per import create + batches + submit + polls."""
        return sum(3 + EXPECTED_POLLS + len(c.batches) if isinstance(c, Unit) else 1 for c in calls)

    def rows(self, call: Any) -> list[int]:
        return call.row_nrs if isinstance(call, Unit) else self.batch.rows(call)

    # sending

    async def resolve(self, phase: Phase) -> Phase:
        return phase if phase.route == "import" else await self.batch.resolve(phase)

    async def settle(self, calls: Sequence[Any], unknown: set[int]) -> Sequence[Any]:
        """Rows a stopped run handed to an import: wait for that import and take its outcome, unless it was
        never submitted (then it expires unapplied and the rows go again)."""
        if not calls or not isinstance(calls[0], Unit):
            return await self.batch.settle(calls, unknown)
        by_import: dict[int, set[int]] = {}
        for row_nr in unknown:
            if row_nr in self.attached:
                by_import.setdefault(self.attached[row_nr], set()).add(row_nr)
        settled: set[int] = set()
        for import_id, row_nrs in sorted(by_import.items()):
            if await self._reattach(import_id, row_nrs, calls):
                settled |= row_nrs
                self.counts["reattached"] += 1
        if not settled:
            return calls
        return [part for unit in calls if set(unit.row_nrs) - settled for part in self._without(unit, settled)]

    async def _reattach(self, import_id: int, row_nrs: set[int], calls: Sequence[Unit]) -> bool:
        assert self.client is not None
        try:
            seen = await imports.read(self.client, import_id)
        except imports.ImportRefused:
            return False  # unknown to Pardot (or expired): nothing of it was applied
        if seen.get("status") in ("Open", None) or seen.get("isExpired") and seen.get("status") != imports.DONE:
            return False
        lines = {r: line for unit in calls for r, line in zip(unit.row_nrs, unit.lines, strict=True) if r in row_nrs}
        header = next((unit.header for unit in calls if set(unit.row_nrs) & row_nrs), [])
        await self._outcomes(import_id, header, lines, await self._wait(import_id, seen))
        return True

    def _without(self, unit: Unit, rows: set[int]) -> list[Unit]:
        kept = [(r, line) for r, line in zip(unit.row_nrs, unit.lines, strict=True) if r not in rows]
        return Unit.from_lines(unit.match, unit.header, kept, self.limit, self.per_import)

    async def send(self, call: Any) -> int:
        if not isinstance(call, Unit):
            self.counts["batch_rows"] += len(self.batch.rows(call))
            return await self.batch.send(call)
        await self._import(call)
        return len(call.row_nrs)

    async def _import(self, unit: Unit) -> None:
        assert self.client is not None and self.ledger is not None
        rows = unit.row_nrs
        try:
            import_id = await imports.create(self.client, unit.header, unit.creates)
            self.counts["imports"] += 1
            await self.ledger.mark(rows, f"{ATTACHED}{import_id}")
            redo = await self._upload(import_id, unit)
            if redo is not None:
                for again in redo:
                    await self._import(again)
                return
            await imports.submit(self.client, import_id)
            seen = await self._wait(import_id)
        except imports.ImportRefused as exc:
            if exc.code == imports.DAILY_BATCHES:
                self._daily_limit(rows)
            self.ledger.reject(rows, exc.code, str(exc))
            return
        except RetriesExhausted as exc:
            message = f"gave up after {self.config.maximum_retries} retries: {exc.last.reason}"
            self.ledger.reject(rows, exc.last.code, message, transient=True)
            return
        await self._outcomes(import_id, unit.header, dict(zip(rows, unit.lines, strict=True)), seen)

    async def _upload(self, import_id: int, unit: Unit) -> list[Unit] | None:
        """Upload every batch; None when all went in, else the units to send instead (this import is left
        Open, to expire unapplied). Raises ImportRefused for a CSV Pardot refuses, DailyBatchLimit for 164."""
        assert self.client is not None and self.ledger is not None
        for number, batch in enumerate(unit.batches):
            started = time.perf_counter()
            try:
                reply = await imports.add_batch(self.client, import_id, batch.data, number)
                self.upload_seconds += time.perf_counter() - started
            except imports.UploadInDoubt:
                self.counts["abandoned"] += 1
                return [unit]
            if reply.status == imports.BATCH_TOO_BIG or reply.code == imports.BATCH_TOO_BIG:
                self.limit = max(self.limit // 2, 1_000)
                log.warning("an import batch of %d bytes was refused (413); batches now hold %d bytes at most",
                            len(batch.data), self.limit)  # fmt: skip
            elif reply.code == imports.TOO_MANY_BATCHES:
                self.per_import = max(number, 1)
            elif reply.code == imports.DAILY_BATCHES:
                self._daily_limit(unit.row_nrs)
            elif reply.code is not None or reply.status >= 300:
                raise imports.ImportRefused(f"batch {number + 1} of the import", reply)
            else:
                self.counts["batches"] += 1
                self.counts["bytes"] += len(batch.data)
                self._status(f"import {import_id}: batch {number + 1}/{len(unit.batches)} uploaded")
                continue
            self.counts["abandoned"] += 1
            return Unit.from_lines(unit.match, unit.header, list(zip(unit.row_nrs, unit.lines, strict=True)),
                                   self.limit, self.per_import)  # fmt: skip
        return None

    def _status(self, text: str) -> None:
        if self.progress is not None:
            self.progress.status(text)

    def _daily_limit(self, rows: list[int]) -> None:
        assert self.ledger is not None
        self.ledger.not_sent(rows, imports.DAILY_BATCHES, f"not sent: {DailyBatchLimit.reason}")
        raise DailyBatchLimit(DailyBatchLimit.reason)

    async def _wait(self, import_id: int, seen: dict[str, Any] | None = None) -> dict[str, Any]:
        """Read the import until it is Complete: first after ``import_poll_seconds``, then 1.5x longer each
        time, at most ``import_poll_max`` apart."""
        assert self.client is not None
        delay = self.config.import_poll_seconds
        while seen is None or seen.get("status") != imports.DONE:
            await asyncio.sleep(delay)
            seen = await imports.read(self.client, import_id)
            self.counts["polls"] += 1
            self._status(f"import {import_id}: {seen.get('status')}")
            delay = min(delay * 1.5, self.config.import_poll_max)
        return seen

    async def _outcomes(self, import_id: int, header: list[str], lines: dict[int, str], seen: dict[str, Any]) -> None:
        """Each row of a Complete import: applied, or rejected with the errors file's message."""
        assert self.client is not None and self.ledger is not None
        failed: dict[int, str] = {}
        unmatched = 0
        if int(seen.get("errorCount") or 0):
            failed, unmatched = match_errors(await imports.errors(self.client, import_id), header, lines)
        counted = sum(int(seen.get(k) or 0) for k in ("createdCount", "updatedCount", "errorCount"))
        if counted != len(lines):
            self.counts["count_mismatch"] += 1
            log.warning(
                "import %s counts %d rows (created, updated, errors) for %d sent", import_id, counted, len(lines)
            )
        if unmatched:  # errors we cannot place: those rows' outcome is unknown, never a success
            message = f"import {import_id} reported {unmatched} error(s) that match no row: outcome unknown"
            self.ledger.reject([r for r in lines if r not in failed], None, message, transient=True)
        else:
            self.ledger.ok([r for r in lines if r not in failed])
        for row_nr, message in failed.items():
            self.ledger.reject([row_nr], None, message)

    def figures(self) -> dict[str, Any]:
        return {
            **self.batch.figures(),
            "method": "import",
            "imports": self.counts["imports"],
            "import_batches": self.counts["batches"],
            "import_bytes": self.counts["bytes"],
            "import_polls": self.counts["polls"],
            "imports_abandoned": self.counts["abandoned"],
            "imports_reattached": self.counts["reattached"],
            "final_import_batch_bytes": self.limit,
            "import_upload_seconds": round(self.upload_seconds, 3),
            "rows_by_batch_upsert": self.counts["batch_rows"],
            "imports_with_count_mismatch": self.counts["count_mismatch"],
        }


def match_errors(text: str, header: list[str], lines: dict[int, str]) -> tuple[dict[int, str], int]:
    """({row_nr: message}, errors matching no row): each error record is matched to a row by its cells in
    the import's own columns; the message is the errors file's other column(s) (by name, not position)."""
    records = list(csv.DictReader(io.StringIO(text)))
    if not records:
        return {}, 0
    extra = [c for c in records[0] if c not in header]
    extra.sort(key=lambda c: "error" not in c.lower())
    rows: dict[tuple[str, ...], list[int]] = {}
    for row_nr, line in lines.items():
        cells = next(csv.reader(io.StringIO(line)))
        rows.setdefault(tuple(cells), []).append(row_nr)
    failed, unmatched = {}, 0
    for record in records:
        key = tuple(record.get(h) or "" for h in header)
        candidates = rows.get(key)
        if not candidates:
            unmatched += 1
            continue
        message = "; ".join(str(record[c]) for c in extra if record.get(c)) or "refused by the import (no message)"
        failed[candidates.pop(0)] = message
    return failed, unmatched
