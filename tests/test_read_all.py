"""Reading every object of ``pardot-v5-objects.md`` section 6 into typed frames: the exact field lists of the sheet,
the right types, UTC datetimes, parallel id ranges (no page twice, none skipped), since-last reads that return
exactly what changed (deletions included), and the 100,000-record warning as an error."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from test_cli import cli, job_file

import pardot_frames as pf
from pardot_frames.cli.read import OBJECT_NAMES
from pardot_frames.prepare import catalog
from pardot_frames.simulator import Simulator

SHEET = Path(__file__).resolve().parents[2] / "shared" / "reference" / "pardot-v5-objects.md"


def sheet_lists() -> dict[str, list[str]]:
    """Section 6's field lists as the sheet writes them (``x.{a,b}`` and ``x.*`` spelled out, annotations dropped)."""
    text = SHEET.read_text()
    section = text[text.index("## 6.") : text.index("## 7.")].replace("\n  ", " ")
    out: dict[str, list[str]] = {}
    for kind, block in re.findall(r"\n- \*\*([a-z-]+)\*\* — `([^`]+)`", section):
        block = re.sub(r"\([^)]*\)", "", block)
        names: list[str] = []
        for part in re.split(r",(?![^{]*})", block):
            part = part.strip()
            if m := re.fullmatch(r"(\w+)\.\{([^}]+)\}", part):
                names += [f"{m.group(1)}.{leaf.strip()}" for leaf in m.group(2).split(",")]
            elif m := re.fullmatch(r"(\w+)\.\*", part):
                names += [n for n in out["emails"] if n.startswith(m.group(1) + ".")]
            elif re.fullmatch(r"[A-Za-z][\w.]*", part):
                names.append(part)
        out[kind] = names
    return out


def connection(sim, **extra):
    return pf.Connection(**sim.credentials, initial_retry_wait=0.01, maximum_retry_wait=0.05, **extra)


def test_the_catalog_asks_exactly_the_sheets_fields():
    lists = sheet_lists()
    served = {k: v for k, v in lists.items() if k not in ("account", "dynamic-content-variations")}
    assert set(served) == set(catalog.OBJECTS)  # the two left out: one object, and a read per dynamic content
    assert {k: list(catalog.OBJECTS[k].fields) for k in served} == served
    assert sorted(OBJECT_NAMES) == sorted(s.name for s in catalog.OBJECTS.values() if s.name != "lists")


def test_every_object_reads_with_its_fields_and_types(tmp_path):
    sim = Simulator(seed_activity=30, v5_utc_offset="+05:30")
    with sim.run_in_thread() as running:
        for kind, spec in catalog.OBJECTS.items():
            frame = pf.read(kind, connection(running), state_dir=tmp_path)
            expected = {c: catalog.dtype(kind, v5) for c, v5 in catalog.columns(spec, spec.fields).items()}
            assert frame.columns == list(expected), kind
            for column, dtype in expected.items():
                if dtype is not None:
                    assert frame.schema[column] == dtype, (kind, column, frame.schema[column])
            held = running.state.activity.get(kind)
            if held is not None:
                assert frame.height == len(held) and frame["id"].is_unique().all(), kind
        frame = pf.read("visitor_activities", connection(running), state_dir=tmp_path)
        stored = running.state.activity["visitor-activities"][int(frame["id"][0])]["created_at"]
        assert frame["created_at"][0] == datetime.fromisoformat(stored).replace(tzinfo=UTC)  # an instant, not text
        emails = pf.read("emails", connection(running), state_dir=tmp_path)
        assert isinstance(emails.schema["sender_options"], pl.List) and emails["sender_options"][0][0]["address"]


@pytest.mark.parametrize("flat", [False, True])  # a dotted field nested or flat (v5-objects 1: not confirmed)
def test_a_dotted_relation_is_one_column_either_way(tmp_path, flat):
    sim = Simulator(seed_activity=2, v5_dotted_flat=flat)
    with sim.run_in_thread() as running:
        frame = pf.read("custom_redirects", connection(running), state_dir=tmp_path)
    assert frame["tracker_domain_domain"].drop_nulls().str.starts_with("go").all()
    assert frame["tracker_domain_domain"].null_count() < frame.height


def test_a_parallel_read_reads_each_page_once_and_skips_none(tmp_path):
    sim = Simulator(seed_activity=2_400)  # 12,000 visitor activities
    with sim.run_in_thread() as running:
        held = set(running.state.activity["visitor-activities"])
        before = running.pardot_calls
        frame = pf.read("visitor-activities", connection(running), parallel=5, state_dir=tmp_path)
        calls = running.pardot_calls - before
        alone = pf.read("visitor-activities", connection(running), parallel=1, state_dir=tmp_path)
    assert set(frame["id"].to_list()) == held and frame.height == len(held)
    assert frame.equals(alone)
    assert calls <= 12 + 1 + 5  # the pages, the highest id, a partial page per range at most


def test_since_last_returns_exactly_what_changed_deletions_included(tmp_path):
    sim = Simulator(seed_activity=40)
    with sim.run_in_thread() as running:
        config = connection(running)
        first = pf.read("campaigns", config, since_last=True, state_dir=tmp_path)
        assert first.height == 12 and not first["is_deleted"].any()
        campaigns = running.state.activity["campaigns"]
        later = (datetime.now(UTC) + timedelta(days=400)).strftime("%Y-%m-%d %H:%M:%S")
        for cid in (2, 5):
            campaigns[cid]["updated_at"], campaigns[cid]["name"] = later, f"renamed {cid}"
        campaigns[7].update(is_deleted=True, updated_at=later)
        running.state.activity_ids.clear()
        changed = pf.read("campaigns", config, since_last=True, state_dir=tmp_path)
        again = pf.read("campaigns", config, since_last=True, state_dir=tmp_path)
        plain = pf.read("campaigns", config, state_dir=tmp_path)
    assert sorted(changed["id"].to_list()) == [2, 5, 7]
    assert changed.filter(pl.col("id") == 7)["is_deleted"].to_list() == [True]
    assert changed.filter(pl.col("id") == 2)["name"].to_list() == ["renamed 2"]
    assert again.height == 0  # nothing changed since
    assert 7 not in plain["id"].to_list()  # a plain read leaves the recycle bin out


def test_since_last_on_an_object_pardot_cannot_filter_by_time(tmp_path):
    sim = Simulator(seed_activity=5)
    with sim.run_in_thread() as running:
        config = connection(running)
        assert pf.read("forms", config, since_last=True, state_dir=tmp_path).height == 12
        running.state.activity["forms"][3]["updated_at"] = "2030-01-01 00:00:00"
        running.state.activity_ids.clear()
        assert pf.read("forms", config, since_last=True, state_dir=tmp_path)["id"].to_list() == [3]


@pytest.mark.parametrize("code", [203, 101])  # the warning's code is not confirmed (v5-objects 2)
def test_the_100000_cap_warning_is_an_error_and_the_simulator_sends_it(tmp_path, code):
    sim = Simulator(seed_activity=1_000, token_chain_cap=0, page_warning_code=code)
    with sim.run_in_thread() as running:
        with pytest.raises(pf.ApiError, match="cut the read short"):
            pf.read("visitor_activities", connection(running), state_dir=tmp_path)


def test_the_simulator_ends_a_token_chain_at_its_cap_with_the_warning():
    import asyncio

    import aiohttp
    from simclient import Raw

    async def scenario():
        async with Simulator(seed_activity=500, token_chain_cap=2_000) as sim, aiohttp.ClientSession() as http:
            raw = Raw(sim, http)  # 2,500 activities; the chain is followed as a token reader does
            await raw.login()
            path, seen, warning = "/api/v5/objects/visitor-activities?fields=id&limit=1000", 0, None
            while path:
                async with http.get(sim.pardot_domain + path, headers=raw.headers()) as answer:
                    body, warning = await answer.json(), answer.headers.get("Pardot-Warning")
                seen += len(body["values"])
                path = body["nextPageUrl"] and body["nextPageUrl"].removeprefix(sim.pardot_domain)
            return seen, warning

    seen, warning = asyncio.run(scenario())
    assert seen == 2_000
    assert warning == "203;Record count for nextPageToken sequence has been exceeded. No page token returned."


def test_the_command_line_reads_any_object_into_a_file(tmp_path):
    sim = Simulator(seed_activity=50)
    with sim.run_in_thread() as running:
        config = job_file(tmp_path, running)
        out = tmp_path / "activities.parquet"
        code, printed, err = cli("read", "visitor_activities", "--config", config, "--out", out, "--no-progress",
                                 "--state-dir", tmp_path)  # fmt: skip
        assert code == 0, err
        assert pl.read_parquet(out).height == len(running.state.activity["visitor-activities"]) == 250
        code, printed, err = cli("read", "visitor_activities", "--config", config, "--since-last", "--no-progress",
                                 "--state-dir", tmp_path)  # fmt: skip
        assert code == 0 and "read 250 visitor_activities" in printed
        code, printed, err = cli("read", "visitor_activities", "--config", config, "--since-last", "--no-progress",
                                 "--state-dir", tmp_path)  # fmt: skip
        assert code == 0 and "read 0 visitor_activities" in printed
        code, _, err = cli("read", "nope", "--config", config)
        assert code == 2 and "invalid choice" in err
