"""The job journal: one DuckDB file per export, so a stopped job can resume without resending.

A job file holds the job (identity, safe config, input fingerprint, status) and an append-only log
of row states: ``in_flight`` (written before a call goes out), then ``succeeded``, ``rejected`` or
``not_sent``. A row's state is its latest entry. On resume, rows that succeeded or were rejected
for good are not sent again; rows last seen in flight have an unknown outcome (the engine looks
email-only ones up first). Nothing secret is written: the config is stored with secrets masked,
and rows are referred to by number.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.state.duck import attached
from pardot_frames.errors import ConfigError
from pardot_frames.prepare.frames import to_polars

TUNING = frozenset(
    {
        "parallel_tasks",
        "maximum_retries",
        "initial_retry_wait",
        "maximum_retry_wait",
        "maximum_connection_timeout",
        "skip_invalid_records",
        "payload_location",
        "list_membership_method",
        "max_api_calls",
        "check_fields",
    }
)
FINAL = ("succeeded", "rejected")
JOURNAL_MEMORY = "64MB"  # the journal's DuckDB buffer pool: its log is written once and read on a resume


def state_dir() -> Path:
    """Where job journals live: $PARDOT_FRAMES_STATE, else the user's data folder on this OS (platformdirs:
    ``$XDG_DATA_HOME/pardot-frames`` or ``~/.local/share/pardot-frames`` on Linux)."""
    if os.environ.get("PARDOT_FRAMES_STATE"):
        return Path(os.environ["PARDOT_FRAMES_STATE"])
    from platformdirs import user_data_path

    return user_data_path("pardot-frames", appauthor=False) / "jobs"


def job_key(config: ExportConfig) -> str:
    """What makes two runs the same job: the config without secrets and without tuning knobs."""
    safe = {k: v for k, v in config.safe_dict().items() if k not in TUNING}
    if safe.get("output_mapping"):  # each run stamps its own export time
        safe["output_mapping"] = {k: v for k, v in safe["output_mapping"].items() if k != "timestamp"}
    safe.pop("client_secret", None)
    safe.pop("refresh_token", None)
    safe.pop("auth", None)  # where the credentials come from does not change the job
    return hashlib.sha256(orjson.dumps(safe, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


@dataclass(frozen=True)
class JobInfo:
    """A journal's header: what ``pardot-frames jobs`` lists."""

    job_id: str
    path: Path
    job_key: str
    fingerprint: str
    data_object: str
    status: str
    created: str
    updated: str
    rows_in: int
    summary: dict[str, Any]


class Journal:
    """Writes one job's journal; ``Journal.open_new`` or ``Journal.resume``."""

    def __init__(self, path: Path, job_id: str) -> None:
        import duckdb  # imported when a journal or state is opened: a dry run needs none
        import pyarrow.compute  # noqa: F401 - DuckDB reads the entries through it

        self.path, self.job_id = path, job_id
        # small writes: no worker threads to wake; a small buffer pool, so a long job's log stays on disk, not in RAM
        self._con = duckdb.connect(str(path), config={"threads": 1, "memory_limit": JOURNAL_MEMORY})
        seq, run = self._con.execute("SELECT coalesce(max(seq), 0), coalesce(max(run), 0) FROM log").fetchall()[0]
        self._seq, self.run = int(seq), int(run) + 1

    @staticmethod
    def _create(path: Path) -> None:
        with attached(path) as con:
            Journal._tables(con)

    @staticmethod
    def _tables(con: Any) -> None:
        con.execute(
            "CREATE TABLE job (job_id VARCHAR, job_key VARCHAR, fingerprint VARCHAR, data_object VARCHAR, "
            "config VARCHAR, status VARCHAR, created VARCHAR, updated VARCHAR, rows_in BIGINT, summary VARCHAR)"
        )
        con.execute(
            "CREATE TABLE log (seq BIGINT, run INTEGER, row_nr BIGINT, state VARCHAR, code INTEGER, "
            "message VARCHAR, transient BOOLEAN, note VARCHAR)"
        )

    @classmethod
    def open_new(cls, config: ExportConfig, fingerprint: str, rows_in: int, folder: Path | None = None) -> Journal:
        folder = folder or state_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        job_id = f"{stamp}-{hashlib.sha256(f'{time.time_ns()}{os.getpid()}'.encode()).hexdigest()[:8]}"
        path = folder / f"{job_id}.duckdb"
        cls._create(path)
        os.chmod(path, 0o600)
        journal = cls(path, job_id)
        now = _now()
        journal._con.execute(
            "INSERT INTO job VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, '{}')",
            [
                job_id,
                job_key(config),
                fingerprint,
                config.data_object,
                orjson.dumps(config.safe_dict()).decode(),
                now,
                now,
                rows_in,
            ],
        )
        return journal

    @classmethod
    def resume(cls, config: ExportConfig, fingerprint: str, job: str | bool, folder: Path | None = None) -> Journal:
        """Reopen the stopped job (``True``: the newest unfinished one of this job); refuse a different one."""
        info = Journal.check_resumable(config, fingerprint, job, folder)
        if info is None:
            raise ConfigError([f"resume: no unfinished job with this configuration in {folder or state_dir()}"])
        return cls(info.path, info.job_id)

    @staticmethod
    def check_resumable(
        config: ExportConfig, fingerprint: str, job: str | bool, folder: Path | None = None
    ) -> JobInfo | None:
        """The journal a resume would continue; None when ``job`` is True and no unfinished job has this
        configuration (nothing of it was ever sent: a journal is written before the first call, so the job
        starts); a ConfigError saying why for a named job that is not there or a journal that does not match."""
        key = job_key(config)
        jobs = list_jobs(folder)
        if isinstance(job, str):
            chosen = [j for j in jobs if j.job_id == job]
            if not chosen:
                raise ConfigError([f"resume: no job {job!r} in {folder or state_dir()}"])
        else:
            chosen = [j for j in jobs if j.job_key == key and j.status != "finished"]
            if not chosen:
                return None
        info = chosen[-1]
        if info.job_key != key:
            raise ConfigError(
                [
                    f"resume: job {info.job_id} was run with a different configuration "
                    "(data_object, lists, operations, hosts or business unit differ); start a new job"
                ]
            )
        if info.fingerprint != fingerprint:
            raise ConfigError(
                [
                    f"resume: the input differs from job {info.job_id}'s ({info.rows_in:,} rows then); "
                    "resume with the same input, or start a new job without --resume"
                ]
            )
        if info.status == "finished":
            raise ConfigError([f"resume: job {info.job_id} already finished"])
        return info

    def states(self) -> pl.DataFrame:
        """Each row's latest state: row_nr, state, code, message, transient, note."""
        query = (
            "SELECT row_nr, state, code, message, transient, note FROM log "
            "QUALIFY row_number() OVER (PARTITION BY row_nr ORDER BY seq DESC) = 1 ORDER BY row_nr"
        )
        return to_polars(self._con.sql(query))

    def write(self, entries: list[tuple[int, str, int | None, str | None, bool, str | None]]) -> None:
        """Append row states: (row_nr, state, code, message, transient, note)."""
        if not entries:
            return
        start = self._seq + 1
        self._seq += len(entries)
        frame = pl.DataFrame(
            {
                "seq": range(start, start + len(entries)),
                "run": [self.run] * len(entries),
                "row_nr": [e[0] for e in entries],
                "state": [e[1] for e in entries],
                "code": [e[2] for e in entries],
                "message": [e[3] for e in entries],
                "transient": [e[4] for e in entries],
                "note": [e[5] for e in entries],
            },
            schema={
                "seq": pl.Int64,
                "run": pl.Int32,
                "row_nr": pl.Int64,
                "state": pl.String,
                "code": pl.Int32,
                "message": pl.String,
                "transient": pl.Boolean,
                "note": pl.String,
            },
        )
        self._con.register("_entries", frame.to_arrow())
        self._con.execute("INSERT INTO log SELECT * FROM _entries")
        self._con.unregister("_entries")

    def finish(self, status: str, summary: dict[str, Any]) -> None:
        self._con.execute(
            "UPDATE job SET status = ?, updated = ?, summary = ?", [status, _now(), orjson.dumps(summary).decode()]
        )

    def close(self) -> None:
        self._con.close()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def list_jobs(folder: Path | None = None) -> list[JobInfo]:
    """Every journal in the state folder, oldest first."""
    import duckdb

    folder = folder or state_dir()
    out = []
    for path in sorted(folder.glob("*.duckdb")) if folder.exists() else []:
        try:
            con = duckdb.connect(str(path), read_only=True)
            rows = con.execute("SELECT * FROM job").fetchall()
            con.close()
        except duckdb.Error:
            continue  # a journal in use by a running job, or not a journal
        if rows:
            row = rows[0]
            out.append(
                JobInfo(
                    row[0], path, row[1], row[2], row[3], row[5], row[6], row[7], row[8], orjson.loads(row[9] or "{}")
                )
            )
    return out


def prune(days: float, folder: Path | None = None, *, include_unfinished: bool = False) -> list[JobInfo]:
    """Delete finished journals older than ``days`` (unfinished too if asked); returns what was removed."""
    cutoff = datetime.now(UTC).timestamp() - days * 86400
    removed = []
    for info in list_jobs(folder):
        if (info.status == "finished" or include_unfinished) and info.path.stat().st_mtime < cutoff:
            info.path.unlink(missing_ok=True)
            Path(f"{info.path}.wal").unlink(missing_ok=True)
            removed.append(info)
    return removed
