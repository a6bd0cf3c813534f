"""Peak memory and API calls of an import job read from Parquet (streamed, chunk by chunk) through the
command line, against a simulator in its own process that counts imported rows without storing them
(goal: 10M rows within 1 GiB), on the demo generator's rows (some invalid: skipped). The naive
comparison: the same rows' CSV built whole in one process.

Run: python benchmarks/bench_import_memory.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import duckdb
from simproc import CREDENTIALS, simulator

from pardot_frames.demo import DEMO_SQL

SCRIPT = Path(sys.executable).with_name("pardot-frames")


def run(cmd: list[str]) -> tuple[float, float, dict]:
    """(seconds, peak RSS in MiB, JSON summary) of a child process."""
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - t
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, simulator() as base:
        path = Path(tmp) / "people.parquet"
        duckdb.sql(DEMO_SQL.format(rows=args.rows)).write_parquet(str(path))  # the demo generator's rows
        patch = urllib.request.Request(f"{base}/__sim__/config", method="PATCH", data=json.dumps(
            {"import_apply": False, "import_wait": 0.05, "import_seconds": 0.2}).encode())  # fmt: skip
        urllib.request.urlopen(patch, timeout=10).read()
        job = {**CREDENTIALS, "login_url": base, "pardot_domain": base, "method": "import",
               "import_campaign_id": 1, "import_poll_seconds": 0.2, "import_poll_max": 1, "check_fields": False,
               "skip_invalid_records": True,
               "parallel_tasks": 5}  # fmt: skip
        (Path(tmp) / "job.toml").write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in job.items()))
        cmd = [str(SCRIPT), "export", "--config", str(Path(tmp) / "job.toml"), "--input", str(path), "--json",
               "--no-progress", "--state-dir", str(Path(tmp) / "state")]  # fmt: skip
        seconds, mib, summary = run(cmd)
        print(f"{args.rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB of Parquet: import job {seconds:.1f} s, "
              f"peak RSS {mib:.0f} MiB (goal <= 1024); "
              f"{summary['api_calls']} calls ({summary['imports']} imports, {summary['import_batches']} batches, "
              f"{summary['import_polls']} polls), {summary['succeeded']:,} applied")  # fmt: skip
        code = (
            "import polars as pl; from pardot_frames import ExportConfig; "
            "from pardot_frames.prepare.csv_batches import Cutter, batches;"
            f"df = pl.read_parquet({str(path)!r}).with_row_index('row_nr');"
            "print(sum(len(b.data) for b in batches(df, ExportConfig(import_campaign_id=1), Cutter(10_000_000))))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3600)
        naive = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"naive: every row's CSV built in one process: peak RSS {naive:.0f} MiB ({done.stdout.strip()} bytes)")


if __name__ == "__main__":
    main()
