"""The simulator on the wire as other Pardot clients use it (facts 8 and 9; issue #20): content type, the
token endpoint's ways of taking credentials, 184's two texts, v4 criteria and paging, parameters in a form
body, the single-record operations, unknown paths, v5 object reads and the seed endpoint's errors."""

import base64

from simclient import run

P4, L4, M4, C4 = (f"/api/{o}/version/4/do" for o in ("prospect", "list", "listMembership", "customField"))


async def headers_of(raw, method, path, **kwargs):
    async with raw.session.request(method, raw.sim.pardot_domain + path, headers=raw.headers(), **kwargs) as r:
        await r.read()
        return r.status, r.headers.get("Content-Type")


def test_json_answers_say_application_json_exactly():
    async def scenario(sim, raw):
        sim.seed(prospects=[{"id": 5, "email": "a@x.com"}])
        for method, path in [("GET", f"{P4}/read/id/5?format=json"), ("GET", f"{P4}/read/id/9?format=json"),
                             ("GET", "/api/v5/objects/prospects?fields=id"), ("GET", "/api/nothing/here")]:  # fmt: skip
            _, ctype = await headers_of(raw, method, path)
            assert ctype == "application/json", (path, ctype)
        async with raw.session.post(sim.login_url + "/services/oauth2/token", data={"grant_type": "x"}) as r:
            assert r.headers["Content-Type"] == "application/json"

    run(scenario)


def test_the_token_endpoint_takes_basic_credentials_and_query_parameters():
    async def scenario(sim, raw):
        c = sim.credentials
        basic = base64.b64encode(f"{c['client_id']}:{c['client_secret']}".encode()).decode()
        url = f"{sim.login_url}/services/oauth2/token?grant_type=refresh_token&refresh_token={c['refresh_token']}"
        async with raw.session.post(url, headers={"Authorization": f"Basic {basic}"}) as r:
            assert r.status == 200 and (await r.json())["access_token"].startswith("sim-at-")
        wrong = base64.b64encode(f"{c['client_id']}:nope".encode()).decode()
        async with raw.session.post(url, headers={"Authorization": f"Basic {wrong}"}) as r:
            assert r.status == 401 and (await r.json())["error"] == "invalid_client"

    run(scenario)


def test_184_is_bare_for_a_token_never_issued_and_suffixed_for_one_that_died():
    async def scenario(sim, raw):
        status, body = await raw.call("GET", f"{P4}/query?format=json", headers=raw.headers(Authorization="Bearer x"))
        assert body["err"] == "access_token is invalid, unknown, or malformed"
        sim.configure(faults={"revoke_at_call": sim.pardot_calls + 1})
        await raw.call("GET", f"{P4}/query?format=json")
        status, body = await raw.call("GET", f"{P4}/query?format=json")
        assert body["err"] == "access_token is invalid, unknown, or malformed: Inactive token"

    run(scenario)


def test_v4_queries_honour_their_criteria_and_a_reader_ends_with_each_record_once():
    async def scenario(sim, raw):
        times = [f"2026-01-{1 + i // 60:02d} 10:{i % 60:02d}:00" for i in range(450)]
        sim.seed(prospects=[{"id": 100 + i, "email": f"p{i}@x.com", "updated_at": times[i],
                             "created_at": "2025-12-01 00:00:00"} for i in range(450)])  # fmt: skip
        status, body = await raw.call("GET", f"{P4}/query?format=json&limit=500")
        assert body["result"]["total_results"] == 450 and len(body["result"]["prospect"]) == 200  # at most 200
        _, body = await raw.call("GET", f"{P4}/query?format=json&sort_by=id&sort_order=descending&limit=3&offset=1")
        assert [p["id"] for p in body["result"]["prospect"]] == [548, 547, 546]
        _, body = await raw.call("GET", f"{P4}/query?format=json&id_greater_than=540&id_less_than=545")
        assert [p["id"] for p in body["result"]["prospect"]] == [541, 542, 543, 544]
        _, body = await raw.call("GET", f"{P4}/query?format=json&created_after=2026-01-01")
        assert body["result"]["total_results"] == 0
        seen, after = [], "2025-01-01"  # a reader's loop: updated_after = the last updated_at, until empty
        for _ in range(50):
            _, body = await raw.call("GET", f"{P4}/query?format=json&sort_by=updated_at&sort_order=ascending"
                                            f"&updated_after={after.replace(' ', '%20')}")  # fmt: skip
            page = body["result"].get("prospect", [])
            page = page if isinstance(page, list) else [page]
            if not page:
                break
            seen += [p["id"] for p in page]
            after = page[-1]["updated_at"]
        assert sorted(seen) == list(range(100, 550))  # it ended, each record once

    run(scenario)


def test_parameters_in_a_form_body_count_like_the_query_string():
    async def scenario(sim, raw):
        sim.seed(lists=[7], prospects=[{"id": 5, "email": "a@x.com"}], memberships=[{"list_id": 7, "prospect_id": 5}])
        status, body = await raw.call("POST", f"{M4}/update/list_id/7/prospect_id/5?format=json",
                                      data={"opted_out": "1"})  # fmt: skip
        assert status == 200 and body["list_membership"]["opted_out"] is True
        assert sim.state.memberships[(7, 5)]["opted_out"] is True
        status, body = await raw.call("POST", f"{P4}/update/id/5?format=json", data={"company": "Body Co"})
        assert status == 200 and sim.state.prospects[5]["company"] == "Body Co"
        _, body = await raw.call("POST", f"{L4}/query?format=json", data={"name": "List 7"})
        assert body["result"]["total_results"] == 1

    run(scenario)


def test_single_record_operations_on_prospects_lists_memberships_and_fields():
    async def scenario(sim, raw):
        sim.seed(
            lists=[{"id": 7, "name": "Old"}],
            custom_fields=[{"field_id": "colour", "type": "Text"}],
            prospects=[{"id": 50, "email": "crm@x.com", "fid": "F1"}],
        )
        status, body = await raw.call("POST", f"{P4}/create/email/new@x.com?format=json&first_name=Ann")
        pid = body["prospect"]["id"]
        assert status == 200 and sim.state.prospects[pid]["first_name"] == "Ann"
        await raw.call("POST", f"{P4}/update/email/new@x.com?format=json&company=Acme")
        await raw.call("POST", f"{P4}/upsert/fid/F1?format=json&company=CRM")
        await raw.call("POST", f"{P4}/upsert/email/other@x.com?format=json&city=Oslo")  # creates
        _, body = await raw.call("GET", f"{P4}/read/id/{pid}?format=json")
        assert body["prospect"]["company"] == "Acme" and body["prospect"]["first_name"] == "Ann"
        _, body = await raw.call("GET", f"{P4}/read/fid/F1?format=json")
        assert body["prospect"]["id"] == 50 and body["prospect"]["company"] == "CRM"
        assert len(sim.state.prospects) == 3
        _, body = await raw.call("POST", f"{L4}/update/id/7?format=json&name=New&title=Shown")
        assert sim.state.lists[7]["name"] == "New" and body["list"]["title"] == "Shown"
        _, body = await raw.call("GET", f"{L4}/read/id/7?format=json")
        assert body["list"]["name"] == "New"
        _, body = await raw.call("POST", f"{M4}/create/list_id/7/prospect_id/{pid}?format=json")
        mid = body["list_membership"]["id"]
        _, body = await raw.call("POST", f"{M4}/update/id/{mid}?format=json&opted_out=true")
        assert body["list_membership"]["opted_out"] is True
        assert (await raw.call("POST", f"{M4}/delete/id/{mid}?format=json"))[0] == 204
        assert (7, pid) not in sim.state.memberships
        field_id = sim.state.custom_fields["colour"]["id"]
        _, body = await raw.call("GET", f"{C4}/read/id/{field_id}?format=json")
        assert body["customField"]["field_id"] == "colour"
        assert (await raw.call("POST", f"{P4}/delete/email/new@x.com?format=json"))[0] == 204
        assert pid not in sim.state.prospects
        status, body = await raw.call("GET", "/api/nothing/version/4/do/anything?format=json")
        assert status == 400 and body["@attributes"]["err_code"] == 2  # a Pardot error body, never plain text

    run(scenario)


def test_v5_object_reads_need_fields_and_page_with_a_token():
    async def scenario(sim, raw):
        sim.seed(prospects=[{"id": 100 + i, "email": f"p{i}@x.com", "first_name": "F"} for i in range(450)])
        status, body = await raw.call("GET", "/api/v5/objects/prospects")
        assert status == 400 and body == {"code": 13, "message": "One or more required parameters are missing: fields"}
        status, body = await raw.call("GET", "/api/v5/objects/prospects?fields=id,nope")
        assert status == 400 and body["code"] == 51 and "nope" in body["message"]
        seen, url = [], "/api/v5/objects/prospects?fields=id,email,firstName&limit=200&orderBy=id%20asc"
        for _ in range(10):
            status, body = await raw.call("GET", url)
            seen += [v["id"] for v in body["values"]]
            if not body["nextPageToken"]:
                break
            url = f"/api/v5/objects/prospects?nextPageToken={body['nextPageToken']}&fields=id,email,firstName"
        assert seen == list(range(100, 550)) and body["values"][-1]["firstName"] == "F"
        _, body = await raw.call("GET", "/api/v5/objects/prospects?fields=id&idGreaterThan=540&limit=5000")
        assert [v["id"] for v in body["values"]] == list(range(541, 550))
        _, body = await raw.call("GET", "/api/v5/objects/prospects/123?fields=id,email")
        assert body == {"id": 123, "email": "p23@x.com"}

    run(scenario)


def test_bad_seed_and_config_input_answers_400_with_what_is_wrong():
    async def scenario(sim, raw):
        async with raw.session.post(sim.pardot_domain + "/__sim__/seed", json={"lists": [{"name": "No id"}]}) as r:
            assert r.status == 200 and any(x["name"] == "No id" for x in sim.state.lists.values())
        async with raw.session.post(sim.pardot_domain + "/__sim__/seed", json={"memberships": [{"list_id": 1}]}) as r:
            assert r.status == 400 and "prospect_id" in (await r.json())["error"]
        async with raw.session.post(sim.pardot_domain + "/__sim__/seed", json=[1, 2]) as r:
            assert r.status == 400
        async with raw.session.patch(sim.pardot_domain + "/__sim__/config", json={"nope": 1}) as r:
            assert r.status == 400 and "nope" in (await r.json())["error"]

    run(scenario)
