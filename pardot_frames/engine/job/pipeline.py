"""The chunk pipeline the run and the dry run share: each chunk validated once, noted by the mirror and
diffed by the destination's sync state. The run sends what it yields; the dry run plans it with the
same send paths, so the two agree on every figure by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import polars as pl

from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.send.mirror import Mirror
from pardot_frames.engine.state.recycle_bin import Screened
from pardot_frames.engine.state.sync import SyncState
from pardot_frames.prepare.account_fields import Fields
from pardot_frames.prepare.frames import ROW_NR, count_email_only
from pardot_frames.prepare.validation import Validated, validate


@dataclass(frozen=True)
class Step:
    """One chunk on its way: the rows as read, the rows to send, and what the result counts."""

    chunk: pl.DataFrame  # the input rows as read (their row numbers start at ``offset``)
    offset: int
    send: Validated  # the valid rows to send (changed mode: new and changed only)
    report: Validated  # the valid rows the result counts (changed mode: unchanged ones too)
    unchanged: int = 0
    new: int = 0
    changed: int = 0
    may_create: int = 0  # rows to send keyed by email alone while upsert_by_email is off


def may_create(checked: Validated, config: ExportConfig) -> int:
    """Rows that may create a new prospect on every run: email-only prospect rows, upsert_by_email off."""
    if config.data_object != "prospects" or config.upsert_by_email:
        return 0
    return count_email_only(checked.rows)


MAY_CREATE = (
    "{n:,} row(s) name their prospect by email alone (no id or fid): on accounts that allow several prospects "
    "per email, each run creates a new prospect for them; set upsert_by_email = true to match them by email"
)


def steps(
    chunks: Iterable[pl.DataFrame],
    config: ExportConfig,
    fields: Fields | None = None,
    sync: SyncState | None = None,
    mirror: Mirror | None = None,
    first: Validated | None = None,
    with_json: bool = True,
) -> Iterator[Step]:
    """Each chunk validated against ``config`` and ``fields`` (the first one may come validated already),
    noted by the ``mirror``, and diffed by the ``sync`` state; ``with_json`` False (a plan) skips the JSON."""
    offset = 0
    for index, chunk in enumerate(chunks):
        if index == 0 and first is not None:
            checked = first
        else:
            checked = validate(chunk, config, first_row=offset, fields=fields, with_json=with_json)
        if mirror is not None:
            mirror.note(checked)
        step = diffed(chunk, offset, checked, sync)
        yield replace(step, may_create=may_create(step.send, config))
        offset += chunk.height


def diffed(chunk: pl.DataFrame, offset: int, checked: Validated, sync: SyncState | None) -> Step:
    """A chunk's step: with a sync state only new and changed rows are sent; repeated keys are reported."""
    if sync is None:
        return Step(chunk, offset, checked, checked)
    diff = sync.diff(checked)
    valid = checked.rows.filter(~pl.col(ROW_NR).is_in(diff.duplicates[ROW_NR].implode()))
    report = replace(diff.to_send, rows=valid)
    return Step(chunk, offset, diff.to_send, report, len(diff.unchanged), diff.new, diff.changed)


def step_after(step: Step, send: Validated, found: Screened, config: ExportConfig) -> Step:
    """A pipeline step after the bin: its rows to send, and its counts (held-back rows the bin took are not
    unchanged; restored ones go as changed)."""
    changed = found.unchanged if found.restored else 0
    return replace(step, send=send, unchanged=step.unchanged - found.unchanged, changed=step.changed + changed,
                   may_create=may_create(send, config))  # fmt: skip
