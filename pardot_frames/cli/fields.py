"""``pardot-frames fields``: the standard and custom fields of the account a job sends to, with their types,
so SQL can be written against them."""

from __future__ import annotations

import argparse
from typing import Any

from pardot_frames.cli.common import EXIT_OK, add_job_arguments, load_config, print_table


def cmd_fields(args: argparse.Namespace) -> int:
    import orjson

    from pardot_frames.engine.state.field_cache import fields

    frame = fields(load_config(args), state_dir=args.state_dir, refresh=args.refresh_fields)
    if args.json:
        print(orjson.dumps(frame.to_dicts()).decode())
        return EXIT_OK
    rows = [
        [row["field"], row["kind"], row["type"], "yes" if row["several"] else "", ", ".join(row["values"] or [])]
        for row in frame.iter_rows(named=True)
    ]
    print_table(["field", "kind", "type", "several", "values"], rows)
    return EXIT_OK


def add_fields_parser(sub: Any) -> None:
    """The ``fields`` command."""
    f = sub.add_parser("fields", help="list the account's standard and custom fields with their types")
    add_job_arguments(f)
    f.add_argument("--json", action="store_true", help="print a JSON list instead of the table")
    f.add_argument("--refresh-fields", action="store_true", help="read them again (ignore the 10-minute cache)")
    f.add_argument("--state-dir", metavar="DIR", help="where the field cache lives (default: the user's data folder)")
    f.set_defaults(func=cmd_fields)
