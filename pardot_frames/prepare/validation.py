"""Rows in, valid rows and rejected rows out: frame checks, normalisation and row checks, vectorised.

Frame-level problems (names, types, missing columns) raise ``ColumnError`` at once. Row-level
problems become data: one row per problem in ``Validated.problems`` (row_nr, column, check,
reason, value), like pandera's ``failure_cases``, and one row per invalid input row in
``Validated.rejected`` (the one rejected-row column set, ``prepare.rejected``). Nulls mean "leave
unchanged in Pardot".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandera.errors
import polars as pl

from pardot_frames.config.job import ExportConfig
from pardot_frames.errors import ColumnError, ValidationFailed
from pardot_frames.limits import MAX_ROW_JSON_CHARS
from pardot_frames.prepare import schemas
from pardot_frames.prepare.account_fields import Fields
from pardot_frames.prepare.csv_batches import ROUTE_BATCH, match_kind
from pardot_frames.prepare.frames import ROW_NR, to_polars
from pardot_frames.prepare.normalise import MASK, REJECTED_SCHEMA, normalise
from pardot_frames.prepare.payload import json_lengths, prospect_payloads, sizes_ahead
from pardot_frames.prepare.rejected import from_problems, with_inputs


@dataclass(frozen=True)
class Validated:
    """The outcome of validation: typed valid rows, their payloads and the rejected rows."""

    rows: pl.DataFrame  # row_nr + normalised columns of the valid rows, input order
    payloads: pl.DataFrame  # prospects: row_nr, json, size; list memberships: row_nr, list_id, prospect_id
    problems: pl.DataFrame  # one row per problem, REJECTED_SCHEMA (row_nr, column, check, reason, value)
    rows_in: int
    frame: pl.DataFrame | None = field(default=None, repr=False)  # the input as checked (for ``rejected``)
    first_row: int = 0

    @property
    def rejected_rows(self) -> int:
        """How many input rows have at least one problem."""
        return self.problems[ROW_NR].n_unique()

    @property
    def rejected(self) -> pl.DataFrame:
        """One row per invalid input row in the one rejected-row column set (``prepare.rejected``)."""
        outcomes = from_problems(self.problems)
        return outcomes if self.frame is None else with_inputs(outcomes, self.frame, self.first_row)


def check_columns(frame: pl.DataFrame, data_object: str) -> None:
    """Raise ColumnError for names Pardot would not accept, reserved or missing columns."""
    problems: list[str] = []
    for column in frame.columns:
        if column == ROW_NR:
            problems.append(f"column {ROW_NR!r} is reserved for the input row number; rename it")
        elif not schemas.IDENTIFIER.fullmatch(column):
            meant = schemas.suggest_name(column)
            hint = (
                f"did you mean {meant!r}?" if meant else "use the field's API name ('pardot-frames fields' lists them)"
            )
            problems.append(
                f"column {column!r} is not a Pardot field name: names are lower case letters, digits and "
                f"underscores starting with a letter; {hint}"
            )
        elif schemas.RESERVED.fullmatch(column):
            problems.append(
                f"column {column!r} is reserved: list subscriptions are set with prospect_lists and "
                "prospect_list_operation, not with list_<id> columns"
            )
    if data_object == "list_memberships":
        allowed = schemas.LIST_MEMBERSHIP_FIELDS
        problems += [f"list_memberships needs column {c!r}" for c in allowed if c not in frame.columns]
        problems += [
            f"column {c!r} is not a list membership field; only prospect_id and list_id are sent"
            + (" (opting out is not supported: it cannot be reverted)" if c == "opted_out" else "")
            for c in frame.columns
            if c not in allowed and schemas.IDENTIFIER.fullmatch(c)
        ]
    elif frame.width == 0:
        problems.append("the frame has no columns; a prospect needs id, fid or email")
    keys = (*schemas.PROSPECT_KEYS, *schemas.LIST_MEMBERSHIP_FIELDS)
    problems += [f"column {c!r} holds {frame.schema[c]} values; a key is one value a row (a number or text)"
                 for c in frame.columns if c in keys and frame.schema[c].is_nested()]  # fmt: skip
    if problems:
        raise ColumnError(problems)


_REASONS = {"not_nullable": "required value is missing"}


def schema_problems(typed: pl.DataFrame, data_object: str, cell: pl.DataFrame) -> pl.DataFrame:
    """Run the pandera schema lazily; its failure cases (less cells that failed their type) as records."""
    schema = schemas.prospect_schema() if data_object == "prospects" else schemas.list_membership_schema()
    try:
        schema.validate(typed.drop(ROW_NR), lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases.filter(pl.col("index").is_not_null())
        frame_level = exc.failure_cases.filter(pl.col("index").is_null())
        if frame_level.height:  # normalise settles types, so this means a bug, not bad input
            raise ColumnError(
                [f"{r['column']}: {r['check']} ({r['failure_case']})" for r in frame_level.iter_rows(named=True)]
            ) from None
        # typed keeps every input row in order, so pandera's index is the position in this frame
        first_row = typed[ROW_NR][0] if typed.height else 0
        return cases.select(
            (pl.col("index").cast(pl.Int64) + first_row).alias(ROW_NR),
            pl.col("column"),
            pl.lit("schema").alias("check"),
            pl.col("check").replace_strict(_REASONS, default=pl.col("check")).alias("reason"),
            pl.when(pl.col("column").is_in(list(schemas.SECRET_FIELDS)))
            .then(pl.lit(MASK))
            .otherwise(pl.col("failure_case"))
            .alias("value"),
        ).join(cell.select(ROW_NR, "column"), on=[ROW_NR, "column"], how="anti", maintain_order="left")
    return pl.DataFrame(schema=REJECTED_SCHEMA)


def key_problems(frame: pl.DataFrame, config: ExportConfig, first_row: int = 0) -> pl.DataFrame:
    """Prospect rows that Pardot could not match or create: no id, fid or email (email with upsert_by_email)."""
    if config.data_object != "prospects":
        return pl.DataFrame(schema=REJECTED_SCHEMA)
    # judged on the input, so a key given in a bad format is reported as that, not as "no key"
    present = [
        pl.col(k).is_not_null() & (pl.col(k).cast(pl.String).str.strip_chars() != "")
        for k in schemas.PROSPECT_KEYS
        if k in frame.columns and (k == "email" or not config.upsert_by_email)
    ]
    if config.upsert_by_email:
        column, reason = "email", "no email: with upsert_by_email every row needs an email"
    else:
        column, reason = "id|fid|email", "no key: a prospect row needs id, fid or email"
    has_key = pl.any_horizontal(present) if present else pl.lit(False)
    return (
        frame.with_row_index(ROW_NR, offset=first_row)
        .filter(~has_key)
        .select(
            pl.col(ROW_NR).cast(pl.Int64),
            pl.lit(column).alias("column"),
            pl.lit("key").alias("check"),
            pl.lit(reason).alias("reason"),
            pl.lit(None, pl.String).alias("value"),
        )
    )


def prospect_rows(
    rows: pl.DataFrame, config: ExportConfig, with_json: bool, sizes: np.ndarray | None, first_row: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Valid prospect rows, their payloads, and the problems of rows whose JSON is too long for the query
    string (they leave the rows). ``sizes``: every row's of the chunk, computed already."""
    # an import job builds batchUpsert JSON only for the rows a CSV cannot carry (the rest go as CSV)
    json_rows = rows.filter(match_kind(rows, config) == ROUTE_BATCH) if config.method == "import" else rows
    known = None if sizes is None else sizes[json_rows[ROW_NR].to_numpy() - first_row]
    payloads = prospect_payloads(json_rows, config, with_json, known)
    # the 7,500-character rule exists because the row rides in the URI: not in body mode
    if config.payload_location != "query":
        return rows, payloads, pl.DataFrame(schema=REJECTED_SCHEMA)
    lengths = json_lengths(json_rows, payloads, config, MAX_ROW_JSON_CHARS)
    too_long = lengths.filter(pl.col("chars") > MAX_ROW_JSON_CHARS)
    if not too_long.height:
        return rows, payloads, pl.DataFrame(schema=REJECTED_SCHEMA)
    out = ~pl.col(ROW_NR).is_in(too_long[ROW_NR].implode())
    problems = too_long.select(
        pl.col(ROW_NR),
        pl.lit("*").alias("column"),
        pl.lit("row_size").alias("check"),
        pl.format(
            "the row is {} characters as JSON; at most {} are allowed in the query string "
            '(payload_location = "body" sends rows of any size)',
            pl.col("chars"),
            pl.lit(MAX_ROW_JSON_CHARS),
        ).alias("reason"),
        pl.lit(None, pl.String).alias("value"),
    )
    return rows.filter(out), payloads.filter(out), problems


def validate(
    data: Any,
    config: ExportConfig | None = None,
    *,
    first_row: int = 0,
    fields: Fields | None = None,
    with_json: bool = True,
    **overrides: Any,
) -> Validated:
    """Check ``data`` against the job's data object; raise only for frame-level problems.

    With skip_invalid_records=false, any invalid row raises ValidationFailed (nothing may be sent).
    ``first_row`` numbers the rows of a chunk of a longer input. With the account's ``fields`` (see
    ``prepare.account_fields``), a column that is no field of the account is a ColumnError and custom field values
    are checked by their types. ``with_json`` False leaves the payloads' JSON out (their lengths stay): a
    plan needs the lengths only.
    """
    config = (config or ExportConfig()).replace(**overrides) if overrides else (config or ExportConfig())
    frame = to_polars(data)
    if config.output_mapping is not None:
        frame = config.output_mapping.apply(frame)
    check_columns(frame, config.data_object)
    if fields is not None and config.data_object == "prospects" and (problems := fields.unknown(frame.columns)):
        raise ColumnError(problems)
    typed, cell = normalise(frame, config.data_object, first_row, fields)
    # a plan's sizes are computed while the rows are checked (the run's, while its JSON is built)
    sizes = sizes_ahead(typed, config) if config.data_object == "prospects" and not with_json else None
    rejected = pl.concat(
        [cell, schema_problems(typed, config.data_object, cell), key_problems(frame, config, first_row)]
    )
    bad = rejected[ROW_NR].unique()
    rows = typed.filter(~pl.col(ROW_NR).is_in(bad.implode()))
    if config.data_object == "prospects":
        known = None if sizes is None else sizes.result()  # every typed row's, in order from first_row
        rows, payloads, too_long = prospect_rows(rows, config, with_json, known, first_row)
        rejected = pl.concat([rejected, too_long])
    else:
        payloads = rows.select(ROW_NR, "list_id", "prospect_id")
    rejected = rejected.sort(ROW_NR, maintain_order=True)
    if rejected.height and not config.skip_invalid_records:
        raise ValidationFailed(rejected, frame.height, with_inputs(from_problems(rejected), frame, first_row))
    return Validated(rows, payloads, rejected, frame.height, frame, first_row)
