"""Export throughput against the simulator (own process) with 50 ms latency per call.

Prints: calls made vs the plan's optimum; calls/s for parallel_tasks 1..5 against the ceiling
parallel_tasks / latency; rows/s against a naive sequential exporter (one call at a time, 10 rows
per call, json.dumps + quote per row) run in the same script.

Run: python benchmarks/bench_export.py [--rows 200000] [--sweep-rows 20000] [--naive-rows 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import quote

import aiohttp
import polars as pl
from simproc import CREDENTIALS, simulator

from pardot_frames import ExportConfig, export_to_pardot, plan, validate

LATENCY = 0.05


def rows(n: int, tag: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "email": [f"{tag}{i}@example.com" for i in range(n)],
            "first_name": [["Zoë", "Jörg", "Anna", "李"][i % 4] for i in range(n)],
            "company": [f"Company {i % 500}" for i in range(n)],
            "score": [i % 300 for i in range(n)],
        }
    )


async def naive(base: str, frame: pl.DataFrame) -> int:
    """One call at a time, 10 rows per call: what a hand-written loop does."""
    async with aiohttp.ClientSession() as session:
        form = {
            "grant_type": "refresh_token",
            **{k: CREDENTIALS[k] for k in ("client_id", "client_secret", "refresh_token")},
        }
        async with session.post(base + "/services/oauth2/token", data=form) as r:
            token = (await r.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Pardot-Business-Unit-Id": CREDENTIALS["business_unit"]}
        records = frame.to_dicts()
        calls = 0
        for start in range(0, len(records), 10):
            value = json.dumps({"prospects": records[start : start + 10]})
            url = f"{base}/api/prospect/version/4/do/batchUpsert?format=json&prospects={quote(value, safe='')}"
            async with session.post(url, headers=headers) as r:
                await r.read()
            calls += 1
        return calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--sweep-rows", type=int, default=20_000)
    parser.add_argument("--naive-rows", type=int, default=3_000)
    args = parser.parse_args()
    with simulator(LATENCY) as base:
        config = ExportConfig(**CREDENTIALS, login_url=base, pardot_domain=base)
        print(f"latency {LATENCY * 1000:.0f} ms per call; simulator in its own process")
        print("parallel  rows      calls  calls/s  ceiling  share   rows/s")
        for parallel in range(1, 6):
            frame = rows(args.sweep_rows, f"s{parallel}-")
            t = time.perf_counter()
            result = export_to_pardot(frame, config, parallel_tasks=parallel, progress=False)
            elapsed = time.perf_counter() - t
            ceiling = parallel / LATENCY
            rate = result.api_calls / result.extra["send_seconds"]  # the sending phase, after validation
            assert result.succeeded == frame.height
            print(
                f"{parallel:>8}  {frame.height:<8,}  {result.api_calls:<5,}  {rate:7.1f}  {ceiling:7.1f}  "
                f"{rate / ceiling:5.1%}  {frame.height / elapsed:7,.0f}"
            )
        frame = rows(args.rows, "big-")
        optimum = plan(validate(frame, config).payloads, config).calls
        t = time.perf_counter()
        result = export_to_pardot(frame, config, parallel_tasks=5, progress=False)
        fast = time.perf_counter() - t
        print(
            f"\n{args.rows:,} rows at parallel_tasks=5: {result.api_calls:,} calls (plan optimum {optimum:,}), "
            f"{fast:.1f} s, {args.rows / fast:,.0f} rows/s, {result.calls_per_row:.4f} calls per row, "
            f"{result.succeeded:,} applied"
        )
        sample = rows(args.naive_rows, "naive-")
        t = time.perf_counter()
        calls = asyncio.run(naive(base, sample))
        slow = time.perf_counter() - t
        print(
            f"naive sequential (10 rows/call): {args.naive_rows / slow:,.0f} rows/s over {calls:,} calls; "
            f"speed-up {(args.rows / fast) / (args.naive_rows / slow):.1f}x"
        )


if __name__ == "__main__":
    main()
