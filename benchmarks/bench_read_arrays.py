"""Reading every field of an account with array custom fields (issue #29): a Checkbox, a Multi-Select and a
Dropdown. v5 queries refuse the two array fields, so 'pardot-frames read prospects' takes them from the v4
query (200 a call); the naive way a v5 reader is told to use reads each prospect singly for them.

Run: python benchmarks/bench_read_arrays.py [prospects] [--no-naive]   (default 10,000). Both readers run
against the simulator in its own process (latency 0, or --latency S). Prints calls, seconds, the reader's
peak RSS (its own process, from /proc), the values checked against what the simulator holds, and the
ratio against the naive reader run in the same process tree.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from simproc import CREDENTIALS, pardot_headers, peak_rss, simulator  # noqa: E402

FIELDS = [
    {"field_id": "interests", "type": "Checkbox", "values": ["golf", "sail", "ski"]},
    {"field_id": "tags", "type": "Multi-Select", "values": ["a", "b", "c"]},
    {"field_id": "tier", "type": "Dropdown", "values": ["gold", "silver"]},
]


def record(i: int) -> dict:
    """A realistic prospect: names, company, city, a score, and the three custom fields (some empty)."""
    return {
        "email": f"person{i}@example.com", "first_name": f"Ann{i % 97}", "last_name": f"Smith{i % 89}",
        "company": f"Company {i % 1000}", "city": ["Lyon", "Köln", "Åre", "東京"][i % 4], "score": i % 100,
        "interests": ["golf", "sail", "ski", None][i % 4], "tags": [["a", "b"], ["c"], []][i % 3] or None,
        "tier": ["gold", "silver"][i % 2],
    }  # fmt: skip


def post(base: str, path: str, data: dict) -> None:
    request = urllib.request.Request(f"{base}{path}", json.dumps(data).encode(), {"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=600).read()


def seed(base: str, rows: int) -> None:
    post(base, "/__sim__/seed", {"custom_fields": FIELDS})
    for start in range(0, rows, 50_000):
        post(base, "/__sim__/seed", {"prospects": [record(i) for i in range(start, min(rows, start + 50_000))]})


def calls(base: str) -> int:
    with urllib.request.urlopen(f"{base}/__sim__/state", timeout=600) as answer:
        return int(json.load(answer)["pardot_calls"])


async def naive(base: str) -> tuple[int, float, int]:
    """A v5 reader that follows the docs' advice for array fields: the query for the rest, then each prospect's
    single-record read for the arrays (rows kept as dicts)."""
    started, rows, after, made = time.perf_counter(), 0, 0, 0
    async with aiohttp.ClientSession() as session:
        headers = await pardot_headers(session, base)
        fields = "id,email,firstName,lastName,company,city,score,tier__c"
        while True:
            url = f"{base}/api/v5/objects/prospects?fields={fields}&limit=1000&idGreaterThan={after}&orderBy=id%20asc"
            async with session.get(url, headers=headers) as answer:
                page = (await answer.json())["values"]
            made += 1
            for prospect in page:
                single = f"{base}/api/v5/objects/prospects/{prospect['id']}?fields=id,interests__c,tags__c"
                async with session.get(single, headers=headers) as answer:
                    prospect.update(await answer.json())
                made += 1
            rows += len(page)
            if len(page) < 1000:
                return made, time.perf_counter() - started, rows
            after = page[-1]["id"]


def main(rows: int, run_naive: bool, latency: float) -> None:
    with simulator(latency) as base, tempfile.TemporaryDirectory() as folder:
        seed(base, rows)
        job = Path(folder) / "job.toml"
        values = {**CREDENTIALS, "login_url": base, "pardot_domain": base}
        job.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + "\n")
        out = Path(folder) / "read.parquet"
        subprocess.run(
            [sys.executable, "-m", "pardot_frames.cli", "fields", "--config", str(job), "--state-dir", folder],
            check=True,
            capture_output=True,
        )  # fmt: skip  (the fields cached, as after a job)
        before, started = calls(base), time.perf_counter()
        reader = subprocess.Popen([sys.executable, "-m", "pardot_frames.cli", "read", "prospects", "--config",
                                   str(job), "--out", str(out), "--state-dir", folder, "--no-progress"])  # fmt: skip
        peak = peak_rss(reader)
        seconds, made = time.perf_counter() - started, calls(base) - before
        frame = pl.read_parquet(out, columns=["email", "interests", "tags", "tier"])
        expected = pl.DataFrame([record(i) for i in range(rows)]).select(
            "email", pl.col("interests").map_elements(lambda v: [v], return_dtype=pl.List(pl.String)), "tags", "tier"
        )
        right = frame.sort("email").equals(expected.sort("email"))
        naive_figures = asyncio.run(naive(base)) if run_naive else None
    print(f"prospects            {rows:,} (a Checkbox, a Multi-Select and a Dropdown among their fields)")
    print(f"read                 {frame.height:,} rows in {made:,} calls, {seconds:.1f} s; peak RSS {peak:,.0f} MiB")
    print(f"values               {'every field as the simulator holds it' if right else 'MISMATCH'}")
    print(f"goal                 at most {-(-rows // 1000) + -(-rows // 200):,} calls (v5 pages + v4 pages)")
    if naive_figures is not None:
        naive_calls, naive_seconds, naive_rows = naive_figures
        print(f"naive single reads   {naive_rows:,} rows in {naive_calls:,} calls, {naive_seconds:.1f} s")
        print(f"ratio                {naive_calls / made:.1f}x fewer calls, {naive_seconds / seconds:.1f}x faster")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    latency = float(sys.argv[sys.argv.index("--latency") + 1]) if "--latency" in sys.argv else 0.0
    if "--latency" in sys.argv:
        args.remove(str(sys.argv[sys.argv.index("--latency") + 1]))
    main(int(args[0]) if args else 10_000, "--no-naive" not in sys.argv, latency)
