"""What every part of the simulated account shares: Pardot's error (code and message) and its clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime

MESSAGES = {
    3: "Invalid prospect ID",
    4: "Invalid prospect email address",
    13: "Required parameters are missing",
    50: "Invalid boolean",
    55: "Invalid list ID",
    56: "Invalid number",
    58: "That prospect is already a memeber of that list. Update the membership instead.",
    70: "Batch processing is limited to 50 prospects at once.",
    71: "Input needs to be valid JSON or XML",
    90: "Prospect array must be flat",
    109: "The requested record was not found.",
}


class ApiError(Exception):
    """A Pardot error: its numeric code and message."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, "Error")
        super().__init__(f"{code}: {self.message}")


_clock: list = [0, ""]


def now() -> str:
    """The current time as Pardot writes it (cached per second: the simulator calls it per field)."""
    second = int(time.time())
    if second != _clock[0]:
        _clock[:] = [second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%d %H:%M:%S")]
    return _clock[1]
