"""The run history: one row per export and read, in the DuckDB table ``runs`` of ``history/runs.duckdb`` in the
state folder, so "how many rows did Pardot refuse this week, and why" is one SQL query (``docs/commands.md``).

Columns: ``job_id``, ``kind`` (export, read), ``object``, ``host``, ``business_unit``, ``config`` (a fingerprint of
the job's parameters, secrets masked before hashing), ``started``, ``ended`` (UTC), ``rows_in``, ``applied``,
``rejected``, ``not_sent``, ``calls``, ``retries``, ``stopped`` (why it stopped early, or the error that ended it),
``verify`` (the verify's summary as JSON), ``reasons`` (a list of ``{stage, message, rows}``: why rows were not
applied). A history that cannot be written (another process holds the file past a few tries, a full disk) is one
warning: the job's own outcome never changes over it.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from pardot_frames.engine.state.duck import attached
from pardot_frames.errors import PardotFramesWarning

TABLE = "runs"
COLUMNS = """job_id VARCHAR, kind VARCHAR, object VARCHAR, host VARCHAR, business_unit VARCHAR, config VARCHAR,
    started TIMESTAMPTZ, ended TIMESTAMPTZ, rows_in BIGINT, applied BIGINT, rejected BIGINT, not_sent BIGINT,
    calls BIGINT, retries BIGINT, stopped VARCHAR, verify JSON,
    reasons STRUCT(stage VARCHAR, message VARCHAR, rows BIGINT)[]"""
NAMES = ("job_id", "kind", "object", "host", "business_unit", "config", "started", "ended", "rows_in", "applied",
         "rejected", "not_sent", "calls", "retries", "stopped", "verify", "reasons")  # fmt: skip
TRIES = 5


def path(folder: Path) -> Path:
    return folder / "history" / "runs.duckdb"  # beside the journals, never mistaken for one


def fingerprint(config: Any) -> str:
    """The job's parameters as a short hash; secrets are masked before hashing (``safe_dict``)."""
    values = config.safe_dict() if hasattr(config, "safe_dict") else {"host": getattr(config, "pardot_domain", "")}
    return hashlib.sha256(orjson.dumps(values, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def reasons(rejected: Any) -> list[dict[str, Any]]:
    """Why rows were not applied, grouped: ``[{stage, message, rows}]`` from a rejected-row frame."""
    frame = pl.DataFrame(rejected) if rejected is not None and not isinstance(rejected, pl.DataFrame) else rejected
    if frame is None or frame.is_empty() or "message" not in frame.columns:
        return []
    grouped = frame.group_by("stage", "message").agg(pl.len().alias("rows")).sort("rows", descending=True)
    return grouped.to_dicts()


def record(folder: Path, row: dict[str, Any]) -> None:
    """Append one run (see the module docstring); a failure to write is one warning, never the job's."""
    import duckdb

    target = path(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    names = NAMES
    values = [row.get(n) for n in names]
    for attempt in range(TRIES):
        try:
            with attached(target) as con:
                con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({COLUMNS})")
                con.execute(f"INSERT INTO {TABLE} VALUES ({', '.join('?' * len(names))})", values)
            return
        except duckdb.Error as exc:  # another process holds the file: a moment later
            if attempt == TRIES - 1:
                warnings.warn(f"the run history in {target} could not be written ({exc})", PardotFramesWarning,
                              stacklevel=3)  # fmt: skip
            time.sleep(0.05 * (attempt + 1))


def history(state_dir: str | Path | None = None, since: datetime | str | None = None) -> pl.DataFrame:
    """The run history as a frame, newest first (``since``: runs started at or after it)."""

    from pardot_frames.engine.state.journal import state_dir as default_state_dir

    target = path(Path(state_dir) if state_dir else default_state_dir())
    if not target.exists():
        return pl.DataFrame()
    with attached(target, read_only=True) as con:
        where, args = ("WHERE started >= ?", [since]) if since is not None else ("", [])
        return con.sql(f"SELECT * FROM {TABLE} {where} ORDER BY started DESC", params=args).pl()
