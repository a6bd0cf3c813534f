"""The engine's control flow: exceptions that carry a decision between the client and the engine, and never
reach a user (the public errors are in ``pardot_frames.errors``).

::

    Control                       base; declares what every signal may carry: code, reason, unknown, wait
    ├── Retriable                 another try may get through: the client retries it with backoff
    │   ├── NoAnswer              no HTTP answer (``unknown``: the request may have been applied); a transport
    │   │                         raises it (the transport seam's contract, see ``pardot.transport``)
    │   ├── Transient             HTTP 5xx, 429, errors 66 and 183, an answer that is not Pardot's
    │   └── LoginTransient        the login server did not answer, or answered 5xx or 429
    ├── ResumableStop             nothing more is sent; a job ends resumable (its rows reported not sent)
    │   ├── StopRequested         Ctrl-C or SIGTERM: the client starts no new call
    │   └── DailyLimitReached     error 122
    │       ├── BudgetSpent       the caller's own max_api_calls
    │       └── DailyBatchLimit   error 164: the account's import batches for the day
    └── Refusal                   Pardot refused one call: the send path gives its rows the reason
        ├── UriTooLong            HTTP 414 (or real Pardot's HTML 400): the call is split
        ├── LookupFailed          an email lookup refused for another reason than "no such email"
        ├── ImportRefused         an Import API call refused (``code`` is Pardot's)
        └── UploadInDoubt         a batch upload got no answer after it may have reached Pardot

Inside a job ``engine.stop.stop_for`` turns a stop into a ``Stop`` (a value); at the public edge (the sync
bridge, the async export, the command line) ``engine.stop.public_error`` turns whatever is left into the
public error it means (``Interrupted``, ``LimitReached``, ``ApiError``).
"""

from __future__ import annotations


class Control(Exception):
    """Base of the engine's signals; never raised to a user."""

    code: int | None = None  # Pardot's error code, when the signal comes from one
    reason: str | None = None  # the one line a report gives
    unknown: bool = False  # the request may have been applied (no answer after it went out)
    wait: float | None = None  # the server's Retry-After, in seconds


class Retriable(Control):
    """A failure another try may get through; the client retries it and never lets it reach a user."""


class NoAnswer(Retriable):
    """No HTTP answer; ``unknown`` is True when the request may have been applied; ``lasting`` when another
    try soon will not help (connection refused, a host name that does not resolve): a login fails at once."""

    def __init__(self, reason: str, unknown: bool, *, lasting: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.unknown, self.lasting = reason, unknown, lasting


class Transient(Retriable):
    """A retriable answer; ``unknown`` is True when the request may have been applied; ``wait`` is the
    server's Retry-After in seconds, if it gave one."""

    def __init__(self, reason: str, unknown: bool, code: int | None = None, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.unknown, self.code, self.wait = reason, unknown, code, wait


class LoginTransient(Retriable):
    """A login attempt that another try may get through (no answer, 5xx, 429)."""


class ResumableStop(Control):
    """Nothing more is sent; the job ends resumable (exit 3). ``reason`` is the stop's one line."""

    code: int | None = None
    reason: str | None = None


class StopRequested(ResumableStop):
    """The user asked the job to stop (Ctrl-C, SIGTERM): the client starts no new call."""

    reason = "interrupted (Ctrl-C or SIGTERM)"


class DailyLimitReached(ResumableStop):
    """Error 122: the business unit's daily API calls are used up."""

    code: int | None = 122


class BudgetSpent(DailyLimitReached):
    """The job's own call budget (``max_api_calls``) is spent: it stops like error 122, resumable."""

    code = None


class DailyBatchLimit(DailyLimitReached):
    """Error 164: the account's import batches for the day are used up."""

    code = 164
    reason = "the daily limit of import batches is reached (error 164); resume after the account's day resets"


class Refusal(Control):
    """Pardot refused one call; the send path gives its rows the reason (or splits the call)."""


class UriTooLong(Refusal):
    """HTTP 414: the request URI is longer than the server takes."""


class LookupFailed(Refusal):
    """An email lookup that Pardot refused for another reason than "no such email": never a reason to create."""


class ImportRefused(Refusal):
    """The Import API refused a call; ``code`` is Pardot's (413 for a batch over 10 MB)."""

    def __init__(self, what: str, code: int | None, message: str | None, status: int) -> None:
        super().__init__(f"{what} refused: Pardot error {code} ({message or f'HTTP {status}'})")
        self.code, self.message = code, message


class UploadInDoubt(Refusal):
    """A batch upload got no answer after it may have reached Pardot: never upload it again to that import."""
