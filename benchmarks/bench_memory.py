"""Peak memory of a 10M-row dry run through the command line on the demo generator's rows, reading Parquet
with --input and through DuckDB with --query (goal: at most 1 GiB each), beside the size of the input. The
naive comparison is the same input read whole into one polars frame.

Run: python benchmarks/bench_memory.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from simproc import peak_rss  # noqa: E402

from pardot_frames.demo import DEMO_SQL

SCRIPT = Path(sys.executable).with_name("pardot-frames")
SQL = DEMO_SQL  # the demo generator's rows: names from many scripts, company, city, country, score


def peak(cmd: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of a child process."""
    t = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    top = peak_rss(child)
    assert child.returncode in (0, 1), child.stderr.read()[-2000:] if child.stderr else ""
    return time.perf_counter() - t, top


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "people.parquet"
        duckdb.sql(SQL.format(rows=args.rows)).write_parquet(str(path))
        print(f"{args.rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB of Parquet")
        for name, source in (("--input", ["--input", str(path)]), ("--query", ["--query", f"SELECT * FROM '{path}'"])):
            seconds, mib = peak([str(SCRIPT), "export", *source, "--dry-run", "--json"])
            print(f"dry run {name:<8} {seconds:6.1f} s  peak RSS {mib:7.0f} MiB  (goal <= 1024)")
        code = f"import polars as pl; df = pl.read_parquet({str(path)!r}); print(df.estimated_size())"
        seconds, mib = peak([sys.executable, "-c", code])
        print(f"naive: the whole file in one frame: peak RSS {mib:.0f} MiB")


if __name__ == "__main__":
    main()
