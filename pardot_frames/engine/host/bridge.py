"""From sync code to the async engine: run a coroutine to its end, also inside a running event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pardot_frames._control import Control
from pardot_frames.engine.stop import public_error

T = TypeVar("T")


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from sync code, also inside a running event loop (a Jupyter cell):
    there on a private loop in a worker thread. The public edge: a control signal leaves as its public error."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _public(asyncio.run, coroutine)
    with ThreadPoolExecutor(1, thread_name_prefix="pardot-export") as pool:
        return _public(lambda c: pool.submit(asyncio.run, c).result(), coroutine)


def _public(run: Callable[[Coroutine[Any, Any, T]], T], coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return run(coroutine)
    except Control as exc:
        raise public_error(exc) from None
