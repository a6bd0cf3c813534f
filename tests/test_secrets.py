"""Secrets never appear in outputs: scan everything a job leaves behind for distinctive values."""

import logging
import traceback

import duckdb
import polars as pl
import pytest
from conftest import job
from test_cli import cli, job_file

from pardot_frames import AuthError, export_to_pardot
from pardot_frames.engine.state.journal import list_jobs

SECRET, TOKEN, PASSWORD, WRONG = "CS-ZZSECRET-1", "RT-ZZSECRET-2", "PW-ZZSECRET-3", "RT-ZZSECRET-WRONG"
MARKERS = ("ZZSECRET", "sim-at-")  # our secrets, and the simulator's access tokens


def clean(text: str) -> bool:
    return not any(marker in text for marker in MARKERS)


@pytest.fixture
def secret_sim(sim):
    sim.configure(client_secret=SECRET, refresh_tokens=[TOKEN])
    sim.seed(lists=[1])
    return sim


def frame():
    return pl.DataFrame(
        {
            "id": [None, None, 424242],
            "email": ["a@b.com", "broken", None],
            "password": [PASSWORD, PASSWORD, PASSWORD],
        }
    )


@pytest.mark.email_alone
def test_python_api_outputs_are_clean(secret_sim, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    config = job(secret_sim, client_secret=SECRET, refresh_token=TOKEN, prospect_lists="1")
    result = export_to_pardot(frame(), config, progress=False)
    assert result.succeeded == 1 and result.rejected.height == 2  # one validation, one Pardot rejection
    result.rejected.write_csv(tmp_path / "r.csv")
    result.rejected.write_parquet(tmp_path / "r.parquet")
    texts = [
        repr(config),
        str(config),
        str(config.safe_dict()),
        repr(result),
        result._repr_html_(),
        str(result.summary()),
        str(result.rejected.to_dicts()),
        (tmp_path / "r.csv").read_text(),
        str(pl.read_parquet(tmp_path / "r.parquet").to_dicts()),
        caplog.text,
    ]
    [info] = list_jobs()
    con = duckdb.connect(str(info.path), read_only=True)
    texts.append(str(con.execute("SELECT * FROM job").fetchall()) + str(con.execute("SELECT * FROM log").fetchall()))
    con.close()
    texts.append(info.path.read_bytes().decode("latin-1"))  # the raw journal file
    assert all(clean(t) for t in texts), [t[:200] for t in texts if not clean(t)]


def test_exceptions_are_clean(secret_sim):
    with pytest.raises(AuthError) as info:
        export_to_pardot(frame(), job(secret_sim, client_secret=SECRET, refresh_token=WRONG), progress=False)
    text = "".join(traceback.format_exception(info.value)) + repr(info.value)
    assert "invalid_grant" in text and clean(text)


def test_command_line_outputs_are_clean(secret_sim, tmp_path):
    job_path = job_file(tmp_path, secret_sim, client_secret=SECRET, refresh_token=TOKEN)
    query = f"select 'a@b.com' as email, '{PASSWORD}' as password union all select 'bad', '{PASSWORD}'"
    for out_file in ("r.csv", "r.parquet"):
        code, out, err = cli(
            "export", "--config", job_path, "--query", query, "--rejected-out", str(tmp_path / out_file)
        )
        assert code == 1 and clean(out + err)
    assert clean((tmp_path / "r.csv").read_text())
    assert clean(str(pl.read_parquet(tmp_path / "r.parquet").to_dicts()))
    bad = job_file(tmp_path, secret_sim, client_secret=SECRET, refresh_token=WRONG)
    code, out, err = cli("--debug", "export", "--config", bad, "--query", query)
    assert code == 4 and "Traceback" in err and clean(out + err)
    code, out, err = cli("export", "--config", job_path, "--query", query, "--set", "parallel_tasks=0")
    assert code == 2 and clean(out + err)


def test_tls_certificates_are_always_checked(tmp_path):
    """A Pardot (or login) host whose certificate is not trusted is refused at once, before any request is
    made, with a message that says so: never retried, never skipped."""
    import http.server
    import ssl
    import threading

    import trustme

    from pardot_frames import ApiError, ExportConfig, export_to_pardot

    ca = trustme.CA()  # a CA this machine does not trust
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"access_token": "t"}')

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"https://127.0.0.1:{server.server_address[1]}"
        config = ExportConfig(client_id="c", client_secret="s", refresh_token="r", business_unit="0Uv000000000001AAA",
                              login_url=base, pardot_domain=base, maximum_retries=3)  # fmt: skip
        with pytest.raises(ApiError, match="TLS certificate of https://127.0.0.1:.* is not trusted"):
            export_to_pardot(pl.DataFrame({"email": ["a@x.com"]}), config, progress=False, state_dir=tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert seen == []  # no request ever reached the untrusted host
