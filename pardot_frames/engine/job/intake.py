"""The run's input, read far enough to find every input error before the first call: the first chunk
validated, a stream read once first (its fingerprint for the journal, its size for ``auto``, its rows
checked when invalid rows must stop the job), the method chosen and the campaign rule applied.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pardot_frames._control import StopRequested
from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.job.options import Options
from pardot_frames.engine.state.fingerprint import Fingerprint
from pardot_frames.engine.state.journal import Journal
from pardot_frames.errors import ConfigError, PardotFramesWarning, ValidationFailed
from pardot_frames.prepare.account_fields import Fields
from pardot_frames.prepare.csv_batches import creating_rows, needs_campaign, pick_method
from pardot_frames.prepare.frames import chunks, is_streaming, job_chunks
from pardot_frames.prepare.validation import Validated, validate


@dataclass(frozen=True)
class Source:
    """The input, checked: its first chunk validated (frame errors raise there), the rest to read, its
    fingerprint, and the method its rows go by."""

    data: Any
    streaming: bool
    first: pl.DataFrame
    first_checked: Validated
    rest: Iterator[pl.DataFrame]
    fingerprint: Fingerprint
    method: str = "batch"
    method_reason: str = "as configured"
    fields: Fields | None = None  # the account's fields the input was checked against (a strict stream)
    resume: bool | str = False  # the stopped job this run continues (False: a new job)
    frames: list[pl.DataFrame] | None = None  # an in-memory input's chunks (its first slice and the rest)

    def chunks(self) -> Iterable[pl.DataFrame]:
        """Every chunk, the first one included (read once)."""
        yield self.first
        yield from self.rest

    @property
    def chunked(self) -> bool:
        """More than one chunk may come: a stream, or a frame sent in a first slice and the rest."""
        return self.streaming or len(self.frames or ()) > 1

    def again(self) -> Iterable[pl.DataFrame]:
        """The input read again from its start (for rows refused after their chunk was counted)."""
        return chunks(self.data, self.first.height) if self.streaming else list(self.frames or [self.first])


def read_source(
    data: Any,
    config: ExportConfig,
    options: Options,
    spill: Path,
    fields: Fields | None,
    stop: threading.Event | None = None,
) -> Source:
    """Every input error before the first row is sent (against the account's ``fields`` when given); the
    fingerprint; the method; a resume that cannot be is refused. ``stop``: see ``prepass``."""
    if options.resume and not options.journal:
        raise ConfigError(["resume needs the journal: drop journal=False (--no-journal)"])
    fingerprint = Fingerprint()
    streaming = is_streaming(data)
    creating = None  # rows of the whole stream an import would create (when it was read before sending)
    if streaming and (options.journal or not config.skip_invalid_records or options.keep_input):
        data, fingerprint, creating = prepass(data, config, options.chunk_rows, spill / "input.parquet", fields, stop)
    rest = job_chunks(data, options.chunk_rows, config)
    frames = None if streaming else list(rest)  # a frame: whole, or its first slice and the rest
    if frames is not None:
        rest = iter(frames[1:])
    first = frames[0] if frames is not None else next(rest)
    first_checked = validate(first, config, fields=fields)  # frame-level errors raise here, before any row
    for frame in frames or ():
        fingerprint.add(frame)
    resume = options.resume
    if resume and Journal.check_resumable(config, fingerprint.hexdigest(), resume, options.folder) is None:
        resume = False  # nothing of this job was sent (a journal is written before the first call): start it
        warnings.warn(
            "resume: no unfinished job with this configuration; starting it (nothing of it was sent before)",
            PardotFramesWarning,
            stacklevel=4,
        )
    rows = fingerprint.rows or None if streaming else first_checked.rows.height
    method, method_reason = pick_method(config, rows)
    if creating is None or not streaming:
        creating = needs_campaign(first_checked.rows, config)
    if method == "import" and creating:
        raise campaign_missing(creating)
    return Source(data, streaming, first, first_checked, rest, fingerprint, method, method_reason, fields=fields,
                  resume=resume, frames=frames)  # fmt: skip


def campaign_missing(creating: int) -> ConfigError:
    """The refusal of an import that would create prospects without a campaign (before any call)."""
    return ConfigError([
        f"method = import: {creating:,} row(s) would create prospects (no id or fid to match) and an import "
        "that creates needs a campaign: set import_campaign_id (or give a campaign_id column)"
    ])  # fmt: skip


def prepass(
    data: Any,
    config: ExportConfig,
    chunk_rows: int,
    spill: Path,
    fields: Fields | None = None,
    stop: threading.Event | None = None,
) -> tuple[Any, Fingerprint, int]:
    """Read a stream once: its fingerprint, its validation when invalid rows must stop the job, and how many
    rows would create prospects through an import without a campaign (checked before any call).

    One-shot readers are spilled to a Parquet file on the way, so the send pass can read them again. ``stop``
    set (the job was cancelled while this ran in a worker thread) ends the read at the next chunk.
    """
    creating = 0
    one_shot = isinstance(data, pa.RecordBatchReader)
    writer = None
    problems: list[pl.DataFrame] = []
    rejected: list[pl.DataFrame] = []
    fingerprint = Fingerprint()
    lenient = config.replace(skip_invalid_records=True)
    for chunk in chunks(data, chunk_rows):
        if stop is not None and stop.is_set():
            raise StopRequested("the input was still being read")
        if not config.skip_invalid_records:
            checked = validate(chunk, lenient, first_row=fingerprint.rows, fields=fields, with_json=False)
            problems.append(checked.problems)
            rejected.append(checked.rejected)
        fingerprint.add(chunk)
        creating += creating_rows(chunk, config)
        if one_shot:
            table = chunk.to_arrow()
            writer = writer or pq.ParquetWriter(spill, table.schema)
            writer.write_table(table)
    if writer is not None:
        writer.close()
    found = pl.concat(problems) if problems else None
    if found is not None and found.height:
        raise ValidationFailed(found, fingerprint.rows, pl.concat(rejected))
    return (pl.scan_parquet(spill) if one_shot and writer is not None else data), fingerprint, creating
