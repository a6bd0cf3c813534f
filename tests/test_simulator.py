"""The simulator against the facts sheet: each status, error code, matching rule, limit and fault."""

import asyncio
import json
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simclient import V4, err, run

from pardot_frames.simulator import Simulator


def test_oauth_grants_and_errors():
    async def scenario(sim, raw):
        status, body = await raw.login()
        assert set(body) >= {"access_token", "signature", "instance_url", "id", "token_type", "issued_at", "scope"}
        assert "expires_in" not in body and "refresh_token" not in body
        assert await raw.login(refresh_token="nope") == (
            400,
            {"error": "invalid_grant", "error_description": "expired access/refresh token"},
        )
        assert (await raw.login(client_id="x"))[1]["error"] == "invalid_client_id"
        assert (await raw.login(client_secret="x"))[1]["error"] == "invalid_client"
        # authorization code flow: the code arrives URL-encoded in the redirect
        url = f"{sim.login_url}/services/oauth2/authorize?client_id={sim.config.client_id}&redirect_uri=http://localhost:8080&response_type=code"
        async with raw.session.get(url, allow_redirects=False) as r:
            assert r.status == 302
            location = r.headers["Location"]
        assert "%3D%3D" in location
        code = parse_qs(urlsplit(location).query)["code"][0]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": sim.config.client_id,
            "client_secret": sim.config.client_secret,
            "redirect_uri": "http://localhost:8080",
        }
        async with raw.session.post(sim.login_url + "/services/oauth2/token", data=form) as r:
            body = await r.json()
        assert r.status == 200 and body["refresh_token"] in sim.config.refresh_tokens
        async with raw.session.post(sim.login_url + "/services/oauth2/token", data=form) as r:
            assert (await r.json())["error"] == "invalid_grant"  # a code is good once
        assert (await raw.login(refresh_token=body["refresh_token"]))[0] == 200

    run(scenario)


def test_auth_errors_on_pardot_calls():
    async def scenario(sim, raw):
        path = f"{V4}/query?format=json"
        s, b = await raw.call("GET", path, headers={"Authorization": f"Bearer {raw.token}"})
        assert (s, err(b)) == (400, 181)
        s, b = await raw.call("GET", path, headers=raw.headers(**{"Pardot-Business-Unit-Id": "bogus"}))
        assert err(b) == 182
        s, b = await raw.call("GET", path, headers=raw.headers(**{"Pardot-Business-Unit-Id": "0Uv000000000009ZZZ"}))
        assert (s, err(b)) == (400, 201)
        statuses = []
        for _ in range(2):
            s, b = await raw.call("GET", path, headers=raw.headers(Authorization="Bearer wrong"))
            assert err(b) == 184 and b["err"].startswith("access_token is invalid")
            statuses.append(s)
        assert sorted(statuses) == [400, 401]  # alternating by default
        sim.configure(err_184_status=400)
        assert (await raw.call("GET", path, headers=raw.headers(Authorization="Bearer wrong")))[0] == 400
        assert (await raw.call("GET", path))[0] == 200

    run(scenario)


def test_tokens_expire_after_calls_and_revocation():
    async def scenario(sim, raw):
        path = f"{V4}/query?format=json"
        assert (await raw.call("GET", path))[0] == 200
        assert (await raw.call("GET", path))[0] == 200
        assert err((await raw.call("GET", path))[1]) == 184  # ttl 2 calls
        await raw.login()
        sim.configure(token_ttl_calls=None, faults={"revoke_at_call": sim.pardot_calls + 2})
        assert (await raw.call("GET", path))[0] == 200
        assert err((await raw.call("GET", path))[1]) == 184
        await raw.login()
        assert (await raw.call("GET", path))[0] == 200

    run(scenario, token_ttl_calls=2)


@pytest.mark.parametrize("how", ["query", "form", "multipart"])
def test_batch_upsert_matching_rules_and_row_errors(how):
    async def scenario(sim, raw):
        sim.seed(lists=[10, 11], prospects=[{"id": 5, "email": "old@x.com", "fid": "00Q1", "is_archived": True}])
        sim.seed(memberships=[{"list_id": 11, "prospect_id": 5}])
        rows = [
            {"email": "new@x.com", "first_name": "Zoë", "list_10": 1},  # creates
            {"id": 5, "last_name": "Updated", "list_11": 0},  # updates by id, unarchives, leaves list 11
            {"id": 999},  # unknown id: row error
            {"email": "not an email"},  # row error
            {"fid": "00Q1", "city": ""},  # update by fid; "" clears
            {"email": "new@x.com"},  # email only: a second prospect (duplicates allowed)
            {"id": 5, "score": "abc"},  # invalid number
        ]
        status, body = await raw.upsert(rows, how)
        assert status == 201
        assert body["@attributes"]["stat"] == "fail"
        assert body["errors"] == {
            "2": "Invalid prospect ID",
            "3": "Invalid prospect email address",
            "6": "Invalid number for score",
        }
        assert len(sim.state.find_by_email("NEW@x.com")) == 2
        p5 = sim.state.prospects[5]
        assert p5["last_name"] == "Updated" and p5["is_archived"] is False and p5["city"] is None
        new = sim.state.find_by_email("new@x.com")[0]
        assert new["first_name"] == "Zoë" and sim.state.members(10) == {new["id"]} and sim.state.members(11) == set()
        status, body = await raw.upsert([{"id": 5, "first_name": "A"}], how)
        assert status == 200 and body == {"@attributes": {"stat": "ok", "version": 1}, "errors": {}}

    run(scenario)


def test_one_prospect_per_email_accounts_update_the_match():
    async def scenario(sim, raw):
        sim.seed(prospects=[{"id": 7, "email": "Ann@x.com"}])
        status, _ = await raw.upsert([{"email": "ann@X.com", "company": "Acme"}])
        assert status == 200 and len(sim.state.prospects) == 1 and sim.state.prospects[7]["company"] == "Acme"

    run(scenario, one_prospect_per_email=True)


def test_whole_call_errors_70_71_90_and_raw_json():
    async def scenario(sim, raw):
        s, b = await raw.upsert([{"email": f"u{i}@x.com"} for i in range(51)])
        assert (s, err(b)) == (400, 70) and not sim.state.prospects
        s, b = await raw.call("POST", f"{V4}/batchUpsert?format=json&prospects=%7Bnot%20json")
        assert err(b) == 71
        s, b = await raw.call("POST", f"{V4}/batchUpsert?format=json", json={"prospects": [{"email": "a@b.co"}]})
        assert err(b) == 71  # a raw JSON body is refused
        assert err((await raw.upsert([{"email": "a@b.co", "nested": {"x": 1}}]))[1]) == 90
        assert err((await raw.upsert({"5": {"email": "a@b.co"}}))[1]) == 90
        assert not sim.state.prospects

    run(scenario)


def test_read_and_query_by_email_return_every_match():
    async def scenario(sim, raw):
        sim.seed(
            prospects=[{"id": 1, "email": "a@x.com"}, {"id": 2, "email": "A@x.com"}, {"id": 3, "email": "b@x.com"}]
        )
        s, b = await raw.call("GET", f"{V4}/read/email/a@x.com?format=json")
        assert s == 200 and [p["id"] for p in b["prospect"]] == [1, 2]
        s, b = await raw.call("GET", f"{V4}/read/email/b@x.com?format=json")
        assert b["prospect"]["id"] == 3  # a single match is an object, not a list
        s, b = await raw.call("GET", f"{V4}/read/id/3?format=json")
        assert b["prospect"]["email"] == "b@x.com"
        assert err((await raw.call("GET", f"{V4}/read/id/9?format=json"))[1]) == 3
        assert err((await raw.call("GET", f"{V4}/read/email/zz@x.com?format=json"))[1]) == 4
        s, b = await raw.call("GET", f"{V4}/query?format=json&email=a@x.com")
        assert b["result"]["total_results"] == 2
        s, b = await raw.call("GET", f"{V4}/query?format=json&email=none@x.com")
        assert b["result"] == {"total_results": 0}

    run(scenario)


def test_list_memberships_v4_and_v5():
    async def scenario(sim, raw):
        sim.seed(lists=[20], prospects=[{"id": 1, "email": "a@x.com"}])
        base = "/api/listMembership/version/4/do"
        s, b = await raw.call("POST", f"{base}/create/list_id/20/prospect_id/1?format=json")
        assert s == 200 and b["list_membership"]["opted_out"] is False
        assert err((await raw.call("POST", f"{base}/create/list_id/20/prospect_id/1?format=json"))[1]) == 58
        assert err((await raw.call("POST", f"{base}/create/list_id/99/prospect_id/1?format=json"))[1]) == 55
        assert err((await raw.call("POST", f"{base}/create/list_id/20/prospect_id/99?format=json"))[1]) == 3
        s, b = await raw.call("POST", f"{base}/update/list_id/20/prospect_id/1?format=json&opted_out=1")
        assert b["list_membership"]["opted_out"] is True
        assert (await raw.call("POST", f"{base}/delete/list_id/20/prospect_id/1?format=json"))[0] == 204
        assert err((await raw.call("POST", f"{base}/delete/list_id/20/prospect_id/1?format=json"))[1]) == 109
        assert err((await raw.call("GET", f"{base}/read/list_id/20/prospect_id/1?format=json"))[1]) == 109
        s, b = await raw.call("POST", "/api/v5/objects/list-memberships", json={"listId": 20, "prospectId": 1})
        assert s == 201 and b["listId"] == 20 and sim.state.members(20) == {1}
        s, b = await raw.call("POST", "/api/v5/objects/list-memberships", json={"listId": 20, "prospectId": 1})
        assert (s, b["code"]) == (400, 58)
        assert (await raw.call("DELETE", f"/api/v5/objects/list-memberships/{sim.state.memberships[(20, 1)]['id']}"))[
            0
        ] == 204
        assert sim.state.members(20) == set()
        assert (await raw.call("DELETE", "/api/v5/objects/list-memberships/123456"))[0] == 404

    run(scenario)


def test_concurrent_limit_err_66_and_max_concurrency():
    async def scenario(sim, raw):
        results = await asyncio.gather(*[raw.call("GET", f"{V4}/query?format=json") for _ in range(8)])
        codes = sorted(err(b) or 0 for _, b in results)
        assert codes.count(66) == 6 and codes.count(0) == 2
        assert sim.max_concurrency == 2

    run(scenario, concurrency_limit=2, latency=0.2)


def test_daily_limit_err_122_and_lifting_it():
    async def scenario(sim, raw):
        for _ in range(3):
            assert (await raw.call("GET", f"{V4}/query?format=json"))[0] == 200
        assert err((await raw.call("GET", f"{V4}/query?format=json"))[1]) == 122
        async with raw.session.patch(sim.base_url + "/__sim__/config", json={"daily_limit": None}) as r:
            assert r.status == 200
        assert (await raw.call("GET", f"{V4}/query?format=json"))[0] == 200

    run(scenario, daily_limit=3)


def test_uri_length_414():
    async def scenario(sim, raw):
        long_row = [{"email": "a@b.co", "notes": "x" * 900}]
        s, b = await raw.upsert(long_row)
        assert s == 414 and not sim.state.prospects
        s, b = await raw.upsert(long_row, "form")  # the body is not bounded by the URI
        assert s == 201 and len(sim.state.prospects) == 1

    run(scenario, max_uri_length=800)


def test_faults_are_seeded_and_lost_responses_are_applied():
    async def fate(sim, raw):
        out = []
        for i in range(40):
            try:
                s, b = await raw.upsert([{"email": f"u{i}@x.com"}])
                out.append(err(b) or s)
            except aiohttp.ClientError:
                out.append("dropped")
        return out, len(sim.state.prospects), dict(sim.state.fault_counts)

    settings = dict(faults={"seed": 7, "http_5xx": 0.1, "err_183": 0.1, "drop": 0.1, "lost": 0.1})
    first = run(fate, **settings)
    second = run(fate, **settings)
    assert first == second  # reproducible
    outcomes, applied, faults = first
    assert {500, 502, 503} & set(outcomes) and 183 in outcomes and "dropped" in outcomes
    ok = sum(1 for o in outcomes if o in (200, 201))
    assert applied == ok + faults["lost"]  # lost responses were applied, dropped ones were not
    assert faults["lost"] > 0 and faults["drop"] > 0


def test_slow_responses_and_latency():
    async def scenario(sim, raw):
        loop = asyncio.get_running_loop()
        start = loop.time()
        await raw.call("GET", f"{V4}/query?format=json")
        return loop.time() - start

    assert run(scenario, latency=0.05, faults={"slow": 1.0, "slow_seconds": 0.2}) >= 0.25


def test_state_endpoint_and_seed_endpoint():
    async def scenario(sim, raw):
        async with raw.session.post(sim.base_url + "/__sim__/seed", json={"lists": [{"id": 3, "name": "VIP"}]}) as r:
            assert r.status == 200
        await raw.upsert([{"email": "a@b.co", "list_3": 1}])
        await raw.call("GET", f"{V4}/read/id/424242?format=json")
        async with raw.session.get(sim.base_url + "/__sim__/state") as r:
            state = await r.json()
        assert state["lists"][0]["name"] == "VIP" and state["memberships"][0]["list_id"] == 3
        assert state["calls_by_endpoint"]["prospect/batchUpsert"] == 1
        assert state["status_counts"]["201"] == 1 and state["error_counts"]["3"] == 1
        assert state["max_concurrency"] == 1 and json.dumps(state)
        async with raw.session.patch(sim.base_url + "/__sim__/config", json={"no_such": 1}) as r:
            assert r.status == 400

    run(scenario)


def test_threaded_simulator_serves_sync_code():
    sim = Simulator()
    with sim.run_in_thread() as running:

        async def ping():
            async with aiohttp.ClientSession() as s, s.get(running.base_url + "/__sim__/state") as r:
                return r.status

        assert asyncio.run(ping()) == 200
        assert running.port > 0


def test_command_line_simulator_with_seed_file(tmp_path):
    import subprocess
    import sys
    import urllib.request

    from netutil import free_port

    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"lists": [{"id": 9, "name": "VIP"}], "prospects": [{"id": 77, "email": "s@x.com"}]}))
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pardot_frames.cli",
            "simulator",
            "--port",
            str(port),
            "--seed",
            str(seed),
            "--daily-limit",
            "10",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        banner = ""
        while "Ctrl-C" not in banner:
            banner += server.stdout.readline()
        assert f'login_url = "http://127.0.0.1:{port}"' in banner and 'client_secret = "sim-client-secret"' in banner
        state = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/__sim__/state").read())
        assert state["lists"][0]["name"] == "VIP" and state["prospects"][0]["id"] == 77
        assert state["config"]["daily_limit"] == 10
    finally:
        server.terminate()
        server.communicate(timeout=10)


def test_the_latency_setting_is_kept_never_answering_early():
    """latency is when the answer leaves, the work included; the simulator wakes early by what it learnt of
    the event loop's timer (at most 2 ms), so no answer comes sooner than latency - 2 ms."""
    import time

    async def scenario(sim, raw):
        took = []
        for i in range(12):
            start = time.perf_counter()
            status, _ = await raw.upsert([{"email": f"t{i}@example.com"}])
            took.append(time.perf_counter() - start)
            assert status == 201
        return took, sim._app.runtime.lateness

    took, lateness = run(scenario, latency=0.03)
    assert min(took) >= 0.03 - 0.002 and 0 <= lateness <= 0.002


def test_a_v4_id_range_query_answers_without_a_scan_what_a_scan_would():
    """The id range a reader of array fields asks (id_greater_than and id_less_than) comes from the sorted ids;
    the same criteria with a sort the fast path does not take give the same records."""
    from pardot_frames.simulator import PardotState

    state = PardotState()
    for pid in (3, 5, 8, 13, 21, 34, 55, 89):
        state.add_prospect(id=pid, email=f"p{pid}@x.com")
    for low, high, limit in ((0, 100, 200), (5, 55, 2), (8, 9, 200), (89, 100, 200), (13, 13, 200)):
        params = {"id_greater_than": str(low), "id_less_than": str(high), "limit": str(limit)}
        total, fast = state.query_prospects(params)
        slow_total, slow = state.query_prospects({**params, "sort_by": "created_at", "sort_order": "ascending"})
        assert total == slow_total and [p["id"] for p in fast] == sorted(p["id"] for p in slow)[:limit]


def test_a_v5_id_ordered_query_answers_from_the_index_what_a_full_sort_would():
    """``orderBy=id asc`` and ``id desc`` (a reader's highest-id call) bisect the sorted ids from either end; with
    bounds, a time filter and a short page they give what sorting every record gives."""
    from pardot_frames.simulator import PardotState
    from pardot_frames.simulator.config import SimConfig
    from pardot_frames.simulator.v5 import V5

    state = PardotState()
    for pid in (3, 5, 8, 13, 21, 34, 55, 89):
        state.add_prospect(id=pid, email=f"p{pid}@x.com", updated_at=f"2026-01-{pid % 28 + 1:02d}T00:00:00+00:00")
    v5 = V5(state, SimConfig)
    cases = [{}, {"idGreaterThan": "5", "idLessThan": "55"}, {"idGreaterThan": "89"}, {"idLessThan": "4"},
             {"updatedAtAfter": "2026-01-09T00:00:00+00:00"},
             {"idGreaterThan": "8", "updatedAtBefore": "2026-01-25T00:00:00+00:00"}]  # fmt: skip
    for bounds in cases:
        for order, limit in (("id asc", 200), ("id desc", 200), ("id desc", 1), ("id asc", 2)):
            query = {**bounds, "orderBy": order}
            fast = [r["id"] for r in v5._by_id("prospects", query, limit, order == "id desc")][:limit]
            slow = [r["id"] for r in v5._found("prospects", query)][:limit]
            assert fast == slow, (query, limit)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_page_shapes_a_record_holding_few_fields_as_one_holding_them_all(data):
    """The shaper fills a copy of the empty record from the keys a sparse record holds; padded with keys no field
    reads (so it takes the name-by-name way), the same record shapes the same: names, order, values, times."""
    from pardot_frames.simulator.v5_fields import OBJECT_FIELDS, shaper, snake

    fields = data.draw(st.lists(st.sampled_from(OBJECT_FIELDS["prospects"]), min_size=1, unique=True))
    held = data.draw(st.lists(st.sampled_from(fields), unique=True))
    values = st.none() | st.text(max_size=5) | st.integers() | st.just("2026-01-02 03:04:05")
    record = {snake(f): data.draw(values) for f in held}
    one = shaper(fields, {}, "-07:00")
    padded = {**record, **{f"unread_{i}": i for i in range(len(fields) + 1)}}
    sparse, full = one(record, False), one(padded, False)
    assert list(sparse) == list(full) == fields and sparse == full
