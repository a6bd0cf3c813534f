"""Simulator capacity: calls/s it serves to 5 concurrent clients on loopback, no injected latency.

The simulator runs in its own process (``pardot-frames simulator``), the clients in this one, so
the figure is the server's, not a shared event loop's. Run: python benchmarks/bench_simulator.py [seconds]
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import quote

import aiohttp

CLIENTS = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def measure(base: str, seconds: float, rows: int) -> tuple[int, float]:
    async with aiohttp.ClientSession() as session:
        form = {
            "grant_type": "refresh_token",
            "client_id": "sim-client-id",
            "client_secret": "sim-client-secret",
            "refresh_token": "sim-refresh-token",
        }
        async with session.post(base + "/services/oauth2/token", data=form) as r:
            token = (await r.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Pardot-Business-Unit-Id": "0Uv000000000001AAA"}
        count = 0
        stop = time.perf_counter() + seconds

        async def client(k: int) -> None:
            nonlocal count
            i = 0
            while time.perf_counter() < stop:
                batch = [{"email": f"c{k}-{i}-{j}@example.com", "first_name": "Zoë"} for j in range(rows)]
                url = f"{base}/api/prospect/version/4/do/batchUpsert?format=json&prospects="
                url += quote(json.dumps({"prospects": batch}), safe="")
                async with session.post(url, headers=headers) as r:
                    await r.read()
                    assert r.status in (200, 201), r.status
                count += 1
                i += 1

        start = time.perf_counter()
        await asyncio.gather(*(client(k) for k in range(CLIENTS)))
        return count, time.perf_counter() - start


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pardot_frames.cli", "simulator", "--port", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        server.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        for rows in (1, 10):
            calls, elapsed = asyncio.run(measure(base, seconds, rows))
            print(f"{CLIENTS} clients, batchUpsert of {rows:>2} rows: {calls / elapsed:,.0f} calls/s ({calls:,} calls)")
        state = json.loads(urllib.request.urlopen(base + "/__sim__/state").read())
        print(f"max concurrency seen: {state['max_concurrency']}, prospects held: {len(state['prospects']):,}")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
