"""``export_to_pardot``: validate, plan, send, and account for every row, in five named steps.

``check_input`` finds every input error before the first call (``source``); ``set_up`` makes the job's
decisions against Pardot (``setup``); ``send`` runs the chunk pipeline through the job's send path
(``run``); ``assemble`` turns what happened into an ``ExportResult``; ``raise_for_stop`` raises what a
stopped job must (``outcome``). The dry run (``dryrun``) shares the setup rules and the pipeline.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import orjson

from pardot_frames._control import Control
from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.host.bridge import run_sync
from pardot_frames.engine.job.finish import assemble, close_journal, raise_for_stop
from pardot_frames.engine.job.intake import Source, read_source
from pardot_frames.engine.job.notify import event_of, message
from pardot_frames.engine.job.notify import notify as send_note
from pardot_frames.engine.job.options import CHUNK_ROWS, Options
from pardot_frames.engine.job.plan import (
    JobPlan,
    job_config,
    read_fields,
    require_credentials,
    set_up,
    warn_concurrency,
)
from pardot_frames.engine.job.run import Run, send
from pardot_frames.engine.read.verify import Verification, verify_async
from pardot_frames.engine.results import ExportResult
from pardot_frames.engine.state import history
from pardot_frames.engine.state.journal import state_dir as default_state_dir
from pardot_frames.engine.stop import StopFlag, public_error
from pardot_frames.errors import Interrupted, PardotError, PardotFramesError, VerifyFailed
from pardot_frames.pardot.client import Client
from pardot_frames.pardot.slots import shared_folder
from pardot_frames.pardot.transport import Transport
from pardot_frames.prepare.frames import is_streaming
from pardot_frames.prepare.rejected import in_kind_of

T = TypeVar("T")
log = logging.getLogger("pardot_frames")


async def verified(outcome: Run, source: Source, plan: JobPlan, client: Client, verify: bool | float) -> Any:
    """After an unstopped run: what Pardot holds of the rows compared with what was sent (``engine.verify``);
    ``verify`` True draws the default sample, a number is the share of rows to check."""
    if outcome.stop is not None or plan.config.data_object != "prospects":
        return None
    if not outcome.ledger.succeeded:
        return Verification(sample="none: the job applied no row, so there is nothing to verify")
    started = outcome.started - timedelta(seconds=60)  # a margin for the clocks of this machine and Pardot's
    sample = None if verify is True else float(verify)
    return await verify_async(client, source.data, plan.config, plan.fields, sample,
                              started.strftime("%Y-%m-%dT%H:%M:%S+00:00"), client.stats.api_calls)  # fmt: skip


async def check_input(
    data: Any, config: ExportConfig, options: Options, spill: Path, client: Client
) -> tuple[Source, int]:
    """The input checked before any Pardot call, and the calls that took. A strict stream is checked whole
    before sending, so it needs the account's fields first; other inputs are checked without them first
    (no Pardot call before an input error), then again where the fields matter. The login (Salesforce's,
    not a Pardot call) goes while the input is read: an input error is still the error a job reports, and
    bad credentials are reported once the input passed."""
    fields, calls = None, 0
    if not config.skip_invalid_records and is_streaming(data):
        fields, calls = await read_fields(client, config, options)
        return read_source(data, config, options, spill, fields), calls
    login = asyncio.ensure_future(client.login()) if config.sync_mode == "full" else None
    try:
        source = await in_thread(lambda stop: read_source(data, config, options, spill, None, stop))
    except BaseException:
        if login is not None:
            login.cancel()
            with suppress(BaseException):  # the input's error is the one to report
                await login
        raise
    if login is not None:
        await login
    return source, calls


async def in_thread(work: Callable[[threading.Event], T]) -> T:
    """Blocking work (reading and checking the input) in a worker thread while the event loop goes on; when
    the job is cancelled (Ctrl-C) the work is told to stop at its next chunk, and waited for."""
    stop = threading.Event()
    running = asyncio.ensure_future(asyncio.to_thread(work, stop))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        stop.set()
        with suppress(BaseException):
            await running
        raise


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
    verify: bool | float = False,
    transport: Transport | None = None,
    notify: bool | Sequence[str] | None = None,
    signals: bool = True,
    **overrides: Any,
) -> ExportResult:
    """The async twin of ``export_to_pardot``; ``transport`` replaces aiohttp (tests script answers with it);
    ``signals=False`` leaves the loop's SIGINT/SIGTERM handlers alone (a host that owns them)."""
    config = job_config(config, overrides)
    export = partial(_export, data, config, progress=progress, chunk_rows=chunk_rows, resume=resume, journal=journal,
                     state_dir=state_dir, refresh_fields=refresh_fields, verify=verify, transport=transport,
                     signals=signals)  # fmt: skip
    began = datetime.now(UTC)
    log.info("export started", extra={"event": "job_start", "object": config.data_object, "host": config.pardot_domain,
                                      "business_unit": config.business_unit, "method": config.method})  # fmt: skip
    urls = None if notify is True else list(notify or [])
    try:
        result = await public(export())
    except PardotFramesError as exc:
        remember(config, state_dir, began, getattr(exc, "result", None), exc)
        if notify and isinstance(exc, PardotError | Interrupted):
            event = "rejected" if isinstance(exc, VerifyFailed) else "failure"
            note = message(event, config, name="export_to_pardot", started=began, error=exc,
                           resume=_resume_hint(exc))  # fmt: skip
            await asyncio.to_thread(send_note, config, note, urls)
        raise
    remember(config, state_dir, began, result, None)
    if not notify:
        return result
    note = message(event_of(result), config, name="export_to_pardot", started=began, result=result,
                   resume=f"export_to_pardot(..., resume={result.job_id!r})" if result.job_id else None)  # fmt: skip
    await asyncio.to_thread(send_note, config, note, urls)
    return result


def remember(config: ExportConfig, state_dir: str | Path | None, began: datetime, result: Any,
             error: BaseException | None) -> None:  # fmt: skip
    """One row of the run history for this export (``engine.state.history``), whatever its outcome; the end event."""
    done = result if isinstance(result, ExportResult) else None
    log.info("export ended", extra={"event": "job_end", "job_id": done.job_id if done else None,
                                    "applied": done.succeeded if done else 0, "error": str(error) if error else None,
                                    "calls": done.api_calls if done else 0})  # fmt: skip
    verify = done.extra.get("verification") if done is not None else None
    history.record(Path(state_dir) if state_dir else default_state_dir(), {
        "job_id": done.job_id if done else getattr(error, "job_id", None), "kind": "export",
        "object": config.data_object, "host": config.pardot_domain, "business_unit": config.business_unit,
        "config": history.fingerprint(config), "started": began, "ended": datetime.now(UTC),
        "rows_in": done.rows_in if done else None, "applied": done.succeeded if done else 0,
        "rejected": (done.rejected_validation + done.rejected_pardot + done.deleted) if done else 0,
        "not_sent": done.not_sent if done else 0, "calls": done.api_calls if done else 0,
        "retries": done.retries if done else 0,
        "stopped": str(error).splitlines()[0] if error is not None else (done.stopped if done else None),
        "verify": orjson.dumps(verify).decode() if verify is not None else None,
        "reasons": history.reasons(done.rejected) if done else [],
    })  # fmt: skip


async def public(work: Awaitable[T]) -> T:
    """The async public edge: a control signal that would leave the engine leaves as its public error."""
    try:
        return await work
    except Control as exc:
        raise public_error(exc) from None


def _resume_hint(exc: BaseException) -> str:
    job_id = getattr(exc, "job_id", None) or getattr(getattr(exc, "result", None), "job_id", None)
    return f"export_to_pardot(..., resume={job_id or True!r})"


async def _export(
    data: Any,
    config: ExportConfig,
    *,
    progress: bool | None,
    chunk_rows: int,
    resume: bool | str,
    journal: bool,
    state_dir: str | Path | None,
    refresh_fields: bool,
    verify: bool | float,
    transport: Transport | None,
    signals: bool,
) -> ExportResult:
    """The export itself (``export_to_pardot_async`` adds the notification)."""
    started = time.perf_counter()
    require_credentials(config)
    warn_concurrency(config)
    options = Options(progress, chunk_rows, resume, journal, Path(state_dir) if state_dir else None, refresh_fields,
                      keep_input=bool(verify), signals=signals)  # a one-shot input is kept for the verify  # fmt: skip
    flag = StopFlag()
    slots = shared_folder()  # one per user and machine, whatever the state folder: jobs share Pardot's five
    with tempfile.TemporaryDirectory(prefix="pardot-frames-") as spill:
        async with Client(config, transport=transport, slots_folder=slots, stop=lambda: flag.set) as client:
            source, calls = await check_input(data, config, options, Path(spill), client)
            plan, source = await set_up(client, config, options, source, calls)
            try:
                outcome = await send(plan, source, client, flag)
                checked = await verified(outcome, source, plan, client, verify) if verify else None
            except asyncio.CancelledError:
                if not flag.cancelled:
                    raise
                raise Interrupted(f"interrupted at once{flag.resume_hint()}", None, flag.job_id) from None
            finally:
                plan.close()
    result = assemble(outcome, config, started, bool(source.resume), plan.calls)
    result = replace(result, rejected=in_kind_of(result.rejected, data), verification=checked)  # pandas in, out
    if checked is not None:
        result.extra["verification"] = checked.summary()
    close_journal(outcome, result)
    raise_for_stop(outcome.stop, result)
    if checked is not None and not checked.ok and config.verify_strict:
        summary = checked.summary()
        raise VerifyFailed(
            f"the verify found {summary['mismatched_rows']:,} row(s) whose values Pardot does not hold as sent and "
            f"{summary['missing']:,} missing (verify_strict = true); result.verification.mismatches lists them",
            result,
        )
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
    verify: bool | float = False,
    notify: bool | Sequence[str] | None = None,
    signals: bool = True,
    **overrides: Any,
) -> ExportResult:
    """Send ``data`` (polars, pandas, pyarrow, DuckDB) to Pardot; also ``df.pipe(export_to_pardot, config)``.

    LazyFrames, record batch readers and DuckDB relations are read ``chunk_rows`` at a time, so memory
    stays bounded. Inside a running event loop (a Jupyter cell) the job runs on a private loop in a
    worker thread.

    Every job keeps a journal (``state_dir``, default the user's data folder); ``resume=True`` (or a
    job id) continues a stopped job with the same config and input, sending only unconfirmed rows.
    ``verify`` (True, or the share of rows to check) reads back what the job landed and compares it with
    what was sent: ``result.verification`` (``engine.verify``). ``notify`` (off by default here): True tells the
    job's ``notify`` URLs how it went (on its ``notify_on`` outcomes), or give the URLs (``engine.notify``).
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
        verify=verify,
        notify=notify,
        signals=signals,
        **overrides,
    )
    return run_sync(coroutine)


__all__ = ["CHUNK_ROWS", "export_to_pardot", "export_to_pardot_async", "run_sync"]
