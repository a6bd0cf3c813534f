"""``export_to_pardot``: validate, plan, send, and account for every row, in four named steps.

``prepare`` finds every input error before the first call (and fingerprints the input for the
journal); ``run`` logs in, opens the journal and sends chunk after chunk through the job's send
path; ``assemble`` turns what happened into an ``ExportResult``; ``raise_for_stop`` raises what a
stopped job must (the fatal error, ``Interrupted``, ``JobFailed``). Each row ends applied, rejected
(with Pardot's reason) or not sent (the job stopped first).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.fields import account_fields
from pardot_frames.engine.job import Job, Totals
from pardot_frames.engine.journal import Fingerprint, Journal
from pardot_frames.engine.journal import state_dir as default_state_dir
from pardot_frames.engine.ledger import Ledger
from pardot_frames.engine.mirror import Mirror, mirrors
from pardot_frames.engine.progress import Progress
from pardot_frames.engine.results import ExportResult
from pardot_frames.engine.signals import on_signals
from pardot_frames.engine.stop import Stop, StopKind
from pardot_frames.engine.stream import prepass
from pardot_frames.engine.sync import SyncState
from pardot_frames.errors import ApiError, ConfigError, Interrupted, JobFailed, PardotError
from pardot_frames.limits import CONCURRENT_LIMIT
from pardot_frames.pardot import lists, memberships, prospects
from pardot_frames.pardot.answers import BudgetSpent, DailyLimitReached, RetriesExhausted
from pardot_frames.pardot.client import Client
from pardot_frames.pardot.transport import Transport
from pardot_frames.prepare.fields import Fields
from pardot_frames.prepare.frames import ROW_NR, chunks, is_streaming
from pardot_frames.prepare.imports import needs_campaign, pick_method
from pardot_frames.prepare.validation import Validated, validate

log = logging.getLogger("pardot_frames")
T = TypeVar("T")
CHUNK_ROWS = 100_000  # rows validated, planned and sent at a time from streaming inputs


@dataclass(frozen=True)
class Options:
    """How to run a job (not what it sends): progress, chunking, journal and resume."""

    progress: bool | None = None
    chunk_rows: int = CHUNK_ROWS
    resume: bool | str = False
    journal: bool = True
    folder: Path | None = None
    refresh_fields: bool = False
    field_calls: list[int] = dataclass_field(default_factory=list)  # calls the field read took (0 when cached)


@dataclass
class Prepared:
    """The input, checked: its first chunk validated (frame errors raise there) and its fingerprint."""

    data: Any
    streaming: bool
    first: pl.DataFrame
    first_checked: Validated
    rest: Iterator[pl.DataFrame]
    fingerprint: Fingerprint
    fields: Fields | None = None  # the account's fields, when the job checks them
    method: str = "batch"  # how prospects go: batch or import (auto resolved)
    method_reason: str = "as configured"


@dataclass
class Run:
    """What sending did: the totals over chunks, the ledger, the stop, and the job's figures."""

    totals: Totals
    ledger: Ledger
    job: Job
    client: Client
    stop: Stop | None
    journal: Journal | None
    rows_in_doubt: int
    rows_done_before: int
    send_seconds: float
    field_calls: int = 0


def check_config(config: ExportConfig | None, overrides: dict[str, Any]) -> ExportConfig:
    """The job's config with overrides, one output-mapping timestamp, and credentials present."""
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
        warnings.warn(message, stacklevel=4)
        log.warning(message)
    return config


def prepare(data: Any, config: ExportConfig, options: Options, spill: Path, fields: Fields | None = None) -> Prepared:
    """Step 1: every input error before the first row is sent (against the account's ``fields`` when given);
    the fingerprint; a resume that cannot be is refused."""
    if options.resume and not options.journal:
        raise ConfigError(["resume needs the journal: drop journal=False (--no-journal)"])
    fingerprint = Fingerprint()
    streaming = is_streaming(data)
    creating = None  # rows of the whole stream an import would create (when it was read before sending)
    if streaming and (options.journal or not config.skip_invalid_records):
        data, fingerprint, creating = prepass(data, config, options.chunk_rows, spill / "input.parquet", fields)
    source = chunks(data, options.chunk_rows)
    first = next(source)
    first_checked = validate(first, config, fields=fields)  # frame-level errors raise here, before any row
    if not streaming:
        fingerprint.add(first)
    if options.resume:
        Journal.check_resumable(config, fingerprint.hexdigest(), options.resume, options.folder)
    prepared = Prepared(data, streaming, first, first_checked, source, fingerprint, fields)
    prepared.method, prepared.method_reason = choose_method(config, prepared)
    if creating is None or not streaming:
        creating = needs_campaign(first_checked.rows, config)
    if prepared.method == "import" and creating:
        raise campaign_missing(creating)
    return prepared


def campaign_missing(creating: int) -> ConfigError:
    """The refusal of an import that would create prospects without a campaign (before any call)."""
    return ConfigError([
        f"method = import: {creating:,} row(s) would create prospects (no id or fid to match) and an import "
        "that creates needs a campaign: set import_campaign_id (or give a campaign_id column)"
    ])  # fmt: skip


def choose_method(config: ExportConfig, prepared: Prepared) -> tuple[str, str]:
    """batch or import, and why, counting the valid rows of a frame or the rows of a stream read first."""
    if not prepared.streaming:
        return pick_method(config, prepared.first_checked.rows.height)
    return pick_method(config, prepared.fingerprint.rows or None)


def open_journal(config: ExportConfig, prepared: Prepared, options: Options) -> tuple[Journal, Ledger, set[int]]:
    """A new journal, or the stopped job's with its confirmed rows in the ledger and the rows in doubt."""
    digest = prepared.fingerprint.hexdigest()
    if not options.resume:
        journal = Journal.open_new(config, digest, prepared.fingerprint.rows, options.folder)
        return journal, Ledger(journal=journal), set()
    journal = Journal.resume(config, digest, options.resume, options.folder)
    ledger = Ledger(journal=journal)
    unknown: set[int] = set()
    for row_nr, state, code, message, transient, note in journal.states().iter_rows():
        if state == "succeeded":
            ledger.succeeded[row_nr] = note
        elif state == "rejected" and not transient:
            ledger.failed[row_nr] = ("pardot", code, message)
        elif state in ("in_flight", "rejected"):  # in flight, or given up on: it may have been applied
            unknown.add(row_nr)
            if note:  # where it went (an import's id): the send path reads its own notes
                ledger.attached[row_nr] = note
    return journal, ledger, unknown


async def job_fields(client: Client, config: ExportConfig, options: Options) -> Fields | None:
    """The account's fields when this job checks them (prospects, ``check_fields``): at most one call."""
    if not config.check_fields or config.data_object != "prospects":
        return None
    before = client.stats.api_calls
    try:
        folder = options.folder or default_state_dir()
        fields = await account_fields(client, config, folder, refresh=options.refresh_fields)
    except RetriesExhausted as exc:
        raise ApiError(
            f"cannot read the account's custom fields ({exc.last.reason}); try again later, or set "
            "check_fields = false to send without checking columns against them",
            exc.last.code,
        ) from None
    finally:
        options.field_calls.append(client.stats.api_calls - before)
    return fields


async def run(prepared: Prepared, config: ExportConfig, options: Options, client: Client) -> Run:
    """Step 2: log in (bad credentials fail before any row is sent), open the journal, send every chunk."""
    bar = Progress(None if prepared.streaming else prepared.first_checked.rows.height, options.progress)
    journal, ledger, unknown = None, Ledger(), set()
    try:
        if config.sync_mode == "full":  # changed mode logs in with its first call: none if nothing changed
            await client.login()
        sending_config = config
        if config.list_names:  # before any row: an unknown name is a configuration error
            sending_config = await with_list_ids(client, config)
            prepared.first_checked = validate(prepared.first, sending_config, fields=prepared.fields)
        early: Stop | None = None
        try:
            if prepared.fields is None and (fields := await job_fields(client, config, options)) is not None:
                prepared.fields = fields
                if fields.matters(prepared.first.columns):  # unknown columns, typed custom fields: check again
                    prepared.first_checked = validate(prepared.first, sending_config, fields=fields)
        except PardotError as exc:  # Pardot refused the job before a row went: every row is reported not sent
            early = Stop.fatal(exc)
        if options.journal:  # the job as the user wrote it (list names, not ids) is what a resume matches
            journal, ledger, unknown = open_journal(config, prepared, options)
        config = sending_config
        done_before = len(ledger.succeeded) + len(ledger.failed)
        sync = SyncState(config, options.folder or default_state_dir()) if config.sync_mode == "changed" else None
        if prepared.method != config.method:
            config = config.replace(method=prepared.method)
        job = Job(config, client, ledger, bar, unknown, ids=sync, attached=ledger.attached)
        if config.data_object == "prospects":
            job.extra |= {"method": prepared.method, "method_reason": prepared.method_reason}
        mirror = Mirror(config) if mirrors(config) else None
        restore = on_signals(job.flag)
        sending = time.perf_counter()
        try:
            totals, stop = await send_chunks(prepared, config, job, early, sync, mirror)
            if mirror is not None and stop is None:
                stop = await mirror_lists(mirror, job, sync)
        finally:
            restore()
            if sync is not None:
                sync.close()
        elapsed = time.perf_counter() - sending
        field_calls = sum(options.field_calls)
        return Run(totals, ledger, job, client, stop, journal, len(unknown), done_before, elapsed, field_calls)
    finally:
        bar.close()
        ledger.flush()


async def with_list_ids(client: Client, config: ExportConfig) -> ExportConfig:
    """The config with list names in prospect_lists replaced by their ids (created if allowed)."""
    found = await lists.resolve(client, config.list_names, create=config.create_missing_lists)
    return config.replace(prospect_lists=[found[x] if isinstance(x, str) else x for x in config.prospect_lists])


async def send_chunks(
    prepared: Prepared,
    config: ExportConfig,
    job: Job,
    stop: Stop | None = None,
    sync: SyncState | None = None,
    mirror: Mirror | None = None,
) -> tuple[Totals, Stop | None]:
    """Every chunk through the job (none when it is already ``stop``-ped); after a resumable stop the rest is
    read to list its rows as not sent. With a sync state, only new and changed rows are sent, and the
    state learns the rows Pardot confirmed. A mirror notes every valid row."""
    totals, offset = Totals(), 0
    ledger = job.ledger
    for chunk in chain([prepared.first], prepared.rest):
        checked = (
            prepared.first_checked if offset == 0 else validate(chunk, config, first_row=offset, fields=prepared.fields)
        )
        if mirror is not None:
            mirror.note(checked)
        if sync is not None:
            diff = sync.diff(checked)
            totals.unchanged += len(diff.unchanged)
            valid = checked.rows.filter(~pl.col(ROW_NR).is_in(diff.duplicates[ROW_NR].implode()))
            checked, report = diff.to_send, replace(diff.to_send, rows=valid)
        else:
            report = checked
        if stop is None:
            stop = await job.send(checked)
            if sync is not None:
                ledger.flush()  # the journal has the outcomes before the state learns them
                sync.learn([r for r in checked.rows[ROW_NR].to_list() if r in ledger.succeeded])
        if stop is not None and not totals.stopped:
            job.abandon(stop)  # rows of earlier chunks the path still held
            totals.stopped = True
        unsent = [r for r in checked.rows[ROW_NR].to_list() if not ledger.done(r)]
        if unsent and stop is not None:
            ledger.not_sent(unsent, stop.code, f"not sent: the job stopped ({stop.reason})")
        totals.add(chunk, report, ledger, offset)
        offset += chunk.height
        if stop is not None and not stop.reads_on:
            break  # a fatal stop: report what was read
    if stop is None:
        stop = await job.finish()
        if stop is not None:
            job.abandon(stop)
        if sync is not None:
            ledger.flush()
            sync.learn([r for r in list(sync.sent) if r in ledger.succeeded])
    again = chunks(prepared.data, prepared.first.height) if prepared.streaming else [prepared.first]
    totals.add_late(again, ledger, prepared.first_checked.rejected.clear())
    return totals, stop


async def mirror_lists(mirror: Mirror, job: Job, known: SyncState | None) -> Stop | None:
    """After the rows: make each mirrored list hold exactly the job's prospects. A failure stops the job
    (resumable: a resume sends no row again and mirrors once more)."""
    try:
        job.extra["mirror"] = await mirror.apply(job.client, known)
    except BudgetSpent as exc:
        return Stop.daily_limit(str(exc))
    except DailyLimitReached:
        return Stop.daily_limit()
    except (memberships.ReadFailed, prospects.LookupFailed) as exc:
        return Stop.fatal(ApiError(f"the rows were sent, but mirroring the lists failed: {exc}; resume to retry"))
    except RetriesExhausted as exc:
        reason = f"gave up after {job.config.maximum_retries} retries: {exc.last.reason}"
        return Stop.fatal(ApiError(f"the rows were sent, but mirroring the lists failed ({reason}); resume to retry"))
    except PardotError as exc:
        return Stop.fatal(exc)
    return None


def assemble(outcome: Run, config: ExportConfig, started: float, resumed: bool) -> ExportResult:
    """Step 3: the ExportResult users read."""
    ledger, stats, totals = outcome.ledger, outcome.client.stats, outcome.totals
    stages = Counter(stage for stage, _, _ in ledger.failed.values())
    extra = {
        **outcome.job.figures(),
        "token_refreshes": stats.refreshes,
        "concurrency_lowered": outcome.client.limiter.lowered,
        "send_seconds": round(outcome.send_seconds, 3),
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
        unchanged=totals.unchanged,
        api_calls=stats.api_calls,
        retries=stats.retries,
        elapsed=time.perf_counter() - started,
        rejected=pl.concat(totals.rejected, how="diagonal_relaxed"),
        notes=dict(Counter(ledger.succeeded.notes())),
        stopped=outcome.stop.reason if outcome.stop else None,
        planned_calls=outcome.job.planned_calls + outcome.field_calls,
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
    """Step 4: a fatal stop raises the original error (with ``result``); an interrupt raises Interrupted;
    a refused row with skip_invalid_records=false raises JobFailed. The daily limit returns normally."""
    if stop is None or stop.kind is StopKind.DAILY_LIMIT:
        return
    if stop.kind is StopKind.FATAL and stop.error is not None:
        stop.error.result = result
        stop.error.add_note(result._summary_line())
        raise stop.error
    if stop.kind is StopKind.INTERRUPTED:
        raise Interrupted(f"interrupted: {result._summary_line()}; resume with resume={result.job_id!r}", result)
    raise JobFailed(f"the export stopped: {stop.reason}. {result._summary_line()}", result)


async def export_to_pardot_async(
    data: Any,
    config: ExportConfig | None = None,
    *,
    progress: bool | None = None,
    chunk_rows: int = CHUNK_ROWS,
    resume: bool | str = False,
    journal: bool = True,
    state_dir: str | Path | None = None,
    refresh_fields: bool = False,
    transport: Transport | None = None,
    **overrides: Any,
) -> ExportResult:
    """The async twin of ``export_to_pardot``; ``transport`` replaces aiohttp (tests script answers with it)."""
    started = time.perf_counter()
    config = check_config(config, overrides)
    folder = Path(state_dir) if state_dir else None
    options = Options(progress, chunk_rows, resume, journal, folder, refresh_fields)
    slots = (folder or default_state_dir()) / "slots"
    with tempfile.TemporaryDirectory(prefix="pardot-frames-") as spill:
        async with Client(config, transport=transport, slots_folder=slots) as client:
            # a strict stream is checked whole before sending, so it needs the fields first; other inputs
            # are checked without them first (no call before an input error), then again where they matter
            strict_stream = not config.skip_invalid_records and is_streaming(data)
            fields = await job_fields(client, config, options) if strict_stream else None
            prepared = prepare(data, config, options, Path(spill), fields)
            outcome = await run(prepared, config, options, client)
    result = assemble(outcome, config, started, bool(resume))
    close_journal(outcome, result)
    raise_for_stop(outcome.stop, result)
    return result


def export_to_pardot(
    data: Any,
    config: ExportConfig | None = None,
    *,
    progress: bool | None = None,
    chunk_rows: int = CHUNK_ROWS,
    resume: bool | str = False,
    journal: bool = True,
    state_dir: str | Path | None = None,
    refresh_fields: bool = False,
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
        refresh_fields=refresh_fields,
        **overrides,
    )
    return run_sync(coroutine)


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from sync code, also inside a running event loop (a Jupyter cell):
    there on a private loop in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1, thread_name_prefix="pardot-export") as pool:
        return pool.submit(asyncio.run, coroutine).result()
