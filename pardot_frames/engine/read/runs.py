"""The run history's row for a read (prospects, lists, members, any object) or a standalone verify: one row per
call, whatever its outcome (``engine.state.history``). ``Tally`` is what the row counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from pardot_frames.engine.state import history
from pardot_frames.errors import PardotFramesError

T = TypeVar("T")


@dataclass
class Tally:
    """What a read or verify did, for its history row: rows, calls, retries, the verify's summary."""

    rows: int = 0
    calls: int = 0
    retries: int = 0
    verify: dict[str, Any] | None = field(default=None)
    began: datetime | None = None  # when it began, by Pardot's clock (the Date of its first answer)


def recorded(kind: str, what: str, connection: Any, folder: Path, tally: Any, work: Callable[[], T]) -> T:
    """``work()``, and its row of the run history (``kind`` read or verify, ``what`` the object)."""
    began = datetime.now(UTC)
    try:
        out = work()
    except PardotFramesError as exc:
        _row(kind, what, connection, folder, began, tally, exc)
        raise
    _row(kind, what, connection, folder, began, tally, None)
    return out


def _row(kind: str, what: str, connection: Any, folder: Path, began: datetime, tally: Any,
         error: BaseException | None) -> None:  # fmt: skip
    verify = getattr(tally, "verify", None)
    history.record(folder, {
        "kind": kind, "object": what, "host": connection.pardot_domain, "business_unit": connection.business_unit,
        "config": history.fingerprint(connection), "started": began, "ended": datetime.now(UTC),
        "rows_in": tally.rows, "applied": tally.rows if kind == "read" else 0, "rejected": 0, "not_sent": 0,
        "calls": tally.calls, "retries": tally.retries, "reasons": [],
        "verify": orjson.dumps(verify).decode() if verify is not None else None,
        "stopped": str(error).splitlines()[0] if error is not None else None,
    })  # fmt: skip
