"""Activation output mapping: chosen and renamed columns, built strings, applied before validation."""

import polars as pl
import pytest
from conftest import job
from test_cli import cli, job_file

from pardot_frames import ColumnError, ConfigError, OutputMapping, export_to_pardot

MAPPING = {
    "export_all_columns": False,
    "columns": [{"source": "mail", "output": "email"}, {"source": "fname", "output": "first_name"}],
    "strings": [
        {
            "output": "source",
            "parts": [
                {"text": "segment "},
                {"value": "segment_name"},
                {"text": " #"},
                {"value": "segment_id"},
                {"text": " at "},
                {"value": "timestamp"},
            ],
        }
    ],
    "segment_id": "1234",
    "segment_name": "VIP",
}


def segment(n):
    return pl.DataFrame({"mail": [f"m{i}@x.com" for i in range(n)], "fname": ["Zoë"] * n, "internal": ["x"] * n})


@pytest.mark.email_alone
def test_mapped_export_reaches_pardot_with_one_timestamp(sim, tmp_path):
    path = tmp_path / "seg.parquet"
    segment(250).write_parquet(path)
    result = export_to_pardot(pl.scan_parquet(path), job(sim, output_mapping=MAPPING), chunk_rows=100, progress=False)
    assert result.succeeded == 250
    held = list(sim.state.prospects.values())
    assert {p["email"] for p in held} == {f"m{i}@x.com" for i in range(250)}
    assert all(p["first_name"] == "Zoë" and "internal" not in p and "mail" not in p for p in held)
    sources = {p["source"] for p in held}
    assert len(sources) == 1 and sources.pop().startswith("segment VIP #1234 at 20")  # one stamp for every chunk


@pytest.mark.email_alone
def test_export_all_columns_plus_strings(sim):
    mapping = OutputMapping(
        strings=[{"output": "notes", "parts": [{"text": "audience "}, {"value": "audience_id"}]}], audience_id="77"
    )
    frame = pl.DataFrame({"email": ["a@x.com"], "company": ["Acme"]})
    assert export_to_pardot(frame, job(sim, output_mapping=mapping), progress=False).succeeded == 1
    [p] = sim.state.prospects.values()
    assert (p["company"], p["notes"]) == ("Acme", "audience 77")


def test_mapping_errors_are_found_before_any_call(sim):
    with pytest.raises(ColumnError, match="source column 'mail'"):
        export_to_pardot(pl.DataFrame({"email": ["a@x.com"]}), job(sim, output_mapping=MAPPING), progress=False)
    clash = {**MAPPING, "columns": [{"source": "mail", "output": "email"}, {"source": "fname", "output": "email"}]}
    with pytest.raises(ColumnError, match="'email' is produced more than once"):
        export_to_pardot(segment(1), job(sim, output_mapping=clash), progress=False)
    with pytest.raises(ConfigError, match="segment_id is not set"):
        export_to_pardot(segment(1), job(sim, output_mapping={**MAPPING, "segment_id": None}), progress=False)
    with pytest.raises(ColumnError, match="'first_name'"):  # mapped names are validated like any column
        bad = {
            **MAPPING,
            "columns": [{"source": "mail", "output": "email"}, {"source": "fname", "output": "First Name"}],
        }
        export_to_pardot(segment(1), job(sim, output_mapping=bad), progress=False)
    with pytest.raises(ConfigError, match="either text or value"):
        OutputMapping(strings=[{"output": "x", "parts": [{"text": "a", "value": "timestamp"}]}])
    with pytest.raises(ConfigError, match="set it to false"):
        job(sim, output_mapping={"columns": [{"source": "a"}]})
    assert sim.pardot_calls == 0


def test_output_mapping_in_a_job_file(sim, tmp_path):
    segment(30).write_parquet(tmp_path / "seg.parquet")
    path = job_file(tmp_path, sim)
    with open(path, "a") as handle:
        handle.write(
            '\n[output_mapping]\nexport_all_columns = false\nsegment_name = "Toml"\n'
            'columns = [{source = "mail", output = "email"}]\n'
            '[[output_mapping.strings]]\noutput = "source"\nparts = [{value = "segment_name"}]\n'
        )
    code, out, err = cli("export", "--config", path, "--input", str(tmp_path / "seg.parquet"), "--json")
    assert code == 0, err
    assert {p["source"] for p in sim.state.prospects.values()} == {"Toml"} and len(sim.state.prospects) == 30
