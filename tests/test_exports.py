"""Reading through the Export API (``pardot-export-api.md``): the same typed frame as a query read, 1 + polls +
files calls, a stopped read picks its export up, and the simulator refuses what the sheet says Pardot refuses."""

import asyncio

import pytest

import pardot_frames as pf
from pardot_frames.engine.read import plan
from pardot_frames.engine.state import reads
from pardot_frames.simulator import Simulator


def connection(sim):
    return pf.Connection(**sim.credentials, initial_retry_wait=0.01, maximum_retry_wait=0.05)


@pytest.mark.parametrize("legacy", [False, True])  # the CSV's date form in v5 is not confirmed: both read
def test_an_export_read_equals_the_query_read_in_one_plus_polls_plus_files_calls(tmp_path, legacy):
    sim = Simulator(seed_activity=300, export_file_rows=400, export_seconds=0.05, export_legacy_dates=legacy,
                    v5_utc_offset="+00:00" if legacy else "-07:00")  # fmt: skip
    with sim.run_in_thread() as running:
        config = connection(running)
        queried = pf.read("visitor_activities", config, state_dir=tmp_path)
        before = running.pardot_calls
        exported = pf.read("visitor_activities", config, method="export", poll=0.01, state_dir=tmp_path)
        calls = running.pardot_calls - before
        made = running.state.exports[1]
    assert exported.schema == queried.schema and exported.height == 1_500
    assert exported.sort("id").equals(queried.sort("id"))
    files = len(made["files"])
    assert files == 4 and calls >= 1 + 1 + 1 + files and calls <= 1 + 1 + 4 + files  # oldest, create, polls, files


def test_a_stopped_export_read_picks_its_export_up(tmp_path):
    sim = Simulator(seed_activity=50, export_seconds=0.05)
    with sim.run_in_thread() as running:
        config = connection(running)
        from pardot_frames.pardot import exports
        from pardot_frames.pardot.client import Client

        async def start() -> int:
            async with Client(config) as client:
                arguments = {"updatedAfter": "2025-12-01T00:00:00+00:00", "updatedBefore": "2026-11-30T00:00:00+00:00"}
                return await exports.create(client, "visitor-activities", ["id", "type", "updatedAt"], arguments,
                                            "updated")  # fmt: skip

        export_id = asyncio.run(start())
        journal = reads.path(config, "visitor-activities", tmp_path).with_suffix(".export.json")
        journal.parent.mkdir(parents=True, exist_ok=True)
        journal.write_text(f'{{"id": {export_id}, "before": "2030-01-01T00:00:00+00:00"}}')
        frame = pf.read("visitor_activities", config, fields=["id", "type", "updatedAt"], method="export", poll=0.01,
                        state_dir=tmp_path)  # fmt: skip
        assert len(running.state.exports) == 1  # the running export was read, none started
        assert frame.height == 250 and not journal.exists()


def test_auto_picks_the_export_api_by_the_expected_rows(tmp_path, monkeypatch):
    sim = Simulator(seed_activity=40, export_seconds=0.02)
    with sim.run_in_thread() as running:
        config = connection(running)
        small = pf.read("visitor_activities", config, method="auto", poll=0.01, state_dir=tmp_path)
        assert not running.state.exports  # 200 activities: queries
        monkeypatch.setattr(plan, "EXPORT_FROM", 100)
        big = pf.read("visitor_activities", config, method="auto", poll=0.01, state_dir=tmp_path)
        assert len(running.state.exports) == 1 and big.sort("id").equals(small.sort("id"))
        with pytest.raises(pf.ConfigError, match="does not export"):
            pf.read("tags", config, method="export", state_dir=tmp_path)


@pytest.mark.parametrize("fields_code", [130, 180])  # which number an unknown field gets is not confirmed
def test_the_simulator_refuses_exports_as_the_sheet_says(fields_code):
    import aiohttp
    from simclient import Raw

    async def scenario():
        async with Simulator(export_fields_code=fields_code) as sim, aiohttp.ClientSession() as http:
            raw = Raw(sim, http)
            await raw.login()
            after = {"createdAfter": "2026-01-01T00:00:00+00:00"}
            bodies = [
                {"procedure": {"name": "VisitorActivity/filterByCreatedAt", "arguments": after}},
                {"fields": ["id"], "procedure": {"name": "VisitorActivity/filterByCreatedAt", "arguments": {}}},
                {"fields": ["id"], "procedure": {"name": "VisitorActivity/filterByNothing", "arguments": after}},
                {"fields": ["id"], "procedure": {"name": "VisitorActivity/filterByCreatedAt",
                                                 "arguments": {"createdBefore": "2026-02-01"}}},
                {"fields": ["id"], "procedure": {"name": "VisitorActivity/filterByCreatedAt", "arguments": {
                    **after, "createdBefore": "2027-06-01T00:00:00+00:00"}}},
                {"fields": ["id"], "procedure": {"name": "Prospect/filterByUpdatedAt", "arguments": {
                    "updatedAfter": "2026-01-01T00:00:00+00:00", "deleted": "false"}}},
                {"fields": ["id", "nope"], "procedure": {"name": "visitoractivity/FILTERBYCREATEDAT",
                                                         "arguments": after}},
                {"fields": ["id"], "procedure": {"name": "VisitorActivity/filterByCreatedAt", "arguments": after},
                 "maxFileSizeBytes": 5},
            ]  # fmt: skip
            codes = [(await raw.call("POST", "/api/v5/exports", json=b))[1].get("code") for b in bodies]
            status, made = await raw.call("POST", "/api/v5/exports", json={"fields": ["id", "type"], "procedure": {
                "name": "VisitorActivity/filterByCreatedAt", "arguments": after}})  # fmt: skip
            early = await raw.call("GET", f"/api/v5/exports/{made['id']}/results/0")
            return codes, status, made, early

    codes, status, made, early = asyncio.run(scenario())
    assert codes == [153, 154, 174, 176, 177, 177, fields_code, 231]
    assert status == 201 and made["status"] in ("Waiting", "Processing") and "resultRefs" not in made
    assert early[0] == 404 and early[1]["code"] == 178


def test_a_reads_dry_run_says_the_method_and_its_calls(tmp_path, monkeypatch):
    from test_cli import cli, job_file

    from pardot_frames.engine.read.plan import plan_read

    sim = Simulator(seed_activity=400, export_seconds=0.02)  # 2,000 activities
    with sim.run_in_thread() as running:
        config = connection(running)
        queried = plan_read("visitor_activities", config, method="auto")
        before = running.pardot_calls
        pf.read("visitor_activities", config, state_dir=tmp_path)
        made = running.pardot_calls - before
        monkeypatch.setattr(plan, "EXPORT_FROM", 1_000)
        exported = plan_read("visitor_activities", config, method="auto")
        code, printed, _ = cli("read", "emails", "--config", job_file(tmp_path, running), "--dry-run")
    assert queried["method"] == "query" and queried["records_at_most"] == 2_000 and queried["calls"] == made == 3
    assert exported["method"] == "export" and "Export API" in exported["calls_how"]
    assert code == 0 and '"method":"query"' in printed and '"object":"emails"' in printed


@pytest.mark.parametrize("expiry_from", ["created", "completed"])  # whence the 7 days run is not confirmed
def test_a_cancelled_or_expired_export_is_exported_again_never_blocks_the_read(tmp_path, expiry_from):
    import time

    from pardot_frames.engine.host.bridge import run_sync
    from pardot_frames.pardot.client import Client

    sim = Simulator(seed_activity=50, export_seconds=0.3, export_expiry_seconds=1.0, export_expiry_from=expiry_from)
    with sim.run_in_thread() as running:
        config = connection(running)
        from pardot_frames.pardot import exports

        async def call(method: str, path: str):
            async with Client(config) as client:
                if method == "POST":
                    arguments = {"updatedAfter": "2025-12-01T00:00:00+00:00",
                                 "updatedBefore": "2026-11-30T00:00:00+00:00"}  # fmt: skip
                    return await exports.create(client, "visitor-activities", ["id", "updatedAt"], arguments,
                                                "updated")  # fmt: skip
                from pardot_frames.pardot.transport import Request

                return await client.repeat(Request("POST", path, accept="import"))

        journal = reads.path(config, "visitor-activities", tmp_path).with_suffix(".export.json")
        journal.parent.mkdir(parents=True, exist_ok=True)
        cancelled = run_sync(call("POST", ""))
        answer = run_sync(call("CANCEL", f"/api/v5/exports/{cancelled}/do/cancel"))
        assert answer.body["status"] == "Canceled"
        again = run_sync(call("CANCEL", f"/api/v5/exports/{cancelled}/do/cancel"))
        assert again.code == 178 and "already been canceled" in again.message
        expired = run_sync(call("POST", ""))  # completes after the cancel, then expires
        time.sleep(1.7)  # complete 0.3 s after the cancel, expired 1 s after its creation or completion
        for stale in (cancelled, expired):  # a stopped read's journal names an export that can no longer be read
            journal.write_text(f'{{"id": {stale}, "after": "2025-12-01T00:00:00+00:00", '
                               '"before": "2030-01-01T00:00:00+00:00"}')  # fmt: skip
            frame = pf.read("visitor_activities", config, fields=["id", "updatedAt"], method="export", poll=0.01,
                            state_dir=tmp_path)  # fmt: skip
            assert frame.height == 250 and frame["id"].is_unique().all() and not journal.exists()

        async def status(export_id: int):
            async with Client(config) as client:
                return await exports.status(client, export_id)

        shown = run_sync(status(expired))
        assert shown["status"] == "Complete" and shown["isExpired"] is True and not shown.get("resultRefs")
        assert len(running.state.exports) == 2 + 2 * 2  # the stale two; for each, its window again (a year + days)


@pytest.mark.parametrize("wrapped", [True, False])  # a v4 export answer wrapped or bare: the docs show both
def test_the_simulator_serves_the_v4_export_api_and_lists_exports_in_v5(wrapped):
    """Section 12 items 3 and 7: the v3/v4 routes over the same exports (snake_case, ``state``, a lone file's
    ``resultRefs`` a string, a snake_case header and v3/v4 dates in the file), and ``GET /api/v5/exports`` paged."""
    import asyncio as aio

    from simclient import run

    async def scenario(sim, raw):
        sim.seed(prospects=[{"id": 1, "email": "a@x.com"}])
        from pardot_frames.simulator.activity import generate

        generate(sim.state, 20)
        body = {"object": "visitorActivity", "fields": ["id", "prospect_id", "type", "created_at"],
                "procedure": {"name": "filter_by_created_at",
                              "arguments": {"created_after": "2025-12-25 10:00:00",
                                            "created_before": "2026-12-01 00:00:00"}}}  # fmt: skip
        status, made = await raw.call("POST", "/api/export/version/4/do/create?format=json", json=body)
        made = made["export"] if wrapped else made
        assert status == 200 and made["state"] in ("Waiting", "Processing")
        status, bad = await raw.call("POST", "/api/export/version/3/do/create", json={**body, "object": "email"})
        assert bad["@attributes"]["err_code"] == 154 and "visitorActivity" in bad["err"]
        await aio.sleep(0.1)
        _, read = await raw.call("GET", f"/api/export/version/4/do/read/id/{made['id']}?format=json")
        shown = read["export"] if wrapped else read
        assert shown["state"] == "Complete" and isinstance(shown["resultRefs"], str)  # one file: a string
        assert len(shown["createdAt"]) == 19 and "T" not in shown["createdAt"]  # YYYY-MM-DD HH:MM:SS
        path = shown["resultRefs"].split(str(raw.sim.pardot_domain.split("//")[1]), 1)[-1]
        status, text = await raw.call("GET", path)
        lines = text.splitlines()
        assert status == 200 and lines[0] == "id,prospect_id,type,created_at" and len(lines) == 1 + 100
        assert all(len(line.split(",")[3]) == 19 for line in lines[1:])  # v3/v4 dates
        for _ in range(2):  # and two v5 exports: three in all, two a page
            await raw.call(
                "POST",
                "/api/v5/exports?fields=id",
                json={
                    "fields": ["id"],
                    "procedure": {
                        "name": "VisitorActivity/filterByCreatedAt",
                        "arguments": {"createdAfter": "2026-01-01T00:00:00Z"},
                    },
                },
            )
        _, first = await raw.call("GET", "/api/v5/exports?fields=id,status&limit=2")
        _, second = await raw.call("GET", f"/api/v5/exports?fields=id,status&nextPageToken={first['nextPageToken']}")
        assert [e["id"] for e in first["values"] + second["values"]] == [1, 2, 3] and second["nextPageToken"] is None
        _, listed = await raw.call("GET", "/api/export/version/4/do/query?format=json")
        assert listed["result"]["total_results"] == 3

    run(scenario, export_seconds=0.05, export_v4_wrapped=wrapped)
