"""Ctrl-C and SIGTERM during a job: no new call starts (the client refuses to start one once the flag is
set, lookups and polls included) and those in flight finish; a second one cancels them. Both say the job
id and how to resume. Only in the main thread (a notebook's job runs in a worker thread: not there)."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Callable


class StopFlag:
    """Set when the user asked the job to stop; ``cancelled`` after a second request; ``job_id`` is the
    journal's once it exists (what a resume names)."""

    def __init__(self) -> None:
        self.set = False
        self.cancelled = False
        self.job_id: str | None = None

    def resume_hint(self) -> str:
        if not self.job_id:
            return ""
        return f"; job {self.job_id} resumes with --resume {self.job_id} (resume={self.job_id!r} in Python)"


def on_signals(flag: StopFlag) -> Callable[[], None]:
    """Install the handlers; returns the function that removes them."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def handler() -> None:
        if flag.set and main is not None:
            flag.cancelled = True
            main.cancel()
            print(f"\nstopping at once: calls in flight are cut off{flag.resume_hint()}", file=sys.stderr)
            return
        flag.set = True
        text = "stopping: no new call starts; the calls in flight finish (Ctrl-C again to stop at once)"
        print(f"\n{text}{flag.resume_hint()}", file=sys.stderr)

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
