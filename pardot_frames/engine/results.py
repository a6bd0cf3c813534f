"""What users read of a job: ``ExportResult`` (counts, figures) and the rejected rows as a frame.

Every input row ends in exactly one of: succeeded, rejected by validation, rejected by Pardot, or
not sent (the job stopped first). ``ExportResult.rejected`` lists all but the first as a frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from pardot_frames.engine.ledger import Ledger
from pardot_frames.errors import JobFailed
from pardot_frames.prepare.frames import ROW_NR
from pardot_frames.prepare.schemas import SECRET_FIELDS

MASK = "**********"


@dataclass(frozen=True)
class ExportResult:
    """Counts, traffic figures and the rejected rows (a polars frame) of one export job."""

    data_object: str
    rows_in: int
    valid: int
    rejected_validation: int
    rejected_pardot: int
    succeeded: int
    not_sent: int
    api_calls: int
    retries: int
    elapsed: float
    rejected: pl.DataFrame
    notes: dict[str, int] = field(default_factory=dict)  # e.g. {"already a member": 3}
    stopped: str | None = None  # why the job stopped early (daily limit, fatal error), if it did
    planned_calls: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    job_id: str | None = None  # the journal's job id (resume it with resume=job_id)
    unchanged: int = 0  # rows not sent because Pardot has them as they are (sync_mode = "changed")

    @property
    def calls_per_row(self) -> float:
        """API calls spent per input row: the figure a daily call budget feels."""
        return self.api_calls / self.rows_in if self.rows_in else 0.0

    @property
    def ok(self) -> bool:
        """True when every input row was applied."""
        return self.succeeded + self.unchanged == self.rows_in

    def raise_for_failures(self) -> ExportResult:
        """Raise JobFailed unless every row was applied; returns self so it chains."""
        if not self.ok:
            raise JobFailed(self._summary_line(), self)
        return self

    def summary(self) -> dict[str, Any]:
        """The counts and figures as plain data (for JSON output and logs)."""
        return {
            "data_object": self.data_object,
            "rows_in": self.rows_in,
            "valid": self.valid,
            "rejected_validation": self.rejected_validation,
            "rejected_pardot": self.rejected_pardot,
            "succeeded": self.succeeded,
            "unchanged": self.unchanged,
            "not_sent": self.not_sent,
            "api_calls": self.api_calls,
            "planned_calls": self.planned_calls,
            "retries": self.retries,
            "calls_per_row": round(self.calls_per_row, 4),
            "elapsed_seconds": round(self.elapsed, 3),
            "rows_per_second": round(self.rows_in / self.elapsed, 1) if self.elapsed else None,
            "notes": dict(self.notes),
            "stopped": self.stopped,
            "job_id": self.job_id,
            **self.extra,
        }

    def _summary_line(self) -> str:
        line = (
            f"{self.succeeded:,} of {self.rows_in:,} row(s) applied"
            + (f", {self.unchanged:,} unchanged" if self.unchanged else "")
            + f"; {self.rejected_validation:,} rejected by "
            f"validation, {self.rejected_pardot:,} by Pardot, {self.not_sent:,} not sent"
        )
        return line + (f" (stopped: {self.stopped})" if self.stopped else "")

    def __repr__(self) -> str:
        lines = [f"ExportResult({self.data_object}): {self._summary_line()}"]
        lines.append(
            f"  {self.api_calls:,} API calls ({self.calls_per_row:.3f} per row), {self.retries:,} retries, "
            f"{self.elapsed:.2f} s"
        )
        for note, count in self.notes.items():
            lines.append(f"  {count:,} {note}")
        if "mirror" in self.extra:
            mirror = self.extra["mirror"]
            lines.append(f"  mirror: {mirror['removed']:,} removed from lists {mirror['lists']}")
        if self.rejected.height:
            lines.append(f"  rejected rows: result.rejected ({self.rejected.height:,} rows)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td>{escape(str(k))}</td><td>{escape(str(v))}</td></tr>" for k, v in self.summary().items()
        )
        table = f"<table><tr><th>figure</th><th>value</th></tr>{rows}</table>"
        return f"<b>ExportResult</b>{table}" + (self.rejected.head(20)._repr_html_() if self.rejected.height else "")


def rejected_frame(frame: pl.DataFrame, ledger: Ledger, validation: pl.DataFrame, first_row: int = 0) -> pl.DataFrame:
    """One row per rejected or unsent input row: row_nr, stage, error_code, message, then the input columns."""
    problems = validation.group_by(ROW_NR, maintain_order=True).agg(
        pl.format("{}: {}", pl.col("column"), pl.col("reason")).str.join("; ").alias("message")
    )
    parts = [
        problems.select(
            ROW_NR, pl.lit("validation").alias("stage"), pl.lit(None, pl.Int64).alias("error_code"), "message"
        )
    ]
    if ledger.failed:
        items = sorted(ledger.failed.items())
        parts.append(
            pl.DataFrame(
                {
                    ROW_NR: [r for r, _ in items],
                    "stage": [v[0] for _, v in items],
                    "error_code": [v[1] for _, v in items],
                    "message": [v[2] for _, v in items],
                },
                schema={ROW_NR: pl.Int64, "stage": pl.String, "error_code": pl.Int64, "message": pl.String},
            )
        )
    outcome = pl.concat(parts).sort(ROW_NR)
    masked = [pl.when(pl.col(c).is_not_null()).then(pl.lit(MASK)).alias(c) for c in frame.columns if c in SECRET_FIELDS]
    inputs = frame.with_row_index(ROW_NR, offset=first_row).with_columns(pl.col(ROW_NR).cast(pl.Int64), *masked)
    return outcome.join(inputs, on=ROW_NR, how="left", maintain_order="left")
