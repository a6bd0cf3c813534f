"""Every error pardot-frames raises to its user, in one tree.

::

    PardotFramesError                 base of everything raised on purpose
    ├── ConfigError                   a job parameter is missing or not allowed (names the key); ``problems``
    │   └── CronError                 a schedule expression or time zone that cannot be used
    ├── InputError                    the data frame cannot be sent as it is; found before any call
    │   ├── SourceError               the input cannot be read: a file missing, empty or corrupt, SQL that fails
    │   ├── ColumnError               bad column names, types, duplicates, reserved or missing columns
    │   └── ValidationFailed          rows failed validation and skip_invalid_records is false
    ├── Interrupted                   Ctrl-C or SIGTERM stopped the job; ``result`` says what was done,
    │                                 ``job_id`` names the journal it resumes from
    └── PardotError                   Pardot, the login server or the network stopped the work; ``result``
        │                             (what a job did before), ``code`` (Pardot's error code, if any)
        ├── AuthError                 login refused (invalid_grant, bad client) or a token refused twice (184)
        ├── ApiError                  a Pardot error that stops the work: 181, 182, 201, 49, other non-row 4xx
        ├── LimitReached              outside a job, a call Pardot's daily limit (122), the day's import batches
        │                             (164) or the caller's max_api_calls refused (exit 3; a job reports its
        │                             unsent rows and ends resumable instead)
        ├── RetriesExhausted          a call failed maximum_retries + 1 times (inside a send path its rows
        │                             are reported as transient instead; elsewhere it ends the command)
        ├── ReadFailed                a page of a list's members that Pardot did not give
        ├── ReadStopped               a read stopped (budget, daily limit, Ctrl-C): ``frame`` holds what was
        │                             read, ``after_id`` where to resume
        └── JobFailed                 the job stopped part-way (rows rejected with skip_invalid_records=false,
            │                         or a fatal error); ``result`` holds what was done so far
            └── VerifyFailed          verify_strict: the verify found values Pardot does not hold as sent;
                                      ``result.verification`` holds the mismatches (exit 1)

Warnings (``PardotFramesWarning``, a UserWarning) say what a job did that a user may not expect: rows that may
create duplicate prospects, a switch out of body mode, a resume that started the job, parallel_tasks above
Pardot's limit, a notification that could not be delivered. The command line prints each once as
"warning: ...". Diagnostics go to the ``pardot_frames`` logger.

The engine's own control flow (retries, stops, refused calls) uses private types (``pardot_frames._control``)
that never reach a user: ``engine.stop.public_error`` turns any that would into the error above it means.

How the client sorts what Pardot answers (``pardot.answers.classify``, retries in ``pardot.client``):

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


class SourceError(InputError):
    """The input cannot be read: a file that is missing, empty or corrupt, SQL that fails when it runs."""


class ColumnError(InputError):
    """Frame-level problems: column names, types, duplicates, reserved or missing columns."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"the input frame cannot be sent ({len(self.problems)} problem(s)):\n{lines}")


class ValidationFailed(InputError):
    """Some rows are invalid and skip_invalid_records is false: nothing was sent.

    ``rejected`` holds one row per invalid input row (the one rejected-row column set: row_nr, stage,
    error_code, column, message, then the input columns); ``problems`` one row per problem (row_nr,
    column, check, reason, value).
    """

    def __init__(self, problems: pl.DataFrame, rows_in: int, rejected: pl.DataFrame, show: int = 5) -> None:
        self.problems, self.rejected, self.rows_in = problems, rejected, rows_in
        bad_rows = problems["row_nr"].n_unique()
        head = problems.head(show)
        lines = "\n".join(
            f"  row {r['row_nr']}, column {r['column']}: {r['reason']}" for r in head.iter_rows(named=True)
        )
        more = "" if problems.height <= show else f"\n  ... and {problems.height - show} more problem(s)"
        super().__init__(
            f"{bad_rows} of {rows_in} row(s) are invalid and skip_invalid_records is false, "
            f"so nothing was sent:\n{lines}{more}\n"
            "Fix the rows, or set skip_invalid_records = true to send the valid rows and report the rest."
        )


class Interrupted(PardotFramesError):
    """The job was asked to stop (Ctrl-C, SIGTERM); calls in flight finished first (unless asked twice).
    Resumable: ``job_id`` names the journal, ``result`` says what was done (None after a second request)."""

    def __init__(self, message: str, result: object, job_id: str | None = None) -> None:
        super().__init__(message)
        self.result = result
        self.job_id = job_id or getattr(result, "job_id", None)


class PardotError(PardotFramesError):
    """Pardot, the login server or the network stopped the work.

    Raised from a running job, ``result`` (an ExportResult) says which rows were applied before; ``code`` is
    Pardot's error code when one stopped it.
    """

    result: object = None
    code: int | None = None


class AuthError(PardotError):
    """The login server refused the credentials, or Pardot refused a fresh token (error 184 twice)."""


class ApiError(PardotError):
    """A Pardot error that stops the job; ``code`` is Pardot's error code, ``status`` the HTTP status."""

    def __init__(self, message: str, code: int | None = None, status: int | None = None) -> None:
        self.code, self.status = code, status
        super().__init__(message)


class LimitReached(PardotError):
    """Outside a job, a call was refused by Pardot's daily limit (error 122), the day's import batches (164) or
    the caller's own ``max_api_calls``: try again after the account's day resets (a job reports its unsent rows
    and ends resumable instead)."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.code = code


class JobFailed(PardotError):
    """The job stopped part-way; ``result`` (an ExportResult) says which rows were applied."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result


class VerifyFailed(JobFailed):
    """``verify_strict``: the job ran, and its verify found values Pardot does not hold as they were sent."""


class RetriesExhausted(PardotError):
    """A call failed ``retries + 1`` times: ``reason`` is the last failure, ``code`` its Pardot code, ``unknown``
    whether the last request may have been applied. The one message for giving up."""

    def __init__(self, reason: str, retries: int, code: int | None = None, unknown: bool = False) -> None:
        super().__init__(f"gave up after {retries} retries: {reason}")
        self.reason, self.retries, self.code, self.unknown = reason, retries, code, unknown


class ReadStopped(PardotError):
    """A read stopped before its end (the job's budget, the daily limit, Ctrl-C): ``frame`` holds what was read,
    ``after_id`` the last id read (resume with ``after_id=``; ``--after-id`` on the command line)."""

    def __init__(self, reason: str, frame: object, after_id: int | None) -> None:
        resume = f"; resume with after_id={after_id}" if after_id is not None else ""
        super().__init__(f"the read stopped: {reason}{resume}")
        self.frame, self.after_id, self.reason = frame, after_id, reason


class ReadFailed(PardotError):
    """A page of a list's members that Pardot did not give: never read as "no more members"."""


class PardotFramesWarning(UserWarning):
    """Something a job did that its user may not expect (see the module docstring); filter by this class."""
