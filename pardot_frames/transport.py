"""One aiohttp session per job: auth headers, a concurrency limit that backs off on error 66,
retries with exponential backoff and jitter, and the sorting of Pardot's answers (see ``errors``).

Callers build each attempt's request themselves (``call(make_request)``), told whether the previous
attempt's outcome is unknown (timeout or connection lost after the request went out), so a sender
can make a resend safe (the prospects sender looks email-only rows up first).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from yarl import URL

from .auth import HINT, TokenProvider
from .config import ExportConfig
from .errors import ApiError, AuthError
from .limits import CONCURRENT_LIMIT

log = logging.getLogger("pardot_frames")

RETRIABLE_CODES = frozenset({66, 183})
FATAL_CODES = {
    181: "a required header is missing",
    182: "a header has an invalid value (check business_unit)",
    201: "the business unit is not found or inactive (check business_unit, and pi vs pi.demo in pardot_domain)",
    49: "access denied (the Pardot user of the connected app lacks the rights for this call)",
}


@dataclass(frozen=True)
class Request:
    """One HTTP request to Pardot: method, path with its encoded query, optional JSON or form body."""

    method: str
    path_query: str
    json: Any = None
    form: dict[str, str] | None = None


@dataclass(frozen=True)
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


class Limiter:
    """At most ``limit`` calls in flight; error 66 halves the working limit for a while."""

    def __init__(self, limit: int, cooldown: float) -> None:
        self.limit = self.current = limit
        self.cooldown = cooldown
        self.in_flight = 0
        self.lowered = 0
        self._restore_at = 0.0
        self._cond = asyncio.Condition()

    async def __aenter__(self) -> None:
        async with self._cond:
            while self.in_flight >= self.current:
                await self._cond.wait()
            self.in_flight += 1

    async def __aexit__(self, *exc: object) -> None:
        async with self._cond:
            self.in_flight -= 1
            if self.current < self.limit and time.monotonic() >= self._restore_at:
                self.current += 1
                self._restore_at = time.monotonic() + self.cooldown
            self._cond.notify_all()

    def back_off(self) -> None:
        """Called on error 66: fewer calls in flight until the cooldown passes."""
        self.current = max(1, self.current // 2)
        self._restore_at = time.monotonic() + self.cooldown
        self.lowered += 1


@dataclass
class Stats:
    """Counters of one job's traffic."""

    api_calls: int = 0
    retries: int = 0
    refreshes: int = 0
    by_code: dict[int, int] = field(default_factory=dict)


def backoff_delay(config: ExportConfig, attempt: int, rng: random.Random) -> float:
    """Wait before retry ``attempt`` (0-based): initial * 2^attempt, capped, times a jitter in [0.5, 1]."""
    base = min(config.initial_retry_wait * (2**attempt), config.maximum_retry_wait)
    return base * (0.5 + rng.random() / 2)


class Transport:
    """The job's HTTP side: ``async with Transport(config) as t: reply = await t.call(make_request)``."""

    def __init__(self, config: ExportConfig, *, seed: int | None = None) -> None:
        self.config = config
        self.stats = Stats()
        self.rng = random.Random(seed)
        cooldown = min(max(10 * config.initial_retry_wait, 0.05), config.maximum_retry_wait)
        self.limiter = Limiter(min(config.parallel_tasks, CONCURRENT_LIMIT), cooldown)
        self._session: aiohttp.ClientSession | None = None
        self.tokens: TokenProvider | None = None

    async def __aenter__(self) -> Transport:
        timeout = aiohttp.ClientTimeout(total=self.config.maximum_connection_timeout)
        connector = aiohttp.TCPConnector(limit=max(self.config.parallel_tasks, 1) + 2)
        self._session = aiohttp.ClientSession(timeout=timeout, connector=connector, json_serialize=_dumps)
        self.tokens = TokenProvider(self.config, self._session)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(self, make_request: Callable[[bool], Awaitable[Request]]) -> Reply:
        """Send with retries; ``make_request(unknown)`` builds each attempt (unknown: last may have applied)."""
        unknown = False
        attempt = 0
        while True:
            request = await make_request(unknown)
            try:
                return await self.send(request)
            except Transient as failure:
                if attempt >= self.config.maximum_retries:
                    raise RetriesExhausted(failure) from None
                unknown = unknown or failure.unknown
                delay = backoff_delay(self.config, attempt, self.rng)
                log.info("retrying after %s in %.2fs (attempt %d)", failure.reason, delay, attempt + 1)
                attempt += 1
                self.stats.retries += 1
                await asyncio.sleep(delay)

    async def send(self, request: Request) -> Reply:
        """One attempt (plus one token refresh on 184). Raises Transient, DailyLimitReached, UriTooLong or fatal."""
        assert self._session is not None and self.tokens is not None, "use 'async with Transport(...)'"
        refreshed = False
        while True:
            token, generation = await self.tokens.get()
            reply = await self._once(request, token)
            if reply.code == 184:
                if refreshed:
                    raise AuthError(
                        f"Pardot refused a freshly issued access token (error 184: {reply.message}); {HINT}"
                    )
                self.stats.refreshes += 1
                await self.tokens.renew(generation)
                refreshed = True
                continue
            return self._sort(reply)

    async def _once(self, request: Request, token: str) -> Reply:
        assert self._session is not None
        headers = {"Authorization": f"Bearer {token}", "Pardot-Business-Unit-Id": self.config.business_unit or ""}
        url = URL(self.config.pardot_domain + request.path_query, encoded=True)
        async with self.limiter:
            self.stats.api_calls += 1
            try:
                async with self._session.request(
                    request.method, url, headers=headers, json=request.json, data=request.form
                ) as response:
                    text = await response.text()
                    status = response.status
            except aiohttp.ClientConnectorError as exc:
                raise Transient(
                    f"cannot connect to {self.config.pardot_domain} ({type(exc).__name__})", False
                ) from None
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise Transient(f"no answer ({type(exc).__name__})", True) from None
        reply = parse_reply(status, text)
        if reply.code is not None:
            self.stats.by_code[reply.code] = self.stats.by_code.get(reply.code, 0) + 1
        return reply

    def _sort(self, reply: Reply) -> Reply:
        code, status = reply.code, reply.status
        if code == 122:
            raise DailyLimitReached(reply.message or "Daily API rate limit met")
        if code == 66:
            self.limiter.back_off()
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


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()
