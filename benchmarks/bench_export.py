"""Export throughput against the simulator (own process) answering each call in 50 ms, on the demo
generator's rows (names from many scripts, company, city, country, score, lists; about 17 rows a call
in the query string, 50 in the body).

Prints, for each payload location:
- the steady state: batchUpsert calls per second from the first call out to the last answer in, against
  the ceiling parallel_tasks / latency, for parallel_tasks 1..5 (query) and 5 (body), next to a minimal
  client (prebuilt requests, no bookkeeping) on the same simulator: what any client reaches here;
- end to end (the whole export_to_pardot, validation and login included) against a naive exporter run in
  the same process (one call at a time, 10 rows a call, json.dumps per call): rows/s and the ratio.

Run: python benchmarks/bench_export.py [--rows 20000] [--sweep-rows 6000] [--naive-rows 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import warnings
from urllib.parse import quote

import aiohttp
import polars as pl
from simproc import CREDENTIALS, simulator

from pardot_frames import ExportConfig
from pardot_frames.demo import demo_prospects
from pardot_frames.engine.job.export import export_to_pardot_async
from pardot_frames.pardot.transport import AiohttpTransport

LATENCY = 0.05
UPSERT = "/api/prospect/version/4/do/batchUpsert?format=json"


class Timed(AiohttpTransport):
    """The real transport, noting when each batchUpsert call went out and when its answer came in."""

    def __init__(self, connections: int) -> None:
        super().__init__(60, connections)
        self.spans: list[tuple[float, float]] = []

    async def exchange(self, base, request, headers):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        answer = await super().exchange(base, request, headers)
        if "batchUpsert" in request.path_query:
            self.spans.append((start, time.perf_counter()))
        return answer


def rows(n: int, tag: str) -> pl.DataFrame:
    """n demo rows with emails of their own (each run creates its prospects)."""
    return demo_prospects(n).with_columns(pl.col("email").str.replace("@", f"+{tag}@"))


async def export(base: str, frame: pl.DataFrame, location: str, parallel: int) -> tuple[float, float, int]:
    """(steady calls/s, end-to-end seconds, rows applied) of one export with the journal on."""
    config = ExportConfig(**CREDENTIALS, login_url=base, pardot_domain=base, payload_location=location)
    transport = Timed(parallel)
    with tempfile.TemporaryDirectory() as state, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        result = await export_to_pardot_async(
            frame, config, parallel_tasks=parallel, progress=False, state_dir=state, transport=transport
        )
        elapsed = time.perf_counter() - start
    spans = transport.spans
    steady = len(spans) / (spans[-1][1] - spans[0][0])
    return steady, elapsed, result.succeeded


async def login(session: aiohttp.ClientSession, base: str) -> dict[str, str]:
    form = {k: CREDENTIALS[k] for k in ("client_id", "client_secret", "refresh_token")}
    async with session.post(base + "/services/oauth2/token", data={"grant_type": "refresh_token", **form}) as r:
        token = (await r.json())["access_token"]
    return {"Authorization": f"Bearer {token}", "Pardot-Business-Unit-Id": CREDENTIALS["business_unit"]}


async def minimal(base: str, frame: pl.DataFrame, location: str, parallel: int, per_call: int) -> float:
    """Calls/s of the least a client can do: requests built before the clock starts, answers only read."""
    records = frame.to_dicts()
    values = [json.dumps({"prospects": records[i : i + per_call]}) for i in range(0, len(records), per_call)]
    async with aiohttp.ClientSession() as session:
        headers = await login(session, base)
        queue, spans = iter(values), []

        async def worker() -> None:
            for value in queue:
                url = base + UPSERT + (f"&prospects={quote(value, safe='')}" if location == "query" else "")
                form = aiohttp.FormData({"prospects": value}) if location == "body" else None
                start = time.perf_counter()
                async with session.post(url, headers=headers, data=form) as r:
                    await r.read()
                spans.append((start, time.perf_counter()))

        await asyncio.gather(*(worker() for _ in range(parallel)))
    return len(spans) / (max(e for _, e in spans) - min(s for s, _ in spans))


async def naive(base: str, frame: pl.DataFrame, location: str) -> float:
    """Rows/s of a hand-written loop: one call at a time, 10 rows a call, json.dumps per call."""
    start = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        headers = await login(session, base)
        records = frame.to_dicts()
        for i in range(0, len(records), 10):
            value = json.dumps({"prospects": records[i : i + 10]})
            if location == "query":
                url, data = base + UPSERT + f"&prospects={quote(value, safe='')}", None
            else:
                url, data = base + UPSERT, {"prospects": value}
            async with session.post(url, headers=headers, data=data) as r:
                await r.read()
    return len(records) / (time.perf_counter() - start)


async def main(args: argparse.Namespace) -> None:
    with simulator(LATENCY) as base:
        print(f"latency {LATENCY * 1000:.0f} ms a call; simulator in its own process; demo rows")
        print("\nsteady state (first call out to last answer in)")
        print("payload  parallel  rows     calls/s  ceiling  share   minimal client")
        sweep = [("query", p, args.sweep_rows) for p in range(1, 5)] + [("query", 5, args.rows), ("body", 5, args.rows)]
        ends: dict[str, tuple[float, int]] = {}
        for location, parallel, n in sweep:
            frame = rows(n, f"{location}{parallel}")
            steady, elapsed, applied = await export(base, frame, location, parallel)
            per_call = 50 if location == "body" else 17
            floor = await minimal(
                base, rows(min(n, 150 * per_call), f"m{location}{parallel}"), location, parallel, per_call
            )
            ceiling = parallel / LATENCY
            print(
                f"{location:<8} {parallel:>8}  {n:<7,}  {steady:7.1f}  {ceiling:7.1f}  {steady / ceiling:5.1%}  "
                f"{floor / ceiling:5.1%}"
            )
            if parallel == 5:
                ends[location] = (elapsed, applied)
        print("\nend to end at parallel_tasks=5 (the whole export: validation, login, field read, journal)")
        for location, (elapsed, applied) in ends.items():
            slow = await naive(base, rows(args.naive_rows, f"n{location}"), location)
            fast = applied / elapsed
            print(
                f"{location:<6} {applied:,} rows in {elapsed:.2f} s: {fast:,.0f} rows/s; naive loop {slow:,.0f} rows/s "
                f"({args.naive_rows:,} rows, 10 a call): {fast / slow:.1f}x"
            )
        print(
            "\nthe bound of that ratio in body mode: 5 calls of 50 rows against 1 of 10 = 25.0x; "
            "in query mode about 5 x 17 / 10 = 8.5x"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--sweep-rows", type=int, default=6_000)
    parser.add_argument("--naive-rows", type=int, default=1_000)
    asyncio.run(main(parser.parse_args()))
