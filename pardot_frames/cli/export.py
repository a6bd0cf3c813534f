"""``pardot-frames export`` (and its dry run) and ``pardot-frames jobs``."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pardot_frames.cli.common import (
    EXIT_DAILY_LIMIT,
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
    add_job_arguments,
    add_source_arguments,
    load_config,
    open_source,
    print_summary,
    print_table,
    report,
    resume_command,
    write_rejected,
)
from pardot_frames.errors import PardotError
from pardot_frames.limits import DAILY_LIMIT

if TYPE_CHECKING:
    from pardot_frames.engine.job.dryrun import DryRun


def dry_run_rows(d: DryRun) -> list[tuple[str, str]]:
    s = d.summary()
    rows = [
        ("rows read", f"{s['rows_in']:,}"),
        ("valid", f"{s['valid']:,}"),
        ("invalid", f"{s['invalid']:,}"),
        ("calls planned", f"{s['calls_planned']:,}"),
        ("rows per call", f"{s['rows_per_call']:.1f}"),
        ("daily API limit share", f"{s['daily_limit_share']:.2%} of {s['daily_limit']:,}"),
        ("payload in", "CSV batches (Import API)" if s.get("method") == "import" else s["payload_location"]),
    ]
    if s["calls_in_body_mode"] is not None and s["calls_in_body_mode"] < s["calls_planned"]:
        rows.append(("in the POST body", f"{s['calls_in_body_mode']:,} calls (payload_location = body)"))
    if s.get("deleted_in_pardot"):
        rows.append(
            ("deleted in Pardot", f"{s['deleted_in_pardot']:,} row(s): not sent (restore_deleted = true: restored)")
        )
    if "unchanged" in s:
        rows.append(("new / changed / unchanged", f"{s['new']:,} / {s['changed']:,} / {s['unchanged']:,}"))
    if "method" in s:
        rows.append(("method", f"{s['method']} ({s['method_reason']})"))
    if s.get("method") == "import":
        rows.append(("imports / batches", f"{s['imports']:,} / {s['import_batches']:,} ({s['import_bytes']:,} bytes)"))
        rows.append(("daily import batch share", f"{s['daily_batch_share']:.2%} of 1,000"))
    if "to_remove" in s:
        removals = s["to_remove"]
        rows.append(("mirror: to remove", f"{removals:,} memberships" if isinstance(removals, int) else removals))
    for name, found in (s["lists"] or {}).items():
        rows.append((f"list {name!r}", str(found)))
    if s["max_api_calls"] is not None:
        verdict = "within" if s["within_max_api_calls"] else "OVER (the job will stop there; resume later)"
        rows.append(("job budget", f"{s['max_api_calls']:,} calls: {verdict}"))
    rows += [(f"  {reason}", f"{count:,}") for reason, count in list(s["invalid_reasons"].items())[:10]]
    if s.get("verify_calls") is not None:
        arrays = s.get("verify_reads_arrays_through_v4")
        through = f" (array fields {', '.join(arrays)}: 5 v4 calls per 1,000 prospects read)" if arrays else ""
        rows.append(("verify", f"{s['verify_calls']:,} calls at most{through}"))
    if s["note"]:
        rows.append(("note", s["note"]))
    return rows


def _dry_run(args: argparse.Namespace, data: Any, config: Any) -> int:
    """``export --dry-run``: the plan printed (or as JSON); exit 1 when rows are invalid."""
    import orjson

    from pardot_frames.engine.job.dryrun import dry_run

    verify = args.verify_sample if args.verify_sample is not None else (True if args.verify else None)
    planned = dry_run(data, config, daily_limit=args.daily_limit, state_dir=args.state_dir, verify=verify)
    if args.rejected_out:
        write_rejected(planned.rejected, args.rejected_out)
    if args.json:
        print(orjson.dumps(planned.summary()).decode())
    else:
        print_summary(dry_run_rows(planned), "pardot-frames dry run (nothing sent)")
    return EXIT_REJECTED if planned.invalid else EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:

    from pardot_frames.engine.job.export import export_to_pardot
    from pardot_frames.engine.results import ExportResult

    if not (args.sql or args.query or args.input):
        raise UsageError("give the rows to send: --sql FILE, --query TEXT or --input FILE")
    config = load_config(args)
    data = open_source(args)
    if args.dry_run:
        return _dry_run(args, data, config)
    from pardot_frames.errors import Interrupted, VerifyFailed

    resume: bool | str = args.resume if args.resume is not None else False
    began = datetime.now(UTC)
    try:
        result = export_to_pardot(
            data,
            config,
            progress=False if args.no_progress or args.json else None,
            resume=resume,
            journal=not args.no_journal,
            state_dir=args.state_dir,
            refresh_fields=args.refresh_fields,
            verify=args.verify_sample if args.verify_sample is not None else bool(args.verify),
        )
    except VerifyFailed as exc:  # verify_strict: the job ran; its summary, then exit 1
        assert isinstance(exc.result, ExportResult)
        report(exc.result, args)
        print(f"error: {exc}", file=sys.stderr)
        tell(args, config, "rejected", began, result=exc.result)
        return EXIT_REJECTED
    except (PardotError, Interrupted) as exc:
        partial = getattr(exc, "result", None)
        if isinstance(partial, ExportResult) and args.rejected_out:
            write_rejected(partial.rejected, args.rejected_out)
        job_id = getattr(exc, "job_id", None) or (partial.job_id if isinstance(partial, ExportResult) else None)
        if job_id:
            print(f"resume with: {resume_command(job_id)}", file=sys.stderr)
        tell(args, config, "failure", began, error=exc, job_id=job_id)
        raise
    code = report(result, args)
    if code == EXIT_DAILY_LIMIT and result.job_id:
        print(f"resume with: {resume_command(result.job_id)}", file=sys.stderr)
    event = {EXIT_OK: "success", EXIT_REJECTED: "rejected"}.get(code, "failure")
    tell(args, config, event, began, result=result, job_id=result.job_id)
    return code


def tell(args: argparse.Namespace, config: Any, event: str, began: Any, *, result: Any = None,
         error: BaseException | None = None, job_id: str | None = None) -> None:  # fmt: skip
    """The job's notification (its notify URLs, on its notify_on outcomes), with the command that resumes it."""
    if not config.notify or event not in config.notify_on:
        return
    from pardot_frames.engine.job.notify import message, notify

    name = Path(args.config).stem if getattr(args, "config", None) else "export"
    resume = resume_command(job_id)
    notify(config, message(event, config, name=name, started=began, result=result, error=error, resume=resume))


def cmd_jobs(args: argparse.Namespace) -> int:
    """List journals, or prune old ones."""
    from pardot_frames.engine.state.journal import list_jobs, prune, state_dir

    folder = Path(args.state_dir) if args.state_dir else None
    if args.action == "prune":
        removed = prune(args.older_than, folder, include_unfinished=args.all)
        print(f"removed {len(removed)} journal(s) from {folder or state_dir()}")
        return EXIT_OK
    jobs = list_jobs(folder)
    if not jobs:
        print(f"no journals in {folder or state_dir()}")
        return EXIT_OK
    headers = ["job id", "status", "object", "rows", "applied", "rejected", "not sent"]
    rows = []
    for job in jobs:
        s = job.summary or {}
        counts = [f"{s[k]:,}" if k in s else "?" for k in ("succeeded", "rejected_pardot", "not_sent")]
        rows.append([job.job_id, job.status, job.data_object, f"{job.rows_in:,}", *counts])
    print_table(headers, rows, right=headers[3:])
    if any(not job.summary for job in jobs):
        print("? : no summary yet (the job is running, or was killed: --resume continues it)")
    return EXIT_OK


EXPORT_HELP = """Send rows from DuckDB SQL or a Parquet/CSV file to Pardot, or plan it with --dry-run (nothing sent).

Exit codes:
  0  every row done
  1  some rows rejected (by validation or by Pardot); see --rejected-out
  2  bad usage, configuration or input: nothing was sent
  3  stopped by the daily API limit (error 122) or the job's budget: --resume after the reset
  4  failed: login, network, or Pardot refused the job
  130 interrupted: --resume continues the job
"""


def add_export_parser(sub: Any) -> None:
    """The ``export`` and ``jobs`` commands."""
    e = sub.add_parser(
        "export",
        help="send rows from SQL or a file to Pardot",
        description=EXPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_job_arguments(e)
    add_source_arguments(e)
    e.add_argument(
        "--dry-run",
        action="store_true",
        help="validate and plan only: nothing is sent (with credentials: fields, list names, the recycle bin read)",
    )
    e.add_argument("--daily-limit", type=int, default=DAILY_LIMIT, help="daily API calls, for the dry-run share")
    e.add_argument("--rejected-out", metavar="PATH", help="write rejected rows to .parquet or .csv")
    e.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    e.add_argument("--verify", action="store_true", help="read back what the job landed and compare (a sample)")
    e.add_argument("--verify-sample", type=float, metavar="SHARE", help="verify this share of the rows (1 = all)")
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
    e.add_argument("--refresh-fields", action="store_true", help="read the account's fields again (no cache)")
    e.set_defaults(func=cmd_export)

    j = sub.add_parser("jobs", help="list or prune job journals")
    j.add_argument("action", nargs="?", choices=["list", "prune"], default="list")
    j.add_argument("--older-than", type=float, default=30, metavar="DAYS", help="prune: journals older than this")
    j.add_argument("--all", action="store_true", help="prune unfinished journals too")
    j.add_argument("--state-dir", metavar="DIR")
    j.set_defaults(func=cmd_jobs)
