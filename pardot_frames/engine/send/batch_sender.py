"""One batchUpsert sender, used by every path whose rows go through batchUpsert (prospects, batched list
memberships, the rows an import cannot carry).

In the query string (``payload_location = "query"``): batches packed within 50 rows and ``max_payload``
characters, HTTP 414 (or real Pardot's HTML 400) handled by splitting (the working bound bisects between
the largest size taken and the smallest refused). In the POST body (``"body"``): 50 rows a call whatever
their size, in a multipart/form-data part ``prospects``; an account that answers 71 or 13 to that
switches the job to the query string once, with a warning.

The sender knows calls and their answers; what a row is, and what an answer means for it, is its
owner's (``Owner``): the owner maps per-row errors to input rows and may rewrite rows before an attempt.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import numpy as np

from pardot_frames._control import DailyLimitReached, LookupFailed, UriTooLong
from pardot_frames.errors import ApiError, PardotFramesWarning, RetriesExhausted
from pardot_frames.pardot import prospects
from pardot_frames.prepare.batching import batch_size, partition
from pardot_frames.prepare.payload import encode

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.send.ledger import Ledger
    from pardot_frames.pardot.answers import Reply
    from pardot_frames.pardot.client import Client
    from pardot_frames.pardot.transport import Request

log = logging.getLogger("pardot_frames")
BODY_REFUSED = frozenset({71, 13})  # the payload is missing or unreadable: the body did not carry it


@dataclass(frozen=True, slots=True)
class Wire:
    """One batchUpsert row as it travels: its JSON, its percent-encoded size (what it adds to a query
    string) and where it goes. Query mode encodes a call's rows together when the call is built, so no
    row is encoded before its call goes out."""

    text: str
    size: int
    in_body: bool = False

    def as_query(self) -> Wire:
        return self if not self.in_body else Wire(self.text, self.size)


class Item(Protocol):
    """What the sender needs of a row: how it travels (``wire``); owners add their own fields."""

    @property
    def wire(self) -> Wire: ...


R = TypeVar("R", bound=Item)


class Owner(Protocol[R]):
    """The path a sender works for: the input rows of a call, each attempt's rows, what answers mean."""

    def rows(self, call: Sequence[R]) -> list[int]: ...

    async def before_attempt(self, call: list[R], unknown: bool) -> list[R]: ...

    async def outcomes(self, call: list[R], errors: dict[int, str]) -> None: ...

    def held_back(self, row_nrs: list[int], exc: Exception) -> None: ...


def query_value(wires: Sequence[Wire]) -> str:
    """The percent-encoded ``prospects`` value of a batch: ``{"prospects":[row,...]}``."""
    return encode(body_value(wires))


def body_value(wires: Sequence[Wire]) -> str:
    """The ``prospects`` value of a batch for the POST body: ``{"prospects":[row,...]}`` as JSON."""
    return '{"prospects":[' + ",".join(w.text for w in wires) + "]}"


def request(call: Sequence[Item]) -> Request:
    wires = [item.wire for item in call]
    if wires[0].in_body:
        return prospects.batch_upsert_in_body(body_value(wires))
    return prospects.batch_upsert(query_value(wires))


def in_query(item: R) -> R:
    """The item travelling in the query string."""
    return item if not item.wire.in_body else replace(item, wire=item.wire.as_query())  # type: ignore[type-var]


def size_of(call: Sequence[Item]) -> int:
    return batch_size(np.array([item.wire.size for item in call], dtype=np.int64))


class BatchSender(Generic[R]):
    """Sends planned batches through batchUpsert for its ``owner``; every row's fate goes into the ledger."""

    def __init__(self, config: ExportConfig, client: Client | None, ledger: Ledger | None, owner: Owner[R]) -> None:
        self.config, self.client, self.ledger, self.owner = config, client, ledger, owner
        self.max_payload = config.max_payload  # the working bound, lowered on 414
        self.largest_ok = 0  # the largest batch size the server took
        self.refused: int | None = None  # the smallest batch size that got 414
        self.splits = 0
        self.in_body = config.payload_location == "body"
        self.body_refused: str | None = None  # why the job left body mode, if it did

    async def send(self, call: Sequence[R]) -> None:
        """Send one planned batch; in query mode split first if a 414 lowered the bound since it was planned,
        or if the job left body mode."""
        call = list(call)
        if not self.in_body:
            call = [in_query(item) for item in call]
            if len(call) > 1 and size_of(call) > self.max_payload:
                groups = partition(np.array([i.wire.size for i in call], dtype=np.int64), self.max_payload)
                for g in range(int(groups[-1]) + 1):
                    await self.send_now([r for r, b in zip(call, groups, strict=True) if b == g])
                return
        await self.send_now(call)

    async def send_now(self, call: list[R]) -> None:
        """Send a batch as it is: its rows are written in flight first."""
        assert self.client is not None and self.ledger is not None, "a planning-only path cannot send"
        await self.ledger.sending(self.owner.rows(call))
        current = list(call)

        async def make(unknown: bool) -> Request:
            current[:] = await self.owner.before_attempt(current, unknown)
            return request(current)

        try:
            reply = await self.client.call(make)
        except UriTooLong:
            return await self._split(current)
        except RetriesExhausted as exc:
            return self.ledger.reject(self.owner.rows(current), exc.code, str(exc), transient=True)
        except LookupFailed as exc:
            return self.owner.held_back(self.owner.rows(current), exc)
        except DailyLimitReached as exc:
            self.ledger.not_sent(self.owner.rows(current), exc.code, f"{exc}: not sent (resume later)")
            raise
        await self._answered(current, reply)

    async def _answered(self, current: list[R], reply: Reply) -> None:
        assert self.ledger is not None
        if current[0].wire.in_body and reply.code in BODY_REFUSED:
            return await self._leave_body_mode(current, reply.code, reply.message)
        if reply.status not in (200, 201):
            raise ApiError(
                f"batchUpsert refused the call: Pardot error {reply.code} ({reply.message})", reply.code, reply.status
            )
        if not current[0].wire.in_body:
            self.largest_ok = max(self.largest_ok, size_of(current))
            if self.refused is not None:
                self._bisect()
        errors = prospects.row_errors(reply)
        if prospects.call_failed(reply) and not errors:
            message = f"Pardot answered stat=fail: {reply.message or reply.body}"
            return self.ledger.reject(self.owner.rows(current), reply.code, message)
        await self.owner.outcomes(current, errors)

    async def _leave_body_mode(self, current: list[R], code: int | None, message: str | None) -> None:
        """Pardot said the body's payload is missing or unreadable (71 or 13) for valid rows: this account
        takes it only in the query string. Switch the job (once, with a warning) and resend this call."""
        if self.in_body:
            self.in_body = False
            self.body_refused = f"error {code} ({message})"
            text = (
                f"Pardot refused prospects in the POST body (error {code}: {message}); this job now sends them "
                "in the query string (payload_location = query)"
            )
            warnings.warn(text, PardotFramesWarning, stacklevel=2)
        await self.send(current)

    async def _split(self, current: list[R]) -> None:
        """HTTP 414: a lone row is rejected; a batch is halved and the working bound lowered."""
        assert self.ledger is not None
        if len(current) == 1:
            message = "HTTP 414 Request-URI Too Long: the row alone is too long for this Pardot server's URI limit"
            return self.ledger.reject(self.owner.rows(current), 414, message)
        size = size_of(current)
        self.refused = size if self.refused is None else min(self.refused, size)
        self._bisect()
        self.splits += 1
        half = len(current) // 2
        await self.send_now(current[:half])
        await self.send_now(current[half:])

    def _bisect(self) -> None:
        """The working bound after a 414: halfway between the largest size taken and the smallest refused,
        so it falls fast and climbs back as batches go through (O(log) wasted calls)."""
        assert self.refused is not None
        middle = (self.largest_ok + self.refused) // 2
        self.max_payload = min(self.config.max_payload, max(self.largest_ok, middle), self.refused - 1)

    def figures(self) -> dict[str, object]:
        out: dict[str, object] = {
            "payload_location": "body" if self.in_body else "query",
            "uri_splits": self.splits,
        }
        if self.body_refused:
            out["body_mode_refused"] = self.body_refused
        return out
