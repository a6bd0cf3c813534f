"""Retry policy from small parts: the backoff delay, one retry loop (``with_retries``) that every retried
call uses (API calls, the login, list creation), the concurrency limiter (error 66), and counters.

Why not tenacity: the loop must pass "an earlier attempt may have been applied" into the next attempt
(so a resend can be made safe) and honour the server's Retry-After within ``maximum_retry_wait``; both
fit in twenty lines here, and tenacity would add a dependency for the sleep-and-count part alone.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from pardot_frames._control import Retriable

T = TypeVar("T")


def backoff_delay(initial: float, maximum: float, attempt: int, rng: random.Random) -> float:
    """Wait before retry ``attempt`` (0-based): initial * 2^attempt, capped, times a jitter in [0.5, 1]."""
    base = min(initial * (2**attempt), maximum)
    return base * (0.5 + rng.random() / 2)


@dataclass(frozen=True)
class Policy:
    """How a job retries: at most ``retries`` more attempts, waits from ``initial`` doubling up to ``maximum``."""

    retries: int
    initial: float
    maximum: float
    rng: random.Random

    def delay(self, attempt: int, wait: float | None = None) -> float:
        """The wait before retry ``attempt``; a server's Retry-After (``wait``) is honoured within ``maximum``."""
        delay = backoff_delay(self.initial, self.maximum, attempt, self.rng)
        return delay if wait is None else min(max(wait, delay), self.maximum)


async def with_retries(
    policy: Policy,
    once: Callable[[bool], Awaitable[T]],
    give_up: Callable[[Retriable], BaseException],
    announce: Callable[[Retriable, float, int], None] | None = None,
) -> T:
    """``once(unknown)`` until it returns; a ``Retriable`` failure is retried after a backoff (``announce``d),
    and ``give_up(failure)`` is raised after ``policy.retries`` retries. ``unknown`` tells an attempt that an
    earlier one may have been applied (no answer after the request went out)."""
    unknown = False
    for attempt in itertools.count():
        try:
            return await once(unknown)
        except Retriable as failure:
            if attempt >= policy.retries:
                raise give_up(failure) from None
            unknown = unknown or failure.unknown
            delay = policy.delay(attempt, failure.wait)
            if announce is not None:
                announce(failure, delay, attempt)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


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
