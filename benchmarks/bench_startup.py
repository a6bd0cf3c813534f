"""Start-up: ``pardot-frames --help``, and the time from starting ``pardot-frames export --input x.csv``
to the first Pardot call the simulator (own process) receives. Prints the median of several runs and the
import time of the heavy libraries, measured in the same interpreter.

Run: python benchmarks/bench_startup.py [--runs 5] [--rows 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from simproc import CREDENTIALS, simulator

SCRIPT = Path(sys.executable).with_name("pardot-frames")


def timed(cmd: list[str], **kwargs) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, timeout=120, **kwargs)
    return time.perf_counter() - t


def first_call(csv: Path, state: Path) -> float:
    with simulator(command=[str(SCRIPT)]) as base:
        sets = [f"--set={k}={v}" for k, v in {**CREDENTIALS, "login_url": base, "pardot_domain": base}.items()]
        started = time.time()
        subprocess.run(
            [str(SCRIPT), "export", "--input", str(csv), "--no-progress", "--json", "--state-dir", str(state), *sets],
            check=True,
            capture_output=True,
            timeout=120,
        )
        with urllib.request.urlopen(f"{base}/__sim__/state", timeout=10) as r:
            return json.loads(r.read())["first_call_at"] - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "people.csv"
        csv.write_text("email,first_name\n" + "".join(f"u{i}@example.com,Zoë\n" for i in range(args.rows)))
        helps = [timed([str(SCRIPT), "--help"]) for _ in range(args.runs)]
        firsts = [first_call(csv, Path(tmp) / "state") for _ in range(args.runs)]
    five = "import time; t = time.perf_counter(); import polars, pandera.polars, duckdb, aiohttp, pyarrow; "
    bare = [
        float(subprocess.run([sys.executable, "-c", five + "print(time.perf_counter() - t)"], capture_output=True,
                             text=True, check=True, timeout=60).stdout)
        for _ in range(args.runs)
    ]  # fmt: skip
    imports = {}
    for module in ("polars", "pandera.polars", "pydantic", "duckdb", "aiohttp", "pandas"):
        code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        try:
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
            imports[module] = float(out.stdout)
        except subprocess.CalledProcessError:
            imports[module] = None
    print(f"pardot-frames --help: median {statistics.median(helps):.3f} s (goal < 0.3 s)")
    print(f"export --input CSV, start to first Pardot call: median {statistics.median(firsts):.3f} s (goal <= 1.0 s)")
    print(
        "imports alone: " + ", ".join(f"{m} {t:.2f} s" if t is not None else f"{m} absent" for m, t in imports.items())
    )
    own = statistics.median(firsts) - statistics.median(bare)
    print(f"the five libraries together: {statistics.median(bare):.3f} s; own start-up {own:.3f} s (goal <= 0.4 s)")


if __name__ == "__main__":
    main()
