"""What the benchmarks share: the simulator's credentials and the simulator in its own process."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

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
