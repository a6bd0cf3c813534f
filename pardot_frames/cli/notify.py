"""``pardot-frames notify test``: send a test message to each of a job's notify URLs, so the settings can be
checked once (``engine.notify``); the URLs are shown by their scheme only."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pardot_frames.cli.common import EXIT_FAILED, EXIT_OK, UsageError, add_job_arguments, load_config


def cmd_notify_test(args: argparse.Namespace) -> int:
    from pardot_frames.engine.job.notify import Message, deliver, masked, urls_of

    config = load_config(args)
    urls = urls_of(config)
    if not urls:
        raise UsageError('the job has no notify URLs: add notify = ["mailto://..."] to the job file (or --set)')
    name = Path(args.config).stem if args.config else "job"
    when = datetime.now(UTC).isoformat(timespec="seconds")
    body = (f"A test message from pardot-frames for the job {name} ({config.data_object} to business unit "
            f"{config.business_unit or '-'} at {config.pardot_domain}), sent {when}. It is sent on these outcomes: "
            f"{', '.join(config.notify_on) or 'none'}.")  # fmt: skip
    failed = deliver(urls, Message("test", f"pardot-frames: test message for {name}", body))
    for url in urls:
        status = "failed" if any(f.startswith(masked(url)) for f in failed) else "delivered"
        print(f"{masked(url)}  {status}")
    return EXIT_FAILED if failed else EXIT_OK


def add_notify_parser(sub: Any) -> None:
    """The ``notify`` command."""
    p = sub.add_parser("notify", help="check a job's notification settings")
    verbs = p.add_subparsers(dest="verb", required=True)
    test = verbs.add_parser("test", help="send a test message to each notify URL of the job")
    add_job_arguments(test)
    test.set_defaults(func=cmd_notify_test)
