"""Prospects through batchUpsert. In the query string (``payload_location = "query"``): batches packed
within 50 rows and ``max_payload`` characters, HTTP 414 (or real Pardot's HTML 400) handled by splitting
(the working bound bisects between the largest size taken and the smallest refused). In the POST body
(``"body"``): 50 rows a call whatever their size, in a multipart/form-data part ``prospects``; an account
that answers 71 or 13 to that switches the job to the query string once, with a warning. Per-row
errors are mapped back to input rows, and resends cannot create duplicates (email-only rows whose
earlier send may have applied are looked up first).

upsert_by_email: the k-th row of an email goes in phase k, after the prospect exists; before each
phase, rows without an id are given the lowest id of a prospect with their email.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import numpy as np
import orjson
import polars as pl

from pardot_frames.engine.paths.base import KnownIds, Phase
from pardot_frames.errors import ApiError
from pardot_frames.pardot import prospects
from pardot_frames.pardot.answers import DailyLimitReached, RetriesExhausted, UriTooLong
from pardot_frames.pardot.transport import Request
from pardot_frames.prepare.batching import ENCODED_HEAD, ENCODED_SEP, ENCODED_TAIL, batch_size, partition, plan
from pardot_frames.prepare.frames import ROW_NR
from pardot_frames.prepare.payload import encode, encode_each, prospect_payloads
from pardot_frames.prepare.validation import Validated

log = logging.getLogger("pardot_frames")
BODY_REFUSED = frozenset({71, 13})  # the payload is missing or unreadable: the body did not carry it
INVALID_PROSPECT = "Invalid prospect ID"

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.ledger import Ledger
    from pardot_frames.pardot.client import Client


@dataclass(slots=True)
class Row:
    """One planned batchUpsert row: its key (the input row number; the prospect id for memberships), its JSON
    (percent-encoded in query mode, as is in body mode), its encoded size, and its email if it has no id/fid."""

    row_nr: int
    encoded: str
    size: int
    email_only: str | None
    unknown: bool = False  # a stopped run may have sent it: look it up before sending (email-only rows)
    in_body: bool = False  # ``encoded`` is the JSON itself (body mode), not its percent-encoding
    members: tuple[tuple[int, int], ...] = ()  # list memberships: the (row_nr, list_id) pairs it carries
    mapped: str | None = None  # the email whose id came from the destination's id map (may be stale)

    def json(self) -> str:
        return self.encoded if self.in_body else unquote(self.encoded)

    def as_query(self) -> Row:
        if not self.in_body:
            return self
        encoded = encode(self.encoded)
        return replace(self, encoded=encoded, size=len(encoded), in_body=False)


def query_value(rows: Sequence[Row]) -> str:
    """The percent-encoded ``prospects`` value of a batch: ``{"prospects":[row,...]}``."""
    return ENCODED_HEAD + ENCODED_SEP.join(r.encoded for r in rows) + ENCODED_TAIL


def body_value(rows: Sequence[Row]) -> str:
    """The ``prospects`` value of a batch for the POST body: ``{"prospects":[row,...]}`` as JSON."""
    return '{"prospects":[' + ",".join(r.json() for r in rows) + "]}"


def email_only(rows: pl.DataFrame) -> list[str | None]:
    """Per row, its email when the row has no id or fid (a send would create a prospect), else None."""
    if "email" not in rows.columns:
        return [None] * rows.height
    keyed = pl.lit(False)
    for key in ("id", "fid"):
        if key in rows.columns:
            keyed = keyed | (pl.col(key).is_not_null() & (pl.col(key).cast(pl.String) != ""))
    return rows.select(pl.when(~keyed).then(pl.col("email")).alias("e"))["e"].to_list()


def with_ids(rows: pl.DataFrame, found: dict[str, list[int]]) -> pl.DataFrame:
    """Give rows without an id the id of the prospect their email means (upsert_by_email; ``prospects.preferred``)."""
    lowest = {email: ids[-1] for email, ids in found.items()}
    match = pl.col("email").str.to_lowercase().replace_strict(lowest, default=None, return_dtype=pl.Int64)
    if "id" not in rows.columns:
        return rows.with_columns(match.alias("id")).select(ROW_NR, "id", pl.exclude(ROW_NR, "id"))
    return rows.with_columns(pl.coalesce("id", match).alias("id"))


def with_id(row: Row, prospect_id: int | None, email_only: str | None, mapped: str | None = None) -> Row:
    """The row's JSON going by ``prospect_id`` (None: without an id, so it creates its prospect)."""
    values = {k: v for k, v in orjson.loads(row.json()).items() if k != "id"}
    text = orjson.dumps(values if prospect_id is None else {"id": prospect_id, **values}).decode()
    encoded = encode(text)
    return Row(row.row_nr, text if row.in_body else encoded, len(encoded), email_only, in_body=row.in_body,
               mapped=mapped)  # fmt: skip


def by_occurrence(rows: pl.DataFrame) -> list[pl.DataFrame]:
    """upsert_by_email: the k-th row of an email goes in phase k, after the prospect exists."""
    if not rows.height:
        return [rows]
    occurrence = pl.col(ROW_NR).cum_count().over(pl.col("email").str.to_lowercase()) - 1
    ranked = rows.with_columns(occurrence.alias("_k"))
    return [ranked.filter(pl.col("_k") == k).drop("_k") for k in range(int(ranked["_k"].max() or 0) + 1)]


def _without_id(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.filter(pl.col("id").is_null()) if "id" in rows.columns else rows


class UpsertPath:
    """Sends batches of prospect rows; writes every row's fate into the ledger."""

    def __init__(
        self,
        config: ExportConfig,
        client: Client | None = None,
        ledger: Ledger | None = None,
        ids: KnownIds | None = None,
    ) -> None:
        self.config, self.client, self.ledger, self.ids = config, client, ledger, ids
        self.mapped: dict[int, str] = {}  # row_nr -> email, for rows whose id came from the id map
        self.ids_from_state = 0
        self.max_payload = config.max_payload  # the working bound, lowered on 414
        self.largest_ok = 0  # the largest batch size the server took
        self.refused: int | None = None  # the smallest batch size that got 414
        self.splits = 0
        self.lookups = 0
        self.emails_matched = 0
        self.in_body = config.payload_location == "body"
        self.body_refused: str | None = None  # why the job left body mode, if it did

    # planning (pure)

    def phases(self, checked: Validated) -> list[Phase]:
        if not self.config.upsert_by_email:
            return [Phase(checked.rows, checked.payloads)]
        out = []
        for rows in by_occurrence(checked.rows):
            payloads = checked.payloads.filter(pl.col(ROW_NR).is_in(rows[ROW_NR].implode()))
            emails = _without_id(rows)["email"].str.to_lowercase().n_unique() if rows.height else 0
            out.append(Phase(rows, payloads, prospects.lookup_calls_at_most(emails)))
        return out

    def count(self, phase: Phase) -> int:
        return plan(phase.payloads, self.config).calls

    def api_calls(self, calls: Sequence[Any]) -> int:
        return len(calls)

    def calls(self, phase: Phase) -> list[list[Row]]:
        payloads = phase.payloads
        emails = dict(zip(phase.rows[ROW_NR].to_list(), email_only(phase.rows), strict=True))
        sizes = payloads["size"].to_list()
        texts = payloads["json"].to_list() if self.in_body else encode_each(payloads["json"].to_list(), sizes)
        by_row = {
            r: Row(r, text, size, emails.get(r), in_body=self.in_body, mapped=self.mapped.get(r))
            for r, text, size in zip(payloads[ROW_NR].to_list(), texts, sizes, strict=True)
        }
        return [[by_row[r] for r in row_nrs] for row_nrs in plan(payloads, self.config).batches["row_nrs"].to_list()]

    # sending

    async def resolve(self, phase: Phase) -> Phase:
        if not self.config.upsert_by_email:
            return phase
        assert self.client is not None
        missing = _without_id(phase.rows)
        try:
            found = await self._lookup(missing) if missing.height else {}
        except (prospects.LookupFailed, RetriesExhausted) as exc:
            # never create a prospect because a lookup failed: those rows wait for a resume
            self._lookup_failed(missing[ROW_NR].to_list(), exc)
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
        map then keeps); and the emails the map answered (their ids may be stale)."""
        assert self.client is not None
        known = self.ids.known_ids(emails) if self.ids is not None and use_map else {}
        ask = [e for e in emails if e.strip().lower() not in known]
        found = await prospects.resolve_emails(self.client, ask) if ask else {}
        if self.ids is not None:
            self.ids.remember({email: self._pick(ids) for email, ids in found.items()})
        return {**{email: [pid] for email, pid in known.items()}, **found}, set(known)

    def _pick(self, ids: list[int]) -> int:
        """The id a row goes by: the prospect the email means (``prospects.preferred`` puts it last)."""
        return ids[-1]

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
        except (prospects.LookupFailed, RetriesExhausted) as exc:
            self._lookup_failed([row.row_nr for row in doubtful], exc)
            skip = {row.row_nr for row in doubtful}
            return [kept for batch in marked if (kept := [row for row in batch if row.row_nr not in skip])]
        return [[settled.get(row.row_nr, row) for row in batch] for batch in marked]

    def _lookup_failed(self, row_nrs: list[int], exc: Exception) -> None:
        """Rows whose email could not be looked up: reported for now (a resume tries them again)."""
        assert self.ledger is not None
        reason = exc.last.reason if isinstance(exc, RetriesExhausted) else str(exc)
        self.ledger.reject(
            row_nrs, None, f"not sent: the email lookup that must come first failed ({reason})", transient=True
        )

    def rows(self, call: list[Row]) -> list[int]:
        return [r.row_nr for r in call]

    async def send(self, call: list[Row]) -> int:
        """Send one planned batch; in query mode split first if a 414 lowered the bound since it was planned,
        or if the job left body mode. Returns its input rows."""
        done = len(self.rows(call))
        if not self.in_body:
            call = [row.as_query() for row in call]
            sizes = np.array([r.size for r in call], dtype=np.int64)
            if len(call) > 1 and batch_size(sizes) > self.max_payload:
                groups = partition(sizes, self.max_payload)
                for g in range(int(groups[-1]) + 1):
                    await self._send([r for r, b in zip(call, groups, strict=True) if b == g])
                return done
        await self._send(call)
        return done

    async def _send(self, rows: list[Row]) -> None:
        assert self.client is not None and self.ledger is not None, "a planning-only path cannot send"
        current = list(rows)

        async def make(unknown: bool) -> Request:
            # the last attempt (or a stopped run) may have created prospects: find them before sending again
            doubtful = [i for i, r in enumerate(current) if r.email_only is not None and (unknown or r.unknown)]
            if doubtful:
                settled = await self._settle([current[i] for i in doubtful])
                for i, row in zip(doubtful, settled, strict=True):
                    current[i] = row
            if current[0].in_body:
                return prospects.batch_upsert_in_body(body_value(current))
            return prospects.batch_upsert(query_value(current))

        await self.ledger.sending(self.rows(current))
        await self._attempt(current, make)

    async def _attempt(self, current: list[Row], make: Callable[[bool], Awaitable[Request]]) -> None:
        assert self.client is not None and self.ledger is not None
        try:
            reply = await self.client.call(make)
        except UriTooLong:
            await self._split(current)
            return
        except RetriesExhausted as exc:
            self.ledger.reject(
                self.rows(current),
                exc.last.code,
                f"gave up after {self.config.maximum_retries} retries: {exc.last.reason}",
                transient=True,
            )
            return
        except prospects.LookupFailed as exc:
            self._lookup_failed(self.rows(current), exc)
            return
        except DailyLimitReached as exc:
            self.ledger.not_sent(self.rows(current), exc.code, f"{exc}: not sent (resume later)")
            raise
        if current[0].in_body and reply.code in BODY_REFUSED:
            await self._leave_body_mode(current, reply.code, reply.message)
            return
        if reply.status not in (200, 201):
            raise ApiError(
                f"batchUpsert refused the call: Pardot error {reply.code} ({reply.message})", reply.code, reply.status
            )
        if not current[0].in_body:
            self.largest_ok = max(self.largest_ok, batch_size(np.array([r.size for r in current], dtype=np.int64)))
            if self.refused is not None:
                self._bisect()
        errors = prospects.row_errors(reply)
        if prospects.call_failed(reply) and not errors:
            self.ledger.reject(
                self.rows(current), reply.code, f"Pardot answered stat=fail: {reply.message or reply.body}"
            )
            return
        await self._outcomes(current, errors)

    async def _outcomes(self, current: list[Row], errors: dict[int, str]) -> None:
        """Each row of an answered call: applied, or refused with Pardot's message."""
        assert self.ledger is not None
        stale = []
        for index, row in enumerate(current):
            if index in errors and errors[index] == INVALID_PROSPECT and row.mapped:
                stale.append(row)  # the id map's id is gone from Pardot: look the email up again
            elif index in errors:
                self.ledger.reject([row.row_nr], None, errors[index])
            else:
                self.ledger.ok([row.row_nr])
        if stale:
            await self._send(await self._relook(stale))

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
            out.append(with_id(row, self._pick(ids) if ids else None, None if ids else row.mapped))
        return out

    async def _leave_body_mode(self, current: list[Row], code: int | None, message: str | None) -> None:
        """Pardot said the body's payload is missing or unreadable (71 or 13) for valid rows: this account
        takes it only in the query string. Switch the job (once, with a warning) and resend this call."""
        if self.in_body:
            self.in_body = False
            self.body_refused = f"error {code} ({message})"
            text = (
                f"Pardot refused prospects in the POST body (error {code}: {message}); this job now sends them "
                "in the query string (payload_location = query)"
            )
            log.warning(text)
            warnings.warn(text, stacklevel=2)
        await self.send(current)

    async def _split(self, current: list[Row]) -> None:
        """HTTP 414: a lone row is rejected; a batch is halved and the working bound lowered."""
        assert self.ledger is not None
        if len(current) == 1:
            self.ledger.reject(
                self.rows(current),
                414,
                "HTTP 414 Request-URI Too Long: the row alone is too long for this Pardot server's URI limit",
            )
            return
        size = batch_size(np.array([r.size for r in current], dtype=np.int64))
        self.refused = size if self.refused is None else min(self.refused, size)
        self._bisect()
        self.splits += 1
        half = len(current) // 2
        await self._send(current[:half])
        await self._send(current[half:])

    def _bisect(self) -> None:
        """The working bound after a 414: halfway between the largest size taken and the smallest refused,
        so it falls fast and climbs back as batches go through (O(log) wasted calls)."""
        assert self.refused is not None
        middle = (self.largest_ok + self.refused) // 2
        self.max_payload = min(self.config.max_payload, max(self.largest_ok, middle), self.refused - 1)

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
            "payload_location": "body" if self.in_body else "query",
            "uri_splits": self.splits,
            "lookups": self.lookups,
            "final_max_payload": self.max_payload,
        }
        if self.config.upsert_by_email:
            out["emails_matched"] = self.emails_matched
        if self.ids is not None:
            out["ids_from_state"] = self.ids_from_state
        if self.body_refused:
            out["body_mode_refused"] = self.body_refused
        return out
