"""The Import API v5 in the simulator: imports, their CSV batches, the state machine and the errors file.

Open (batches may be added) -> Ready (PATCH) -> Waiting -> Processing -> Complete, in simulated time:
an import is Waiting for ``import_wait`` seconds after Ready and Processing for ``import_seconds`` more;
it is applied, all at once, the first time it is read after that. An import never submitted expires 24 h
after creation. Limits: a batch over 10 MiB (HTTP 413), an 11th batch (160, HTTP 429), the daily batch
limit (164), a CSV without a data row or with a bad header (159), a header that differs from the first
batch's or names an unknown field (130), a creating import without email and campaignId (13).

Rows are applied to the same prospects and lists as batchUpsert: a blank cell leaves the field as it is
unless the column's ``nullOverwrite`` is true. Errors go to an errors file: the batch's own columns plus
an ``error`` column.
"""

from __future__ import annotations

import csv
import io
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

MAX_BATCH_BYTES = 10 * 1024 * 1024
MAX_BATCHES = 10
MATCH = {"matchid": "id", "matchsalesforceid": "fid", "matchemail": "email"}
LISTS = {"addtolist": True, "removefromlist": False}
# the v5 prospect fields an import takes (import-api.md 7: not id, optedOut, hard-bounce or score-date fields;
# isArchived is no v5 prospect field); custom fields are <field_id>__c
V5_FIELDS = frozenset(
    "salutation firstName lastName email password company website jobTitle department country addressOne "
    "addressTwo city state territory zip phone fax source annualRevenue employees industry yearsInBusiness "
    "comments notes score campaignId prospectAccountId isDoNotEmail isDoNotCall isReviewed isStarred".split()
)
FORCED_NULL_OVERWRITE = frozenset({"notes"})  # import-api.md 8: notes always null-overwrites
NEVER_NULL_OVERWRITE = frozenset({"campaignId", "score", "isDoNotEmail", "isDoNotCall", "isReviewed", "isStarred"})


READ_FIELDS = frozenset(
    "id operation object status isExpired batchesRef createdAt updatedAt createdById updatedById createdCount "
    "updatedCount errorCount".split()
)


class ImportError_(Exception):
    """A refused Import API call: (HTTP status, Pardot code or None for an answer without one, message)."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def v4_name(v5: str) -> str:
    """``firstName`` -> ``first_name``; ``colour__c`` -> ``colour`` (the custom field's id)."""
    if v5.endswith("__c"):
        return v5[:-3]
    return re.sub(r"(?<!^)([A-Z])", r"_\1", v5).lower()


@dataclass
class Import:
    id: int
    options: dict[str, Any]
    created: float
    status: str = "Open"
    header: list[str] | None = None
    batches: list[bytes] = field(default_factory=list)  # raw CSV, parsed again when processed
    ready_at: float | None = None
    created_count: int = 0
    updated_count: int = 0
    errors: list[tuple[dict[str, str], str]] = field(default_factory=list)

    def expired(self, now: float) -> bool:
        return self.status == "Open" and now - self.created > 24 * 3600


@dataclass
class Imports:
    """Every import of the simulated account, and the batches uploaded today."""

    wait: float = 0.05
    seconds: float = 0.2
    daily_batches: int = 1000
    max_batch_bytes: int = MAX_BATCH_BYTES
    apply: bool = True  # False: a sink for load tests (rows are counted as created, not stored)
    failed: float = 0.0  # share of imports that end Failed (after applying ``failed_applies`` of their rows)
    cancelled: float = 0.0  # share of imports that end Cancelled (nothing applied)
    failed_applies: float = 0.5
    seed: int = 0
    cancelled_status: str = "Cancelled"  # the word a cancelled import's status reads (not confirmed: 4)
    too_big_code: int | None = 413  # the code in a 413 answer's body (not confirmed: 6); None: no JSON body
    errors_ref: str = "errorsRef"  # the errors file's reference field (errorsRef, or errorRef: 4)
    items: dict[int, Import] = field(default_factory=dict)
    batches_today: int = 0
    next_id: int = 1

    def create(self, options: dict[str, Any], known: set[str] | None = None) -> Import:
        """A new Open import; ``fields`` may name real prospect fields only (import-api.md 3: the match and
        list columns, or any other name, refuse the create with HTTP 400)."""
        fields_ = options.get("fields") or {}
        if not isinstance(fields_, dict):
            raise ImportError_(400, 154, "Invalid property: fields must be an object of field options")
        bad = [name for name in fields_ if not is_field(name, known)]
        if bad:
            raise ImportError_(400, 130, f"One or more of the specified fields are invalid: {', '.join(bad)}")
        if (
            str(options.get("operation", "")).lower() != "upsert"
            or str(options.get("object", "")).lower() != "prospect"
        ):
            raise ImportError_(400, 154, "Invalid property: operation must be Upsert and object Prospect")
        if options.get("status", "Open") not in ("Open", "Ready"):
            raise ImportError_(400, 154, 'Invalid property: status must be "Open" or "Ready"')
        if self.batches_today >= self.daily_batches:
            raise ImportError_(400, 164, "Daily limit of import batches has been reached")
        item = Import(self.next_id, dict(options), time.monotonic())
        self.items[item.id] = item
        self.next_id += 1
        return item

    def get(self, import_id: str) -> Import:
        try:
            return self.items[int(import_id)]
        except (KeyError, ValueError):
            raise ImportError_(404, 109, "record not found") from None

    def add_batch(self, item: Import, data: bytes, known: set[str]) -> None:
        """One CSV file for an Open import."""
        if item.expired(time.monotonic()) or item.status != "Open":
            code, text = (
                (2, "Invalid action") if item.expired(time.monotonic()) else (161, "Current status is " + item.status)
            )
            raise ImportError_(400, code, text)
        if len(data) > self.max_batch_bytes:
            raise ImportError_(413, self.too_big_code, "Limit of 10MB exceeded")
        if len(item.batches) >= MAX_BATCHES:
            raise ImportError_(429, 160, "The limit of batches per import has been reached")
        if self.batches_today >= self.daily_batches:
            raise ImportError_(400, 164, "Daily limit of import batches has been reached")
        header, _ = read_csv(data)
        check_header(header, known, item)
        missing = [name for name in item.options.get("fields") or {} if name not in header]
        if missing:
            raise ImportError_(400, 165, f"column options is invalid: {', '.join(missing)} is not a column of the file")
        item.header = item.header or header
        item.batches.append(data)
        self.batches_today += 1

    def submit(self, item: Import, body: dict[str, Any]) -> None:
        if set(body) - {"status"}:
            raise ImportError_(400, 154, "Only status can be set")
        if body.get("status") != "Ready":
            raise ImportError_(400, 154, 'Requested state must be "Ready"')
        if item.status != "Open":
            raise ImportError_(400, 155, 'Can\'t update. Import must be in "Open" state.')
        if not item.batches:
            raise ImportError_(400, 156, "Can't start processing. Import has no associated data.")
        item.status, item.ready_at = "Waiting", time.monotonic()

    def advance(self, item: Import, apply: Any) -> None:
        """Move an import on in simulated time; apply its rows when processing ends."""
        if item.ready_at is None or item.status not in ("Waiting", "Processing"):
            return
        elapsed = time.monotonic() - item.ready_at
        if elapsed >= self.wait + self.seconds:
            fate = self.fate(item)
            if fate == "Cancelled":
                item.status, item.batches = self.cancelled_status, []
                return
            budget = None
            if fate == "Failed":
                total = sum(len(read_csv(data)[1]) for data in item.batches)
                budget = int(total * self.failed_applies)
            for data in item.batches:
                rows = read_csv(data)[1]
                if budget is not None:
                    rows, budget = rows[:budget], max(budget - len(rows), 0)
                if not self.apply:
                    item.created_count += len(rows)
                    continue
                for row in rows:
                    try:
                        if apply(row, item.options):
                            item.created_count += 1
                        else:
                            item.updated_count += 1
                    except Exception as exc:  # a row error: the row goes to the errors file
                        item.errors.append((row, getattr(exc, "message", str(exc))))
            item.status, item.batches = fate, []
            if fate == "Failed":
                item.errors = []
        elif elapsed >= self.wait:
            item.status = "Processing"

    def fate(self, item: Import) -> str:
        """How a processed import ends: Complete, or (a fault setting, drawn per import) Failed or Cancelled
        (import-api.md 4: end states without counts; a failed import may have applied some rows)."""
        draw = random.Random(f"{self.seed}:import:{item.id}").random()
        if draw < self.failed:
            return "Failed"
        if draw < self.failed + self.cancelled:
            return "Cancelled"
        return "Complete"

    def record(self, item: Import, base: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": item.id,
            "operation": "Upsert",
            "object": "Prospect",
            "status": item.status,
            "isExpired": item.expired(time.monotonic()),
        }
        if item.status == "Open":
            out["batchesRef"] = f"{base}/api/v5/imports/{item.id}/batches"
        if item.status == "Complete":
            out |= {"createdCount": item.created_count, "updatedCount": item.updated_count,
                    "errorCount": len(item.errors)}  # fmt: skip
            if item.errors:
                out[self.errors_ref] = f"{base}/api/v5/imports/{item.id}/errors"
        return out

    def select(self, record: dict[str, Any], fields: str) -> dict[str, Any]:
        """The read's ``fields``: each one present (null when it has no value now); an unknown name fails the
        whole read with code 51 (import-api.md 4)."""
        known = {*READ_FIELDS, self.errors_ref}
        names = [n.strip() for n in fields.split(",") if n.strip()]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ImportError_(
                400, 51, f"Invalid parameter: fields. It contains an invalid or unknown field: {', '.join(unknown)}."
            )
        return {n: record.get(n) for n in names}

    def errors_csv(self, item: Import) -> str:
        if item.status != "Complete":
            raise ImportError_(400, 109, "Import is not finished processing")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([*(item.header or []), "error"])
        for row, message in item.errors:
            writer.writerow([*(row.get(h, "") for h in item.header or []), message])
        return buffer.getvalue()


def read_csv(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    try:
        text = data.decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except (UnicodeDecodeError, csv.Error):
        raise ImportError_(400, 159, "The file is not in a valid CSV format") from None
    if len(lines) < 2 or not lines[0]:
        raise ImportError_(400, 159, "The file is not in a valid CSV format: a header and a data row are needed")
    header = lines[0]
    if len(set(h.lower() for h in header)) != len(header):
        raise ImportError_(400, 159, "The file is not in a valid CSV format: duplicate column")
    if sum(h.lower() in MATCH for h in header) > 1:
        raise ImportError_(400, 159, "The file is not in a valid CSV format: more than one match column")
    rows = []
    for line in lines[1:]:
        if len(line) != len(header):
            raise ImportError_(400, 159, "The file is not in a valid CSV format: a row has the wrong number of cells")
        rows.append(dict(zip(header, line, strict=True)))
    return header, rows


def is_field(name: str, known: set[str] | None) -> bool:
    """A v5 prospect field an import may set: a standard one, or a custom field of the account."""
    if name.endswith("__c"):
        return known is None or name[:-3] in known
    return name in V5_FIELDS


def check_header(header: list[str], known: set[str], item: Import) -> None:
    if item.header is not None and header != item.header:
        raise ImportError_(
            400, 130, "One or more of the specified fields are invalid: the header differs from the first batch's"
        )
    for name in header:
        low = name.lower()
        if low in MATCH or low in LISTS:
            continue
        if "_" in name and not name.endswith("__c"):
            raise ImportError_(400, 159, f"The file is not in a valid CSV format: {name} is not a v5 field name")
        if not is_field(name, known):
            raise ImportError_(400, 130, f"One or more of the specified fields are invalid: {name}")
    creates = not any(h.lower() in MATCH for h in header) or item.options.get("createOnNoMatch")
    if creates and not {"email", "campaignId"} <= set(header):
        raise ImportError_(400, 13, "Required parameters missing: an import that can create needs email and campaignId")
