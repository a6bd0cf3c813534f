"""Incremental sync (issue #14, sync_mode = "changed"): only new and changed rows go out; the state learns
only what Pardot confirmed. Every test checks what the simulator holds."""

import polars as pl
import pytest
from conftest import job
from test_cli import cli

from pardot_frames import dry_run, export_to_pardot


def people(n, company="Acme"):
    return pl.DataFrame({"email": [f"s{i}@example.com" for i in range(n)], "company": [company] * n})


@pytest.mark.email_alone
def test_a_rerun_with_nothing_changed_sends_nothing(sim):
    config = job(sim, sync_mode="changed", max_payload=2000)
    first = export_to_pardot(people(300), config, progress=False)
    assert first.ok and first.unchanged == 0 and len(sim.state.prospects) == 300
    upserts, logins = sim.state.calls_by_endpoint["prospect/batchUpsert"], sim.state.calls_by_endpoint["oauth/token"]
    again = export_to_pardot(people(300), config, progress=False)
    assert again.ok and again.unchanged == 300 and again.succeeded == 0 and again.api_calls == 0
    assert sim.state.calls_by_endpoint["prospect/batchUpsert"] == upserts  # no batchUpsert ...
    assert sim.state.calls_by_endpoint["oauth/token"] == logins  # ... and no login


@pytest.mark.email_alone
def test_only_changed_rows_go_and_pardot_ends_right(sim):
    config = job(sim, sync_mode="changed", max_payload=2000)
    export_to_pardot(people(500), config, progress=False)
    full_calls = sim.state.calls_by_endpoint["prospect/batchUpsert"]
    changed = people(500).with_columns(
        pl.when(pl.int_range(pl.len()) % 100 == 7).then(pl.lit("Globex")).otherwise("company").alias("company")
    )  # 1% of rows
    result = export_to_pardot(changed, config, progress=False)
    assert result.succeeded == 5 and result.unchanged == 495 and result.ok
    assert sim.state.calls_by_endpoint["prospect/batchUpsert"] - full_calls <= 0.02 * full_calls + 1
    held = {p["email"]: p["company"] for p in sim.state.prospects.values()}
    assert held == dict(zip(changed["email"], changed["company"], strict=True))


def test_refused_rows_are_sent_again_next_run(sim):
    sim.seed(prospects=[{"id": 7, "email": "seven@example.com"}])
    frame = pl.DataFrame({"id": [7, 999], "company": ["A", "B"]})
    config = job(sim, sync_mode="changed")
    first = export_to_pardot(frame, config, progress=False)
    assert first.succeeded == 1 and first.rejected_pardot == 1
    sim.seed(prospects=[{"id": 999, "email": "late@example.com"}])  # the prospect exists now
    second = export_to_pardot(frame, config, progress=False)
    assert second.succeeded == 1 and second.unchanged == 1 and sim.state.prospects[999]["company"] == "B"


@pytest.mark.email_alone
def test_duplicate_keys_are_reported_not_merged(sim):
    frame = pl.DataFrame({"email": ["d@x.com", "e@x.com", "D@x.com"], "company": ["one", "two", "three"]})
    result = export_to_pardot(frame, job(sim, sync_mode="changed"), progress=False)
    assert result.succeeded == 2 and result.rejected_validation == 1
    assert result.rejected.select("row_nr", "message").rows()[0][0] == 2 and "same key" in result.rejected["message"][0]
    assert {p["email"]: p["company"] for p in sim.state.prospects.values()} == {"d@x.com": "one", "e@x.com": "two"}


@pytest.mark.email_alone
def test_the_dry_run_shows_the_diff_and_sends_nothing(sim):
    config = job(sim, sync_mode="changed", max_payload=2000)
    export_to_pardot(people(200), config, progress=False)
    frame = pl.concat([people(200).with_columns(pl.lit("Initech").alias("company")).head(10), people(210).tail(190)])
    before = sim.state.calls_by_endpoint["prospect/batchUpsert"]
    planned = dry_run(frame, config).summary()
    assert (planned["new"], planned["changed"], planned["unchanged"]) == (10, 10, 180)
    assert sim.state.calls_by_endpoint["prospect/batchUpsert"] == before


@pytest.mark.email_alone
def test_state_list_and_reset(sim, tmp_path):
    config = job(sim, sync_mode="changed")
    export_to_pardot(people(20), config, progress=False)
    export_to_pardot(people(5), config.replace(prospect_lists=[7]), progress=False)  # another destination
    code, out, _ = cli("state", "list")
    header, *lines = out.split("\n\n")[0].splitlines()  # the sync states; the recycle bins come after
    assert code == 0 and header.split()[:3] == ["id", "rows", "object"] and len(lines) == 2
    assert len(set(lines)) == 2 and any(line.split()[5] == "7" for line in lines)  # told apart by their lists
    state_id = next(line.split()[0] for line in lines if line.split()[1] == "20")
    code, out, _ = cli("state", "reset", state_id)
    assert code == 0 and "20 rows forgotten" in out
    again = export_to_pardot(people(20), config, progress=False)
    assert again.succeeded == 20 and again.unchanged == 0  # everything sent once more
