"""The fault matrix: one export per fault against the simulator, judged by what Pardot ends up holding.

Shared by tests/test_fault_matrix.py (assertions) and benchmarks/fault_matrix.py (the printed table).
Every case sends the same input: updates by id of seeded prospects, email-only creates, rows that
fail validation and rows Pardot refuses (unknown ids). Expected: every valid row applied as the
input says, exactly once; every invalid row reported; none lost; calls within a stated bound.
"""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from netutil import call_held

from pardot_frames import ExportConfig, export_to_pardot
from pardot_frames.simulator import Simulator

SEEDED = 60  # prospects 1..60 exist before the job
CREATES = 300  # email-only rows
BAD_EMAILS = 5  # rejected by validation
UNKNOWN_IDS = 3  # rejected by Pardot ("Invalid prospect ID")


def the_input() -> pl.DataFrame:
    ids = list(range(1, SEEDED + 1)) + [None] * (CREATES + BAD_EMAILS) + [900_000 + i for i in range(UNKNOWN_IDS)]
    emails = [None] * SEEDED + [f"new{i}@example.com" for i in range(CREATES)]
    emails += [f"broken {i}" for i in range(BAD_EMAILS)] + [None] * UNKNOWN_IDS
    return pl.DataFrame({"id": ids, "email": emails, "company": [f"Co {i}" for i in range(len(ids))]})


@dataclass
class Case:
    name: str
    sim: dict[str, Any] = field(default_factory=dict)
    job: dict[str, Any] = field(default_factory=dict)
    resume_after: dict[str, Any] | None = None  # simulator changes, then the job is resumed
    kill_after_calls: int | None = None  # the CLI export is killed with SIGKILL, then resumed
    max_calls: int = 20  # the stated bound on API calls (both runs of a resumed case): measured, plus headroom


CASES = [
    Case("no fault", max_calls=22),  # 20 batches and the reads of the account's fields and recycle bin
    Case("5xx bursts (30%)", sim={"faults": {"seed": 1, "http_5xx": 0.3}}, max_calls=45),
    Case("dropped connections (20%)", sim={"faults": {"seed": 2, "drop": 0.2}}, max_calls=32),
    Case("lost responses (20%, applied)", sim={"faults": {"seed": 3, "lost": 0.2}}, max_calls=34),
    Case(
        "timeouts (20% answer after 1.2 s)",
        sim={"faults": {"seed": 4, "slow": 0.2, "slow_seconds": 1.2}},
        job={"maximum_connection_timeout": 0.4},
        max_calls=34,
    ),
    Case("error 183 (30%)", sim={"faults": {"seed": 5, "err_183": 0.3}}, max_calls=34),
    Case("502/504 after applying (20%)", sim={"faults": {"seed": 8, "gateway_5xx": 0.2}}, max_calls=36),
    Case("HTML 200 from a proxy (20%)", sim={"faults": {"seed": 9, "proxy_html": 0.2}}, max_calls=48),
    Case(
        "HTML 400 for long URIs",
        sim={"max_uri_length": 1000, "uri_too_long_status": 400},
        job={"max_payload": 5000},
        max_calls=50,
    ),
    Case(
        "error 66 storm (limit 1, 5 tasks)",
        sim={"concurrency_limit": 1, "latency": 0.01},
        job={"parallel_tasks": 5},
        max_calls=40,
    ),
    Case(  # the HTTP status of 66 and 122 is not confirmed (facts 5): the client keys on the code
        "error 66 storm as HTTP 429",
        sim={"concurrency_limit": 1, "latency": 0.01, "limit_error_status": 429},
        job={"parallel_tasks": 5},
        max_calls=40,
    ),
    Case("token revoked, 184 as 400", sim={"faults": {"revoke_at_call": 4}, "err_184_status": 400}, max_calls=23),
    Case("token revoked, 184 as 401", sim={"faults": {"revoke_at_call": 4}, "err_184_status": 401}, max_calls=23),
    Case("414 below max_payload", sim={"max_uri_length": 1000}, job={"max_payload": 5000}, max_calls=50),
    Case(
        "daily limit at call 4, then resume", sim={"daily_limit": 4}, resume_after={"daily_limit": None}, max_calls=24
    ),
    Case(
        "kill -9 mid-job, then --resume",
        sim={"latency": 0.03},
        job={"parallel_tasks": 3},
        kill_after_calls=6,
        max_calls=26,
    ),
]


@dataclass
class Outcome:
    case: str
    rows: int
    applied: int
    rejected_validation: int
    rejected_pardot: int
    lost: int
    duplicates: int
    wrong_values: int
    calls: int
    planned: int
    bound: int
    retries: int

    @property
    def ok(self) -> bool:
        return (
            self.lost == self.duplicates == self.wrong_values == 0
            and self.rejected_validation == BAD_EMAILS
            and self.rejected_pardot == UNKNOWN_IDS
            and self.calls <= self.bound
        )


def _cli_kill_and_resume(sim: Simulator, config: ExportConfig, case: Case, folder: Any) -> dict[str, Any]:
    import json
    import shutil
    import sys
    from pathlib import Path

    path = Path(folder) / "input.parquet"
    the_input().write_parquet(path)
    job = Path(folder) / "job.toml"
    values = {**sim.credentials, "initial_retry_wait": 0.01, "maximum_retry_wait": 0.05, **case.job}
    job.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + "\n")
    script = shutil.which("pardot-frames") or str(Path(sys.executable).with_name("pardot-frames"))
    args = [
        script,
        "export",
        "--config",
        str(job),
        "--input",
        str(path),
        "--json",
        "--no-progress",
        "--state-dir",
        str(Path(folder) / "state"),
    ]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sim.configure(faults={"hold_from_call": case.kill_after_calls})  # applied, then held: killed at a known point
    assert call_held(sim, process), "the kill point was not reached"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    sim.configure(faults={"hold_from_call": None})
    calls_before = sim.pardot_calls
    done = subprocess.run([*args, "--resume"], capture_output=True, text=True, timeout=120)
    summary = json.loads(done.stdout)
    summary["api_calls"] += calls_before  # both runs count
    return summary


def run_case(case: Case, folder: Any) -> Outcome:
    """Run one case on a fresh simulator and compare Pardot's final state with the expected one."""
    frame = the_input()
    with Simulator().run_in_thread() as sim:
        sim.seed(prospects=[{"id": i, "email": f"old{i}@example.com", "company": "old"} for i in range(1, SEEDED + 1)])
        sim.configure(**case.sim)
        settings = {
            "initial_retry_wait": 0.01,
            "maximum_retry_wait": 0.05,
            "maximum_retries": 8,
            "max_payload": 1500,
            **case.job,
        }
        config = ExportConfig(**sim.credentials, **settings)
        if case.kill_after_calls:
            summary = _cli_kill_and_resume(sim, config, case, folder)
        else:
            result = export_to_pardot(frame, config, progress=False, state_dir=folder)
            calls = result.api_calls
            if case.resume_after is not None:
                sim.configure(**case.resume_after)
                result = export_to_pardot(frame, config, progress=False, state_dir=folder, resume=True)
                calls += result.api_calls
            summary = {**result.summary(), "api_calls": calls}
        state = sim.state
        creates = [p for p in state.prospects.values() if p["id"] > SEEDED]
        by_email: dict[str, int] = {}
        for p in creates:
            by_email[p["email"]] = by_email.get(p["email"], 0) + 1
        expected = {f"new{i}@example.com": f"Co {SEEDED + i}" for i in range(CREATES)}
        wrong = sum(1 for p in creates if expected.get(p["email"]) != p.get("company"))
        wrong += sum(1 for i in range(1, SEEDED + 1) if state.prospects[i].get("company") != f"Co {i - 1}")
        planned = summary["planned_calls"]
        bound = case.max_calls
        return Outcome(
            case=case.name,
            rows=frame.height,
            applied=summary["succeeded"],
            rejected_validation=summary["rejected_validation"],
            rejected_pardot=summary["rejected_pardot"],
            lost=len(set(expected) - set(by_email)) + summary["not_sent"],
            duplicates=sum(n - 1 for n in by_email.values()),
            wrong_values=wrong,
            calls=summary["api_calls"],
            planned=planned,
            bound=bound,
            retries=summary["retries"],
        )
