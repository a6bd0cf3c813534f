"""The spec's cron rules: examples from the spec, errors naming the field, and property tests that
every time printed matches the rules and none is missed."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pardot_frames.errors import CronError
from pardot_frames.schedule.cron import FIELDS, Schedule, parse


def matches(schedule: Schedule, moment: datetime) -> bool:
    """Whether a wall-clock minute is one the schedule selects (the rules, without croniter)."""
    if schedule.translated is None:
        return False
    fields = [
        set(range(lo, hi + 1)) if p == "*" else {int(v) for v in p.split(",")}
        for p, (_, lo, hi) in zip(schedule.translated.split(" "), FIELDS, strict=True)
    ]
    weekday = (moment.weekday() + 1) % 7  # Sunday = 0
    return (
        moment.minute in fields[0]
        and moment.hour in fields[1]
        and moment.day in fields[2]
        and moment.month in fields[3]
        and weekday in fields[4]
    )


START = datetime(2026, 1, 1, tzinfo=UTC)


def days(expression, n=8, after=START):
    return [(t.month, t.day) for t in parse(expression).next_runs(after, n)]


def test_spec_examples():
    assert days("0 0 */5 * *", 7) == [(1, 5), (1, 10), (1, 15), (1, 20), (1, 25), (1, 30), (2, 5)]
    assert days("0 0 5,*/10,25 * *", 6) == [(1, 5), (1, 10), (1, 20), (1, 25), (1, 30), (2, 5)]
    assert all(datetime(2026, m, d).weekday() == 0 for m, d in days("0 0 1 * 1", 10))  # every Monday
    assert days("0 0 1,15 * 1", 3) == [(1, 5), (1, 12), (1, 19)]  # Mondays (4.3/month) beat 2 days
    assert days("0 0 1-10 * 1", 3) == [(1, 2), (1, 3), (1, 4)]  # 10 days beat Mondays
    runs = parse("30 */2 1 * *").next_runs(START, 3)
    assert [(t.day, t.hour, t.minute) for t in runs] == [(1, 0, 30), (1, 2, 30), (1, 4, 30)]
    assert [t.month for t in parse("0 0 1 */3 *").next_runs(START, 4)] == [3, 6, 9, 12]
    assert parse("0 0 1 jan,jul sun-sat").translated == "0 0 * 1,7 0,1,2,3,4,5,6"  # every day beats the 1st
    assert parse("@daily").next_runs(START, 1)[0] == START + timedelta(days=1)
    assert parse("@hourly").next_runs(START, 1)[0] == START + timedelta(hours=1)
    assert parse("").next_runs(START, 3) == []


@pytest.mark.parametrize(
    "expression, field",
    [
        ("0 0 * *", "five fields"),
        ("61 * * * *", "minute value 61"),
        ("* 24 * * *", "hour value 24"),
        ("0 0 0 * *", "day of month value 0"),
        ("0 0 * 13 *", "month value 13"),
        ("0 0 * * 7", "Sunday is 0"),
        ("0 0 * foo *", "month value 'foo'"),
        ("1,* * * * *", "cannot stand in a list"),
        ("*/0 * * * *", "step"),
        ("0 0 10-5 * *", "runs backwards"),
        ("0 0 31 2,4 *", "never occurs"),
        ("0  0 * * *", "single spaces"),
    ],
)
def test_invalid_expressions_name_the_field(expression, field):
    with pytest.raises(CronError) as info:
        parse(expression)
    assert field in str(info.value) and "invalid schedule" in str(info.value)


def test_unknown_time_zone():
    with pytest.raises(CronError, match="Mars/Olympus"):
        parse("@daily", "Mars/Olympus")


def test_dst_neither_skips_nor_doubles():
    spring = parse("30 2 * * *", "Europe/Berlin").next_runs(datetime(2026, 3, 27, tzinfo=UTC), 4)
    assert [t.day for t in spring] == [27, 28, 29, 30]  # the 29th has no 02:30: it runs at 03:30
    assert spring[2].hour == 3 and spring[2].utcoffset() == timedelta(hours=2)
    autumn = parse("30 2 * * *", "Europe/Berlin").next_runs(datetime(2026, 10, 24, tzinfo=UTC), 3)
    assert [t.day for t in autumn] == [24, 25, 26]  # 02:30 happens twice on the 25th: one run
    hourly = parse("0 * * * *", "America/New_York").next_runs(datetime(2026, 11, 1, 4, tzinfo=UTC), 6)
    assert len(set(hourly)) == 6 and hourly == sorted(hourly)


def item(index):
    name, low, high = FIELDS[index]
    value = st.integers(low, high).map(str)
    span = st.tuples(st.integers(low, high), st.integers(low, high)).map(lambda p: f"{min(p)}-{max(p)}")
    step = st.integers(1, high).map(lambda n: f"*/{n}")
    names = {3: ["jan", "apr", "dec"], 4: ["sun", "wed", "sat"]}.get(index, [])
    options = [value, span, step] + ([st.sampled_from(names)] if names else [])
    part = st.lists(st.one_of(*options), min_size=1, max_size=3).map(",".join)
    return st.one_of(st.just("*"), part)


expressions = st.tuples(*[item(i) for i in range(5)]).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(expressions, st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1)))
def test_every_time_matches_the_rules_and_none_is_missed(expression, after):
    try:
        schedule = parse(expression)
    except CronError as exc:
        assert "never occurs" in str(exc)  # generated values are in range: only impossible dates fail
        return
    after = after.replace(tzinfo=UTC, second=0, microsecond=0)
    runs = schedule.next_runs(after, 5)
    assert runs == sorted(set(runs)) and all(t > after for t in runs)
    assert all(matches(schedule, t.replace(tzinfo=None)) for t in runs)
    # none missed: brute force over every minute up to the first run, within two days
    end = min(runs[0], after + timedelta(days=2)) if runs else after + timedelta(days=2)
    moment = after + timedelta(minutes=1)
    while moment < end:
        assert not matches(schedule, moment.replace(tzinfo=None)), (expression, moment)
        moment += timedelta(minutes=1)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 31))
def test_star_slash_n_is_multiples_of_n(n):
    schedule = parse(f"0 0 */{n} * *")
    runs = schedule.next_runs(START, 40)
    assert all(t.day % n == 0 for t in runs) and runs
