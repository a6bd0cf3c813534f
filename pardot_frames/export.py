"""``export_to_pardot``: validate, plan, send, and account for every row.

Input errors are all found before the first call (``validate``). Then the plan's calls go out with
``parallel_tasks`` in flight, in order; each row ends applied, rejected (with Pardot's reason) or
not sent (the job stopped first: daily limit or a fatal error).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import polars as pl

from .batching import plan
from .config import ExportConfig
from .errors import ConfigError, JobFailed, PardotError
from .frames import ROW_NR, to_polars
from .list_memberships import MembershipSender
from .lookup import resolve_emails
from .payload import prospect_payloads
from .prospects import ProspectSender, Row
from .results import ExportResult, Ledger, rejected_frame
from .transport import DailyLimitReached, Transport
from .validate import Validated, validate

log = logging.getLogger("pardot_frames")
T = TypeVar("T")
CONCURRENT_LIMIT = 5  # Pardot's concurrent calls per business unit


class _Progress:
    """A tqdm bar over rows when wanted (terminal or notebook), else nothing."""

    def __init__(self, total: int, enabled: bool | None) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.bar = None
        if enabled and total:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="row", desc="pardot", leave=False)

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


async def _run(
    items: Iterable[T], handle: Callable[[T], Awaitable[None]], workers: int, stop_when: Callable[[], str | None]
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
    """One export's state while it runs."""

    def __init__(self, config: ExportConfig, checked: Validated, transport: Transport, progress: _Progress) -> None:
        self.config, self.checked, self.transport, self.progress = config, checked, transport, progress
        self.ledger = Ledger()
        self.planned_calls = 0
        self.extra: dict[str, Any] = {}

    def _stop_when(self) -> str | None:
        if not self.config.skip_invalid_records and self.ledger.failed:
            row, (_, code, message) = next(iter(self.ledger.failed.items()))
            return f"Pardot rejected row {row} ({message}) and skip_invalid_records is false"
        return None

    async def prospects(self) -> BaseException | str | None:
        sender = ProspectSender(self.transport, self.config, self.ledger)
        rows, payloads = self.checked.rows, self.checked.payloads
        phases: list[pl.DataFrame] = [rows]
        if self.config.upsert_by_email:
            phases = self._phases(rows)
        stopped = None
        for number, phase in enumerate(phases):
            if self.config.upsert_by_email:
                missing = phase.filter(pl.col("id").is_null()) if "id" in phase.columns else phase
                found = await resolve_emails(self.transport, missing["email"].to_list()) if missing.height else {}
                phase = _with_ids(phase, found)
                self.extra["emails_matched"] = self.extra.get("emails_matched", 0) + len(found)
                payloads = prospect_payloads(phase, self.config)
            elif number:
                break
            job_plan = plan(payloads, self.config)
            self.planned_calls += job_plan.calls
            emails = dict(zip(phase[ROW_NR].to_list(), _email_only(phase), strict=True))
            js = dict(
                zip(
                    payloads[ROW_NR].to_list(),
                    zip(payloads["json"].to_list(), payloads["size"].to_list(), strict=True),
                    strict=True,
                )
            )
            batches = [
                [Row(r, js[r][0], js[r][1], emails[r]) for r in row_nrs]
                for row_nrs in job_plan.batches["row_nrs"].to_list()
            ]

            async def handle(batch: list[Row]) -> None:
                await sender.send(batch)
                self.progress.update(len(batch))

            stopped = await _run(batches, handle, self.config.parallel_tasks, self._stop_when)
            if stopped is not None:
                break
        self.extra.update(uri_splits=sender.splits, lookups=sender.lookups, final_max_payload=sender.max_payload)
        return stopped

    def _phases(self, rows: pl.DataFrame) -> list[pl.DataFrame]:
        """upsert_by_email: the k-th row of an email goes in phase k, after the prospect exists."""
        occurrence = pl.col(ROW_NR).cum_count().over(pl.col("email").str.to_lowercase()) - 1
        ranked = rows.with_columns(occurrence.alias("_k"))
        return (
            [ranked.filter(pl.col("_k") == k).drop("_k") for k in range(int(ranked["_k"].max() or 0) + 1)]
            if rows.height
            else [rows]
        )

    async def memberships(self) -> BaseException | str | None:
        sender = MembershipSender(self.transport, self.config, self.ledger)
        payloads = self.checked.payloads
        self.planned_calls = payloads.height

        async def handle(item: tuple[int, int, int]) -> None:
            await sender.send(*item)
            self.progress.update(1)

        return await _run(payloads.iter_rows(), handle, self.config.parallel_tasks, self._stop_when)


def _prepare(
    data: Any, config: ExportConfig | None, overrides: dict[str, Any]
) -> tuple[ExportConfig, pl.DataFrame, Validated]:
    config = config or ExportConfig()
    if overrides:
        config = config.replace(**overrides)
    missing = config.missing_credentials()
    if missing:
        raise ConfigError(
            [f"{key} is required to send (set it in the job, with --set, or in PARDOT_* variables)" for key in missing]
        )
    frame = to_polars(data)
    return config, frame, validate(frame, config)


async def export_to_pardot_async(
    data: Any, config: ExportConfig | None = None, *, progress: bool | None = None, **overrides: Any
) -> ExportResult:
    """The async twin of ``export_to_pardot``."""
    started = time.perf_counter()
    config, frame, checked = _prepare(data, config, overrides)
    if config.parallel_tasks > CONCURRENT_LIMIT:
        message = (
            f"parallel_tasks={config.parallel_tasks} is above Pardot's {CONCURRENT_LIMIT} concurrent calls "
            "per business unit; expect error 66 and backoff"
        )
        warnings.warn(message, stacklevel=2)
        log.warning(message)
    bar = _Progress(checked.rows.height, progress)
    try:
        async with Transport(config) as transport:
            assert transport.tokens is not None
            await transport.tokens.get()  # log in first: bad credentials fail before any row is sent
            job = _Job(config, checked, transport, bar)
            sending = time.perf_counter()
            stopped = await (job.prospects() if config.data_object == "prospects" else job.memberships())
            job.extra["send_seconds"] = round(time.perf_counter() - sending, 3)
    finally:
        bar.close()
    unsent = [r for r in checked.rows[ROW_NR].to_list() if not job.ledger.done(r)]
    reason = _reason(stopped)
    if unsent:
        job.ledger.not_sent(
            unsent, 122 if isinstance(stopped, DailyLimitReached) else None, f"not sent: the job stopped ({reason})"
        )
    stats = transport.stats
    stages = Counter(stage for stage, _, _ in job.ledger.failed.values())
    result = ExportResult(
        data_object=config.data_object,
        rows_in=checked.rows_in,
        valid=checked.rows.height,
        rejected_validation=checked.rejected_rows,
        rejected_pardot=stages["pardot"],
        succeeded=len(job.ledger.succeeded),
        not_sent=stages["not_sent"],
        api_calls=stats.api_calls,
        retries=stats.retries,
        elapsed=time.perf_counter() - started,
        rejected=rejected_frame(frame, job.ledger, checked.rejected),
        notes=dict(Counter(n for n in job.ledger.succeeded.values() if n)),
        stopped=reason,
        planned_calls=job.planned_calls,
        extra={**job.extra, "token_refreshes": stats.refreshes, "concurrency_lowered": transport.limiter.lowered},
    )
    if isinstance(stopped, PardotError):  # fatal: the original error, with what was done so far
        stopped.result = result
        stopped.add_note(result._summary_line())
        raise stopped
    if isinstance(stopped, str):
        raise JobFailed(f"the export stopped: {reason}. {result._summary_line()}", result)
    return result


def _reason(stopped: BaseException | str | None) -> str | None:
    if stopped is None:
        return None
    if isinstance(stopped, DailyLimitReached):
        return "daily API limit met (error 122); run again after the account's day resets"
    return str(stopped)


def export_to_pardot(
    data: Any, config: ExportConfig | None = None, *, progress: bool | None = None, **overrides: Any
) -> ExportResult:
    """Send ``data`` (polars, pandas, pyarrow, DuckDB) to Pardot; also ``df.pipe(export_to_pardot, config)``.

    Inside a running event loop (a Jupyter cell) the job runs on a private loop in a worker thread.
    """
    coroutine = export_to_pardot_async(data, config, progress=progress, **overrides)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1, thread_name_prefix="pardot-export") as pool:
        return pool.submit(asyncio.run, coroutine).result()
