"""Rejected rows as users read them, one column set everywhere (``validate().rejected``, the dry run's and
the run's ``rejected``, ``--rejected-out`` files): one row per input row that was not applied, with

``row_nr``, ``stage`` (validation, pardot, deleted: the prospect is in Pardot's recycle bin, not_sent),
``error_code`` (Pardot's, where it gives one),
``column`` (the columns at fault, for validation), ``message``, then the row's input columns (secrets
masked), in the input's frame kind (pandas in, pandas out). Errors are data, as in pandera's
``failure_cases``; ``Validated.problems`` keeps one row per problem for those who want the detail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from pardot_frames.config.connection import MASK
from pardot_frames.prepare.frames import ROW_NR
from pardot_frames.prepare.schemas import SECRET_FIELDS

OUTCOME_SCHEMA = {
    ROW_NR: pl.Int64,
    "stage": pl.String,
    "error_code": pl.Int64,
    "column": pl.String,
    "message": pl.String,
}
Outcome = tuple[int, str, int | None, str]  # row_nr, stage, error code, message


def from_problems(problems: pl.DataFrame) -> pl.DataFrame:
    """Validation problems (one row per problem) as one outcome row per input row."""
    return (
        problems.group_by(ROW_NR, maintain_order=True)
        .agg(
            pl.col("column").unique(maintain_order=True).str.join(", "),
            pl.format("{}: {}", pl.col("column"), pl.col("reason")).str.join("; ").alias("message"),
        )
        .select(
            ROW_NR, pl.lit("validation").alias("stage"), pl.lit(None, pl.Int64).alias("error_code"), "column", "message"
        )  # fmt: skip
        .cast(OUTCOME_SCHEMA)  # type: ignore[arg-type]
    )


def from_outcomes(outcomes: Sequence[Outcome]) -> pl.DataFrame:
    """Rows Pardot refused, or that were not sent, as outcome rows (no column is at fault)."""
    return pl.DataFrame(
        {
            ROW_NR: [o[0] for o in outcomes],
            "stage": [o[1] for o in outcomes],
            "error_code": [o[2] for o in outcomes],
            "column": [None] * len(outcomes),
            "message": [o[3] for o in outcomes],
        },
        schema=OUTCOME_SCHEMA,
    )


def with_inputs(outcomes: pl.DataFrame, frame: pl.DataFrame, first_row: int = 0) -> pl.DataFrame:
    """Outcome rows (sorted by row number) with their input columns, secrets masked."""
    masked = [pl.when(pl.col(c).is_not_null()).then(pl.lit(MASK)).alias(c) for c in frame.columns if c in SECRET_FIELDS]
    inputs = frame.with_row_index(ROW_NR, offset=first_row).with_columns(pl.col(ROW_NR).cast(pl.Int64), *masked)
    return outcomes.sort(ROW_NR).join(inputs, on=ROW_NR, how="left", maintain_order="left")


def in_kind_of(frame: pl.DataFrame, data: Any) -> Any:
    """The frame in the kind of the user's input: pandas for pandas, a pyarrow Table for pyarrow, else polars."""
    module = type(data).__module__
    if module.startswith("pandas"):
        return frame.to_pandas()
    if module.startswith("pyarrow"):
        return frame.to_arrow()
    return frame
