"""Notifications (issue #34) with real parts: a local SMTP server (aiosmtpd) receives the email, a local HTTP
server receives the JSON webhook (Apprise's json://). Each test checks what arrived, and that nothing secret
did: not the SMTP password, the webhook token, the client secret or the refresh token."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import polars as pl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from conftest import job
from test_cli import cli, job_file

import pardot_frames as pf
from pardot_frames import AuthError, PardotFramesWarning

SMTP_PASSWORD, HOOK_TOKEN = "smtp-Pa55word", "hook-t0ken-xyz"
SECRETS = (SMTP_PASSWORD, HOOK_TOKEN, "sim-client-secret", "sim-refresh-token", "wrong-refresh")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the local servers received: emails (text) and webhook posts (path, JSON)."""

    def __init__(self) -> None:
        self.mails: list[str] = []
        self.posts: list[tuple[str, dict]] = []
        self.arrived: list[float] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler
        self.mails.append(envelope.content.decode("utf-8", "replace"))
        self.arrived.append(time.monotonic())
        return "250 OK"

    def everything(self) -> str:
        return "\n".join(self.mails) + json.dumps(self.posts)


@pytest.fixture
def inbox():
    box = Inbox()
    smtp_port = free_port()
    smtp = Controller(box, hostname="127.0.0.1", port=smtp_port, auth_require_tls=False,
                      authenticator=lambda *args: AuthResult(success=True))  # fmt: skip
    smtp.start()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            box.posts.append((self.path, json.loads(body)))
            box.arrived.append(time.monotonic())
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    web = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=web.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    box.urls = [  # type: ignore[attr-defined]
        f"mailto://jobs:{SMTP_PASSWORD}@127.0.0.1:{smtp_port}?from=jobs@example.com&to=team@example.com",
        f"json://127.0.0.1:{web.server_address[1]}/hooks/{HOOK_TOKEN}",
    ]
    yield box
    web.shutdown()
    web.server_close()
    smtp.stop()


def people(n=20):
    return pl.DataFrame({"email": [f"n{i}@x.com" for i in range(n)] + ["not-an-email"], "company": ["A"] * (n + 1)})


def test_a_failed_login_is_told_to_every_url_with_the_reason_and_the_resume_command(sim, inbox, tmp_path):
    config = job_file(tmp_path, sim, refresh_token="wrong-refresh", notify=inbox.urls)
    people().write_csv(tmp_path / "in.csv")
    code, _, err = cli("export", "--config", config, "--input", tmp_path / "in.csv", "--state-dir", tmp_path)
    ended = time.monotonic()
    assert code == 4 and "Traceback" not in err
    assert len(inbox.mails) == 1 and len(inbox.posts) == 1  # one message to each URL
    assert all(at - ended < 5 for at in inbox.arrived)
    path, posted = inbox.posts[0]
    assert path == f"/hooks/{HOOK_TOKEN}" and "failed" in posted["title"]
    text = posted["message"]
    assert "outcome: failure" in text and "invalid_grant" in text and "job id: none" in text
    assert "resume with: pardot-frames export --config" in text and "--resume" in text
    assert "Subject: pardot-frames: job failed" in inbox.mails[0].replace("\n", " ") or "job failed" in inbox.mails[0]
    assert not any(secret in inbox.everything() for secret in SECRETS[2:])  # the job's own secrets never


@pytest.mark.email_alone
def test_rejected_rows_are_told_grouped_when_asked_and_success_is_quiet_by_default(sim, inbox, tmp_path):
    config = job(sim, notify=inbox.urls, notify_on=["rejected", "failure"])
    result = pf.export_to_pardot(people(), config, progress=False, state_dir=tmp_path)  # notify off in Python
    assert result.rejected_validation == 1 and not inbox.arrived
    result = pf.export_to_pardot(people(), config, progress=False, state_dir=tmp_path, notify=True)
    text = inbox.posts[0][1]["message"]
    assert "outcome: rejected" in text and f"job id: {result.job_id}" in text and "1 x validation: email:" in text
    assert "21 in, 20 applied" in text and len(inbox.mails) == 1
    clean = pl.DataFrame({"email": ["ok@x.com"]})
    pf.export_to_pardot(clean, config, progress=False, state_dir=tmp_path, notify=True)
    assert len(inbox.posts) == 1  # success is not in notify_on
    pf.export_to_pardot(clean, config, progress=False, state_dir=tmp_path, notify=[inbox.urls[1]],
                        notify_on=["success"])  # fmt: skip
    assert len(inbox.posts) == 2 and "outcome: success" in inbox.posts[1][1]["message"] and len(inbox.mails) == 1
    assert not any(secret in inbox.everything() for secret in SECRETS[2:])


@pytest.fixture
def quick_retries(monkeypatch):
    """The waits between tries of a dead destination shortened (they are 0.5 and 1.5 s)."""
    from pardot_frames.engine.job import notify

    monkeypatch.setattr(notify, "WAITS", (0.01, 0.01))


@pytest.mark.email_alone
def test_an_undeliverable_notification_is_one_warning_and_changes_nothing(sim, tmp_path, quick_retries):
    dead = f"json://127.0.0.1:{free_port()}/hooks/{HOOK_TOKEN}"  # nothing listens there
    config = job(sim, notify=[dead], notify_on=["success"])
    started = time.monotonic()
    with pytest.warns(PardotFramesWarning, match=r"could not be delivered to json://… after 3 tries") as caught:
        result = pf.export_to_pardot(pl.DataFrame({"email": ["a@x.com"]}), config, progress=False, notify=True)
    assert result.ok and time.monotonic() - started < 10
    assert not any(HOOK_TOKEN in str(w.message) for w in caught)
    failed = job(sim, refresh_token="wrong-refresh", notify=[dead])
    with pytest.warns(PardotFramesWarning, match="failure notification could not be delivered"):
        with pytest.raises(AuthError):  # the job's own error is raised, whatever the notification did
            pf.export_to_pardot(people(), failed, progress=False, notify=True)


def test_the_urls_are_masked_wherever_they_show(sim, inbox, tmp_path):
    config = job(sim, notify=inbox.urls)
    shown = repr(config) + str(config.safe_dict())
    assert "mailto://…" in shown and "json://…" in shown and not any(s in shown for s in SECRETS[:2])
    code, out, err = cli("export", "--config", job_file(tmp_path, sim, notify=inbox.urls), "--query",
                         "select 'q@x.com' as email", "--json", "--state-dir", tmp_path)  # fmt: skip
    assert code == 0 and not any(s in out + err for s in SECRETS)
    code, _, err = cli("export", "--config", job_file(tmp_path, sim, notify=[f"nourl-{HOOK_TOKEN}"]), "--query",
                       "select 1")  # fmt: skip
    assert code == 2 and "notify" in err and HOOK_TOKEN not in err


def test_notify_test_sends_to_each_url(sim, inbox, tmp_path, quick_retries):
    code, out, _ = cli("notify", "test", "--config", job_file(tmp_path, sim, notify=inbox.urls))
    assert code == 0 and out.splitlines() == ["mailto://…  delivered", "json://…  delivered"]
    assert len(inbox.mails) == 1 and "test message" in inbox.posts[0][1]["title"]
    dead = f"json://127.0.0.1:{free_port()}/x"
    code, out, _ = cli("notify", "test", "--config", job_file(tmp_path, sim, notify=[dead]))
    assert code == 4 and "json://…  failed" in out


def test_a_schedule_tells_each_failed_run_and_that_it_disabled_itself(sim, inbox, tmp_path, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from pardot_frames.schedule import runner

    class Quick(runner.Clock):
        """The schedule's waits pass at once (the runs and the messages are real)."""

        def __init__(self):
            self.t = datetime.now(UTC)
            super().__init__(now=lambda: self.t, sleep=self.advance)

        def advance(self, seconds):
            self.t += timedelta(seconds=seconds)

    monkeypatch.setattr(runner, "Clock", Quick)
    config = job_file(tmp_path, sim, refresh_token="wrong-refresh", notify=inbox.urls)
    code, out, _ = cli("schedule", "run", "--config", config, "--query", "select 'a@x.com' as email", "--cron",
                       "* * * * *", "--max-config-failures", "2", "--max-runs", "3", "--history",
                       tmp_path / "h.duckdb", "--state-dir", tmp_path)  # fmt: skip
    assert code == 0 and "schedule disabled" in out
    titles = [post["title"] for _, post in inbox.posts]
    assert len(titles) == 3 and titles[-1].endswith("schedule disabled") and "failed" in titles[0]
    assert "consecutive configuration failures" in inbox.posts[-1][1]["message"] and len(inbox.mails) == 3
    assert "resume with: pardot-frames export --config" in inbox.posts[0][1]["message"]
