"""Print the fault matrix: each fault's rows, outcome and calls (see tests/fault_cases.py).

Run: python benchmarks/fault_matrix.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fault_cases import CASES, run_case  # noqa: E402


def main() -> None:
    print(
        f"{'fault':<38} {'rows':>5} {'applied':>7} {'rej.val':>7} {'rej.pardot':>10} {'lost':>4} "
        f"{'dups':>4} {'calls':>5} {'bound':>5} {'planned':>7} {'retries':>7}  outcome"
    )
    for case in CASES:
        with tempfile.TemporaryDirectory() as folder:
            o = run_case(case, folder)
        print(
            f"{o.case:<38} {o.rows:>5} {o.applied:>7} {o.rejected_validation:>7} {o.rejected_pardot:>10} "
            f"{o.lost:>4} {o.duplicates:>4} {o.calls:>5} {o.bound:>5} {o.planned:>7} {o.retries:>7}  "
            f"{'ok' if o.ok else 'FAIL'}"
        )


if __name__ == "__main__":
    main()
