"""The partitioner: a plan of calls, as data, that dry runs, the engine, tests and benchmarks share.

Prospect rows are packed **in order** into batches of at most 50 rows whose query parameter
``prospects={"prospects":[row,row,...]}``, URL-encoded and counted with its ``prospects=`` name,
is at most ``max_payload`` characters; a row too large for any batch goes alone. Greedy packing is
optimal for order-preserving packing under these two bounds (every bound is monotone in the run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pardot_frames.config.job import ExportConfig
from pardot_frames.limits import MAX_ROWS_PER_CALL
from pardot_frames.prepare.frames import ROW_NR
from pardot_frames.prepare.payload import encode, membership_rows

PARAM = "prospects"
_HEAD, _TAIL, _SEP = '{"prospects":[', "]}", ","
OVERHEAD = len(PARAM) + 1 + len(encode(_HEAD)) + len(encode(_TAIL))  # "prospects=" and the wrapper
SEP_SIZE = len(encode(_SEP))


def batch_size(row_sizes: np.ndarray) -> int:
    """Encoded size of the prospects parameter holding rows of these encoded sizes."""
    return OVERHEAD + int(row_sizes.sum()) + SEP_SIZE * (len(row_sizes) - 1)


def partition(sizes: np.ndarray, max_payload: int, max_rows: int = MAX_ROWS_PER_CALL) -> np.ndarray:
    """Batch number of each row: greedy, in order, within max_rows and max_payload (oversize rows alone)."""
    n = len(sizes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # a batch [i, j) fits when OVERHEAD - SEP + sum(size + SEP) <= max_payload
    running = np.concatenate([[0], np.cumsum(np.asarray(sizes, dtype=np.int64) + SEP_SIZE)])
    room = max_payload - OVERHEAD + SEP_SIZE
    if running[-1] <= room:  # all rows together fit (body mode: no size bound): only max_rows cuts
        return np.arange(n, dtype=np.int64) // max_rows
    ends = np.searchsorted(running, running[:-1] + room, side="right") - 1
    ends = np.clip(ends, np.arange(1, n + 1), np.minimum(np.arange(n) + max_rows, n)).tolist()
    starts, i = [], 0
    while i < n:
        starts.append(i)
        i = ends[i]
    marks = np.zeros(n, dtype=np.int64)
    marks[starts[1:]] = 1
    return np.cumsum(marks)


@dataclass(frozen=True)
class Plan:
    """The calls a job will make. ``batches``: batch, rows, size, row_nrs; ``payloads``: per row."""

    data_object: str
    payloads: pl.DataFrame
    batches: pl.DataFrame

    @property
    def calls(self) -> int:
        """Number of API calls the plan needs (retries aside)."""
        return self.batches.height


UNBOUNDED = 1 << 62  # body mode: no size bound, only the 50 rows


def bound(config: ExportConfig) -> int:
    """The size bound a batch must keep: ``max_payload`` in query mode, none in body mode."""
    return config.max_payload if config.payload_location == "query" else UNBOUNDED


def batch_rows(sizes: pl.Series, config: ExportConfig) -> list[int]:
    """Rows in each batch, in order: what ``pack`` plans, without collecting each batch's keys (a count, or
    a send path that takes the rows in order)."""
    groups = partition(sizes.to_numpy(), bound(config))
    return np.bincount(groups).tolist() if len(groups) else []


def pack(payloads: pl.DataFrame, config: ExportConfig, key: str = ROW_NR) -> pl.DataFrame:
    """Batches of batchUpsert rows (``size`` and ``key`` columns): batch, rows, size, and the keys."""
    batch = partition(payloads["size"].to_numpy(), bound(config))
    return (
        payloads.with_columns(pl.Series("batch", batch))
        .group_by("batch", maintain_order=True)
        .agg(
            pl.len().alias("rows"),
            (pl.col("size").sum() + OVERHEAD + SEP_SIZE * (pl.len() - 1)).alias("size"),
            pl.col(key).alias("row_nrs"),
        )
    )


def plan(payloads: pl.DataFrame, config: ExportConfig) -> Plan:
    """Partition validated payloads into calls: packed prospect batches; list memberships packed as one
    batchUpsert row per prospect (``list_membership_method = "batch"``) or one call each ("single")."""
    if config.data_object == "prospects":
        batches = pack(payloads, config)
    elif config.list_membership_method == "batch":
        grouped = membership_rows(payloads, config)
        batches = pack(grouped, config, "row_nrs").with_columns(pl.col("row_nrs").list.eval(pl.element().explode()))
    else:
        payloads = payloads.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("batch"))
        batches = payloads.select(
            "batch",
            pl.lit(1, pl.UInt32).alias("rows"),
            pl.lit(0, pl.Int64).alias("size"),
            pl.concat_list(ROW_NR).alias("row_nrs"),
        )
    return Plan(
        config.data_object,
        payloads,
        batches.with_columns(
            pl.col("batch").cast(pl.Int64), pl.col("rows").cast(pl.Int64), pl.col("size").cast(pl.Int64)
        ),
    )
