"""Stopping, in one place: why a job stopped before its last row (``Stop``, a small value the engine passes
around, not an exception), the flag Ctrl-C sets (``StopFlag``), and the public error a control signal means
when one would leave the engine (``public_error``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pardot_frames._control import BudgetSpent, Control, ResumableStop, StopRequested
from pardot_frames.errors import ApiError, Interrupted, LimitReached, PardotError, PardotFramesError


class StopKind(Enum):
    """The ways a job ends early."""

    DAILY_LIMIT = "daily_limit"  # error 122 (or the job's own budget): resumable after the reset
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM: resumable
    FATAL = "fatal"  # Pardot or the login refused the job: the original error is raised
    ROW_REFUSED = "row_refused"  # Pardot refused a row and skip_invalid_records is false


@dataclass(frozen=True)
class Stop:
    """A stop and its one-line reason; ``error`` holds the fatal PardotError."""

    kind: StopKind
    reason: str
    error: PardotError | None = None
    code: int | None = 122  # the error code unsent rows are reported with (daily limit stops)

    @classmethod
    def daily_limit(cls, budget: str | None = None) -> Stop:
        """Pardot's daily limit (error 122), or with ``budget`` the job's own ``max_api_calls``."""
        if budget:
            return cls(StopKind.DAILY_LIMIT, f"{budget}; resume to send the rest", code=None)
        return cls(StopKind.DAILY_LIMIT, "daily API limit met (error 122); run again after the account's day resets")

    @classmethod
    def interrupted(cls) -> Stop:
        return cls(StopKind.INTERRUPTED, "interrupted (Ctrl-C or SIGTERM)", code=None)

    @classmethod
    def fatal(cls, error: PardotError) -> Stop:
        return cls(StopKind.FATAL, str(error), error, code=None)

    @classmethod
    def row_refused(cls, row_nr: int, message: str) -> Stop:
        reason = f"Pardot rejected row {row_nr} ({message}) and skip_invalid_records is false"
        return cls(StopKind.ROW_REFUSED, reason, code=None)

    @property
    def reads_on(self) -> bool:
        """True when the rest of the input is still read, to list its rows as not sent (resumable stops)."""
        return self.kind in (StopKind.DAILY_LIMIT, StopKind.INTERRUPTED)


def stop_for(exc: ResumableStop | PardotError) -> Stop:
    """The one mapping of an error to the stop it means: the job's budget, Pardot's daily limits (122, 164),
    or a fatal error (raised again at the end, with the result)."""
    if isinstance(exc, StopRequested):
        return Stop.interrupted()
    if isinstance(exc, BudgetSpent):
        return Stop.daily_limit(str(exc))
    if isinstance(exc, ResumableStop):
        return Stop.daily_limit(exc.reason)
    return Stop.fatal(exc)


class StopFlag:
    """Set when the user asked the job to stop; ``cancelled`` after a second request; ``job_id`` is the
    journal's once it exists (what a resume names)."""

    def __init__(self) -> None:
        self.set = False
        self.cancelled = False
        self.job_id: str | None = None

    def resume_hint(self) -> str:
        if not self.job_id:
            return ""
        return f"; job {self.job_id} resumes with --resume {self.job_id} (resume={self.job_id!r} in Python)"


def public_error(exc: Control) -> PardotFramesError:
    """The public error a control signal means when it would reach a caller (outside a job, which turns it into
    a ``Stop``): Ctrl-C is Interrupted, a daily limit or the caller's budget is LimitReached, a refused call is an
    ApiError with Pardot's code."""
    if isinstance(exc, StopRequested):
        return Interrupted(f"interrupted ({exc.reason})", None)
    if isinstance(exc, ResumableStop):
        return LimitReached(exc.reason or str(exc) or "Pardot's daily API limit is met (error 122)", exc.code)
    return ApiError(str(exc) or type(exc).__name__, exc.code)
