"""API calls saved (issue #12), on the demo generator's rows: calls for 1M prospects with the payload in
the query string and in the POST body (planned by the dry run, the engine's own plan); list memberships
per call, batched against one call each; and rows/s end to end against the simulator (own process, 50 ms
a call, 5 in flight) in both modes.

Run: python benchmarks/bench_calls.py [--rows 1000000] [--send-rows 20000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import duckdb
import polars as pl
from simproc import CREDENTIALS, simulator

from pardot_frames import ExportConfig, dry_run, export_to_pardot
from pardot_frames.demo import DEMO_SQL, EVENT


def demo_rows(n: int) -> pl.DataFrame:
    return pl.from_arrow(duckdb.sql(DEMO_SQL.format(rows=n)).arrow().read_all())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--send-rows", type=int, default=20_000)
    args = parser.parse_args()
    rows = demo_rows(args.rows)
    for location in ("query", "body"):
        planned = dry_run(rows, ExportConfig(payload_location=location))
        print(
            f"{args.rows:,} demo prospects, payload in the {location:<5}: {planned.calls:>7,} calls "
            f"({planned.valid / planned.calls:.1f} rows a call, {planned.calls / 25_000:.1%} of a 25,000-call day)"
        )
    with simulator(0.05) as base, tempfile.TemporaryDirectory() as state:
        config = ExportConfig(**CREDENTIALS, login_url=base, pardot_domain=base, parallel_tasks=5)
        for location in ("query", "body"):
            frame = demo_rows(args.send_rows).with_columns(pl.col("email").str.replace("@", f"+{location}@"))
            t = time.perf_counter()
            result = export_to_pardot(frame, config, payload_location=location, progress=False, state_dir=state)
            elapsed = time.perf_counter() - t
            print(
                f"send {frame.height:,} rows in the {location:<5}: {result.api_calls:,} calls, "
                f"{result.succeeded / elapsed:,.0f} rows/s end to end (50 ms a call, 5 in flight)"
            )
        members = pl.DataFrame({"list_id": [EVENT] * 750, "prospect_id": list(range(1001, 1751))})
        seeded = ExportConfig(**CREDENTIALS, login_url=base, pardot_domain=base, data_object="list_memberships")
        import urllib.request

        seed = {"lists": [EVENT], "prospects": [{"id": i, "email": f"m{i}@x.com"} for i in range(1001, 1751)]}
        body = json.dumps(seed)
        urllib.request.urlopen(urllib.request.Request(base + "/__sim__/seed", body.encode(), method="POST"), timeout=30)
        for method in ("batch", "single"):
            result = export_to_pardot(members, seeded, list_membership_method=method, progress=False, state_dir=state)
            print(f"750 memberships ({method}): {result.api_calls:,} calls, {750 / result.api_calls:.1f} per call")


if __name__ == "__main__":
    main()
