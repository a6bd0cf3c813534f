"""The Pardot client of one job: auth headers, the concurrency limit, retries with backoff, and the
sorting of answers (``answers``), over a ``Transport`` (aiohttp unless a test gives another).

Callers build each attempt's request themselves (``call(make_request)``), told whether an earlier
attempt's outcome is unknown (no answer after the request went out), so a sender can make a resend
safe (the prospects path looks email-only rows up first).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from pardot_frames._control import BudgetSpent, NoAnswer, Retriable, StopRequested, Transient
from pardot_frames.config.connection import Connection
from pardot_frames.errors import AuthError, RetriesExhausted
from pardot_frames.limits import CONCURRENT_LIMIT
from pardot_frames.pardot.answers import CONCURRENCY_CODE, TOKEN_EXPIRED_CODE, Reply, classify, parse_reply
from pardot_frames.pardot.retry import Limiter, Policy, Stats, with_retries
from pardot_frames.pardot.slots import Slots
from pardot_frames.pardot.tokens import HINT, TokenProvider
from pardot_frames.pardot.transport import AiohttpTransport, Request, Transport

log = logging.getLogger("pardot_frames")


class Client:
    """``async with Client(connection) as client: reply = await client.call(make_request)``; ``connection`` is a
    ``Connection`` or anything holding its settings (a job's ``ExportConfig``)."""

    def __init__(
        self,
        settings: Connection | object,
        *,
        transport: Transport | None = None,
        slots_folder: Path | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        self.config = config = Connection.of(settings)
        self.stop = stop  # True once the job must start no new call (Ctrl-C): lookups and polls stop too
        self.stats = Stats()
        self.policy = Policy(
            config.maximum_retries, config.initial_retry_wait, config.maximum_retry_wait, random.Random()
        )
        cooldown = min(max(10 * config.initial_retry_wait, 0.05), config.maximum_retry_wait)
        self.limiter = Limiter(min(config.parallel_tasks, CONCURRENT_LIMIT), cooldown)
        self.transport: Transport = transport or AiohttpTransport(
            config.maximum_connection_timeout, max(config.parallel_tasks, 1) + 2
        )
        self.tokens = TokenProvider(config, self.transport, self.policy)
        # calls in flight shared with the other jobs of this business unit on this machine
        self.slots = Slots(slots_folder, config.business_unit or "none", CONCURRENT_LIMIT) if slots_folder else None
        self._headers: dict[str, str] = {}
        self._headers_generation = -1
        self.first_exchange: asyncio.Future[float] | None = None  # seconds the first exchange took
        self.server_time: datetime | None = None  # the Date header of the first answer: Pardot's clock, not ours

    async def __aenter__(self) -> Client:
        self.first_exchange = asyncio.get_running_loop().create_future()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.transport.close()
        if self.slots is not None:
            self.slots.close()

    async def login(self) -> None:
        """Log in now, so bad credentials fail before any row is sent."""
        await self.tokens.get()

    async def call(self, make_request: Callable[[bool], Awaitable[Request]]) -> Reply:
        """Send with retries; ``make_request(unknown)`` builds each attempt (unknown: an earlier may have applied)."""

        async def once(unknown: bool) -> Reply:
            return await self.send(await make_request(unknown))

        def give_up(failure: Retriable) -> RetriesExhausted:
            assert isinstance(failure, Transient)
            return RetriesExhausted(str(failure.reason), self.config.maximum_retries, failure.code, failure.unknown)

        return await with_retries(self.policy, once, give_up, self._retrying)

    def _retrying(self, failure: Retriable, delay: float, attempt: int) -> None:
        log.info(
            "retrying after %s in %.2fs (attempt %d)",
            failure,
            delay,
            attempt + 1,
            extra={"event": "retry", "reason": str(failure), "delay": round(delay, 3), "attempt": attempt + 1},
        )
        self.stats.retries += 1

    async def repeat(self, request: Request) -> Reply:
        """The same request on every attempt, with retries: for calls that are safe to repeat."""

        async def make(_unknown: bool) -> Request:
            return request

        return await self.call(make)

    async def get(self, path_query: str) -> Reply:
        """A read, with retries."""
        return await self.repeat(Request("GET", path_query))

    async def get_as(self, path_query: str, accept: str) -> Reply:
        """A read whose good answer is not v4 JSON (``accept``: "import" or "csv"), with retries."""
        return await self.repeat(Request("GET", path_query, accept=accept))

    async def send(self, request: Request) -> Reply:
        """One attempt (plus one token refresh on 184). Raises Transient, DailyLimitReached, UriTooLong or fatal."""
        refreshed = False
        while True:
            headers, generation = await self._auth_headers()
            reply = await self._once(request, headers)
            if reply.code == TOKEN_EXPIRED_CODE:
                if refreshed:
                    raise AuthError(
                        f"Pardot refused a freshly issued access token (error 184: {reply.message}); {HINT}"
                    )
                self.stats.refreshes += 1
                await self.tokens.renew(generation)
                refreshed = True
                continue
            if reply.code == CONCURRENCY_CODE:
                self.limiter.back_off()
            return classify(reply, request.in_uri)

    async def _auth_headers(self) -> tuple[dict[str, str], int]:
        token, generation = await self.tokens.get()
        if generation != self._headers_generation:
            self._headers = {
                "Authorization": f"Bearer {token}",
                "Pardot-Business-Unit-Id": self.config.business_unit or "",
            }
            self._headers_generation = generation
        return self._headers, generation

    async def _once(self, request: Request, headers: dict[str, str]) -> Reply:
        if self.stop is not None and self.stop():
            raise StopRequested()
        async with self.limiter, self.slots or nullcontext():
            if self.stop is not None and self.stop():  # asked while this call waited for a slot
                raise StopRequested()
            budget = self.config.max_api_calls
            if budget is not None and self.stats.api_calls >= budget:
                raise BudgetSpent(f"the job's call budget is spent (max_api_calls = {budget})")
            self.stats.api_calls += 1
            started = time.perf_counter()
            try:
                answer = await self.transport.exchange(self.config.pardot_domain, request, headers)
            except NoAnswer as exc:
                raise Transient(str(exc.reason), exc.unknown) from None
            finally:
                if self.first_exchange is not None and not self.first_exchange.done():
                    self.first_exchange.set_result(time.perf_counter() - started)
        if self.server_time is None and answer.headers.get("Date"):
            self.server_time = server_date(answer.headers["Date"])
        reply = parse_reply(answer.status, answer.text, answer.headers.get("Retry-After"), request.accept)
        warning = answer.headers.get("Pardot-Warning")
        return reply if warning is None else dataclasses.replace(reply, warning=warning)


def server_date(text: str) -> datetime | None:
    """An HTTP ``Date`` header as a UTC instant (None when it does not parse)."""
    try:
        return parsedate_to_datetime(text).astimezone(UTC)
    except (TypeError, ValueError, IndexError):
        return None
