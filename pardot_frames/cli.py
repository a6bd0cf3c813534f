"""The ``pardot-frames`` command line.

Commands: export (and its --dry-run), demo, simulator, auth (url, login, exchange, check, save, list).

Exit codes of export and demo:
  0  every row done
  1  some rows rejected (by validation or by Pardot); see --rejected-out
  2  bad usage, configuration or input: nothing was sent
  3  stopped by the daily API limit (error 122): run again after the account's day resets
  4  failed: login, network, or Pardot refused the job
  130 interrupted
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import ConfigError, CronError, InputError, JobFailed, PardotError, PardotFramesError
from .limits import DAILY_LIMIT

if TYPE_CHECKING:  # the heavy modules load when a command runs, so --help and --version are quick
    import polars as pl

    from .config import ExportConfig
    from .dryrun import DryRun
    from .results import ExportResult


EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_DAILY_LIMIT, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
HINTS = {
    CronError: "see 'pardot-frames schedule --help' for the syntax and the spec's two rules",
    ConfigError: "check the job file and --set values (pardot-frames export --help)",
    InputError: "fix the input, or see the rejected rows with --dry-run --rejected-out rejected.csv",
    PardotError: "see README 'Troubleshooting'; 'pardot-frames auth check --config JOB' tests the credentials",
}


class UsageError(PardotFramesError):
    """Bad command-line use (exit 2)."""


def parse_sets(items: Sequence[str]) -> dict[str, str]:
    """--set key=value pairs as a dict (values validated later by ExportConfig)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item!r}: give key=value, e.g. --set max_payload=4000")
        out[key.strip()] = value.strip()
    return out


def load_config(args: argparse.Namespace) -> ExportConfig:
    from .config import ExportConfig

    overrides = parse_sets(args.set)
    if args.config:
        return ExportConfig.from_file(args.config, **overrides)
    return ExportConfig(**overrides)


def open_source(args: argparse.Namespace) -> Any:
    """The rows to send: a DuckDB query (streamed as Arrow) or a Parquet/CSV file (scanned lazily)."""
    import polars as pl

    if args.input:
        path = Path(args.input)
        if not path.exists():
            raise UsageError(f"--input {args.input!r} does not exist")
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            return pl.scan_parquet(path)
        if suffix in (".csv", ".tsv"):
            return pl.scan_csv(path, separator="\t" if suffix == ".tsv" else ",", infer_schema=False)
        raise UsageError(f"--input {args.input!r}: give a .parquet, .csv or .tsv file")
    import duckdb

    sql = Path(args.sql).read_text(encoding="utf-8") if args.sql else args.query
    con = duckdb.connect(args.database or ":memory:")
    try:
        return con.sql(sql)
    except duckdb.Error as exc:
        raise InputError(f"the SQL failed in DuckDB: {str(exc).splitlines()[0]}") from None


def write_rejected(frame: pl.DataFrame, path: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() == ".parquet":
        frame.write_parquet(target)
    elif target.suffix.lower() == ".csv":
        frame.write_csv(target)
    else:
        raise UsageError(f"--rejected-out {path!r}: give a .parquet or .csv path")


def print_summary(rows: list[tuple[str, str]], title: str) -> None:
    """A two-column table (rich when it is installed, plain text otherwise)."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover
        print(title)
        for key, value in rows:
            print(f"  {key:<24} {value}")
        return
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in rows:
        table.add_row(key, value)
    Console(highlight=False).print(table)


def result_rows(result: ExportResult) -> list[tuple[str, str]]:
    s = result.summary()
    rows = [
        ("rows in", f"{s['rows_in']:,}"),
        ("succeeded", f"{s['succeeded']:,}"),
        ("rejected by validation", f"{s['rejected_validation']:,}"),
        ("rejected by Pardot", f"{s['rejected_pardot']:,}"),
        ("not sent", f"{s['not_sent']:,}"),
        ("API calls", f"{s['api_calls']:,} (planned {s['planned_calls']:,}; {s['calls_per_row']:.4f} per row)"),
        ("retries", f"{s['retries']:,}"),
        ("elapsed", f"{s['elapsed_seconds']:.2f} s"),
        ("rows/s", f"{s['rows_per_second'] or 0:,.0f}"),
    ]
    rows += [(note, f"{count:,}") for note, count in s["notes"].items()]
    if s["stopped"]:
        rows.append(("stopped", s["stopped"]))
    return rows


def dry_run_rows(d: DryRun) -> list[tuple[str, str]]:
    s = d.summary()
    rows = [
        ("rows read", f"{s['rows_in']:,}"),
        ("valid", f"{s['valid']:,}"),
        ("invalid", f"{s['invalid']:,}"),
        ("calls planned", f"{s['calls_planned']:,}"),
        ("rows per call", f"{s['rows_per_call']:.1f}"),
        ("daily API limit share", f"{s['daily_limit_share']:.2%} of {s['daily_limit']:,}"),
    ]
    rows += [(f"  {reason}", f"{count:,}") for reason, count in list(s["invalid_reasons"].items())[:10]]
    if s["note"]:
        rows.append(("note", s["note"]))
    return rows


def cmd_export(args: argparse.Namespace) -> int:
    import orjson

    from .dryrun import dry_run
    from .export import export_to_pardot
    from .results import ExportResult

    if not (args.sql or args.query or args.input):
        raise UsageError("give the rows to send: --sql FILE, --query TEXT or --input FILE")
    config = load_config(args)
    data = open_source(args)
    if args.dry_run:
        planned = dry_run(data, config, daily_limit=args.daily_limit)
        if args.rejected_out:
            write_rejected(planned.rejected, args.rejected_out)
        if args.json:
            print(orjson.dumps(planned.summary()).decode())
        else:
            print_summary(dry_run_rows(planned), "pardot-frames dry run (nothing sent)")
        return EXIT_REJECTED if planned.invalid else EXIT_OK
    from .errors import Interrupted

    resume: bool | str = args.resume if args.resume is not None else False
    try:
        result = export_to_pardot(
            data,
            config,
            progress=False if args.no_progress or args.json else None,
            resume=resume,
            journal=not args.no_journal,
            state_dir=args.state_dir,
        )
    except (PardotError, Interrupted) as exc:
        partial = getattr(exc, "result", None)
        if isinstance(partial, ExportResult):
            if args.rejected_out:
                write_rejected(partial.rejected, args.rejected_out)
            if partial.job_id:
                print(f"resume with: {resume_command(partial.job_id)}", file=sys.stderr)
        raise
    code = report(result, args)
    if code == EXIT_DAILY_LIMIT and result.job_id:
        print(f"resume with: {resume_command(result.job_id)}", file=sys.stderr)
    return code


def resume_command(job_id: str) -> str:
    """This command line again, resuming the given job."""
    import shlex

    argv = list(sys.argv[1:])
    if "--resume" in argv:
        at = argv.index("--resume")
        del argv[at : at + (2 if at + 1 < len(argv) and not argv[at + 1].startswith("-") else 1)]
    return shlex.join(["pardot-frames", *argv, "--resume", job_id])


def cmd_jobs(args: argparse.Namespace) -> int:
    """List journals, or prune old ones."""
    from .journal import list_jobs, prune, state_dir

    folder = Path(args.state_dir) if args.state_dir else None
    if args.action == "prune":
        removed = prune(args.older_than, folder, include_unfinished=args.all)
        print(f"removed {len(removed)} journal(s) from {folder or state_dir()}")
        return EXIT_OK
    jobs = list_jobs(folder)
    if not jobs:
        print(f"no journals in {folder or state_dir()}")
    for job in jobs:
        s = job.summary
        counts = (
            (
                f"{s.get('succeeded', 0):,} applied, {s.get('rejected_pardot', 0):,} rejected, "
                f"{s.get('not_sent', 0):,} not sent"
            )
            if s
            else "no summary (running, or killed)"
        )
        print(f"{job.job_id}  {job.status:<8}  {job.data_object:<16}  {job.rows_in:>10,} rows  {counts}")
    return EXIT_OK


def report(result: ExportResult, args: argparse.Namespace) -> int:
    """Print the summary (table or JSON), write rejected rows, and give the exit code."""
    import orjson

    if args.rejected_out and result.rejected.height:
        write_rejected(result.rejected, args.rejected_out)
    if args.json:
        print(orjson.dumps(result.summary()).decode())
    else:
        print_summary(result_rows(result), f"pardot-frames export: {result.data_object}")
        if result.rejected.height:
            where = args.rejected_out or "(not written: add --rejected-out FILE.csv|.parquet)"
            print(f"rejected rows: {result.rejected.height:,} -> {where}")
    if result.stopped and result.not_sent:
        return EXIT_DAILY_LIMIT
    return EXIT_OK if result.ok else EXIT_REJECTED


def add_source_arguments(p: argparse.ArgumentParser) -> None:
    """Where the rows come from: DuckDB SQL (a file or text, optionally on a database file) or a file."""
    source = p.add_mutually_exclusive_group()
    source.add_argument("--sql", metavar="FILE.sql", help="a DuckDB SQL file (may read Parquet/CSV files)")
    source.add_argument("--query", metavar="TEXT", help="DuckDB SQL text")
    source.add_argument("--input", metavar="FILE", help="a Parquet or CSV file")
    p.add_argument("--database", metavar="FILE.duckdb", help="open this DuckDB file (default: in memory)")


def add_job_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="JOB.toml", help="TOML job file (top-level keys = job parameters)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a job parameter")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pardot-frames", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"pardot-frames {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    e = sub.add_parser(
        "export",
        help="send rows from SQL or a file to Pardot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_job_arguments(e)
    add_source_arguments(e)
    e.add_argument("--dry-run", action="store_true", help="validate and plan only: no network, no credentials")
    e.add_argument("--daily-limit", type=int, default=DAILY_LIMIT, help="daily API calls, for the dry-run share")
    e.add_argument("--rejected-out", metavar="PATH", help="write rejected rows to .parquet or .csv")
    e.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    e.add_argument("--no-progress", action="store_true", help="no progress bar")
    e.add_argument(
        "--resume",
        nargs="?",
        const=True,
        metavar="JOB_ID",
        help="continue the stopped job with this config and input (or the given job id)",
    )
    e.add_argument("--state-dir", metavar="DIR", help="where job journals live (default: the user's data folder)")
    e.add_argument("--no-journal", action="store_true", help="keep no journal (the job cannot resume)")
    e.set_defaults(func=cmd_export)

    j = sub.add_parser("jobs", help="list or prune job journals")
    j.add_argument("action", nargs="?", choices=["list", "prune"], default="list")
    j.add_argument("--older-than", type=float, default=30, metavar="DAYS", help="prune: journals older than this")
    j.add_argument("--all", action="store_true", help="prune unfinished journals too")
    j.add_argument("--state-dir", metavar="DIR")
    j.set_defaults(func=cmd_jobs)

    from .demo import add_demo_arguments, cmd_demo

    d = sub.add_parser("demo", help="export the demo dataset to the built-in simulator (no network)")
    add_demo_arguments(d)
    d.set_defaults(func=cmd_demo)

    from .simulator.server import add_arguments, serve

    s = sub.add_parser("simulator", help="run a local Pardot simulator")
    add_arguments(s)
    s.set_defaults(func=serve)

    from .cli_auth import add_auth_parser

    add_auth_parser(sub)
    add_schedule_parser(sub)
    return parser


def cmd_schedule_next(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from .cron import parse

    schedule = parse(args.cron, args.tz)
    after = datetime.fromisoformat(args.after) if args.after else datetime.now(UTC)
    for moment in schedule.next_runs(after, args.n):
        print(moment.isoformat())
    return EXIT_OK


def cmd_schedule_run(args: argparse.Namespace) -> int:
    from .cron import parse
    from .export import export_to_pardot
    from .schedule import History, history_path, run_schedule

    schedule = parse(args.cron, args.tz)
    config = load_config(args)
    if not (args.sql or args.query or args.input):
        raise UsageError("give the rows to send: --sql FILE, --query TEXT or --input FILE")

    def job() -> Any:
        return export_to_pardot(open_source(args), config, progress=False, state_dir=args.state_dir)

    history = History(Path(args.history) if args.history else history_path())
    try:
        run_schedule(
            schedule,
            job,
            history,
            delay=args.delay,
            max_config_failures=args.max_config_failures,
            max_runs=args.max_runs,
            say=lambda line: print(line, flush=True),
        )
    finally:
        history.close()
    return EXIT_OK


def cmd_schedule_history(args: argparse.Namespace) -> int:
    from .schedule import describe, history_path, history_rows

    rows = history_rows(Path(args.history) if args.history else history_path(), args.n)
    if not rows:
        print("no scheduled runs yet")
    for row in rows:
        print(describe(row))
    return EXIT_OK


def add_schedule_parser(sub: Any) -> None:
    from .cron import __doc__ as cron_doc

    sc = sub.add_parser(
        "schedule",
        help="run exports on a cron schedule",
        description=cron_doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = sc.add_subparsers(dest="verb", required=True)
    nx = verbs.add_parser("next", help="print the next run times")
    nx.add_argument("cron", help='five fields, @daily, @hourly, or "" (no run)')
    nx.add_argument("-n", type=int, default=5, help="how many (default 5)")
    nx.add_argument("--tz", default="UTC", help="IANA time zone, e.g. Europe/Berlin (default UTC)")
    nx.add_argument("--after", metavar="ISO-DATETIME", help="start after this time (default now)")
    nx.set_defaults(func=cmd_schedule_next)
    rn = verbs.add_parser("run", help="run the export at each scheduled time until stopped")
    add_job_arguments(rn)
    add_source_arguments(rn)
    rn.add_argument("--cron", required=True)
    rn.add_argument("--tz", default="UTC")
    rn.add_argument("--delay", type=float, default=0.0, metavar="SECONDS", help="start each run this much later")
    rn.add_argument(
        "--max-config-failures",
        type=int,
        default=3,
        help="disable after this many consecutive login/config/schema failures (default 3)",
    )
    rn.add_argument("--max-runs", type=int, default=None, help="stop after this many runs")
    rn.add_argument("--state-dir", metavar="DIR")
    rn.add_argument("--history", metavar="FILE.duckdb", help="where run history is kept")
    rn.set_defaults(func=cmd_schedule_run)
    hs = verbs.add_parser("history", help="past scheduled runs")
    hs.add_argument("--history", metavar="FILE.duckdb")
    hs.add_argument("-n", type=int, default=50)
    hs.set_defaults(func=cmd_schedule_history)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (PardotFramesError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        first, *rest = str(exc).splitlines() or [type(exc).__name__]
        print(f"error: {first}", file=sys.stderr)
        for line in rest:
            print(f"  {line.strip()}" if not line.startswith("  ") else line, file=sys.stderr)
        hint = next((h for kind, h in HINTS.items() if isinstance(exc, kind)), None)
        if hint:
            print(f"hint: {hint}", file=sys.stderr)
        if isinstance(exc, (PardotError, JobFailed)) and not isinstance(exc, InputError):
            return EXIT_FAILED
        if type(exc).__name__ == "Interrupted":
            return EXIT_INTERRUPTED
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
