"""``export_to_pardot``: validate, plan, send, and account for every row.

Input errors are all found before the first call (``validate``). Then the plan's calls go out with
``parallel_tasks`` in flight, in order; each row ends applied, rejected (with Pardot's reason) or
not sent (the job stopped first: daily limit or a fatal error).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from .batching import plan
from .config import ExportConfig
from .errors import ConfigError, Interrupted, JobFailed, PardotError, ValidationFailed
from .frames import ROW_NR, chunks, is_streaming
from .journal import Fingerprint, Journal
from .limits import CONCURRENT_LIMIT
from .list_memberships import MembershipSender
from .lookup import resolve_emails
from .payload import prospect_payloads
from .prospects import ProspectSender, Row
from .results import ExportResult, Ledger, rejected_frame
from .transport import DailyLimitReached, Transport
from .validation import Validated, validate

log = logging.getLogger("pardot_frames")
T = TypeVar("T")
CHUNK_ROWS = 100_000  # rows validated, planned and sent at a time from streaming inputs


class _Progress:
    """A tqdm bar over rows when wanted (terminal or notebook), else nothing."""

    def __init__(self, total: int | None, enabled: bool | None) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.bar = None
        if enabled and total != 0:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="row", desc="pardot", leave=False)

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Interrupt(Exception):
    """The user asked the job to stop (Ctrl-C, SIGTERM)."""


async def _run(
    items: Iterable[T],
    handle: Callable[[T], Awaitable[None]],
    workers: int,
    stop_when: Callable[[], BaseException | str | None],
) -> BaseException | str | None:
    """Hand items, in order, to ``workers`` concurrent handlers; stop taking new ones on the first stop.

    Workers start staggered by a share of the first call's duration, so calls reach Pardot spread
    out rather than in bursts that all wait on the same server turn.
    """
    queue = iter(items)
    stopped: BaseException | str | None = None
    first_call = asyncio.get_running_loop().create_future()

    async def worker(k: int) -> None:
        nonlocal stopped
        if k:
            duration = await first_call
            await asyncio.sleep(duration * k / workers)
        for item in queue:
            if stopped is not None:
                return
            started = time.perf_counter()
            try:
                await handle(item)
            except (DailyLimitReached, PardotError) as exc:
                stopped = stopped or exc
                return
            finally:
                if not first_call.done():
                    first_call.set_result(time.perf_counter() - started)
            if stopped is None and (reason := stop_when()):
                stopped = reason
        if not first_call.done():
            first_call.set_result(0.0)

    await asyncio.gather(*(worker(k) for k in range(workers)))
    return stopped


def _email_only(rows: pl.DataFrame) -> list[str | None]:
    """Per row, its email when the row has no id or fid (a send would create a prospect), else None."""
    if "email" not in rows.columns:
        return [None] * rows.height
    keyed = pl.lit(False)
    for key in ("id", "fid"):
        if key in rows.columns:
            keyed = keyed | (pl.col(key).is_not_null() & (pl.col(key).cast(pl.String) != ""))
    return rows.select(pl.when(~keyed).then(pl.col("email")).alias("e"))["e"].to_list()


def _with_ids(rows: pl.DataFrame, found: dict[str, list[int]]) -> pl.DataFrame:
    """Give rows without an id the lowest id of a prospect with their email (upsert_by_email)."""
    lowest = {email: ids[0] for email, ids in found.items()}
    match = pl.col("email").str.to_lowercase().replace_strict(lowest, default=None, return_dtype=pl.Int64)
    if "id" not in rows.columns:
        return rows.with_columns(match.alias("id")).select(ROW_NR, "id", pl.exclude(ROW_NR, "id"))
    return rows.with_columns(pl.coalesce("id", match).alias("id"))


class _Job:
    """One export while it runs: the senders (which learn across chunks) and the stop rule."""

    def __init__(self, config: ExportConfig, transport: Transport, progress: _Progress, ledger: Ledger) -> None:
        self.config, self.transport, self.progress = config, transport, progress
        self.ledger = ledger
        self.interrupted = False
        self.prospect_sender = ProspectSender(transport, config, self.ledger)
        self.membership_sender = MembershipSender(transport, config, self.ledger)
        self.planned_calls = 0
        self.emails_matched = 0

    def _stop_when(self) -> BaseException | str | None:
        if self.interrupted:
            return _Interrupt()
        if not self.config.skip_invalid_records and self.ledger.failed:
            row, (_, _code, message) = next(iter(self.ledger.failed.items()))
            return f"Pardot rejected row {row} ({message}) and skip_invalid_records is false"
        return None

    async def send(self, checked: Validated, unknown: set[int]) -> BaseException | str | None:
        if self.interrupted:
            return _Interrupt()
        if self.config.data_object == "prospects":
            return await self._prospects(checked, unknown)
        return await self._memberships(checked)

    async def _prospects(self, checked: Validated, unknown: set[int]) -> BaseException | str | None:
        sender = self.prospect_sender
        phases = self._phases(checked.rows) if self.config.upsert_by_email else [checked.rows]
        stopped = None
        for phase in phases:
            payloads = checked.payloads
            if self.config.upsert_by_email:
                missing = phase.filter(pl.col("id").is_null()) if "id" in phase.columns else phase
                found = await resolve_emails(self.transport, missing["email"].to_list()) if missing.height else {}
                phase = _with_ids(phase, found)
                self.emails_matched += len(found)
                payloads = prospect_payloads(phase, self.config)
            job_plan = plan(payloads, self.config)
            self.planned_calls += job_plan.calls
            emails = dict(zip(phase[ROW_NR].to_list(), _email_only(phase), strict=True))
            texts = zip(payloads["json"].to_list(), payloads["size"].to_list(), strict=True)
            js = dict(zip(payloads[ROW_NR].to_list(), texts, strict=True))
            batches = [
                [Row(r, js[r][0], js[r][1], emails[r], r in unknown) for r in row_nrs]
                for row_nrs in job_plan.batches["row_nrs"].to_list()
            ]
            doubtful = [row for batch in batches for row in batch if row.unknown and row.email_only]
            if doubtful:  # a stopped run may have created these: look them all up at once, not per call
                settled = {row.row_nr: row for row in await sender.settle(doubtful)}
                batches = [[settled.get(row.row_nr, row) for row in batch] for batch in batches]

            async def handle(batch: list[Row]) -> None:
                await sender.send(batch)
                self.progress.update(len(batch))

            stopped = await _run(batches, handle, self.config.parallel_tasks, self._stop_when)
            if stopped is not None:
                break
        return stopped

    @staticmethod
    def _phases(rows: pl.DataFrame) -> list[pl.DataFrame]:
        """upsert_by_email: the k-th row of an email goes in phase k, after the prospect exists."""
        if not rows.height:
            return [rows]
        occurrence = pl.col(ROW_NR).cum_count().over(pl.col("email").str.to_lowercase()) - 1
        ranked = rows.with_columns(occurrence.alias("_k"))
        return [ranked.filter(pl.col("_k") == k).drop("_k") for k in range(int(ranked["_k"].max() or 0) + 1)]

    async def _memberships(self, checked: Validated) -> BaseException | str | None:
        self.planned_calls += checked.payloads.height

        async def handle(item: tuple[int, int, int]) -> None:
            await self.membership_sender.send(*item)
            self.progress.update(1)

        return await _run(checked.payloads.iter_rows(), handle, self.config.parallel_tasks, self._stop_when)

    def extra(self) -> dict[str, Any]:
        sender = self.prospect_sender
        if self.config.data_object != "prospects":
            return {}
        out = {"uri_splits": sender.splits, "lookups": sender.lookups, "final_max_payload": sender.max_payload}
        if self.config.upsert_by_email:
            out["emails_matched"] = self.emails_matched
        return out


def _config(config: ExportConfig | None, overrides: dict[str, Any]) -> ExportConfig:
    config = config or ExportConfig()
    if overrides:
        config = config.replace(**overrides)
    if config.output_mapping is not None and config.output_mapping.timestamp is None:
        config = config.replace(output_mapping=config.output_mapping.stamped())  # one timestamp per export
    missing = config.missing_credentials()
    if missing:
        raise ConfigError(
            [f"{key} is required to send (set it in the job, with --set, or in PARDOT_* variables)" for key in missing]
        )
    if config.parallel_tasks > CONCURRENT_LIMIT:
        message = (
            f"parallel_tasks={config.parallel_tasks} is above Pardot's {CONCURRENT_LIMIT} concurrent calls "
            f"per business unit; at most {CONCURRENT_LIMIT} calls will be in flight"
        )
        warnings.warn(message, stacklevel=3)
        log.warning(message)
    return config


def _prepass(data: Any, config: ExportConfig, chunk_rows: int, spill: Path) -> tuple[Any, Fingerprint]:
    """Read a stream once before sending: its fingerprint (for the journal) and, with
    skip_invalid_records=false, every row's validation, so input errors are found before the first call.

    One-shot readers are spilled to a Parquet file on the way, so the send pass can read them again.
    """
    one_shot = isinstance(data, pa.RecordBatchReader)
    writer = None
    problems: list[pl.DataFrame] = []
    fingerprint = Fingerprint()
    lenient = config.replace(skip_invalid_records=True)
    for chunk in chunks(data, chunk_rows):
        if not config.skip_invalid_records:
            problems.append(validate(chunk, lenient, first_row=fingerprint.rows).rejected)
        fingerprint.add(chunk)
        if one_shot:
            table = chunk.to_arrow()
            writer = writer or pq.ParquetWriter(spill, table.schema)
            writer.write_table(table)
    if writer is not None:
        writer.close()
    rejected = pl.concat(problems) if problems else None
    if rejected is not None and rejected.height:
        raise ValidationFailed(rejected, fingerprint.rows)
    return (pl.scan_parquet(spill) if one_shot and writer is not None else data), fingerprint


@dataclass
class _Totals:
    """What the chunks of one job add up to."""

    rows_in: int = 0
    valid: int = 0
    rejected_validation: int = 0
    rejected: list[pl.DataFrame] = dataclass_field(default_factory=list)

    def add(self, chunk: pl.DataFrame, checked: Validated, ledger: Ledger, first_row: int) -> None:
        self.rows_in += checked.rows_in
        self.valid += checked.rows.height
        self.rejected_validation += checked.rejected_rows
        mine = Ledger(failed={r: v for r, v in ledger.failed.items() if first_row <= r < first_row + chunk.height})
        self.rejected.append(rejected_frame(chunk, mine, checked.rejected, first_row))


def _open_journal(
    config: ExportConfig, fingerprint: Fingerprint, resume: bool | str, folder: Path | None
) -> tuple[Journal, Ledger, set[int]]:
    """A new journal, or the stopped job's with its confirmed rows in the ledger and the rows in doubt."""
    if not resume:
        journal = Journal.open_new(config, fingerprint.hexdigest(), fingerprint.rows, folder)
        return journal, Ledger(journal=journal), set()
    journal = Journal.resume(config, fingerprint.hexdigest(), resume, folder)
    ledger = Ledger(journal=journal)
    unknown: set[int] = set()
    for row_nr, state, code, message, transient, note in journal.states().iter_rows():
        if state == "succeeded":
            ledger.succeeded[row_nr] = note
        elif state == "rejected" and not transient:
            ledger.failed[row_nr] = ("pardot", code, message)
        elif state == "in_flight":
            unknown.add(row_nr)
    return journal, ledger, unknown


def _outstanding(checked: Validated, ledger: Ledger) -> Validated:
    """The rows of a chunk that a resumed job still has to send."""
    done = [r for r in checked.rows[ROW_NR].to_list() if ledger.done(r)]
    if not done:
        return checked
    keep = ~pl.col(ROW_NR).is_in(done)
    return replace(checked, rows=checked.rows.filter(keep), payloads=checked.payloads.filter(keep))


def _on_signals(job: _Job) -> Callable[[], None]:
    """Ctrl-C / SIGTERM: stop taking calls, let those in flight finish; a second one cancels them."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def handler() -> None:
        if job.interrupted and main is not None:
            main.cancel()
        job.interrupted = True
        print("\nstopping: letting the calls in flight finish (Ctrl-C again to stop at once)", file=sys.stderr)

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, handler)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - platforms without signal support
            pass

    def restore() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return restore


async def export_to_pardot_async(
    data: Any,
    config: ExportConfig | None = None,
    *,
    progress: bool | None = None,
    chunk_rows: int = CHUNK_ROWS,
    resume: bool | str = False,
    journal: bool = True,
    state_dir: str | Path | None = None,
    **overrides: Any,
) -> ExportResult:
    """The async twin of ``export_to_pardot``."""
    started = time.perf_counter()
    config = _config(config, overrides)
    folder = Path(state_dir) if state_dir else None
    if resume and not journal:
        raise ConfigError(["resume needs the journal: drop journal=False (--no-journal)"])
    with tempfile.TemporaryDirectory(prefix="pardot-frames-") as spill_dir:
        fingerprint = Fingerprint()
        if is_streaming(data) and (journal or not config.skip_invalid_records):
            data, fingerprint = _prepass(data, config, chunk_rows, Path(spill_dir) / "input.parquet")
        source = chunks(data, chunk_rows)
        first = next(source)
        first_checked = validate(first, config)  # frame-level errors raise here, before the login
        if not is_streaming(data):
            fingerprint.add(first)
        if resume:  # a resume that cannot be is refused before the login
            Journal.check_resumable(config, fingerprint.hexdigest(), resume, folder)
        bar = _Progress(first_checked.rows.height if not is_streaming(data) else None, progress)
        totals, stopped, job, book, ledger = _Totals(), None, None, None, Ledger()
        try:
            async with Transport(config) as transport:
                assert transport.tokens is not None
                await transport.tokens.get()  # log in first: bad credentials fail before any row is sent
                if journal:
                    book, ledger, unknown = _open_journal(config, fingerprint, resume, folder)
                else:
                    unknown = set()
                done_before = len(ledger.succeeded) + len(ledger.failed)
                job = _Job(config, transport, bar, ledger)
                restore = _on_signals(job)
                sending = time.perf_counter()
                offset = 0
                try:
                    for chunk in chain([first], source):
                        checked = first_checked if offset == 0 else validate(chunk, config, first_row=offset)
                        if stopped is None:
                            stopped = await job.send(_outstanding(checked, ledger), unknown)
                        unsent = [r for r in checked.rows[ROW_NR].to_list() if not ledger.done(r)]
                        if unsent:
                            code = 122 if isinstance(stopped, DailyLimitReached) else None
                            ledger.not_sent(unsent, code, f"not sent: the job stopped ({_reason(stopped)})")
                        totals.add(chunk, checked, ledger, offset)
                        offset += chunk.height
                        if stopped is not None and not isinstance(stopped, DailyLimitReached | _Interrupt):
                            break  # a fatal stop: report what was read; other stops read on to list unsent rows
                finally:
                    restore()
                send_seconds = time.perf_counter() - sending
        finally:
            bar.close()
            ledger.flush()
    stats = transport.stats
    stages = Counter(stage for stage, _, _ in ledger.failed.values())
    reason = _reason(stopped)
    result = ExportResult(
        data_object=config.data_object,
        rows_in=totals.rows_in,
        valid=totals.valid,
        rejected_validation=totals.rejected_validation,
        rejected_pardot=stages["pardot"],
        succeeded=len(ledger.succeeded),
        not_sent=stages["not_sent"],
        api_calls=stats.api_calls,
        retries=stats.retries,
        elapsed=time.perf_counter() - started,
        rejected=pl.concat(totals.rejected, how="diagonal_relaxed"),
        notes=dict(Counter(n for n in ledger.succeeded.values() if n)),
        stopped=reason,
        planned_calls=job.planned_calls,
        extra={
            **job.extra(),
            "token_refreshes": stats.refreshes,
            "concurrency_lowered": transport.limiter.lowered,
            "send_seconds": round(send_seconds, 3),
            **({"resumed": True, "rows_done_before": done_before, "rows_in_doubt": len(unknown)} if resume else {}),
        },
        job_id=book.job_id if book else None,
    )
    if book is not None:
        complete = stopped is None and not result.not_sent and not ledger.transient
        book.finish("finished" if complete else "incomplete", result.summary())
        book.close()
    if isinstance(stopped, PardotError):  # fatal: the original error, with what was done so far
        stopped.result = result
        stopped.add_note(result._summary_line())
        raise stopped
    if isinstance(stopped, _Interrupt):
        raise Interrupted(f"interrupted: {result._summary_line()}; resume with resume={result.job_id!r}", result)
    if isinstance(stopped, str):
        raise JobFailed(f"the export stopped: {reason}. {result._summary_line()}", result)
    return result


def _reason(stopped: BaseException | str | None) -> str | None:
    if stopped is None:
        return None
    if isinstance(stopped, _Interrupt):
        return "interrupted (Ctrl-C or SIGTERM)"
    if isinstance(stopped, DailyLimitReached):
        return "daily API limit met (error 122); run again after the account's day resets"
    return str(stopped)


def export_to_pardot(
    data: Any,
    config: ExportConfig | None = None,
    *,
    progress: bool | None = None,
    chunk_rows: int = CHUNK_ROWS,
    resume: bool | str = False,
    journal: bool = True,
    state_dir: str | Path | None = None,
    **overrides: Any,
) -> ExportResult:
    """Send ``data`` (polars, pandas, pyarrow, DuckDB) to Pardot; also ``df.pipe(export_to_pardot, config)``.

    LazyFrames, record batch readers and DuckDB relations are read ``chunk_rows`` at a time, so memory
    stays bounded. Inside a running event loop (a Jupyter cell) the job runs on a private loop in a
    worker thread.

    Every job keeps a journal (``state_dir``, default the user's data folder); ``resume=True`` (or a
    job id) continues a stopped job with the same config and input, sending only unconfirmed rows.
    """
    coroutine = export_to_pardot_async(
        data,
        config,
        progress=progress,
        chunk_rows=chunk_rows,
        resume=resume,
        journal=journal,
        state_dir=state_dir,
        **overrides,
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1, thread_name_prefix="pardot-export") as pool:
        return pool.submit(asyncio.run, coroutine).result()
