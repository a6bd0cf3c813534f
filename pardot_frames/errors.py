"""Every error pardot-frames raises, in one tree.

::

    PardotFramesError                 base of everything raised on purpose
    ├── ConfigError                   a job parameter is missing or not allowed (names the key)
    ├── InputError                    the data frame cannot be sent as it is; found before any call
    │   ├── ColumnError               bad column names, types, duplicates, reserved or missing columns
    │   └── ValidationFailed          rows failed validation and skip_invalid_records is false
    └── PardotError                   Pardot or the network refused the job (engine issues build on it)

Messages name the column, row, key or value at fault and say what is allowed; they never carry
a secret's value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl


class PardotFramesError(Exception):
    """Base class of every error the package raises on purpose."""


class ConfigError(PardotFramesError, ValueError):
    """A job parameter is unknown, missing or has a value that is not allowed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid job configuration ({len(self.problems)} problem(s)):\n{lines}")


class InputError(PardotFramesError, ValueError):
    """The input data cannot be sent as it is. Raised before the first API call."""


class ColumnError(InputError):
    """Frame-level problems: column names, types, duplicates, reserved or missing columns."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"the input frame cannot be sent ({len(self.problems)} problem(s)):\n{lines}")


class ValidationFailed(InputError):
    """Some rows are invalid and skip_invalid_records is false: nothing was sent.

    ``rejected`` holds one row per problem (row_nr, column, check, reason, value).
    """

    def __init__(self, rejected: pl.DataFrame, rows_in: int, show: int = 5) -> None:
        self.rejected = rejected
        self.rows_in = rows_in
        bad_rows = rejected["row_nr"].n_unique()
        head = rejected.head(show)
        lines = "\n".join(
            f"  row {r['row_nr']}, column {r['column']}: {r['reason']}" for r in head.iter_rows(named=True)
        )
        more = "" if rejected.height <= show else f"\n  ... and {rejected.height - show} more problem(s)"
        super().__init__(
            f"{bad_rows} of {rows_in} row(s) are invalid and skip_invalid_records is false, "
            f"so nothing was sent:\n{lines}{more}\n"
            "Fix the rows, or set skip_invalid_records = true to send the valid rows and report the rest."
        )


class PardotError(PardotFramesError):
    """Pardot, the login server or the network refused the job."""
