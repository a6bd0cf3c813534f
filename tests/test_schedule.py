"""Scheduled runs with a fake clock against the simulator: times, skips, delay, self-disabling, history."""

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from conftest import job
from test_cli import cli

from pardot_frames import export_to_pardot
from pardot_frames.schedule.cron import parse
from pardot_frames.schedule.runner import Clock, History, run_schedule


class FakeClock(Clock):
    def __init__(self, start):
        self.t = start
        super().__init__(now=lambda: self.t, sleep=self.advance)

    def advance(self, seconds):
        self.t += timedelta(seconds=seconds)


START = datetime(2026, 5, 1, 10, 7, tzinfo=UTC)


def test_runs_at_each_time_with_delay_and_history(sim, tmp_path):
    sim.seed(prospects=[{"id": 1, "email": "a@x.com"}])
    clock = FakeClock(START)
    runs = []

    def export():
        runs.append(clock.now())
        frame = pl.DataFrame({"id": [1], "score": [len(runs)]})
        return export_to_pardot(frame, job(sim), progress=False)

    history = History(tmp_path / "h.duckdb")
    made = run_schedule(parse("*/15 * * * *"), export, history, delay=30, max_runs=3, clock=clock, say=lambda _: None)
    assert made == 3
    assert [(t.hour, t.minute, t.second) for t in runs] == [(10, 15, 30), (10, 30, 30), (10, 45, 30)]
    assert sim.state.prospects[1]["score"] == 3
    rows = history.rows()
    assert [r[4] for r in rows] == ["ok", "ok", "ok"] and rows[0][1] == "2026-05-01T10:45:00+00:00"
    history.close()
    code, out, _ = cli("schedule", "history", "--history", str(tmp_path / "h.duckdb"))
    assert code == 0 and out.count(" ok ") == 3 and "applied 1" in out


@pytest.mark.email_alone
def test_a_long_run_is_not_started_twice_and_missed_times_are_recorded(sim, tmp_path):
    clock = FakeClock(START)
    starts = []

    def slow_export():
        starts.append(clock.now())
        result = export_to_pardot(pl.DataFrame({"email": [f"s{len(starts)}@x.com"]}), job(sim), progress=False)
        clock.advance(40 * 60)  # this run takes 40 minutes
        return result

    history = History(tmp_path / "h.duckdb")
    lines = []
    run_schedule(parse("*/15 * * * *"), slow_export, history, max_runs=2, clock=clock, say=lines.append)
    outcomes = [(r[1][11:16], r[4]) for r in reversed(history.rows())]
    assert outcomes[:4] == [("10:15", "ok"), ("10:30", "skipped"), ("10:45", "skipped"), ("11:00", "ok")]
    assert [t.strftime("%H:%M") for t in starts] == ["10:15", "11:00"]
    assert len(sim.state.prospects) == 2
    history.close()


def test_disables_itself_after_consecutive_config_failures(sim, tmp_path):
    clock = FakeClock(START)
    calls = []

    def broken():
        calls.append(1)
        return export_to_pardot(pl.DataFrame({"email": ["a@x.com"]}), job(sim, refresh_token="expired"), progress=False)

    lines = []
    history = History(tmp_path / "h.duckdb")
    made = run_schedule(parse("@hourly"), broken, history, clock=clock, say=lines.append)
    assert made == 3 and len(calls) == 3 and "disabled after 3 consecutive" in lines[-1]
    assert [r[4] for r in history.rows()] == ["config failure"] * 3 and not sim.state.prospects
    history.close()


def test_schedule_next_command():
    code, out, _ = cli("schedule", "next", "0 0 */5 * *", "-n", "3", "--after", "2026-02-01T00:00:00+00:00")
    assert code == 0 and out.split() == [
        "2026-02-05T00:00:00+00:00",
        "2026-02-10T00:00:00+00:00",
        "2026-02-15T00:00:00+00:00",
    ]
    code, out, _ = cli(
        "schedule", "next", "0 9 * * mon", "-n", "1", "--tz", "Europe/Berlin", "--after", "2026-03-27T00:00:00+00:00"
    )
    assert out.strip() == "2026-03-30T09:00:00+02:00"
    code, _, err = cli("schedule", "next", "0 0 * * 8")
    assert code == 2 and "day of week value 8" in err and "Traceback" not in err


def test_an_interrupted_run_stops_the_schedule_and_is_recorded(tmp_path):
    import pytest

    from pardot_frames.errors import Interrupted

    clock = FakeClock(START)
    calls = []

    def export():
        calls.append(clock.now())
        raise Interrupted("interrupted: 10 of 20 row(s) applied", None)

    history = History(tmp_path / "h.duckdb")
    with pytest.raises(Interrupted):
        run_schedule(parse("*/15 * * * *"), export, history, max_runs=5, clock=clock, say=lambda _: None)
    assert len(calls) == 1  # no later run was started
    assert [row[4] for row in history.rows()] == ["interrupted"]


def test_sigterm_while_the_schedule_waits_exits_130(sim, tmp_path):
    import os
    import signal
    import subprocess

    from test_cli import QUERY, SCRIPT, job_file

    proc = subprocess.Popen(
        [SCRIPT, "schedule", "run", "--config", job_file(tmp_path, sim), "--query", QUERY, "--cron", "0 0 1 1 *",
         "--history", str(tmp_path / "h.duckdb"), "--state-dir", str(tmp_path / "s")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ},
    )  # fmt: skip
    from netutil import read_line

    waiting = read_line(proc.stdout)  # the schedule says when it starts waiting (for next January)
    assert waiting.startswith("waiting for the run due"), waiting
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
