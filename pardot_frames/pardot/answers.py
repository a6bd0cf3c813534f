"""Reading Pardot's answers: parse the body, find its error code, and classify it.

``classify`` turns an answer into a ``Reply`` or raises one of the outcomes below (all in
``pardot_frames.errors``); the client retries ``Transient`` and refreshes the token on 184 first.

An answer is Pardot's only when it is Pardot JSON: v4 ``@attributes.stat`` "ok" or "fail", a v5
error (``code`` and ``message``), or an empty 204 (v4 deletes). Anything else (an HTML page with
HTTP 200 from a proxy, an empty 200, XML) is an unknown outcome, never a success.

- ``Transient``: retriable. ``unknown`` (the call may have been applied) for answers that are not
  Pardot's and for every 5xx (a gateway may time out in front of a server that finished); not
  applied for no connection, error 66, error 183 and HTTP 429. 429 and 503 carry ``Retry-After``.
- ``DailyLimitReached``: error 122, nothing more is sent;
- ``UriTooLong``: HTTP 414, or HTTP 400 that is not Pardot's for a request whose payload is in the
  URI (real Pardot answers very long URIs with an HTML 400): the caller splits the call;
- ``ApiError`` (public): 181, 182, 201, 49 and other 4xx: fatal for the job;
- a ``Reply`` with ``code`` set: a row-level refusal the caller maps to its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from pardot_frames._control import DailyLimitReached, Transient, UriTooLong
from pardot_frames.errors import ApiError

RETRIABLE_CODES = frozenset({66, 183})
ANSWERED_429 = frozenset({160})  # the Import API's "batches per import" limit comes with HTTP 429: not a retry
CONCURRENCY_CODE = 66
DAILY_LIMIT_CODE = 122
TOKEN_EXPIRED_CODE = 184
FATAL_CODES = {
    181: "a required header is missing",
    182: "a header has an invalid value (check business_unit)",
    201: "the business unit is not found or inactive (check business_unit, and pi vs pi.demo in pardot_domain)",
    49: "access denied (the Pardot user of the connected app lacks the rights for this call)",
}


# batchUpsert's per-row errors carry a message only; these are the messages Pardot also sends with a code
# (pardot-api-facts.md sections 3 and 5), so a rejected row can say its code
ROW_ERROR_CODES = {
    "Invalid prospect ID": 3,
    "Invalid prospect email address": 4,
    "Invalid list ID": 55,
    "That prospect is already a memeber of that list. Update the membership instead.": 58,
    "Batch processing is limited to 50 prospects at once.": 70,
    "The requested record was not found.": 109,
}


def row_error_code(message: str) -> int | None:
    """Pardot's error code for a per-row error message, where it has one."""
    return ROW_ERROR_CODES.get(message.strip())


@dataclass(frozen=True, slots=True)
class Reply:
    """What Pardot answered: HTTP status, parsed body, and its error code and message if any."""

    status: int
    body: Any
    code: int | None = None
    message: str | None = None
    pardot: bool = True  # the body is Pardot's (see the module docstring)
    retry_after: float | None = None
    warning: str | None = None  # the Pardot-Warning header (v5-objects 2: e.g. a token chain's 100,000 cap)


def parse_reply(status: int, text: str, retry_after: str | None = None, accept: str = "pardot") -> Reply:
    """Parse an answer: v4 ``@attributes`` (``err_code``/``err``) or v5 ``code``/``message``; say if it is Pardot's.
    ``accept`` widens what counts as Pardot's: "import" (the v5 Import API: any 2xx with a JSON object or no body),
    "csv" (the text of an import's errors file, HTTP 200)."""
    wait = _seconds(retry_after)
    if accept == "csv" and status == 200 and not text.lstrip().startswith(("<", "{")):
        return Reply(status, text)
    try:
        body = orjson.loads(text) if text else None
    except orjson.JSONDecodeError:
        return Reply(status, text, pardot=False, retry_after=wait)
    if isinstance(body, dict):
        attrs = body.get("@attributes")
        if isinstance(attrs, dict) and attrs.get("stat") in ("ok", "fail"):
            code = attrs.get("err_code")
            return Reply(
                status, body, int(code) if code is not None else None, str(body.get("err", "")) if code else None
            )
        if "code" in body and "message" in body and status >= 400:
            return Reply(status, body, int(body["code"]), str(body["message"]), retry_after=wait)
        if accept == "import" and 200 <= status < 300:
            return Reply(status, body)
    if accept == "import" and 200 <= status < 300 and body is None:
        return Reply(status, body)
    return Reply(status, body, pardot=status == 204 and body is None, retry_after=wait)


def _seconds(value: str | None) -> float | None:
    """Retry-After as seconds (the delta form; an HTTP date counts as unknown)."""
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def classify(reply: Reply, in_uri: bool = False) -> Reply:
    """Raise for answers that are not the caller's to read (see the module docstring); else the reply."""
    code, status = reply.code, reply.status
    if code == DAILY_LIMIT_CODE:
        raise DailyLimitReached(reply.message or "Daily API rate limit met")
    if code in RETRIABLE_CODES:
        raise Transient(f"Pardot error {code}: {reply.message}", False, code)
    if code in FATAL_CODES:
        raise ApiError(f"Pardot error {code} ({reply.message}): {FATAL_CODES[code]}", code, status)
    if status == 414 or (status == 400 and in_uri and not reply.pardot):
        raise UriTooLong()
    if status == 429 and code not in ANSWERED_429:
        raise Transient("HTTP 429 Too Many Requests", False, wait=reply.retry_after)
    if status >= 500:
        raise Transient(f"HTTP {status}", True, wait=reply.retry_after)
    if code is None and status == 413:
        return reply  # the Import API's batch size limit (its code is not known): the caller's to read
    if code is None and status >= 400:
        raise ApiError(f"Pardot answered HTTP {status} with no error code: {_excerpt(reply.body)}", None, status)
    if not reply.pardot:
        raise Transient(f"HTTP {status} with an answer that is not Pardot's ({_excerpt(reply.body)})", True)
    return reply


def _excerpt(body: Any) -> str:
    text = " ".join(str(body).split())
    return text[:120] + ("…" if len(text) > 120 else "") if text else "empty body"


def records(value: Any) -> list[dict[str, Any]]:
    """v4 gives one record as an object and several as a list; always a list here."""
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
