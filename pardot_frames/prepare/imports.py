"""Valid prospect rows as Import API CSV batches (pure): v5 column names, exact byte sizes, splits.

Rows are grouped by how they match (one match column per import): ``id`` (matchId), ``fid``
(matchSalesforceId), ``email`` with upsert_by_email (matchEmail), or none (each row creates). A
null is a blank cell, which leaves the field as it is (``nullOverwrite`` false); ``""`` (clear the
field) and fields of several values cannot be said in a CSV, so those rows go through batchUpsert
in the same job. A batch is the header plus whole rows, at most ``limit`` bytes, counted exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pardot_frames.config.job import ExportConfig
from pardot_frames.prepare.frames import ROW_NR
from pardot_frames.prepare.schemas import PROSPECT_FIELDS

MAX_BATCH_BYTES = 10_000_000  # "10 MB": the lower of 10^7 and 10 MiB, so either reading holds
MAX_BATCHES = 10
MATCH_COLUMN = {"id": "matchId", "fid": "matchSalesforceId", "email": "matchEmail"}
ROUTE_BATCH = "batch"


def v5_name(name: str) -> str:
    """The v5 column name of a v4 field: ``first_name`` -> ``firstName``; a custom field ``colour`` ->
    ``colour__c``."""
    if name not in PROSPECT_FIELDS:
        return name if name.endswith("__c") else f"{name}__c"
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class Batch:
    """One CSV file: its bytes and the input rows it carries (in file order)."""

    data: bytes
    row_nrs: list[int]


@dataclass(frozen=True)
class Unit:
    """One import: how its rows match, its header, its rows' CSV lines, and up to ten batches."""

    match: str  # id | fid | email | create
    header: list[str]
    row_nrs: list[int]
    lines: list[str]
    batches: list[Batch]

    @property
    def creates(self) -> bool:
        return self.match in ("create", "email")

    @property
    def bytes(self) -> int:
        return sum(len(b.data) for b in self.batches)

    @classmethod
    def from_lines(
        cls, match: str, header: list[str], lines: list[tuple[int, str]], limit: int, per_import: int = MAX_BATCHES
    ) -> list[Unit]:
        """Rows (row_nr, CSV line) as imports of at most ``per_import`` batches of at most ``limit`` bytes."""
        batches = split(header, lines, limit)
        out = []
        for i in range(0, len(batches), per_import):
            group = batches[i : i + per_import]
            nrs = [r for b in group for r in b.row_nrs]
            start = sum(len(b.row_nrs) for b in batches[:i])
            out.append(cls(match, header, nrs, [line for _, line in lines[start : start + len(nrs)]], group))
        return out


def match_kind(rows: pl.DataFrame, config: ExportConfig) -> pl.Expr:
    """Per row: id, fid, email (upsert_by_email) or create; ``batch`` for rows a CSV cannot carry."""
    present = [c for c in ("id", "fid") if c in rows.columns]
    kind = pl.lit("email" if config.upsert_by_email else "create")
    for column in reversed(present):
        kind = (
            pl.when(pl.col(column).is_not_null() & (pl.col(column).cast(pl.String) != ""))
            .then(pl.lit(column))
            .otherwise(kind)
        )
    unsayable = [
        (pl.col(c) == "") if t == pl.String else pl.col(c).list.len().is_not_null()
        for c, t in rows.schema.items()
        if c != ROW_NR and (t == pl.String or isinstance(t, pl.List))
    ]
    if unsayable:
        kind = pl.when(pl.any_horizontal(unsayable).fill_null(False)).then(pl.lit(ROUTE_BATCH)).otherwise(kind)
    return kind


def cell(column: str, dtype: pl.DataType) -> pl.Expr:
    """A column as CSV cells: booleans 1/0, nulls blank, quoted when they hold , " or a line break."""
    text = pl.col(column).cast(pl.Int8).cast(pl.String) if dtype == pl.Boolean else pl.col(column).cast(pl.String)
    quoted = pl.lit('"') + text.str.replace_all('"', '""', literal=True) + pl.lit('"')
    return pl.when(text.str.contains(r'[",\r\n]')).then(quoted).otherwise(text).fill_null("")


def lines(rows: pl.DataFrame, match: str, config: ExportConfig) -> tuple[list[str], pl.DataFrame]:
    """(header, frame of row_nr and CSV line) for rows that match the same way."""
    columns = [c for c in rows.columns if c != ROW_NR and c not in ("id", "fid") and rows[c].null_count() < rows.height]
    header, exprs = [], []
    if match in MATCH_COLUMN:
        header.append(MATCH_COLUMN[match])
        exprs.append(cell(match, rows.schema[match]))
    for column in columns:
        header.append(v5_name(column))
        exprs.append(cell(column, rows.schema[column]))
    if match in ("create", "email") and "campaign_id" not in columns and config.import_campaign_id is not None:
        header.append("campaignId")
        exprs.append(pl.lit(str(config.import_campaign_id)))
    lists = [x for x in config.prospect_lists if isinstance(x, int)]
    if lists:
        header.append("removeFromList" if config.prospect_list_operation == "remove" else "addToList")
        exprs.append(pl.lit(str(lists[0])))
    line = pl.concat_str(exprs, separator=",") + pl.lit("\n")
    return header, rows.select(ROW_NR, line.alias("line"))


def split(header: list[str], lines: list[tuple[int, str]], limit: int) -> list[Batch]:
    """Whole rows into batches of at most ``limit`` bytes, the header included in each (bytes counted
    exactly, UTF-8): the rows' sizes are summed once and each batch ends where the next row would not fit."""
    if not lines:
        return []
    head = (",".join(header) + "\n").encode()
    nrs = [r for r, _ in lines]
    texts = [line for _, line in lines]
    ends = np.cumsum(pl.Series(texts, dtype=pl.String).str.len_bytes().to_numpy().astype(np.int64))
    blob = "".join(texts).encode()
    batches, start = [], 0
    while start < len(texts):
        before = int(ends[start - 1]) if start else 0
        stop = max(int(np.searchsorted(ends, before + limit - len(head), side="right")), start + 1)
        batches.append(Batch(head + blob[before : int(ends[stop - 1])], nrs[start:stop]))
        start = stop
    return batches


def units(
    rows: pl.DataFrame, config: ExportConfig, limit: int = MAX_BATCH_BYTES, per_import: int = MAX_BATCHES
) -> list[Unit]:
    """The imports for rows a CSV can carry (``match_kind`` not ``batch``), by match kind."""
    kinds = rows.select(match_kind(rows, config).alias("k"))["k"]
    out = []
    for match in ("id", "fid", "email", "create"):
        group = rows.filter(kinds == match)
        if not group.height:
            continue
        header, lined = lines(group, match, config)
        pairs = list(zip(lined[ROW_NR].to_list(), lined["line"].to_list(), strict=True))
        out += Unit.from_lines(match, header, pairs, limit, per_import)
    return out


def needs_campaign(rows: pl.DataFrame, config: ExportConfig) -> int:
    """How many rows would create prospects through an import without a campaign to put them in."""
    if config.import_campaign_id is not None or "campaign_id" in rows.columns:
        return 0
    return int((rows.select(match_kind(rows, config).alias("k"))["k"].is_in(["create", "email"])).sum())


def creating_rows(chunk: pl.DataFrame, config: ExportConfig) -> int:
    """Input rows (not yet validated) an import would create without a campaign: no id or fid, when the job
    may import and gives no campaign."""
    if config.method == "batch" or config.data_object != "prospects" or config.import_campaign_id is not None:
        return 0
    if "campaign_id" in chunk.columns:
        return 0
    keyed = pl.lit(False)
    for key in ("id", "fid"):
        if key in chunk.columns:
            keyed = keyed | (pl.col(key).is_not_null() & (pl.col(key).cast(pl.String) != ""))
    return int(chunk.select((~keyed).sum()).item())


def can_import(config: ExportConfig) -> bool:
    """An import can carry this job: prospects, and at most one list (a cell's list separator is not confirmed)."""
    return config.data_object == "prospects" and len(config.prospect_lists) <= 1


def pick_method(config: ExportConfig, rows: int | None) -> tuple[str, str]:
    """batch or import, and why: ``auto`` imports when the job's valid ``rows`` reach ``import_threshold``
    (None: not known before sending)."""
    if config.data_object != "prospects":
        return "batch", "list memberships go through batchUpsert"
    if config.method != "auto":
        return config.method, "as configured"
    if not can_import(config):
        return "batch", "auto: several lists in prospect_lists (an import takes one)"
    if rows is None:
        return "batch", "auto: the stream was not read before sending (journal off), so its size is not known"
    if rows >= config.import_threshold:
        return "import", f"auto: {rows:,} rows >= import_threshold ({config.import_threshold:,})"
    return "batch", f"auto: {rows:,} rows < import_threshold ({config.import_threshold:,})"
