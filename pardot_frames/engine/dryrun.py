"""Dry runs: validation and the plan of calls over the whole input; nothing is sent. Without credentials
no network either; with them, the account's fields and list names are read (reads only, cached).

The calls are planned by the job's own send path (``paths.planned_calls``), so a dry run counts what
a real run would send, upsert_by_email phases and (at most) its lookups included.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.export import campaign_missing, run_sync
from pardot_frames.engine.fields import field_calls, read_now
from pardot_frames.engine.journal import state_dir as default_state_dir
from pardot_frames.engine.mirror import Mirror, mirrors
from pardot_frames.engine.paths import ImportPath, for_job, planned_calls
from pardot_frames.engine.sync import SyncState
from pardot_frames.errors import ValidationFailed
from pardot_frames.limits import DAILY_LIMIT
from pardot_frames.pardot import lists
from pardot_frames.pardot.client import Client
from pardot_frames.prepare.fields import Fields
from pardot_frames.prepare.frames import chunks
from pardot_frames.prepare.imports import can_import, needs_campaign, pick_method
from pardot_frames.prepare.validation import validate

DAILY_IMPORT_BATCHES = 1_000  # import batches per account per day (Pardot's default)


@dataclass(frozen=True)
class DryRun:
    """What a run would do: counts, calls, and the rejected rows."""

    rows_in: int
    valid: int
    invalid: int
    calls: int
    daily_limit: int
    reasons: dict[str, int]
    rejected: pl.DataFrame
    note: str | None = None
    lookups: int = 0  # of the calls, lookups at most (upsert_by_email: the account size is not known)
    payload_location: str = "query"
    calls_in_body_mode: int | None = None  # query mode: what body mode would take for the same rows
    max_api_calls: int | None = None
    lists: dict[str, int | str] | None = None  # list names: their ids, "would be created", or "not checked"
    sync: dict[str, int] | None = None  # changed mode: new, changed, unchanged rows
    to_remove: int | str | None = None  # mirror: memberships the job would remove (or why not counted)
    imports: dict[str, Any] | None = None  # import method: imports, batches, bytes, daily batch share, choice

    def summary(self) -> dict[str, Any]:
        return {
            "dry_run": True,
            "rows_in": self.rows_in,
            "valid": self.valid,
            "invalid": self.invalid,
            "calls_planned": self.calls,
            "lookup_calls_at_most": self.lookups,
            "rows_per_call": round(self.valid / self.calls, 2) if self.calls else 0.0,
            "calls_per_row": round(self.calls / self.rows_in, 4) if self.rows_in else 0.0,
            "daily_limit": self.daily_limit,
            "daily_limit_share": round(self.calls / self.daily_limit, 6),
            "payload_location": self.payload_location,
            "calls_in_body_mode": self.calls_in_body_mode,
            "max_api_calls": self.max_api_calls,
            "within_max_api_calls": None if self.max_api_calls is None else self.calls <= self.max_api_calls,
            "lists": self.lists,
            **(self.sync or {}),
            **({"to_remove": self.to_remove} if self.to_remove is not None else {}),
            **(self.imports or {}),
            "invalid_reasons": self.reasons,
            "note": self.note,
        }


def grouped_reasons(problems: pl.DataFrame) -> dict[str, int]:
    """Problems counted by column and check, most frequent first; reasons that differ only in a number
    ("the row is 8280 characters ..." and "... 8278 ...") become one line with the range of that number."""
    if not problems.height:
        return {}
    first_number = pl.col("reason").str.extract(r"(\d+)").cast(pl.Int64)
    groups = (
        problems.with_columns(pl.col("reason").str.replace(r"\d+", "{n}").alias("shape"), first_number.alias("n"))
        .group_by("column", "check", "shape", maintain_order=True)
        .agg(
            pl.len().alias("count"),
            pl.col("reason").first(),
            pl.col("n").min().alias("lo"),
            pl.col("n").max().alias("hi"),
        )
        .sort("count", descending=True, maintain_order=True)
    )
    out: dict[str, int] = {}
    for column, _check, shape, count, reason, lo, hi in groups.iter_rows():
        text = reason if lo == hi else shape.replace("{n}", f"{lo}-{hi}", 1)
        out[f"{column}: {text}"] = count
    return out


def dry_run(
    data: Any,
    config: ExportConfig,
    *,
    daily_limit: int = DAILY_LIMIT,
    chunk_rows: int = 100_000,
    state_dir: str | Path | None = None,
) -> DryRun:
    """Validate and plan ``data`` as an export would, chunk by chunk; nothing is sent."""
    lenient = config.replace(skip_invalid_records=True)
    rows_in = valid = lookups = body_calls = 0
    rejected: list[pl.DataFrame] = []
    path = for_job(config.replace(method="import") if config.method == "auto" and can_import(config) else config)
    batch_path = for_job(config.replace(method="batch")) if config.method == "auto" else None
    batch_calls = path_calls = creating = 0
    in_query = config.payload_location == "query"
    body = for_job(config.replace(payload_location="body")) if in_query else None
    folder = Path(state_dir) if state_dir else default_state_dir()
    fields, fields_note = dry_fields(config, folder)
    # a dry run with credentials reads the fields itself, so the run that follows finds them cached
    calls = 0 if fields is not None else field_calls(config, folder)
    state = SyncState(config, folder, dry=True) if config.sync_mode == "changed" else None
    sync = {"new": 0, "changed": 0, "unchanged": 0} if state is not None else None
    resolved = list_resolution(config) if config.list_names else None
    mirror = Mirror(with_resolved(config, resolved)) if mirrors(config) else None
    for chunk in chunks(data, chunk_rows):
        checked = validate(chunk, lenient, first_row=rows_in, fields=fields)
        if mirror is not None:
            mirror.note(checked)
        if state is not None and sync is not None:
            diff = state.diff(checked)
            sync["new"] += diff.new
            sync["changed"] += diff.changed
            sync["unchanged"] += len(diff.unchanged)
            valid += len(diff.unchanged)  # valid, and not to be sent
            checked = diff.to_send
        chunk_calls, chunk_lookups = planned_calls(path, checked)
        path_calls += chunk_calls + chunk_lookups
        if batch_path is not None:
            batch_calls += sum(planned_calls(batch_path, checked))
        if isinstance(path, ImportPath):
            creating += needs_campaign(checked.rows, config)
        calls += chunk_calls + chunk_lookups
        lookups += chunk_lookups
        if body is not None:
            body_calls += sum(planned_calls(body, checked))
        rows_in += checked.rows_in
        valid += checked.rows.height
        rejected.append(checked.rejected)
    if isinstance(path, ImportPath):  # the input's end cuts the last batches; imports add create, submit, polls
        path.rest()
        path_calls += path.planned_figures()["calls"]
        calls += path.planned_figures()["calls"]
    problems = pl.concat(rejected)
    if problems.height and not config.skip_invalid_records:
        raise ValidationFailed(problems, rows_in)
    imports = import_figures(path, config, valid)
    if imports is not None and imports["method"] == "import" and creating:
        raise campaign_missing(creating)  # what the real run would answer
    if imports is not None and imports["method"] == "batch" and batch_path is not None:
        calls += batch_calls - path_calls
    to_remove: int | str | None = None
    if mirror is not None:
        to_remove, mirror_calls = mirror_preview(mirror, config, state)
        calls += mirror_calls
    if state is not None:
        state.close()
    reasons = grouped_reasons(problems)
    notes = [fields_note] if fields_note else []
    if config.upsert_by_email and config.data_object == "prospects":
        notes.append(
            "upsert_by_email looks emails up before sending: the calls include at most one lookup per distinct "
            "email and phase (fewer when listing the account, 200 prospects a call, is cheaper)"
        )
    note = "; ".join(notes) or None
    return DryRun(
        rows_in,
        valid,
        problems["row_nr"].n_unique(),
        calls,
        daily_limit,
        reasons,
        problems,
        note,
        lookups,
        config.payload_location,
        body_calls if in_query else None,
        config.max_api_calls,
        resolved,
        sync,
        to_remove,
        imports,
    )


def import_figures(path: Any, config: ExportConfig, valid: int) -> dict[str, Any] | None:
    """What an import job would take (imports, batches, bytes, the daily batch share), and for ``auto``
    which method it picks and why."""
    method, reason = pick_method(config, valid)
    if not isinstance(path, ImportPath):
        return {"method": method, "method_reason": reason} if config.method == "auto" else None
    planned = path.planned_figures()
    return {
        "method": method,
        "method_reason": reason,
        "imports": planned["imports"],
        "import_batches": planned["batches"],
        "import_bytes": planned["bytes"],
        "daily_batch_share": round(planned["batches"] / DAILY_IMPORT_BATCHES, 6),
    }


def with_resolved(config: ExportConfig, resolved: dict[str, int | str] | None) -> ExportConfig:
    """The config with list names the dry run resolved replaced by ids (unresolved ones dropped)."""
    if not resolved:
        return config
    ids = [x if isinstance(x, int) else resolved.get(x) for x in config.prospect_lists]
    return config.replace(prospect_lists=[x for x in ids if isinstance(x, int)] or config.prospect_lists)


def mirror_preview(mirror: Mirror, config: ExportConfig, state: SyncState | None) -> tuple[int | str, int]:
    """(memberships the mirror would remove, calls it would take), read from Pardot; without credentials,
    a word that they were not counted."""
    if config.missing_credentials():
        return "not counted (no credentials)", len(mirror.lists())

    async def look() -> tuple[int, int]:
        async with Client(config) as client:
            return await mirror.preview(client, state)

    return run_sync(look())


def dry_fields(config: ExportConfig, folder: Path) -> tuple[Fields | None, str | None]:
    """The account's fields for the dry run's checks (one call, or the cache), or why they were not checked."""
    if not config.check_fields or config.data_object != "prospects":
        return None, None
    if config.missing_credentials():
        return None, "columns and custom field values not checked against the account's fields (no credentials)"

    return read_now(config, folder), None


def list_resolution(config: ExportConfig) -> dict[str, int | str]:
    """List names as the job would resolve them (one query each; nothing is created), or, without
    credentials, a word that they were not checked."""
    if config.missing_credentials():
        return dict.fromkeys(config.list_names, "not checked (no credentials)")

    async def look() -> dict[str, int | None]:
        async with Client(config) as client:
            await client.login()
            return await lists.resolve(client, config.list_names, create=config.create_missing_lists, dry=True)

    return {name: "would be created" if found is None else found for name, found in run_sync(look()).items()}
