"""Deleted prospects stay deleted (issue #33): the simulator's recycle bin as the facts say (facts 7), and the
client on every send path: rows for deleted prospects are reported (stage "deleted"), never sent, unless
restore_deleted brings them back, matched to their id. Each test checks what the simulator holds."""

from __future__ import annotations

import json

import polars as pl
import pytest
from conftest import job
from simclient import V4, run
from test_cli import cli, job_file

import pardot_frames as pf
from pardot_frames.engine.state import recycle_bin
from pardot_frames.prepare.csv_batches import EXPECTED_POLLS

GONE, NEW = 30, 70


@pytest.fixture(autouse=True)
def never_fresh(monkeypatch):
    """Each job here asks Pardot about the bin (a job within a minute of the last check would not)."""
    monkeypatch.setattr(recycle_bin, "FRESH_SECONDS", 0)


@pytest.fixture
def binned(sim):
    """An account whose recycle bin holds 100 prospects."""
    sim.seed(lists=[7], prospects=[{"id": 100 + i, "email": f"gone{i}@x.com", "company": "Old"} for i in range(100)])
    for i in range(100):
        sim.state.delete_prospect(str(100 + i))
    return sim


def rows(**extra):
    emails = [f"Gone{i}@X.com" for i in range(GONE)] + [f"new{i}@x.com" for i in range(NEW)]  # another case
    return pl.DataFrame({"email": emails, "company": ["Acme"] * (GONE + NEW), **extra})


def held(sim):
    return sorted(str(p["email"]).lower() for p in sim.state.prospects.values())


@pytest.mark.parametrize(
    "settings",
    [{}, {"payload_location": "body"}, {"upsert_by_email": True}, {"sync_mode": "changed"},
     {"method": "import", "import_campaign_id": 1, "upsert_by_email": True, "import_poll_seconds": 0.02}],
    ids=["query", "body", "upsert_by_email", "changed", "import"],
)  # fmt: skip
@pytest.mark.email_alone("query", "body", "changed")
def test_deleted_people_stay_deleted_on_every_send_path(binned, tmp_path, settings):
    config = job(binned, **settings)
    planned = pf.dry_run(rows(), config, state_dir=tmp_path)
    result = pf.export_to_pardot(rows(), config, progress=False, state_dir=tmp_path)
    assert held(binned) == sorted(f"new{i}@x.com" for i in range(NEW))  # 0 of the 30 back, 70 created
    assert len(binned.state.deleted) == 100
    assert result.deleted == planned.summary()["deleted_in_pardot"] == GONE and result.succeeded == NEW
    deleted = result.rejected.filter(pl.col("stage") == "deleted")
    assert deleted["row_nr"].to_list() == list(range(GONE))
    assert (
        deleted["message"][0].startswith("deleted in Pardot on 20")
        and "restore_deleted = true" in deleted["message"][0]
    )
    polls = result.extra.get("import_polls", 0), (planned.imports or {}).get("imports", 0) * EXPECTED_POLLS
    assert planned.calls - polls[1] == result.api_calls - polls[0]  # the plan is the run's (an import's polls vary)


IMPORT = {"method": "import", "import_campaign_id": 1, "upsert_by_email": True}


@pytest.mark.parametrize("settings", [{}, {"upsert_by_email": True}, IMPORT], ids=["batch", "by_email", "import"])
@pytest.mark.email_alone("batch")
def test_restore_deleted_brings_them_back_without_duplicates(binned, tmp_path, settings):
    config = job(binned, restore_deleted=True, import_poll_seconds=0.02, **settings)
    result = pf.export_to_pardot(rows(), config, progress=False, state_dir=tmp_path)
    assert result.ok and result.succeeded == GONE + NEW and result.extra["rows_restored"] == GONE
    assert held(binned) == sorted([f"gone{i}@x.com" for i in range(GONE)] + [f"new{i}@x.com" for i in range(NEW)])
    restored = {p["email"]: p for p in binned.state.prospects.values() if p["id"] < 200}
    assert sorted(p["id"] for p in restored.values()) == list(range(100, 100 + GONE))  # the same prospects, by id
    assert {p["company"] for p in restored.values()} == {"Acme"} and len(binned.state.deleted) == 100 - GONE


def test_ids_memberships_and_a_live_twin(binned, tmp_path):
    """A row by the id of a deleted prospect is reported; so is a membership of one; an email a deleted and a
    live prospect share goes to the live one (upsert_by_email)."""
    binned.seed(prospects=[{"id": 900, "email": "gone5@x.com"}])  # a live twin of a deleted prospect's email
    by_id = pl.DataFrame({"id": [100, 900], "company": ["X", "Live"]})
    result = pf.export_to_pardot(by_id, job(binned), progress=False, state_dir=tmp_path)
    assert (result.succeeded, result.deleted) == (1, 1) and binned.state.deleted[100]["company"] == "Old"
    twin = pl.DataFrame({"email": ["gone5@x.com", "gone6@x.com"], "company": ["Twin", "Gone"]})
    result = pf.export_to_pardot(twin, job(binned, upsert_by_email=True), progress=False, state_dir=tmp_path)
    assert (result.succeeded, result.deleted) == (1, 1) and binned.state.prospects[900]["company"] == "Twin"
    members = pl.DataFrame({"list_id": [7, 7], "prospect_id": [101, 900]})
    for method in ("batch", "single"):
        config = job(binned, data_object="list_memberships", list_membership_method=method)
        result = pf.export_to_pardot(members, config, progress=False, state_dir=tmp_path)
        assert (result.succeeded, result.deleted) == (1, 1) and "its prospect was deleted" in result.rejected[
            "message"
        ][0]
    assert binned.state.members(7) == {900}


def test_a_changed_run_reports_a_row_whose_prospect_was_deleted_since(sim, tmp_path):
    frame = pl.DataFrame({"email": ["a@x.com", "b@x.com"], "company": ["A", "B"]})
    config = job(sim, sync_mode="changed", upsert_by_email=True)
    assert pf.export_to_pardot(frame, config, progress=False, state_dir=tmp_path).succeeded == 2
    gone = next(p["id"] for p in sim.state.prospects.values() if p["email"] == "a@x.com")
    sim.state.delete_prospect(str(gone))
    again = pf.export_to_pardot(frame, config, progress=False, state_dir=tmp_path)
    assert (again.unchanged, again.deleted) == (1, 1)  # not "unchanged": its prospect is in the bin
    back = pf.export_to_pardot(frame, config.replace(restore_deleted=True), progress=False, state_dir=tmp_path)
    assert back.succeeded == 1 and back.unchanged == 1 and gone in sim.state.prospects


@pytest.mark.parametrize("touches", [True, False])  # whether deleting updates updatedAt is not confirmed
def test_the_bin_is_read_once_then_incrementally(sim, tmp_path, touches):
    sim.configure(delete_touches_updated_at=touches)
    sim.seed(prospects=[{"id": i, "email": f"p{i}@x.com"} for i in range(1, 2601)])
    for i in range(1, 2501):
        sim.state.delete_prospect(str(i))
        sim.state.deleted[i]["updated_at"] = "2026-01-01 00:00:00"  # deleted long ago
    frame = pl.DataFrame({"id": [2600], "company": ["Acme"]})
    config = job(sim, check_fields=False)

    def calls_for_the_bin():
        before = sim.pardot_calls
        result = pf.export_to_pardot(frame, config, progress=False, state_dir=tmp_path)
        return (
            sim.pardot_calls - before - result.extra["batches"] if "batches" in result.extra else result.api_calls - 1
        )

    assert calls_for_the_bin() == 3  # 2,500 deleted prospects: three pages of 1,000
    assert calls_for_the_bin() == 1  # nothing changed: the probe alone
    sim.state.prospects[2599]["updated_at"] = "2025-06-01 00:00:00"  # last updated before the bin's newest
    sim.state.delete_prospect("2599")
    assert calls_for_the_bin() == (2 if touches else 2 + 3)  # probe + what changed (else the whole bin again)
    sim.state.unarchive(sim.state.deleted[7])  # restored in Pardot: its rows go again
    calls_for_the_bin()
    bins = recycle_bin.list_bins(tmp_path)
    assert bins[0]["prospects"] == 2500 and 7 not in set(recycle_bin.RecycleBin(config, tmp_path).frame["id"])


@pytest.mark.email_alone
def test_the_state_command_shows_and_resets_the_bin(binned, tmp_path):
    pf.export_to_pardot(rows(), job(binned), progress=False, state_dir=tmp_path)
    code, out, _ = cli("state", "list", "--state-dir", tmp_path)
    assert code == 0 and "recycle bins" in out and "100" in out
    bin_id = recycle_bin.list_bins(tmp_path)[0]["id"]
    code, out, _ = cli("state", "show", bin_id, "--state-dir", tmp_path)
    assert code == 0 and json.loads(out)["prospects"] == 100
    code, out, _ = cli("state", "reset", bin_id, "--state-dir", tmp_path)
    assert code == 0 and "100 prospects forgotten" in out and not recycle_bin.list_bins(tmp_path)


def test_the_cli_summary_and_dry_run_count_them(binned, tmp_path):
    rows().write_csv(tmp_path / "in.csv")
    config = job_file(tmp_path, binned)
    code, out, _ = cli("export", "--config", config, "--input", tmp_path / "in.csv", "--dry-run", "--json",
                       "--state-dir", tmp_path)  # fmt: skip
    assert code == 0 and json.loads(out)["deleted_in_pardot"] == GONE
    code, out, _ = cli("export", "--config", config, "--input", tmp_path / "in.csv", "--state-dir", tmp_path)
    assert code == 1 and "deleted in Pardot" in out and "30" in out


@pytest.mark.parametrize("unarchives", [True, False])  # facts 7: an email-only batch row, not confirmed
def test_the_simulator_recycle_bin_follows_the_facts(unarchives):
    async def scenario(sim, raw):
        sim.configure(one_prospect_per_email=True, batch_email_unarchives=unarchives)
        sim.seed(prospects=[{"id": i, "email": f"d{i}@x.com"} for i in range(1, 6)])
        for i in range(1, 6):
            sim.state.delete_prospect(str(i))
        await raw.call("POST", f"{V4}/update/id/1?format=json&company=Kept")  # an update by id: stays in the bin
        await raw.call("POST", f"{V4}/upsert/email/d2@x.com?format=json&company=Back")  # upsert by email: back
        await raw.call("POST", f"{V4}/create/email/d3@x.com?format=json")  # a create with its email: back
        await raw.upsert([{"email": "d4@x.com", "company": "Batch"}])  # email-only batch row: the setting decides
        await raw.upsert([{"id": 5, "is_archived": 0, "company": "Explicit"}])  # is_archived false: back
        return sim

    sim = run(scenario)
    assert sim.state.deleted[1]["company"] == "Kept" and set(sim.state.deleted) == ({1} if unarchives else {1, 4})
    assert sim.state.prospects[2]["company"] == "Back" and 3 in sim.state.prospects
    assert sim.state.prospects[5]["company"] == "Explicit"
    assert (4 in sim.state.prospects) == unarchives and len(sim.state.prospects) == 4  # else a new prospect for d4
    assert sum(p["email"] == "d4@x.com" for p in sim.state.prospects.values()) == 1


@pytest.mark.email_alone
def test_a_bin_file_that_cannot_be_read_is_read_again_from_pardot(binned, tmp_path):
    pf.export_to_pardot(rows(), job(binned), progress=False, state_dir=tmp_path)
    path = recycle_bin.bin_path(job(binned), tmp_path)
    path.write_bytes(b"not a database")
    result = pf.export_to_pardot(rows(), job(binned), progress=False, state_dir=tmp_path)
    assert result.deleted == GONE and recycle_bin.list_bins(tmp_path)[0]["prospects"] == 100
