"""Valid prospect rows as Import API CSV batches (pure): v5 column names, groups, exact byte sizes, cuts.

Rows are grouped by how they match (one match column per import): ``id`` (matchId), ``fid``
(matchSalesforceId), ``email`` with upsert_by_email (matchEmail), or ``create``. A null is a blank
cell, which leaves the field as it is (``nullOverwrite`` false); but Pardot forces ``nullOverwrite``
for ``notes``, so rows without notes never share an import with a ``notes`` column (their group ends in
``-nonotes``). ``""`` (clear the field), fields of several values and fields without a v5
import name (``is_archived``) cannot be said in a CSV: those rows go through batchUpsert in the same job.

A group's header is fixed by the input's schema (not by the values of one chunk), so batches cut from
different chunks of a stream can share one import. ``Cutter`` packs a group's lines into batches of at
most ``limit`` bytes (header included, counted exactly), keeping the last, unfilled batch for the next
chunk until the input ends.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pardot_frames.config.job import ExportConfig
from pardot_frames.prepare.frames import KEYS, ROW_NR, keyed, present
from pardot_frames.prepare.schemas import PROSPECT_FIELDS

MAX_BATCH_BYTES = 10 * 1024 * 1024  # "10 MB": Pardot refuses a batch over 10 MiB (import-api.md 5, [S])
MAX_BATCHES = 10
EXPECTED_POLLS = 3  # reads while an import waits and processes (a plan's estimate)
MATCH_COLUMN = {"id": "matchId", "fid": "matchSalesforceId", "email": "matchEmail"}
ROUTE_BATCH = "batch"
NO_NOTES = "-nonotes"  # suffix of a group whose rows carry no notes (its header has no notes column)
# v4 fields without a v5 import column: keys, and fields the v5 prospect object does not take by import
NOT_IMPORTABLE = frozenset({"id", "fid", "is_archived"})
SPECIAL = frozenset(n.lower() for n in (*MATCH_COLUMN.values(), "addToList", "removeFromList"))


def v5_name(name: str) -> str:
    """The v5 column name of a v4 field: ``first_name`` -> ``firstName``; a custom field ``colour`` ->
    ``colour__c``."""
    if name not in PROSPECT_FIELDS:
        return name if name.endswith("__c") else f"{name}__c"
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def real_fields(header: list[str]) -> list[str]:
    """The header's prospect fields: what an import's ``fields`` options may name (not the match and list
    columns, which Pardot refuses there)."""
    return [h for h in header if h.lower() not in SPECIAL]


def field_columns(schema: pl.Schema | dict[str, pl.DataType]) -> list[str]:
    """The input columns an import carries as fields (v4 names), in input order."""
    return [c for c in schema if c != ROW_NR and c not in NOT_IMPORTABLE]


def match_kind(rows: pl.DataFrame, config: ExportConfig, unknown: pl.Expr | None = None) -> pl.Expr:
    """Per row: id, fid, email (upsert_by_email) or create; ``batch`` for rows a CSV cannot carry.
    ``unknown`` (a boolean expression): rows an earlier send may have created, which go by email
    (``matchEmail``, created only if no prospect has the email) instead of creating again."""
    named = [c for c in KEYS if c in rows.columns]
    by_email = pl.repeat(config.upsert_by_email, pl.len())  # one value per row, whatever the columns
    if unknown is not None:
        by_email = by_email | unknown
    kind = pl.when(by_email).then(pl.lit("email")).otherwise(pl.lit("create"))
    for column in reversed(named):
        kind = pl.when(present(column)).then(pl.lit(column)).otherwise(kind)
    unsayable = [
        (pl.col(c) == "") if t == pl.String else pl.col(c).list.len().is_not_null()
        for c, t in rows.schema.items()
        if c != ROW_NR and c not in NOT_IMPORTABLE and (t == pl.String or isinstance(t, pl.List))
    ]
    unsayable += [pl.col(c).is_not_null() for c in rows.columns if c in NOT_IMPORTABLE - {"id", "fid"}]
    if unsayable:
        kind = pl.when(pl.any_horizontal(unsayable).fill_null(False)).then(pl.lit(ROUTE_BATCH)).otherwise(kind)
    return kind


def group_of(rows: pl.DataFrame, config: ExportConfig, unknown: pl.Expr | None = None) -> pl.Expr:
    """Per row: its import group, the match kind, with ``-nonotes`` for rows without notes when the input
    has a notes column (Pardot would clear their notes)."""
    kind = match_kind(rows, config, unknown)
    if "notes" not in rows.columns:
        return kind
    return pl.when((kind != ROUTE_BATCH) & pl.col("notes").is_null()).then(kind + pl.lit(NO_NOTES)).otherwise(kind)


def creates(group: str) -> bool:
    """An import of this group may create prospects (``createOnNoMatch``)."""
    return group.split("-")[0] in ("create", "email")


def header(group: str, schema: pl.Schema | dict[str, pl.DataType], config: ExportConfig) -> list[str]:
    """A group's CSV header: its match column, the fields of the input, campaignId, the list column."""
    match = group.split("-")[0]
    columns = [c for c in field_columns(schema) if not (c == "notes" and group.endswith(NO_NOTES))]
    out = [MATCH_COLUMN[match]] if match in MATCH_COLUMN else []
    out += [v5_name(c) for c in columns]
    if match in ("create", "email") and "campaign_id" not in columns and config.import_campaign_id is not None:
        out.append("campaignId")
    lists = [x for x in config.prospect_lists if isinstance(x, int)]
    if lists:
        out.append("removeFromList" if config.prospect_list_operation == "remove" else "addToList")
    return out


def cell(column: str, dtype: pl.DataType) -> pl.Expr:
    """A column as CSV cells: booleans 1/0, nulls blank, quoted when they hold , " or a line break."""
    text = pl.col(column).cast(pl.Int8).cast(pl.String) if dtype == pl.Boolean else pl.col(column).cast(pl.String)
    return quote(text)


def quote(text: pl.Expr) -> pl.Expr:
    """Text as a CSV cell (RFC 4180): quoted when it holds , " or a line break; null is blank."""
    quoted = pl.lit('"') + text.str.replace_all('"', '""', literal=True) + pl.lit('"')
    return pl.when(text.str.contains(r'[",\r\n]')).then(quoted).otherwise(text).fill_null("")


def lines(rows: pl.DataFrame, group: str, config: ExportConfig) -> pl.DataFrame:
    """A frame of row_nr and CSV line (ending in a newline) for rows of one group, in ``header`` order."""
    match = group.split("-")[0]
    columns = [c for c in field_columns(rows.schema) if not (c == "notes" and group.endswith(NO_NOTES))]
    exprs = [cell(match, rows.schema[match])] if match in ("id", "fid") else []
    exprs += [cell("email", rows.schema["email"])] if match == "email" else []
    exprs += [cell(c, rows.schema[c]) for c in columns]
    if match in ("create", "email") and "campaign_id" not in columns and config.import_campaign_id is not None:
        exprs.append(pl.lit(str(config.import_campaign_id)))
    lists = [x for x in config.prospect_lists if isinstance(x, int)]
    if lists:
        exprs.append(pl.lit(str(lists[0])))
    line = pl.concat_str(exprs, separator=",") + pl.lit("\n")
    return rows.select(ROW_NR, line.alias("line"))


@dataclass(frozen=True)
class Batch:
    """One CSV file of one group: its bytes, the input rows it carries (in file order) and where each
    row's line ends (bytes after the header)."""

    group: str
    header: list[str]
    data: bytes
    row_nrs: np.ndarray
    ends: np.ndarray

    @property
    def rows(self) -> list[int]:
        return self.row_nrs.tolist()

    def lines(self) -> list[str]:
        """Each row's CSV line (without the header)."""
        head = len(self.data) - int(self.ends[-1]) if len(self.ends) else len(self.data)
        starts = np.concatenate(([0], self.ends[:-1]))
        return [self.data[head + int(a) : head + int(b)].decode() for a, b in zip(starts, self.ends, strict=True)]


def split(group: str, head: list[str], row_nrs: np.ndarray, texts: pl.Series, limit: int) -> list[Batch]:
    """Whole rows into batches of at most ``limit`` bytes, the header included in each (bytes counted
    exactly, UTF-8): the rows' sizes are summed once and each batch ends where the next row would not fit.
    A row too big alone still gets a batch of its own (Pardot answers it with 413)."""
    if not len(texts):
        return []
    top = (",".join(head) + "\n").encode()
    ends = np.cumsum(texts.str.len_bytes().to_numpy().astype(np.int64))
    blob = "".join(texts.to_list()).encode()
    batches, start = [], 0
    while start < len(texts):
        before = int(ends[start - 1]) if start else 0
        stop = max(int(np.searchsorted(ends, before + limit - len(top), side="right")), start + 1)
        part = ends[start:stop] - before
        batches.append(Batch(group, head, top + blob[before : int(ends[stop - 1])], row_nrs[start:stop], part))
        start = stop
    return batches


@dataclass
class Cutter:
    """Cuts each group's lines into full batches as chunks arrive; the unfilled end of a group waits for
    the next chunk (``cut(..., final=True)`` or ``flush`` cuts it too). Pure: no calls, no clock."""

    limit: int
    tails: dict[str, tuple[list[str], np.ndarray, pl.Series]] = field(default_factory=dict)

    def cut(self, group: str, head: list[str], lined: pl.DataFrame, final: bool = False) -> list[Batch]:
        """The full batches these rows (``row_nr``, ``line``) complete for ``group``."""
        old = self.tails.pop(group, None)
        nrs = lined[ROW_NR].to_numpy().astype(np.int64)
        texts = lined["line"]
        if old is not None:
            nrs, texts = np.concatenate((old[1], nrs)), pl.concat([old[2], texts])
        batches = split(group, head, nrs, texts, self.limit)
        if batches and not final:
            last = batches.pop()
            kept = len(last.row_nrs)
            self.tails[group] = (head, nrs[-kept:], texts.slice(len(texts) - kept))
        return batches

    def flush(self) -> list[Batch]:
        """Every group's waiting rows as batches (the input ended)."""
        out = []
        for group, (head, nrs, texts) in list(self.tails.items()):
            out += split(group, head, nrs, texts, self.limit)
        self.tails.clear()
        return out

    def waiting(self) -> list[int]:
        """Rows that wait in an unfilled batch."""
        return [int(r) for _, nrs, _ in self.tails.values() for r in nrs]


def batches(
    rows: pl.DataFrame, config: ExportConfig, cutter: Cutter, final: bool = True, unknown: pl.Expr | None = None
) -> list[Batch]:
    """The batches for rows a CSV can carry (``match_kind`` not ``batch``), group by group."""
    groups = rows.select(group_of(rows, config, unknown).alias("g"))["g"]
    out = []
    for group in sorted(set(groups.unique().to_list()) - {ROUTE_BATCH}):
        part = rows.filter(groups == group)
        out += cutter.cut(group, header(group, rows.schema, config), lines(part, group, config), final)
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
    return int(chunk.select((~keyed(chunk.columns)).sum()).item())


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


@dataclass
class ImportTally:
    """Figures of planned import batches, added up as a plan is cut: a group's batches fill imports of
    ``per_import``; each import adds its create, its submit and (an estimate of) its polls."""

    per_group: Counter[str] = field(default_factory=Counter)
    bytes: int = 0
    per_import: int = MAX_BATCHES

    def add(self, cut: list[Batch]) -> int:
        """Count these batches; their upload calls."""
        self.per_group.update(b.group for b in cut)
        self.bytes += sum(len(b.data) for b in cut)
        return len(cut)

    def figures(self) -> dict[str, int]:
        imports = sum(-(-n // self.per_import) for n in self.per_group.values())
        batches = sum(self.per_group.values())
        return {"imports": imports, "batches": batches, "bytes": self.bytes,
                "calls": batches + imports * (2 + EXPECTED_POLLS)}  # fmt: skip
