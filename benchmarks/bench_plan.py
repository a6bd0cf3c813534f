"""Validation + payloads + plan for N prospect rows (~12 common columns), against a naive row loop; then the
CLI dry run on the same rows and on the demo generator's rows, each against the naive loop on its rows.

Run: python benchmarks/bench_plan.py [rows]   (default 1,000,000; the naive path runs on a sample
and is scaled, since it is linear). Prints rows/s, peak memory and the speed-up.
"""

from __future__ import annotations

import json
import re
import resource
import sys
import time
from urllib.parse import quote

import numpy as np
import polars as pl

from pardot_frames import ExportConfig, plan, validate

EMAIL = re.compile(r"^[^ @]{1,64}@[^ @]{1,255}\.[^ @]{2,13}$")


def make_rows(n: int, seed: int = 0) -> pl.DataFrame:
    """Realistic prospect rows: unicode names, a few invalid emails, some nulls."""
    rng = np.random.default_rng(seed)
    first = np.array(["Anna", "Jörg", "Zoë", "Łukasz", "Mónica", "Søren", "李", "Ольга", "Kwame", "José"])
    last = np.array(["Müller", "O'Brien", "Smith & Sons", "García", "Nguyễn", "Ivanov", "Kim", "Dubois"])
    i = pl.col("i")
    return (
        pl.DataFrame(
            {
                "i": np.arange(n),
                "first_name": first[rng.integers(0, len(first), n)],
                "last_name": last[rng.integers(0, len(last), n)],
                "job_title": rng.choice(np.array(["Head of Data", "CTO", "Analyst", None], dtype=object), n),
                "city": rng.choice(np.array(["Zürich", "São Paulo", "New York", "東京", None], dtype=object), n),
                "country": rng.choice(["CH", "BR", "US", "JP"], n),
                "source": rng.choice(["webinar", "trade show", "web"], n),
                "score": rng.integers(0, 500, n),
                "is_do_not_email": rng.integers(0, 2, n).astype(bool),
                "campaign_id": rng.integers(1, 50, n),
            }
        )
        .with_columns(
            pl.when(i % 10_000 == 5)
            .then(pl.lit("broken email"))
            .otherwise(pl.format("user{}@example{}.com", i, i % 97))
            .alias("email"),
            pl.format("Company {} GmbH", i % 5000).alias("company"),
            pl.format("+41 44 {} {}", i % 1000, i % 97).alias("phone"),
        )
        .drop("i")
    )


def naive(rows: list[dict], max_payload: int) -> int:
    """Row by row: check, json.dumps, urllib quote, pack. Returns the number of calls."""
    calls, current, size = 0, 0, 0
    for row in rows:
        email = row.get("email")
        if email is not None and (len(email) > 255 or not EMAIL.match(email)):
            continue
        payload = {k: (int(v) if isinstance(v, bool) else v) for k, v in row.items() if v is not None}
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        if len(text) > 7500:
            continue
        encoded = len(quote(text, safe=""))
        if current and (current == 50 or size + encoded + 3 > max_payload):
            calls, current, size = calls + 1, 0, 0
        size = (size + 3 if current else len("prospects=%7B%22prospects%22%3A%5B%5D%7D")) + encoded
        current += 1
    return calls + (1 if current else 0)


# A child that runs the CLI as ``pip install pardot-frames`` leaves it: pandas and hypothesis (dev-only
# here) cannot be imported, as if absent. pandera imports both at start-up whenever they are installed.
AS_INSTALLED = """
import sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pandas", "hypothesis"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Absent())
from pardot_frames.cli.main import run
sys.argv[0] = "pardot-frames"
run()
"""


def dry_run_cli(df: pl.DataFrame, as_installed: bool) -> float:
    """Seconds of a dry run through the command line on ``df`` written to Parquet (no credentials: no network),
    best of three; ``as_installed``: with the package's dependencies only (see AS_INSTALLED)."""
    import subprocess
    import tempfile
    from pathlib import Path

    script = (
        [sys.executable, "-c", AS_INSTALLED] if as_installed else [str(Path(sys.executable).with_name("pardot-frames"))]
    )
    best = float("inf")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.parquet"
        df.write_parquet(path)
        for _ in range(3):
            started = time.perf_counter()
            command = [*script, "export", "--input", str(path), "--dry-run", "--json"]
            done = subprocess.run(
                [*command, "--set", "prospect_lists=12", "--state-dir", folder], capture_output=True, check=False
            )
            best = min(best, time.perf_counter() - started)
            assert b'"calls_planned"' in done.stdout, done.stderr[-500:]
    return best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    df = make_rows(n)
    config = ExportConfig(prospect_lists="12")
    validate(df.head(1000), config)  # warm up
    t0 = time.perf_counter()
    v = validate(df, config)
    t1 = time.perf_counter()
    p = plan(v.payloads, config)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fast = t2 - t0
    sample = min(n, 100_000)
    dicts = df.head(sample).with_columns(list_12=pl.lit(1)).to_dicts()
    t3 = time.perf_counter()
    naive(dicts, config.max_payload)
    slow = (time.perf_counter() - t3) * n / sample
    print(f"rows                 {n:,}")
    print(f"valid / rejected     {v.rows.height:,} / {v.rejected_rows:,}")
    print(f"calls planned        {p.calls:,} ({v.rows.height / max(p.calls, 1):.1f} rows per call)")
    print(f"validate             {t1 - t0:.2f} s")
    print(f"plan                 {t2 - t1:.2f} s")
    print(f"total                {fast:.2f} s  ({n / fast:,.0f} rows/s)")
    print(f"peak RSS             {peak:,.0f} MiB")
    print(f"naive row loop       {slow:.2f} s  ({n / slow:,.0f} rows/s, scaled from {sample:,} rows)")
    t4 = time.perf_counter()
    planned = validate(df, config, with_json=False)
    lengths = time.perf_counter() - t4 + (t2 - t1)
    print(f"plan without JSON    {lengths:.2f} s  (a dry run: sizes come from the values; {n / lengths:,.0f} rows/s)")
    installed = dry_run_cli(df, as_installed=True)
    here = dry_run_cli(df, as_installed=False)
    print(f"dry run, CLI         {installed:.2f} s  (pardot-frames export --input FILE.parquet --dry-run, start-up and")
    print("                     exit included, best of 3, the package's dependencies only)")
    print(f"dry run, CLI here    {here:.2f} s  (this environment: pandera also imports pandas and hypothesis)")
    print(
        f"speed-up             {slow / fast:.1f}x (validate + plan), {slow / installed:.1f}x (the CLI dry run), "
        f"{slow / here:.1f}x (the CLI here)"
    )
    assert planned.rows.height == v.rows.height
    demo_cli(n)


def demo_cli(n: int) -> None:
    """The same CLI dry run on the demo generator's rows (8 columns, names from many scripts, a few bad rows)
    against the naive loop on those rows: fewer columns make the loop cheaper per row while start-up stays."""
    from pardot_frames.demo import demo_prospects

    df = demo_prospects(n)
    sample = min(n, 100_000)
    dicts = df.head(sample).with_columns(list_12=pl.lit(1)).to_dicts()
    t = time.perf_counter()
    naive(dicts, ExportConfig(prospect_lists="12").max_payload)
    slow = (time.perf_counter() - t) * n / sample
    installed, here = dry_run_cli(df, as_installed=True), dry_run_cli(df, as_installed=False)
    print(
        f"\ndemo generator's rows ({n:,}): naive row loop {slow:.2f} s; CLI dry run {installed:.2f} s "
        f"({slow / installed:.1f}x) with the package's dependencies only, {here:.2f} s ({slow / here:.1f}x) here"
    )


if __name__ == "__main__":
    main()
