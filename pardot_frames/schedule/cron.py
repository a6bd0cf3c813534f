"""Cron schedules with the connector's rules, on top of croniter for the time arithmetic.

Syntax (the spec's scheduling section): five fields ``min hour day-of-month month day-of-week``;
names for days (sun..sat) and months (jan..dec); a value, ``*``, a range ``a-b``, ``*/N``, and
comma lists of these except a bare ``*`` (``2,*/5,8-10``); ``@daily``, ``@hourly``; ``""`` means no
scheduled run. Two rules differ from common cron, and are translated onto it:

- ``*/N`` selects the values of the field that are multiples of N: ``0 0 */5 * *`` runs on the 5th,
  10th, ... 30th (common cron: 1st, 6th, ...); ``*/3`` in months is Mar, Jun, Sep, Dec.
- when day-of-month and day-of-week are both restricted, the one that runs more often is followed and
  the other ignored: ``0 0 1 * 1`` runs every Monday (common cron: the 1st and every Monday).
  "More often" compares days per month: day-of-month values against day-of-week values x 30.44/7;
  a tie follows day-of-month.

Times are wall-clock times in the schedule's time zone. Across DST changes no run is skipped or
doubled: a time that does not exist that day (spring forward) runs at the same offset after the
gap, and a time that exists twice (fall back) runs once, at its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pardot_frames.errors import CronError

FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 6))
NAMES = {
    3: {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())},
    4: {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())},
}
MACROS = {"@daily": "0 0 * * *", "@hourly": "0 * * * *"}
DAYS_PER_MONTH = 30.44


def _value(text: str, index: int, expression: str) -> int:
    name, low, high = FIELDS[index]
    text = text.strip().lower()
    if text in NAMES.get(index, {}):
        return NAMES[index][text]
    if not text.isdigit():
        allowed = f"{low}-{high}" + (f" or {', '.join(NAMES[index])}" if index in NAMES else "")
        raise CronError([f"cron {expression!r}: {name} value {text!r} is not a number or name ({allowed})"])
    value = int(text)
    if not low <= value <= high:
        hint = " (Sunday is 0)" if index == 4 and value == 7 else ""
        raise CronError([f"cron {expression!r}: {name} value {value} is outside {low}-{high}{hint}"])
    return value


def _field(text: str, index: int, expression: str) -> tuple[set[int], bool]:
    """The values a field allows, and whether it is restricted (anything but ``*``)."""
    name, low, high = FIELDS[index]
    if text == "*":
        return set(range(low, high + 1)), False
    values: set[int] = set()
    for part in text.split(","):
        if part == "*":
            raise CronError([f"cron {expression!r}: {name}: '*' cannot stand in a list; use it alone"])
        if part.startswith("*/"):
            step = part[2:]
            if not step.isdigit() or int(step) < 1:
                raise CronError([f"cron {expression!r}: {name}: {part!r} needs a whole number step, e.g. */5"])
            values |= {v for v in range(low, high + 1) if v % int(step) == 0}  # multiples of N (the spec's rule)
        elif "-" in part:
            first, _, last = part.partition("-")
            a, b = _value(first, index, expression), _value(last, index, expression)
            if a > b:
                raise CronError([f"cron {expression!r}: {name}: range {part!r} runs backwards"])
            values |= set(range(a, b + 1))
        elif part:
            values.add(_value(part, index, expression))
        else:
            raise CronError([f"cron {expression!r}: {name}: empty item in {text!r}"])
    if not values:
        raise CronError([f"cron {expression!r}: {name}: {text!r} selects no value"])
    return values, True


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule; ``expression`` is the user's text, ``translated`` what croniter runs."""

    expression: str
    translated: str | None  # None: no scheduled run
    zone: str = "UTC"

    def next_runs(self, after: datetime, n: int) -> list[datetime]:
        """The next ``n`` run times strictly after ``after`` (aware datetimes in the schedule's zone)."""
        return [t for t, _ in zip(self.iter_runs(after), range(n), strict=False)]

    def iter_runs(self, after: datetime) -> Iterator[datetime]:
        """Run times after ``after``, forever (nothing for an empty schedule)."""
        if self.translated is None:
            return
        tz = ZoneInfo(self.zone)
        after = after if after.tzinfo else after.replace(tzinfo=tz)
        # walk wall-clock times from an hour before (so a fold is not missed), keep those after `after`
        local = after.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0) - timedelta(hours=1)
        from croniter import croniter  # imported when times are computed: the CLI's --help stays quick

        walker = croniter(self.translated, local)
        last = after
        while True:
            wall = walker.get_next(datetime)
            instant = wall.replace(tzinfo=tz, fold=0)  # a gap moves forward by its length; a fold runs once
            instant = instant.astimezone(UTC).astimezone(tz)
            if instant > last:
                last = instant
                yield instant


def parse(expression: str, zone: str = "UTC") -> Schedule:
    """Parse and check a cron expression; a CronError names the field at fault."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError([f"time zone {zone!r} is not known; use an IANA name such as Europe/Berlin"]) from None
    text = MACROS.get(expression.strip().lower(), expression.strip())
    if text == "":
        return Schedule(expression, None, zone)
    parts = text.split(" ")
    if len(parts) != 5 or any(p == "" for p in parts):
        raise CronError(
            [
                f"cron {expression!r}: give five fields separated by single spaces "
                '(minute hour day-of-month month day-of-week), or @daily, @hourly, or ""'
            ]
        )
    fields = [_field(p, i, expression) for i, p in enumerate(parts)]
    (dom, dom_restricted), (dow, dow_restricted) = fields[2], fields[4]
    if dom_restricted and dow_restricted:  # follow the one that runs more often
        if len(dow) * DAYS_PER_MONTH / 7 > len(dom):
            fields[2] = (set(range(1, 32)), False)
        else:
            fields[4] = (set(range(0, 7)), False)
    months = fields[3][0]
    if fields[2][1] and min(fields[2][0]) > max(_days_in(m) for m in months):
        raise CronError(
            [f"cron {expression!r}: day of month {sorted(fields[2][0])} never occurs in the months {sorted(months)}"]
        )
    translated = " ".join(
        "*" if not restricted else ",".join(map(str, sorted(values))) for values, restricted in fields
    )
    return Schedule(expression, translated, zone)


def _days_in(month: int) -> int:
    return 29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31
