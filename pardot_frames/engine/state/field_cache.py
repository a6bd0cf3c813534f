"""The account's fields for a job: read once (one call), cached per destination (Pardot host and
business unit) in the state folder for a short while, so a job, or a schedule's runs, spend at most one
call on them."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import orjson
import polars as pl

from pardot_frames.config.files import write_private
from pardot_frames.config.job import Reachable
from pardot_frames.engine.host.bridge import run_sync
from pardot_frames.engine.state.journal import state_dir as default_state_dir
from pardot_frames.errors import ConfigError
from pardot_frames.pardot.client import Client
from pardot_frames.pardot.custom_fields import read_custom_fields
from pardot_frames.prepare.account_fields import CustomField, Fields

FIELDS_TTL = 600.0  # seconds a cached field list is used


def cache_path(config: Reachable, folder: Path) -> Path:
    key = hashlib.sha256(f"{config.pardot_domain}|{config.business_unit}".encode()).hexdigest()[:16]
    return folder / "fields" / f"{key}.json"


def cached(config: Reachable, folder: Path) -> bool:
    """Whether a fresh cached field list would spare the job its field read."""
    path = cache_path(config, folder)
    return path.exists() and time.time() - path.stat().st_mtime < FIELDS_TTL


async def account_fields(client: Client, config: Reachable, folder: Path, *, refresh: bool = False) -> Fields:
    """The account's fields, from the cache when it is fresh (``refresh`` reads them again)."""
    path = cache_path(config, folder)
    if not refresh and cached(config, folder):
        try:
            data = orjson.loads(path.read_bytes())
            return Fields({r["field_id"]: CustomField.from_answer(r) for r in data["fields"]}, data["fetched_at"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            pass  # a damaged cache is read again
    found = await read_custom_fields(client)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    write_private(path, orjson.dumps({"fetched_at": stamp, "fields": found}))
    return Fields({str(r["field_id"]): CustomField.from_answer(r) for r in found}, stamp)


def read_now(config: Reachable, folder: Path, *, refresh: bool = False) -> Fields:
    """The account's fields from sync code (a dry run, the fields command): log in, read or use the cache."""

    async def read() -> Fields:
        async with Client(config) as client:
            await client.login()
            return await account_fields(client, config, folder, refresh=refresh)

    return run_sync(read())


def fields(config: Reachable, *, state_dir: str | Path | None = None, refresh: bool = False) -> pl.DataFrame:
    """The account's standard and custom fields with their types (one call, or the cache), as a frame."""
    if missing := config.missing_credentials():
        raise ConfigError([f"{key} is required to read the account's fields" for key in missing])
    return read_now(config, Path(state_dir) if state_dir else default_state_dir(), refresh=refresh).frame()
