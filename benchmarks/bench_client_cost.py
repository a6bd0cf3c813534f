"""The client's own cost per call: against the simulator (own process) answering in 50 ms, with 5 calls
in flight, how close the export comes to the ceiling of 100 calls/s, and the CPU time this process
spends per call (journal on, as the CLI runs). A naive client in the same process (one aiohttp call
at a time per worker, json.dumps + quote per batch, a DuckDB insert per row state) is measured beside it.

Run: python benchmarks/bench_client_cost.py [--calls 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from urllib.parse import quote

import aiohttp
import duckdb
import polars as pl
from simproc import CREDENTIALS, simulator

from pardot_frames import ExportConfig, export_to_pardot

LATENCY, WORKERS, ROWS_PER_CALL = 0.05, 5, 10


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def frame(n: int, tag: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "email": [f"{tag}{i}@example.com" for i in range(n)],
            "first_name": [["Zoë", "Jörg", "Anna", "李"][i % 4] for i in range(n)],
            "company": [f"Company {i % 500} " + "x" * 150 for i in range(n)],  # ~10 rows per call at 4,000
            "score": [i % 300 for i in range(n)],
        }
    )


async def naive(base: str, rows: pl.DataFrame, journal: str) -> int:
    """A straightforward async client: per call json.dumps + quote, and a DuckDB insert per row state."""
    con = duckdb.connect(journal)
    con.execute("CREATE TABLE log (row_nr BIGINT, state VARCHAR)")
    async with aiohttp.ClientSession() as session:
        form = {k: CREDENTIALS[k] for k in ("client_id", "client_secret", "refresh_token")}
        async with session.post(base + "/services/oauth2/token", data={"grant_type": "refresh_token", **form}) as r:
            token = (await r.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Pardot-Business-Unit-Id": CREDENTIALS["business_unit"]}
        records = rows.to_dicts()
        batches = [list(range(i, min(i + ROWS_PER_CALL, len(records)))) for i in range(0, len(records), ROWS_PER_CALL)]
        queue = iter(batches)

        async def worker() -> None:
            for batch in queue:
                for r in batch:
                    con.execute("INSERT INTO log VALUES (?, 'in_flight')", [r])
                value = json.dumps({"prospects": [records[r] for r in batch]})
                url = f"{base}/api/prospect/version/4/do/batchUpsert?format=json&prospects={quote(value, safe='')}"
                async with session.post(url, headers=headers) as resp:
                    await resp.read()
                for r in batch:
                    con.execute("INSERT INTO log VALUES (?, 'succeeded')", [r])

        await asyncio.gather(*(worker() for _ in range(WORKERS)))
    return len(batches)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    with simulator(LATENCY) as base:
        config = ExportConfig(**CREDENTIALS, login_url=base, pardot_domain=base, parallel_tasks=WORKERS)
        rows = frame(args.calls * ROWS_PER_CALL, "c-")
        ceiling = WORKERS / LATENCY
        with tempfile.TemporaryDirectory() as state:
            before = cpu()
            result = export_to_pardot(rows, config, progress=False, state_dir=state)
            spent = cpu() - before
        assert result.succeeded == rows.height, result
        rate = result.api_calls / result.extra["send_seconds"]
        print(f"latency {LATENCY * 1000:.0f} ms, {WORKERS} in flight: ceiling {ceiling:.0f} calls/s")
        print(
            f"pardot-frames: {result.api_calls:,} calls, {rate:.1f} calls/s ({rate / ceiling:.1%} of the ceiling), "
            f"{spent / result.api_calls * 1000:.2f} ms CPU per call (journal on, validation included)"
        )
        naive_rows = frame(min(args.calls, 1000) * ROWS_PER_CALL, "n-")
        with tempfile.TemporaryDirectory() as tmp:
            before, t = cpu(), time.perf_counter()
            calls = asyncio.run(naive(base, naive_rows, f"{tmp}/naive.duckdb"))
            spent_naive, elapsed = cpu() - before, time.perf_counter() - t
        print(
            f"naive client: {calls:,} calls, {calls / elapsed:.1f} calls/s ({calls / elapsed / ceiling:.1%}), "
            f"{spent_naive / calls * 1000:.2f} ms CPU per call; "
            f"ratio {spent_naive / calls / (spent / result.api_calls):.1f}x the CPU per call"
        )


if __name__ == "__main__":
    main()
