"""Retry policy from small parts: the backoff delay, the concurrency limiter (error 66), and counters."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass


def backoff_delay(initial: float, maximum: float, attempt: int, rng: random.Random) -> float:
    """Wait before retry ``attempt`` (0-based): initial * 2^attempt, capped, times a jitter in [0.5, 1]."""
    base = min(initial * (2**attempt), maximum)
    return base * (0.5 + rng.random() / 2)


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
