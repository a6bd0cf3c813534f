"""Calls in flight shared by every job of a business unit on this machine: five lock files per business
unit (Pardot's limit) in one folder per user (``shared_folder``: the runtime folder, else the temporary
folder), whatever state folder each job keeps; a call holds one while it is out. Two jobs, or a schedule
and a manual run, then never have more than five calls out together, so they do not provoke error 66 from
each other. (The files once lived in each job's state folder: two jobs with different state folders then
shared nothing, and met error 66 in 3 runs of 5 here.) flock locks belong to the open file, so they hold
between processes and between jobs of one process, and die with a killed process. Without fcntl (Windows)
each job only limits itself.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

POLL = 0.005  # seconds between tries when every slot is taken


def shared_folder() -> Path:
    """The folder of this user's slot files on this machine (private to the user: mode 0700);
    ``$PARDOT_FRAMES_SLOTS`` names another (jobs that should not share Pardot's five calls: tests run side by
    side against simulators of their own)."""
    if os.environ.get("PARDOT_FRAMES_SLOTS"):
        return Path(os.environ["PARDOT_FRAMES_SLOTS"])
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"pardot-frames-{getattr(os, 'getuid', lambda: 0)()}" / "slots"


class Slots:
    """``async with slots:`` around each call; ``count`` lock files named after the business unit."""

    def __init__(self, folder: Path, business_unit: str, count: int) -> None:
        self.folder, self.business_unit, self.count = folder, business_unit, count
        self._fds: list[int] | None = None
        self._held: list[int] = []
        self.waits = 0

    def _open(self) -> list[int]:
        if self._fds is None:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if self.folder.parent.name.startswith("pardot-frames-"):  # our own folder in a shared place: private
                self.folder.parent.chmod(0o700)
            paths = [self.folder / f"{self.business_unit}-{k}.lock" for k in range(self.count)]
            self._fds = [os.open(p, os.O_RDWR | os.O_CREAT, 0o600) for p in paths]
        return self._fds

    def _try(self) -> int | None:
        for k, fd in enumerate(self._open()):
            if k in self._held:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            return k
        return None

    async def __aenter__(self) -> None:
        if fcntl is None:
            return
        while (k := self._try()) is None:
            self.waits += 1
            await asyncio.sleep(POLL)
        self._held.append(k)

    async def __aexit__(self, *exc: object) -> None:
        # which file is unlocked does not matter: the number locked is the number of calls out
        if fcntl is None or not self._held:
            return
        k = self._held.pop()
        fcntl.flock(self._open()[k], fcntl.LOCK_UN)

    def close(self) -> None:
        for fd in self._fds or []:
            os.close(fd)
        self._fds = None
