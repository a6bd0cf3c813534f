"""Calls per row of upsert_by_email: email lookups plus sends, for accounts and inputs of several sizes.

Lookups take the cheaper way: one query page per 200 prospects in the account, or one read per
distinct email. Run: python benchmarks/bench_upsert_by_email.py
"""

from __future__ import annotations

import polars as pl

from pardot_frames import ExportConfig, export_to_pardot
from pardot_frames.simulator import Simulator


def scenario(account: int, rows: int, known_share: float) -> None:
    with Simulator(one_prospect_per_email=False).run_in_thread() as sim:
        sim.seed(prospects=[{"email": f"k{i}@example.com"} for i in range(account)])
        known = int(rows * known_share)
        emails = [f"K{i}@example.com" for i in range(known)] + [f"new{i}@example.com" for i in range(rows - known)]
        frame = pl.DataFrame({"email": emails, "company": ["Acme"] * rows})
        before = len(sim.state.prospects)
        result = export_to_pardot(frame, ExportConfig(**sim.credentials, upsert_by_email=True), progress=False)
        created = len(sim.state.prospects) - before
        assert result.succeeded == rows and created == rows - known, (created, rows - known)
        lookups = result.api_calls - sim.state.calls_by_endpoint["prospect/batchUpsert"]
        print(
            f"{account:>8,}  {rows:>7,}  {known_share:>5.0%}  {lookups:>7,}  {result.api_calls:>6,}  "
            f"{result.calls_per_row:>9.4f}  {created:>7,}"
        )


def main() -> None:
    print(" account     rows  known  lookups  calls  calls/row  created")
    for account, rows, share in [
        (10_000, 20, 0.5),
        (10_000, 2_000, 0.5),
        (10_000, 20_000, 0.5),
        (100_000, 200, 1.0),
        (1_000, 5_000, 0.2),
    ]:
        scenario(account, rows, share)


if __name__ == "__main__":
    main()
