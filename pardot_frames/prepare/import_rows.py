"""Import rows after they went (pure): the journal note that ties rows to an import, the rows of a creating
import said again by email, and an import's errors file matched back to rows by their cells."""

from __future__ import annotations

import csv
import io
from collections import Counter

import polars as pl

from pardot_frames.prepare.csv_batches import quote

ATTACHED = "import:"  # the journal note of rows handed to an import: "import:<id>:<batch number>:<group>"


def note(import_id: int, number: int, group: str) -> str:
    """The journal note of rows handed to an import: ``import:<id>:<batch number>:<group>``."""
    return f"{ATTACHED}{import_id}:{number}:{group}"


def attachments(notes: dict[int, str]) -> tuple[dict[int, tuple[int, int]], dict[int, str], Counter[int]]:
    """From a stopped run's notes: row -> (import id, batch number), import id -> group, rows per import."""
    attached: dict[int, tuple[int, int]] = {}
    groups: dict[int, str] = {}
    for row_nr, text in notes.items():
        if not text.startswith(ATTACHED):
            continue
        import_id, number, group = (text.removeprefix(ATTACHED).split(":", 2) + ["0", ""])[:3]  # older: "import:N"
        attached[row_nr] = (int(import_id), int(number))
        if group:
            groups[int(import_id)] = group
    return attached, groups, Counter(i for i, _ in attached.values())


def by_email(group: str, head: list[str], texts: pl.Series) -> tuple[str, list[str], pl.Series]:
    """Lines of a creating group as the same rows matched by email (``matchEmail`` + the same cells)."""
    at = head.index("email")
    cells = [next(csv.reader(io.StringIO(t)))[at] for t in texts.to_list()]
    first = pl.DataFrame({"e": cells}).select(quote(pl.col("e")).alias("e"))["e"]
    return "email" + group.removeprefix("create"), ["matchEmail", *head], first + "," + texts


def match_errors(text: str, head: list[str], found: dict[int, str]) -> tuple[dict[int, str], int]:
    """({row_nr: message}, errors matching no row): each error record is matched to a row by its cells in
    the import's own columns; the message is the errors file's other column(s) (by name, not position)."""
    records = list(csv.DictReader(io.StringIO(text)))
    if not records:
        return {}, 0
    extra = [c for c in records[0] if c not in head]
    extra.sort(key=lambda c: "error" not in c.lower())
    rows: dict[tuple[str, ...], list[int]] = {}
    for row_nr, line in found.items():
        cells = next(csv.reader(io.StringIO(line)))
        rows.setdefault(tuple(cells), []).append(row_nr)
    failed, unmatched = {}, 0
    for record in records:
        key = tuple(record.get(h) or "" for h in head)
        candidates = rows.get(key)
        if not candidates:
            unmatched += 1
            continue
        message = "; ".join(str(record[c]) for c in extra if record.get(c)) or "refused by the import (no message)"
        failed[candidates.pop(0)] = message
    return failed, unmatched
