"""Every error pardot-frames raises, in one tree.

::

    PardotFramesError                 base of everything raised on purpose
    ├── ConfigError                   a job parameter is missing or not allowed (names the key)
    │   └── CronError                 a schedule expression or time zone that cannot be used
    ├── InputError                    the data frame cannot be sent as it is; found before any call
    │   ├── ColumnError               bad column names, types, duplicates, reserved or missing columns
    │   └── ValidationFailed          rows failed validation and skip_invalid_records is false
    ├── Interrupted                   Ctrl-C or SIGTERM stopped the job; ``result`` says what was done,
    │                                 and the journal lets it resume
    └── PardotError                   Pardot, the login server or the network stopped the job
        ├── AuthError                 login refused (invalid_grant, bad client) or a token refused twice (184)
        ├── ApiError                  a Pardot error that stops the job: 181, 182, 201, 49, other non-row 4xx
        └── JobFailed                 the job stopped part-way (rows rejected with skip_invalid_records=false,
                                      or a fatal error); ``result`` holds what was done so far

How the client sorts what Pardot answers (``pardot.answers.sort``, retries in ``pardot.client``):

- retriable: connection errors, timeouts, HTTP 5xx, error 66 (also lowers concurrency), error 183;
  retried with exponential backoff, at most ``maximum_retries`` times, then the call's rows are rejected;
- refresh: error 184 (HTTP 400 or 401): the token is refreshed once and the call repeated;
- stop: error 122 (daily limit): nothing more is sent; unsent rows are reported ``not_sent``;
- row-level: batchUpsert per-row errors and single-row list membership errors (3, 55, 58, 109...):
  the row is rejected (or counted done: 58 on create, 109 on delete);
- fatal: 181, 182, 201, 49 and other 4xx: the job fails at once with a hint.

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


class CronError(ConfigError):
    """A schedule expression or time zone that cannot be used; names the field at fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        PardotFramesError.__init__(self, "invalid schedule: " + "; ".join(self.problems))


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


class Interrupted(PardotFramesError):
    """The job was asked to stop (Ctrl-C, SIGTERM); calls in flight finished first. Resumable."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result


class PardotError(PardotFramesError):
    """Pardot, the login server or the network stopped the job.

    Raised from a running job, ``result`` (an ExportResult) says which rows were applied before.
    """

    result: object = None


class AuthError(PardotError):
    """The login server refused the credentials, or Pardot refused a fresh token (error 184 twice)."""


class ApiError(PardotError):
    """A Pardot error that stops the job; ``code`` is Pardot's error code, ``status`` the HTTP status."""

    def __init__(self, message: str, code: int | None = None, status: int | None = None) -> None:
        self.code, self.status = code, status
        super().__init__(message)


class JobFailed(PardotError):
    """The job stopped part-way; ``result`` (an ExportResult) says which rows were applied."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result
