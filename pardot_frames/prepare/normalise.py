"""Normalisation: each column cast to the type Pardot takes (integers, booleans, text), with a reason for
every value that cannot be, vectorised; secret columns are masked wherever a value is shown."""

from __future__ import annotations

import polars as pl

from pardot_frames.config.connection import MASK
from pardot_frames.errors import ColumnError
from pardot_frames.prepare import schemas
from pardot_frames.prepare.account_fields import Fields
from pardot_frames.prepare.frames import ROW_NR

REJECTED_SCHEMA = {ROW_NR: pl.Int64, "column": pl.String, "check": pl.String, "reason": pl.String, "value": pl.String}
MAX_VALUE_CHARS = 200


def _integer(c: pl.Expr, dtype: pl.DataType, name: str) -> tuple[pl.Expr, pl.Expr]:
    if dtype.is_integer():
        value = c.cast(pl.Int64, strict=False)
        return value, pl.when(c.is_not_null() & value.is_null()).then(pl.lit("integer out of range (int64)"))
    if dtype == pl.String:
        text = c.str.strip_chars()
        value = text.str.to_integer(strict=False)
        bad = (text != "") & value.is_null()
        return value, pl.when(bad).then(pl.lit("not an integer"))
    if dtype.is_float() or dtype.is_decimal():
        f = c.cast(pl.Float64)
        finite = f.is_finite()
        fractional = finite & (f != f.floor())
        in_range = f.abs() < 2.0**63
        value = pl.when(finite & ~fractional & in_range).then(f.cast(pl.Int64, strict=False))
        reason = (
            pl.when(f.is_not_null() & ~finite)
            .then(pl.lit("not a finite number"))
            .when(fractional)
            .then(pl.lit("has a fractional part; integers only (not truncated)"))
            .when(f.is_not_null() & ~in_range)
            .then(pl.lit("integer out of range (int64)"))
        )
        return value, reason
    if dtype == pl.Null:
        return c.cast(pl.Int64), pl.lit(None, pl.String)
    raise ColumnError(
        [f"column {name!r} has type {dtype}, which cannot hold integers; give integers or integer strings"]
    )


def _boolean(c: pl.Expr, dtype: pl.DataType, name: str) -> tuple[pl.Expr, pl.Expr]:
    if dtype == pl.Boolean:
        return c, pl.lit(None, pl.String)
    if dtype == pl.Null:
        return c.cast(pl.Boolean), pl.lit(None, pl.String)
    if dtype.is_numeric():
        value = pl.when(c == 1).then(True).when(c == 0).then(False)
    elif dtype == pl.String:
        text = c.str.strip_chars().str.to_lowercase()
        value = pl.when(text.is_in(["true", "1"])).then(True).when(text.is_in(["false", "0"])).then(False)
        c = pl.when(text != "").then(c)
    else:
        raise ColumnError([f"column {name!r} has type {dtype}; booleans are true/false, 0/1 or 'true'/'false'"])
    return value, pl.when(c.is_not_null() & value.is_null()).then(
        pl.lit("not a boolean; use true/false, 0/1 or 'true'/'false'")
    )


def _string(c: pl.Expr, dtype: pl.DataType, name: str) -> tuple[pl.Expr, pl.Expr]:
    none = pl.lit(None, pl.String)
    if dtype == pl.String:
        return c, none
    if isinstance(dtype, pl.List) and (dtype.inner in (pl.String, pl.Null) or dtype.inner.is_integer()):
        return c.list.eval(pl.element().cast(pl.String)), none  # several values: <field>_0, <field>_1, ...
    if dtype in (pl.Null, pl.Categorical) or isinstance(dtype, pl.Enum) or dtype.is_integer():
        return c.cast(pl.String), none
    if dtype == pl.Boolean:
        return pl.when(c).then(pl.lit("true")).when(~c).then(pl.lit("false")), none
    if dtype.is_float() or dtype.is_decimal():
        f = c.cast(pl.Float64)
        integral = f.is_finite() & (f == f.floor()) & (f.abs() < 2.0**53)
        value = pl.when(integral).then(f.cast(pl.Int64).cast(pl.String)).otherwise(c.cast(pl.String))
        return pl.when(f.is_finite()).then(value), pl.when(f.is_not_null() & ~f.is_finite()).then(
            pl.lit("not a finite number")
        )
    if dtype.is_temporal():
        return c.dt.to_string(), none
    raise ColumnError([f"column {name!r} has type {dtype}; Pardot fields take text, numbers, booleans or dates"])


_NORMALISERS = {schemas.INT: _integer, schemas.BOOL: _boolean, schemas.STR: _string, schemas.CUSTOM: _string}


def _display(frame: pl.DataFrame, column: str) -> pl.Expr:
    if column in schemas.SECRET_FIELDS:
        return pl.when(pl.col(column).is_not_null()).then(pl.lit(MASK))
    dtype = frame.schema[column]
    if isinstance(dtype, pl.List):
        text = pl.col(column).list.eval(pl.element().cast(pl.String)).list.join(", ")
    else:
        text = pl.col(column).cast(pl.String) if dtype != pl.String else pl.col(column)
    return (
        pl.when(text.str.len_chars() > MAX_VALUE_CHARS).then(text.str.slice(0, MAX_VALUE_CHARS) + "…").otherwise(text)
    )


def normalise(
    frame: pl.DataFrame, data_object: str, first_row: int = 0, fields: Fields | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast every column to the type Pardot takes (custom fields by the account's field types, when
    ``fields`` is given); return (typed frame with row_nr, cell problems)."""
    values, reasons = [], []
    for name, dtype in frame.schema.items():
        normaliser = (fields.normaliser(name) if fields is not None else None) or _NORMALISERS[
            schemas.field_kind(data_object, name)
        ]
        value, reason = normaliser(pl.col(name), dtype, name)
        values.append(value.alias(name))
        reasons.append(reason.alias(name))
    typed = frame.with_row_index(ROW_NR, offset=first_row).select(pl.col(ROW_NR).cast(pl.Int64), *values)
    problems = frame.with_row_index(ROW_NR).select(ROW_NR, *reasons).drop(ROW_NR)  # row_nr forces full height
    failing = [
        name for name, count in zip(problems.columns, problems.null_count().row(0), strict=True) if count < frame.height
    ]
    parts = [
        frame.with_row_index(ROW_NR, offset=first_row)
        .with_columns(problems[name].alias("_reason"))
        .filter(pl.col("_reason").is_not_null())
        .select(
            pl.col(ROW_NR).cast(pl.Int64),
            pl.lit(name).alias("column"),
            pl.lit("type").alias("check"),
            pl.col("_reason").alias("reason"),
            _display(frame, name).alias("value"),
        )
        for name in failing
    ]
    return typed, pl.concat(parts) if parts else pl.DataFrame(schema=REJECTED_SCHEMA)
