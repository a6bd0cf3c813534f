"""Reading prospects back: 'pardot-frames read prospects --out FILE.parquet' against a naive v4 reader
(200 prospects a call, rows kept as Python dicts), both against the simulator in its own process.

Run: python benchmarks/bench_read.py [prospects]   (default 1,000,000). The account holds the demo
generator's columns (names from many scripts, company, city, country, score). Prints calls, seconds,
the reader's peak RSS (its own process, sampled from /proc) and the Parquet file's size. The seconds are
mostly the simulator's (one Python process shaping every record); the calls are what Pardot counts.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from simproc import CREDENTIALS, pardot_headers, peak_rss, simulator  # noqa: E402

from pardot_frames.demo import demo_prospects  # noqa: E402


def seed(base: str, rows: int) -> None:
    """The demo generator's prospects, in seeds of 50,000."""
    demo = demo_prospects(rows).with_columns(pl.col("score").cast(pl.Int64, strict=False))
    for start in range(0, rows, 50_000):
        part = demo.slice(start, 50_000).drop("is_do_not_email").to_dicts()
        request = urllib.request.Request(f"{base}/__sim__/seed", json.dumps({"prospects": part}).encode(),
                                         {"Content-Type": "application/json"})  # fmt: skip
        urllib.request.urlopen(request, timeout=600).read()


def calls(base: str) -> int:
    with urllib.request.urlopen(f"{base}/__sim__/state", timeout=600) as answer:
        return int(json.load(answer)["pardot_calls"])


async def naive(base: str) -> tuple[int, float]:
    """A v4 reader as the wrappers and taps do it: 200 a call by id, rows kept as dicts."""
    started, rows, after, made = time.perf_counter(), [], 0, 0
    async with aiohttp.ClientSession() as session:
        headers = await pardot_headers(session, base)
        while True:
            url = f"{base}/api/prospect/version/4/do/query?format=json&sort_by=id&limit=200&id_greater_than={after}"
            async with session.get(url, headers=headers) as answer:
                page = (await answer.json())["result"].get("prospect") or []
            made += 1
            page = page if isinstance(page, list) else [page]
            rows += page
            if len(page) < 200:
                return made, time.perf_counter() - started
            after = max(int(p["id"]) for p in page)


def main(rows: int) -> None:
    with simulator() as base, tempfile.TemporaryDirectory() as folder:
        seed(base, rows)
        job = Path(folder) / "job.toml"
        values = {**CREDENTIALS, "login_url": base, "pardot_domain": base}
        job.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + "\n")
        out, before, started = Path(folder) / "read.parquet", calls(base), time.perf_counter()
        reader = subprocess.Popen([sys.executable, "-m", "pardot_frames.cli", "read", "prospects", "--config",
                                   str(job), "--out", str(out), "--state-dir", folder, "--no-progress"])  # fmt: skip
        peak = peak_rss(reader)
        seconds, made = time.perf_counter() - started, calls(base) - before
        read = pl.scan_parquet(out).select(pl.len()).collect().item()
        size = out.stat().st_size / 2**20
        naive_calls, naive_seconds = asyncio.run(naive(base))
    print(f"prospects            {rows:,} (the demo generator's columns)")
    print(f"read                 {read:,} rows in {made:,} calls, {seconds:.1f} s; peak RSS {peak:,.0f} MiB")
    print(f"parquet              {size:,.1f} MiB")
    print(f"naive v4 reader      {naive_calls:,} calls, {naive_seconds:.1f} s")
    print(f"calls ratio          {naive_calls / made:.1f}x fewer; time ratio {naive_seconds / seconds:.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
