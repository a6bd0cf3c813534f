"""The account's fields (issue #15): columns checked against them, custom field values checked by type
before sending, so no value is dropped silently by Pardot; read once per job, cached."""

import datetime as dt
import itertools

import orjson
import polars as pl
import pytest
from conftest import job
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import cli, job_file

from pardot_frames import ColumnError, dry_run, export_to_pardot, fields
from pardot_frames.simulator import Simulator

CUSTOM = [
    {"id": 1, "field_id": "visit_date", "name": "Visit date", "type": "Date"},
    {"id": 2, "field_id": "spend", "name": "Spend", "type": "Number"},
    {"id": 3, "field_id": "tier", "name": "Tier", "type": "Dropdown", "values": ["Gold", "Silver"]},
    {"id": 4, "field_id": "topics", "name": "Topics", "type": "Multi-Select", "values": ["a", "b", "c"]},
    {"id": 5, "field_id": "note_text", "name": "Note", "type": "Text"},
]
counter = itertools.count()


@pytest.fixture(scope="module")
def account():
    with Simulator().run_in_thread() as sim:
        sim.seed(custom_fields=CUSTOM)
        yield sim


def expected_date(text):
    if text is None:
        return None, True
    if len(text) < 10 or text[10:11] not in ("", "T", " "):
        return None, False
    try:
        return dt.date.fromisoformat(text[:10]).isoformat(), True
    except ValueError:
        return None, False


def expected_number(text):
    if text is None:
        return None, True
    try:
        number = float(text)
    except ValueError:
        return None, False
    return (int(number) if number.is_integer() else number), True


dates = st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)).map(str),
                  st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 1, 1)).map(lambda d: d.isoformat() + "Z"),
                  st.sampled_from(["notadate", "2021-02-30", "30/08/2020"]))  # fmt: skip
numbers = st.one_of(
    st.none(), st.integers(-(10**6), 10**6).map(str), st.sampled_from(["5.5", "-0.25", "abc", "1e3x", "12"])
)
tiers = st.one_of(st.none(), st.sampled_from(["Gold", "Silver", "Bronze"]))
topics = st.one_of(st.none(), st.lists(st.sampled_from(["a", "b", "c", "zzz"]), min_size=1, max_size=3, unique=True))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(dates, numbers, tiers, topics), min_size=1, max_size=12))
@pytest.mark.email_alone
def test_every_typed_value_lands_exactly_or_is_reported(account, tmp_path, rows):
    tag = next(counter)
    emails = [f"f{tag}-{i}@example.com" for i in range(len(rows))]
    frame = pl.DataFrame(
        {
            "email": emails,
            "visit_date": [r[0] for r in rows],
            "spend": [r[1] for r in rows],
            "tier": [r[2] for r in rows],
            "topics": [r[3] for r in rows],
        },
        schema={"email": pl.String, "visit_date": pl.String, "spend": pl.String, "tier": pl.String,
                "topics": pl.List(pl.String)},
    )  # fmt: skip
    result = export_to_pardot(frame, job(account), progress=False, state_dir=tmp_path, journal=False)
    rejected = dict(zip(result.rejected["row_nr"].to_list(), result.rejected["message"].to_list(), strict=True))
    held = {p["email"]: p for p in account.state.prospects.values() if p.get("email") in emails}
    for i, (date, number, tier, chosen) in enumerate(rows):
        want_date, date_ok = expected_date(date)
        want_number, number_ok = expected_number(number)
        tier_ok = tier in (None, "Gold", "Silver")
        topics_ok = chosen is None or set(chosen) <= {"a", "b", "c"}
        if not (date_ok and number_ok and tier_ok and topics_ok):
            assert i in rejected and emails[i] not in held, (i, rows[i])  # reported, never sent
            for ok, column in ((date_ok, "visit_date"), (number_ok, "spend"), (tier_ok, "tier"), (topics_ok, "topics")):
                assert ok or f"{column}:" in rejected[i]
            continue
        stored = held[emails[i]]  # landed, exactly as the types say
        assert stored.get("visit_date") == want_date and stored.get("spend") == want_number
        assert stored.get("tier") == tier and stored.get("topics") == chosen
    assert result.succeeded + result.rejected_validation == len(rows)


def test_a_column_that_is_no_field_of_the_account_is_named_with_suggestions(account, tmp_path):
    frame = pl.DataFrame({"email": ["x@example.com"], "spnd": ["5"]})
    with pytest.raises(ColumnError, match=r"'spnd' is neither .* did you mean spend"):
        export_to_pardot(frame, job(account), progress=False, state_dir=tmp_path)
    assert "x@example.com" not in {p.get("email") for p in account.state.prospects.values()}


@pytest.mark.email_alone
def test_fields_are_read_once_and_cached(account, tmp_path):
    before = account.state.calls_by_endpoint["customField/query"]
    for n in range(3):
        frame = pl.DataFrame({"email": [f"c{n}@example.com"], "tier": ["Gold"]})
        assert export_to_pardot(frame, job(account), progress=False, state_dir=tmp_path).ok
    assert account.state.calls_by_endpoint["customField/query"] == before + 1
    export_to_pardot(frame, job(account), progress=False, state_dir=tmp_path, refresh_fields=True)
    assert account.state.calls_by_endpoint["customField/query"] == before + 2


def test_the_dry_run_checks_fields_with_credentials_and_says_so_without(account, tmp_path):
    frame = pl.DataFrame({"email": ["d@example.com"], "spend": ["lots"]})
    checked = dry_run(frame, job(account), state_dir=tmp_path)
    assert checked.invalid == 1 and "spend: not a number" in next(iter(checked.reasons))
    blind = dry_run(frame, job(account).replace(client_secret=None, refresh_token=None), state_dir=tmp_path)
    assert blind.invalid == 0 and "not checked" in blind.note


def test_fields_in_python_and_on_the_command_line(account, tmp_path):
    frame = fields(job(account), state_dir=tmp_path)
    custom = frame.filter(pl.col("kind") == "custom")
    assert set(custom["field"]) == {c["field_id"] for c in CUSTOM}
    assert custom.filter(pl.col("field") == "topics").row(0, named=True)["several"] is True
    assert "email" in frame.filter(pl.col("kind") == "standard")["field"].to_list()
    code, out, err = cli("fields", "--config", job_file(tmp_path, account), "--json", "--state-dir", str(tmp_path))
    assert code == 0, err
    listed = {row["field"]: row for row in orjson.loads(out)}
    assert listed["tier"]["values"] == ["Gold", "Silver"] and listed["visit_date"]["type"] == "Date"
