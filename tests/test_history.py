"""The run history (every export and read, one row each, a DuckDB table) and ``--log-json`` (one JSON line per
event): what each run did, queried with SQL, never a secret."""

import json

import duckdb
import polars as pl
import pytest
from conftest import job
from test_cli import cli, job_file

import pardot_frames as pf
from pardot_frames.engine.state.history import path

WEEK_SQL = """
SELECT r.stage, r.message, sum(r.rows) AS rows
FROM runs, unnest(reasons) AS t(r)
WHERE kind = 'export' AND started >= now() - INTERVAL 7 DAY
GROUP BY ALL ORDER BY rows DESC
"""


@pytest.mark.email_alone
def test_every_export_and_read_is_one_row_and_the_weeks_refusals_are_one_query(sim, tmp_path):
    sim.seed(prospects=[{"id": 5, "email": "five@x.com"}])
    rows = pl.DataFrame({"id": [5, 999, None, None], "email": [None, None, "a@x.com", "not-an-email"]})
    first = pf.export_to_pardot(rows, job(sim), progress=False, state_dir=tmp_path)
    second = pf.export_to_pardot(rows.head(1), job(sim), progress=False, state_dir=tmp_path)
    with pytest.raises(pf.AuthError):
        pf.export_to_pardot(rows, job(sim, refresh_token="wrong"), progress=False, state_dir=tmp_path)
    pf.read("lists", pf.Connection(**sim.credentials), state_dir=tmp_path)
    runs = pf.history(tmp_path)
    assert runs["kind"].to_list() == ["read", "export", "export", "export"]  # newest first
    exports = runs.filter(pl.col("kind") == "export").sort("started")
    assert exports["applied"].to_list() == [first.succeeded, second.succeeded, 0]
    assert exports["rejected"].to_list()[:2] == [first.rejected.height, second.rejected.height]
    assert exports["job_id"].to_list()[:2] == [first.job_id, second.job_id]
    assert "invalid_grant" in exports["stopped"][2]  # the error that ended it, one line
    with duckdb.connect(str(path(tmp_path)), read_only=True) as con:
        refused = con.sql(WEEK_SQL).pl()
    assert {"validation", "pardot"} <= set(refused["stage"]) and refused["rows"].sum() == 2  # the bad email, id 999
    text = runs.drop("reasons").write_csv() + str(runs["reasons"].to_list())
    assert sim.credentials["client_secret"] not in text and sim.credentials["refresh_token"] not in text


def test_the_command_line_shows_the_history_and_logs_json_lines(sim, tmp_path):
    sim.seed(prospects=[{"id": 5, "email": "five@x.com"}])
    (tmp_path / "in.csv").write_text("id,company\n5,Acme\n")
    config = job_file(tmp_path, sim)
    code, _, err = cli("--log-json", "export", "--config", config, "--input", tmp_path / "in.csv",
                       "--state-dir", tmp_path)  # fmt: skip
    assert code == 0, err
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events if e["event"] in ("job_start", "chunk", "job_end")] == [
        "job_start", "chunk", "job_end"]  # fmt: skip
    assert all("time" in e and "level" in e for e in events)
    assert sim.credentials["client_secret"] not in err and sim.credentials["refresh_token"] not in err
    code, printed, _ = cli("history", "--json", "--state-dir", tmp_path)
    assert code == 0 and json.loads(printed.splitlines()[0])["applied"] == 1
    code, printed, _ = cli("history", "--state-dir", tmp_path, "--since", "2000-01-01")
    assert code == 0 and "export" in printed and "prospects" in printed
    code, _, err = cli("history", "--since", "yesterday-ish", "--state-dir", tmp_path)
    assert code == 2 and "ISO 8601" in err
