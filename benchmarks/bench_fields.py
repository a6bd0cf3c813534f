"""What checking the account's fields costs: a 1M-row dry run with typed custom fields (Date, Number,
Dropdown) with and without the check (the simulator in its own process holds the fields), and the calls
the check spends (one, then none while the cache is fresh).

Run: python benchmarks/bench_fields.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request

import polars as pl
from simproc import CREDENTIALS, simulator

from pardot_frames import ExportConfig, dry_run

FIELDS = [
    {"id": 1, "field_id": "visit_date", "type": "Date"},
    {"id": 2, "field_id": "spend", "type": "Number"},
    {"id": 3, "field_id": "tier", "type": "Dropdown", "values": ["Gold", "Silver", "Bronze"]},
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.rows
    frame = pl.DataFrame(
        {
            "email": [f"user{i}@example.com" for i in range(n)],
            "first_name": ["Zoë"] * n,
            "visit_date": [f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z" for i in range(n)],
            "spend": [str(i % 1000) for i in range(n)],
            "tier": [["Gold", "Silver", "Bronze"][i % 3] for i in range(n)],
        }
    )
    with simulator() as base, tempfile.TemporaryDirectory() as state:
        body = json.dumps({"custom_fields": FIELDS}).encode()
        urllib.request.urlopen(urllib.request.Request(base + "/__sim__/seed", body, method="POST"), timeout=30)
        config = ExportConfig(**CREDENTIALS, login_url=base, pardot_domain=base)
        typed = frame.with_columns(
            pl.col("visit_date").str.slice(0, 10).str.to_date(), pl.col("spend").cast(pl.Int64)
        )  # the same values with native types (what a DuckDB or Parquet source gives)
        for label, data in (("text columns (CSV-like)", frame), ("native Date/Int64 columns", typed)):
            timings = {}
            for name, overrides in (("without the check", {"check_fields": False}), ("with the check", {})):
                best = float("inf")
                for _ in range(3):
                    t = time.perf_counter()
                    planned = dry_run(data, config.replace(**overrides), state_dir=state)
                    best = min(best, time.perf_counter() - t)
                timings[name] = best
                print(f"{n:,}-row dry run, {label}, {name:<18} {best:6.2f} s  ({planned.invalid} invalid)")
            ratio = timings["with the check"] / timings["without the check"]
            print(f"  the check adds {ratio - 1:.1%}")
        with urllib.request.urlopen(base + "/__sim__/state", timeout=30) as r:
            reads = json.loads(r.read())["calls_by_endpoint"].get("customField/query", 0)
        print(f"customField reads over 6 dry runs: {reads} (cached)")


if __name__ == "__main__":
    main()
