"""Import API vs batchUpsert: API calls (polls included), CSV writing speed and upload time, against the
local simulator. Usage: python benchmarks/bench_import.py [rows ...]  (default 30000 1000000)."""

import sys
import time

from pardot_frames import ExportConfig, export_to_pardot
from pardot_frames.demo import demo_prospects
from pardot_frames.engine.send import for_job, planned_calls
from pardot_frames.prepare.csv_batches import MAX_BATCH_BYTES, Cutter, batches
from pardot_frames.prepare.validation import validate
from pardot_frames.simulator import Simulator


def main(sizes: list[int]) -> None:
    for n in sizes:
        frame = demo_prospects(n)
        with Simulator().run_in_thread() as sim:
            sim.configure(import_wait=0.1, import_seconds=0.5)
            config = ExportConfig(**sim.credentials, method="import", import_campaign_id=1, import_poll_seconds=0.5,
                                  import_poll_max=2, upsert_by_email=True)  # fmt: skip
            checked = validate(frame, config)
            started = time.perf_counter()
            planned = batches(checked.rows, config, Cutter(MAX_BATCH_BYTES))
            csv_seconds = time.perf_counter() - started
            size = sum(len(b.data) for b in planned)
            as_batch = config.replace(method="batch", upsert_by_email=False)
            in_batch = validate(frame, as_batch)  # an import job builds no batchUpsert JSON for its CSV rows
            body_calls = sum(planned_calls(for_job(as_batch.replace(payload_location="body")), in_batch))
            query_calls = sum(planned_calls(for_job(as_batch), in_batch))
            started = time.perf_counter()
            result = export_to_pardot(frame, config, progress=False, journal=False)
            seconds = time.perf_counter() - started
        print(f"{n:>9,} rows: import {result.api_calls} calls ({result.extra['imports']} imports, "
              f"{result.extra['import_batches']} batches, {result.extra['import_polls']} polls) vs body "
              f"{body_calls:,} and query {query_calls:,} calls (ratio {body_calls / result.api_calls:.0f}x / "
              f"{query_calls / result.api_calls:.0f}x); CSV {size / 1e6:.1f} MB written at "
              f"{n / csv_seconds:,.0f} rows/s; whole job {seconds:.1f} s; applied {result.succeeded:,}")  # fmt: skip


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [30_000, 1_000_000])
