"""The worker pool: calls handed out in order to ``workers`` tasks of one ``asyncio.TaskGroup``.

A known stop (daily limit, a fatal Pardot error, the job's own stop rule) ends the taking of new
calls while those in flight finish; any other error in one worker cancels the others and is raised.
Workers after the first start staggered by a share of one HTTP exchange's duration (never a retry's
backoff), so calls reach Pardot spread out rather than in bursts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from pardot_frames._control import ResumableStop
from pardot_frames.engine.stop import Stop, stop_for
from pardot_frames.errors import PardotError

T = TypeVar("T")
MAX_STAGGER = 1.0  # seconds: a slow first answer never holds the other workers longer


async def run_calls(
    calls: Iterable[T],
    send: Callable[[T], Awaitable[None]],
    workers: int,
    should_stop: Callable[[], Stop | None],
    first_exchange: asyncio.Future[float] | None = None,
) -> Stop | None:
    """Send every call (``send(call)``) unless a stop comes first; the stop, or None."""
    queue = iter(calls)
    stop: Stop | None = None
    progressed = asyncio.get_running_loop().create_future()

    async def stagger(k: int) -> None:
        if not k or first_exchange is None:
            return
        await asyncio.wait({first_exchange, progressed}, return_when=asyncio.FIRST_COMPLETED)
        latency = first_exchange.result() if first_exchange.done() else 0.0
        await asyncio.sleep(min(latency, MAX_STAGGER) * k / workers)

    async def worker(k: int) -> None:
        nonlocal stop
        try:
            await stagger(k)
            for item in queue:
                if stop is not None:
                    return
                try:
                    await send(item)
                except (ResumableStop, PardotError) as exc:
                    stop = stop or stop_for(exc)
                if stop is None:
                    stop = should_stop()
                if not progressed.done():
                    progressed.set_result(None)
        finally:
            if not progressed.done():
                progressed.set_result(None)

    try:
        async with asyncio.TaskGroup() as group:
            for k in range(max(workers, 1)):
                group.create_task(worker(k))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return stop
