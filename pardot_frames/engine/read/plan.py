"""A read's dry run: which way it would go (queries or the Export API) and what it would cost in calls, from two
calls that find the object's lowest and highest ids (the ids' span stands in for the count: v5 gives none)."""

from __future__ import annotations

import math
from typing import Any

from pardot_frames.config.connection import Connection
from pardot_frames.config.job import Reachable
from pardot_frames.engine.host.bridge import run_sync
from pardot_frames.engine.read.export import exportable
from pardot_frames.errors import ConfigError
from pardot_frames.limits import CONCURRENT_LIMIT
from pardot_frames.pardot import email_clicks, objects
from pardot_frames.pardot.answers import records
from pardot_frames.pardot.client import Client
from pardot_frames.prepare import catalog
from pardot_frames.prepare.catalog import ObjectSpec

EXPORT_FROM = 500_000  # records (by the ids' span) from which method="auto" reads through the Export API
FILE_ROWS = 1_000_000  # rows an export result file holds, about (200 MB files: the sheet's default maximum)
POLLS = 6  # status reads an export takes, about (the facts' schedule: 1, 2, 2, 3, 5, 6 minutes)


def plan_read(
    name: str, config: Reachable, *, method: str = "query", parallel: int = CONCURRENT_LIMIT
) -> dict[str, Any]:
    """What ``pf.read(name, config, method=...)`` would do: the method and why, the records the ids span, the
    calls (estimated: the span is an upper bound of the count), and the two calls this plan took."""
    spec = catalog.spec_of(name)
    if spec is None:
        raise ConfigError([f"read: {name!r} is not an object pardot-frames reads (see 'pardot-frames read --help')"])
    if spec.shape != "pages":
        return _shaped(spec, config)
    low, high = run_sync(_span(Connection.of(config), spec.kind))
    span = 0 if low is None or high is None else high - low + 1
    export = exportable(spec) and (method == "export" or (method == "auto" and span >= EXPORT_FROM))
    pages = max(1, math.ceil(span / objects.PAGE))
    if export:
        files = max(1, math.ceil(span / FILE_ROWS))
        calls, how = 1 + 1 + POLLS + files, f"the Export API: 1 oldest time + 1 create + ~{POLLS} polls + {files} files"
    else:
        rest = pages - 1  # after the first page: the highest id, then ranges as many as the rest fills pages
        ranges = min(parallel, rest)
        calls = 1 if rest == 0 else 1 + 1 + rest + ranges - 1
        how = (
            f"queries: the first page, the highest id, {rest:,} pages in {ranges} ranges (a partial page each at most)"
        )
    why = "asked" if method != "auto" else f"auto: the ids span {span:,} records (export from {EXPORT_FROM:,})"
    return {"object": spec.name, "method": "export" if export else "query", "why": why, "records_at_most": span,
            "calls": calls, "calls_how": how, "plan_calls": 2}  # fmt: skip


async def _span(connection: Connection, kind: str) -> tuple[int | None, int | None]:
    async with Client(connection) as client:
        ends = []
        for order in ("asc", "desc"):
            path = objects.query_path(kind, ["id"], None, {}, 1).replace("orderBy=id+asc", f"orderBy=id+{order}")
            found = objects.records_of(await client.get_as(path, "import"), kind)
            ends.append(int(found[0]["id"]) if found else None)
    return ends[0], ends[1]


def _shaped(spec: ObjectSpec, config: Reachable) -> dict[str, Any]:
    """The plan of a read that is not id ranges: the account (one call), variations (a query per dynamic content,
    from the dynamic contents' ids span), email clicks (v4 pages of 200, from the clicks' ids span)."""
    base = {"object": spec.name, "method": "query", "why": "its only way"}
    if spec.shape == "one":
        return {**base, "records_at_most": 1, "calls": 1, "calls_how": "one object, one call", "plan_calls": 0}
    connection = Connection.of(config)
    if spec.shape == "per-parent":
        parent = catalog.PER_PARENT[spec.kind][0]
        low, high = run_sync(_span(connection, parent))
        parents = 0 if low is None or high is None else high - low + 1
        calls = max(1, math.ceil(parents / objects.PAGE)) + parents
        how = f"the {parent}' ids ({parents:,} at most), then a query per dynamic content (more for > 1,000 each)"
        return {**base, "records_at_most": None, "calls": calls, "calls_how": how, "plan_calls": 2}
    low, high = run_sync(_v4_span(connection))
    span = 0 if low is None or high is None else high - low + 1
    calls = max(1, math.ceil(span / email_clicks.LIMIT))
    how = f"v4 pages of {email_clicks.LIMIT} by id"
    return {**base, "records_at_most": span, "calls": calls, "calls_how": how, "plan_calls": 2}


async def _v4_span(connection: Connection) -> tuple[int | None, int | None]:
    async with Client(connection) as client:
        ends = []
        for order in ("ascending", "descending"):
            path = email_clicks.query_path(None).replace("sort_order=ascending", f"sort_order={order}")
            reply = await client.get(path.replace(f"limit={email_clicks.LIMIT}", "limit=1"))
            result = reply.body.get("result") if isinstance(reply.body, dict) else None
            found = records(result.get("emailClick")) if isinstance(result, dict) else []
            ends.append(int(found[0]["id"]) if found else None)
    return ends[0], ends[1]
