"""The input's fingerprint: a hash over its rows (column names, types and values), so a resume can tell
that it is reading the same input it stopped on, and the row count a stream's first pass learns."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute


class Fingerprint:
    """An order-sensitive hash of the input rows, the same however the input is cut into chunks, and the
    same across library versions: SHA-256 over a defined encoding of each column's values as text.
    Per column, three streams, each hashed on its own so that chunk boundaries do not matter: the null
    flags (one byte a value), the UTF-8 lengths (8 bytes little-endian a value) and the UTF-8 bytes.
    """

    def __init__(self) -> None:
        self.rows = 0
        self.columns: list[str] | None = None
        self._digests: list[list[Any]] = []

    def add(self, frame: pl.DataFrame) -> None:
        if self.columns is None:
            self.columns = frame.columns
            self._digests = [[hashlib.sha256() for _ in range(3)] for _ in frame.columns]
        for digest, name in zip(self._digests, self.columns, strict=False):
            if name in frame.columns and frame.height:
                _feed(digest, frame.get_column(name))
        self.rows += frame.height

    def hexdigest(self) -> str:
        whole = hashlib.sha256(f"{self.rows}:{','.join(self.columns or [])}".encode())
        for streams in self._digests:
            for digest in streams:
                whole.update(digest.digest())
        return whole.hexdigest()[:24]


def _feed(streams: list[Any], column: pl.Series) -> None:
    """Add a chunk of a column's values to its three streams: null flags, lengths, UTF-8 text."""
    try:
        text = column.cast(pl.String)
    except pl.exceptions.PolarsError:  # nested or binary values: their JSON text
        text = column.to_frame().select(pl.struct(column.name).struct.json_encode()).to_series()
    arr = pa.compute.cast(text.to_arrow(), pa.large_string())
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    nulls, lengths, text_bytes = streams
    nulls.update(text.is_null().to_numpy().astype(np.uint8).tobytes())
    lengths.update(np.diff(offsets).astype("<i8").tobytes())
    if data is not None and offsets[-1] > offsets[0]:
        text_bytes.update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
