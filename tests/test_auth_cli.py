"""The auth helpers against the simulator's OAuth endpoints, through the real console script."""

import asyncio
import os
import stat
import subprocess
from urllib.parse import parse_qs, urlsplit

import aiohttp
from test_cli import SCRIPT, cli, job_file


def authorize(url):
    """Play the browser: open the authorize URL, return the redirect it answers with."""

    async def go():
        async with aiohttp.ClientSession() as s, s.get(url, allow_redirects=False) as r:
            assert r.status == 302
            return r.headers["Location"]

    return asyncio.run(go())


def visit(url):
    async def go():
        async with aiohttp.ClientSession() as s, s.get(url) as r:
            return r.status

    return asyncio.run(go())


def app_args(sim):
    return [
        "--client-id",
        sim.config.client_id,
        "--client-secret",
        sim.config.client_secret,
        "--login-url",
        sim.login_url,
    ]


def test_url_and_exchange_of_a_pasted_redirect(sim, tmp_path):
    home = {"PARDOT_FRAMES_HOME": str(tmp_path / "home")}
    code, out, _ = cli("auth", "url", "--client-id", "abc", "--login-url", sim.login_url)
    url = out.strip()
    assert code == 0 and parse_qs(urlsplit(url).query) == {
        "client_id": ["abc"],
        "redirect_uri": ["http://localhost:8080"],
        "response_type": ["code"],
    }
    redirect = authorize(url.replace("abc", sim.config.client_id))
    assert "%3D%3D" in redirect  # the code arrives URL-encoded
    code, out, err = cli(
        "auth",
        "exchange",
        *app_args(sim),
        "--redirect-url",
        redirect,
        "--name",
        "sim",
        "--pardot-domain",
        sim.pardot_domain,
        "--business-unit",
        sim.credentials["business_unit"],
        env=home,
    )
    assert code == 0, err
    saved = tmp_path / "home" / "credentials.toml"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    new_token = sim.config.refresh_tokens[-1]
    assert new_token != "sim-refresh-token" and new_token not in out and new_token in saved.read_text()
    code, out, _ = cli("auth", "list", env=home)
    assert code == 0 and "sim: login_url=" in out and new_token not in out and sim.config.client_secret not in out
    # a job file may now name the saved authentication instead of carrying secrets
    job = tmp_path / "job.toml"
    job.write_text('auth = "sim"\n')
    code, out, err = cli("export", "--config", str(job), "--query", "select 'a@b.com' as email", "--json", env=home)
    assert code == 0, err
    assert [p["email"] for p in sim.state.prospects.values()] == ["a@b.com"]


def test_login_catches_the_redirect_on_localhost(sim, tmp_path):
    from netutil import free_port

    port = free_port()
    token_file = tmp_path / "token"
    process = subprocess.Popen(
        [SCRIPT, "auth", "login", *app_args(sim), "--port", str(port), "--no-browser", "--save", str(token_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert process.stdout.readline().startswith("open this URL")
        url = process.stdout.readline().strip()
        assert f"redirect_uri=http%3A%2F%2Flocalhost%3A{port}" in url
        redirect = authorize(url)
        for _ in range(50):  # the callback server may still be starting
            try:
                assert visit(redirect) == 200
                break
            except aiohttp.ClientConnectionError:
                asyncio.run(asyncio.sleep(0.1))
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    assert token in sim.config.refresh_tokens and token not in out


def test_check_says_what_is_right_or_wrong(sim, tmp_path):
    code, out, err = cli("auth", "check", "--config", job_file(tmp_path, sim))
    assert code == 0 and "login to" in out and "business unit 0Uv000000000001AAA: ok" in out, err
    code, out, err = cli("auth", "check", "--config", job_file(tmp_path, sim, business_unit="0Uv000000000009XYZ"))
    assert code == 4 and "201" in err and "pi.demo" in err
    code, out, err = cli("auth", "check", "--config", job_file(tmp_path, sim, client_secret="nope-SECRET"))
    assert code == 4 and "invalid_client" in err and "SECRET" not in err


def test_save_validates_and_protects(tmp_path, sim):
    home = {"PARDOT_FRAMES_HOME": str(tmp_path / "h"), "PARDOT_REFRESH_TOKEN": "rt-123"}
    code, _, err = cli(
        "auth", "save", "--name", "bad", "--client-id", "x", "--client-secret", "y", "--business-unit", "nope", env=home
    )
    assert code == 2 and "business_unit" in err
    code, out, err = cli("auth", "save", "--name", "ok", "--client-id", "x", "--client-secret", "y", env=home)
    assert code == 0, err
    import tomllib

    saved = tomllib.loads((tmp_path / "h" / "credentials.toml").read_text())
    assert saved["ok"]["refresh_token"] == "rt-123" and saved["ok"]["client_id"] == "x"
