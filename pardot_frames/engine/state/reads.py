"""Where each object's since-last read stopped: the newest (time, id) it saw, per Pardot host, business unit and
object, in the state folder (``reads/<key>.json``, mode 0600), and when that read began by Pardot's clock (the
``Date`` of its first answer). Times are UTC instants, never the API user's local text, so a DST change of that
user's zone cannot misjudge the newest.

Where the next read starts (``strictly_after``): v5 answers may come from a cache up to 60 s behind (v5-objects 4)
and times have one-second steps, so records of the newest second may still have been on their way when the last
read ran. When that second lies 61 s or more before the last read began, every record of it was there to see:
the next read asks only what came after it (``<time>After``, no repeat). Otherwise it asks from that second on
(``<time>AfterOrEqualTo``) and keeps what is after the newest (time, id)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from pardot_frames.config.files import write_private

SETTLED = timedelta(seconds=61)  # the v5 cache's 60 s (v5-objects 4) and a one-second step


def path(connection: Any, kind: str, folder: Path) -> Path:
    key = hashlib.sha256(f"{connection.pardot_domain}|{connection.business_unit}|{kind}".encode()).hexdigest()[:16]
    return folder / "reads" / f"{kind}-{key}.json"


def load(connection: Any, kind: str, folder: Path) -> tuple[datetime, int] | None:
    """The newest (time, id) the last since-last read of this object saw, or None (the first read: everything)."""
    found = path(connection, kind, folder)
    try:
        data = orjson.loads(found.read_bytes())
        return datetime.fromisoformat(data["time"]), int(data["id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_at(connection: Any, kind: str, folder: Path) -> datetime | None:
    """When the last since-last read of this object began, by Pardot's clock (None: not known)."""
    try:
        return datetime.fromisoformat(orjson.loads(path(connection, kind, folder).read_bytes())["read_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def strictly_after(newest: datetime | None, began: datetime | None) -> bool:
    """Whether a read may start after the newest time (see the module docstring)."""
    return newest is not None and began is not None and newest <= began - SETTLED


def save(connection: Any, kind: str, folder: Path, newest: tuple[datetime, int], began: datetime | None) -> None:
    target = path(connection, kind, folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = {"time": newest[0].isoformat(), "id": newest[1], "object": kind,
            "read_at": began.isoformat() if began is not None else None}  # fmt: skip
    write_private(target, orjson.dumps(data))
