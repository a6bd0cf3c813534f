"""dlt against the simulator (in this process, a thread): the issue's two goals.

1. A pipeline loads 100,000 prospects and their list memberships into DuckDB; after 1% of the prospects change, a
   second run loads only what changed: its calls beside the first run's (the bound: within 2% of the first's).
   Measured with each prospect in a list, then with one in four (the second run's calls are the same: one page of
   changes, the call that finds no more, one call for the memberships; the first run's depend on the rows).
2. The destination sends 100,000 rows; its calls beside export_to_pardot's on the same frame (the bound: within 1%).

Run: python benchmarks/bench_dlt.py [prospects]   (default 100,000)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import dlt
import duckdb
import polars as pl

import pardot_frames as pf
from pardot_frames.dlt import pardot_destination, pardot_source
from pardot_frames.simulator import Simulator


def main(rows: int) -> None:
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    for every in (1, 4):  # each prospect in a list (as the "their list memberships"), then one in four
        first, second, seconds, held = source_runs(rows, every)
        print(f"source, first run    {rows:,} prospects + {rows // every:,} memberships: {first:,} calls, "
              f"{seconds:.1f} s")  # fmt: skip
        print(f"source, second run   1% changed: {second:,} calls ({second / first:.1%} of the first); DuckDB "
              f"holds {held[0]:,} prospects, {held[1]:,} changed")  # fmt: skip
    frame = pl.DataFrame({"email": [f"n{i}@x.com" for i in range(rows)], "company": ["N"] * rows})
    direct, through = sent(frame, rows, through_dlt=False), sent(frame, rows, through_dlt=True)
    print(f"destination          {rows:,} rows: {through:,} calls; export_to_pardot on the same frame {direct:,} "
          f"({(through - direct) / direct:+.1%})")  # fmt: skip


def source_runs(rows: int, every: int) -> tuple[int, int, float, tuple[int, int]]:
    """The source's two runs: (first calls, second calls after 1% of the prospects changed, first seconds, what
    DuckDB holds: prospects and changed ones)."""
    with tempfile.TemporaryDirectory() as folder, Simulator().run_in_thread() as sim:
        sim.seed(lists=[{"id": 7, "name": "News"}],
                 prospects=[{"id": 1000 + i, "email": f"p{i}@x.com", "company": "A"} for i in range(rows)],
                 memberships=[{"list_id": 7, "prospect_id": 1000 + i} for i in range(0, rows, every)])  # fmt: skip
        for n, record in enumerate([*sim.state.prospects.values(), *sim.state.memberships.values()]):
            record["updated_at"] = f"2026-11-{1 + n % 28:02d} {n % 24:02d}:{n % 60:02d}:00"  # a month of changes
        connection, job = pf.Connection(**sim.credentials), pf.ExportConfig(**sim.credentials, parallel_tasks=5)
        target = Path(folder) / "warehouse.duckdb"
        load = dlt.pipeline("bench_in", destination=dlt.destinations.duckdb(str(target)), dataset_name="pardot",
                            pipelines_dir=str(Path(folder) / "dlt"))  # fmt: skip
        objects = ["prospects", "list_memberships"]
        before, started = sim.pardot_calls, time.perf_counter()
        load.run(pardot_source(connection, objects=objects, state_dir=folder))
        first, first_s = sim.pardot_calls - before, time.perf_counter() - started
        changed = pl.DataFrame({"id": list(range(1000, 1000 + rows // 100)), "company": ["B"] * (rows // 100)})
        pf.export_to_pardot(changed, job, progress=False, state_dir=folder, check_deleted=False)
        before = sim.pardot_calls
        load.run(pardot_source(connection, objects=objects, state_dir=folder))
        second = sim.pardot_calls - before
        with duckdb.connect(str(target), read_only=True) as con:
            held = con.execute("SELECT count(*), count(*) FILTER (company = 'B') FROM pardot.prospects").fetchone()
    return first, second, first_s, (int(held[0]), int(held[1]))  # type: ignore[index]


def sent(frame: pl.DataFrame, rows: int, *, through_dlt: bool) -> int:
    """The calls a fresh account (the simulator) takes to receive ``frame``, directly or through the destination."""
    with tempfile.TemporaryDirectory() as folder, Simulator().run_in_thread() as sim:
        job = pf.ExportConfig(**sim.credentials, parallel_tasks=5, upsert_by_email=True)
        if not through_dlt:
            pf.export_to_pardot(frame, job, progress=False, state_dir=folder)
            return sim.pardot_calls
        destination = pardot_destination(job, state_dir=folder, rejected_to=Path(folder) / "rejected.duckdb")
        out = dlt.pipeline("bench_out", destination=destination, pipelines_dir=str(Path(folder) / "dlt"))
        out.run(frame.to_arrow(), table_name="people")
        assert len(sim.state.prospects) == rows
        return sim.pardot_calls


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
