"""Dry runs: validation and the plan of calls over the whole input; nothing is sent. The run's own rules
make the plan: the job's plan (``plan``: list names, fields, method, sync state, mirror), the chunk pipeline
(``pipeline``) and the send paths' pure planning (``paths``), so a dry run's figures are the run's.

Without credentials there is no network: list names, fields and the mirror's removals are said not
checked. With them, the account is read (reads only, cached); what cannot be read (no network, a refused
login) is said in ``note`` and the plan is still made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.host.bridge import run_sync
from pardot_frames.engine.job.intake import campaign_missing
from pardot_frames.engine.job.options import CHUNK_ROWS, Options
from pardot_frames.engine.job.pipeline import MAY_CREATE, Step, step_after, steps
from pardot_frames.engine.job.plan import JobPlan, dry_plan, warn_concurrency
from pardot_frames.engine.read.verify import verify_calls
from pardot_frames.engine.results import DAILY_IMPORT_BATCHES, DryRun, grouped_reasons
from pardot_frames.engine.send import ImportPath, SendPath, UpsertPath, for_job
from pardot_frames.engine.state.recycle_bin import Screened, screened
from pardot_frames.engine.state.sync import KnownIds
from pardot_frames.errors import PardotError, ValidationFailed
from pardot_frames.limits import DAILY_LIMIT
from pardot_frames.pardot.client import Client
from pardot_frames.prepare.csv_batches import ImportTally, can_import, needs_campaign, pick_method
from pardot_frames.prepare.frames import detached, is_streaming, job_chunks
from pardot_frames.prepare.rejected import from_outcomes, from_problems, with_inputs
from pardot_frames.prepare.validation import Validated

NOT_CHECKED = "columns and custom field values not checked against the account's fields (no credentials)"
DRY_RETRIES = 1  # a dry run's reads try once more at most: it plans anyway, and says what it could not read


@dataclass
class Planned:
    """One send path's plan over the input: its calls, lookups at most, and an import's tally."""

    path: SendPath
    calls: int = 0
    lookups: int = 0
    tally: ImportTally | None = None
    creating: int = 0  # rows an import would create (the campaign rule)

    def add(self, checked: Validated, config: ExportConfig) -> None:
        for phase in self.path.phases(checked):
            if phase.route == "import" and self.tally is not None:
                self.tally.add(list(self.path.calls(phase)))
            else:
                self.calls += self.path.count(phase)
            self.lookups += phase.lookups
        if self.tally is not None:
            self.creating += needs_campaign(checked.rows, config)

    def end(self) -> None:
        """The input's end cuts an import's last batches."""
        if isinstance(self.path, ImportPath) and self.tally is not None:
            self.tally.add(self.path.rest())

    @property
    def total(self) -> int:
        return self.calls + self.lookups + (self.tally.figures()["calls"] if self.tally is not None else 0)


@dataclass
class Counted:
    """The input as the pipeline yields it, planned by every path the job might take."""

    plans: dict[str, Planned]
    rows_in: int = 0
    valid: int = 0
    problems: list[pl.DataFrame] = field(default_factory=list)  # one row per problem
    rejected: list[pl.DataFrame] = field(default_factory=list)  # one row per invalid input row
    sync: dict[str, int] | None = None
    may_create: int = 0
    columns: list[str] = field(default_factory=list)  # the input's columns, as the first chunk has them
    deleted: int = 0  # rows for prospects in the recycle bin (reported; with restore_deleted: restored)
    bin_lookups: int = 0  # calls the bin's live check spends (the run spends the same)

    def screened(self, step: Step, found: Screened) -> None:
        """What the recycle bin did to a step's rows: refused ones are rejected rows (stage "deleted")."""
        self.bin_lookups += found.lookups
        self.deleted += len(found.refused) + found.restored
        if found.refused:
            outcomes = [(r, "deleted", None, reason) for r, reason in found.refused]
            self.rejected.append(detached(with_inputs(from_outcomes(outcomes), step.chunk, step.offset)))

    def add(self, step: Step, config: ExportConfig) -> None:
        self.columns = self.columns or list(step.send.rows.columns)
        for plan in self.plans.values():
            plan.add(step.send, config)
        self.rows_in += step.report.rows_in
        self.valid += step.report.rows.height  # unchanged rows are valid, and not sent
        self.problems.append(detached(step.send.problems))  # kept across chunks: not their buffers
        if step.send.problems.height:
            self.rejected.append(detached(with_inputs(from_problems(step.send.problems), step.chunk, step.offset)))
        self.may_create += step.may_create
        if self.sync is not None:
            self.sync["new"] += step.new
            self.sync["changed"] += step.changed
            self.sync["unchanged"] += step.unchanged


def candidate_paths(config: ExportConfig, ids: KnownIds | None = None, size: int | None = None) -> dict[str, Planned]:
    """The paths a run of this job may take: its method's (both for ``auto``), and body mode to compare; they
    plan lookups as the run makes them (the destination's id map ``ids``, the account's ``size``)."""
    plans: dict[str, Planned] = {}
    if config.data_object == "prospects" and config.method in ("import", "auto") and can_import(config):
        plans["import"] = Planned(for_job(config.replace(method="import"), ids=ids), tally=ImportTally())
    if config.data_object != "prospects" or config.method in ("batch", "auto") or not can_import(config):
        plans["batch"] = Planned(for_job(config.replace(method="batch"), ids=ids))
    if config.payload_location == "query" and "batch" in plans:
        plans["body"] = Planned(for_job(config.replace(method="batch", payload_location="body"), ids=ids))
    for plan in plans.values():
        if isinstance(plan.path, UpsertPath):
            plan.path.account_size = size
    return plans


def dry_run(
    data: Any,
    config: ExportConfig,
    *,
    daily_limit: int = DAILY_LIMIT,
    chunk_rows: int = CHUNK_ROWS,
    state_dir: str | Path | None = None,
    verify: bool | float | None = None,
) -> DryRun:
    """Validate and plan ``data`` as an export would, chunk by chunk; nothing is sent. With ``verify`` (True or
    the share of rows to check), the calls a verify after the run would take at most."""
    warn_concurrency(config)
    options = Options(chunk_rows=chunk_rows, folder=Path(state_dir) if state_dir else None)
    planned = run_sync(_dry_run(data, config, options, daily_limit))
    if verify is None or verify is False:
        return planned
    calls = verify_calls(planned.calls, planned.valid, verify, bool(planned.array_columns))
    return replace(planned, verify_calls=calls)


@asynccontextmanager
async def reader(config: ExportConfig) -> AsyncIterator[Client | None]:
    """A client for the dry run's reads (trying once more at most), or None without credentials."""
    if config.missing_credentials():
        yield None
        return
    async with Client(config.replace(maximum_retries=min(config.maximum_retries, DRY_RETRIES))) as client:
        yield client


async def _dry_run(data: Any, config: ExportConfig, options: Options, daily_limit: int) -> DryRun:
    async with reader(config) as client:
        decided = await dry_plan(client, config, options)
        try:
            counted = await count(data, decided, options, client)
            method, reason = pick_method(config, counted.rows_in if is_streaming(data) else counted.valid)
            to_remove, mirror_calls = await mirror_preview(decided, client)
        finally:
            decided.close()
    problems = pl.concat(counted.problems)
    if problems.height and not config.skip_invalid_records:
        raise ValidationFailed(problems, counted.rows_in, pl.concat(counted.rejected, how="diagonal_relaxed"))
    plan = counted.plans["import" if method == "import" else "batch"]
    if method == "import" and plan.creating:
        raise campaign_missing(plan.creating)  # what the real run would answer
    return summarise(decided, counted, (method, reason), plan, (to_remove, mirror_calls), daily_limit)


async def count(data: Any, decided: JobPlan, options: Options, client: Client | None) -> Counted:
    """Every chunk through the pipeline (and the recycle bin, as the run screens it), planned by each
    candidate path."""
    config = decided.config.replace(skip_invalid_records=True)
    plans = candidate_paths(decided.config, decided.sync, decided.account_size)
    counted = Counted(plans, sync={"new": 0, "changed": 0, "unchanged": 0} if decided.sync else None)
    json = decided.sync is not None  # the sync state hashes the JSON as sent; a plan alone needs its lengths
    pieces = job_chunks(data, options.chunk_rows, decided.config)  # the run's chunks, its first slice included
    for step in steps(pieces, config, decided.fields, decided.sync, decided.mirror, with_json=json):
        if decided.bin is not None:
            send, found = await screened(decided.bin, step.send, step.report.rows, client, decided.sync, with_json=json)
            counted.screened(step, found)
            step = step_after(step, send, found, decided.config)
        counted.add(step, decided.config)
    for plan in counted.plans.values():
        plan.end()
    return counted


async def mirror_preview(decided: JobPlan, client: Client | None) -> tuple[int | str | None, int]:
    """(memberships the mirror would remove, calls it would take), read from Pardot; without credentials
    or network, a word that they were not counted."""
    if decided.mirror is None:
        return None, 0
    if client is None:
        return "not counted (no credentials)", len(decided.mirror.lists())
    try:
        return await decided.mirror.preview(client, decided.sync)
    except PardotError as exc:
        return f"not counted ({exc})", len(decided.mirror.lists())


def summarise(
    decided: JobPlan,
    counted: Counted,
    method: tuple[str, str],
    plan: Planned,
    mirror: tuple[int | str | None, int],
    daily_limit: int,
) -> DryRun:
    """The DryRun a user reads: the chosen path's calls plus the plan's and the mirror's."""
    config = decided.config
    problems = pl.concat(counted.problems)
    notes = [*decided.notes, *email_notes(counted, decided)]
    body = counted.plans.get("body")
    extra = decided.calls + mirror[1] + counted.bin_lookups  # besides the path's own calls
    fields = decided.fields.custom if decided.fields else {}
    return DryRun(
        counted.rows_in,
        counted.valid,
        problems["row_nr"].n_unique(),
        plan.total + extra,
        daily_limit,
        grouped_reasons(problems),
        pl.concat(counted.rejected, how="diagonal_relaxed") if counted.rejected else from_problems(problems),
        "; ".join(notes) or None,
        plan.lookups,
        config.payload_location,
        body.total + extra if body is not None and plan.tally is None else None,
        config.max_api_calls,
        dict(decided.lists) if decided.lists is not None else None,
        counted.sync,
        mirror[0],
        import_figures(config, method, counted.plans.get("import")),
        counted.may_create,
        lookups_exact=decided.account_size is not None,
        deleted=counted.deleted,
        array_columns=tuple(c for c in counted.columns if c in fields and fields[c].array),
    )


def email_notes(counted: Counted, decided: JobPlan) -> list[str]:
    """What the plan says of rows named by email: those that may create prospects, and upsert_by_email's lookups."""
    config, notes = decided.config, []
    if counted.may_create:
        notes.append(MAY_CREATE.format(n=counted.may_create))
    if config.upsert_by_email and config.data_object == "prospects" and decided.account_size is None:
        notes.append(
            "upsert_by_email looks emails up before sending: the calls include at most one lookup per distinct "
            "email and phase (fewer when listing the account, 200 prospects a call, is cheaper)"
        )
    elif config.upsert_by_email and config.data_object == "prospects":
        notes.append(
            f"upsert_by_email looks emails up before sending: the account holds {decided.account_size:,} prospects, "
            "so each phase reads its emails one by one or lists the account (200 a call), whichever is fewer calls; "
            "emails the id map knows are not looked up"
        )
    return notes


def import_figures(config: ExportConfig, method: tuple[str, str], plan: Planned | None) -> dict[str, Any] | None:
    """What an import decided would take (imports, batches, bytes, the daily batch share), and for ``auto``
    which method it picks and why."""
    if plan is None or plan.tally is None:
        return {"method": method[0], "method_reason": method[1]} if config.method == "auto" else None
    planned = plan.tally.figures()
    return {
        "method": method[0],
        "method_reason": method[1],
        "imports": planned["imports"],
        "import_batches": planned["batches"],
        "import_bytes": planned["bytes"],
        "daily_batch_share": round(planned["batches"] / DAILY_IMPORT_BATCHES, 6),
    }
