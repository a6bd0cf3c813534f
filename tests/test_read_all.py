"""Reading every object of ``pardot-v5-objects.md`` section 6 into typed frames: the exact field lists of the sheet,
the right types, UTC datetimes, parallel id ranges (no page twice, none skipped), since-last reads that return
exactly what changed (deletions included), and the 100,000-record warning as an error."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
    assert set(lists) | {"email-clicks"} == set(catalog.OBJECTS)  # and the v4 email clicks, which have no list
    assert {k: list(catalog.OBJECTS[k].fields) for k in lists} == lists
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
            held = running.state.activity.get(kind) if kind != "email-clicks" else running.state.email_clicks
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
    assert running.max_concurrency <= 5  # ranges of whole pages, twice as many as calls in flight: never more out


@settings(max_examples=300, deadline=None)
@given(first=st.integers(1, 1000), gap=st.integers(1, 50), extra=st.integers(0, 10**9), parallel=st.integers(1, 5))
def test_id_ranges_cover_every_id_once_and_stay_within_twice_the_calls_in_flight(first, gap, extra, parallel):
    """The partition of a parallel read (``pardot.objects.ranges``): after a first page of ``first`` records ``gap``
    ids apart, ranges (low, below) cover every id up to the highest exactly once, at most two per call in flight."""
    from pardot_frames.pardot.objects import _step

    records = [{"id": (i + 1) * gap} for i in range(first)]
    start = first * gap
    highest = start + 1 + extra
    step = _step(records, start, highest, parallel)
    spans = [(low, min(low + step, highest) + 1) for low in range(start, highest, step)]
    assert spans[0][0] == start and spans[-1][1] == highest + 1  # ids after start, up to the highest
    assert all(a[1] - 1 == b[0] for a, b in zip(spans, spans[1:], strict=False))  # idGreaterThan meets idLessThan
    assert len(spans) <= (2 * parallel if parallel > 1 else 1)


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


@pytest.mark.parametrize("needed", [True, False])  # whether Pardot refuses a variation query without it: open
def test_the_account_and_dynamic_content_variations_read_as_pardot_answers_them(tmp_path, needed):
    sim = Simulator(seed_activity=3, variations_need_content=needed)
    with sim.run_in_thread() as running:
        before = running.pardot_calls
        account = pf.read("account", connection(running), state_dir=tmp_path)
        assert account.height == 1 and running.pardot_calls - before == 1  # one object, one call
        assert account["maximum_daily_api_calls"].dtype == pl.Int64 and account["updated_at"].dtype.time_zone == "UTC"
        held = running.state.activity["dynamic-content-variations"]
        variations = pf.read("dynamic_content_variations", connection(running), state_dir=tmp_path, parallel=3)
        assert sorted(variations["id"]) == sorted(held)
        assert dict(zip(variations["id"], variations["dynamic_content_id"], strict=True)) == {
            i: r["dynamic_content_id"] for i, r in held.items()}  # fmt: skip
        with pytest.raises(pf.ConfigError, match="no time to follow"):
            pf.read("dynamic_content_variations", connection(running), state_dir=tmp_path, since_last=True)


def test_the_simulator_refuses_a_variation_query_without_its_dynamic_content():
    from pardot_frames.engine.host.bridge import run_sync
    from pardot_frames.pardot import objects
    from pardot_frames.pardot.client import Client

    with Simulator(seed_activity=1).run_in_thread() as running:

        async def ask():
            async with Client(pf.Connection(**running.credentials)) as client:
                return await client.get_as(f"{objects.OBJECTS}/dynamic-content-variations?fields=id", "import")

        reply = run_sync(ask())
        assert reply.code == 51 and "dynamicContentId" in reply.message


def test_email_clicks_come_through_v4_and_a_since_last_read_asks_after_the_last_click(tmp_path):
    with Simulator(seed_activity=300).run_in_thread() as running:
        clicks = running.state.email_clicks
        first = pf.read("email_clicks", connection(running), state_dir=tmp_path, since_last=True)
        assert sorted(first["id"]) == sorted(clicks) and len(clicks) > 200  # more than one v4 page
        assert first["created_at"].dtype.time_zone == "UTC" and first["prospect_id"].null_count() == 0
        top = max(clicks)
        clicks[top + 1] = {**clicks[top], "id": top + 1, "created_at": "2026-12-01 10:00:00"}  # one new click
        before = running.pardot_calls
        again = pf.read("email_clicks", connection(running), state_dir=tmp_path, since_last=True)
        assert again["id"].to_list() == [top + 1] and running.pardot_calls - before == 1  # from the last id, 1 call


def test_a_stopped_read_of_any_object_resumes_where_it_stopped(tmp_path):
    with Simulator(seed_activity=600).run_in_thread() as running:
        held = running.state.activity["visitor-activities"]
        with pytest.raises(pf.ReadStopped) as stopped:
            pf.read("visitor_activities", connection(running, max_api_calls=3), state_dir=tmp_path)
        partial, after = stopped.value.frame, stopped.value.after_id
        assert after is not None and partial.height and partial["id"].max() <= after
        rest = pf.read("visitor_activities", connection(running), state_dir=tmp_path, after_id=after)
        both = pl.concat([partial, rest])
        assert sorted(both["id"]) == sorted(held) and both["id"].is_unique().all()  # every record once


def test_every_read_and_verify_leaves_a_row_in_the_run_history(tmp_path):
    with Simulator().run_in_thread() as running:
        running.seed(lists=[{"id": 7, "name": "News"}], prospects=[{"id": 1, "email": "a@x.com"}],
                     memberships=[{"list_id": 7, "prospect_id": 1}])  # fmt: skip
        config = pf.ExportConfig(**running.credentials)
        pf.read_prospects(config, state_dir=tmp_path)
        pf.read_lists(config)
        pf.read_list_members(config, 7)
        pf.verify(pl.DataFrame({"email": ["a@x.com"]}), config, state_dir=str(tmp_path))
        runs = pf.history(state_dir=tmp_path)
        assert runs.select("kind", "object").rows()[:2] in (
            [("read", "prospects"), ("verify", "prospects")],
            [("verify", "prospects"), ("read", "prospects")],
        )
        verify = runs.filter(pl.col("kind") == "verify").row(0, named=True)
        assert verify["calls"] >= 1 and '"rows_checked":1' in verify["verify"].replace(" ", "")
        import os

        lists = pf.history(state_dir=os.environ["PARDOT_FRAMES_STATE"])  # no state folder given: the default one
        assert sorted(lists["object"]) == ["list_members", "lists"] and lists["rows_in"].to_list() != [0, 0]


def test_the_command_line_reads_the_special_objects_and_says_a_stop_as_json(tmp_path):
    import json

    from pardot_frames.engine.read.plan import plan_read

    with Simulator(seed_activity=300).run_in_thread() as running:
        planned = {k: plan_read(k, connection(running)) for k in ("account", "dynamic_content_variations",
                                                                  "email_clicks")}  # fmt: skip
        assert planned["account"]["calls"] == 1 and planned["email_clicks"]["records_at_most"] == max(
            running.state.email_clicks)  # fmt: skip
        job = job_file(tmp_path, running)
        code, printed, _ = cli("read", "email_clicks", "--config", job, "--json", "--state-dir", str(tmp_path))
        summary = json.loads(printed)
        assert code == 0 and summary["rows"] == len(running.state.email_clicks) == planned["email_clicks"][
            "records_at_most"] and summary["calls"] == planned["email_clicks"]["calls"]  # fmt: skip
        stopped_job = job_file(tmp_path, running, max_api_calls=2)
        code, printed, err = cli("read", "visitor_activities", "--config", stopped_job, "--json",
                                 "--out", str(tmp_path / "a.parquet"), "--state-dir", str(tmp_path))  # fmt: skip
        summary = json.loads(printed)
        assert code != 0 and summary["stopped"] and summary["after_id"] is not None and "Traceback" not in err
        code, printed, _ = cli("read", "visitor_activities", "--config", job, "--json", "--after-id",
                               str(summary["after_id"]), "--state-dir", str(tmp_path))  # fmt: skip
        rest = json.loads(printed)
        held = len(running.state.activity["visitor-activities"])
        assert code == 0 and rest["rows"] == held - summary["after_id"]  # ids 1..n: the rest after the stop


def test_a_settled_mark_asks_only_what_came_after_it(tmp_path):
    """v5 may answer from a cache 60 s behind (v5-objects 4): a mark 61 s or more before the last read began (by
    Pardot's clock) is settled, and the next read asks only what came after it: one call when nothing changed."""
    with Simulator().run_in_thread() as running:
        running.seed(prospects=[{"id": 1 + i, "email": f"s{i}@x.com", "updated_at": "2026-11-01 10:00:00"}
                                for i in range(1_500)])  # fmt: skip  # 1,500 records in one old second
        conn = connection(running)
        assert pf.read("prospects", conn, state_dir=tmp_path, since_last=True).height == 1_500
        before = running.pardot_calls
        again = pf.read("prospects", conn, state_dir=tmp_path, since_last=True)
        assert again.height == 0 and running.pardot_calls - before == 1  # not the second's 1,500 records again
        running.state.prospects[7]["updated_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        changed = pf.read("prospects", conn, state_dir=tmp_path, since_last=True)
        assert changed["id"].to_list() == [7]
        before = running.pardot_calls  # that mark is a second ago: not settled, so its second is asked again
        assert pf.read("prospects", conn, state_dir=tmp_path, since_last=True).height == 0
        assert running.pardot_calls - before == 1


def test_a_mark_is_settled_61_seconds_before_the_read_began_by_pardots_clock():
    from pardot_frames.engine.state import reads
    from pardot_frames.pardot.client import server_date

    began = server_date("Sun, 06 Dec 2026 12:00:00 GMT")
    assert began == datetime(2026, 12, 6, 12, 0, tzinfo=UTC) and server_date("not a date") is None
    assert reads.strictly_after(began - timedelta(seconds=61), began)
    assert not reads.strictly_after(began - timedelta(seconds=60), began)
    assert not reads.strictly_after(began - timedelta(days=1), None)  # when the last read began is not known


def test_the_next_page_is_asked_before_this_one_is_handled(tmp_path):
    """One call in flight at a time, its wait spent on the page in hand: when a page is handled, the next call
    (the highest id after the first page, the next page of a range) has already reached Pardot."""
    with Simulator(seed_activity=700, latency=0.02).run_in_thread() as running:  # 3,500 activities: four pages
        seen: list[tuple[int, int]] = []
        pf.read("visitor_activities", connection(running), state_dir=tmp_path, parallel=1,
                on_page=lambda frame: seen.append((running.pardot_calls, frame.height)))  # fmt: skip
        assert running.max_concurrency == 1  # never two calls out: asked ahead, not in parallel
    assert seen == [(2, 1_000), (4, 1_000), (5, 1_000), (5, 500)]  # page + probe; then each full page's next


def test_times_without_an_offset_are_read_in_the_api_users_timezone(tmp_path):
    """v4 writes ``YYYY-MM-DD HH:MM:SS`` with no offset, in the API user's timezone: ``timezone=`` reads them as
    the instants they are (DST included); an unknown zone is a ConfigError before any call."""
    with Simulator(seed_activity=3).run_in_thread() as running:
        first = min(running.state.email_clicks)
        running.state.email_clicks[first]["created_at"] = "2026-07-01 09:30:00"  # summer: Chicago is UTC-5
        utc = pf.read("email_clicks", connection(running), state_dir=tmp_path)
        chicago = pf.read("email_clicks", connection(running), state_dir=tmp_path, timezone="America/Chicago")
        before = running.pardot_calls
        with pytest.raises(pf.ConfigError, match="Mars/Olympus"):
            pf.read("email_clicks", connection(running), state_dir=tmp_path, timezone="Mars/Olympus")
        assert running.pardot_calls == before
    at = {"utc": utc.filter(pl.col("id") == first)["created_at"][0],
          "chicago": chicago.filter(pl.col("id") == first)["created_at"][0]}  # fmt: skip
    assert at["utc"] == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    assert at["chicago"] == datetime(2026, 7, 1, 14, 30, tzinfo=UTC)
