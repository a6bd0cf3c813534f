"""Reading 1M prospects at 50 ms latency: ``pardot-frames read prospects --out FILE.parquet`` in parallel id
ranges (``--parallel 5``, the default) against the same reader one page at a time (``--parallel 1``), both
against the same simulator in its own process, in the same run.

Run: python benchmarks/bench_read_all.py [prospects] [latency]   (default 1,000,000 and 0.05). The account
holds the demo generator's columns. Prints calls (the issue's bound: at most 1,010), seconds, the ratio, and each
reader's peak RSS (its own process, streaming to Parquet: the bound is 1 GiB).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from bench_read import calls, seed  # noqa: E402
from simproc import CREDENTIALS, peak_rss, simulator  # noqa: E402


def read(base: str, folder: str, parallel: int) -> tuple[int, float, float, int]:
    """One CLI read into Parquet: (calls, seconds, peak RSS MiB, rows)."""
    job = Path(folder) / "job.toml"
    values = {**CREDENTIALS, "login_url": base, "pardot_domain": base}
    job.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + "\n")
    out = Path(folder) / f"read-{parallel}.parquet"
    before, started = calls(base), time.perf_counter()
    reader = subprocess.Popen([sys.executable, "-m", "pardot_frames.cli", "read", "prospects", "--config", str(job),
                               "--out", str(out), "--state-dir", folder, "--no-progress", "--parallel", str(parallel)],
                              stdout=subprocess.DEVNULL)  # fmt: skip
    peak = peak_rss(reader)
    seconds = time.perf_counter() - started
    rows = pl.scan_parquet(out).select(pl.len()).collect().item()
    return calls(base) - before, seconds, peak, rows


def main(rows: int, latency: float) -> None:
    with simulator(latency=latency) as base, tempfile.TemporaryDirectory() as folder:
        seed(base, rows)
        fast = read(base, folder, 5)
        slow = read(base, folder, 1)
    print(f"prospects            {rows:,} (the demo generator's columns), simulator latency {latency * 1000:.0f} ms")
    print(f"parallel 5           {fast[3]:,} rows in {fast[0]:,} calls, {fast[1]:.1f} s, peak RSS {fast[2]:,.0f} MiB")
    print(f"one page at a time   {slow[3]:,} rows in {slow[0]:,} calls, {slow[1]:.1f} s, peak RSS {slow[2]:,.0f} MiB")
    bound = "met" if fast[0] <= 1010 else "NOT met"
    print(f"ratio                {slow[1] / fast[1]:.1f}x faster; calls bound 1,010: {bound}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000, float(sys.argv[2]) if len(sys.argv) > 2 else 0.05)
