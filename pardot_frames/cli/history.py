"""``pardot-frames history``: the run history (every export and read: ``engine.state.history``), newest first, as a
table or JSON lines; the table itself is DuckDB (``history/runs.duckdb`` in the state folder, table ``runs``)."""

from __future__ import annotations

import argparse
from typing import Any

from pardot_frames.cli.common import EXIT_OK, UsageError, print_table


def cmd_history(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    import orjson

    from pardot_frames.engine.state.history import history

    try:
        since = datetime.fromisoformat(args.since).astimezone(UTC) if args.since else None
    except ValueError:
        raise UsageError(f"--since {args.since!r}: give an ISO 8601 date or time, e.g. 2026-12-01") from None
    runs = history(args.state_dir, since).head(args.limit)
    if args.json:
        for row in runs.iter_rows(named=True):
            print(orjson.dumps(row, default=str).decode())
        return EXIT_OK
    if runs.is_empty():
        print("no runs recorded yet")
        return EXIT_OK
    columns = ["started", "kind", "object", "rows_in", "applied", "rejected", "not_sent", "calls", "stopped"]
    rows = [[_cell(r[c]) for c in columns] for r in runs.iter_rows(named=True)]
    print_table(columns, rows, right=["rows_in", "applied", "rejected", "not_sent", "calls"])
    return EXIT_OK


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return str(value.strftime("%Y-%m-%d %H:%M:%S"))
    return f"{value:,}" if isinstance(value, int) else str(value)[:60]


def add_history_parser(sub: Any) -> None:
    """The ``history`` command."""
    h = sub.add_parser("history", help="every export and read so far (a DuckDB table for SQL)",
                       description=__doc__)  # fmt: skip
    h.add_argument("--json", action="store_true", help="one JSON object per run")
    h.add_argument("--since", metavar="WHEN", help="runs started at or after this ISO 8601 date or time")
    h.add_argument("--limit", type=int, default=50, metavar="N", help="at most N runs (default 50)")
    h.add_argument("--state-dir", metavar="DIR", help="the state folder whose history to show")
    h.set_defaults(func=cmd_history)
