"""Verifying what a job landed (issue #23): Pardot answers stat ok while it drops values a field cannot take;
a verify reads back what the job touched and reports exactly those, for a few calls."""

import json

import polars as pl
import pytest
from conftest import job
from test_cli import cli, job_file

import pardot_frames as pf

ROWS = 3000


def colours(n):
    return ["green" if i % 100 == 7 else ("red" if i % 2 else "blue") for i in range(n)]  # 1% not allowed


@pytest.fixture
def dropping(sim):
    """An account whose Dropdown lists red and blue, and whose field read does not say so (as the recorded
    answers do not): the client cannot check the values, and Pardot drops 'green' without an error."""
    sim.configure(field_values_shown=False)
    sim.seed(custom_fields=[{"field_id": "colour", "type": "Dropdown", "values": ["red", "blue"]}])
    return sim


def frame(n=ROWS):
    return pl.DataFrame({"email": [f"v{i}@x.com" for i in range(n)], "colour": colours(n), "company": ["Acme"] * n})


def test_a_full_verify_reports_exactly_the_silently_dropped_values(dropping, tmp_path):
    result = pf.export_to_pardot(frame(), job(dropping, upsert_by_email=True), progress=False, state_dir=tmp_path,
                                 verify=1.0)  # fmt: skip
    assert result.ok and result.rejected_pardot == 0  # Pardot said ok to every row
    found = result.verification
    expected = [i for i in range(ROWS) if i % 100 == 7]
    assert sorted(found.mismatches["row_nr"].to_list()) == expected
    assert set(found.mismatches["column"]) == {"colour"} and set(found.mismatches["sent"]) == {"green"}
    assert found.mismatches["held"].null_count() == len(expected)
    assert found.rows_checked == ROWS and found.missing == 0 and found.calls == 2 + 3
    held = {p["email"]: p.get("colour") for p in dropping.state.prospects.values()}
    assert all(held[f"v{i}@x.com"] is None for i in expected)  # what the simulator holds: the drops are real


def test_the_default_sample_is_cheap_and_finds_a_one_percent_drop(dropping, tmp_path):
    result = pf.export_to_pardot(frame(), job(dropping, upsert_by_email=True), progress=False, state_dir=tmp_path,
                                 verify=True)  # fmt: skip
    summary = result.extra["verification"]
    assert summary["rows_checked"] >= 500 and summary["mismatched_rows"] >= 1
    assert summary["mismatched_by_column"] == {"colour": summary["mismatched_rows"]}
    assert summary["calls"] <= max(3, result.api_calls // 100)


def test_a_clean_job_verifies_clean_and_after_the_fact(sim, tmp_path):
    rows = pl.DataFrame({"email": [f"c{i}@x.com" for i in range(300)], "score": list(range(300)),
                         "company": ["  Acme  "] * 300})  # fmt: skip
    config = job(sim, upsert_by_email=True)
    result = pf.export_to_pardot(rows, config, progress=False, state_dir=tmp_path, verify=True)
    assert result.verification.ok and result.verification.rows_checked == 300  # trimmed text matches
    later = pf.verify(rows.with_columns(pl.lit(7).alias("score")), config, sample=1.0, state_dir=tmp_path)
    assert later.mismatches.height == 299 and set(later.mismatches["column"]) == {"score"}  # row 7 held 7
    nothing = pf.export_to_pardot(pl.DataFrame({"email": ["bad"]}), config, progress=False, verify=True)
    assert nothing.verification.rows_checked == 0 and "nothing to verify" in nothing.verification.sample


def test_the_command_line_verifies_and_strict_fails(dropping, tmp_path):
    frame().write_csv(tmp_path / "in.csv")
    config = job_file(tmp_path, dropping, upsert_by_email=True)
    base = ["export", "--config", config, "--input", tmp_path / "in.csv", "--state-dir", tmp_path]
    code, out, _ = cli(*base, "--dry-run", "--json", "--verify")
    planned = json.loads(out)
    assert code == 0 and planned["verify_calls"] == max(3, planned["calls_planned"] // 100)  # 1% at most
    code, out, err = cli(*base, "--verify")
    assert code == 0 and "verified" in out and "colour" in out, err
    code, out, _ = cli(*base, "--verify-sample", "1", "--set", "verify_strict=true", "--json")
    summary = json.loads(out)["verification"]
    assert code == 1 and summary["mismatched_rows"] == ROWS // 100 and summary["sample"] == "all"


def test_an_import_job_verifies_and_a_changed_run_rereads_nothing_unchanged(dropping, tmp_path):
    fast = dict(import_poll_seconds=0.05, import_poll_max=0.2, import_campaign_id=1)
    dropping.configure(import_wait=0.01, import_seconds=0.02)
    config = job(dropping, method="import", upsert_by_email=True, sync_mode="changed", **fast)
    result = pf.export_to_pardot(frame(1000), config, progress=False, state_dir=tmp_path, verify=1.0)
    assert result.extra["method"] == "import" and result.verification.rows_checked == 1000
    assert sorted(result.verification.mismatches["row_nr"]) == [i for i in range(1000) if i % 100 == 7]
    again = pf.export_to_pardot(frame(1000), config, progress=False, state_dir=tmp_path, verify=1.0)
    assert again.unchanged == 1000 and again.verification.rows_checked == 0  # nothing was sent: nothing re-read


def test_a_read_of_an_unknown_business_unit_is_one_line(sim, tmp_path):
    code, _, err = cli("read", "lists", "--config", job_file(tmp_path, sim, business_unit="0Uv000000000009XYZ"))
    assert code == 4 and "201" in err and "Traceback" not in err and len(err.strip().splitlines()) <= 3
