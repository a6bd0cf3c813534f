"""Dry runs: validation and the plan of calls over the whole input, with no network and no credentials."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import polars as pl

from .batching import plan
from .config import ExportConfig
from .errors import ValidationFailed
from .frames import chunks
from .limits import DAILY_LIMIT
from .validation import validate


@dataclass(frozen=True)
class DryRun:
    """What a run would do: counts, calls, and the rejected rows."""

    rows_in: int
    valid: int
    invalid: int
    calls: int
    daily_limit: int
    reasons: dict[str, int]
    rejected: pl.DataFrame
    note: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "dry_run": True,
            "rows_in": self.rows_in,
            "valid": self.valid,
            "invalid": self.invalid,
            "calls_planned": self.calls,
            "rows_per_call": round(self.valid / self.calls, 2) if self.calls else 0.0,
            "calls_per_row": round(self.calls / self.rows_in, 4) if self.rows_in else 0.0,
            "daily_limit": self.daily_limit,
            "daily_limit_share": round(self.calls / self.daily_limit, 6),
            "invalid_reasons": self.reasons,
            "note": self.note,
        }


def dry_run(data: Any, config: ExportConfig, *, daily_limit: int = DAILY_LIMIT, chunk_rows: int = 100_000) -> DryRun:
    """Validate and plan ``data`` as an export would, chunk by chunk; nothing is sent."""
    lenient = config.replace(skip_invalid_records=True)
    rows_in = valid = calls = 0
    rejected: list[pl.DataFrame] = []
    for chunk in chunks(data, chunk_rows):
        checked = validate(chunk, lenient, first_row=rows_in)
        calls += plan(checked.payloads, config).calls
        rows_in += checked.rows_in
        valid += checked.rows.height
        rejected.append(checked.rejected)
    problems = pl.concat(rejected)
    if problems.height and not config.skip_invalid_records:
        raise ValidationFailed(problems, rows_in)
    reasons = Counter(f"{c}: {r}" for c, r in problems.select("column", "reason").iter_rows())
    note = None
    if config.upsert_by_email and config.data_object == "prospects":
        note = "upsert_by_email also spends lookups: one call per 200 prospects in the account or per distinct email"
    return DryRun(
        rows_in, valid, problems["row_nr"].n_unique(), calls, daily_limit, dict(reasons.most_common()), problems, note
    )
