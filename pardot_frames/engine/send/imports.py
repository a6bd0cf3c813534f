"""Prospects through the Import API (``method = "import"``): one call per CSV batch of up to 10 MB.
Uploads are ``import_uploads``'s, waiting for an import's end ``import_waits``'s; this path plans,
picks up a stopped run's imports, and orders the steps.

A chunk's rows that a CSV can carry are cut into batches per group (``prepare.csv_batches``); the rest go
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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from pardot_frames._control import ImportRefused
from pardot_frames.engine.send.base import Phase
from pardot_frames.engine.send.import_uploads import Uploads
from pardot_frames.engine.send.import_waits import Open, Waits
from pardot_frames.engine.send.upsert import UpsertPath
from pardot_frames.engine.state.sync import KnownIds
from pardot_frames.errors import RetriesExhausted
from pardot_frames.pardot import imports
from pardot_frames.prepare.csv_batches import ROUTE_BATCH, Batch, batches, group_of, header, lines, match_kind, split
from pardot_frames.prepare.frames import ROW_NR
from pardot_frames.prepare.import_rows import attachments
from pardot_frames.prepare.validation import Validated

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.host.progress import Progress
    from pardot_frames.engine.send.ledger import Ledger
    from pardot_frames.pardot.client import Client


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
        self.counts: Counter[str] = Counter()
        self.waits = Waits(config, client, ledger, self.counts, self._requeue, progress)
        self.uploads = Uploads(config, client, ledger, self.counts, self.waits)
        # rows a stopped run handed to imports (their journal notes): row_nr -> (import id, batch number)
        self.attached, self.attached_group, self.expected = attachments(attached or {})
        self.gathered: dict[int, list[pl.DataFrame]] = {}  # import id -> its rows read so far (a resume)
        self.unknown = unknown or set()  # rows a stopped run may have applied
        self.lock = asyncio.Lock()

    def _requeue(self, batch: Batch, doubt: bool) -> None:
        self.uploads.requeue(batch, doubt)

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
        """The import route: the batches these rows fill (an unfilled one waits in the cutter for the next
        chunk; ``rest`` cuts it at the input's end)."""
        if phase.route != "import":
            return self.batch.calls(phase)
        doubt = pl.col(ROW_NR).is_in(list(self.unknown)) if self.unknown else None
        return batches(phase.rows, self.config, self.uploads.cutter, final=False, unknown=doubt)

    def rest(self) -> list[Batch]:
        """The batches the input's end completes."""
        return self.uploads.cutter.flush()

    def count(self, phase: Phase) -> int:
        """batchUpsert calls, or the import route's uploads (the imports' create, submit and polls are
        counted from the plan by ``prepare.csv_batches.import_calls``)."""
        return self.batch.count(phase) if phase.route != "import" else len(self.calls(phase))

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
        seen: dict[str, Any] | None
        try:
            seen = await imports.read(self._client(), import_id)
            if seen.get("status") == "Open" and not seen.get("isExpired"):
                await imports.submit(self._client(), import_id)
                seen = None
        except (ImportRefused, RetriesExhausted):
            return self.waits.again(item, f"import {import_id} of the stopped run cannot be read")
        if seen is not None and seen.get("status") == imports.DONE:
            return await self.waits.complete(item, seen)
        if seen is not None and imports.ended(seen):
            return self.waits.again(item, f"import {import_id} of the stopped run ended {seen.get('status')}")
        self.waits.watch(item)

    async def settle(self, calls: Sequence[Any], unknown: set[int]) -> Sequence[Any]:
        if calls and isinstance(calls[0], Batch):
            return calls  # rows in doubt were given their safe group when cut
        return await self.batch.settle(calls, unknown)

    async def send(self, call: Any) -> int:
        if not isinstance(call, Batch):
            self.counts["batch_rows"] += len(self.batch.rows(call))
            return await self.batch.send(call)
        self.waits.raise_failure()
        async with self.lock:
            await self.uploads.drain()
            await self.uploads.upload(call)
        return 0  # rows count as done when their import has settled them

    async def finish(self, stopping: Callable[[], object] = lambda: None) -> None:
        """The input ended: the unfilled batches go, every import is submitted and waited for (until
        ``stopping()`` says the job stops)."""
        for import_id in list(self.gathered):  # a stopped run's import whose rows were not all read again
            frames = self.gathered[import_id]
            await self._pick_up(import_id, self.attached_group.get(import_id) or "create", frames[0].schema)
        async with self.lock:
            for batch in self.rest():
                await self.uploads.upload(batch)
        while not stopping():
            async with self.lock:
                await self.uploads.drain()
                await self.uploads.submit_all()
            if not self.waits.running and not self.uploads.queue:
                break
            if self.waits.running:
                await asyncio.wait(list(self.waits.running), timeout=0.2, return_when=asyncio.FIRST_COMPLETED)
            self.waits.raise_failure()

    def abandon(self, code: int | None, reason: str) -> None:
        """The job stops: imports still processing or Open keep their rows in doubt (see ``Uploads.abandon``)."""
        self.uploads.abandon(code, reason, self.waits.cancel())

    def _client(self) -> Client:
        assert self.client is not None and self.ledger is not None, "a planning-only path cannot send"
        return self.client

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
            "final_import_batch_bytes": self.uploads.cutter.limit,
            "import_upload_seconds": round(self.uploads.upload_seconds, 3),
            "rows_by_batch_upsert": self.counts["batch_rows"],
            "imports_with_count_mismatch": self.counts["count_mismatch"],
        }
