"""Where a since-last read starts and what it saw: the newest (time, id) of the last read and whether its second
is settled (``state.reads``), the filter Pardot is asked, the rows kept, and the mark kept for the next read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from pardot_frames.engine.state import reads


class Since:
    """One read's starting point (``mark``: (time, id) or None for everything) and the newest it has seen."""

    def __init__(self, mark: tuple[datetime, int] | None, strict: bool, column: str) -> None:
        self.mark, self.strict, self.column = mark, strict, column
        self.newest: tuple[datetime, int] | None = None

    @classmethod
    def load(cls, connection: Any, kind: str, folder: Path, column: str) -> Since:
        """From the last since-last read of ``kind`` (strict once its newest second is settled)."""
        mark = reads.load(connection, kind, folder)
        strict = mark is not None and reads.strictly_after(mark[0], reads.read_at(connection, kind, folder))
        return cls(mark, strict, column)

    @classmethod
    def given(cls, after: datetime | None, strict: bool, column: str) -> Since:
        """From a caller's own cursor (dlt's): records changed at or (``strict``) after ``after``."""
        return cls((after, 0) if after is not None else None, strict and after is not None, column)

    def filters(self, field: str) -> dict[str, str]:
        """What Pardot is asked: ``<field>After`` (settled) or ``<field>AfterOrEqualTo`` the mark's time."""
        if self.mark is None:
            return {}
        return {f"{field}{'After' if self.strict else 'AfterOrEqualTo'}": iso(self.mark[0])}

    def keep(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows after the mark ((time, id): the id breaks a tie unless strict); notes the newest kept."""
        at = self.column
        if at not in frame.columns or frame.is_empty():
            return frame
        if self.mark is not None:
            after = pl.col(at) > self.mark[0]
            after = after if self.strict else after | ((pl.col(at) == self.mark[0]) & (pl.col("id") > self.mark[1]))
            frame = frame.filter(after)
        timed = frame.filter(pl.col(at).is_not_null())
        if timed.height:
            row = timed.sort([at, "id"]).row(-1, named=True)
            top = (row[at].astimezone(UTC), int(row["id"]))
            self.newest = top if self.newest is None or top > self.newest else self.newest
        return frame

    def save(self, connection: Any, kind: str, folder: Path, began: datetime | None) -> None:
        """The next read's mark: the newest seen, or (nothing new) the same mark from this later read."""
        newest = self.newest or self.mark
        if newest is not None and newest[0] is not None:
            reads.save(connection, kind, folder, newest, began)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
