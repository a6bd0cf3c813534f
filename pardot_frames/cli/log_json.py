"""``--log-json``: one JSON object a line on stderr for each event of the ``pardot_frames`` logger (a job's start,
each chunk, each retry, a stop, the end; warnings too), for log collectors. Each line holds ``time`` (UTC),
``level``, ``event`` and ``message``, and the event's own fields (never a secret: the engine logs none)."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

PLAIN = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonLines(logging.Handler):
    """Writes each record as one JSON line to whatever ``sys.stderr`` is at the time."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        import orjson

        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", "warning" if record.levelno >= logging.WARNING else "log"),
            "message": record.getMessage(),
        }
        line |= {k: v for k, v in vars(record).items() if k not in PLAIN and k != "event"}
        sys.stderr.write(orjson.dumps(line, default=str).decode() + "\n")


def install(logger: logging.Logger) -> tuple[JsonLines, int]:
    """Add the handler and open the logger to INFO; returns what ``remove`` needs to put it back."""
    handler, level = JsonLines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler, level


def remove(logger: logging.Logger, installed: tuple[JsonLines, int]) -> None:
    logger.removeHandler(installed[0])
    logger.setLevel(installed[1])
