"""The send-path interface: plan the calls for a chunk of valid rows (pure), then send one call.

A job, for each chunk: ``phases(checked)`` -> for each phase ``await resolve(phase)`` (lookups some
paths need, e.g. upsert_by_email) -> ``calls(phase)`` -> ``await send(call)`` for each call, in a
worker pool. The dry run uses the same ``phases`` and the same plan (``count``) without sending, so both
count the same calls; a phase's ``lookups`` is the most calls its ``resolve`` may spend.

Planning is pure: figures are computed from what ``calls`` returns, never stored by it. The one state a
plan carries is the import path's cutter, which holds a group's unfilled batch until the next chunk
fills it (a stream's plan cannot be cut chunk by chunk otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Protocol, TypeVar, overload

import polars as pl

from pardot_frames.prepare.validation import Validated


@dataclass(frozen=True)
class Phase:
    """Valid rows that go out together (row_nr + columns), their payloads, and the lookups they need."""

    rows: pl.DataFrame
    payloads: pl.DataFrame
    lookups: int = 0
    route: str = "batch"  # which way the phase goes, for paths with several (the import path)


T = TypeVar("T")


class Planned(Sequence[list[T]]):
    """A phase's calls: the plan (how many items each call takes, in order) is made at once, and a call's
    items are built when the job takes it to send, so a chunk's first call goes out without waiting for
    the rest to be built, and no burst of building holds the calls in flight. ``rows(k)`` gives the input
    rows of call ``k`` without building it (the write-ahead needs only those)."""

    def __init__(
        self, counts: Sequence[int], build: Callable[[int, int], list[T]], rows: Callable[[int, int], list[int]]
    ) -> None:
        self._ends = list(accumulate(counts))  # call k takes items [ends[k-1], ends[k]) of the phase
        self._build, self._rows = build, rows  # (start, end) -> the call's items / their input rows

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> list[T]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[T]]: ...

    def __getitem__(self, index: int | slice) -> list[T] | list[list[T]]:
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self)))]
        return self._build(*self._span(index))

    def rows(self, index: int) -> list[int]:
        """The input rows of call ``index``."""
        return self._rows(*self._span(index))

    def _span(self, index: int) -> tuple[int, int]:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return (self._ends[index - 1] if index else 0), self._ends[index]


class SendPath(Protocol):
    """One way of sending rows to Pardot."""

    def phases(self, checked: Validated) -> list[Phase]:
        """The chunk's valid rows in the order they must go out (pure)."""
        ...

    def calls(self, phase: Phase) -> Sequence[Any]:
        """One item per API call the phase needs, ready to send (pure)."""
        ...

    def count(self, phase: Phase) -> int:
        """``len(calls(phase))`` from the same plan, without building the calls (the dry run's count)."""
        ...

    async def resolve(self, phase: Phase) -> Phase:
        """Lookups a phase needs before its calls can be planned (the identity for most paths)."""
        ...

    async def settle(self, calls: Sequence[Any], unknown: set[int]) -> Sequence[Any]:
        """Make rows whose earlier send may have applied (``unknown``, from a stopped run) safe to resend."""
        ...

    def rows(self, call: Any) -> list[int]:
        """The input row numbers a call carries."""
        ...

    async def send(self, call: Any) -> int:
        """Send one planned call; every row's outcome goes into the ledger. Returns the call's row count."""
        ...

    def figures(self) -> dict[str, Any]:
        """What the path learnt while sending (for ``ExportResult.extra``)."""
        ...

    async def finish(self, stopping: Callable[[], object]) -> None:
        """After the last chunk: send what waited for more rows, and wait for what is still processing."""
        ...

    def abandon(self, code: int | None, reason: str) -> None:
        """The job stops: report the rows the path still holds (not sent, or in doubt with a note)."""
        ...


def planned_calls(path: SendPath, checked: Validated) -> tuple[int, int]:
    """(calls, lookups at most) for a chunk, as a job would plan them."""
    calls = lookups = 0
    for phase in path.phases(checked):
        calls += path.count(phase)
        lookups += phase.lookups
    return calls, lookups
