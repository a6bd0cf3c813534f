"""Comparing what a job sent with what Pardot holds, field by field, after Pardot's own normalisation:
text trimmed, emails without case, numbers as numbers, dates as dates, booleans as booleans, several
values as a set. A null sent means "leave unchanged" and is not compared; an empty string means "clear"
and matches a held null. Pure: two frames in, the mismatches out."""

from __future__ import annotations

import polars as pl

from pardot_frames.prepare.account_fields import Fields
from pardot_frames.prepare.frames import ROW_NR
from pardot_frames.prepare.read_frames import utc_time
from pardot_frames.prepare.schemas import BOOL, INT, PROSPECT_FIELDS

NOT_COMPARED = frozenset({"id", "fid", "email", "password", "campaign_id", "last_activity_at"})  # keys, secrets, ...
MISMATCH_SCHEMA = {ROW_NR: pl.Int64, "key": pl.String, "column": pl.String, "sent": pl.String, "held": pl.String}


def normalised(name: str, dtype: pl.DataType, fields: Fields | None) -> pl.Expr:
    """A column as comparable text: the same text for values Pardot treats as equal."""
    c = pl.col(name)
    kind = PROSPECT_FIELDS.get(name)
    custom = fields.custom.get(name) if fields is not None else None
    if isinstance(dtype, pl.List):
        return c.list.eval(pl.element().cast(pl.String).str.strip_chars()).list.unique().list.sort().list.join("|")
    if kind == BOOL or dtype == pl.Boolean:
        text = c.cast(pl.String).str.to_lowercase().str.strip_chars()
        return text.replace({"1": "true", "0": "false"})
    if kind == INT or (custom is not None and custom.type == "Number") or dtype.is_numeric():
        return c.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False).cast(pl.String)
    if custom is not None and custom.type == "Date" or dtype == pl.Date:
        return c.cast(pl.String).str.strip_chars().str.slice(0, 10)
    return c.cast(pl.String).str.strip_chars()


def _shown(name: str, dtype: pl.DataType) -> pl.Expr:
    """A value as the mismatch table shows it: text; several values joined with ", "."""
    if isinstance(dtype, pl.List):
        return pl.col(name).list.eval(pl.element().cast(pl.String)).list.join(", ")
    return pl.col(name).cast(pl.String)


def compared_columns(sent: pl.DataFrame, held: pl.DataFrame) -> list[str]:
    return [c for c in sent.columns if c in held.columns and c not in NOT_COMPARED and c not in (ROW_NR, "key")]


def mismatches(sent: pl.DataFrame, held: pl.DataFrame, fields: Fields | None) -> pl.DataFrame:
    """Rows of ``sent`` (row_nr, key, columns) joined to ``held`` (key, columns): one row per field that
    differs (row_nr, key, column, sent, held)."""
    parts = []
    joined = sent.join(held, on="key", how="inner", suffix="__held")
    for name in compared_columns(sent, held):
        left = normalised(name, sent.schema[name], fields).alias("s")
        right = normalised(f"{name}__held", held.schema[name], fields).alias("h")
        pair = joined.select(ROW_NR, "key", left, right, _shown(name, sent.schema[name]).alias("sent"),
                             _shown(f"{name}__held", held.schema[name]).alias("held"))  # fmt: skip
        cleared = (pl.col("s") == "") & pl.col("h").is_null().or_(pl.col("h") == "")
        differ = pl.col("s").is_not_null() & ~cleared & (pl.col("s") != pl.col("h")).fill_null(True)
        parts.append(pair.filter(differ).select(ROW_NR, "key", pl.lit(name).alias("column"), "sent", "held"))
    if not parts:
        return pl.DataFrame(schema=MISMATCH_SCHEMA)
    return pl.concat([p.cast(MISMATCH_SCHEMA) for p in parts]).sort(ROW_NR, "column")  # type: ignore[arg-type]


def _preference(held: pl.DataFrame) -> list[pl.Expr]:
    """The order in which the last prospect of an email is the one Pardot's matchEmail picks."""
    if "last_activity_at" not in held.columns:
        return [pl.col("id")]
    held_at = held.schema["last_activity_at"]
    active = pl.col("last_activity_at") if isinstance(held_at, pl.Datetime) else utc_time("last_activity_at")
    return [active.is_not_null(), active, pl.col("id")]  # never active sorts first, then by activity, then id


def row_key(columns: list[str]) -> pl.Expr:
    """Per sent row, how the job named its prospect: ``id:N``, else ``fid:X``, else ``email:x`` (lower case)."""
    parts = []
    for name in ("id", "fid", "email"):
        if name in columns:
            value = pl.col(name).cast(pl.String).str.strip_chars()
            value = value.str.to_lowercase() if name == "email" else value
            parts.append(pl.when(value.is_not_null() & (value != "")).then(pl.lit(f"{name}:") + value))
    return pl.coalesce(parts) if parts else pl.lit(None, pl.String)


def held_keys(held: pl.DataFrame) -> pl.DataFrame:
    """Held prospects once per way a row may name them (id, fid, email); for an email several prospects
    share, the one a send by email updates (Pardot's matchEmail, ``pardot.prospects.preferred``: the most
    recently active, then the newest), with ``sharing`` saying how many share it."""
    frames = []
    for name in ("id", "fid", "email"):
        if name not in held.columns:
            continue
        value = pl.col(name).cast(pl.String).str.strip_chars()
        value = value.str.to_lowercase() if name == "email" else value
        part = held.filter(value.is_not_null() & (value != "")).with_columns((pl.lit(f"{name}:") + value).alias("key"))
        part = (
            part.with_columns(pl.len().over("key").alias("sharing"))
            .sort(*_preference(held))
            .unique("key", keep="last", maintain_order=True)
        )
        frames.append(part)
    return pl.concat(frames, how="vertical_relaxed") if frames else held.with_columns(key=pl.lit(None, pl.String))
