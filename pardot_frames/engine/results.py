"""What users read of a job: ``ExportResult`` (counts, figures) and the rejected rows as a frame, and of a
dry run: ``DryRun`` (the plan).

Every input row ends in exactly one of: succeeded, rejected by validation, rejected by Pardot, or
not sent (the job stopped first). ``ExportResult.rejected`` lists all but the first as a frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from pardot_frames.errors import JobFailed


@dataclass(frozen=True)
class ExportResult:
    """Counts, traffic figures and the rejected rows (in the input's frame kind: polars, pandas or pyarrow)
    of one export job."""

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
    rejected: Any  # pl.DataFrame, or a pandas DataFrame / pyarrow Table when the input was one
    notes: dict[str, int] = field(default_factory=dict)  # e.g. {"already a member": 3}
    stopped: str | None = None  # why the job stopped early (daily limit, fatal error), if it did
    planned_calls: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    job_id: str | None = None  # the journal's job id (resume it with resume=job_id)
    unchanged: int = 0  # rows not sent because Pardot has them as they are (sync_mode = "changed")
    verification: Any = None  # with verify: what Pardot holds compared with what was sent (engine.verify)
    deleted: int = 0  # rows not sent: their prospect is in Pardot's recycle bin (stage "deleted"; restore_deleted)

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
            "deleted": self.deleted,
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
            + (f", {self.deleted:,} deleted in Pardot" if self.deleted else "")
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
        if len(self.rejected):
            lines.append(f"  rejected rows: result.rejected ({len(self.rejected):,} rows)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """A compact notebook view: the outcome, the calls, and the first rejected rows."""
        from html import escape

        s = self.summary()
        figures = [
            ("applied", f"{self.succeeded:,} of {self.rows_in:,} rows"),
            ("rejected", f"{self.rejected_validation:,} by validation, {self.rejected_pardot:,} by Pardot"),
            ("not sent", f"{self.not_sent:,}"),
            *(
                [("deleted in Pardot", f"{self.deleted:,} (restore_deleted = true brings them back)")]
                if self.deleted
                else []
            ),  # fmt: skip
            *([("unchanged", f"{self.unchanged:,}")] if self.unchanged else []),
            ("API calls", f"{self.api_calls:,} (planned {self.planned_calls:,}), {self.retries:,} retries"),
            ("elapsed", f"{self.elapsed:.2f} s"),
            *([("method", f"import: {s['imports']:,} import(s)")] if s.get("method") == "import" else []),
            *([("stopped", self.stopped)] if self.stopped else []),
            *([("resume with", f"resume={self.job_id!r}")] if self.stopped and self.job_id else []),
        ]
        rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(str(v))}</td></tr>" for k, v in figures)
        html = f"<b>ExportResult ({escape(self.data_object)})</b><table>{rows}</table>"
        if len(self.rejected):
            preview = pl.DataFrame(pl.from_pandas(self.rejected) if hasattr(self.rejected, "iloc") else self.rejected)
            html += f"<i>rejected rows: result.rejected ({len(self.rejected):,})</i>{preview.head(5)._repr_html_()}"
        return html + "<i>every figure: result.summary()</i>"


DAILY_IMPORT_BATCHES = 1_000  # import batches per account per day (Pardot's default)


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
    lookups: int = 0  # of the calls, lookups at most (upsert_by_email: the account size is not known)
    payload_location: str = "query"
    calls_in_body_mode: int | None = None  # query mode: what body mode would take for the same rows
    max_api_calls: int | None = None
    lists: dict[str, int | str] | None = None  # list names: their ids, "would be created", or "not checked"
    sync: dict[str, int] | None = None  # changed mode: new, changed, unchanged rows
    to_remove: int | str | None = None  # mirror: memberships the job would remove (or why not counted)
    imports: dict[str, Any] | None = None  # import method: imports, batches, bytes, daily batch share, choice
    may_create: int = 0  # rows keyed by email alone while upsert_by_email is off: each run may create them
    verify_calls: int | None = None  # with verify: the calls a verify after the run takes at most
    lookups_exact: bool = False  # the account's size was read: lookups are planned as the run makes them
    array_columns: tuple[str, ...] = ()  # columns of array custom fields: a verify reads them through v4
    deleted: int = 0  # rows for prospects in the recycle bin: reported (stage "deleted"), or restored

    def summary(self) -> dict[str, Any]:
        return {
            "dry_run": True,
            "rows_in": self.rows_in,
            "valid": self.valid,
            "invalid": self.invalid,
            "calls_planned": self.calls,
            "lookup_calls_at_most": self.lookups,
            "lookup_calls": self.lookups,
            "lookups_exact": self.lookups_exact,
            "rows_per_call": round(self.valid / self.calls, 2) if self.calls else 0.0,
            "calls_per_row": round(self.calls / self.rows_in, 4) if self.rows_in else 0.0,
            "daily_limit": self.daily_limit,
            "daily_limit_share": round(self.calls / self.daily_limit, 6),
            "payload_location": self.payload_location,
            "calls_in_body_mode": self.calls_in_body_mode,
            "max_api_calls": self.max_api_calls,
            "within_max_api_calls": None if self.max_api_calls is None else self.calls <= self.max_api_calls,
            "lists": self.lists,
            **(self.sync or {}),
            **({"to_remove": self.to_remove} if self.to_remove is not None else {}),
            **(self.imports or {}),
            "rows_may_create_prospects": self.may_create,
            "deleted_in_pardot": self.deleted,
            "verify_calls": self.verify_calls,
            **({"verify_reads_arrays_through_v4": list(self.array_columns)} if self.array_columns else {}),
            "invalid_reasons": self.reasons,
            "note": self.note,
        }


def grouped_reasons(problems: pl.DataFrame) -> dict[str, int]:
    """Problems counted by column and check, most frequent first; reasons that differ only in a number
    ("the row is 8280 characters ..." and "... 8278 ...") become one line with the range of that number."""
    if not problems.height:
        return {}
    first_number = pl.col("reason").str.extract(r"(\d+)").cast(pl.Int64)
    groups = (
        problems.with_columns(pl.col("reason").str.replace(r"\d+", "{n}").alias("shape"), first_number.alias("n"))
        .group_by("column", "check", "shape", maintain_order=True)
        .agg(
            pl.len().alias("count"),
            pl.col("reason").first(),
            pl.col("n").min().alias("lo"),
            pl.col("n").max().alias("hi"),
        )
        .sort("count", descending=True, maintain_order=True)
    )
    out: dict[str, int] = {}
    for column, _check, shape, count, reason, lo, hi in groups.iter_rows():
        text = reason if lo == hi else shape.replace("{n}", f"{lo}-{hi}", 1)
        out[f"{column}: {text}"] = count
    return out
