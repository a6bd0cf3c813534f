"""Stopped jobs resume from the journal without resending what Pardot already has."""

import random
import signal
import subprocess
import time

import duckdb
import polars as pl
import pytest
from conftest import job
from netutil import call_held
from test_cli import SCRIPT, cli, job_file

from pardot_frames import ConfigError, export_to_pardot
from pardot_frames.engine.state.journal import list_jobs


def people(n):
    return pl.DataFrame({"email": [f"r{i}@example.com" for i in range(n)], "company": [f"C{i}" for i in range(n)]})


def emails(sim):
    return [p["email"] for p in sim.state.prospects.values()]


@pytest.mark.email_alone
def test_daily_limit_then_resume_sends_only_the_rest(sim):
    sim.configure(daily_limit=5)
    config = job(sim, max_payload=1500)
    first = export_to_pardot(people(600), config, progress=False)
    assert first.stopped and first.not_sent > 0 and first.job_id
    applied_first = len(sim.state.prospects)
    sim.configure(daily_limit=None)
    calls_before = sim.pardot_calls
    second = export_to_pardot(people(600), config, resume=True, progress=False)
    assert second.succeeded == 600 and second.not_sent == 0 and second.job_id == first.job_id
    assert second.extra["rows_done_before"] == applied_first
    assert sorted(emails(sim)) == sorted(people(600)["email"])  # every row once, none twice
    assert sim.pardot_calls - calls_before == second.api_calls < first.planned_calls
    assert [j.status for j in list_jobs()] == ["finished"]


@pytest.mark.email_alone
def test_resume_refuses_other_input_or_config(sim):
    sim.configure(daily_limit=2)
    export_to_pardot(people(300), job(sim, max_payload=1500), progress=False)
    sim.configure(daily_limit=None)
    with pytest.raises(ConfigError, match="input differs"):
        export_to_pardot(people(301), job(sim, max_payload=1500), resume=True, progress=False)
    with pytest.raises(ConfigError, match="no job 'nope'"):
        export_to_pardot(people(300), job(sim), resume="nope", progress=False)
    # tuning knobs may change between runs
    result = export_to_pardot(people(300), job(sim, max_payload=1500, parallel_tasks=3), resume=True, progress=False)
    assert result.succeeded == 300 and sorted(emails(sim)) == sorted(people(300)["email"])


def test_resume_without_an_unfinished_job_starts_the_job_and_says_so(sim, tmp_path):
    """A retry loop that always passes --resume runs the job: a job stopped before its journal existed sent
    nothing (the journal is written before the first call)."""
    from test_cli import cli, job_file

    config = job_file(tmp_path, sim)
    query = "select 'r' || i || '@example.com' as email from range(40) t(i)"
    code, out, err = cli("export", "--config", config, "--query", query, "--resume", "--json", "--state-dir", tmp_path)
    assert code == 0, err
    assert "warning: resume: no unfinished job with this configuration; starting it" in err
    assert sorted(p["email"] for p in sim.state.prospects.values()) == sorted(f"r{i}@example.com" for i in range(40))
    code, _, err = cli("export", "--config", config, "--query", query, "--resume", "nope", "--state-dir", tmp_path)
    assert code == 2 and "no job 'nope'" in err and len(sim.state.prospects) == 40


@pytest.mark.email_alone
def test_transient_rejections_are_retried_on_resume_permanent_ones_are_not(sim):
    sim.seed(prospects=[{"id": 5, "email": "five@x.com"}])
    frame = pl.DataFrame({"id": [5, 999] + [None] * 50, "email": [None, None] + [f"t{i}@x.com" for i in range(50)]})
    sim.configure(faults={"http_5xx": 1.0})
    config = job(sim, maximum_retries=1, check_fields=False, check_deleted=False)
    first = export_to_pardot(frame, config, progress=False)
    assert first.rejected_pardot == 52 and not emails(sim)[1:]
    sim.configure(faults={"http_5xx": 0.0})
    second = export_to_pardot(frame, config, resume=True, progress=False)  # the same job: a resume, not a new one
    assert second.extra.get("resumed") and second.succeeded == 51 and second.rejected_pardot == 1
    assert second.rejected["message"].to_list() == ["Invalid prospect ID"]


def kill_and_resume(sim, tmp_path, seed, *, signal_to_send):
    """Start a CLI export, stop it part-way, resume it; returns the exit codes and stderr."""
    sim.configure(latency=0.03)
    path = tmp_path / "in.parquet"
    people(1200).write_parquet(path)
    job_path = job_file(tmp_path, sim, max_payload=800, parallel_tasks=4)
    args = ["export", "--config", job_path, "--input", str(path), "--no-progress", "--json"]
    process = subprocess.Popen([SCRIPT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    target = random.Random(seed).randint(3, 40)
    sim.configure(faults={"hold_from_call": target})  # call `target` is applied, then it and later ones wait
    assert call_held(sim, process) and process.poll() is None  # the process is stopped at a known point
    process.send_signal(signal_to_send)
    if signal_to_send != signal.SIGKILL:
        sim.configure(faults={"hold_from_call": None})  # Ctrl-C lets the calls in flight finish
    _, first_err = process.communicate(timeout=60)
    sim.configure(faults={"hold_from_call": None})
    code, out, err = cli(*args, "--resume")
    return process.returncode, first_err, code, err


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_at_random_points_then_resume(sim, tmp_path, seed):
    first_code, _, code, err = kill_and_resume(sim, tmp_path, seed, signal_to_send=signal.SIGKILL)
    assert first_code == -9
    assert code == 0, err
    held = emails(sim)
    assert len(held) == len(set(held)) == 1200  # none lost, none created twice


def test_ctrl_c_stops_cleanly_and_prints_the_resume_command(sim, tmp_path):
    first_code, first_err, code, err = kill_and_resume(sim, tmp_path, 4, signal_to_send=signal.SIGINT)
    assert first_code == 130 and "resume with: pardot-frames export" in first_err and "--resume" in first_err
    assert code == 0, err
    held = emails(sim)
    assert len(held) == len(set(held)) == 1200


@pytest.mark.email_alone
def test_jobs_list_and_prune(sim, tmp_path):
    export_to_pardot(people(10), job(sim), progress=False)
    code, out, _ = cli("jobs")
    assert (
        code == 0
        and "finished" in out
        and out.splitlines()[0].split()
        == ["job", "id", "status", "object", "rows", "applied", "rejected", "not", "sent"]
    )
    assert out.splitlines()[1].split()[-3:] == ["10", "0", "0"]
    code, out, _ = cli("jobs", "prune", "--older-than", "0")
    assert code == 0 and "removed 1 journal" in out and not list_jobs()


@pytest.mark.email_alone
def test_journal_holds_no_secrets_and_is_private(sim):
    frame = pl.DataFrame({"email": ["a@b.com", "bad"], "password": ["pw-TOPSECRET", "pw-TOPSECRET2"]})
    sim.configure(client_secret="cs-TOPSECRET")
    result = export_to_pardot(frame, job(sim, client_secret="cs-TOPSECRET"), progress=False)
    [info] = list_jobs()
    assert oct(info.path.stat().st_mode & 0o777) == "0o600"
    con = duckdb.connect(str(info.path), read_only=True)
    dump = str(con.execute("SELECT * FROM job").fetchall()) + str(con.execute("SELECT * FROM log").fetchall())
    con.close()
    assert "TOPSECRET" not in dump and "sim-refresh-token" not in dump and result.job_id in dump


def test_a_strict_job_stopped_by_a_refused_row_resumes_past_it(sim):
    from pardot_frames import JobFailed

    sim.seed(prospects=[{"id": 10 + i, "email": f"s{i}@example.com"} for i in range(200)])
    ids = [10 + i for i in range(200)]
    ids[30] = 999_999  # Pardot refuses it: "Invalid prospect ID"
    frame = pl.DataFrame({"id": ids, "company": [f"New{i}" for i in range(200)]})
    config = job(sim, skip_invalid_records=False, max_payload=800)
    with pytest.raises(JobFailed) as info:
        export_to_pardot(frame, config, progress=False)
    first = info.value.result
    assert first.rejected_pardot == 1 and first.not_sent > 0
    again = export_to_pardot(frame, config, progress=False, resume=True)  # does not stop at once again
    assert again.succeeded == 199 and again.not_sent == 0 and again.rejected_pardot == 1
    assert again.rejected.filter(pl.col("stage") == "pardot")["row_nr"].to_list() == [30]
    held = {p["id"]: p.get("company") for p in sim.state.prospects.values()}
    assert all(held[10 + i] == f"New{i}" for i in range(200) if i != 30) and 999_999 not in held


def test_ctrl_c_during_email_lookups_stops_within_a_second_and_names_the_job(sim, tmp_path):
    """Lookups go out before a chunk's calls, outside the worker pool: the client itself starts no new call
    once Ctrl-C was pressed. The first and the second Ctrl-C both name the job and how to resume it."""
    import subprocess

    from netutil import read_line
    from test_cli import SCRIPT, job_file

    sim.seed(prospects=[{"id": i, "email": f"seed{i}@x.com"} for i in range(1, 9001)])  # reads beat listing
    sim.configure(latency=0.1)
    query = "select 'look' || i || '@example.com' as email from range(30) t(i)"
    config = job_file(tmp_path, sim, upsert_by_email=True, check_fields=False)
    args = [SCRIPT, "export", "--config", config, "--query", query, "--no-progress", "--state-dir", str(tmp_path)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while sim.state.calls_by_endpoint["prospect/read"] < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sim.state.calls_by_endpoint["prospect/read"] >= 5, "the lookups never started"
    process.send_signal(signal.SIGINT)
    pressed, reads = time.monotonic(), sim.state.calls_by_endpoint["prospect/read"]
    first = read_line(process.stderr, 10)
    assert "stopping: no new call starts" in first and "--resume" in first
    _, err = process.communicate(timeout=30)
    assert time.monotonic() - pressed < 1.5 and process.returncode == 130, err
    assert sim.state.calls_by_endpoint["prospect/read"] - reads <= 1  # at most the one in flight
    assert "resume with: pardot-frames export" in err and "Traceback" not in err
    assert sim.state.calls_by_endpoint["prospect/batchUpsert"] == 0  # nothing was created for unread emails


def test_a_second_ctrl_c_stops_at_once_and_still_names_the_job(sim, tmp_path):
    """Calls in flight that never end (held by the simulator): the second Ctrl-C cuts them off; the job id and
    the resume command are printed, and a resume finishes the job with every row once."""
    import subprocess

    from netutil import read_line
    from test_cli import SCRIPT, job_file

    query = "select 'twice' || i || '@example.com' as email from range(300) t(i)"
    config = job_file(tmp_path, sim, max_payload=1500, check_fields=False)
    args = [SCRIPT, "export", "--config", config, "--query", query, "--no-progress", "--state-dir", str(tmp_path)]
    sim.configure(faults={"hold_from_call": 2})
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert call_held(sim, process), "no call was held"
    process.send_signal(signal.SIGINT)
    first = read_line(process.stderr, 10)
    assert "stopping: no new call starts" in first  # taken; calls in flight are held: the job cannot end itself
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    sim.configure(faults={"hold_from_call": None})
    assert process.returncode == 130 and "stopping at once" in err and "Traceback" not in err, err
    resume = next(line for line in err.splitlines() if line.startswith("resume with: "))
    done = subprocess.run([*args, "--resume"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    held = sorted(p["email"] for p in sim.state.prospects.values())
    assert held == sorted(f"twice{i}@example.com" for i in range(300)) and "--resume" in resume
