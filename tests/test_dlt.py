"""dlt, for real: a pipeline loads prospects and list memberships from the simulator into DuckDB, a second run loads
only what changed; the destination sends a pipeline's rows to the simulator and keeps the rejected ones."""

import duckdb
import polars as pl
import pytest
from conftest import job

import pardot_frames as pf

dlt = pytest.importorskip("dlt")  # installed with the dev extra: CI runs this
from pardot_frames.dlt import pardot_destination, pardot_source  # noqa: E402


@pytest.fixture(autouse=True)
def quiet_dlt(monkeypatch, tmp_path):
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt-data"))


def pipeline(tmp_path, name, destination):
    return dlt.pipeline(pipeline_name=name, destination=destination, dataset_name="pardot",
                        pipelines_dir=str(tmp_path / "pipelines"))  # fmt: skip


def test_a_pipeline_loads_pardot_into_duckdb_and_then_only_what_changed(sim, tmp_path):
    sim.seed(lists=[{"id": 7, "name": "News"}],
             prospects=[{"id": 1000 + i, "email": f"p{i}@x.com", "company": "A", "updated_at": "2026-11-01 10:00:00"}
                        for i in range(2_000)],  # changed before today: an update now is a later second
             memberships=[{"list_id": 7, "prospect_id": 1000 + i} for i in range(0, 2_000, 4)])  # fmt: skip
    config = pf.Connection(**sim.credentials)
    target = tmp_path / "warehouse.duckdb"
    load = pipeline(tmp_path, "pardot_in", dlt.destinations.duckdb(str(target)))
    before = sim.pardot_calls
    load.run(pardot_source(config, objects=["prospects", "list_memberships"], state_dir=tmp_path))
    first = sim.pardot_calls - before
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM pardot.prospects").fetchone()[0] == 2_000
        assert con.execute("SELECT count(*) FROM pardot.list_memberships").fetchone()[0] == 500
    changed = pl.DataFrame({"id": list(range(1000, 1020)), "company": ["B"] * 20})  # 1% of the prospects
    pf.export_to_pardot(changed, job(sim, check_deleted=False), progress=False, state_dir=tmp_path)
    before = sim.pardot_calls
    load.run(pardot_source(config, objects=["prospects", "list_memberships"], state_dir=tmp_path))
    second = sim.pardot_calls - before
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM pardot.prospects").fetchone()[0] == 2_000  # merged on id
        assert con.execute("SELECT count(*) FROM pardot.prospects WHERE company = 'B'").fetchone()[0] == 20
    assert first >= 5 and second == 2  # the cursor's second is settled: only what came after it, a call an object
    before = sim.pardot_calls
    load.run(pardot_source(config, objects=["prospects", "list_memberships"], state_dir=tmp_path))
    assert sim.pardot_calls - before == 2 and load.last_trace.last_normalize_info.row_counts.get("prospects", 0) == 0


def test_the_destination_sends_a_pipelines_rows_and_keeps_the_rejected_ones(sim, tmp_path):
    rows = [{"email": f"d{i}@x.com", "company": "D"} for i in range(99)] + [{"email": "not-an-email", "company": "D"}]
    rejected = tmp_path / "rejected.duckdb"
    out = pipeline(tmp_path, "pardot_out", pardot_destination(job(sim, upsert_by_email=True), rejected_to=rejected,
                                                               state_dir=tmp_path))  # fmt: skip
    out.run(rows, table_name="people")
    held = {p["email"] for p in sim.state.prospects.values()}
    assert {f"d{i}@x.com" for i in range(99)} <= held and "not-an-email" not in held
    with duckdb.connect(str(rejected), read_only=True) as con:
        kept = con.sql("SELECT email, stage FROM people_rejected").fetchall()
    assert kept == [("not-an-email", "validation")]
