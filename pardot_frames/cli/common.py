"""What the commands share: exit codes, the job and source arguments, summaries and rejected-row files."""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pardot_frames.errors import PardotFramesError, SourceError

if TYPE_CHECKING:  # the heavy modules load when a command runs, so --help and --version are quick
    import polars as pl

    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.results import ExportResult


EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_DAILY_LIMIT, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


def plain(doc: str | None) -> str:
    """A module docstring as help text: reStructuredText ``quotes`` read as plain 'quotes'."""
    return (doc or "").replace("``", "'")


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
    from pardot_frames.config.job import ExportConfig

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
            raise SourceError(f"--input {args.input!r} does not exist")
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            return pl.scan_parquet(path)
        if suffix in (".csv", ".tsv"):
            separator = csv_separator(path, args.csv_delimiter, "\t" if suffix == ".tsv" else None)
            return pl.scan_csv(path, separator=separator, infer_schema=False)
        raise UsageError(f"--input {args.input!r}: give a .parquet, .csv or .tsv file")
    import duckdb

    if args.sql and not Path(args.sql).is_file():
        raise SourceError(f"--sql {args.sql!r} does not exist")
    if args.database and not Path(args.database).is_file():
        raise UsageError(f"--database {args.database!r} does not exist (give an existing DuckDB file)")
    sql = Path(args.sql).read_text(encoding="utf-8") if args.sql else args.query
    con = duckdb.connect(args.database or ":memory:")
    try:
        return con.sql(sql)
    except duckdb.Error as exc:
        raise SourceError(f"the SQL failed in DuckDB: {str(exc).splitlines()[0]}") from None


SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def csv_separator(path: Path, forced: str | None, default: str | None = None) -> str:
    """A CSV file's separator: ``--csv-delimiter``; else the one of , ; tab | that the header row uses most
    (outside quotes); else the csv module's sniffer on the first lines; else ``default`` or a comma."""
    if forced:
        named = {v: k for k, v in SEPARATORS.items()} | {"\\t": "\t"}
        separator = named.get(forced, forced)
        if len(separator) != 1:
            raise UsageError(f"--csv-delimiter {forced!r}: give one character, or comma, semicolon, tab or pipe")
        return separator
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        sample = handle.read(1 << 16)
    if not sample.strip():
        raise SourceError(f"--input {str(path)!r} is empty: a CSV file needs a header row")
    header = re.sub(r'"[^"]*"', "", sample.splitlines()[0])
    counts = sorted(((header.count(s), s) for s in SEPARATORS), reverse=True)
    if counts[0][0] and counts[0][0] > counts[1][0]:
        return counts[0][1]
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        return default or ","


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


def planned_text(s: dict[str, Any]) -> str:
    """How the planned calls were made up, so a difference from the calls made is explained."""
    parts = [f"planned {s['planned_calls']:,}"]
    if s.get("setup_calls"):
        parts.append(f"{s['setup_calls']:,} of them to set up")
    if "emails_matched" in s:
        parts.append("email lookups counted at most")
    return ", ".join(parts)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[str] = ()) -> None:
    """An aligned plain-text table with a header row (the listing commands; easy to read and to grep)."""
    cells = [[str(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        out = [v.rjust(w) if h in right else v.ljust(w) for v, w, h in zip(values, widths, headers, strict=True)]
        return "  ".join(out).rstrip()

    print(line(list(headers)))
    for row in cells:
        print(line(row))


def result_rows(result: ExportResult) -> list[tuple[str, str]]:
    s = result.summary()
    rows = [
        ("rows in", f"{s['rows_in']:,}"),
        ("succeeded", f"{s['succeeded']:,}"),
        *([("unchanged (not sent)", f"{s['unchanged']:,}")] if s["unchanged"] else []),
        ("rejected by validation", f"{s['rejected_validation']:,}"),
        ("rejected by Pardot", f"{s['rejected_pardot']:,}"),
        ("not sent", f"{s['not_sent']:,}"),
        *(
            [("deleted in Pardot (not sent)", f"{s['deleted']:,}; restore_deleted = true brings them back")]
            if s.get("deleted")
            else []
        ),  # fmt: skip
        *([("restored from the recycle bin", f"{s['rows_restored']:,}")] if s.get("rows_restored") else []),
        ("API calls", f"{s['api_calls']:,} ({planned_text(s)}; {s['calls_per_row']:.4f} per row)"),
        ("retries", f"{s['retries']:,}"),
        ("elapsed", f"{s['elapsed_seconds']:.2f} s"),
        ("rows/s", f"{s['rows_per_second'] or 0:,.0f}"),
    ]
    if s.get("method") == "import":
        by_batch = f"; {s['rows_by_batch_upsert']:,} rows by batchUpsert" if s.get("rows_by_batch_upsert") else ""
        rows.append(("method", f"import: {s['imports']:,} import(s), {s['import_batches']:,} batch(es){by_batch}"))
    rows += [(note, f"{count:,}") for note, count in s["notes"].items()]
    if "mirror" in s:
        mirror = s["mirror"]
        failed = f", {len(mirror['removal_failed']):,} failed" if mirror["removal_failed"] else ""
        rows.append(("mirror: removed from lists", f"{mirror['removed']:,}{failed} ({mirror['calls']:,} calls)"))
    if "verification" in s:
        v = s["verification"]
        columns = ", ".join(f"{c} {n:,}" for c, n in v["mismatched_by_column"].items()) or "none"
        rows.append(("verified", f"{v['rows_checked']:,} rows in {v['calls']:,} calls: {v['mismatched_rows']:,} "
                     f"mismatched ({columns}), {v['missing']:,} missing"))  # fmt: skip
    if s["stopped"]:
        rows.append(("stopped", s["stopped"]))
    return rows


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


SECRET_SETTINGS = {"client_secret": "PARDOT_CLIENT_SECRET", "refresh_token": "PARDOT_REFRESH_TOKEN"}


def resume_command(job_id: str | None, argv: Sequence[str] | None = None) -> str:
    """This command line again, resuming the given job (none: the unfinished job of this configuration, or the
    job from its start); secrets given with --set are left out (never printed): the command then reads them
    from their PARDOT_* variables, which it names."""
    import shlex

    args = list(sys.argv[1:] if argv is None else argv)
    if "--resume" in args:
        at = args.index("--resume")
        del args[at : at + (2 if at + 1 < len(args) and not args[at + 1].startswith("-") else 1)]
    kept, dropped = [], []
    i = 0
    while i < len(args):
        item, value = args[i], None
        if item == "--set" and i + 1 < len(args):
            value, step = args[i + 1], 2
        elif item.startswith("--set="):
            value, step = item.removeprefix("--set="), 1
        else:
            step = 1
        key = (value or "").partition("=")[0].strip()
        if key in SECRET_SETTINGS:
            dropped.append(SECRET_SETTINGS[key])
        else:
            kept += args[i : i + step]
        i += step
    command = shlex.join(["pardot-frames", *kept, "--resume", *([job_id] if job_id else [])])
    if dropped:
        command = " ".join(f"{name}=..." for name in dropped) + " " + command + "  (secrets left out: set them)"
    return command


def add_source_arguments(p: argparse.ArgumentParser) -> None:
    """Where the rows come from: DuckDB SQL (a file or text, optionally on a database file) or a file."""
    source = p.add_mutually_exclusive_group()
    source.add_argument("--sql", metavar="FILE.sql", help="a DuckDB SQL file (may read Parquet/CSV files)")
    source.add_argument("--query", metavar="TEXT", help="DuckDB SQL text")
    source.add_argument("--input", metavar="FILE", help="a Parquet, CSV or TSV file")
    p.add_argument(
        "--csv-delimiter",
        metavar="CHAR",
        help="the CSV file's separator: comma, semicolon, tab, pipe or one character (default: found from the header)",
    )
    p.add_argument("--database", metavar="FILE.duckdb", help="open this DuckDB file (default: in memory)")


def add_job_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="JOB.toml", help="TOML job file (top-level keys = job parameters)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a job parameter")
