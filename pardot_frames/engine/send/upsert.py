"""Prospects through batchUpsert (the sending itself is ``sender.BatchSender``'s). Per-row errors are
mapped back to input rows, and resends cannot create duplicates (email-only rows whose earlier send may
have applied are looked up first).

upsert_by_email: the k-th row of an email goes in phase k, after the prospect exists; before each
phase, rows without an id are given the id of the prospect their email means (``prospects.preferred``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from pardot_frames._control import LookupFailed
from pardot_frames.engine.send.base import Phase, Planned
from pardot_frames.engine.send.batch_sender import BatchSender, Wire
from pardot_frames.engine.state.sync import KnownIds
from pardot_frames.errors import RetriesExhausted
from pardot_frames.pardot import prospects
from pardot_frames.pardot.answers import row_error_code
from pardot_frames.prepare.batching import batch_rows
from pardot_frames.prepare.frames import ROW_NR, email_only
from pardot_frames.prepare.payload import encode, prospect_payloads
from pardot_frames.prepare.validation import Validated

INVALID_PROSPECT = "Invalid prospect ID"

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.send.ledger import Ledger
    from pardot_frames.pardot.client import Client


@dataclass(frozen=True, slots=True)
class Row:
    """One planned prospect row: its input row number, how it travels, and its email if it has no id/fid."""

    row_nr: int
    wire: Wire
    email_only: str | None
    unknown: bool = False  # a stopped run may have sent it: look it up before sending (email-only rows)
    mapped: str | None = None  # the email whose id came from the destination's id map (may be stale)


def with_ids(rows: pl.DataFrame, found: dict[str, list[int]]) -> pl.DataFrame:
    """Give rows without an id the id of the prospect their email means (upsert_by_email; ``prospects.preferred``)."""
    chosen = {email: ids[-1] for email, ids in found.items()}
    match = pl.col("email").str.to_lowercase().replace_strict(chosen, default=None, return_dtype=pl.Int64)
    if "id" not in rows.columns:
        return rows.with_columns(match.alias("id")).select(ROW_NR, "id", pl.exclude(ROW_NR, "id"))
    return rows.with_columns(pl.coalesce("id", match).alias("id"))


def with_id(row: Row, prospect_id: int | None, email_only: str | None, mapped: str | None = None) -> Row:
    """The row's JSON going by ``prospect_id`` (None: without an id, so it creates its prospect)."""
    values = {k: v for k, v in orjson.loads(row.wire.text).items() if k != "id"}
    text = orjson.dumps(values if prospect_id is None else {"id": prospect_id, **values}).decode()
    return Row(row.row_nr, Wire(text, len(encode(text)), row.wire.in_body), email_only, mapped=mapped)


def by_occurrence(rows: pl.DataFrame) -> list[pl.DataFrame]:
    """upsert_by_email: the k-th row of an email goes in phase k, after the prospect exists."""
    if not rows.height:
        return [rows]
    occurrence = pl.col(ROW_NR).cum_count().over(pl.col("email").str.to_lowercase()) - 1
    ranked = rows.with_columns(occurrence.alias("_k"))
    top = ranked["_k"].max()
    return [ranked.filter(pl.col("_k") == k).drop("_k") for k in range(int(top or 0) + 1)]  # type: ignore[arg-type]


def _without_id(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.filter(pl.col("id").is_null()) if "id" in rows.columns else rows


class UpsertPath:
    """Sends prospect rows through batchUpsert (upsert_by_email lookups, safe resends, the id map)."""

    def __init__(
        self,
        config: ExportConfig,
        client: Client | None = None,
        ledger: Ledger | None = None,
        ids: KnownIds | None = None,
    ) -> None:
        self.config, self.client, self.ledger, self.ids = config, client, ledger, ids
        self.sender: BatchSender[Row] = BatchSender(config, client, ledger, self)
        self.mapped: dict[int, str] = {}  # row_nr -> email, for rows whose id came from the id map
        self.ids_from_state = 0
        self.lookups = 0
        self.emails_matched = 0
        self.creating = 0  # rows sent without an id or fid: each creates its prospect (or updates, by email)
        self.account_size: int | None = None  # prospects in the account, when known: lookups are planned exactly

    # planning (pure)

    def phases(self, checked: Validated) -> list[Phase]:
        if not self.config.upsert_by_email:
            return [Phase(checked.rows, checked.payloads)]
        out = []
        for rows in by_occurrence(checked.rows):
            payloads = checked.payloads.filter(pl.col(ROW_NR).is_in(rows[ROW_NR].implode()))
            asked = self._to_ask(rows)
            out.append(Phase(rows, payloads, prospects.lookup_calls(asked, self.account_size)))
            if self.account_size is not None:  # a dry run's estimate: an email Pardot did not know creates one
                self.account_size += asked
        return out

    def _to_ask(self, rows: pl.DataFrame) -> int:
        """The distinct emails of rows without an id that the id map does not answer: what a lookup asks Pardot."""
        if not rows.height:
            return 0
        emails = _without_id(rows)["email"].str.strip_chars().str.to_lowercase().unique().drop_nulls().to_list()
        known = self.ids.known_ids(emails) if self.ids is not None and emails else {}
        return len(emails) - len(known)

    def count(self, phase: Phase) -> int:
        return len(batch_rows(phase.payloads["size"], self.config))

    def calls(self, phase: Phase) -> Planned[Row]:
        payloads, in_body, mapped = phase.payloads, self.sender.in_body, self.mapped
        emails = dict(zip(phase.rows[ROW_NR].to_list(), email_only(phase.rows), strict=True))
        row_nrs, sizes, texts = payloads[ROW_NR].to_list(), payloads["size"].to_list(), payloads["json"].to_list()

        def build(start: int, end: int) -> list[Row]:
            return [
                Row(r, Wire(texts[i], sizes[i], in_body), emails.get(r), mapped=mapped.get(r))
                for i, r in zip(range(start, end), row_nrs[start:end], strict=True)
            ]

        return Planned(batch_rows(payloads["size"], self.config), build, lambda a, b: row_nrs[a:b])

    def rows(self, call: Sequence[Row]) -> list[int]:
        return [r.row_nr for r in call]

    # sending

    async def resolve(self, phase: Phase) -> Phase:
        if not self.config.upsert_by_email:
            return phase
        missing = _without_id(phase.rows)
        try:
            found = await self._lookup(missing) if missing.height else {}
        except (LookupFailed, RetriesExhausted) as exc:
            # never create a prospect because a lookup failed: those rows wait for a resume
            self.held_back(missing[ROW_NR].to_list(), exc)
            keep = ~pl.col(ROW_NR).is_in(missing[ROW_NR].implode())
            return Phase(phase.rows.filter(keep), phase.payloads.filter(keep))
        self.emails_matched += len(found)
        rows = with_ids(phase.rows, found)
        return Phase(rows, prospect_payloads(rows, self.config))

    async def _lookup(self, missing: pl.DataFrame) -> dict[str, list[int]]:
        """Ids for these rows' emails (the id map first); rows whose id came from the map are noted."""
        found, from_map = await self._ids_for(missing["email"].to_list())
        if from_map:
            self.ids_from_state += len(from_map)
            keys = missing.select(ROW_NR, pl.col("email").str.strip_chars().str.to_lowercase())
            self.mapped |= dict(keys.filter(pl.col("email").is_in(list(from_map))).iter_rows())
        return found

    async def _ids_for(self, emails: list[str], *, use_map: bool = True) -> tuple[dict[str, list[int]], set[str]]:
        """Prospect ids per (lower-cased) email: the destination's id map first, Pardot for the rest (which the
        map then keeps); and the emails the map answered (their ids may be stale). The id a row goes by is
        the last (``prospects.preferred``)."""
        assert self.client is not None
        known = self.ids.known_ids(emails) if self.ids is not None and use_map else {}
        ask = [e for e in emails if e.strip().lower() not in known]
        found = await prospects.resolve_emails(self.client, ask) if ask else {}
        if self.ids is not None:
            self.ids.remember({email: ids[-1] for email, ids in found.items()})
        return {**{email: [pid] for email, pid in known.items()}, **found}, set(known)

    async def settle(self, calls: Sequence[list[Row]], unknown: set[int]) -> Sequence[list[Row]]:
        """Rows of a stopped run whose outcome is unknown: email-only ones are looked up, all at once."""
        if not unknown:
            return calls
        marked = [[replace(row, unknown=True) if row.row_nr in unknown else row for row in batch] for batch in calls]
        doubtful = [row for batch in marked for row in batch if row.unknown and row.email_only]
        if not doubtful:
            return marked
        try:
            settled = {row.row_nr: row for row in await self._settle(doubtful)}
        except (LookupFailed, RetriesExhausted) as exc:
            self.held_back([row.row_nr for row in doubtful], exc)
            skip = {row.row_nr for row in doubtful}
            return [kept for batch in marked if (kept := [row for row in batch if row.row_nr not in skip])]
        return [[settled.get(row.row_nr, row) for row in batch] for batch in marked]

    def held_back(self, row_nrs: list[int], exc: Exception) -> None:
        """Rows whose email could not be looked up: reported for now (a resume tries them again)."""
        assert self.ledger is not None
        reason = exc.reason if isinstance(exc, RetriesExhausted) else str(exc)
        self.ledger.reject(
            row_nrs, None, f"not sent: the email lookup that must come first failed ({reason})", transient=True
        )

    async def send(self, call: list[Row]) -> int:
        """Send one planned batch (the sender splits it if the bound fell since); its input rows."""
        self.creating += sum(1 for row in call if row.email_only is not None)
        await self.sender.send(call)
        return len(call)

    async def before_attempt(self, call: list[Row], unknown: bool) -> list[Row]:
        """The last attempt (or a stopped run) may have created prospects: find them before sending again."""
        doubtful = [i for i, r in enumerate(call) if r.email_only is not None and (unknown or r.unknown)]
        if not doubtful:
            return call
        settled = await self._settle([call[i] for i in doubtful])
        out = list(call)
        for i, row in zip(doubtful, settled, strict=True):
            out[i] = row
        return out

    async def outcomes(self, call: list[Row], errors: dict[int, str]) -> None:
        """Each row of an answered call: applied, or refused with Pardot's message."""
        assert self.ledger is not None
        stale, applied = [], []
        for index, row in enumerate(call):
            if index in errors and errors[index] == INVALID_PROSPECT and row.mapped:
                stale.append(row)  # the id map's id is gone from Pardot: look the email up again
            elif index in errors:
                self.ledger.reject([row.row_nr], row_error_code(errors[index]), errors[index])
            else:
                applied.append(row.row_nr)
        self.ledger.ok(applied)
        if stale:
            await self.sender.send_now(await self._relook(stale))

    async def _relook(self, stale: list[Row]) -> list[Row]:
        """Rows sent with an id from the id map that Pardot no longer knows: forget it, and give each row the
        id Pardot has for its email now (or none: the row then creates its prospect)."""
        assert self.client is not None and self.ids is not None
        for row in stale:
            self.ids.forget(row.mapped or "")
            self.mapped.pop(row.row_nr, None)
        before = self.client.stats.api_calls
        found, _ = await self._ids_for([row.mapped or "" for row in stale], use_map=False)
        self.lookups += self.client.stats.api_calls - before
        out = []
        for row in stale:
            ids = found.get(row.mapped or "")
            out.append(with_id(row, ids[-1] if ids else None, None if ids else row.mapped))
        return out

    async def _settle(self, rows: list[Row]) -> list[Row]:
        """Rows an earlier send may have applied: email-only ones whose email Pardot now knows go by id
        (the newest match: the one that send created); the rest go as they are, no longer in doubt."""
        assert self.client is not None
        before = self.client.stats.api_calls
        found, from_map = await self._ids_for([r.email_only for r in rows if r.email_only])
        self.lookups += self.client.stats.api_calls - before
        out = []
        for row in rows:
            email = (row.email_only or "").strip().lower()
            ids = found.get(email)
            if not ids:
                out.append(replace(row, unknown=False))
            else:
                out.append(with_id(row, ids[-1], None, mapped=email if email in from_map else None))
        return out

    async def finish(self, stopping: Callable[[], object]) -> None:
        """Nothing waits: every call went when its chunk did."""

    def abandon(self, code: int | None, reason: str) -> None:
        """Nothing is held between chunks."""

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            **self.sender.figures(),
            "lookups": self.lookups,
            "final_max_payload": self.sender.max_payload,
        }
        if self.config.upsert_by_email:
            out["emails_matched"] = self.emails_matched
        if self.ids is not None:
            out["ids_from_state"] = self.ids_from_state
        out["rows_sent_without_id"] = self.creating
        return out
