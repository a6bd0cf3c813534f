"""Where each object's since-last read stopped: the newest (time, id) it saw, per Pardot host, business unit and
object, in the state folder (``reads/<key>.json``, mode 0600). Times are UTC instants, never the API user's
local text, so a DST change of that user's zone cannot misjudge the newest."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from pardot_frames.config.files import write_private


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


def save(connection: Any, kind: str, folder: Path, newest: tuple[datetime, int]) -> None:
    target = path(connection, kind, folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_private(target, orjson.dumps({"time": newest[0].isoformat(), "id": newest[1], "object": kind}))
