"""Reading the input before sending: the fingerprint a journal needs and, with
skip_invalid_records=false, every row's validation, so input errors are found before the first call.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.fingerprint import Fingerprint
from pardot_frames.errors import StopRequested, ValidationFailed
from pardot_frames.prepare.account_fields import Fields
from pardot_frames.prepare.csv_batches import creating_rows
from pardot_frames.prepare.frames import chunks
from pardot_frames.prepare.validation import validate


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
