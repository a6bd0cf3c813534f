"""Ctrl-C and SIGTERM during a job: no new call starts (the client refuses to start one once the flag is
set, lookups and polls included) and those in flight finish; a second one cancels them. Both say the job
id and how to resume (a warning of the ``pardot_frames`` logger: the command line shows it). Only in the
main thread (a notebook's job runs in a worker thread: not there), and only while the job runs: the host's
handlers are put back exactly as they were, those it set on the event loop (``loop.add_signal_handler``, as
aiohttp's ``run_app`` does) and those it set with ``signal.signal``; a host that owns its loop's signals says
``signals=False`` and nothing is touched."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from pardot_frames.engine.stop import StopFlag

log = logging.getLogger("pardot_frames")


def on_signals(flag: StopFlag, enabled: bool = True) -> Callable[[], None]:
    """Install the handlers; returns the function that puts the host's back."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def handler() -> None:
        if flag.set and main is not None:
            flag.cancelled = True
            main.cancel()
            log.warning("stopping at once: calls in flight are cut off%s", flag.resume_hint())
            return
        flag.set = True
        text = "stopping: no new call starts; the calls in flight finish (Ctrl-C again to stop at once)"
        log.warning("%s%s", text, flag.resume_hint())

    saved: list[tuple[signal.Signals, Any, Any]] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        host_loop = getattr(loop, "_signal_handlers", {}).get(sig)  # the loop's own (no public getter)
        host_plain = signal.getsignal(sig)
        try:
            loop.add_signal_handler(sig, handler)
        except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover - no signal support here
            continue
        saved.append((sig, host_loop, host_plain))

    def restore() -> None:
        for sig, host_loop, host_plain in saved:
            loop.remove_signal_handler(sig)  # (puts SIG_DFL or Python's Ctrl-C handler: the host's comes next)
            if host_loop is not None:
                loop.add_signal_handler(sig, host_loop._callback, *host_loop._args)
            elif host_plain is not None:
                signal.signal(sig, host_plain)

    return restore
