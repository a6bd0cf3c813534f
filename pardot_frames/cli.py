"""The ``pardot-frames`` command line: ``plan`` (a dry run: validation and calls, no network) and
``simulator`` (a local Pardot). Exit codes: 0 done, 1 some rows rejected, 2 bad usage, config or input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from . import __version__
from .batching import plan
from .config import ExportConfig
from .errors import PardotFramesError
from .validate import validate

DAILY_LIMIT = 25_000


def _parse_sets(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise PardotFramesError(f"--set {item!r}: give key=value, e.g. --set max_payload=4000")
        out[key.strip()] = value.strip()
    return out


def _read_input(path: str) -> pl.DataFrame:
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return pl.read_parquet(path)
    if suffix in (".csv", ".tsv"):
        return pl.read_csv(path, separator="\t" if suffix == ".tsv" else ",", infer_schema=False)
    raise PardotFramesError(f"--input {path!r}: give a .parquet or .csv file")


def cmd_plan(args: argparse.Namespace) -> int:
    """Validate the input and print the plan of calls; sends nothing."""
    overrides = _parse_sets(args.set)
    config = ExportConfig.from_file(args.config, **overrides) if args.config else ExportConfig(**overrides)
    if args.input:
        frame = _read_input(args.input)
    else:
        from .demo import demo_prospects

        frame = demo_prospects(args.demo)
    checked = validate(frame, config)
    calls = plan(checked.payloads, config)
    per_call = checked.rows.height / calls.calls if calls.calls else 0.0
    print(f"rows read        {checked.rows_in:,}")
    print(f"valid            {checked.rows.height:,}")
    print(f"invalid          {checked.rejected_rows:,}")
    reasons = checked.rejected.group_by("column", "reason").len().sort("len", "column", descending=[True, False])
    for column, reason, count in reasons.head(10).iter_rows():
        print(f"  {count:>6,}  {column}: {reason}")
    print(f"calls planned    {calls.calls:,} ({per_call:.1f} rows per call, max_payload {config.max_payload:,})")
    print(f"daily API share  {calls.calls / args.daily_limit:.2%} of {args.daily_limit:,} calls")
    return 1 if checked.rejected.height else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pardot-frames", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"pardot-frames {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plan", help="dry run: validate and plan the calls, send nothing")
    p.add_argument("--config", help="TOML job file")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--input", help="Parquet or CSV file to send")
    source.add_argument("--demo", type=int, default=3000, metavar="ROWS", help="use the demo dataset (default)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a job parameter")
    p.add_argument("--daily-limit", type=int, default=DAILY_LIMIT, help="the account's daily API calls")
    p.set_defaults(func=cmd_plan)
    from .simulator.server import add_arguments, serve

    s = sub.add_parser("simulator", help="run a local Pardot simulator")
    add_arguments(s)
    s.set_defaults(func=serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except PardotFramesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
