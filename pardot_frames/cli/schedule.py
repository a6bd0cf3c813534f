"""``pardot-frames schedule``: next run times, the scheduling loop, and its history."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pardot_frames.cli.common import (
    EXIT_OK,
    UsageError,
    add_job_arguments,
    add_source_arguments,
    load_config,
    open_source,
    plain,
)


def cmd_schedule_next(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from pardot_frames.schedule.cron import parse

    schedule = parse(args.cron, args.tz)
    after = datetime.fromisoformat(args.after) if args.after else datetime.now(UTC)
    for moment in schedule.next_runs(after, args.n):
        print(moment.isoformat())
    return EXIT_OK


def cmd_schedule_run(args: argparse.Namespace) -> int:
    from pardot_frames.engine.job.export import export_to_pardot
    from pardot_frames.schedule.cron import parse
    from pardot_frames.schedule.runner import History, history_path, run_schedule

    schedule = parse(args.cron, args.tz)
    latest = {"config": load_config(args)}  # a bad job file fails now, not at the first scheduled time
    if not (args.sql or args.query or args.input):
        raise UsageError("give the rows to send: --sql FILE, --query TEXT or --input FILE")

    def job() -> Any:
        try:  # the config is read again each run: a rotated refresh token saved by the last run is used
            latest["config"] = load_config(args)
            return export_to_pardot(open_source(args), latest["config"], progress=False, state_dir=args.state_dir)
        finally:
            stop_on_sigterm()  # the export's own handlers are gone: SIGTERM stops the waiting schedule again

    def tell(event: str, started: Any, ended: Any, result: Any, error: Any, detail: Any) -> None:
        """Each run's notification, with the job file as it last read (its notify URLs and notify_on)."""
        config = latest["config"]
        if not config.notify or event not in config.notify_on:
            return
        from pardot_frames.cli.common import resume_command
        from pardot_frames.engine.job.notify import message, notify

        job_id = getattr(result, "job_id", None) or getattr(error, "job_id", None)
        job_id = job_id or getattr(getattr(error, "result", None), "job_id", None)
        resume = resume_command(job_id, export_argv(args))
        name = Path(args.config).stem if args.config else "schedule"
        note = message(event, config, name=f"{name} (schedule {args.cron!r})", started=started, ended=ended,
                       result=result, error=error, resume=resume, detail=detail)  # fmt: skip
        notify(config, note)

    stop_on_sigterm()

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
            tell=tell,
        )
    finally:
        history.close()
    return EXIT_OK


def export_argv(args: argparse.Namespace) -> list[str]:
    """The ``export`` command line of this schedule's job (what a resume of one of its runs is)."""
    argv = ["export"]
    for flag, value in (("--config", args.config), ("--sql", args.sql), ("--query", args.query),
                        ("--input", args.input), ("--state-dir", args.state_dir)):  # fmt: skip
        if value:
            argv += [flag, str(value)]
    for item in args.set or []:
        argv += ["--set", item]
    return argv


def stop_on_sigterm() -> None:
    """SIGTERM while the schedule waits stops it like Ctrl-C (exit 130), not with a silent kill."""
    import signal

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def cmd_schedule_history(args: argparse.Namespace) -> int:
    from pardot_frames.schedule.runner import describe, history_path, history_rows

    rows = history_rows(Path(args.history) if args.history else history_path(), args.n)
    if not rows:
        print("no scheduled runs yet")
    for row in rows:
        print(describe(row))
    return EXIT_OK


def add_schedule_parser(sub: Any) -> None:
    from pardot_frames.schedule.cron import __doc__ as cron_doc

    sc = sub.add_parser(
        "schedule",
        help="run exports on a cron schedule",
        description=plain(cron_doc),
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
