"""Answers real Pardot gives that the happy path never sees (issue #10, items 1-7): each either ends
with the rows applied exactly once in Pardot, or reported; none counts an unapplied row as applied."""

import asyncio

import orjson
import polars as pl
import pytest
from conftest import job
from scripted import CONFIG, ScriptedTransport, v4

from pardot_frames import AuthError, ExportConfig, export_to_pardot
from pardot_frames.config import profiles
from pardot_frames.engine.job.export import export_to_pardot_async
from pardot_frames.pardot.transport import Answer, NoAnswer

HTML = Answer(200, "<html><body>Down for maintenance</body></html>", {"Content-Type": "text/html"})
NO_PROSPECTS = v4(200, result={"total_results": 0})


def run(frame, transport, **overrides):
    config = ExportConfig(**{**CONFIG, **overrides})
    return asyncio.run(export_to_pardot_async(frame, config, progress=False, journal=False, transport=transport))


def emails(n, tag="u"):
    return pl.DataFrame({"email": [f"{tag}{i}@example.com" for i in range(n)], "first_name": ["Zoë"] * n})


@pytest.mark.parametrize("body", ["<html>maintenance</html>", "", "<?xml version='1.0'?><rsp stat='ok'/>", "{}"])
@pytest.mark.email_alone
def test_a_2xx_that_is_not_pardot_json_is_never_a_success(body):
    transport = ScriptedTransport(lambda sent: Answer(200, body, {}) if "batchUpsert" in sent.path else NO_PROSPECTS)
    result = run(emails(5), transport, maximum_retries=2)
    assert result.succeeded == 0 and result.rejected_pardot == 5
    assert "not Pardot's" in result.rejected["message"][0]


@pytest.mark.email_alone
def test_an_html_200_is_an_unknown_outcome_resent_after_a_lookup():
    def answer(sent):
        upserts = [s for s in transport.sent if "batchUpsert" in s.path]
        if "batchUpsert" in sent.path:
            return HTML if len(upserts) == 1 else v4(200)
        return NO_PROSPECTS

    transport = ScriptedTransport(answer)
    result = run(emails(5), transport)
    assert result.ok and result.retries == 1
    kinds = ["upsert" if "batchUpsert" in s.path else "lookup" for s in transport.sent]
    assert kinds == ["upsert", "lookup", "upsert"]  # the emails were looked up before the resend


@pytest.mark.email_alone
def test_502_after_the_call_was_applied_creates_no_duplicate(sim):
    sim.configure(faults={"seed": 7, "gateway_5xx": 0.4})
    frame = emails(120, "g")
    result = export_to_pardot(frame, job(sim, parallel_tasks=3, max_payload=1500, maximum_retries=8), progress=False)
    assert result.ok, result.rejected
    assert sim.state.fault_counts["gateway_5xx"] > 0
    held = [p["email"] for p in sim.state.prospects.values()]
    assert sorted(held) == sorted(frame["email"].to_list())  # one prospect per email: no duplicate


@pytest.mark.email_alone
def test_proxy_html_answers_never_count_as_applied(sim):
    sim.configure(faults={"seed": 3, "proxy_html": 0.5})
    frame = emails(80, "h")
    result = export_to_pardot(frame, job(sim, max_payload=1500, maximum_retries=10), progress=False)
    assert sim.state.fault_counts["proxy_html"] > 0
    held = sorted(p["email"] for p in sim.state.prospects.values())
    assert result.ok and held == sorted(frame["email"].to_list())


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.email_alone
def test_429_and_503_wait_as_told_then_retry(status):
    def answer(sent):
        if "batchUpsert" not in sent.path:
            return NO_PROSPECTS  # a 503 may come after the work was done: email-only rows are looked up
        first = len(transport.sent) == 1
        return Answer(status, "slow down", {"Retry-After": "0.2"}) if first else v4(200)

    transport = ScriptedTransport(answer)
    result = run(emails(3), transport, maximum_retry_wait=5, initial_retry_wait=0.001)
    assert result.ok and result.retries == 1
    upserts = [s for s in transport.sent if "batchUpsert" in s.path]
    assert upserts[-1].at - upserts[0].at >= 0.19  # waited the server's 0.2 s, not the 1 ms backoff


@pytest.mark.email_alone
def test_retry_after_is_bounded_by_maximum_retry_wait():
    transport = ScriptedTransport(
        lambda sent: Answer(429, "", {"Retry-After": "3600"}) if len(transport.sent) == 1 else v4(200)
    )
    result = run(emails(2), transport, maximum_retry_wait=0.05)
    assert result.ok and transport.sent[1].at - transport.sent[0].at < 1


@pytest.mark.email_alone
def test_html_400_for_a_long_uri_is_split_like_414(sim):
    sim.configure(max_uri_length=2500, uri_too_long_status=400)
    frame = emails(60, "l").with_columns(pl.lit("x" * 150).alias("comments"))
    result = export_to_pardot(frame, job(sim, max_payload=6000), progress=False)
    assert result.ok and result.extra["uri_splits"] >= 1
    assert sim.state.status_counts[400] >= 1
    assert sorted(p["email"] for p in sim.state.prospects.values()) == sorted(frame["email"].to_list())
    assert all(p["comments"] == "x" * 150 for p in sim.state.prospects.values())


def test_a_failed_email_lookup_never_creates_a_prospect():
    def answer(sent):
        if "batchUpsert" in sent.path:
            return v4(200)
        return v4(400, err_code=15, err="Login failed")  # any lookup failure but "no such email"

    transport = ScriptedTransport(answer)
    result = run(emails(4), transport, upsert_by_email=True)
    assert result.succeeded == 0 and result.rejected_pardot == 4
    assert not [s for s in transport.sent if "batchUpsert" in s.path]  # nothing created
    assert "email lookup" in result.rejected["message"][0]


def test_only_error_4_means_no_prospect_has_the_email(sim):
    sim.seed(prospects=[{"id": 501, "email": "known@example.com", "first_name": "Old"}])
    frame = pl.DataFrame({"email": ["known@example.com", "new@example.com"], "first_name": ["New", "Fresh"]})
    result = export_to_pardot(frame, job(sim, upsert_by_email=True), progress=False)
    assert result.ok
    held = {p["email"]: (p["id"], p["first_name"]) for p in sim.state.prospects.values()}
    assert held["known@example.com"] == (501, "New") and held["new@example.com"][1] == "Fresh"


@pytest.mark.email_alone
def test_a_rotated_refresh_token_is_used_and_saved(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("PARDOT_FRAMES_HOME", str(tmp_path))
    creds = sim.credentials
    profiles.save("rot", {k: creds[k] for k in ("client_id", "client_secret", "refresh_token", "login_url")})
    sim.configure(rotate_refresh_token=True, token_ttl_calls=2)  # several logins within the job
    config = job(sim, auth="rot", max_payload=1500)
    result = export_to_pardot(emails(100, "r"), config, progress=False)
    assert result.ok and result.extra["token_refreshes"] >= 2
    saved = profiles.load("rot")["refresh_token"]
    assert saved != creds["refresh_token"] and saved in sim.config.refresh_tokens
    assert creds["refresh_token"] not in sim.config.refresh_tokens  # the old one is dead ...
    again = export_to_pardot(emails(3, "again"), job(sim, auth="rot"), progress=False)  # ... the next run logs in
    assert again.ok and len(sim.state.prospects) == 103


@pytest.mark.email_alone
def test_transient_login_failures_are_retried():
    answers = [Answer(503, "busy", {}), NoAnswer("no answer", True), None]

    def login(n):
        reply = answers[n - 1]
        return reply if reply is not None else Answer(200, orjson.dumps({"access_token": "at-2"}).decode(), {})

    transport = ScriptedTransport(lambda sent: v4(200), login=login)
    result = run(emails(2), transport)
    assert result.ok and transport.logins == 3
    assert transport.sent[0].headers["Authorization"] == "Bearer at-2"


def test_a_login_that_keeps_failing_says_so():
    transport = ScriptedTransport(lambda sent: v4(200), login=lambda n: Answer(502, "bad gateway", {}))
    with pytest.raises(AuthError, match="cannot log in"):
        run(emails(2), transport, maximum_retries=2)
    assert transport.logins == 3 and not transport.sent
