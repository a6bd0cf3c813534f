"""The run after its input is checked: set up against Pardot (log in, list ids, fields), open the journal,
send every step of the pipeline through the job, and mirror the lists. Each row ends applied, rejected
(with Pardot's reason) or not sent (the job stopped first).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from pardot_frames._control import LookupFailed, ResumableStop
from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.host.heap import steady_heap
from pardot_frames.engine.host.progress import Progress
from pardot_frames.engine.host.signals import on_signals
from pardot_frames.engine.job.intake import Source
from pardot_frames.engine.job.options import Options
from pardot_frames.engine.job.pipeline import MAY_CREATE, Step, step_after, steps
from pardot_frames.engine.job.plan import JobPlan
from pardot_frames.engine.send.ledger import Ledger
from pardot_frames.engine.send.mirror import Mirror
from pardot_frames.engine.send.sending import Job, Totals
from pardot_frames.engine.state.journal import Journal
from pardot_frames.engine.state.recycle_bin import screened
from pardot_frames.engine.state.sync import SyncState
from pardot_frames.engine.stop import Stop, StopFlag, stop_for
from pardot_frames.errors import ApiError, PardotError, PardotFramesWarning, ReadFailed, RetriesExhausted
from pardot_frames.pardot import objects
from pardot_frames.pardot.client import Client
from pardot_frames.prepare.frames import ROW_NR

log = logging.getLogger("pardot_frames")


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
    started: datetime  # when sending began (UTC): what a verify reads back from


def open_journal(config: ExportConfig, source: Source, options: Options) -> tuple[Journal, Ledger, set[int]]:
    """A new journal, or the stopped job's with its confirmed rows in the ledger and the rows in doubt."""
    digest = source.fingerprint.hexdigest()
    if not source.resume:
        journal = Journal.open_new(config, digest, source.fingerprint.rows, options.folder)
        return journal, Ledger(journal=journal), set()
    journal = Journal.resume(config, digest, source.resume, options.folder)
    ledger = Ledger(journal=journal)
    unknown: set[int] = set()
    for row_nr, state, code, message, transient, note in journal.states().iter_rows():
        if state == "succeeded":
            ledger.succeeded[row_nr] = note
        elif state == "rejected" and not transient:
            ledger.unapplied[row_nr] = ("pardot", code, message)
        elif state in ("in_flight", "rejected"):  # in flight, or given up on: it may have been applied
            unknown.add(row_nr)
            if note:  # where it went (an import's id): the send path reads its own notes
                ledger.attached[row_nr] = note
    return journal, ledger, unknown


async def send(plan: JobPlan, source: Source, client: Client, flag: StopFlag) -> Run:
    """Open the journal (the job as the user wrote it, list names and all, is what a resume matches), then
    send every chunk and mirror the lists."""
    # a frame's rows (invalid ones leave the total as their chunk is checked); a stream's count is not known
    options = plan.options
    bar = Progress(None if source.streaming else source.fingerprint.rows, options.progress)
    journal, ledger, unknown = None, Ledger(), set[int]()
    try:
        if options.journal:
            journal, ledger, unknown = open_journal(plan.written, source, options)
            flag.job_id = journal.job_id
        done_before = len(ledger.succeeded) + len(ledger.unapplied)
        job = Job(plan.config, client, ledger, bar, unknown, flag, ids=plan.sync, attached=ledger.attached)
        if plan.config.data_object == "prospects":
            job.extra |= {"method": plan.method, "method_reason": plan.method_reason}
        restore = on_signals(job.flag, options.signals)
        started = datetime.now(UTC)
        sending = time.perf_counter()
        try:
            with steady_heap():
                totals, stop = await send_steps(source, plan, job)
                if stop is None and plan.sync is not None and plan.config.upsert_by_email:
                    stop = await learn_created(job, plan.sync, started)
                if plan.mirror is not None and stop is None:
                    stop = await mirror_lists(plan.mirror, job, plan.sync)
        finally:
            restore()
        elapsed = time.perf_counter() - sending
        return Run(totals, ledger, job, client, stop, journal, len(unknown), done_before, elapsed, started)
    finally:
        bar.close()
        ledger.flush()


async def send_steps(source: Source, plan: JobPlan, job: Job) -> tuple[Totals, Stop | None]:
    """Every step of the pipeline through the job (none when the plan already stopped it); after a
    resumable stop the rest is read to list its rows as not sent. With a sync state, it learns the rows
    Pardot confirmed."""
    totals, ledger, stop, sync = Totals(), job.ledger, plan.early, plan.sync
    pipeline = steps(source.chunks(), plan.config, plan.fields, sync, plan.mirror, first=source.first_checked)
    async with aclosing(read_ahead(pipeline, source.chunked and sync is None)) as prepared:
        async for step in prepared:
            job.progress.shrink(step.report.rejected_rows)
            if plan.bin is not None and stop is None:
                step = await without_deleted(step, plan, job)
            stop = await send_step(step, job, totals, stop, sync)
            if stop is not None and not stop.reads_on:
                break  # a fatal stop: report what was read
    if stop is None:
        stop = await finish(job, sync)
    if totals.may_create:
        job.extra["rows_may_create_prospects"] = totals.may_create
        warnings.warn(MAY_CREATE.format(n=totals.may_create), PardotFramesWarning, stacklevel=2)
    totals.add_late(source.again(), ledger, source.first_checked.problems.clear())
    return totals, stop


async def without_deleted(step: Step, plan: JobPlan, job: Job) -> Step:
    """The step's rows for prospects in the recycle bin: reported (stage "deleted"), or restored."""
    assert plan.bin is not None
    try:
        send, found = await screened(plan.bin, step.send, step.report.rows, job.client, plan.sync)
    except (ResumableStop, PardotError, LookupFailed) as exc:  # the live check's lookup: nothing of it goes
        reason = f"not sent: the recycle-bin check could not look the emails up ({exc})"
        job.ledger.reject(step.send.rows[ROW_NR].to_list(), None, reason, transient=True)
        return replace(step, send=replace(step.send, rows=step.send.rows.clear(), payloads=step.send.payloads.clear()))
    for row_nr, reason in found.refused:
        job.ledger.reject([row_nr], None, reason, stage="deleted")
    job.extra["rows_restored"] = job.extra.get("rows_restored", 0) + found.restored
    job.extra["recycle_bin_lookups"] = job.extra.get("recycle_bin_lookups", 0) + found.lookups
    return step_after(step, send, found, plan.config)


async def send_step(step: Step, job: Job, totals: Totals, stop: Stop | None, sync: SyncState | None) -> Stop | None:
    """One chunk through the job (unless it stopped already); its rows counted, those left listed as not sent."""
    ledger = job.ledger
    totals.unchanged += step.unchanged
    totals.may_create += step.may_create
    if stop is None:
        stop = await job.send(step.send)
        if sync is not None:
            ledger.flush()  # the journal has the outcomes before the state learns them
            sync.learn([r for r in step.send.rows[ROW_NR].to_list() if r in ledger.succeeded])
    if stop is not None and not totals.stopped:
        job.abandon(stop)  # rows of earlier chunks the path still held
        totals.stopped = True
    unsent = [r for r in step.send.rows[ROW_NR].to_list() if not ledger.done(r)]
    if unsent and stop is not None:
        ledger.not_sent(unsent, stop.code, f"not sent: the job stopped ({stop.reason})")
    totals.add(step.chunk, step.report, ledger, step.offset)
    log.info("chunk sent", extra={"event": "chunk", "rows": step.chunk.height, "calls": job.client.stats.api_calls,
                                  "applied": len(ledger.succeeded)})  # fmt: skip
    if stop is not None and not totals.stop_logged:
        totals.stop_logged = True
        log.info("stopped: %s", stop.reason, extra={"event": "stop", "reason": stop.reason, "kind": stop.kind.value})
    return stop


async def read_ahead(pipeline: Iterator[Step], ahead: bool) -> AsyncGenerator[Step, None]:
    """The pipeline's steps; ``ahead``, the next chunk is read and validated in a worker thread while the job
    sends this one, so no call slot waits between chunks (a frame's rest is checked while its first slice
    goes). Not with a sync state (its diff must see what the chunk before taught it)."""
    if not ahead:
        for step in pipeline:
            yield step
        return
    pending: asyncio.Future[Step | None] = asyncio.ensure_future(asyncio.to_thread(next, pipeline, None))
    try:
        while (ready := await pending) is not None:
            step = ready
            pending = asyncio.ensure_future(asyncio.to_thread(next, pipeline, None))
            yield step
    finally:
        if not pending.done():  # the job stopped: the chunk being read is not needed, but its thread ends first
            with suppress(BaseException):
                await asyncio.shield(pending)


async def finish(job: Job, sync: SyncState | None) -> Stop | None:
    """After the last chunk: what the send path still holds goes and is waited for; the state learns it."""
    stop = await job.finish()
    if stop is not None:
        job.abandon(stop)
    if sync is not None:
        job.ledger.flush()
        sync.learn([r for r in list(sync.sent) if r in job.ledger.succeeded])
    return stop


async def learn_created(job: Job, sync: SyncState, started: datetime) -> Stop | None:
    """batchUpsert returns no new ids: after a job that created prospects, read back those created since it
    started (id and email, 1,000 a call) into the destination's id map, so the next changed run goes by id
    instead of looking the emails up again."""
    if not job.path.figures().get("rows_sent_without_id"):
        return None
    since = (started - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%S+00:00")  # a margin for the clocks
    before, learnt = job.client.stats.api_calls, 0
    try:
        async for page in objects.pages(job.client, "prospects", ["email"], {"createdAtAfterOrEqualTo": since}):
            found = {str(r["email"]).strip().lower(): int(r["id"]) for r in page if r.get("email")}
            sync.remember(found)  # pages go by ascending id: for an email created twice, the newest stays
            learnt += len(found)
    except (ResumableStop, PardotError) as exc:
        return stop_for(exc)
    job.extra |= {"ids_learnt": learnt, "id_learning_calls": job.client.stats.api_calls - before}
    return None


async def mirror_lists(mirror: Mirror, job: Job, known: SyncState | None) -> Stop | None:
    """After the rows: make each mirrored list hold exactly the job's prospects. A failure stops the job
    (resumable: a resume sends no row again and mirrors once more)."""
    try:
        job.extra["mirror"] = await mirror.apply(job.client, known)
    except (ReadFailed, LookupFailed, RetriesExhausted) as exc:
        return Stop.fatal(ApiError(f"the rows were sent, but mirroring the lists failed: {exc}; resume to retry"))
    except (ResumableStop, PardotError) as exc:
        return stop_for(exc)
    return None
