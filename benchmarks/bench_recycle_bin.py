"""Knowing the recycle bin (issue #33): what it costs a job to know 300,000 deleted prospects, the first time
and on a later run when nothing changed, against the naive way (read the whole bin before every job, as the
team in the issue did with its own list), in the same process and against the same simulator.

Run: python benchmarks/bench_recycle_bin.py [deleted]   (default 300,000). The simulator serves from a thread;
its bin is seeded directly. Prints calls and seconds for: the first read, a later run with nothing changed, a
run after one more deletion, a run after a restore, and the naive whole read.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from pardot_frames import ExportConfig
from pardot_frames.engine.state import recycle_bin
from pardot_frames.engine.state.recycle_bin import RecycleBin
from pardot_frames.pardot import recycle_bin as reads
from pardot_frames.pardot.client import Client
from pardot_frames.simulator import Simulator


def seed(sim: Simulator, deleted: int) -> None:
    state = sim.state
    for i in range(1, deleted + 2):
        state.add_prospect(id=i, email=f"gone{i}@example.com", first_name="Ann", company="Acme")
    for i in range(1, deleted + 1):
        state.delete_prospect(str(i))
        state.deleted[i]["updated_at"] = f"2026-01-01 00:{i // 6000 % 60:02d}:{i // 100 % 60:02d}"


async def measure(config: ExportConfig, folder: Path, label: str) -> None:
    async with Client(config) as client:
        started, before = time.perf_counter(), client.stats.api_calls
        known = RecycleBin(config, folder)
        await known.refresh(client)
        calls = client.stats.api_calls - before
    print(f"{label:34} {calls:5,} calls  {time.perf_counter() - started:6.2f} s  ({known.frame.height:,} known)")


async def naive(config: ExportConfig) -> None:
    async with Client(config) as client:
        started, rows = time.perf_counter(), 0
        async for page in reads.binned(client):
            rows += len(page)
        print(f"{'naive: the whole bin, every job':34} {client.stats.api_calls:5,} calls  "
              f"{time.perf_counter() - started:6.2f} s  ({rows:,} read)")  # fmt: skip


def main(deleted: int) -> None:
    recycle_bin.FRESH_SECONDS = 0  # every run asks Pardot (a run within a minute of the last check would not)
    with Simulator().run_in_thread() as sim, tempfile.TemporaryDirectory() as folder:
        seed(sim, deleted)
        config = ExportConfig(**sim.credentials)
        print(f"recycle bin of {deleted:,} prospects")
        asyncio.run(measure(config, Path(folder), "first job: read whole"))
        asyncio.run(measure(config, Path(folder), "later job, nothing changed"))
        sim.state.delete_prospect(str(deleted + 1))
        asyncio.run(measure(config, Path(folder), "later job, one more deleted"))
        sim.state.unarchive(sim.state.deleted[7])
        asyncio.run(measure(config, Path(folder), "later job, one restored"))
        asyncio.run(naive(config))
        print("ratio, later job with nothing changed: naive calls / ours = "
              f"{-(-deleted // 1000)} / 1 = {-(-deleted // 1000)}x")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300_000)
