"""The command line against the simulator: exit codes, JSON, files, figures. Commands run in-process through
``main(argv)`` (``cli``); the console script itself runs in a subprocess where a real process matters
(``script``: the installed entry point, signals, a fresh interpreter)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = shutil.which("pardot-frames") or str(Path(sys.executable).with_name("pardot-frames"))


def cli(*args, env=None):
    """Run a pardot-frames command in this process; returns (exit code, stdout, stderr). An exception that
    escapes ``main`` is printed as the interpreter would, so "no traceback" assertions hold as for a process."""
    import contextlib
    import io
    import traceback

    from pardot_frames.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    saved, argv = dict(os.environ), sys.argv
    os.environ.update(env or {})
    sys.argv = ["pardot-frames", *map(str, args)]  # the resume command is rebuilt from the command line
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse: --help, --version, usage errors
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
            except Exception:
                traceback.print_exc()
                code = 1
    finally:
        os.environ.clear()
        os.environ.update(saved)
        sys.argv = argv
    return code, out.getvalue(), err.getvalue()


def script(*args, env=None, timeout=120):
    """Run the installed console script in a subprocess; returns (exit code, stdout, stderr)."""
    full_env = {**os.environ, **(env or {})}
    done = subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=timeout, env=full_env)
    return done.returncode, done.stdout, done.stderr


def job_file(tmp_path, sim, **extra):
    values = {**sim.credentials, "initial_retry_wait": 0.01, "maximum_retry_wait": 0.05, **extra}
    path = tmp_path / "job.toml"
    path.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + "\n")
    return str(path)


QUERY = (
    "select 'c' || i || '@example.com' as email, 'Zoë ' || i as first_name, 'pw' || i as password from range(300) t(i)"
)


def test_version_and_help_document_exit_codes():
    code, out, _ = script("--version")  # the installed console script, in a fresh interpreter
    assert code == 0 and out.startswith("pardot-frames ")
    code, out, _ = cli("export", "--help")
    assert code == 0 and "3  stopped by the daily API limit" in out and "--dry-run" in out
    for command in (["schedule"], ["auth"], ["export"], ["simulator"]):
        code, out, _ = cli(*command, "--help")
        assert code == 0 and "``" not in out, command  # no reStructuredText quoting in help


def test_export_query_json_and_final_state(sim, tmp_path):
    sim.seed(lists=[5])
    code, out, err = cli(
        "export", "--config", job_file(tmp_path, sim), "--query", QUERY, "--set", "prospect_lists=5", "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["succeeded"] == 300 and summary["api_calls"] == summary["planned_calls"]
    assert len(sim.state.prospects) == 300 and len(sim.state.members(5)) == 300


def test_rejected_rows_file_and_exit_1(sim, tmp_path):
    query = QUERY.replace(
        "'c' || i || '@example.com'", "case when i % 100 = 1 then 'bad' else 'c' || i || '@x.com' end"
    )
    out_file = tmp_path / "out" / "rejected.csv"
    code, out, err = cli(
        "export", "--config", job_file(tmp_path, sim), "--query", query, "--rejected-out", str(out_file)
    )
    assert code == 1, err
    rejected = pl.read_csv(out_file)
    assert rejected["row_nr"].to_list() == [1, 101, 201] and set(rejected["stage"]) == {"validation"}
    assert set(rejected["password"]) == {"**********"} and "pw1" not in out_file.read_text()
    assert len(sim.state.prospects) == 297 and "rejected rows: 3" in out


def test_dry_run_figures_equal_the_real_run(sim, tmp_path):
    job = job_file(tmp_path, sim, max_payload=2500)
    code, out, _ = cli("export", "--config", job, "--query", QUERY, "--dry-run", "--json", "--daily-limit", "1000")
    planned = json.loads(out)
    # with credentials the dry run reads the account's fields and its recycle bin (a call each, both kept):
    # nothing else goes out
    assert code == 0 and planned["calls_planned"] > 1 and sim.pardot_calls == 2
    assert sim.state.calls_by_endpoint["prospect/batchUpsert"] == 0
    assert planned["daily_limit_share"] == round(planned["calls_planned"] / 1000, 6)
    code, out, _ = cli("export", "--config", job, "--query", QUERY, "--json")
    assert json.loads(out)["api_calls"] == planned["calls_planned"] == sim.pardot_calls - 2  # both kept


def test_bad_config_is_one_line_and_sends_nothing(sim, tmp_path):
    code, out, err = cli("export", "--config", job_file(tmp_path, sim), "--query", QUERY, "--set", "max_paylod=10")
    assert code == 2 and "did you mean max_payload?" in err and "Traceback" not in err and "hint:" in err
    code, _, err = cli("export", "--config", job_file(tmp_path, sim), "--query", "select nope from nowhere")
    assert code == 2 and "DuckDB" in err
    code, _, err = cli("export", "--config", job_file(tmp_path, sim), "--query", 'select 1 as "First Name"')
    assert code == 2 and "first_name" in err
    assert sim.pardot_calls == 0


def test_daily_limit_exit_3_and_auth_failure_exit_4(sim, tmp_path):
    sim.configure(daily_limit=2)
    code, out, _ = cli("export", "--config", job_file(tmp_path, sim, max_payload=1500), "--query", QUERY, "--json")
    summary = json.loads(out)
    assert code == 3 and summary["not_sent"] > 0 and summary["succeeded"] == len(sim.state.prospects)
    code, _, err = cli("export", "--config", job_file(tmp_path, sim, refresh_token="WRONG-secret"), "--query", QUERY)
    assert code == 4 and "invalid_grant" in err and "WRONG" not in err


def test_input_files(sim, tmp_path):
    frame = pl.DataFrame({"email": ["a@x.com", "b@x.com"], "zip": ["00123", "04567"]})
    frame.write_parquet(tmp_path / "in.parquet")
    frame.write_csv(tmp_path / "in.csv")
    for name in ("in.parquet", "in.csv"):
        code, _, err = cli("export", "--config", job_file(tmp_path, sim), "--input", str(tmp_path / name))
        assert code == 0, err
    assert sorted(p["zip"] for p in sim.state.prospects.values()) == ["00123", "00123", "04567", "04567"]


def test_demo_and_the_sql_samples_run_as_they_are(tmp_path):
    code, out, err = cli("demo", "--rows", "400", "--out", str(tmp_path), "--json", "--latency", "0")
    assert code == 0, err
    prospects, members = (json.loads(line) for line in out.strip().splitlines())
    assert prospects["succeeded"] + prospects["rejected_validation"] == 400 and members["rejected_pardot"] == 2
    database = str(tmp_path / "demo.duckdb")
    for sql, extra in [
        ("prospects_by_id.sql", []),
        ("prospects_by_email.sql", []),
        ("list_memberships.sql", ["--set", "data_object=list_memberships"]),
    ]:
        code, out, err = cli(
            "export", "--database", database, "--sql", str(ROOT / "sql" / sql), "--dry-run", "--json", *extra
        )
        assert code == 0, (sql, err)
        assert json.loads(out)["valid"] > 0


def test_demo_sql_file_is_the_packaged_one():
    from pardot_frames.demo import DEMO_SQL

    assert (ROOT / "sql" / "demo_prospects.sql").read_text() == DEMO_SQL.format(rows=3000)


@pytest.mark.parametrize("flag, name", [("--input", "none.parquet"), ("--sql", "none.sql")])
def test_missing_input_errors(flag, name, tmp_path):
    code, _, err = cli("export", flag, str(tmp_path / name), "--dry-run")
    assert code == 2 and f"{flag} " in err and "does not exist" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "source, expected",
    [
        (["--query", "select cast('x' as int) as id"], "Conversion Error"),
        (["--query", "select * from no_such_table"], "no_such_table"),
        (["--input", "{tmp}/corrupt.parquet"], "cannot read the input"),
        (["--input", "{tmp}/malformed.csv"], "cannot read the input"),
        (["--input", "{tmp}/missing.csv"], "does not exist"),
        (["--sql", "{tmp}/missing.sql"], "does not exist"),
        (["--query", "select 1 as id", "--database", "{tmp}/missing.duckdb"], "does not exist"),
    ],
)
def test_unreadable_sources_print_one_line_and_a_hint_and_send_nothing(tmp_path, sim, capsys, source, expected):
    from pardot_frames.cli.main import main

    (tmp_path / "corrupt.parquet").write_bytes(b"PAR1 not really parquet")
    (tmp_path / "malformed.csv").write_text('email,first_name\n"a@b.com,x\nc@d.com,"y\n')
    args = [a.replace("{tmp}", str(tmp_path)) for a in source]
    code = main(["export", "--config", job_file(tmp_path, sim), *args, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and expected in err.splitlines()[0] and "hint: " in err
    assert "Traceback" not in err
    assert sim.pardot_calls == 0 and not sim.state.prospects


def test_the_resume_command_printed_after_a_stop_never_repeats_a_secret(tmp_path, sim):
    creds = sim.credentials
    values = {k: v for k, v in creds.items() if k not in ("client_secret", "refresh_token")}
    path = tmp_path / "job.toml"
    path.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + "\n")
    sim.configure(daily_limit=3)
    code, out, err = cli(
        "export", "--config", str(path), "--query", QUERY, "--no-progress", "--state-dir", str(tmp_path / "s"),
        "--set", f"client_secret={creds['client_secret']}", f"--set=refresh_token={creds['refresh_token']}",
        "--set", "max_payload=1500",
    )  # fmt: skip
    assert code == 3, err
    resume = next(line for line in err.splitlines() if line.startswith("resume with: "))
    assert creds["client_secret"] not in out + err and creds["refresh_token"] not in out + err
    assert "PARDOT_CLIENT_SECRET=..." in resume and "PARDOT_REFRESH_TOKEN=..." in resume
    assert "--set max_payload=1500" in resume and "--resume " in resume
    env = {"PARDOT_CLIENT_SECRET": creds["client_secret"], "PARDOT_REFRESH_TOKEN": creds["refresh_token"]}
    sim.configure(daily_limit=None)
    command = resume.removeprefix("resume with: ").split(" pardot-frames ", 1)[1].split("  (secrets")[0]
    import shlex

    code, out, err = cli(*shlex.split(command), env=env)
    assert code == 0, err
    assert len(sim.state.prospects) == 300
