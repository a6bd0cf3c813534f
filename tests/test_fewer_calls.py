"""Fewer API calls (issue #12): prospects in the POST body (50 a call), list memberships batched through
batchUpsert, and the job's own call budget. Every test checks what the simulator ends up holding."""

import warnings

import polars as pl
import pytest
from conftest import job
from hypothesis import given, settings
from hypothesis import strategies as st

from pardot_frames import dry_run, export_to_pardot


def people(n, tag="b", notes_chars=0):
    frame = pl.DataFrame({"email": [f"{tag}{i}@example.com" for i in range(n)], "first_name": ["Zoë"] * n})
    return frame.with_columns(pl.lit("n" * notes_chars).alias("comments")) if notes_chars else frame


@pytest.mark.email_alone
def test_body_mode_sends_50_rows_a_call_whatever_their_size(sim):
    frame = people(120, notes_chars=9000)  # each row is over 7,500 characters as JSON
    query = export_to_pardot(frame, job(sim), progress=False)
    assert query.rejected_validation == 120 and not sim.state.prospects  # the connector's URI rule
    result = export_to_pardot(frame, job(sim, payload_location="body"), progress=False)
    assert result.ok and result.api_calls == 3 and sim.state.rows_by_call[-3:] == [50, 50, 20]
    assert len(sim.state.prospects) == 120
    assert all(p["comments"] == "n" * 9000 for p in sim.state.prospects.values())
    assert result.extra["payload_location"] == "body"


@pytest.mark.email_alone
def test_body_mode_cuts_calls_against_the_query_string(sim):
    frame = people(1000).with_columns(pl.lit("Company " * 20).alias("company"))
    planned = dry_run(frame, job(sim))
    assert planned.summary()["calls_in_body_mode"] == 20 < planned.calls
    result = export_to_pardot(frame, job(sim, payload_location="body", parallel_tasks=3), progress=False)
    assert result.ok and result.api_calls == 20 and result.calls_per_row == 0.02
    assert len(sim.state.prospects) == 1000


def test_an_account_refusing_the_body_switches_the_job_to_the_query_string_once(sim):
    sim.configure(body_params=False)  # answers 13 "Required parameters are missing"
    frame = people(200)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = export_to_pardot(frame, job(sim, payload_location="body", max_payload=3000), progress=False)
    assert result.ok and "error 13" in result.extra["body_mode_refused"]
    assert result.extra["payload_location"] == "query"
    assert sum("query string" in str(w.message) for w in caught) == 1  # warned once
    assert sim.state.error_counts[13] == 1  # one refused call, then the query string
    assert sorted(p["email"] for p in sim.state.prospects.values()) == sorted(frame["email"].to_list())


def test_memberships_batched_reach_the_exact_state_in_few_calls(sim):
    sim.seed(lists=[1, 2, 3], prospects=[{"id": 100 + i, "email": f"p{i}@x.com"} for i in range(400)])
    sim.seed(memberships=[{"list_id": 1, "prospect_id": 100 + i} for i in range(0, 400, 7)])  # some already
    pairs = [(1 + k % 3, 100 + (k * 37) % 400) for k in range(1000)]
    pairs = list(dict.fromkeys(pairs))[:1000]
    frame = pl.DataFrame(pairs, schema={"list_id": pl.Int64, "prospect_id": pl.Int64}, orient="row")
    result = export_to_pardot(frame, job(sim, data_object="list_memberships"), progress=False)
    assert result.ok and result.api_calls <= 30, result
    expected = {lid: {pid for l2, pid in pairs if l2 == lid} for lid in (1, 2, 3)}
    expected[1] |= {100 + i for i in range(0, 400, 7)}
    assert {lid: sim.state.members(lid) for lid in (1, 2, 3)} == expected
    gone = frame.head(300)
    result = export_to_pardot(
        gone, job(sim, data_object="list_memberships", list_membership_operation="delete"), progress=False
    )
    assert result.ok and result.api_calls <= 10
    for lid, pid in gone.rows():
        assert pid not in sim.state.members(lid)


def test_a_multi_list_row_that_fails_settles_each_membership(sim):
    sim.seed(lists=[1, 2], prospects=[{"id": 10, "email": "a@x.com"}, {"id": 11, "email": "b@x.com"}])
    frame = pl.DataFrame({"list_id": [1, 99, 2, 1], "prospect_id": [10, 10, 10, 404]})
    result = export_to_pardot(frame, job(sim, data_object="list_memberships"), progress=False)
    assert result.succeeded == 2 and result.rejected_pardot == 2
    assert dict(result.rejected.select("row_nr", "message").rows()) == {1: "Invalid list ID", 3: "Invalid prospect ID"}
    assert sim.state.members(1) == {10} and sim.state.members(2) == {10}
    assert result.extra["single_membership_calls"] == 3


@pytest.mark.email_alone
def test_the_job_budget_stops_cleanly_and_a_resume_finishes(sim):
    frame = people(300)
    config = job(sim, max_payload=1500, max_api_calls=4)
    first = export_to_pardot(frame, config, progress=False)
    assert first.api_calls == 4 and first.not_sent > 0 and "max_api_calls" in first.stopped
    assert first.succeeded == len(sim.state.prospects) and first.succeeded + first.not_sent == 300
    second = export_to_pardot(frame, config.replace(max_api_calls=100), progress=False, resume=True)
    assert second.succeeded == 300 and second.not_sent == 0 and second.api_calls <= 20
    held = [p["email"] for p in sim.state.prospects.values()]
    assert sorted(held) == sorted(frame["email"].to_list())  # each exactly once


def test_the_dry_run_compares_the_plan_with_the_budget(sim):
    planned = dry_run(people(500), job(sim, max_payload=1500, max_api_calls=5)).summary()
    assert planned["max_api_calls"] == 5 and planned["within_max_api_calls"] is False


@pytest.mark.parametrize("location", ["query", "body"])
def test_demo_memberships_take_at_most_20_calls(sim, location):
    from pardot_frames.demo import EVENT

    sim.seed(lists=[EVENT], prospects=[{"id": 1000 + i, "email": f"d{i}@x.com"} for i in range(3000)])
    ids = [1000 + i for i in range(3000) if (1000 + i) % 4 == 0]
    frame = pl.DataFrame({"list_id": [EVENT] * len(ids), "prospect_id": ids})
    config = job(sim, data_object="list_memberships", payload_location=location)
    result = export_to_pardot(frame, config, progress=False)
    assert result.ok and len(ids) == 750 and result.api_calls <= 20
    assert sim.state.members(EVENT) == set(ids)


@pytest.mark.email_alone
def test_lists_by_name_are_resolved_once_per_job(sim):
    sim.seed(lists=[{"id": 1202, "name": "Other"}, {"id": 1300, "name": "Newsletter"}])
    result = export_to_pardot(
        people(120), job(sim, prospect_lists="Newsletter, 1202", max_payload=3000), progress=False
    )
    assert result.ok and sim.state.calls_by_endpoint["list/query"] == 1  # one query per name, once
    assert sim.state.members(1300) == sim.state.members(1202) == set(sim.state.prospects)


def test_an_unknown_list_name_stops_the_job_before_any_row(sim):
    from pardot_frames import ConfigError

    with pytest.raises(ConfigError, match="no list is named 'Nope'"):
        export_to_pardot(people(5), job(sim, prospect_lists="Nope"), progress=False)
    assert not sim.state.prospects and sim.state.calls_by_endpoint["prospect/batchUpsert"] == 0


@pytest.mark.email_alone
def test_missing_lists_are_created_when_allowed_and_the_dry_run_shows_it(sim):
    config = job(sim, prospect_lists="Fresh list", create_missing_lists=True, payload_location="body")
    planned = dry_run(people(10), config).summary()
    assert planned["lists"] == {"Fresh list": "would be created"} and not sim.state.lists  # nothing created
    assert dry_run(people(10), config.replace(client_secret=None, refresh_token=None)).summary()["lists"] == {
        "Fresh list": "not checked (no credentials)"
    }
    result = export_to_pardot(people(10), config, progress=False)
    (created,) = sim.state.lists.values()
    assert (
        result.ok and created["name"] == "Fresh list" and sim.state.members(created["id"]) == set(sim.state.prospects)
    )
    again = export_to_pardot(people(10, "again"), config, progress=False)  # found by name now: not created twice
    assert again.ok and len(sim.state.lists) == 1 and len(sim.state.members(created["id"])) == 20


@pytest.mark.email_alone
def test_two_jobs_of_one_business_unit_share_five_calls_in_flight(sim, tmp_path):
    import asyncio

    from pardot_frames.engine.job.export import export_to_pardot_async

    sim.configure(latency=0.03, concurrency_limit=5)

    async def both():  # each job keeps its own state folder: the slots are the machine's, not the folder's
        return await asyncio.gather(
            *(
                export_to_pardot_async(
                    people(300, tag),
                    job(sim, parallel_tasks=5, max_payload=1200),
                    progress=False,
                    state_dir=tmp_path / tag,
                )  # fmt: skip
                for tag in ("j1-", "j2-")
            )
        )

    first, second = asyncio.run(both())
    assert first.ok and second.ok and len(sim.state.prospects) == 600
    assert sim.max_attempted_concurrency <= 5  # ten workers, never more than five calls out together
    assert sim.state.error_counts[66] == 0


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["prospects", "format", "x"]), st.text(max_size=80), min_size=1))
def test_a_multipart_form_built_whole_parses_back_to_its_fields(form):
    """Body mode builds the multipart body in one piece (one write per call): a MIME parser reads back every
    field exactly, whatever the values hold (CRLF, dashes, quotes, any plane)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    from pardot_frames.pardot.transport import multipart_form

    body, content_type = multipart_form(form)
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    parts = {
        part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
        for part in message.iter_parts()
    }
    assert parts == {name: value.encode() for name, value in form.items()}


@pytest.mark.email_alone
def test_body_mode_values_that_look_like_multipart_arrive_intact(sim):
    values = ["a\r\n--x--\r\nb", '"quoted" ; name="prospects"', "Zoë 李 🎉", "--" + "0" * 32]
    frame = pl.DataFrame({"email": [f"m{i}@example.com" for i in range(4)], "comments": values})
    result = export_to_pardot(frame, job(sim, payload_location="body"), progress=False)
    assert result.ok and sim.state.rows_by_call == [4]  # one batchUpsert call
    assert sorted(p["comments"] for p in sim.state.prospects.values()) == sorted(values)
