"""A call into pardot-frames leaves its host as it found it (issue #30, its guest part): the host's signal handlers
(on its event loop, or set with signal.signal) are back after a job, or never touched (signals=False); a library
call writes nothing to stdout or stderr; only the command line freezes the garbage collector."""

from __future__ import annotations

import asyncio
import gc
import os
import signal

import polars as pl
import pytest
from conftest import job

import pardot_frames as pf
from pardot_frames.engine.host import heap
from pardot_frames.pardot.transport import AiohttpTransport

ROWS = pl.DataFrame({"email": ["a@x.com", "b@x.com"], "company": ["A", "B"]})


class Watching(AiohttpTransport):
    """The real transport, noting at each call what the host would see: the loop's SIGINT handler and whether
    the collector is frozen."""

    def __init__(self) -> None:
        super().__init__(10, 4)
        self.seen: list[tuple[object, int]] = []

    async def exchange(self, base, request, headers):
        handle = getattr(asyncio.get_running_loop(), "_signal_handlers", {}).get(signal.SIGINT)
        self.seen.append((handle._callback if handle is not None else None, gc.get_freeze_count()))
        return await super().exchange(base, request, headers)


@pytest.mark.email_alone
def test_a_hosts_loop_handler_still_fires_after_a_job(sim, tmp_path):
    async def host():
        loop, fired = asyncio.get_running_loop(), []
        loop.add_signal_handler(signal.SIGINT, lambda: fired.append("host"))  # as aiohttp's run_app does
        try:
            watching = Watching()
            result = await pf.export_to_pardot_async(ROWS, job(sim), progress=False, state_dir=tmp_path,
                                                     transport=watching)  # fmt: skip
            os.kill(os.getpid(), signal.SIGINT)  # the next Ctrl-C is the host's again, no KeyboardInterrupt
            await asyncio.sleep(0.2)
        finally:
            loop.remove_signal_handler(signal.SIGINT)
        return result, fired, watching

    result, fired, watching = asyncio.run(host())
    assert result.ok and fired == ["host"]
    assert all(callback is not None and "handler" in callback.__qualname__ for callback, _ in watching.seen)


@pytest.mark.email_alone
def test_a_plain_handler_is_put_back_and_signals_false_touches_nothing(sim, tmp_path):
    def mine(signum, frame):  # pragma: no cover - never called
        pass

    before = signal.signal(signal.SIGTERM, mine)
    try:
        assert pf.export_to_pardot(ROWS, job(sim), progress=False, state_dir=tmp_path).ok
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, before)

    async def host():
        loop = asyncio.get_running_loop()
        ours = lambda: None  # noqa: E731
        loop.add_signal_handler(signal.SIGINT, ours)
        try:
            watching = Watching()
            await pf.export_to_pardot_async(ROWS, job(sim), progress=False, state_dir=tmp_path, transport=watching,
                                            signals=False)  # fmt: skip
            return ours, watching
        finally:
            loop.remove_signal_handler(signal.SIGINT)

    ours, watching = asyncio.run(host())
    assert watching.seen and all(callback is ours for callback, _ in watching.seen)  # untouched during the job


def test_a_library_call_writes_nothing_and_leaves_the_collector_alone(sim, tmp_path, capfd):
    watching = Watching()
    result = asyncio.run(pf.export_to_pardot_async(ROWS, job(sim, upsert_by_email=True), progress=False,
                                                   state_dir=tmp_path, transport=watching))  # fmt: skip
    out, err = capfd.readouterr()
    assert result.ok and out == "" and err == ""
    assert watching.seen and all(frozen == 0 for _, frozen in watching.seen) and gc.get_freeze_count() == 0
    token = heap.OWN_PROCESS.set(True)  # the command line's own process: the collector is frozen while it sends
    try:
        watching = Watching()
        asyncio.run(pf.export_to_pardot_async(ROWS, job(sim, upsert_by_email=True), progress=False,
                                              state_dir=tmp_path, transport=watching))  # fmt: skip
    finally:
        heap.OWN_PROCESS.reset(token)
    assert any(frozen > 0 for _, frozen in watching.seen) and gc.get_freeze_count() == 0


def test_reading_and_fields_need_a_connection_not_an_export_job(sim, tmp_path, monkeypatch):
    sim.seed(prospects=[{"id": 7, "email": "seven@x.com"}], lists=[{"id": 3, "name": "News"}])
    connection = pf.Connection(**sim.credentials, maximum_retries=1, initial_retry_wait=0.01)
    assert "client_secret" not in repr(connection) or "**********" in repr(connection)
    assert sim.credentials["client_secret"] not in repr(connection) + str(connection)
    frame = pf.read_prospects(connection, state_dir=tmp_path)
    assert frame["email"].to_list() == ["seven@x.com"] and frame["id"].to_list() == [7]
    assert "email" in pf.fields(connection, state_dir=tmp_path)["field"].to_list()
    assert pf.read_lists(connection)["name"].to_list() == ["News"]
    job_connection = pf.ExportConfig(**sim.credentials, parallel_tasks=3).connection
    assert job_connection.parallel_tasks == 3 and job_connection.pardot_domain == sim.credentials["pardot_domain"]
    monkeypatch.setenv("PARDOT_REFRESH_TOKEN", sim.credentials["refresh_token"])
    from_env = pf.Connection(**{k: v for k, v in sim.credentials.items() if k != "refresh_token"})
    assert from_env.refresh_token is not None and from_env.missing_credentials() == []


def test_a_connection_lists_every_problem_at_once_without_secrets():
    with pytest.raises(pf.ConfigError) as caught:
        pf.Connection(pardot_domain="http://pi.pardot.com", business_unit="nope", client_secret="s3cret-value",
                      maximum_retries=-1, parallel_task=2)  # fmt: skip
    text = str(caught.value)
    assert len(caught.value.problems) == 4 and "s3cret-value" not in text
    assert "http:// for a host that is not loopback" in text and "business unit id" in text
    assert "did you mean parallel_tasks?" in text and "maximum_retries" in text


def test_control_flow_never_reaches_a_caller_only_the_public_tree_does(sim, tmp_path):
    import pardot_frames._control as control
    import pardot_frames.errors as errors

    private = [c for c in vars(control).values() if isinstance(c, type) and issubclass(c, control.Control)]
    assert len(private) == 15 and not any(issubclass(c, errors.PardotFramesError) for c in private)
    sim.configure(daily_limit=0)  # every Pardot call refused with error 122
    connection = pf.Connection(**sim.credentials)
    with pytest.raises(pf.LimitReached) as caught:
        pf.fields(connection, state_dir=tmp_path)
    assert caught.value.code == 122 and isinstance(caught.value, pf.PardotError)
    from pardot_frames.cli.main import main

    (tmp_path / "job.toml").write_text("".join(f'{k} = "{v}"\n' for k, v in sim.credentials.items()))
    assert main(["fields", "--config", str(tmp_path / "job.toml")]) == 3  # the command line: exit 3, one line
