"""The ledger: what happened to every row, as the send paths learn it, mirrored into the journal.

Rows are written ``in_flight`` before their call goes out (``await sending(...)``: durable when it
returns, so a crash leaves them as an unknown outcome, never as unsent). The job marks a window of
upcoming calls at once (``mark``), so one write serves many calls: a crash then leaves a few unsent
rows "in flight" too, which a resume settles safely (ids resent, email-only rows looked up first).
Outcomes are buffered and ride along with the next write (or the final ``flush``): an outcome lost in a
crash only leaves a row in flight. Writes run in a worker thread and are grouped with concurrent ones.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from pardot_frames.prepare.rejected import from_outcomes, from_problems, with_inputs

Entry = tuple[int, str, int | None, str | None, bool, str | None]  # row_nr, state, code, message, transient, note


class Applied:
    """Rows Pardot applied, as a bitmap over row numbers plus the few rows' notes: a dict of 10M rows takes
    about 800 MB, this about 10 MB. Reads like a dict of row_nr -> note."""

    def __init__(self) -> None:
        self._bits = np.zeros(1024, dtype=np.bool_)
        self._count = 0
        self._notes: dict[int, str] = {}

    def __setitem__(self, row_nr: int, note: str | None) -> None:
        self.add([row_nr], note)

    def add(self, row_nrs: list[int], note: str | None = None) -> None:
        """Rows applied, all at once (a call's rows: one numpy step, not one per row)."""
        if not row_nrs:
            return
        at = np.asarray(row_nrs, dtype=np.int64)
        top = int(at.max())
        if top >= len(self._bits):
            grown = np.zeros(max(top + 1, 2 * len(self._bits)), dtype=np.bool_)
            grown[: len(self._bits)] = self._bits
            self._bits = grown
        new = at[~self._bits[at]]
        if len(new):
            self._bits[new] = True
            self._count += len(np.unique(new)) if len(new) > 1 else 1
        if note:
            self._notes.update(dict.fromkeys(row_nrs, note))

    def __contains__(self, row_nr: object) -> bool:
        return bool(isinstance(row_nr, (int, np.integer)) and 0 <= row_nr < len(self._bits) and self._bits[row_nr])

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def get(self, row_nr: int, default: str | None = None) -> str | None:
        return self._notes.get(row_nr, default)

    def notes(self) -> list[str]:
        """The notes of applied rows that have one ("already a member", ...)."""
        return list(self._notes.values())

    def rows(self) -> list[int]:
        return np.flatnonzero(self._bits).tolist()


@dataclass
class Ledger:
    """Per-row outcomes (row_nr keyed); ``journal`` (a Journal, or None) receives every entry."""

    succeeded: Applied = field(default_factory=Applied)  # row_nr -> note ("already a member"...)
    # row_nr -> (stage, code, message): rows refused (stage "pardot") or not sent (stage "not_sent")
    unapplied: dict[int, tuple[str, int | None, str]] = field(default_factory=dict)
    transient: set[int] = field(default_factory=set)  # rejected for a passing reason: worth resending
    journal: Any = None
    _pending: list[Entry] = field(default_factory=list)
    _added: int = 0
    _written: int = 0
    _lock: asyncio.Lock | None = None
    _marked: set[int] = field(default_factory=set)  # rows written in flight, outcome not yet recorded
    attached: dict[int, str] = field(default_factory=dict)  # row_nr -> its note, from a stopped run's journal
    first_refusal: tuple[int, str] | None = None  # (row_nr, message): the first row Pardot refused in this run

    def ok(self, row_nrs: list[int], note: str | None = None) -> None:
        self.succeeded.add(row_nrs, note)
        if self.unapplied:  # rows refused before (a resend that went through now)
            for r in row_nrs:
                self.unapplied.pop(r, None)
        self.transient.difference_update(row_nrs)
        self._marked.difference_update(row_nrs)
        self._add([(r, "succeeded", None, None, False, note) for r in row_nrs])

    def reject(
        self,
        row_nrs: list[int],
        code: int | None,
        message: str,
        stage: str = "pardot",
        *,
        transient: bool = False,
        note: str | None = None,
    ) -> None:
        """Rows refused (or, ``transient``, not settled: a resume sends them again); ``note`` says where they
        went for a resume (``import:<id>``)."""
        state = "rejected" if stage == "pardot" else stage
        entries: list[Entry] = []
        for r in row_nrs:
            self._marked.discard(r)
            if r not in self.succeeded:
                self.unapplied[r] = (stage, code, message)
                if stage == "pardot" and self.first_refusal is None:
                    self.first_refusal = (r, message)
                if transient:
                    self.transient.add(r)
                else:
                    self.transient.discard(r)
                entries.append((r, state, code, message, transient, note))
        self._add(entries)

    def not_sent(self, row_nrs: list[int], code: int | None, message: str) -> None:
        self.reject(row_nrs, code, message, stage="not_sent")

    async def sending(self, row_nrs: list[int]) -> None:
        """Before a call: its rows are in flight in the journal when this returns (a no-op when ``mark``
        already wrote them)."""
        await self.mark([r for r in row_nrs if r not in self._marked])

    async def mark(self, row_nrs: list[int], note: str | None = None) -> None:
        """Write rows in flight (with every outcome pending), grouped with concurrent writes; ``note`` says
        where they went (e.g. ``import:<id>``) for a resume."""
        if self.journal is None or not row_nrs:
            return
        if note is None:  # rows sent with a note (an import's) never pass through ``sending``: not remembered
            self._marked.update(row_nrs)
        self._add([(r, "in_flight", None, None, False, note) for r in row_nrs])
        await self.commit()

    async def commit(self) -> None:
        """Write what is pending, grouped with other callers' entries, in a worker thread."""
        if self.journal is None:
            return
        target = self._added
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if self._written >= target or not self._pending:
                return
            batch, self._pending = self._pending, []
            await asyncio.to_thread(self.journal.write, batch)
            self._written += len(batch)

    def flush(self) -> None:
        """Write what is pending now (end of a job, or before reading the journal)."""
        if self.journal is not None and self._pending:
            batch, self._pending = self._pending, []
            self.journal.write(batch)
            self._written += len(batch)
        self._pending.clear()

    def done(self, row_nr: int) -> bool:
        return row_nr in self.succeeded or row_nr in self.unapplied

    def _add(self, entries: list[Entry]) -> None:
        if self.journal is not None and entries:
            self._pending += entries
            self._added += len(entries)


def rejected_frame(frame: pl.DataFrame, ledger: Ledger, problems: pl.DataFrame, first_row: int = 0) -> pl.DataFrame:
    """One row per rejected or unsent input row of a chunk, in the one rejected-row column set."""
    outcomes = [(r, stage, code, message) for r, (stage, code, message) in sorted(ledger.unapplied.items())]
    parts = [from_problems(problems), from_outcomes(outcomes)]
    return with_inputs(pl.concat(parts), frame, first_row)
