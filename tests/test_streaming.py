"""Streaming inputs: read, validated, planned and sent in chunks; row numbers stay global."""

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from conftest import job

from pardot_frames import ValidationFailed, export_to_pardot


def frame(n, bad=()):
    emails = [f"s{i}@example.com" if i not in bad else f"broken {i}" for i in range(n)]
    return pl.DataFrame({"email": emails, "company": [f"C{i}" for i in range(n)], "password": ["pw"] * n})


@pytest.mark.email_alone
def test_lazy_parquet_in_chunks(sim, tmp_path):
    path = tmp_path / "in.parquet"
    frame(2500, bad={5, 2100}).write_parquet(path, row_group_size=300)
    result = export_to_pardot(pl.scan_parquet(path), job(sim, max_payload=4000), chunk_rows=1000, progress=False)
    assert (result.rows_in, result.succeeded, result.rejected_validation) == (2500, 2498, 2)
    assert result.rejected["row_nr"].to_list() == [5, 2100]
    assert result.rejected["company"].to_list() == ["C5", "C2100"]
    assert set(result.rejected["password"]) == {"**********"}
    held = {p["email"]: p["company"] for p in sim.state.prospects.values()}
    assert len(held) == 2498 and held["s2499@example.com"] == "C2499"


@pytest.mark.email_alone
def test_duckdb_relation_and_record_batch_reader(sim):
    con = duckdb.connect()
    query = "select 's' || i || '@example.com' as email, i as score from range(1200) t(i)"
    result = export_to_pardot(con.sql(query), job(sim), chunk_rows=500, progress=False)
    assert result.succeeded == 1200 and len(sim.state.prospects) == 1200
    reader = con.sql(query.replace("'s'", "'r'")).arrow()
    result = export_to_pardot(reader, job(sim), chunk_rows=500, progress=False)
    assert result.succeeded == 1200 and len(sim.state.prospects) == 2400
    assert sorted(p["score"] for p in sim.state.prospects.values())[-2:] == [1199, 1199]


@pytest.mark.parametrize("kind", ["lazy", "reader"])
def test_strict_streams_are_checked_whole_before_the_first_call(sim, tmp_path, kind):
    path = tmp_path / "in.parquet"
    frame(2000, bad={1999}).write_parquet(path)
    data = pl.scan_parquet(path) if kind == "lazy" else pl.read_parquet(path).to_arrow().to_reader(max_chunksize=300)
    with pytest.raises(ValidationFailed) as info:
        export_to_pardot(data, job(sim, skip_invalid_records=False), chunk_rows=500, progress=False)
    assert "row 1999, column email" in str(info.value)
    # a strict stream reads the account's fields first (to check every chunk against them); nothing is sent
    assert sim.state.calls_by_endpoint["prospect/batchUpsert"] == 0 and not sim.state.prospects


@pytest.mark.email_alone
def test_strict_one_shot_reader_is_spilled_and_sent_when_valid(sim):
    reader = frame(1500).to_arrow().to_reader(max_chunksize=200)
    result = export_to_pardot(reader, job(sim, skip_invalid_records=False), chunk_rows=400, progress=False)
    assert result.succeeded == 1500 and len(sim.state.prospects) == 1500


@pytest.mark.email_alone
def test_daily_limit_in_an_early_chunk_reports_later_chunks_unsent(sim, tmp_path):
    sim.configure(daily_limit=3)
    path = tmp_path / "in.parquet"
    frame(3000).write_parquet(path)
    result = export_to_pardot(pl.scan_parquet(path), job(sim, max_payload=3000), chunk_rows=1000, progress=False)
    assert result.rows_in == 3000 and result.succeeded == len(sim.state.prospects) > 0
    assert result.not_sent == 3000 - result.succeeded
    assert result.rejected.filter(pl.col("stage") == "not_sent")["row_nr"].max() == 2999


@pytest.mark.email_alone
def test_a_row_without_a_key_after_the_first_chunk_is_rejected_under_its_own_number(sim):
    emails = [f"k{i}@example.com" if i != 2500 else None for i in range(3000)]
    lazy = pl.LazyFrame({"email": emails, "company": [f"C{i}" for i in range(3000)]})
    result = export_to_pardot(lazy, job(sim, max_payload=6000), chunk_rows=1000, progress=False)
    assert result.rejected.select("row_nr", "stage", "company").rows() == [(2500, "validation", "C2500")]
    assert result.succeeded == 2999 and result.rejected_pardot == 0
    assert len(sim.state.prospects) == 2999 and "C2500" not in {p["company"] for p in sim.state.prospects.values()}


def test_a_duckdb_relation_streams_in_chunks_never_whole():
    from pardot_frames.prepare.frames import chunks, duckdb_reader

    con = duckdb.connect()
    relation = con.sql("select 'd' || i || '@example.com' as email from range(2500) t(i)")
    reader = duckdb_reader(relation, 1000)
    assert isinstance(reader, pa.RecordBatchReader)
    assert [b.num_rows for b in reader] == [1000, 1000, 500]  # batches as asked, read one at a time
    relation = con.sql("select 'd' || i || '@example.com' as email from range(2500) t(i)")
    assert [c.height for c in chunks(relation, 1000)] == [1000, 1000, 500]
