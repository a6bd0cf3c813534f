"""``pardot-frames demo``: the whole product offline, against the built-in simulator.

Builds the demo dataset in DuckDB, exports it with a list add, then exports list memberships,
printing each summary and where the rejected rows went.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from pardot_frames.cli.common import report
from pardot_frames.demo import DEMO_SQL, EVENT, NEWSLETTER


def add_demo_parser(sub: Any) -> None:
    """The ``demo`` command."""
    d = sub.add_parser("demo", help="export the demo dataset to the built-in simulator (no network)")
    add_demo_arguments(d)
    d.set_defaults(func=cmd_demo)


def add_demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=int, default=3000, help="demo prospects to build (default 3000)")
    p.add_argument("--out", metavar="DIR", help="where rejected rows and demo.duckdb go (default: a temp folder)")
    p.add_argument("--latency", type=float, default=0.01, help="simulated Pardot latency per call, seconds")
    p.add_argument("--json", action="store_true", help="print JSON summaries instead of tables")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo; exit 0 when every row ended applied or reported, 4 if any went missing."""
    import duckdb

    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.job.export import export_to_pardot
    from pardot_frames.simulator import Simulator

    out = Path(args.out or tempfile.mkdtemp(prefix="pardot-frames-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    database = out / "demo.duckdb"
    database.unlink(missing_ok=True)
    con = duckdb.connect(str(database))
    con.execute(f"CREATE TABLE demo_prospects AS {DEMO_SQL.format(rows=int(args.rows))}")
    sim = Simulator(latency=args.latency)
    sim.seed(lists=[{"id": NEWSLETTER, "name": "Newsletter"}, {"id": EVENT, "name": "Event attendees"}])
    progress = False if args.no_progress or args.json else None
    codes = []
    with sim.run_in_thread() as running:
        if not args.json:
            print(f"Pardot simulator on {running.base_url}; demo data in {database}\n")
        base = ExportConfig(**running.credentials, parallel_tasks=5)
        jobs = out / "jobs"  # the demo's journals stay with its other files
        prospects = export_to_pardot(
            con.sql("SELECT * FROM demo_prospects"),
            base,
            prospect_lists="Newsletter",  # a list name, resolved once per job
            payload_location="body",  # 50 prospects a call, in the POST body
            progress=progress,
            state_dir=jobs,
        )
        codes.append(report(prospects, _as_args(args, out / "rejected_prospects.csv")))
        memberships = _memberships(con, running.state)
        if not args.json:
            print()
        members = export_to_pardot(memberships, base, data_object="list_memberships", progress=progress, state_dir=jobs)
        codes.append(report(members, _as_args(args, out / "rejected_memberships.csv")))
        lost = [r for r in (prospects, members) if r.succeeded + r.rejected.height != r.rows_in]
        if not args.json:
            print(
                f"\nPardot (the simulator) now holds {len(running.state.prospects):,} prospects, "
                f"{len(running.state.members(NEWSLETTER)):,} on the Newsletter list and "
                f"{len(running.state.members(EVENT)):,} on Event attendees."
            )
            print(f"Rejected rows are in {out}; the demo database for sql/*.sql is {database}.")
    con.close()
    return 4 if lost else 0


def _memberships(con: Any, state: Any) -> Any:
    """The demo's memberships: every fourth prospect Pardot now holds on Event attendees, and two that cannot be
    (an unknown prospect, an unknown list), read from a DuckDB table of what the simulator holds."""
    import polars as pl

    held = pl.DataFrame(
        [{"id": p["id"], "email": p.get("email")} for p in state.prospects.values()],
        schema={"id": pl.Int64, "email": pl.String},
    )
    con.register("held", held.to_arrow())
    con.execute("CREATE OR REPLACE TABLE pardot_prospects AS SELECT * FROM held")
    return con.sql(
        f"SELECT {EVENT} AS list_id, id AS prospect_id FROM pardot_prospects WHERE id % 4 = 0 "
        f"UNION ALL SELECT * FROM (VALUES ({EVENT}, 999999999), (4242, 1001)) t(list_id, prospect_id)"
    )


def _as_args(args: argparse.Namespace, rejected: Path) -> argparse.Namespace:
    return argparse.Namespace(json=args.json, rejected_out=str(rejected))
