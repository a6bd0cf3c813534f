"""A new user's first hour (issue #21), one test per item, through the command line where the item is about
it: silent duplicates, the dry run, network failures, input, messages, figures, state and output, docs.
(Ctrl-C and --resume are in test_resume.py; the dry run = the run in every mode in test_dry_equals_run.py.)"""

import json
import time

import polars as pl
import pytest
from conftest import job
from netutil import free_port
from test_cli import cli, job_file

from pardot_frames import dry_run, export_to_pardot

EMAILS = "select 'dup' || i || '@example.com' as email, 'Zoë' as first_name from range(25) t(i)"


def test_1_email_only_rows_are_counted_and_warned_about_once(sim, tmp_path):
    config = job_file(tmp_path, sim)
    code, out, _ = cli("export", "--config", config, "--query", EMAILS, "--dry-run", "--json")
    assert code == 0 and json.loads(out)["rows_may_create_prospects"] == 25
    code, _, err = cli("export", "--config", config, "--query", EMAILS)
    assert code == 0 and err.count("warning: 25 row(s) name their prospect by email alone") == 1
    assert "upsert_by_email = true" in err
    code, _, err = cli("export", "--config", config, "--query", EMAILS, "--set", "upsert_by_email=true")
    assert code == 0 and "by email alone" not in err
    assert len(sim.state.prospects) == 25  # the second run matched by email: no third copy
    frame = pl.DataFrame({"id": [1], "email": ["x@example.com"]})
    assert dry_run(frame, job(sim)).may_create == 0  # rows with an id never create


def test_4_network_failures_end_in_one_line_never_a_traceback(sim, tmp_path):
    sim.configure(faults={"http_5xx": 1.0})
    code, _, err = cli("fields", "--config", job_file(tmp_path, sim, maximum_retries=1))
    assert code == 4 and "gave up after 1 retries: HTTP 50" in err and "Traceback" not in err
    sim.configure(faults={"http_5xx": 0.0})
    calls = sim.pardot_calls
    closed = f"http://127.0.0.1:{free_port()}"
    offline = job_file(tmp_path, sim, login_url=closed, pardot_domain=closed)
    started = time.monotonic()
    code, out, err = cli("export", "--config", offline, "--query", EMAILS, "--dry-run", "--json")
    summary = json.loads(out)  # the dry run still plans, and says what it could not check
    assert code == 0 and summary["valid"] == 25 and summary["calls_planned"] >= 1
    assert "not checked" in summary["note"] and "connection refused" in summary["note"]
    code, _, err = cli("export", "--config", offline, "--query", EMAILS)
    assert code == 4 and f"cannot log in: cannot connect to {closed} (connection refused)" in err
    assert "Traceback" not in err and time.monotonic() - started < 10, err  # refused: no retries, no silence
    assert sim.pardot_calls == calls  # nothing reached the account


def test_4_login_retries_are_announced(sim, tmp_path):
    from pardot_frames.errors import AuthError

    sim.configure(faults={"http_5xx": 1.0})  # the simulator's faults cover Pardot calls, not the login:
    # the login server is a host that answers 503 here
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Busy(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        login = f"http://127.0.0.1:{server.server_address[1]}"
        code, _, err = cli("export", "--config", job_file(tmp_path, sim, login_url=login, maximum_retries=2),
                           "--query", EMAILS)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert code == 4 and err.count(f"warning: login at {login} failed (HTTP 503): try ") == 2
    assert "cannot log in at" in err and "after 3 tries" in err and AuthError.__name__ not in err


@pytest.mark.email_alone
def test_4_the_python_api_ends_only_with_documented_errors(sim, tmp_path):
    from pardot_frames import ConfigError, InputError, PardotError, fields

    sim.configure(faults={"http_5xx": 1.0})
    config = job(sim, maximum_retries=1)
    for call in (lambda: fields(config, state_dir=tmp_path), lambda: export_to_pardot(
            pl.DataFrame({"email": ["a@x.com"]}), config, progress=False, state_dir=tmp_path)):  # fmt: skip
        try:
            call()
        except (ConfigError, InputError, PardotError) as exc:
            assert "gave up after 1 retries" in str(exc)
        else:
            raise AssertionError("a failing network must raise")
    planned = dry_run(pl.DataFrame({"email": ["a@x.com"]}), config, state_dir=tmp_path)
    assert planned.valid == 1 and "not checked" in (planned.note or "")


def test_5_csv_separators_are_found_and_can_be_forced(sim, tmp_path):
    rows = ["email;first_name;zip", "semi@x.com;Zoë;00123", "colon@x.com;Ana;04567"]
    (tmp_path / "semi.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "pipe.csv").write_text("\n".join(r.replace(";", "|") for r in rows) + "\n", encoding="utf-8")
    (tmp_path / "tab.csv").write_text("\n".join(r.replace(";", "\t") for r in rows) + "\n", encoding="utf-8")
    config = job_file(tmp_path, sim, upsert_by_email=True)
    for name in ("semi.csv", "pipe.csv", "tab.csv"):
        code, out, err = cli("export", "--config", config, "--input", tmp_path / name, "--dry-run", "--json")
        assert code == 0 and json.loads(out)["valid"] == 2, (name, err)
    code, _, err = cli("export", "--config", config, "--input", tmp_path / "semi.csv", "--csv-delimiter", "comma")
    assert code == 2 and "'email;first_name;zip' is not a Pardot field name" in err  # forced: one column
    code, _, err = cli("export", "--config", config, "--input", tmp_path / "semi.csv", "--csv-delimiter", "semicolon")
    assert code == 0, err
    assert sorted((p["email"], p["zip"]) for p in sim.state.prospects.values()) == [
        ("colon@x.com", "04567"),
        ("semi@x.com", "00123"),
    ]


def test_5_suggestions_name_only_real_fields(sim, tmp_path):
    config = job_file(tmp_path, sim)
    code, _, err = cli("export", "--config", config, "--query", 'select 1 as "E-mail", 2 as "Favourite Colour"')
    assert code == 2 and "'E-mail' is not a Pardot field name" in err and "did you mean 'email'?" in err
    assert "e_mail" not in err and "favourite_colour" not in err and "API name" in err


def test_6_messages_fit_the_error(sim, tmp_path):
    config = job_file(tmp_path, sim)
    code, _, err = cli("export", "--config", config, "--query", EMAILS, "--set", "parallel_tasks=9", "--dry-run")
    assert code == 0 and err.count("parallel_tasks=9") == 1 and "UserWarning" not in err and ".py:" not in err
    code, _, err = cli("export", "--config", config, "--query", EMAILS.replace("25", "5000"), "--set", "method=import")
    assert code == 2 and "5,000 row(s) would create prospects" in err
    (tmp_path / "empty.csv").write_text("")
    for args, says in (
        (("--query", "selec 1"), "the SQL failed in DuckDB"),
        (("--input", tmp_path / "missing.csv"), "does not exist"),
        (("--input", tmp_path / "empty.csv"), "is empty"),
    ):
        code, _, err = cli("export", "--config", config, *args)
        assert code == 2 and says in err and "--rejected-out" not in err and "hint: check the --input file" in err
    code, _, err = cli("export", "--config", job_file(tmp_path, sim, client_secret="wrong"), "--query", EMAILS)
    assert code == 4 and "consumer secret" in err and "refresh token" not in err and "scopes" not in err
    big = "select 'b@x.com' as email, repeat('n', 9000) as comments"
    code, out, _ = cli("export", "--config", config, "--query", big, "--dry-run", "--json")
    assert 'payload_location = \\"body\\"' in out  # the oversized row's reason says how to send it
    from pardot_frames import ConfigError, ExportConfig

    with pytest.raises(ConfigError) as refused:  # a Python user's ConfigError speaks of parameters, not of --set
        ExportConfig(payload_location="sideways")
    assert "--set" not in str(refused.value) and "payload_location" in str(refused.value)
    with pytest.raises(ConfigError) as missing:
        export_to_pardot(pl.DataFrame({"email": ["a@x.com"]}), ExportConfig(), progress=False)
    assert "--set" not in str(missing.value) and "client_id is required" in str(missing.value)


def test_6_a_closed_pipe_ends_quietly(sim, tmp_path):
    import io

    export_to_pardot(pl.DataFrame({"id": [1]}), job(sim), progress=False, state_dir=tmp_path)

    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    import contextlib

    from pardot_frames.cli.main import main

    err = io.StringIO()
    with contextlib.redirect_stdout(Closed()), contextlib.redirect_stderr(err):
        code = main(["jobs", "--state-dir", str(tmp_path)])
    assert code == 0 and "Broken pipe" not in err.getvalue()


def test_7_planned_and_made_calls_agree_and_say_why(sim, tmp_path):
    config = job_file(tmp_path, sim, prospect_lists="Brand new", create_missing_lists=True)
    code, out, _ = cli("export", "--config", config, "--query", EMAILS, "--json", "--state-dir", tmp_path)
    summary = json.loads(out)
    assert code == 0 and summary["api_calls"] == summary["planned_calls"]  # the list's query and creation
    assert summary["setup_calls"] == 4  # the fields, the recycle bin, the list query, the list's creation
    code, out, _ = cli("export", "--config", config, "--query", EMAILS, "--state-dir", tmp_path)
    assert "of them to set up" in out
    code, out, _ = cli("export", "--config", job_file(tmp_path, sim, method="import", import_campaign_id=1),
                       "--query", EMAILS, "--dry-run")  # fmt: skip
    assert "CSV batches (Import API)" in out and "query" not in out.split("payload in")[1].splitlines()[0]


def test_8_rejected_rows_have_one_column_set_in_the_inputs_kind(sim, tmp_path):
    import pandas as pd

    from pardot_frames import validate

    sim.seed(prospects=[{"id": 1, "email": "one@x.com"}])
    frame = pl.DataFrame({"id": [1, 999_999, None], "email": [None, None, "not an email"], "company": ["A", "B", "C"]})
    checked = validate(frame, job(sim))
    result = export_to_pardot(frame, job(sim), progress=False, state_dir=tmp_path)
    columns = ["row_nr", "stage", "error_code", "column", "message", "id", "email", "company"]
    assert checked.rejected.columns == result.rejected.columns == columns
    assert checked.rejected.row(0) == (2, "validation", None, "email", checked.rejected["message"][0], None,
                                       "not an email", "C")  # fmt: skip
    refused = result.rejected.filter(pl.col("stage") == "pardot").row(0, named=True)
    assert refused["row_nr"] == 1 and refused["error_code"] == 3 and refused["message"] == "Invalid prospect ID"
    from_pandas = export_to_pardot(frame.to_pandas(), job(sim), progress=False, state_dir=tmp_path)
    assert isinstance(from_pandas.rejected, pd.DataFrame) and list(from_pandas.rejected.columns) == columns


@pytest.mark.email_alone
def test_8_listings_have_headers_and_objects_read_well(sim, tmp_path):
    from pardot_frames import ExportConfig

    code, out, _ = cli("fields", "--config", job_file(tmp_path, sim), "--state-dir", tmp_path)
    assert code == 0 and out.splitlines()[0].split() == ["field", "kind", "type", "several", "values"]
    text = repr(ExportConfig(**sim.credentials, prospect_lists=[7]))
    assert text.count("\n") <= 10 and "**********" in text and sim.credentials["client_secret"] not in text
    result = export_to_pardot(pl.DataFrame({"email": ["a@x.com", "bad"]}), job(sim), progress=False,
                              state_dir=tmp_path)  # fmt: skip
    html = result._repr_html_()
    assert html.count("<tr>") < 20 and "rejected rows: result.rejected (1)" in html


def test_9_init_writes_a_job_file_that_runs(sim, tmp_path):
    path = tmp_path / "job.toml"
    code, out, _ = cli("init", "--out", path, "--host", sim.pardot_domain, "--business-unit",
                       sim.credentials["business_unit"], "--match", "email")  # fmt: skip
    assert code == 0 and "next: pardot-frames export --config" in out and "upsert_by_email = true" in path.read_text()
    import tomllib

    assert not {"client_secret", "refresh_token"} & set(tomllib.loads(path.read_text()))  # never secrets
    env = {"PARDOT_CLIENT_ID": sim.credentials["client_id"], "PARDOT_CLIENT_SECRET": sim.credentials["client_secret"],
           "PARDOT_REFRESH_TOKEN": sim.credentials["refresh_token"]}  # fmt: skip
    code, out, err = cli("export", "--config", path, "--query", EMAILS, "--set", f"login_url={sim.login_url}",
                         "--dry-run", "--json", env=env)  # fmt: skip
    assert code == 0 and json.loads(out)["rows_may_create_prospects"] == 0, err
    code, _, err = cli("init", "--out", path)
    assert code == 2 and "exists" in err
    code, out, _ = cli("export", "--help")
    assert "Commands:" not in out and "Exit codes" in out


def test_9_the_readme_python_snippet_runs_as_it_is(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    snippet = readme.split("## Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "'valid': 2" in out and "2 of 3 row(s) applied" in out and "not-an-email" in out


def test_2_the_dry_run_of_a_changed_job_with_a_named_list_is_right(sim, tmp_path):
    sim.seed(lists=[{"id": 9001, "name": "Newsletter"}])
    rows = "select 'ch' || i || '@example.com' as email, 'Zoë' as first_name from range(200) t(i)"
    config = job_file(tmp_path, sim, sync_mode="changed", prospect_lists="Newsletter", upsert_by_email=True)
    base = ["export", "--config", config, "--query", rows, "--state-dir", tmp_path, "--json"]
    for _ in range(2):
        code, out, err = cli(*base)
        assert code == 0, err
    code, out, _ = cli(*base, "--dry-run")
    planned = json.loads(out)
    assert (planned["new"], planned["changed"], planned["unchanged"]) == (0, 0, 200)
    assert planned["calls_planned"] == 1 and planned["lists"] == {"Newsletter": 9001}  # the list's query alone
    code, out, _ = cli(*base)
    done = json.loads(out)
    assert done["api_calls"] == done["planned_calls"] == 1 and done["unchanged"] == 200
    frame = pl.DataFrame({"email": [f"a{i}@x.com" for i in range(30)]})
    auto = dry_run(frame, job(sim, upsert_by_email=True, method="auto"))
    assert auto.lookups > 0  # method "auto" plans the lookups of the method it picks (batch here)
