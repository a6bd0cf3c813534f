"""Incremental sync's diff: a 1M-row input against a 1M-row state (goal: at most 3 s on 2 cores, memory
within 1 GiB), and the calls a run with 1% of rows changed spends against a full run (simulator in its
own process). The naive diff beside it: a Python dict lookup per row.

Run: python benchmarks/bench_sync.py [--rows 1000000] [--send-rows 20000]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import polars as pl
from simproc import CREDENTIALS, simulator

from pardot_frames import ExportConfig, export_to_pardot, validate
from pardot_frames.engine.state.sync import SyncState, row_keys


def people(n: int, changed_every: int = 0) -> pl.DataFrame:
    company = [f"Company {i % 5000}" for i in range(n)]
    if changed_every:
        company = [c + " (new)" if i % changed_every == 0 else c for i, c in enumerate(company)]
    return pl.DataFrame({"email": [f"user{i}@example.com" for i in range(n)], "company": company, "score": range(n)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--send-rows", type=int, default=20_000)
    args = parser.parse_args()
    config = ExportConfig(**CREDENTIALS, sync_mode="changed")
    with tempfile.TemporaryDirectory() as folder:
        first = validate(people(args.rows), config)
        state = SyncState(config, Path(folder))
        keys = row_keys(first, "prospects")
        pairs = zip(keys["key"].to_list(), keys["hash"].to_list(), strict=True)
        state.sent = dict(zip(keys["row_nr"].to_list(), pairs, strict=True))
        state.learn(keys["row_nr"].to_list())  # a 1M-row state
        state.close()
        second = validate(people(args.rows, changed_every=100), config)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t = time.perf_counter()
        state = SyncState(config, Path(folder))
        diff = state.diff(second)
        elapsed = time.perf_counter() - t
        state.close()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"diff of {args.rows:,} rows against a {args.rows:,}-row state: {elapsed:.2f} s (state load included); "
            f"{diff.changed:,} changed, {len(diff.unchanged):,} unchanged; peak RSS {rss:,.0f} MiB "
            f"(was {rss_before:,.0f} before the diff)"
        )
        t = time.perf_counter()
        known = dict(zip(keys["key"].to_list(), keys["hash"].to_list(), strict=True))  # as if read from the state
        new_keys = row_keys(second, "prospects")
        naive = sum(
            known.get(k) != h for k, h in zip(new_keys["key"].to_list(), new_keys["hash"].to_list(), strict=True)
        )
        slow = time.perf_counter() - t
        print(f"naive per-row dict diff: {slow:.2f} s ({naive:,} to send); speed-up {slow / elapsed:.1f}x")
    with simulator() as base, tempfile.TemporaryDirectory() as folder:
        job = ExportConfig(**CREDENTIALS, login_url=base, pardot_domain=base, sync_mode="changed", parallel_tasks=5)
        full = export_to_pardot(people(args.send_rows), job, progress=False, state_dir=folder)
        again = export_to_pardot(people(args.send_rows, changed_every=100), job, progress=False, state_dir=folder)
        same = export_to_pardot(people(args.send_rows, changed_every=100), job, progress=False, state_dir=folder)
        print(
            f"{args.send_rows:,} prospects: full run {full.api_calls:,} calls; 1% changed {again.api_calls:,} calls "
            f"({again.api_calls / full.api_calls:.1%}); nothing changed {same.api_calls} calls"
        )


if __name__ == "__main__":
    main()
