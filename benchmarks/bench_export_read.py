"""10M visitor activities through the Export API: ``pardot-frames read visitor_activities --method export --out
FILE.parquet`` against a simulator in its own process that makes the rows as each result file is asked for
(``export_synthetic_rows``), 500,000 rows a file. Prints the calls (the issue's bound: 1 + polls + files; the
oldest-time query is one more), seconds, the reader's peak RSS (its own process; the bound is 1 GiB) and what the
same read would cost through queries (1,000 records a call).

Run: python benchmarks/bench_export_read.py [rows]   (default 10,000,000)
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from bench_read import calls  # noqa: E402
from simproc import CREDENTIALS, peak_rss, simulator  # noqa: E402

FILE_ROWS = 500_000


def configure(base: str, rows: int) -> None:
    settings = {"export_synthetic_rows": rows, "export_file_rows": FILE_ROWS, "export_seconds": 2.0}
    request = urllib.request.Request(f"{base}/__sim__/config", json.dumps(settings).encode(),
                                     {"Content-Type": "application/json"}, method="PATCH")  # fmt: skip
    urllib.request.urlopen(request, timeout=60).read()


def main(rows: int) -> None:
    command = [sys.executable, "-m", "pardot_frames.cli"]
    with simulator(command=command + []) as base, tempfile.TemporaryDirectory() as folder:
        configure(base, rows)
        seed = urllib.request.Request(f"{base}/__sim__/seed", json.dumps({"activity": 1}).encode(),
                                      {"Content-Type": "application/json"})  # fmt: skip
        urllib.request.urlopen(seed, timeout=60).read()
        job = Path(folder) / "job.toml"
        values = {**CREDENTIALS, "login_url": base, "pardot_domain": base}
        job.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + "\n")
        out, before, started = Path(folder) / "activities.parquet", calls(base), time.perf_counter()
        reader = subprocess.Popen([*command, "read", "visitor_activities", "--config", str(job), "--method", "export",
                                   "--poll", "0.5", "--out", str(out), "--state-dir", folder, "--no-progress"],
                                  stdout=subprocess.DEVNULL)  # fmt: skip
        peak = peak_rss(reader)
        seconds, made = time.perf_counter() - started, calls(base) - before
        read = pl.scan_parquet(out).select(pl.len(), pl.col("id").n_unique()).collect().row(0)
    files = math.ceil(rows / FILE_ROWS)
    print(f"visitor activities   {rows:,} through the Export API, {FILE_ROWS:,} rows a result file")
    print(f"read                 {read[0]:,} rows ({read[1]:,} distinct ids) in {made:,} calls, {seconds:.1f} s; "
          f"peak RSS {peak:,.0f} MiB")  # fmt: skip
    print(f"calls                1 oldest time + 1 create + {made - 2 - files} polls + {files} files")
    print(f"through queries      {math.ceil(rows / 1000):,} calls ({math.ceil(rows / 1000) / made:,.0f}x more)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
