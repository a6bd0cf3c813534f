"""Valid rows to request payloads: each prospect row's JSON object and its URL-encoded size.

Encoding is RFC 3986 percent-encoding of every byte outside ``A-Za-z0-9-._~`` (``quote(s, safe="")``),
which the transport applies itself, so the sizes computed here are the sizes sent.
"""

from __future__ import annotations

from urllib.parse import quote

import numpy as np
import polars as pl
import pyarrow as pa

from .config import ExportConfig
from .frames import ROW_NR

UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_EXTRA = np.full(256, 2, dtype=np.uint8)  # a percent-encoded byte adds two characters
_EXTRA[list(UNRESERVED)] = 0
_CHUNK_BYTES = 1 << 26


def encode(text: str) -> str:
    """Percent-encode ``text`` exactly as requests are sent (every reserved byte as %XX)."""
    return quote(text, safe="")


def encoded_lengths(strings: pl.Series) -> np.ndarray:
    """Length of ``encode(s)`` for every string, vectorised over the UTF-8 bytes (nulls count 0)."""
    arr = strings.to_arrow()
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    arr = arr.cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if len(arr) and offsets[-1] else np.zeros(0, np.uint8)
    out = np.diff(offsets)
    # sum the extra characters row by row through a running total, a chunk of rows at a time
    start = 0
    while start < len(arr):
        stop = int(np.searchsorted(offsets, offsets[start] + _CHUNK_BYTES, side="right")) - 1
        stop = max(stop, start + 1)
        lo, hi = int(offsets[start]), int(offsets[stop])
        running = np.zeros(hi - lo + 1, dtype=np.int64 if hi - lo > 2**29 else np.int32)
        np.cumsum(_EXTRA[data[lo:hi]], out=running[1:])
        edges = offsets[start : stop + 1] - lo
        out[start:stop] += running[edges[1:]] - running[edges[:-1]]
        start = stop
    return out


def list_fields(config: ExportConfig) -> list[pl.Expr]:
    """The ``list_<id>`` fields that ride in each prospect row: 1 adds, 0 removes."""
    flag = 1 if config.prospect_list_operation == "add" else 0
    return [pl.lit(flag, pl.Int8).alias(f"list_{list_id}") for list_id in config.prospect_lists]


def row_json(rows: pl.DataFrame, config: ExportConfig) -> pl.Series:
    """One JSON object per row; null fields are left out (null = leave unchanged in Pardot)."""
    fields = [
        pl.col(name).cast(pl.Int8) if dtype == pl.Boolean else pl.col(name)
        for name, dtype in rows.schema.items()
        if name != ROW_NR
    ] + list_fields(config)
    if not fields:
        return pl.Series("json", ["{}"] * rows.height, dtype=pl.String)
    js = rows.select(pl.struct(fields).struct.json_encode().alias("json")).to_series()
    if any(rows.drop(ROW_NR, strict=False).null_count().row(0)):
        # a "key":null pair can only be structural: inside JSON strings every quote is escaped,
        # and keys are lower-case identifiers; drop it, then the comma it may leave before "}"
        js = js.str.replace_all(r'"[a-z][a-z0-9_]*":null,?', "").str.replace(r",\}$", "}")
    return js


def prospect_payloads(rows: pl.DataFrame, config: ExportConfig) -> pl.DataFrame:
    """row_nr, json, chars (JSON length in characters) and size (URL-encoded length) per valid row."""
    js = row_json(rows, config)
    return pl.DataFrame({ROW_NR: rows[ROW_NR], "json": js, "chars": js.str.len_chars(), "size": encoded_lengths(js)})
