"""The job's plan: everything a job decides before its rows move, made once and frozen, the same way for the
run and the dry run: the job as written and as its rows go (list names resolved to ids, the method), the
account's fields, the method and why, the destination's sync state, the mirror and the recycle bin.

The run asks Pardot (and may create a missing list); the dry run asks the same questions read-only,
or, without credentials or network, says what it could not check. No step writes into the plan: the
handles it holds (sync state, mirror, recycle bin) keep their own state.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from pardot_frames._control import LookupFailed
from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.job.intake import Source
from pardot_frames.engine.job.options import Options
from pardot_frames.engine.send.mirror import Mirror, mirrors
from pardot_frames.engine.state.field_cache import account_fields, cached
from pardot_frames.engine.state.recycle_bin import RecycleBin, bin_calls, checks_bin
from pardot_frames.engine.state.sync import SyncState
from pardot_frames.engine.stop import Stop
from pardot_frames.errors import ApiError, ConfigError, PardotError, PardotFramesWarning, RetriesExhausted
from pardot_frames.limits import CONCURRENT_LIMIT
from pardot_frames.pardot import lists, prospects
from pardot_frames.pardot.client import Client
from pardot_frames.prepare.account_fields import Fields
from pardot_frames.prepare.validation import validate


@dataclass(frozen=True)
class JobPlan:
    """What a job decided before rows move. ``written`` is the job as the user wrote it (what a journal and a
    resume match), ``config`` the job as its rows go."""

    written: ExportConfig
    config: ExportConfig
    options: Options
    fields: Fields | None = None
    method: str = "batch"
    method_reason: str = "as configured"
    lists: Mapping[str, int | str] | None = None  # list names: their ids, "would be created", or why not checked
    sync: SyncState | None = None
    mirror: Mirror | None = None
    bin: RecycleBin | None = None  # the account's recycle bin (check_deleted): rows for deleted prospects stay
    calls: int = 0  # calls the plan spends in a run (the fields, the list names, the recycle bin)
    early: Stop | None = None  # Pardot refused the job before a row went
    notes: tuple[str, ...] = ()  # what a dry run could not check
    account_size: int | None = None  # prospects in the account (a dry run with upsert_by_email reads it)

    def close(self) -> None:
        if self.sync is not None:
            self.sync.close()


class Lists(NamedTuple):
    """The job with list names resolved: its config, what each name became, and the calls that took."""

    config: ExportConfig
    shown: dict[str, int | str] | None
    calls: int


def job_config(config: ExportConfig | None, overrides: dict[str, Any]) -> ExportConfig:
    """The job's config with overrides and one output-mapping timestamp."""
    config = config or ExportConfig()
    if overrides:
        config = config.replace(**overrides)
    if config.output_mapping is not None and config.output_mapping.timestamp is None:
        config = config.replace(output_mapping=config.output_mapping.stamped())  # one timestamp per export
    return config


def require_credentials(config: ExportConfig) -> None:
    """Sending needs credentials: every missing one in one error."""
    if missing := config.missing_credentials():
        raise ConfigError(
            [f"{key} is required to send (set it in the job or in PARDOT_* variables)" for key in missing]
        )


def warn_concurrency(config: ExportConfig) -> None:
    """One warning when parallel_tasks is above what Pardot allows in flight."""
    if config.parallel_tasks > CONCURRENT_LIMIT:
        message = (
            f"parallel_tasks={config.parallel_tasks} is above Pardot's {CONCURRENT_LIMIT} concurrent calls "
            f"per business unit; at most {CONCURRENT_LIMIT} calls will be in flight"
        )
        warnings.warn(message, PardotFramesWarning, stacklevel=4)


def field_calls(config: ExportConfig, folder: Path) -> int:
    """The calls a job spends on the account's fields: one, unless a fresh cache spares it (or it checks none)."""
    if not checks_fields(config):
        return 0
    return 0 if cached(config, folder) else 1


def checks_fields(config: ExportConfig) -> bool:
    """Whether a job checks its columns against the account's fields (prospects, ``check_fields``)."""
    return config.check_fields and config.data_object == "prospects"


async def read_fields(client: Client, config: ExportConfig, options: Options) -> tuple[Fields | None, int]:
    """The account's fields when this job checks them (prospects, ``check_fields``), and the calls spent (at
    most one: they are cached per destination)."""
    if not checks_fields(config):
        return None, 0
    before = client.stats.api_calls
    try:
        fields = await account_fields(client, config, options.state_folder, refresh=options.refresh_fields)
    except RetriesExhausted as exc:
        raise ApiError(
            f"cannot read the account's custom fields ({exc}); try again later, or set "
            "check_fields = false to send without checking columns against them",
            exc.code,
        ) from None
    return fields, client.stats.api_calls - before


async def resolve_lists(client: Client | None, config: ExportConfig, *, dry: bool) -> Lists:
    """The config with list names replaced by their ids (a run creates missing ones if allowed); a dry run
    without credentials leaves names as they are. An unknown name is a ConfigError."""
    if not config.list_names:
        return Lists(config, None, 0)
    if client is None:
        return Lists(config, dict.fromkeys(config.list_names, "not checked (no credentials)"), len(config.list_names))
    before = client.stats.api_calls
    found = await lists.resolve(client, config.list_names, create=config.create_missing_lists, dry=dry)
    ids = [found.get(x) if isinstance(x, str) else x for x in config.prospect_lists]
    sent = [x for x in ids if isinstance(x, int)]
    shown: dict[str, int | str] = {name: "would be created" if got is None else got for name, got in found.items()}
    calls = client.stats.api_calls - before + (sum(got is None for got in found.values()) if dry else 0)
    return Lists(config.replace(prospect_lists=sent or config.prospect_lists), shown, calls)


async def open_bin(
    config: ExportConfig, client: Client, options: Options
) -> tuple[RecycleBin | None, int, Stop | None]:
    """The account's recycle bin brought up to date, the calls that took, and the stop a refusal means (before
    a row goes)."""
    if not checks_bin(config):
        return None, 0, None
    found = RecycleBin(config, options.state_folder)
    try:
        return found, await found.refresh(client), None
    except PardotError as exc:
        return None, 0, Stop.fatal(exc)


def destination(config: ExportConfig, folder: Path, *, dry: bool) -> dict[str, Any]:
    """The destination's sync state (changed mode) and the mirror, for the config as the rows go."""
    return {
        "sync": SyncState(config, folder, dry=dry) if config.sync_mode == "changed" else None,
        "mirror": Mirror(config) if mirrors(config) else None,
    }


async def set_up(client: Client, written: ExportConfig, options: Options, source: Source,
                 spent: int) -> tuple[JobPlan, Source]:  # fmt: skip
    """The run's plan against Pardot: log in (full mode: bad credentials fail before any row), list names to
    ids (an unknown name is a ConfigError), the account's fields unless read already (a refusal stops the job
    before a row goes), the recycle bin; and the input with its first chunk checked again where they change it.
    ``spent``: calls the input's checks took (a strict stream reads the fields first)."""
    if written.sync_mode == "full":  # changed mode logs in with its first call: none if nothing changed
        await client.login()
    resolved = await resolve_lists(client, written, dry=False)
    config, calls, early = resolved.config, resolved.calls + spent, None
    fields, again = source.fields, bool(written.list_names)
    try:
        if source.fields is None:
            fields, read = await read_fields(client, written, options)
            calls += read
            again = again or (fields is not None and fields.matters(source.first.columns))
    except PardotError as exc:  # Pardot refused the job before a row went: every row is reported not sent
        early = Stop.fatal(exc)
    if again:
        source = replace(source, first_checked=validate(source.first, config, fields=fields))
    if source.method != config.method:
        config = config.replace(method=source.method)
    found, bin_spent, refused = await open_bin(config, client, options) if early is None else (None, 0, None)
    plan = JobPlan(written, config, options, fields, source.method, source.method_reason, resolved.shown,
                   bin=found, calls=calls + bin_spent, early=early or refused,
                   **destination(config, options.state_folder, dry=False))  # fmt: skip
    return plan, source


async def dry_plan(client: Client | None, written: ExportConfig, options: Options) -> JobPlan:
    """The run's plan, read-only: list names (one query each; nothing is created), the account's fields (the
    run then finds them cached), the recycle bin, the destination's state and mirror for the lists as they
    resolve. What cannot be read is said in ``notes``, not raised."""
    if client is None:
        resolved = await resolve_lists(None, written, dry=True)
        unread = [
            *(["the recycle bin not read (no credentials): rows for deleted prospects not counted"]
              if checks_bin(written) else []),
            *(["columns and custom field values not checked against the account's fields (no credentials)"]
              if checks_fields(written) else []),
        ]  # fmt: skip
        calls = resolved.calls + field_calls(written, options.state_folder) + bin_calls(written, options.state_folder)
        return JobPlan(written, resolved.config, options, lists=resolved.shown, calls=calls, notes=tuple(unread),
                       **destination(resolved.config, options.state_folder, dry=True))  # fmt: skip
    notes: list[str] = []
    resolved, fields = await _dry_reads(client, written, options, notes)
    found, calls = await _dry_bin(resolved.config, client, options, notes)
    size = await _account_size(client, written, notes)
    return JobPlan(written, resolved.config, options, fields, lists=resolved.shown, bin=found,
                   calls=resolved.calls + calls, notes=tuple(notes), account_size=size,
                   **destination(resolved.config, options.state_folder, dry=True))  # fmt: skip


async def _dry_reads(
    client: Client, config: ExportConfig, options: Options, notes: list[str]
) -> tuple[Lists, Fields | None]:
    """A dry run's reads of the account (list names, fields): what cannot be read is said, not raised."""
    try:
        resolved = await resolve_lists(client, config, dry=True)
    except PardotError as exc:
        resolved = Lists(config, dict.fromkeys(config.list_names, f"not checked ({exc})"), 0)
        notes.append(f"list names not checked: {exc}")
    fields = None
    try:
        fields, _ = await read_fields(client, config, options)
    except PardotError as exc:
        notes.append(f"columns and custom field values not checked against the account's fields: {exc}")
    return resolved, fields


async def _dry_bin(
    config: ExportConfig, client: Client, options: Options, notes: list[str]
) -> tuple[RecycleBin | None, int]:
    """The recycle bin, read (and kept, like the field cache) so the plan screens rows as the run will; a run
    within the minute asks nothing more of it (later: one call, the probe, which the plan then counts)."""
    found, _, refused = await open_bin(config, client, options)
    if refused is not None:
        notes.append(f"the recycle bin not read ({refused.reason}): rows for deleted prospects not counted")
    return found, 0 if found is None or found.fresh() else 1


async def _account_size(client: Client, config: ExportConfig, notes: list[str]) -> int | None:
    """Prospects in the account, when upsert_by_email plans lookups by it (one call)."""
    if not (config.upsert_by_email and config.data_object == "prospects"):
        return None
    try:  # lookups are then planned as the run makes them, not at most
        return await prospects.account_size(client)
    except (PardotError, LookupFailed) as exc:
        notes.append(f"the account's size not read ({exc}): email lookups counted at most")
        return None
