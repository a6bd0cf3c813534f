"""Running an export on a cron schedule, with a history of runs in DuckDB.

A run still going when the next time is due is not started twice: the missed times are recorded
as skipped. After ``max_config_failures`` consecutive failures that another try cannot fix (login,
configuration, input schema), the schedule disables itself and says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from pardot_frames.engine.results import ExportResult
from pardot_frames.engine.state.journal import state_dir
from pardot_frames.errors import AuthError, ConfigError, InputError, Interrupted, PardotFramesError
from pardot_frames.schedule.cron import Schedule

CONFIG_FAILURES = (AuthError, ConfigError, InputError)
# an outcome heard: (event, started, ended, result, error, detail)
Tell = Callable[[str, datetime, datetime, "ExportResult | None", "BaseException | None", "str | None"], None]


def history_path() -> Path:
    """The default history file: beside the journals folder."""
    return state_dir().parent / "schedule.duckdb"


class History:
    """Past scheduled runs: due time, start, end, outcome, counts."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(str(path))
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS runs (schedule VARCHAR, due VARCHAR, started VARCHAR, ended VARCHAR, "
            "outcome VARCHAR, rows_in BIGINT, succeeded BIGINT, rejected BIGINT, not_sent BIGINT, api_calls BIGINT, "
            "message VARCHAR, job_id VARCHAR)"
        )

    def add(
        self,
        schedule: str,
        due: datetime,
        outcome: str,
        *,
        started: datetime | None = None,
        ended: datetime | None = None,
        result: ExportResult | None = None,
        message: str | None = None,
    ) -> None:
        r = result
        self._con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                schedule,
                due.isoformat(),
                started and started.isoformat(),
                ended and ended.isoformat(),
                outcome,
                r and r.rows_in,
                r and r.succeeded,
                r and (r.rejected_validation + r.rejected_pardot),
                r and r.not_sent,
                r and r.api_calls,
                message,
                r and r.job_id,
            ],
        )

    def rows(self, limit: int = 50) -> list[tuple]:
        return self._con.execute(f"SELECT * FROM runs ORDER BY due DESC, started DESC LIMIT {int(limit)}").fetchall()

    def close(self) -> None:
        self._con.close()


@dataclass
class Clock:
    """Time for the runner; tests give a fake one."""

    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] = time.sleep


def run_schedule(
    schedule: Schedule,
    job: Callable[[], ExportResult],
    history: History,
    *,
    delay: float = 0.0,
    max_config_failures: int = 3,
    max_runs: int | None = None,
    clock: Clock | None = None,
    say: Callable[[str], None] = print,
    tell: Tell | None = None,
) -> int:
    """Run ``job`` at each scheduled time (plus ``delay`` seconds) until stopped; returns runs made. ``tell``
    hears each run's outcome (success, rejected, failure) and the schedule's end (disabled): notifications."""
    clock = clock or Clock()
    if schedule.translated is None:
        say(f"schedule {schedule.expression!r} has no scheduled run; nothing to do")
        return 0
    runs = failures = 0
    cursor = clock.now()
    while max_runs is None or runs < max_runs:
        due = next(schedule.iter_runs(cursor))
        _wait_until(due + timedelta(seconds=delay), due, clock, say)
        started = clock.now()
        try:
            outcome, result, message, error = _attempt(job)
        except Interrupted as exc:  # Ctrl-C or SIGTERM: the run is recorded, and the schedule stops
            history.add(schedule.expression, due, "interrupted", started=started, ended=clock.now(), message=str(exc))
            say(f"{due.isoformat()}: interrupted; the schedule stops")
            if tell is not None:
                tell("failure", started, clock.now(), None, exc, None)
            raise
        failures = failures + 1 if isinstance(error, CONFIG_FAILURES) else 0
        ended = clock.now()
        if tell is not None:
            tell(_event(result, error), started, ended, result, error, None)
        runs += 1
        history.add(schedule.expression, due, outcome, started=started, ended=ended, result=result, message=message)
        say(f"{due.isoformat()}: {outcome}" + (f" ({message})" if message else ""))
        _skip_missed(schedule, history, due, ended, delay, say)
        cursor = max(ended - timedelta(seconds=delay), due)
        if failures >= max_config_failures:
            why = f"schedule disabled after {failures} consecutive configuration failures (login, configuration or " \
                  f"input schema): {message}. Fix the job, then start the schedule again."  # fmt: skip
            if tell is not None:  # said before the schedule exits
                tell("disabled", started, clock.now(), None, error, why)
            say(why)
            break
    return runs


def _wait_until(start_at: datetime, due: datetime, clock: Clock, say: Callable[[str], None]) -> None:
    """Sleep until a run's start (said once)."""
    wait = (start_at - clock.now()).total_seconds()
    if wait > 0:
        say(f"waiting for the run due {due.isoformat()}")
        clock.sleep(wait)


def _attempt(
    job: Callable[[], ExportResult],
) -> tuple[str, ExportResult | None, str | None, PardotFramesError | None]:
    """One run: its outcome word, result, one-line message and error (Interrupted goes through)."""
    try:
        result = job()
    except CONFIG_FAILURES as exc:
        return "config failure", None, str(exc).splitlines()[0], exc
    except Interrupted:
        raise
    except PardotFramesError as exc:
        return "failed", None, str(exc).splitlines()[0], exc
    return ("ok" if result.ok else ("stopped" if result.stopped else "rejected rows")), result, None, None


def _event(result: ExportResult | None, error: PardotFramesError | None) -> str:
    """The notification event of a run: failure, success or rejected."""
    if error is not None or result is None or result.stopped:
        return "failure"
    return "success" if result.ok else "rejected"


def _skip_missed(
    schedule: Schedule, history: History, due: datetime, ended: datetime, delay: float, say: Callable[[str], None]
) -> None:
    """Times that came due while a run went on are not started late: recorded as skipped."""
    for missed in schedule.iter_runs(due):
        if missed + timedelta(seconds=delay) > ended:
            break
        history.add(schedule.expression, missed, "skipped", message="the previous run was still going")
        say(f"{missed.isoformat()}: skipped (the previous run was still going)")


def history_rows(path: Path, limit: int = 50) -> list[tuple]:
    con = History(path)
    try:
        return con.rows(limit)
    finally:
        con.close()


def describe(row: tuple[Any, ...]) -> str:
    schedule, due, started, ended, outcome, rows_in, succeeded, rejected, not_sent, calls, message, job_id = row
    counts = ""
    if rows_in is not None:
        counts = f" rows {rows_in}, applied {succeeded}, rejected {rejected}, not sent {not_sent}, calls {calls}"
    return f"{due}  {outcome:<15}{counts}" + (f"  {message}" if message else "")
