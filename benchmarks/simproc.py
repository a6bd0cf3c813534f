"""What the benchmarks share: the simulator's credentials and the simulator in its own process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CREDENTIALS = {
    "client_id": "sim-client-id",
    "client_secret": "sim-client-secret",
    "refresh_token": "sim-refresh-token",
    "business_unit": "0Uv000000000001AAA",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def simulator(latency: float = 0.0, command: list[str] | None = None) -> Iterator[str]:
    """A simulator process on a free port; yields its base URL and stops it afterwards."""
    port = free_port()
    cmd = command or [sys.executable, "-m", "pardot_frames.cli"]
    server = subprocess.Popen(
        [*cmd, "simulator", "--port", str(port), "--latency", str(latency)], stdout=subprocess.PIPE, text=True
    )
    try:
        server.stdout.readline()
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


async def pardot_headers(session: Any, base: str) -> dict[str, str]:
    """Log in to the simulator (the refresh-token grant) with a bare aiohttp session; the headers of a Pardot call."""
    secrets = ("client_id", "client_secret", "refresh_token")
    form = {"grant_type": "refresh_token", **{k: CREDENTIALS[k] for k in secrets}}
    async with session.post(f"{base}/services/oauth2/token", data=form) as answer:
        token = (await answer.json())["access_token"]
    return {"Authorization": f"Bearer {token}", "Pardot-Business-Unit-Id": CREDENTIALS["business_unit"]}


def peak_rss(process: subprocess.Popen) -> float:
    """The peak resident memory (MiB) of a child process, sampled from /proc every 0.1 s until it ends: its
    own figure (``getrusage`` gives the most of every child so far)."""
    peak = 0
    while process.poll() is None:
        try:
            with open(f"/proc/{process.pid}/status") as status:
                peak = max(peak, next(int(line.split()[1]) for line in status if line.startswith("VmRSS")))
        except (OSError, StopIteration):
            pass
        time.sleep(0.1)
    return peak / 1024
