"""``pardot-frames read OBJECT``: Pardot back into a file (Parquet, CSV or DuckDB), page by page so memory stays
bounded: prospects, lists, the members of one list, or any other object of section 6 (``engine.read.objects``);
``--since-last`` reads only what changed since the last read of that object (its newest time and id are kept in
the state folder)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pardot_frames.cli.common import EXIT_OK, UsageError, add_job_arguments, load_config
from pardot_frames.errors import ReadStopped

# every other object a read takes (pardot-v5-objects.md section 6; names as prepare.catalog has them: kept here
# so that building the parser imports nothing heavy)
OBJECT_NAMES = (
    "visitor_activities", "visitors", "visits", "campaigns", "opportunities", "users", "emails", "list_emails",
    "forms", "landing_pages", "tags", "lifecycle_stages", "lifecycle_histories", "prospect_accounts",
    "custom_fields", "list_memberships", "visitor_page_views", "folders", "custom_redirects",
    "engagement_studio_programs", "files", "folder_contents", "form_fields", "form_handlers", "form_handler_fields",
    "layout_templates", "tracker_domains", "dynamic_contents", "account", "dynamic_content_variations",
    "email_clicks",
)  # fmt: skip

if TYPE_CHECKING:
    import polars as pl

    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.read.runs import Tally


class Sink:
    """Where read pages go: a Parquet or CSV file, or a table of a DuckDB file (named after the object). Pages are
    gathered to ``GROUP`` rows before a write: Parquet row groups of a useful size (not one per page of 1,000),
    and a write's fixed cost paid once per group."""

    GROUP = 65_536

    def __init__(self, path: Path | None, table: str) -> None:
        self.path, self.table, self.rows = path, table, 0
        self.kept: list[pl.DataFrame] = []
        self.writer: Any = None
        self.waiting: list[pl.DataFrame] = []
        if path is not None and path.suffix.lower() not in (".parquet", ".csv", ".duckdb"):
            raise UsageError(f"--out {str(path)!r}: give a .parquet, .csv or .duckdb path")

    def add(self, frame: pl.DataFrame) -> None:
        self.rows += frame.height
        if self.path is None:  # nothing written: the first rows are shown
            self.kept = self.kept or [frame.head(20)]
            return
        self.waiting.append(frame)
        if sum(f.height for f in self.waiting) >= self.GROUP:
            self.flush()

    def flush(self) -> None:
        """The pages gathered so far, written as one group."""
        import polars as pl

        if not self.waiting or self.path is None:
            return
        frame, self.waiting = pl.concat(self.waiting, how="vertical_relaxed"), []
        suffix = self.path.suffix.lower()
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            table = frame.to_arrow()
            self.writer = self.writer or pq.ParquetWriter(self.path, table.schema)
            self.writer.write_table(table.cast(self.writer.schema))
        elif suffix == ".csv":
            with self.path.open("a" if self.writer else "w", encoding="utf-8", newline="") as handle:
                frame.with_columns(_text_lists(frame)).write_csv(handle, include_header=self.writer is None)
            self.writer = True
        else:
            self._duckdb(frame)

    def _duckdb(self, frame: pl.DataFrame) -> None:
        import duckdb

        self.writer = self.writer or duckdb.connect(str(self.path))
        self.writer.register("page", frame.to_arrow())
        exists = self.writer.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [self.table]
        ).fetchone()[0]
        verb = f"INSERT INTO {self.table}" if exists else f"CREATE TABLE {self.table} AS"
        self.writer.execute(f"{verb} SELECT * FROM page")
        self.writer.unregister("page")

    def close(self) -> None:
        """The last pages written, the file closed."""
        try:
            self.flush()
        finally:
            if self.writer not in (None, True):
                self.writer.close()


def _text_lists(frame: pl.DataFrame) -> list[pl.Expr]:
    """CSV has no lists: several values are written as one cell, joined by ';'."""
    import polars as pl

    return [pl.col(c).list.join(";") for c, t in frame.schema.items() if isinstance(t, pl.List)]


def cmd_read(args: argparse.Namespace) -> int:
    from pardot_frames.engine.read import frames as read
    from pardot_frames.engine.read.runs import Tally
    from pardot_frames.engine.state.journal import state_dir

    config = load_config(args)
    if args.dry_run:
        return _dry_run(args, config)
    sink = Sink(Path(args.out) if args.out else None, args.what.replace("-", "_"))
    tally, began = Tally(), time.monotonic()
    args.no_progress = args.no_progress or args.json
    try:
        if args.what == "prospects":
            _read_prospects(args, config, sink, Path(args.state_dir) if args.state_dir else state_dir(), tally)
        elif args.what not in ("lists", "members"):
            _read_object(args, config, sink, Path(args.state_dir) if args.state_dir else state_dir(), tally)
        elif args.what == "lists":
            sink.add(read.read_lists(config, progress=not args.no_progress and None))
        else:
            if not args.list:
                raise UsageError("read members needs --list ID_OR_NAME")
            sink.add(read.read_list_members(config, args.list, progress=not args.no_progress and None))
    except ReadStopped as stop:
        if args.json:
            _summary(args, sink, tally, began, stop)
        raise
    finally:
        sink.close()
    if args.json:
        _summary(args, sink, tally, began, None)
        return EXIT_OK
    where = f" into {args.out}" if args.out else ""
    print(f"read {sink.rows:,} {args.what}{where}")
    for frame in sink.kept[:1]:
        print(frame)
    return EXIT_OK


def _summary(args: argparse.Namespace, sink: Sink, tally: Tally, began: float, stop: ReadStopped | None) -> None:
    """``--json``: the read as one JSON object (rows, calls, retries, seconds; where a stopped read resumes)."""
    import orjson

    print(orjson.dumps({
        "object": args.what, "rows": sink.rows, "out": args.out, "calls": tally.calls, "retries": tally.retries,
        "seconds": round(time.monotonic() - began, 3), "stopped": stop.reason if stop else None,
        "after_id": stop.after_id if stop else None,
    }).decode())  # fmt: skip


def _read_prospects(args: argparse.Namespace, config: ExportConfig, sink: Sink, folder: Path, tally: Tally) -> None:
    """Prospects page by page into the sink; ``--since-last`` reads only what changed since the last such read
    (``engine.read.since``: its newest (``updated_at``, id) and when it began are kept in the state folder)."""
    from pardot_frames.engine.read import frames as read

    fields = [f.strip() for f in args.fields.split(",")] if args.fields else None
    read.read_prospects(
        config, fields=fields, updated_after=args.updated_after, since_last=args.since_last, after_id=args.after_id,
        state_dir=folder, progress=not args.no_progress and None, on_page=sink.add, parallel=args.parallel,
        tally=tally,
    )  # fmt: skip


def _dry_run(args: argparse.Namespace, config: ExportConfig) -> int:
    """``read OBJECT --dry-run``: the method and the calls the read would take, as JSON (two calls to tell)."""
    import orjson

    from pardot_frames.engine.read.plan import plan_read

    if args.what in ("prospects", "lists", "members"):
        raise UsageError("--dry-run plans reads of the other objects (visitor_activities, emails ...)")
    print(orjson.dumps(plan_read(args.what, config, method=args.method, parallel=args.parallel)).decode())
    return EXIT_OK


def _read_object(args: argparse.Namespace, config: ExportConfig, sink: Sink, folder: Path, tally: Tally) -> None:
    """Any other object of section 6 page by page into the sink (``engine.read.objects``)."""
    from pardot_frames.engine.read.objects import read

    fields = [f.strip() for f in args.fields.split(",")] if args.fields else None
    read(args.what, config, fields=fields, since_last=args.since_last, deleted=args.deleted, parallel=args.parallel,
         state_dir=folder, progress=not args.no_progress and None, on_page=sink.add, method=args.method,
         poll=args.poll, after_id=args.after_id, tally=tally, timezone=args.timezone)  # fmt: skip


def add_read_parser(sub: Any) -> None:
    """The ``read`` command."""
    r = sub.add_parser(
        "read",
        help="read prospects, lists, list members or any other Pardot object into a file",
        description=(
            "Read prospects, lists, list members or any other object (visitor activities, visits, emails ...) into "
            "a file, page by page (1,000 records a v5 call), in parallel id ranges or through the Export API. Pardot "
            "refuses array custom fields (Checkbox, Multi-Select, fields recording multiple responses) in v5 "
            "queries, so their values come from the v4 prospect query, 200 prospects a call (one or two prospects: "
            "a single-record read each): a page of 1,000 prospects costs 1 + 5 calls when the account has such "
            "fields, and they arrive as lists of text."
        ),
    )
    r.add_argument(
        "what",
        choices=["prospects", "lists", "members", *OBJECT_NAMES],
        metavar="OBJECT",
        help="prospects, lists, members (of one --list), or any other object: " + ", ".join(OBJECT_NAMES),
    )
    add_job_arguments(r)
    r.add_argument("--out", metavar="FILE", help="a .parquet, .csv or .duckdb file (default: print the first rows)")
    r.add_argument(
        "--fields",
        metavar="A,B",
        help="fields to read (prospects: product names; other objects: v5 names; default: every readable field)",
    )
    _add_read_options(r)
    when = r.add_mutually_exclusive_group()
    when.add_argument("--updated-after", metavar="WHEN", help="only prospects updated since then (ISO 8601)")
    when.add_argument(
        "--since-last", action="store_true", help="only what changed (deletions too) since the last read of this object"
    )
    r.add_argument("--list", metavar="ID_OR_NAME", help="the list whose members to read (read members)")
    r.add_argument("--after-id", type=int, metavar="N", help="resume a stopped read after this id (it says which)")
    r.add_argument("--json", action="store_true", help="print one JSON object (rows, calls, where a stop resumes)")
    r.add_argument("--state-dir", metavar="DIR", help="where the field cache and --since-last marks live")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_read)


def _add_read_options(r: Any) -> None:
    """How a read of any object goes: the recycle bin, ranges at once, queries or the Export API."""
    r.add_argument("--deleted", action="store_true", help="include records in the recycle bin (is_deleted)")
    r.add_argument(
        "--timezone", default="UTC", metavar="ZONE", help="the API user's timezone, for times without an offset (v4)"
    )
    r.add_argument("--dry-run", action="store_true", help="say the method and the calls it would take (2 calls)")
    r.add_argument("--parallel", type=int, default=5, metavar="N", help="id ranges read at once (at most 5)")
    r.add_argument(
        "--method",
        choices=["query", "export", "auto"],
        default="query",
        help="v5 queries, the Export API (visitor activities and the other exportable objects), or auto",
    )
    r.add_argument(
        "--poll",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds before an export's first status read (then the facts' schedule)",
    )
