"""The account's fields: standard prospect fields plus the custom fields Pardot reports, and the checks
and normalisation each custom field type needs before sending, vectorised.

Real Pardot answers ``stat: ok`` and silently drops a value a typed custom field cannot take
("notadate" in a Date field); so every value is checked here first and a value Pardot would drop is a
rejected row (column, value, reason) instead:

- Date: dates, datetimes and ISO strings become ``YYYY-MM-DD`` (the date part, as Pardot stores it);
- Number: numbers and numeric strings, sent as their shortest text (5, not 5.0);
- Dropdown, Radio Button, Checkbox: one of the field's values, when the account defines them;
- Multi-Select, and fields that record several responses: a list column (polars List, or a pandas column
  of lists; a single text value counts as a one-item list), each item checked as above, sent as
  ``<field>_0``, ``<field>_1``, ... (the v4 convention for several values);
- Text, Textarea, Hidden, CRM User: text.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from pardot_frames.errors import ColumnError
from pardot_frames.prepare.schemas import PROSPECT_FIELDS

CHOICE_TYPES = frozenset({"Dropdown", "Radio Button", "Checkbox", "Multi-Select"})
TYPE_NAMES = {
    name.lower(): name for name in (*CHOICE_TYPES, "Text", "Textarea", "Hidden", "Number", "Date", "CRM User")
}
Normaliser = Callable[[pl.Expr, pl.DataType, str], tuple[pl.Expr, pl.Expr]]


@dataclass(frozen=True)
class CustomField:
    """One custom field of the account, as the customField query reports it."""

    field_id: str
    name: str
    type: str = "Text"
    multiple: bool = False  # is_record_multiple_responses
    values: tuple[str, ...] = ()  # the allowed values, when the account defines them

    @property
    def many(self) -> bool:
        """Takes several values (sent as ``<field>_0``, ``<field>_1``, ...)."""
        return self.multiple or self.type == "Multi-Select"

    @property
    def array(self) -> bool:
        """Read back as an array: Pardot refuses it in v5 queries (v5-objects 1) and reads it as a list."""
        return self.many or self.type == "Checkbox"

    @classmethod
    def from_answer(cls, record: dict[str, Any]) -> CustomField:
        values = record.get("values") or ()
        if isinstance(values, dict):  # v4 may nest them: {"value": [...]}
            values = values.get("value") or ()
        values = [values] if isinstance(values, str | dict) else values
        kind = str(record.get("type") or "Text")
        return cls(
            field_id=str(record["field_id"]),
            name=str(record.get("name") or record["field_id"]),
            type=TYPE_NAMES.get(kind.lower(), kind),  # v5 answers lower-case words ("multi-select"): facts 9
            multiple=bool(record.get("is_record_multiple_responses")),
            values=tuple(str(v.get("value", v) if isinstance(v, dict) else v) for v in values),
        )


@dataclass(frozen=True)
class Fields:
    """Standard and custom fields of one account (``custom`` keyed by field id)."""

    custom: dict[str, CustomField] = field(default_factory=dict)
    fetched_at: str | None = None

    def frame(self) -> pl.DataFrame:
        """Every field: name, kind (standard/custom), type, several values, allowed values."""
        standard = [(n, "standard", kind, False, None) for n, kind in PROSPECT_FIELDS.items()]
        custom = [
            (f.field_id, "custom", f.type, f.many, list(f.values) or None)
            for f in sorted(self.custom.values(), key=lambda f: f.field_id)
        ]
        schema: dict[str, pl.DataType | type[pl.DataType]] = {
            "field": pl.String,
            "kind": pl.String,
            "type": pl.String,
            "several": pl.Boolean,
            "values": pl.List(pl.String),
        }
        return pl.DataFrame(standard + custom, schema=schema, orient="row")

    def unknown(self, columns: list[str]) -> list[str]:
        """Problems for columns that are neither standard nor custom fields, with the closest names."""
        known = [*PROSPECT_FIELDS, *self.custom]
        problems = []
        for column in columns:
            if column in PROSPECT_FIELDS or column in self.custom:
                continue
            close = difflib.get_close_matches(column, known, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            problems.append(
                f"column {column!r} is neither a standard prospect field nor a custom field of this account{hint} "
                "(pardot-frames fields lists them)"
            )
        return problems

    def matters(self, columns: list[str]) -> bool:
        """Whether checking these columns against the account's fields can change anything."""
        return bool(self.unknown(columns)) or any(self.normaliser(c) is not None for c in columns)

    def normaliser(self, column: str) -> Normaliser | None:
        """The normaliser of a custom field's column, or None for standard fields and plain text."""
        found = self.custom.get(column)
        if found is None:
            return None
        if found.many:
            return _several(found)
        if found.type == "Date":
            return _date
        if found.type == "Number":
            return _number
        if found.type == "Checkbox":
            return _checkbox(found.values)
        if found.type in CHOICE_TYPES and found.values:
            return _choice(found.values)
        return None


def _as_text(c: pl.Expr, dtype: pl.DataType, name: str) -> pl.Expr:
    if dtype == pl.String:
        return c
    if dtype.is_numeric() or dtype in (pl.Boolean, pl.Null, pl.Categorical) or dtype.is_temporal():
        return c.cast(pl.String)
    raise ColumnError([f"column {name!r} has type {dtype}; this custom field takes text"])


def _date(c: pl.Expr, dtype: pl.DataType, name: str) -> tuple[pl.Expr, pl.Expr]:
    if dtype == pl.Date:
        return c.dt.strftime("%Y-%m-%d"), pl.lit(None, pl.String)
    if isinstance(dtype, pl.Datetime):
        return c.dt.date().dt.strftime("%Y-%m-%d"), pl.lit(None, pl.String)
    if dtype in (pl.Null,):
        return c.cast(pl.String), pl.lit(None, pl.String)
    if dtype != pl.String:
        raise ColumnError([f"column {name!r} is a Date field; give dates, datetimes or ISO strings (YYYY-MM-DD)"])
    text = c.str.strip_chars()
    day = text.str.slice(0, 10)
    # YYYY-MM-DD, alone or followed by a time: the date part is what Pardot keeps (a real date, strictly parsed)
    shaped = (text.str.len_bytes() == 10) | text.str.slice(10, 1).is_in(["T", " "])
    valid = shaped & day.str.to_date("%Y-%m-%d", strict=False).is_not_null() & (day.str.slice(4, 1) == "-")
    value = pl.when(text == "").then(pl.lit("")).when(valid).then(day)
    bad = c.is_not_null() & (text != "") & ~valid
    return value, pl.when(bad).then(pl.lit("not a date; a Date field takes YYYY-MM-DD (or an ISO datetime)"))


_NUMBER = r"^-?(\d+\.?\d*|\.\d+)$"


def _number(c: pl.Expr, dtype: pl.DataType, name: str) -> tuple[pl.Expr, pl.Expr]:
    none = pl.lit(None, pl.String)
    if dtype.is_integer() or dtype == pl.Null:
        return c.cast(pl.String), none
    if dtype == pl.String:  # numeric text is sent as written: Pardot reads it as a number
        text = c.str.strip_chars()
        ok = text.str.contains(_NUMBER)
        bad = c.is_not_null() & (text != "") & ~ok
        return pl.when(text == "").then(pl.lit("")).when(ok).then(text), pl.when(bad).then(
            pl.lit("not a number; a Number field takes numbers")
        )
    if dtype.is_float() or dtype.is_decimal():
        f = c.cast(pl.Float64)
        whole = f.is_finite() & (f == f.floor()) & (f.abs() < 2.0**53)
        value = pl.when(whole).then(f.cast(pl.Int64).cast(pl.String)).when(f.is_finite()).then(f.cast(pl.String))
        return value, pl.when(f.is_not_null() & ~f.is_finite()).then(pl.lit("not a finite number"))
    raise ColumnError([f"column {name!r} is a Number field; give numbers or numeric text"])


def _choice(values: tuple[str, ...]) -> Normaliser:
    allowed = list(values)
    shown = ", ".join(repr(v) for v in allowed[:8]) + (" ..." if len(allowed) > 8 else "")

    def normalise(c: pl.Expr, dtype: pl.DataType, name: str) -> tuple[pl.Expr, pl.Expr]:
        text = _as_text(c, dtype, name)
        bad = text.is_not_null() & (text != "") & ~text.is_in(allowed)
        return text, pl.when(bad).then(pl.lit(f"not one of the field's values: {shown}"))

    return normalise


def _checkbox(values: tuple[str, ...]) -> Normaliser:
    """A Checkbox takes one value in batchUpsert (its name alone); Pardot reads it back as a list, so a list column
    of at most one item is taken too (a read frame goes back unchanged). Several items: refused, since how a
    batch sets several Checkbox values is not confirmed."""
    plain = _choice(values) if values else None

    def normalise(c: pl.Expr, dtype: pl.DataType, name: str) -> tuple[pl.Expr, pl.Expr]:
        several = None
        if isinstance(dtype, pl.List):
            several = pl.when(c.list.len() > 1).then(pl.lit("several values; a Checkbox field takes one in a batch"))
            c, dtype = (
                pl.when(c.list.len() == 0).then(pl.lit("")).otherwise(c.list.first().cast(pl.String)),
                pl.String(),
            )
        value, bad = plain(c, dtype, name) if plain else (_as_text(c, dtype, name), pl.lit(None, pl.String))
        return value, bad if several is None else pl.coalesce(several, bad)

    return normalise


def _several(found: CustomField) -> Normaliser:
    allowed = list(found.values)

    def normalise(c: pl.Expr, dtype: pl.DataType, name: str) -> tuple[pl.Expr, pl.Expr]:
        if isinstance(dtype, pl.List):
            items = c.list.eval(pl.element().cast(pl.String))
        else:  # one value: a one-item list
            items = pl.when(c.is_not_null()).then(pl.concat_list(_as_text(c, dtype, name)))
        if not allowed:
            return items, pl.lit(None, pl.String)
        outside = items.list.eval(pl.element().is_not_null() & ~pl.element().is_in(allowed)).list.any()
        shown = ", ".join(repr(v) for v in allowed[:8]) + (" ..." if len(allowed) > 8 else "")
        return items, pl.when(outside.fill_null(False)).then(
            pl.lit(f"a value is not one of the field's values: {shown}")
        )

    return normalise


def expand_several(fields: pl.DataFrame) -> pl.DataFrame:
    """List columns (fields taking several values) as ``<field>_0``, ``<field>_1``, ... columns; a null list
    leaves the field unchanged, an empty list clears it (``<field>_0 = ""``)."""
    lists = [n for n, t in fields.schema.items() if isinstance(t, pl.List)]
    if not lists:
        return fields
    out = []
    for name in fields.columns:
        if name not in lists:
            out.append(pl.col(name))
            continue
        width = max(int(fields[name].list.len().max() or 0), 1)  # type: ignore[arg-type]
        for k in range(width):
            item = pl.col(name).list.get(k, null_on_oob=True)
            if k == 0:
                item = pl.when(pl.col(name).list.len() == 0).then(pl.lit("")).otherwise(item)
            out.append(item.cast(pl.String).alias(f"{name}_{k}"))
    return fields.select(out)
