"""The rows of the simulator's export files: generated visitor activities for a benchmark (made as a file is
asked for, never kept), and how a value is written in a cell."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .v5_fields import v5_time


def synthetic_line(number: int, fields: list[str]) -> str:
    """One generated visitor activity as a CSV line (no quoting is ever needed: numbers, a date, plain words)."""
    record = synthetic(number)
    created = record["created_at"].replace(" ", "T") + "+00:00"
    values = {"id": number, "prospectId": record["prospect_id"], "visitorId": record["visitor_id"],
              "type": record["type"], "typeName": "Email Tracker", "campaignId": record["campaign_id"],
              "createdAt": created}  # fmt: skip
    return ",".join(str(values.get(f, "")) for f in fields) + "\n"


def synthetic(number: int) -> dict[str, Any]:
    """A generated visitor activity (a benchmark's rows: made when its file is asked for, never kept)."""
    second = number % 31_536_000
    return {"id": number, "prospect_id": 1000 + number % 50_000, "visitor_id": 1 + number % 80_000,
            "type": (1, 2, 4, 6, 11)[number % 5], "type_name": "Email Tracker", "campaign_id": 1 + number % 12,
            "created_at": datetime.fromtimestamp(1_735_689_600 + second, UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "updated_at": None}  # fmt: skip


def cell(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


def when(value: Any, offset: str, legacy: bool) -> str | None:
    shown = v5_time(value, offset)
    return shown[:19].replace("T", " ") if legacy and shown else shown


def instant(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at  # naive UTC, as ``moment`` gives


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
