"""Turn any supported input (polars, pandas, pyarrow, DuckDB) into one polars DataFrame."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from pardot_frames.errors import ColumnError, PardotFramesError, SourceError

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig

ROW_NR = "row_nr"  # 0-based position of a row in the input, carried through every step
KEYS = ("id", "fid")  # the columns that name an existing prospect


def present(column: str) -> pl.Expr:
    """A cell that holds a value: not null and not the empty string (a blank key matches nothing)."""
    return pl.col(column).is_not_null() & (pl.col(column).cast(pl.String) != "")


def keyed(columns: list[str]) -> pl.Expr:
    """Rows that name their prospect by id or fid; the others create one (or go by email)."""
    out = pl.repeat(False, pl.len())  # one value per row, also when the frame has neither column
    for key in KEYS:
        if key in columns:
            out = out | present(key)
    return out


def detached(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame that owns its data. A few rows kept across chunks (rejected rows, problems) would otherwise hold
    each chunk's whole string buffers, which polars' string views share: 14 MB a chunk of demo rows."""
    texts = [name for name, dtype in frame.schema.items() if dtype in (pl.String, pl.Binary)]
    if not texts:  # other columns own their values once filtered (a gather copies them)
        return frame
    owned = pl.DataFrame(pl.from_arrow(frame.select(texts).to_arrow(compat_level=pl.CompatLevel.oldest())))
    return frame.with_columns(owned.get_columns())  # only text goes through Arrow (it has no Int128, say)


def count_email_only(rows: pl.DataFrame) -> int:
    """Rows that name their prospect by email alone (no id or fid): without upsert_by_email each send may
    create a new prospect for them (on accounts that allow several prospects per email)."""
    if "email" not in rows.columns or not rows.height:
        return 0
    return int(rows.select((~keyed(rows.columns) & present("email")).sum()).item())


def email_only(rows: pl.DataFrame) -> list[str | None]:
    """Per row, its email when the row has no id or fid (a send would create a prospect), else None."""
    if "email" not in rows.columns:
        return [None] * rows.height
    return rows.select(pl.when(~keyed(rows.columns)).then(pl.col("email")).alias("e"))["e"].to_list()


def _duplicates(names: list[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


def _unconvertible(data: Any) -> list[str]:
    """Name the pandas columns that cannot become one Arrow type, with the Python types they mix."""
    problems = []
    for name in data.columns:
        try:
            pl.from_pandas(data[[name]])
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            kinds = sorted({type(v).__name__ for v in data[name] if v is not None})
            problems.append(
                f"column {str(name)!r} mixes values of types {', '.join(kinds)} (or holds values too large for "
                "int64); give each column one type, e.g. convert it to text"
            )
    return problems or ["the pandas frame cannot be converted to Arrow; give each column one type"]


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
        try:
            return pl.from_pandas(data)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            raise ColumnError(_unconvertible(data)) from None
    if module.startswith("duckdb"):
        return to_polars(data.arrow())
    raise ColumnError(
        [
            f"cannot read input of type {type(data).__name__}; give a polars DataFrame or LazyFrame, "
            "a pandas DataFrame, a pyarrow Table or RecordBatchReader, or a DuckDB relation"
        ]
    )


def is_streaming(data: Any) -> bool:
    """True for inputs read in chunks: LazyFrames, Arrow record batch readers, DuckDB relations."""
    return isinstance(data, (pl.LazyFrame, pa.RecordBatchReader)) or type(data).__module__.startswith("duckdb")


def _arrow_chunks(reader: pa.RecordBatchReader, chunk_rows: int) -> Iterator[pl.DataFrame]:
    if dups := _duplicates(list(reader.schema.names)):
        raise ColumnError([f"column {d!r} appears more than once; give each column one name" for d in dups])
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in reader:
        pending.append(batch)
        count += batch.num_rows
        if count >= chunk_rows:
            yield pl.from_arrow(pa.Table.from_batches(pending, schema=reader.schema))  # type: ignore[misc]
            pending, count = [], 0
    if pending or count == 0:
        yield pl.from_arrow(pa.Table.from_batches(pending, schema=reader.schema))  # type: ignore[misc]


def duckdb_reader(relation: Any, batch_rows: int) -> pa.RecordBatchReader:
    """A DuckDB relation's rows as a streaming Arrow reader on every DuckDB version we allow:
    ``to_arrow_reader`` (newer; ``fetch_arrow_reader`` is deprecated there) or ``fetch_arrow_reader``
    (older, 1.1 among them); never ``arrow()``, which on older versions returns the whole result at once."""
    if hasattr(type(relation), "to_arrow_reader"):
        return relation.to_arrow_reader(batch_rows)
    return relation.fetch_arrow_reader(batch_rows)


FIRST_SLICE = 5_000  # rows of an in-memory frame checked and sent while the rest is checked ...
SLICED_FROM = 50_000  # ... when it has more rows than this (checking them takes 0.05 s or more, while a second
# chunk costs its calls' ramp: about a round of calls)


def job_chunks(data: Any, chunk_rows: int, config: ExportConfig) -> Iterator[pl.DataFrame]:
    """The chunks a job and its dry run take: a stream's; an in-memory frame whole, or, when its rows may go
    before every row is checked (invalid rows are skipped, not fatal; the batch method, whose choice needs
    no row count), its first ``FIRST_SLICE`` rows and then the rest, so the first call goes out while the
    rest is checked. A strict job checks every row before its first call, as documented."""
    pieces = chunks(data, chunk_rows)
    if is_streaming(data) or not config.skip_invalid_records or config.method != "batch":
        yield from pieces
        return
    for frame in pieces:
        if frame.height <= SLICED_FROM:
            yield frame
        else:
            yield frame.head(FIRST_SLICE)
            yield frame.slice(FIRST_SLICE)


def chunks(data: Any, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """The input as frames of about ``chunk_rows`` rows (one frame for in-memory inputs).

    A source that fails while it is read (a corrupt Parquet file, a malformed CSV, SQL that fails
    when it runs) is an InputError naming what failed; it is met before the first call.
    """
    try:
        yield from _chunks(data, chunk_rows)
    except PardotFramesError:
        raise
    except Exception as exc:  # polars, pyarrow and DuckDB each raise their own kinds
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SourceError(f"cannot read the input ({type(exc).__name__}): {first}") from None


def _chunks(data: Any, chunk_rows: int) -> Iterator[pl.DataFrame]:
    if isinstance(data, pl.LazyFrame):
        empty = True
        for frame in data.collect_batches(chunk_size=chunk_rows):
            empty = False
            yield frame
        if empty:
            yield data.clear().collect()
    elif isinstance(data, pa.RecordBatchReader):
        yield from _arrow_chunks(data, chunk_rows)
    elif type(data).__module__.startswith("duckdb"):
        yield from _arrow_chunks(duckdb_reader(data, chunk_rows), chunk_rows)
    else:
        yield to_polars(data)
