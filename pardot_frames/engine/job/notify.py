"""Telling someone how a job went (issue #34): one message to each of the job's ``notify`` URLs when its outcome
is one of ``notify_on`` (``failure``, ``rejected``, ``disabled``, ``success``; default failure and disabled).

Delivery goes through Apprise (https://github.com/caronc/apprise, BSD, maintained since 2017, 100+ services):
one URL per destination (``mailto://user:pass@smtp.example.com?to=team@example.com``, ``slack://...``,
``msteams://...``, ``json://host/path`` for a generic JSON webhook, and the rest), so the product speaks SMTP,
Slack, Teams and webhooks without a line of protocol code of its own. Chosen over writing SMTP and webhook
clients here: it is one dependency for every channel a team already uses, its URL form fits a job file
and an environment variable, and it redacts credentials when it lists URLs.

The outcome (``event_of``): ``success`` every row applied (exit 0); ``rejected`` rows refused (exit 1);
``failure`` the job did not finish: stopped by the daily limit or a budget (3), failed (4), interrupted, or
(in a schedule) refused for its configuration or input (2); ``disabled`` a schedule turned itself off.

The message (``message``) says what ran (job id, config name, business unit), when, the outcome and counts,
the first rejected reasons grouped with counts, the stop reason and the command that resumes it. It never
holds a secret: the notification URLs hold SMTP passwords and webhook tokens, so they are shown only as
``scheme://…`` (``masked``). A message that cannot be delivered never changes the job's outcome: it is
tried ``TRIES`` times (within about 3 s) and then one warning says which destination failed.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pardot_frames.config.job import ExportConfig
from pardot_frames.config.job import mask_url as masked
from pardot_frames.errors import Interrupted, PardotFramesWarning

EVENTS = ("failure", "rejected", "disabled", "success")
TRIES = 3
WAITS = (0.5, 1.5)  # seconds before the second and third try
REASONS_SHOWN = 5


@dataclass(frozen=True)
class Message:
    event: str
    title: str
    body: str


def urls_of(config: ExportConfig) -> list[str]:
    return [u.get_secret_value() for u in config.notify]


def event_of(result: Any = None, error: BaseException | None = None) -> str:
    """success, rejected or failure, from a job's result or the error it raised."""
    if error is not None:
        return "failure"
    if result is None:
        return "failure"
    if result.stopped:
        return "failure"
    return "success" if result.ok else "rejected"


def message(event: str, config: ExportConfig, *, name: str, started: datetime, ended: datetime | None = None,
            result: Any = None, error: BaseException | None = None, resume: str | None = None,
            detail: str | None = None) -> Message:  # fmt: skip
    """The message of one outcome (see the module docstring); nothing secret in it."""
    ended = ended or datetime.now(UTC)
    words = {"success": "succeeded", "rejected": "finished with rejected rows", "failure": "failed",
             "disabled": "schedule disabled"}  # fmt: skip
    title = f"pardot-frames: {name} {words.get(event, event)}"
    lines = [
        f"job: {name} ({config.data_object} to business unit {config.business_unit or '-'} at {config.pardot_domain})",
        f"job id: {_job_id(result, error) or 'none (the job stopped before its journal was opened: nothing was sent)'}",
        f"when: {started.isoformat(timespec='seconds')} to {ended.isoformat(timespec='seconds')}",
        f"outcome: {event}",
    ]
    result = result if result is not None else getattr(error, "result", None)
    if result is not None:
        lines.append(
            f"rows: {result.rows_in:,} in, {result.succeeded:,} applied, {result.unchanged:,} unchanged, "
            f"{result.rejected_validation:,} rejected by validation, {result.rejected_pardot:,} by Pardot, "
            f"{getattr(result, 'deleted', 0):,} deleted in Pardot, {result.not_sent:,} not sent; "
            f"{result.api_calls:,} API calls"
        )
        lines += _reasons(result.rejected)
        if result.stopped:
            lines.append(f"stopped: {result.stopped}")
    if error is not None:
        lines.append(f"error: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
    if detail:
        lines.append(detail)
    if resume and (event == "failure" or isinstance(error, Interrupted)):
        lines.append(f"resume with: {resume}")
    return Message(event, title, "\n".join(lines))


def _job_id(result: Any, error: BaseException | None) -> str | None:
    found = getattr(result, "job_id", None) or getattr(error, "job_id", None)
    return found or getattr(getattr(error, "result", None), "job_id", None)


def _reasons(rejected: Any) -> list[str]:
    """The first rejected reasons, grouped with their counts."""
    try:
        import polars as pl

        frame = rejected if isinstance(rejected, pl.DataFrame) else pl.from_pandas(rejected)
        if not frame.height or "message" not in frame.columns:
            return []
        grouped = frame.group_by("stage", "message").len().sort("len", "message", descending=[True, False])
    except Exception:  # a frame kind this cannot read: the counts above say enough
        return []
    lines = ["first rejected reasons:"]
    for stage, text, count in grouped.head(REASONS_SHOWN).iter_rows():
        lines.append(f"  {count:,} x {stage}: {text}")
    if grouped.height > REASONS_SHOWN:
        lines.append(f"  ... and {grouped.height - REASONS_SHOWN:,} more reasons")
    return lines


def deliver(urls: Sequence[str], note: Message) -> list[str]:
    """Send ``note`` to each URL (tried ``TRIES`` times); the destinations (masked) that never took it."""
    import apprise

    failed = []
    quiet = _Quiet(urls)
    logger = logging.getLogger("apprise")
    logger.addFilter(quiet)  # Apprise may log a URL with its secrets: not while we send (then as it was)
    try:
        for url in urls:
            target = apprise.Apprise()
            if not target.add(url):
                failed.append(f"{masked(url)} (not a notification URL Apprise knows)")
                continue
            for attempt in range(TRIES):
                if target.notify(body=note.body, title=note.title):
                    break
                if attempt < len(WAITS):
                    time.sleep(WAITS[attempt])
            else:
                failed.append(masked(url))
    finally:
        logger.removeFilter(quiet)
    return failed


class _Quiet(logging.Filter):
    """Drops Apprise's log records that would show one of our URLs' secret parts."""

    def __init__(self, urls: Sequence[str]) -> None:
        super().__init__()
        self.parts = [u.partition("://")[2] for u in urls if "://" in u]

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not any(part and part in text for part in self.parts)


def notify(config: ExportConfig, note: Message, urls: Sequence[str] | None = None) -> list[str]:
    """Deliver ``note`` to the job's URLs (or ``urls``) when its event is one of ``notify_on``; a destination
    that fails is one warning. Returns the failed destinations (masked)."""
    targets = list(urls) if urls is not None else urls_of(config)
    if not targets or note.event not in config.notify_on:
        return []
    failed = deliver(targets, note)
    if failed:
        warnings.warn(
            f"the {note.event} notification could not be delivered to {', '.join(failed)} after {TRIES} tries; "
            "the job's outcome is unchanged ('pardot-frames notify test' checks the settings)",
            PardotFramesWarning,
            stacklevel=2,
        )
    return failed
