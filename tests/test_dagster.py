"""Dagster, for real: an asset exports a frame to the simulator through the resource and records what happened as
materialisation metadata; the secrets stay environment variables; a failing job fails the run."""

import polars as pl
import pytest

dg = pytest.importorskip("dagster")  # installed with the dev extra: CI runs this
from pardot_frames.dagster import PardotResource, pardot_export_asset  # noqa: E402


def resource(sim, monkeypatch, tmp_path):
    creds = sim.credentials
    monkeypatch.setenv("TEST_PARDOT_SECRET", creds["client_secret"])
    monkeypatch.setenv("TEST_PARDOT_TOKEN", creds["refresh_token"])
    return PardotResource(client_id=creds["client_id"], client_secret=dg.EnvVar("TEST_PARDOT_SECRET"),
                          refresh_token=dg.EnvVar("TEST_PARDOT_TOKEN"), business_unit=creds["business_unit"],
                          pardot_domain=creds["pardot_domain"], login_url=creds["login_url"],
                          state_dir=str(tmp_path))  # fmt: skip


def test_an_asset_exports_and_records_what_pardot_did(sim, monkeypatch, tmp_path):
    @pardot_export_asset("engagement_scores", upsert_by_email=True, verify=True)
    def engagement_scores():
        return pl.DataFrame({"email": [f"s{i}@x.com" for i in range(30)] + ["bad"], "score": list(range(31))})

    ran = dg.materialize([engagement_scores], resources={"pardot": resource(sim, monkeypatch, tmp_path)})
    assert ran.success
    meta = ran.asset_materializations_for_node("engagement_scores")[0].metadata
    assert meta["applied"].value == 30 and meta["rejected"].value == 1 and meta["calls"].value > 0
    assert meta["verify"].value["mismatched_rows"] == 0
    held = {p["email"]: p.get("score") for p in sim.state.prospects.values()}
    assert len(held) == 30 and held["s7@x.com"] in (7, "7")  # what Pardot (the simulator) holds
    logged = str([e.event_specific_data for e in ran.all_events])
    assert sim.credentials["client_secret"] not in logged and sim.credentials["refresh_token"] not in logged


def test_a_failing_job_fails_the_run_with_its_reason(sim, monkeypatch, tmp_path):
    @pardot_export_asset("strict_rows", skip_invalid_records=False)
    def strict_rows():
        return pl.DataFrame({"email": ["ok@x.com", "not-an-email"]})

    ran = dg.materialize([strict_rows], resources={"pardot": resource(sim, monkeypatch, tmp_path)},
                         raise_on_error=False)  # fmt: skip
    assert not ran.success and not sim.state.prospects  # nothing was sent
    failure = next(e for e in ran.all_events if e.is_step_failure)
    assert "skip_invalid_records is false" in str(failure.event_specific_data)
