"""Bulk mode as real Pardot runs it (issue #19): the simulator's Import API against the facts
(``pardot-import-api.md`` 3, 4, 7, 8), then the client against each of them: what Pardot holds at the end."""

import asyncio
import json

import aiohttp
import polars as pl
import pytest
from conftest import job
from netutil import call_held
from simclient import run

from pardot_frames import dry_run, export_to_pardot

FAST = dict(import_poll_seconds=0.02, import_poll_max=0.1)


def people(n, company="Acme", start=0):
    return pl.DataFrame({"email": [f"p{i}@example.com" for i in range(start, start + n)], "company": [company] * n})


def emails(sim):
    return sorted(p["email"] for p in sim.state.prospects.values())


async def create(raw, fields, create_on_no_match=True):
    body = {"operation": "Upsert", "object": "Prospect", "createOnNoMatch": create_on_no_match, "fields": fields}
    return await raw.call("POST", "/api/v5/imports", json=body)


async def upload(raw, import_id, text):
    form = aiohttp.FormData()
    form.add_field("file", text.encode(), filename="b.csv", content_type="text/csv")
    return await raw.call("POST", f"/api/v5/imports/{import_id}/batches", data=form)


def test_the_simulator_refuses_special_columns_in_fields_and_options_for_missing_columns():
    async def scenario(sim, raw):
        for name in ("matchId", "matchEmail", "matchSalesforceId", "addToList", "removeFromList", "first_name"):
            status, body = await create(raw, {name: {"overwrite": True}})
            assert (status, body["code"]) == (400, 130), name  # only real v5 fields may be named
        status, made = await create(raw, {"firstName": {"overwrite": True, "nullOverwrite": False}})
        assert status == 201 and made["status"] == "Open"
        status, body = await upload(raw, made["id"], "email,campaignId\na@x.com,1\n")  # no firstName column
        assert (status, body["code"]) == (400, 165)

    run(scenario)


def test_the_simulator_forces_null_overwrite_for_notes_and_refuses_is_archived():
    async def scenario(sim, raw):
        sim.seed(prospects=[{"id": 5, "email": "a@x.com", "notes": "keep me", "company": "Old"}])
        _, made = await create(raw, {"company": {"overwrite": True, "nullOverwrite": False}}, False)
        assert (await upload(raw, made["id"], "matchId,company,notes\n5,New,\n"))[0] == 204
        assert (await raw.call("PATCH", f"/api/v5/imports/{made['id']}", json={"status": "Ready"}))[0] == 200
        await asyncio.sleep(0.4)
        status, seen = await raw.call("GET", f"/api/v5/imports/{made['id']}?fields=id,status,updatedCount")
        assert seen == {"id": made["id"], "status": "Complete", "updatedCount": 1}  # the fields asked for, no more
        assert sim.state.prospects[5]["company"] == "New" and not sim.state.prospects[5].get("notes")  # wiped
        _, other = await create(raw, {}, False)
        status, body = await upload(raw, other["id"], "matchId,isArchived\n5,1\n")
        assert (status, body["code"]) == (400, 130)

    run(scenario)


def test_the_simulator_ends_imports_failed_or_cancelled_without_counts():
    async def scenario(sim, raw):
        ends = []
        for _ in range(2):
            _, made = await create(raw, {})
            await upload(raw, made["id"], "email,campaignId\n" + "".join(f"f{i}@x.com,1\n" for i in range(10)))
            await raw.call("PATCH", f"/api/v5/imports/{made['id']}", json={"status": "Ready"})
            await asyncio.sleep(0.4)
            _, seen = await raw.call("GET", f"/api/v5/imports/{made['id']}?fields=id,status")
            ends.append(seen)
            sim.configure(faults={"import_failed": 0.0, "import_cancelled": 1.0})
        assert [s["status"] for s in ends] == ["Failed", "Cancelled"]
        assert all("createdCount" not in s and "errorsRef" not in s for s in ends)
        assert len(sim.state.prospects) == 5  # the failed import applied half of its rows, the cancelled none
        status, body = await raw.call("GET", f"/api/v5/imports/{ends[0]['id']}/errors")
        assert status == 400 and body["code"] == 109

    run(scenario, faults={"import_failed": 1.0})


def test_updates_by_id_email_and_fid_with_a_list_are_not_refused(sim):
    sim.seed(lists=[55], prospects=[{"id": 5, "email": "five@x.com"}, {"id": 6, "email": "six@x.com", "fid": "F6"}])
    emails_ = ["five@x.com", "six@x.com", "new@x.com"]
    frame = pl.DataFrame({"id": [5, None, None], "fid": [None, "F6", None], "email": emails_,
                          "company": ["Five", "Six", "New"]})  # fmt: skip
    config = job(sim, method="import", prospect_lists=[55], upsert_by_email=True, import_campaign_id=1, **FAST)
    result = export_to_pardot(frame, config, progress=False)
    assert result.ok and result.succeeded == 3 and result.extra["imports"] == 3  # one per match column
    held = {p["email"]: p.get("company") for p in sim.state.prospects.values()}
    assert held == {"five@x.com": "Five", "six@x.com": "Six", "new@x.com": "New"}
    assert sim.state.members(55) == {p["id"] for p in sim.state.prospects.values()}


def test_a_prospects_notes_survive_an_import_of_rows_without_notes(sim):
    sim.seed(prospects=[{"id": 5, "email": "a@x.com", "notes": "keep me"}, {"id": 6, "email": "b@x.com"}])
    frame = pl.DataFrame({"id": [5, 6], "company": ["A", "B"], "notes": [None, "new note"]})
    result = export_to_pardot(frame, job(sim, method="import", **FAST), progress=False)
    assert result.ok and result.extra["imports"] == 2  # rows without notes go in an import without the column
    assert sim.state.prospects[5]["notes"] == "keep me" and sim.state.prospects[5]["company"] == "A"
    assert sim.state.prospects[6]["notes"] == "new note"


def test_rows_with_a_field_no_import_takes_go_by_batch_upsert(sim):
    sim.seed(prospects=[{"id": 5, "email": "a@x.com"}, {"id": 6, "email": "b@x.com"}])
    frame = pl.DataFrame({"id": [5, 6], "company": ["A", "B"], "is_archived": [False, None]})
    result = export_to_pardot(frame, job(sim, method="import", **FAST), progress=False)
    assert result.ok and result.extra["rows_by_batch_upsert"] == 1 and result.extra["imports"] == 1
    assert sim.state.prospects[5]["company"] == "A" and sim.state.prospects[6]["company"] == "B"


@pytest.mark.parametrize("end", ["import_failed", "import_cancelled"])
@pytest.mark.email_alone
def test_an_import_that_fails_sends_its_rows_again_without_duplicates(sim, end):
    sim.configure(faults={"seed": 1, end: 0.5})  # about every other import ends Failed (half applied) or Cancelled
    config = job(sim, method="import", import_campaign_id=1, import_batch_bytes=1_000, **FAST)
    result = export_to_pardot(people(300), config, progress=False)
    assert result.ok and result.succeeded == 300
    ends = result.extra["import_ends"]
    assert ends.get(end.removeprefix("import_")) and ends["complete"] >= 1
    assert emails(sim) == sorted(f"p{i}@example.com" for i in range(300))  # each prospect exactly once


@pytest.mark.email_alone
def test_imports_that_keep_failing_are_bounded_and_a_resume_finishes(sim):
    sim.configure(faults={"import_failed": 1.0, "import_failed_applies": 0.3})
    config = job(sim, method="import", import_campaign_id=1, maximum_retries=2, **FAST)
    result = export_to_pardot(people(100), config, progress=False)
    assert result.extra["imports"] == 3 and result.extra["import_ends"] == {"failed": 3}  # 1 + 2 retries, no more
    assert result.succeeded == 0 and set(result.rejected["stage"].to_list()) == {"pardot"}
    assert "not applied after 2 retries" in result.rejected["message"][0]
    sim.configure(faults={"import_failed": 0.0})
    again = export_to_pardot(people(100), config, progress=False, resume=True)
    assert again.ok and again.succeeded == 100
    assert emails(sim) == sorted(f"p{i}@example.com" for i in range(100))  # one prospect per row


@pytest.mark.email_alone
def test_a_stream_keeps_an_import_open_across_chunks(sim):
    frame = people(3000)
    config = job(sim, method="import", import_campaign_id=1, **FAST)
    result = export_to_pardot(frame.lazy(), config, progress=False, chunk_rows=250)  # 12 chunks
    assert result.ok and result.succeeded == 3000
    assert result.extra["imports"] == 1 and result.extra["import_batches"] == 1
    # the fields read, the recycle bin's, create, one batch, submit
    assert result.api_calls - result.extra["import_polls"] == 5
    assert emails(sim) == sorted(frame["email"].to_list())


def test_rows_refused_after_their_chunk_are_reported_with_their_input(sim):
    sim.seed(prospects=[{"id": 5, "email": "five@x.com"}])
    frame = pl.DataFrame({"id": [5] + list(range(900, 1000)), "company": ["ok"] * 101})
    result = export_to_pardot(frame.lazy(), job(sim, method="import", **FAST), progress=False, chunk_rows=20)
    assert result.succeeded == 1 and result.rejected_pardot == 100
    rejected = result.rejected.sort("row_nr")
    assert rejected["row_nr"].to_list() == list(range(1, 101)) and rejected["id"].to_list() == list(range(900, 1000))


@pytest.mark.email_alone
def test_uploads_in_doubt_cost_their_batch_only(sim):
    """Under 5% faults per call (5xx, drops, lost answers, 5xx after applying), batches uploaded stay close to
    the batches the rows need, and every row is applied exactly once."""
    sim.configure(faults={"seed": 7, "http_5xx": 0.0125, "drop": 0.0125, "lost": 0.0125, "gateway_5xx": 0.0125})
    config = job(sim, method="import", import_campaign_id=1, import_batch_bytes=1_000, maximum_retries=8, **FAST)
    result = export_to_pardot(people(1500), config, progress=False)
    assert result.ok and result.succeeded == 1500
    assert emails(sim) == sorted(f"p{i}@example.com" for i in range(1500))
    uploaded = sim.state.calls_by_endpoint["v5/imports/batches"]
    assert result.extra["import_uploads_in_doubt"] >= 1  # the faults did reach uploads
    planned = dry_run(people(1500), config).summary()["import_batches"]  # the batches the rows need
    assert uploaded <= 1.5 * planned, (uploaded, planned, result.extra)


def test_a_create_answered_with_only_an_id_and_uploads_answered_200_are_pardots(sim, monkeypatch):
    """Import API answers may be 200 or 201 with or without the import's representation (import-api.md 3)."""
    from pardot_frames.pardot.answers import parse_reply

    assert parse_reply(201, json.dumps({"id": 7}), accept="import").pardot
    assert parse_reply(200, json.dumps({"id": 7, "status": "Open"}), accept="import").pardot
    assert parse_reply(200, "", accept="import").pardot and parse_reply(204, "", accept="import").pardot
    assert not parse_reply(200, "<html>proxy</html>", accept="import").pardot


class Refusing:
    """The real transport to the simulator, except that upload number ``nth`` is answered with Pardot's
    error ``code`` (2: the import expired; 161: it is no longer Open) without reaching the simulator."""

    def __init__(self, nth, code):
        from pardot_frames.pardot.transport import AiohttpTransport

        self.real, self.nth, self.code, self.uploads = AiohttpTransport(10, 4), nth, code, 0

    async def exchange(self, base, request, headers):
        from pardot_frames.pardot.transport import Answer

        if request.path_query.endswith("/batches"):
            self.uploads += 1
            if self.uploads == self.nth:
                body = json.dumps({"code": self.code, "message": "Current status is Waiting"})
                return Answer(400, body, {"Content-Type": "application/json"})
        return await self.real.exchange(base, request, headers)

    async def close(self):
        await self.real.close()


@pytest.mark.parametrize("code", [2, 161])
@pytest.mark.email_alone
def test_a_batch_refused_because_its_import_closed_goes_again_in_a_new_import(sim, code):
    from pardot_frames import export_to_pardot_async

    config = job(sim, method="import", import_campaign_id=1, import_batch_bytes=1_000, **FAST)
    transport = Refusing(3, code)
    result = asyncio.run(export_to_pardot_async(people(200), config, progress=False, transport=transport))
    assert result.ok and result.succeeded == 200 and result.extra["imports"] in (2, 3)
    assert emails(sim) == sorted(f"p{i}@example.com" for i in range(200))  # each row once, none lost
    assert sim.state.imports.items[1].status == "Open"  # the first import is left to expire unapplied


def test_a_killed_stream_resumes_into_the_imports_it_left(sim, tmp_path):
    """kill -9 while an import that spans chunks is Open; the resume gathers its rows across the chunks,
    submits it (its batches are still there), sends only what it did not hold, and each row lands once."""
    import signal
    import subprocess
    import sys

    people(3000).write_parquet(tmp_path / "in.parquet")
    values = {**sim.credentials, "method": "import", "import_campaign_id": 1, "check_fields": False,
              "import_batch_bytes": 20_000, **FAST}  # fmt: skip
    script = (
        "import sys, polars as pl; from pardot_frames import ExportConfig, export_to_pardot; "
        f"c = ExportConfig(**{values!r}); "
        f"r = export_to_pardot(pl.scan_parquet({str(tmp_path / 'in.parquet')!r}), c, progress=False, "
        f"chunk_rows=400, state_dir={str(tmp_path / 'state')!r}, resume=len(sys.argv) > 1); "
        "print(r.succeeded, r.extra['imports'], r.extra['imports_reattached'])"
    )
    sim.configure(faults={"hold_from_call": 5})  # create, 3 batches, the 4th applied and held: killed there
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert call_held(sim, process), process.communicate(timeout=30)  # the kill point was reached
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    sim.configure(faults={"hold_from_call": None})
    done = subprocess.run([sys.executable, "-c", script, "resume"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    succeeded, new_imports, reattached = map(int, done.stdout.split())
    assert succeeded == 3000 and reattached == 1
    assert emails(sim) == sorted(f"p{i}@example.com" for i in range(3000))  # each prospect exactly once
    first = sim.state.imports.items[1]
    assert first.status == "Complete" and first.created_count > 0  # the stopped run's import, submitted
    needed = dry_run(people(3000), job(sim, **values)).summary()["import_batches"]
    assert sim.state.calls_by_endpoint["v5/imports/batches"] == needed  # no batch went twice


@pytest.mark.email_alone
def test_a_job_stopped_by_its_budget_resumes_into_its_open_import(sim):
    """max_api_calls stops the job while an import is Open with batches in it: those rows stay in doubt with
    the import's note; the resume submits that import (its batches are still there) and sends the rest."""
    config = job(sim, method="import", import_campaign_id=1, import_batch_bytes=1_000, check_fields=False,
                 max_api_calls=4, **FAST)  # fmt: skip
    first = export_to_pardot(people(300), config, progress=False)  # create + 3 batches, then the budget
    assert "max_api_calls" in first.stopped and first.succeeded == 0 and not sim.state.prospects
    assert set(first.rejected["stage"].to_list()) == {"pardot", "not_sent"}  # in doubt (Open import), not sent
    again = export_to_pardot(people(300), config.replace(max_api_calls=None), progress=False, resume=True)
    assert again.ok and again.succeeded == 300 and again.extra["imports_reattached"] == 1
    assert emails(sim) == sorted(f"p{i}@example.com" for i in range(300))
    needed = dry_run(people(300), config).summary()["import_batches"]
    assert sim.state.calls_by_endpoint["v5/imports/batches"] == needed  # the first run's 3 batches kept
