"""Turn any supported input (polars, pandas, pyarrow, DuckDB) into one polars DataFrame."""

from __future__ import annotations

from collections import Counter
from typing import Any

import polars as pl
import pyarrow as pa

from .errors import ColumnError

ROW_NR = "row_nr"  # 0-based position of a row in the input, carried through every step


def _duplicates(names: list[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


def to_polars(data: Any) -> pl.DataFrame:
    """Collect ``data`` into a polars DataFrame; duplicated column names are a ColumnError."""
    if isinstance(data, pl.LazyFrame):
        data = data.collect()
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pa.RecordBatchReader):
        data = data.read_all()
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        names = list(data.schema.names)
        if dups := _duplicates(names):
            raise ColumnError([f"column {d!r} appears more than once; give each column one name" for d in dups])
        return pl.from_arrow(data)  # type: ignore[return-value]
    module = type(data).__module__
    if module.startswith("pandas"):
        names = [str(c) for c in data.columns]
        if dups := _duplicates(names):
            raise ColumnError([f"column {d!r} appears more than once; give each column one name" for d in dups])
        return pl.from_pandas(data)
    if module.startswith("duckdb"):
        return to_polars(data.arrow())
    raise ColumnError(
        [
            f"cannot read input of type {type(data).__name__}; give a polars DataFrame or LazyFrame, "
            "a pandas DataFrame, a pyarrow Table or RecordBatchReader, or a DuckDB relation"
        ]
    )
