"""Ctrl-C and SIGTERM during a job: stop taking calls and let those in flight finish; a second one
cancels them. Only in the main thread (a notebook's job runs in a worker thread: not there)."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Callable


class StopFlag:
    """Set when the user asked the job to stop."""

    def __init__(self) -> None:
        self.set = False


def on_signals(flag: StopFlag) -> Callable[[], None]:
    """Install the handlers; returns the function that removes them."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def handler() -> None:
        if flag.set and main is not None:
            main.cancel()
        flag.set = True
        print("\nstopping: letting the calls in flight finish (Ctrl-C again to stop at once)", file=sys.stderr)

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, handler)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - platforms without signal support
            pass

    def restore() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return restore
