"""The cost and the power of a verify: a job of N demo rows (default 1,000,000) where 1% carry a Dropdown
value the account does not list (Pardot drops it silently), then the default verify drawn with 20 seeds.

Run: python benchmarks/bench_verify.py [rows]. Prints the job's calls, each verify's calls (the share of the
job's), how many of the 20 found the drop, and the probability the sample size promises (1 - 0.99^checked).
The naive check (every row read back by email, one call each) is costed, not run: its calls are the rows.
"""

from __future__ import annotations

import json
import sys
import tempfile
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from simproc import CREDENTIALS, simulator  # noqa: E402

from pardot_frames import ExportConfig, export_to_pardot, verify  # noqa: E402
from pardot_frames.demo import demo_prospects  # noqa: E402


def configure(base: str, path: str, data: dict) -> None:
    method = "PATCH" if path == "config" else "POST"
    request = urllib.request.Request(f"{base}/__sim__/{path}", json.dumps(data).encode(),
                                     {"Content-Type": "application/json"}, method=method)  # fmt: skip
    urllib.request.urlopen(request, timeout=60).read()


def main(rows: int) -> None:
    frame = demo_prospects(rows).with_columns(
        pl.when(pl.int_range(pl.len()) % 100 == 7).then(pl.lit("platinum"))
        .when(pl.int_range(pl.len()) % 2 == 0).then(pl.lit("gold")).otherwise(pl.lit("silver")).alias("tier")
    )  # fmt: skip
    with simulator() as base, tempfile.TemporaryDirectory() as folder:
        configure(base, "config", {"field_values_shown": False})
        configure(base, "seed", {"custom_fields": [{"field_id": "tier", "type": "Dropdown",
                                                    "values": ["gold", "silver"]}]})  # fmt: skip
        config = ExportConfig(**CREDENTIALS, login_url=base, pardot_domain=base, payload_location="body",
                              upsert_by_email=True)  # fmt: skip
        started = (datetime.now(UTC) - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        job = export_to_pardot(frame, config, progress=False, state_dir=folder, chunk_rows=200_000)
        found, costs, checked = 0, [], []
        for seed in range(20):
            result = verify(frame, config, started_after=started, job_calls=job.api_calls, state_dir=folder, seed=seed)
            found += result.mismatches.height > 0
            costs.append(result.calls)
            checked.append(result.rows_checked)
    print(f"job                  {rows:,} demo rows, {job.api_calls:,} calls ({job.succeeded:,} applied)")
    print(f"verify (default)     {max(costs)} calls at most = {max(costs) / job.api_calls:.3%} of the job's calls")
    print(f"rows checked         {min(checked):,} to {max(checked):,}")
    print(f"found the 1% drop    {found} of 20 draws; promised {1 - 0.99 ** min(checked):.4%} each")
    print(f"naive check          {rows:,} calls (one read per row) = {rows / max(costs):,.0f}x the verify")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
