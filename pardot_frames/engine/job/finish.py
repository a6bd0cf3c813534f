"""What a finished (or stopped) run hands its caller: the ExportResult, the journal's last word, and
the exception a stopped job must raise."""

from __future__ import annotations

import time
from collections import Counter

import polars as pl

from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.job.run import Run
from pardot_frames.engine.results import ExportResult
from pardot_frames.engine.stop import Stop, StopKind
from pardot_frames.errors import Interrupted, JobFailed


def assemble(outcome: Run, config: ExportConfig, started: float, resumed: bool, setup_calls: int) -> ExportResult:
    """The ExportResult users read."""
    ledger, stats, totals = outcome.ledger, outcome.client.stats, outcome.totals
    stages = Counter(stage for stage, _, _ in ledger.unapplied.values())
    extra = {
        **outcome.job.figures(),
        "token_refreshes": stats.refreshes,
        "concurrency_lowered": outcome.client.limiter.lowered,
        "send_seconds": round(outcome.send_seconds, 3),
        "setup_calls": setup_calls,  # of the planned calls: the fields, list names and the recycle bin
    }
    if resumed:
        extra |= {"resumed": True, "rows_done_before": outcome.rows_done_before, "rows_in_doubt": outcome.rows_in_doubt}
    return ExportResult(
        data_object=config.data_object,
        rows_in=totals.rows_in,
        valid=totals.valid,
        rejected_validation=totals.rejected_validation,
        rejected_pardot=stages["pardot"],
        succeeded=len(ledger.succeeded),
        not_sent=stages["not_sent"],
        deleted=stages["deleted"],
        unchanged=totals.unchanged,
        api_calls=stats.api_calls,
        retries=stats.retries,
        elapsed=time.perf_counter() - started,
        rejected=pl.concat(totals.rejected, how="diagonal_relaxed"),
        notes=dict(Counter(ledger.succeeded.notes())),
        stopped=outcome.stop.reason if outcome.stop else None,
        planned_calls=outcome.job.planned_calls + setup_calls,
        extra=extra,
        job_id=outcome.journal.job_id if outcome.journal else None,
    )


def close_journal(outcome: Run, result: ExportResult) -> None:
    """Mark the journal finished (every row settled) or incomplete (a resume has work), and close it."""
    if outcome.journal is None:
        return
    complete = outcome.stop is None and not result.not_sent and not outcome.ledger.transient
    outcome.journal.finish("finished" if complete else "incomplete", result.summary())
    outcome.journal.close()


def raise_for_stop(stop: Stop | None, result: ExportResult) -> None:
    """A fatal stop raises the original error (with ``result``); an interrupt raises Interrupted; a refused
    row with skip_invalid_records=false raises JobFailed. The daily limit returns normally."""
    if stop is None or stop.kind is StopKind.DAILY_LIMIT:
        return
    if stop.kind is StopKind.FATAL and stop.error is not None:
        stop.error.result = result
        stop.error.add_note(result._summary_line())
        raise stop.error
    if stop.kind is StopKind.INTERRUPTED:
        raise Interrupted(f"interrupted: {result._summary_line()}; resume with resume={result.job_id!r}", result)
    raise JobFailed(f"the export stopped: {stop.reason}. {result._summary_line()}", result)
