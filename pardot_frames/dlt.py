"""dlt integration (``pip install 'pardot-frames[dlt]'``): a source that loads Pardot into any dlt destination, and a
destination that sends a pipeline's table to Pardot through the product's engine.

``pardot_source(config, objects=[...])``: one resource per object (``prospects`` and every object ``pf.read``
takes), ``primary_key="id"``, ``write_disposition="merge"``, and dlt's incremental cursor on the object's updated
(or created) time: a later run reads only records at or after the last cursor value, and dlt's merge on ``id``
settles the boundary's repeats (the id is the tie-break). Pages go to dlt as Arrow tables while the read goes on.

``pardot_destination(config, **job)``: dlt's custom destination (``dlt.destination``); each load file of a table
is one ``export_to_pardot`` job (batching, journal, retries, the run history), the job's parameters given here or
in ``config``. Rejected rows are appended to the DuckDB file ``rejected_to`` (default ``pardot_rejected.duckdb``
in the working folder), one table per pipeline table (``<table>_rejected``), where the pipeline can query them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import polars as pl

from pardot_frames.config.job import ExportConfig, Reachable
from pardot_frames.engine.job.export import export_to_pardot
from pardot_frames.engine.read.frames import read_prospects
from pardot_frames.engine.read.objects import read
from pardot_frames.engine.read.runs import Tally
from pardot_frames.engine.read.since import Since
from pardot_frames.engine.state import reads
from pardot_frames.prepare import catalog

DONE = object()


def pardot_source(config: Reachable, objects: Sequence[str] = ("prospects", "list_memberships"), *,
                  state_dir: str | Path | None = None, parallel: int = 5) -> Any:  # fmt: skip
    """A dlt source of these Pardot objects (see the module docstring)."""

    @dlt.source(name="pardot")
    def source() -> Any:
        for name in objects:
            yield _resource(name, config, state_dir, parallel)

    return source()


def _resource(name: str, config: Reachable, state_dir: str | Path | None, parallel: int) -> Any:
    spec = catalog.spec_of(name)
    cursor = "updated_at" if spec is None else catalog.column(spec.since)
    table = name.strip().lower().replace("-", "_")

    if spec is not None and not spec.since:  # nothing to follow (dynamic content variations): read whole each time
        return dlt.resource(lambda: _pages(lambda page: read(name, config, state_dir=state_dir, on_page=page)),
                            name=table, primary_key="id", write_disposition="replace")  # fmt: skip

    @dlt.resource(name=table, primary_key="id", write_disposition="merge")
    def records(since: Any = dlt.sources.incremental(cursor, initial_value=None)) -> Iterator[Any]:  # noqa: B008 - dlt's way
        kept = dlt.current.resource_state()
        moment, tally = _instant(since.last_value), Tally()
        strict = reads.strictly_after(moment, _instant(kept.get("read_at")))  # the cursor's second is settled
        yield from _pages(lambda page: _read(name, config, Since.given(moment, strict, cursor), state_dir, parallel,
                                             page, tally))  # fmt: skip
        if tally.began is not None:
            kept["read_at"] = tally.began.isoformat()

    return records


def _read(name: str, config: Reachable, since: Since, state_dir: str | Path | None, parallel: int, page: Any,
          tally: Tally) -> None:  # fmt: skip
    if name.strip().lower() == "prospects":
        read_prospects(config, since=since if since.mark is not None else None, state_dir=state_dir, on_page=page,
                       with_updated_at=True, parallel=parallel, tally=tally)  # fmt: skip
    else:
        moment = since.mark[0] if since.mark is not None else None
        read(name, config, after=moment, after_exclusive=since.strict, state_dir=state_dir, on_page=page,
             parallel=parallel, tally=tally)  # fmt: skip


def _pages(run: Any) -> Iterator[Any]:
    """The pages a read hands ``page``, as Arrow tables, while the read goes on in a worker thread."""
    pages: queue.Queue[Any] = queue.Queue(maxsize=8)
    failure: list[BaseException] = []

    def work() -> None:
        try:
            run(lambda frame: pages.put(_arrow(frame)) if frame.height else None)
        except BaseException as exc:  # handed to the pipeline's thread
            failure.append(exc)
        finally:
            pages.put(DONE)

    worker = threading.Thread(target=work, name="pardot-frames-dlt", daemon=True)
    worker.start()
    while (item := pages.get()) is not DONE:
        yield item
    worker.join()
    if failure:
        raise failure[0]


def _arrow(frame: pl.DataFrame) -> Any:
    """A page as Arrow, its ``id`` not nullable: the primary key dlt declares (no hint mismatch to warn of)."""
    table = frame.to_arrow()
    at = table.schema.get_field_index("id")
    if at < 0:
        return table
    return table.cast(table.schema.set(at, table.schema.field(at).with_nullable(False)))


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pardot_destination(config: ExportConfig, *, rejected_to: str | Path = "pardot_rejected.duckdb",
                       state_dir: str | Path | None = None, **job: Any) -> Any:  # fmt: skip
    """A dlt destination that sends each table's rows to Pardot (see the module docstring)."""

    @dlt.destination(batch_size=0, loader_file_format="parquet", name="pardot", naming_convention="direct")
    def pardot(items: Any, table: Any) -> None:
        frame = pl.read_parquet(items)
        frame = frame.select([c for c in frame.columns if not c.startswith("_dlt")])
        result = export_to_pardot(frame, config, progress=False, state_dir=state_dir, **job)
        if result.rejected.height:
            _keep_rejected(result.rejected, Path(rejected_to), f"{table['name']}_rejected")

    return pardot


def _keep_rejected(rejected: pl.DataFrame, path: Path, table: str) -> None:
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.register("rows", rejected.with_columns(pl.lit(datetime.now(UTC)).alias("rejected_at")).to_arrow())
        exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchone()
        verb = f'INSERT INTO "{table}" BY NAME' if exists and exists[0] else f'CREATE TABLE "{table}" AS'
        con.execute(f"{verb} SELECT * FROM rows")
