"""The export engine against the simulator over real HTTP: final Pardot state, not return codes."""

import asyncio

import polars as pl
import pytest
from conftest import job

from pardot_frames import ApiError, AuthError, JobFailed, export_to_pardot, plan, validate


def people(n, start=0, **extra):
    return pl.DataFrame(
        {
            "email": [f"p{i}@example.com" for i in range(start, start + n)],
            "first_name": [f"Zoë {i} & «co»" for i in range(start, start + n)],
            **extra,
        }
    )


@pytest.mark.email_alone
def test_prospects_created_with_list_add(sim):
    sim.seed(lists=[7])
    df = people(300)
    config = job(sim, prospect_lists="7", max_payload=3000)
    result = export_to_pardot(df, config, progress=False)
    assert (result.rows_in, result.succeeded, result.rejected.height) == (300, 300, 0)
    # the batches the plan packs, plus the one read of the account's custom fields and one of its recycle bin
    assert result.api_calls == plan(validate(df, config).payloads, config).calls + 2 == result.planned_calls
    assert len(sim.state.prospects) == 300
    by_email = {p["email"]: p for p in sim.state.prospects.values()}
    assert by_email["p42@example.com"]["first_name"] == "Zoë 42 & «co»"
    assert sim.state.members(7) == set(sim.state.prospects)
    assert max(sim.state.rows_by_call) <= 50


def test_updates_by_id_list_remove_and_row_errors(sim):
    sim.seed(lists=[3], prospects=[{"id": i, "email": f"o{i}@x.com"} for i in range(1, 6)])
    sim.seed(memberships=[{"list_id": 3, "prospect_id": i} for i in range(1, 6)])
    df = pl.DataFrame({"id": [1, 2, 99, 4], "score": [10, 20, 30, 40], "password": ["s1", "s2", "hunter2", "s4"]})
    result = export_to_pardot(df, job(sim, prospect_lists="3", prospect_list_operation="remove"), progress=False)
    assert (result.succeeded, result.rejected_pardot) == (3, 1)
    rejected = result.rejected.row(0, named=True)
    assert rejected["row_nr"] == 2 and rejected["stage"] == "pardot" and rejected["message"] == "Invalid prospect ID"
    assert rejected["password"] == "**********" and "hunter2" not in repr(result.rejected.to_dicts())
    assert [sim.state.prospects[i].get("score") for i in (1, 2, 3, 4)] == [10, 20, None, 40]
    assert sim.state.members(3) == {3, 5}


@pytest.mark.email_alone
def test_validation_rejects_are_reported_with_input_columns(sim):
    df = pl.DataFrame({"email": ["a@b.com", "broken", "c@d.com"], "company": ["A", "B", "C"]})
    result = export_to_pardot(df, job(sim), progress=False)
    assert (result.rejected_validation, result.succeeded) == (1, 2)
    assert result.rejected.select("row_nr", "stage", "company").row(0) == (1, "validation", "B")
    assert "email:" in result.rejected["message"][0]
    assert {p["email"] for p in sim.state.prospects.values()} == {"a@b.com", "c@d.com"}


@pytest.mark.parametrize("method, calls", [("single", 5 + 1), ("batch", 3 + 1)])  # + the recycle bin's read
def test_list_memberships_upsert_and_delete(sim, method, calls):
    sim.seed(lists=[1, 2], prospects=[{"id": i, "email": f"m{i}@x.com"} for i in (10, 11, 12)])
    sim.seed(memberships=[{"list_id": 1, "prospect_id": 10}])
    df = pl.DataFrame({"list_id": [1, 1, 2, 99, 1], "prospect_id": [10, 11, 12, 10, 404]})
    config = job(sim, data_object="list_memberships", list_membership_method=method)
    result = export_to_pardot(df, config, progress=False)
    # batch: one call for the 4 prospects, then prospect 10 (lists 1 and 99, "Invalid list ID") one by one
    assert result.api_calls == calls
    assert (result.succeeded, result.rejected_pardot) == (3, 2)
    assert result.notes == {"already a member (error 58), counted as done": 1}
    assert dict(zip(result.rejected["row_nr"], result.rejected["message"], strict=True)) == {
        3: "Invalid list ID",
        4: "Invalid prospect ID",
    }
    assert sim.state.members(1) == {10, 11} and sim.state.members(2) == {12}
    assert all(m["opted_out"] is False for m in sim.state.memberships.values())
    gone = pl.DataFrame({"list_id": [1, 2], "prospect_id": [10, 11]})
    result = export_to_pardot(gone, config.replace(list_membership_operation="delete"), progress=False)
    assert result.succeeded == 2
    if method == "single":  # batchUpsert ignores a redundant removal without saying so
        assert result.notes == {"not a member (error 109), counted as deleted": 1}
    assert sim.state.members(1) == {11}


@pytest.mark.email_alone
def test_414_splits_and_lowers_the_bound(sim):
    sim.configure(max_uri_length=1500)
    df = people(120, notes=["n" * 60] * 120).vstack(people(1, 500, notes=["x" * 2000]))
    result = export_to_pardot(df, job(sim, max_payload=5000), progress=False)
    assert result.succeeded == 120 and result.rejected_pardot == 1
    assert result.rejected["error_code"][0] == 414 and result.rejected["row_nr"][0] == 120
    # the bound bisects down: each split is one refused call; a few suffice, not one per batch
    assert result.extra["uri_splits"] == sim.state.status_counts[414] - 1 >= 1  # the lone long row's 414 is no split
    assert result.extra["uri_splits"] <= 8 and result.extra["final_max_payload"] < 1500
    assert len(sim.state.prospects) == 120 and result.retries == 0


@pytest.mark.parametrize("status", [400, 401])
@pytest.mark.email_alone
def test_token_expiry_mid_job_refreshes(sim, status):
    sim.configure(token_ttl_calls=3, err_184_status=status)
    result = export_to_pardot(people(400), job(sim, max_payload=2000, parallel_tasks=3), progress=False)
    assert result.succeeded == 400 and len(sim.state.prospects) == 400
    assert result.extra["token_refreshes"] >= 3 and sim.state.error_counts[184] >= 3


@pytest.mark.email_alone
def test_err_66_storm_lowers_concurrency_and_loses_nothing(sim):
    sim.configure(concurrency_limit=2, latency=0.02)
    result = export_to_pardot(people(500), job(sim, max_payload=1500, parallel_tasks=5), progress=False)
    assert result.succeeded == 500 and len(sim.state.prospects) == 500
    assert sim.state.error_counts[66] > 0 and result.extra["concurrency_lowered"] > 0
    assert sim.max_concurrency <= 2  # the simulator enforces its limit ...
    assert sim.max_attempted_concurrency <= 5  # ... and the client never tried more than parallel_tasks
    assert sim.state.error_counts[66] < result.api_calls / 2  # backing off: most calls went through


@pytest.mark.email_alone
def test_daily_limit_stops_and_reports_unsent_rows(sim):
    sim.configure(daily_limit=4)
    df = people(100)
    config = job(sim, max_payload=1000)
    result = export_to_pardot(df, config, progress=False)
    applied = len(sim.state.prospects)
    assert result.stopped and "122" in result.stopped
    assert result.succeeded == applied and result.not_sent == 100 - applied and applied > 0
    unsent = result.rejected.filter(pl.col("stage") == "not_sent")
    assert unsent.height == 100 - applied and set(unsent["error_code"]) == {122}
    sent = {p["email"] for p in sim.state.prospects.values()}
    assert sent.isdisjoint(set(unsent["email"]))


def test_upsert_by_email_never_duplicates_on_multi_email_accounts(sim):
    # two prospects for a@x.com: the email means the most recently active one (Pardot's matchEmail rule)
    sim.seed(prospects=[{"id": 1, "email": "a@x.com", "last_activity_at": "2026-05-01 10:00:00"},
                        {"id": 2, "email": "A@x.com"}, {"id": 3, "email": "b@x.com"}])  # fmt: skip
    df = pl.DataFrame(
        {
            "email": ["A@X.com", "b@x.com", "new@x.com", "NEW@x.com", "other@x.com"],
            "company": ["c1", "c2", "c3", "c4", "c5"],
        }
    )
    result = export_to_pardot(df, job(sim, upsert_by_email=True), progress=False)
    assert result.succeeded == 5
    state = sim.state
    assert len(state.prospects) == 5  # 3 seeded + new@ once + other@ once
    assert state.prospects[1]["company"] == "c1" and "company" not in state.prospects[2]
    assert state.prospects[3]["company"] == "c2"
    [new] = state.find_by_email("new@x.com")
    assert new["company"] == "c4"  # the second row for the email updated the first one's prospect
    assert result.extra["emails_matched"] >= 2


@pytest.mark.parametrize("method", ["batch", "import"])
def test_one_email_means_one_prospect_whatever_the_method(sim, method):
    """Between prospects with one email, both methods update the most recently active; with no activity
    to tell them apart, the newest (Pardot's own matchEmail rule, import-api.md 7)."""
    sim.seed(prospects=[{"id": 1, "email": "a@x.com"}, {"id": 2, "email": "a@x.com"},
                        {"id": 3, "email": "b@x.com", "last_activity_at": "2026-05-01 10:00:00"},
                        {"id": 4, "email": "b@x.com", "last_activity_at": "2026-01-01 10:00:00"}])  # fmt: skip
    frame = pl.DataFrame({"email": ["a@x.com", "b@x.com"], "company": ["A", "B"]})
    config = job(sim, upsert_by_email=True, method=method, import_campaign_id=1, import_poll_seconds=0.05)
    assert export_to_pardot(frame, config, progress=False).succeeded == 2
    held = {pid: p.get("company") for pid, p in sim.state.prospects.items()}
    assert held == {1: None, 2: "A", 3: "B", 4: None}


@pytest.mark.email_alone
def test_lost_responses_never_create_duplicates(sim):
    sim.configure(faults={"seed": 3, "lost": 0.3, "drop": 0.1})
    result = export_to_pardot(people(200), job(sim, max_payload=1500, maximum_retries=8), progress=False)
    emails = [p["email"] for p in sim.state.prospects.values()]
    assert result.succeeded == 200 and len(emails) == len(set(emails)) == 200
    assert sim.state.fault_counts["lost"] > 0 and result.extra["lookups"] > 0


@pytest.mark.email_alone
def test_5xx_and_183_are_retried(sim):
    sim.configure(faults={"seed": 5, "http_5xx": 0.2, "err_183": 0.2})
    result = export_to_pardot(people(200), job(sim, max_payload=1500, maximum_retries=10), progress=False)
    assert result.succeeded == 200 and len(sim.state.prospects) == 200 and result.retries > 0


@pytest.mark.email_alone
def test_retries_exhausted_reject_the_rows_or_fail_the_job(sim):
    sim.configure(faults={"http_5xx": 1.0})
    config = job(sim, maximum_retries=2, check_fields=False, check_deleted=False)  # every call fails: no setup read
    result = export_to_pardot(people(10), config, progress=False)
    # a 5xx may come after Pardot applied the call: the resend looks the emails up first, which fails too
    assert result.rejected_pardot == 10 and result.retries >= 2 and not sim.state.prospects
    assert sim.state.calls_by_endpoint["prospect/query"] >= 1
    assert "gave up after 2 retries: HTTP 50" in result.rejected["message"][0]
    with pytest.raises(JobFailed) as info:
        export_to_pardot(
            people(10),
            job(sim, maximum_retries=1, skip_invalid_records=False, check_fields=False, check_deleted=False),
            progress=False,
        )
    assert info.value.result.rejected_pardot == 10


@pytest.mark.email_alone
def test_fatal_errors_say_what_to_do_and_hide_secrets(sim):
    with pytest.raises(AuthError) as info:
        export_to_pardot(people(3), job(sim, refresh_token="wrong-SECRET-token"), progress=False)
    assert "invalid_grant" in str(info.value) and "new refresh token" in str(info.value)
    assert "SECRET" not in str(info.value)
    assert sim.pardot_calls == 0
    with pytest.raises(ApiError) as info:
        export_to_pardot(people(3), job(sim, business_unit="0Uv000000000002BBB"), progress=False)
    assert info.value.code == 201 and "pi.demo" in str(info.value)
    assert info.value.result.not_sent == 3 and not sim.state.prospects


def test_missing_credentials_and_bad_input_send_nothing(sim):
    from pardot_frames import ColumnError, ConfigError

    with pytest.raises(ConfigError, match="business_unit"):
        export_to_pardot(people(1), client_id="x", client_secret="y", refresh_token="z")
    with pytest.raises(ColumnError):
        export_to_pardot(pl.DataFrame({"Email": ["a@b.com"]}), job(sim))
    assert sim.pardot_calls == 0


@pytest.mark.email_alone
def test_works_inside_a_running_event_loop_and_as_pipe(sim):
    async def notebook_cell():
        return people(5).pipe(export_to_pardot, job(sim), progress=False)

    result = asyncio.run(notebook_cell())
    assert result.succeeded == 5 and len(sim.state.prospects) == 5
    assert "ExportResult(prospects): 5 of 5 row(s) applied" in repr(result)


@pytest.mark.email_alone
def test_parallel_tasks_above_five_warns_and_is_capped(sim):
    sim.configure(latency=0.02)
    with pytest.warns(UserWarning, match="at most 5 calls"):
        result = export_to_pardot(people(400), job(sim, max_payload=1200, parallel_tasks=8), progress=False)
    assert result.succeeded == 400 and 3 <= sim.max_concurrency <= 5 and sim.state.error_counts[66] == 0


def test_dry_run_counts_the_upsert_by_email_phases_and_lookups(sim):
    from pardot_frames import dry_run

    frame = pl.DataFrame(
        {"email": ["a@x.com", "b@x.com", "A@x.com", "c@x.com", "a@x.com"], "first_name": ["1", "2", "3", "4", "5"]}
    )
    config = job(sim, upsert_by_email=True)
    planned = dry_run(frame, config)
    # phase 0: a, b, c; phase 1: A; phase 2: a. The dry run read the account's size (empty): each phase's
    # lookup is one listing call, as the run makes it
    assert planned.summary()["lookup_calls"] == 1 + 1 + 1 and planned.summary()["lookups_exact"]
    assert planned.calls == 3 + 3  # the dry run read the fields itself: the run finds them cached
    result = export_to_pardot(frame, config, progress=False)
    assert result.api_calls == planned.calls  # the same phases, batches and lookups
    assert result.planned_calls == 3 + 8  # the run plans before its first lookup tells it the size: at most
    held = sorted((p["email"], p.get("first_name")) for p in sim.state.prospects.values())
    assert held == [("a@x.com", "5"), ("b@x.com", "2"), ("c@x.com", "4")]


def test_the_login_goes_while_the_input_is_read_and_an_input_error_still_comes_first(sim):
    """Start-up: Salesforce's login overlaps reading the input (no Pardot call goes before the input passed);
    with a broken input and bad credentials the input's error is the one reported."""
    import time

    import pyarrow as pa

    from pardot_frames import ColumnError

    seen = []

    def batches():
        yield pa.RecordBatch.from_pydict({"email": ["a0@example.com"]})
        deadline = time.monotonic() + 5  # the reader waits (at most 5 s) for the login to reach the server
        while not sim.state.calls_by_endpoint.get("oauth/token") and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append((sim.state.calls_by_endpoint.get("oauth/token", 0), sim.pardot_calls))
        yield pa.RecordBatch.from_pydict({"email": ["a1@example.com"]})

    schema = pa.schema([("email", pa.string())])
    reader = pa.RecordBatchReader.from_batches(schema, batches())
    result = export_to_pardot(reader, job(sim, upsert_by_email=True), progress=False, chunk_rows=1)
    assert seen == [(1, 0)]  # logged in while the input was read, before any Pardot call
    assert result.ok and {p["email"] for p in sim.state.prospects.values()} == {"a0@example.com", "a1@example.com"}

    calls = sim.pardot_calls
    with pytest.raises(ColumnError):
        export_to_pardot(pl.DataFrame({"Email": ["a@b.com"]}), job(sim, refresh_token="wrong"), progress=False)
    with pytest.raises(AuthError):
        export_to_pardot(pl.DataFrame({"email": ["a@b.com"]}), job(sim, refresh_token="wrong"), progress=False)
    assert sim.pardot_calls == calls


@pytest.mark.email_alone
def test_a_large_frames_first_calls_go_while_its_rest_is_checked(sim, monkeypatch):
    """skip_invalid_records: the first slice is checked and sent while the rest is checked (in a worker
    thread); strict: every row is checked before the first call, so a bad row in the rest sends nothing.
    (The thresholds are lowered here so the case stays small: 50,000 and 5,000 in use.)"""
    import time

    from pardot_frames.engine.job import pipeline
    from pardot_frames.prepare import frames

    monkeypatch.setattr(frames, "SLICED_FROM", 2_000)
    monkeypatch.setattr(frames, "FIRST_SLICE", 500)
    sliced_from = frames.SLICED_FROM

    checked_rest_at = []

    def slow_validate(chunk, *args, **kwargs):
        result = validate(chunk, *args, **kwargs)
        if kwargs.get("first_row"):  # the rest: slow enough for the first slice's calls to go meanwhile
            time.sleep(0.5)
            checked_rest_at.append(time.time())
        return result

    monkeypatch.setattr(pipeline, "validate", slow_validate)
    rows = sliced_from + 100
    frame = pl.DataFrame({"email": [f"s{i}@example.com" for i in range(rows)]}).with_columns(
        pl.when(pl.int_range(pl.len()) == rows - 3).then(pl.lit("not an email")).otherwise("email").alias("email")
    )
    settings = dict(payload_location="body", parallel_tasks=1, check_fields=False)  # the first call: batchUpsert
    result = export_to_pardot(frame, job(sim, **settings), progress=False)
    assert result.succeeded == rows - 1 and result.rejected_validation == 1 and len(sim.state.prospects) == rows - 1
    assert sim.snapshot()["first_call_at"] < checked_rest_at[0]  # a call went before the rest was checked

    sim.state.prospects.clear()
    from pardot_frames import ValidationFailed

    with pytest.raises(ValidationFailed):
        export_to_pardot(frame, job(sim, skip_invalid_records=False, **settings), progress=False)
    assert not sim.state.prospects
