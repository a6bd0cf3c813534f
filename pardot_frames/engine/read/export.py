"""Reading a big object through the Export API (``pardot-export-api.md``): what Salesforce recommends for visitor
activities and past the 100,000 records of a token chain.

A read is cut into windows of at most a year (section 4: the updated-at procedures and list memberships refuse
longer ones; kept for every object), from the oldest record's time (one query call finds it) or the since-last
mark, to now. Each window is one export, one at a time (the account runs them in a queue): create, poll on the
facts' schedule (``ceil(n**2 / 5 + 1)`` times ``poll`` seconds, section 10: each poll is a call), download every
result file and hand each one on as a typed frame, so memory holds one file at a time. The export's id is kept in
the state folder before the first poll, so a stopped read picks the running export up instead of starting another.
Calls: 1 (the oldest time) + per window 1 + polls + files.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from pardot_frames.config.files import write_private
from pardot_frames.errors import ApiError
from pardot_frames.pardot import exports, objects
from pardot_frames.pardot.client import Client
from pardot_frames.prepare import catalog
from pardot_frames.prepare.catalog import ObjectSpec
from pardot_frames.prepare.read_frames import utc_time

YEAR = timedelta(days=365)
UNKNOWN_POLLS = 3


def exportable(spec: ObjectSpec) -> bool:
    return spec.kind in exports.PROCEDURE_OBJECTS


async def export_frames(client: Client, spec: ObjectSpec, fields: tuple[str, ...], start: datetime | None,
                        journal: Path, poll: float, page: Callable[[pl.DataFrame], None],
                        zone: str = "UTC") -> int:  # fmt: skip
    """Every record of ``spec`` after ``start`` (None: from the oldest), a result file at a time to ``page``; the
    exports it took."""
    by = "created" if spec.since == "createdAt" else "updated"
    made, now = 0, datetime.now(UTC)
    kept = _journal(journal)
    if kept is not None:  # a stopped read's export: picked up, not started again
        try:
            await _finish(client, spec, fields, int(kept["id"]), poll, page, zone)
            start, made = datetime.fromisoformat(kept["before"]), 1
        except ExportEnded:  # cancelled, failed or expired meanwhile: its window is exported again
            start = datetime.fromisoformat(kept["after"]) if kept.get("after") else start
        journal.unlink(missing_ok=True)
    start = start or await _oldest(client, spec, by)
    while start is not None and start < now:
        before = min(start + YEAR, now)
        arguments = _arguments(spec, by, start, before)
        export_id = await exports.create(client, spec.kind, list(fields), arguments, by)
        write_private(
            journal, orjson.dumps({"id": export_id, "after": start.isoformat(), "before": before.isoformat()})
        )
        try:
            await _finish(client, spec, fields, export_id, poll, page, zone)
        except ExportEnded:
            journal.unlink(missing_ok=True)  # nothing to pick up: the next read starts this window afresh
            raise
        journal.unlink(missing_ok=True)
        start, made = before, made + 1
    return made


class ExportEnded(ApiError):
    """An export that ended without files to read (Canceled, Failed) or whose files expired."""


def _arguments(spec: ObjectSpec, by: str, after: datetime, before: datetime) -> dict[str, Any]:
    names = ("createdAfter", "createdBefore") if by == "created" else ("updatedAfter", "updatedBefore")
    out: dict[str, Any] = {names[0]: _iso(after), names[1]: _iso(before)}
    if spec.archivable or spec.kind in ("prospects", "list-memberships"):
        out["deleted"] = "all"  # section 4: Prospect needs all; accepted where archivable
    return out


async def _oldest(client: Client, spec: ObjectSpec, by: str) -> datetime | None:
    """Just before the oldest record's time (bounds are exclusive): one query call ordered by that time (prospect
    accounts sort by id only: their lowest id's time, a day earlier)."""
    field = "createdAt" if by == "created" else "updatedAt"
    path = objects.query_path(spec.kind, ["id", field], None, {}, 1)
    if spec.kind != "prospect-accounts":
        path = path.replace("orderBy=id+asc", f"orderBy={field}+asc")
    reply = await client.get_as(path, "import")
    found = objects.records_of(reply, spec.kind)
    if not found or not found[0].get(field):
        return None
    first = datetime.fromisoformat(str(found[0][field]).replace("Z", "+00:00")).astimezone(UTC)
    return first - timedelta(days=1)  # ids and times need not agree exactly: a day's margin


async def _finish(client: Client, spec: ObjectSpec, fields: tuple[str, ...], export_id: int, poll: float,
                  page: Callable[[pl.DataFrame], None], zone: str) -> None:  # fmt: skip
    """Wait for the export to end, then each result file as a frame."""
    shown = await _wait(client, export_id, poll)
    base = client.config.pardot_domain
    for url in shown["resultRefs"]:
        page(typed_csv(spec, await exports.download(client, url, base), fields, zone))


async def _wait(client: Client, export_id: int, poll: float) -> dict[str, Any]:
    unknown = 0
    for n in range(10_000):
        await asyncio.sleep(poll * math.ceil(n * n / 5 + 1))
        shown = await exports.status(client, export_id)
        if shown.get("isExpired"):
            raise ExportEnded(f"export {export_id} expired before its files were read (7 days); read again")
        if shown["status"] == exports.DONE:
            return shown
        if shown["status"] in exports.ENDED:
            raise ExportEnded(f"export {export_id} ended {shown['status']}: nothing of it was read; read again")
        unknown = unknown + 1 if shown["status"] not in exports.KNOWN else 0
        if unknown >= UNKNOWN_POLLS:
            raise ApiError(f"export {export_id} shows a status this client does not know: {shown['status']!r}")
    raise ApiError(f"export {export_id} did not end")


def typed_csv(spec: ObjectSpec, text: str, fields: tuple[str, ...], zone: str = "UTC") -> pl.DataFrame:
    """A result file as the read's typed frame, column by column in polars (a file holds up to millions of rows):
    columns matched by header (v5 camelCase or snake_case names), every read column present."""
    raw = pl.read_csv(io.StringIO(text), infer_schema=False) if text.strip() else pl.DataFrame()
    raw = raw.rename({c: catalog.column(c) for c in raw.columns})
    typed = catalog.frame(spec, [], fields)  # the read's columns and types, no rows
    columns = []
    for name, dtype in typed.schema.items():
        if name not in raw.columns:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
        elif dtype == pl.Boolean:
            columns.append(pl.col(name).str.to_lowercase().is_in(["true", "1"]).alias(name))
        elif isinstance(dtype, pl.Datetime):
            columns.append(utc_time(name, zone).alias(name))
        elif dtype == pl.Date:
            columns.append(pl.col(name).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).alias(name))
        else:
            columns.append(pl.col(name).cast(dtype, strict=False).alias(name))
    return raw.select(columns) if raw.width else typed


def _journal(path: Path) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = orjson.loads(path.read_bytes())
        return found
    except (OSError, ValueError):
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
