"""Keeps the garbage collector's full passes off the send loop.

A full collection walks every object the process holds (the libraries alone are a few hundred thousand),
about 0.1 s here, and the event loop answers nothing meanwhile: every call in flight waits for it. While a
job sends, the objects that existed before it (modules, the input's values) are frozen out of collection
(``gc.freeze``), so a pass walks only what the job made since; they are released when it ends. A process
that froze objects itself (a forking server) is left as it is.

The garbage collector is the whole process's, so only the command line freezes it (``OWN_PROCESS``, set by
``cli.main``): a job called from someone else's program (a notebook, a service) leaves their collector as it is.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

OWN_PROCESS: ContextVar[bool] = ContextVar("pardot_frames_own_process", default=False)


@contextmanager
def steady_heap() -> Iterator[None]:
    """Objects older than the block are left out of collections inside it (see the module docstring)."""
    if not OWN_PROCESS.get() or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
