"""Peak memory of a 10M-row dry run through the command line, reading Parquet with --input and through
DuckDB with --query (goal: at most 1 GiB each), beside the size of the input. The naive comparison is
the same input read whole into one polars frame in the same process.

Run: python benchmarks/bench_memory.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

SCRIPT = Path(sys.executable).with_name("pardot-frames")
SQL = """
SELECT 'user' || i || '@example-' || (i % 97) || '.com' AS email,
       ['Anna', 'Jörg', 'Zoë', 'Łukasz'][1 + i % 4] AS first_name,
       'Last ' || (i % 1000) AS last_name,
       'Company ' || (i % 5000) AS company,
       ['Zürich', 'São Paulo', 'Kraków'][1 + i % 3] AS city,
       i % 300 AS score,
       i % 11 = 0 AS is_do_not_email
FROM range({rows}) t(i)
"""


def peak(cmd: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - t
    assert done.returncode in (0, 1), done.stderr[-2000:]
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(after, before) / 1024


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
