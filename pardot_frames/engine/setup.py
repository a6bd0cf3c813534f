"""Everything a job decides before its rows move, made the same way for the run and the dry run: the
config as the rows go (list names resolved to ids), the account's fields, the method and why, the
campaign rule, the destination's sync state and the mirror.

The run asks Pardot (and may create a missing list); the dry run asks the same questions read-only,
or, without credentials or network, says what it could not check.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.field_cache import account_fields, cached
from pardot_frames.engine.journal import state_dir as default_state_dir
from pardot_frames.engine.mirror import Mirror, mirrors
from pardot_frames.engine.recycle_bin import RecycleBin, checks_bin
from pardot_frames.engine.stop import Stop
from pardot_frames.engine.sync import SyncState
from pardot_frames.errors import ApiError, ConfigError, PardotError, PardotFramesWarning, RetriesExhausted
from pardot_frames.limits import CONCURRENT_LIMIT
from pardot_frames.pardot import lists
from pardot_frames.pardot.client import Client
from pardot_frames.prepare.account_fields import Fields

log = logging.getLogger("pardot_frames")
CHUNK_ROWS = 100_000  # rows validated, planned and sent at a time from streaming inputs


@dataclass(frozen=True)
class Options:
    """How to run a job (not what it sends): progress, chunking, journal and resume, the state folder."""

    progress: bool | None = None
    chunk_rows: int = CHUNK_ROWS
    resume: bool | str = False
    journal: bool = True
    folder: Path | None = None
    refresh_fields: bool = False
    keep_input: bool = False  # a one-shot stream is kept (spilled to Parquet) for a second read: the verify
    signals: bool = True  # Ctrl-C and SIGTERM stop the job (the host's handlers put back after); False: untouched

    @property
    def state_folder(self) -> Path:
        return self.folder or default_state_dir()


@dataclass
class Setup:
    """What a job decided before rows move; ``config`` is the job as its rows go."""

    config: ExportConfig
    fields: Fields | None = None
    method: str = "batch"
    method_reason: str = "as configured"
    lists: dict[str, int | str] | None = None  # list names: their ids, "would be created", or why not checked
    sync: SyncState | None = None
    mirror: Mirror | None = None
    calls: int = 0  # calls the setup spends in a run (the fields, the list names)
    early: Stop | None = None  # Pardot refused the job before a row went
    notes: list[str] = field(default_factory=list)  # what a dry run could not check
    account_size: int | None = None  # prospects in the account (a dry run with upsert_by_email reads it)
    bin: RecycleBin | None = None  # the account's recycle bin (check_deleted): rows for deleted prospects stay

    def close(self) -> None:
        if self.sync is not None:
            self.sync.close()


async def open_bin(setup: Setup, client: Client, options: Options) -> None:
    """The account's recycle bin, brought up to date (its calls are the setup's); a refusal stops the job
    before a row goes."""
    if not checks_bin(setup.config) or setup.early is not None:
        return
    setup.bin = RecycleBin(setup.config, options.state_folder)
    try:
        setup.calls += await setup.bin.refresh(client)
    except PardotError as exc:
        setup.early = Stop.fatal(exc)


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


def campaign_missing(creating: int) -> ConfigError:
    """The refusal of an import that would create prospects without a campaign (before any call)."""
    return ConfigError([
        f"method = import: {creating:,} row(s) would create prospects (no id or fid to match) and an import "
        "that creates needs a campaign: set import_campaign_id (or give a campaign_id column)"
    ])  # fmt: skip


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
            exc.last.code,
        ) from None
    return fields, client.stats.api_calls - before


async def resolve_lists(client: Client | None, config: ExportConfig, *, dry: bool) -> Setup:
    """The config with list names replaced by their ids (a run creates missing ones if allowed); a dry run
    without credentials leaves names as they are. An unknown name is a ConfigError."""
    if not config.list_names:
        return Setup(config)
    if client is None:
        shown: dict[str, int | str] = dict.fromkeys(config.list_names, "not checked (no credentials)")
        return Setup(config, lists=shown, calls=len(config.list_names))
    before = client.stats.api_calls
    found = await lists.resolve(client, config.list_names, create=config.create_missing_lists, dry=dry)
    ids = [found.get(x) if isinstance(x, str) else x for x in config.prospect_lists]
    sent = [x for x in ids if isinstance(x, int)]
    shown = {name: "would be created" if got is None else got for name, got in found.items()}
    calls = client.stats.api_calls - before + (sum(got is None for got in found.values()) if dry else 0)
    return Setup(config.replace(prospect_lists=sent or config.prospect_lists), lists=shown, calls=calls)


def destination(setup: Setup, folder: Path, *, dry: bool) -> None:
    """The destination's sync state (changed mode) and the mirror, for the config as the rows go."""
    config = setup.config
    setup.sync = SyncState(config, folder, dry=dry) if config.sync_mode == "changed" else None
    setup.mirror = Mirror(config) if mirrors(config) else None


async def checked_reads(setup: Setup, client: Client, config: ExportConfig, options: Options) -> None:
    """A dry run's reads of the account (fields, list names): what cannot be read is said, not raised."""
    try:
        resolved = await resolve_lists(client, config, dry=True)
        setup.config, setup.lists, setup.calls = resolved.config, resolved.lists, resolved.calls
    except PardotError as exc:
        setup.lists = dict.fromkeys(config.list_names, f"not checked ({exc})")
        setup.notes.append(f"list names not checked: {exc}")
    try:
        setup.fields, _ = await read_fields(client, config, options)
    except PardotError as exc:
        setup.notes.append(f"columns and custom field values not checked against the account's fields: {exc}")
