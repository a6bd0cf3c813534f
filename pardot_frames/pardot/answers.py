"""Reading Pardot's answers: parse the body, find its error code, and sort it.

Sorting (``sort``) turns an answer into a ``Reply`` or raises one of the outcomes below; the client
retries ``Transient`` and refreshes the token on 184 before sorting. The error tree users see is in
``pardot_frames.errors``; these exceptions stay inside the client and the engine.

- ``Transient``: retriable (connection errors, timeouts, HTTP 5xx, error 66, error 183);
- ``DailyLimitReached``: error 122, nothing more is sent;
- ``UriTooLong``: HTTP 414, the caller splits the call;
- ``ApiError`` (public): 181, 182, 201, 49 and 4xx without a Pardot error code: fatal for the job;
- a ``Reply`` with ``code`` set: a row-level refusal the caller maps to its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from pardot_frames.errors import ApiError

RETRIABLE_CODES = frozenset({66, 183})
CONCURRENCY_CODE = 66
DAILY_LIMIT_CODE = 122
TOKEN_EXPIRED_CODE = 184
FATAL_CODES = {
    181: "a required header is missing",
    182: "a header has an invalid value (check business_unit)",
    201: "the business unit is not found or inactive (check business_unit, and pi vs pi.demo in pardot_domain)",
    49: "access denied (the Pardot user of the connected app lacks the rights for this call)",
}


@dataclass(frozen=True, slots=True)
class Reply:
    """What Pardot answered: HTTP status, parsed body, and its error code and message if any."""

    status: int
    body: Any
    code: int | None = None
    message: str | None = None


class DailyLimitReached(Exception):
    """Error 122: the business unit's daily API calls are used up."""


class UriTooLong(Exception):
    """HTTP 414: the request URI is longer than the server takes."""


class Transient(Exception):
    """A retriable failure; ``unknown`` is True when the request may have been applied."""

    def __init__(self, reason: str, unknown: bool, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.unknown, self.code = reason, unknown, code


class RetriesExhausted(Exception):
    """A call failed ``maximum_retries + 1`` times; ``last`` is the final Transient."""

    def __init__(self, last: Transient) -> None:
        super().__init__(last.reason)
        self.last = last


def parse_reply(status: int, text: str) -> Reply:
    """Parse a Pardot answer: v4 ``@attributes.err_code``/``err`` or v5 ``code``/``message``."""
    try:
        body = orjson.loads(text) if text else None
    except orjson.JSONDecodeError:
        return Reply(status, text)
    if isinstance(body, dict):
        attrs = body.get("@attributes")
        if isinstance(attrs, dict) and attrs.get("err_code") is not None:
            return Reply(status, body, int(attrs["err_code"]), str(body.get("err", "")))
        if "code" in body and "message" in body and status >= 400:
            return Reply(status, body, int(body["code"]), str(body["message"]))
    return Reply(status, body)


def sort(reply: Reply) -> Reply:
    """Raise for answers that are not the caller's to read (see the module docstring); else the reply."""
    code, status = reply.code, reply.status
    if code == DAILY_LIMIT_CODE:
        raise DailyLimitReached(reply.message or "Daily API rate limit met")
    if code in RETRIABLE_CODES:
        raise Transient(f"Pardot error {code}: {reply.message}", False, code)
    if code in FATAL_CODES:
        raise ApiError(f"Pardot error {code} ({reply.message}): {FATAL_CODES[code]}", code, status)
    if status == 414:
        raise UriTooLong()
    if status >= 500:
        # a 5xx from Pardot's front servers: the call was not applied as far as anyone can tell
        raise Transient(f"HTTP {status}", False)
    if code is None and status >= 400:
        raise ApiError(f"Pardot answered HTTP {status} with no error code: {str(reply.body)[:200]}", None, status)
    return reply


def records(value: Any) -> list[dict[str, Any]]:
    """v4 gives one record as an object and several as a list; always a list here."""
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
