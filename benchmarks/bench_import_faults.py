"""Import jobs under faults: 5% of calls fail (5xx, dropped, applied then lost, 5xx after applying) and the
job is killed (kill -9) twice and resumed. Prints the batches uploaded against the batches the rows need
(the dry run's figure: what a fault-free run uploads) and checks every row was applied exactly once.

Run: python benchmarks/bench_import_faults.py [--rows 20000] [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pardot_frames import ExportConfig, dry_run
from pardot_frames.demo import demo_prospects
from pardot_frames.simulator import Simulator

SCRIPT = shutil.which("pardot-frames") or str(Path(sys.executable).with_name("pardot-frames"))
FAULTS = {"http_5xx": 0.0125, "drop": 0.0125, "lost": 0.0125, "gateway_5xx": 0.0125}


def one(rows: int, seed: int, folder: Path) -> tuple[int, int, int, int]:
    """(batches uploaded, batches needed, prospects held, distinct emails held) for one seeded run."""
    frame = demo_prospects(rows)
    with Simulator().run_in_thread() as sim:
        sim.configure(import_wait=0.05, import_seconds=0.1, faults={"seed": seed, **FAULTS})
        values = {**sim.credentials, "method": "import", "import_campaign_id": 1, "check_fields": False,
                  "import_batch_bytes": 50_000, "import_poll_seconds": 0.05, "import_poll_max": 0.2,
                  "maximum_retries": 8, "initial_retry_wait": 0.01, "maximum_retry_wait": 0.05,
                  "skip_invalid_records": True}  # fmt: skip
        (folder / "job.toml").write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + "\n")
        frame.write_parquet(folder / "input.parquet")
        args = [SCRIPT, "export", "--config", str(folder / "job.toml"), "--input", str(folder / "input.parquet"),
                "--json", "--no-progress", "--state-dir", str(folder / "state")]  # fmt: skip
        for kill_at in (8, 20):  # two kill -9 at the 8th and 20th call of each run
            sim.configure(faults={"hold_from_call": sim.pardot_calls + kill_at})
            process = subprocess.Popen([*args, "--resume"] if kill_at != 8 else args, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)  # fmt: skip
            deadline = time.monotonic() + 120
            while sim.held < 1 and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.005)
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=60)
            sim.configure(faults={"hold_from_call": None})
        done = subprocess.run([*args, "--resume"], capture_output=True, text=True, timeout=600)
        assert done.returncode in (0, 1), done.stderr[-2000:]
        config = ExportConfig(**{**values, "check_fields": False})
        needed = dry_run(frame, config).summary()["import_batches"]
        held = [p["email"] for p in sim.state.prospects.values()]
        return sim.state.calls_by_endpoint["v5/imports/batches"], needed, len(held), len(set(held))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    for seed in range(1, args.seeds + 1):
        with tempfile.TemporaryDirectory() as tmp:
            uploaded, needed, held, distinct = one(args.rows, seed, Path(tmp))
        print(f"seed {seed}: {args.rows:,} demo rows, {uploaded} batches uploaded for {needed} needed "
              f"({uploaded / needed:.2f}x, goal <= 1.5x); {held:,} prospects held, {distinct:,} distinct emails "
              f"({'each row once' if held == distinct else 'DUPLICATES'})")  # fmt: skip


if __name__ == "__main__":
    main()
