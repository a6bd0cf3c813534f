"""Sending prospect batches: batchUpsert with ``prospects`` in the query string, per-row errors mapped
back to input rows, HTTP 414 handled by splitting, and resends that cannot create duplicates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import numpy as np
import orjson

from .batching import batch_size, partition
from .config import ExportConfig
from .errors import ApiError
from .lookup import V4, resolve_emails
from .payload import encode
from .results import Ledger
from .transport import DailyLimitReached, Reply, Request, RetriesExhausted, Transport, UriTooLong

PATH = f"{V4}/batchUpsert?format=json&prospects="


@dataclass
class Row:
    """One planned prospect row: its input number, JSON, encoded size and, if it has no id/fid, its email."""

    row_nr: int
    json: str
    size: int
    email_only: str | None
    unknown: bool = False  # a stopped run may have sent it: look it up before sending (email-only rows)


def row_errors(reply: Reply) -> dict[int, str]:
    """Per-row errors keyed by 0-based index, from every shape seen: {"1": "msg"}, [{"index":..}], ["msg"]."""
    body = reply.body if isinstance(reply.body, dict) else {}
    errors = body.get("errors")
    out: dict[int, str] = {}
    if isinstance(errors, dict):
        for key, message in errors.items():
            if str(key).lstrip("-").isdigit():
                out[int(key)] = message if isinstance(message, str) else orjson.dumps(message).decode()
    elif isinstance(errors, list):
        for position, item in enumerate(errors):
            if isinstance(item, dict):
                index = item.get("index", item.get("@attributes", {}).get("index", position))
                out[int(index)] = str(item.get("message", item.get("err", item)))
            elif item:
                out[position] = str(item)
    return out


class ProspectSender:
    """Sends batches of rows; writes every row's fate into the ledger."""

    def __init__(self, transport: Transport, config: ExportConfig, ledger: Ledger) -> None:
        self.transport = transport
        self.config = config
        self.ledger = ledger
        self.max_payload = config.max_payload  # the working bound, lowered on 414
        self.largest_ok = 0  # the largest batch size the server took
        self.refused: int | None = None  # the smallest batch size that got 414
        self.splits = 0
        self.lookups = 0

    async def send(self, rows: list[Row]) -> None:
        """Send one planned batch (split first if a 414 lowered the bound since it was planned)."""
        sizes = np.array([r.size for r in rows], dtype=np.int64)
        if len(rows) > 1 and batch_size(sizes) > self.max_payload:
            groups = partition(sizes, self.max_payload)
            for g in range(int(groups[-1]) + 1):
                await self._send([r for r, b in zip(rows, groups, strict=True) if b == g])
            return
        await self._send(rows)

    async def _send(self, rows: list[Row]) -> None:
        current = list(rows)

        async def make(unknown: bool) -> Request:
            # the last attempt (or a stopped run) may have created prospects: find them before sending again
            doubtful = [i for i, r in enumerate(current) if r.email_only is not None and (unknown or r.unknown)]
            if doubtful:
                settled = await self.settle([current[i] for i in doubtful])
                for i, row in zip(doubtful, settled, strict=True):
                    current[i] = row
            value = '{"prospects":[' + ",".join(r.json for r in current) + "]}"
            return Request("POST", PATH + encode(value))

        self.ledger.sending([r.row_nr for r in current])
        try:
            await self._attempt(current, make)
        finally:
            self.ledger.flush()

    async def _attempt(self, current: list[Row], make: Callable[[bool], Awaitable[Request]]) -> None:
        try:
            reply = await self.transport.call(make)
        except UriTooLong:
            size = batch_size(np.array([r.size for r in current], dtype=np.int64))
            if len(current) == 1:
                self.ledger.reject(
                    [current[0].row_nr],
                    414,
                    "HTTP 414 Request-URI Too Long: the row alone is too long for this Pardot server's URI limit",
                )
                return
            # bisect between the largest size that went through and this one: O(log) wasted calls
            self.refused = size if self.refused is None else min(self.refused, size)
            self._bisect()
            self.splits += 1
            half = len(current) // 2
            await self._send(current[:half])
            await self._send(current[half:])
            return
        except RetriesExhausted as exc:
            self.ledger.reject(
                [r.row_nr for r in current],
                exc.last.code,
                f"gave up after {self.config.maximum_retries} retries: {exc.last.reason}",
                transient=True,
            )
            return
        except DailyLimitReached:
            self.ledger.not_sent([r.row_nr for r in current], 122, "Daily API rate limit met: not sent (resume later)")
            raise
        if reply.status not in (200, 201):
            raise ApiError(
                f"batchUpsert refused the call: Pardot error {reply.code} ({reply.message})", reply.code, reply.status
            )
        self.largest_ok = max(self.largest_ok, batch_size(np.array([r.size for r in current], dtype=np.int64)))
        if self.refused is not None:
            self._bisect()
        errors = row_errors(reply)
        failed_call = isinstance(reply.body, dict) and reply.body.get("@attributes", {}).get("stat") == "fail"
        if failed_call and not errors:
            self.ledger.reject(
                [r.row_nr for r in current], reply.code, f"Pardot answered stat=fail: {reply.message or reply.body}"
            )
            return
        for index, row in enumerate(current):
            if index in errors:
                self.ledger.reject([row.row_nr], None, errors[index])
            else:
                self.ledger.ok([row.row_nr])

    def _bisect(self) -> None:
        """The working bound after a 414: halfway between the largest size taken and the smallest refused,
        so it falls fast and climbs back as batches go through (O(log) wasted calls)."""
        assert self.refused is not None
        middle = (self.largest_ok + self.refused) // 2
        self.max_payload = min(self.config.max_payload, max(self.largest_ok, middle), self.refused - 1)

    async def settle(self, rows: list[Row]) -> list[Row]:
        """Rows an earlier send may have applied: email-only ones whose email Pardot now knows go by id
        (the newest match: the one that send created); the rest go as they are, no longer in doubt.

        One ``resolve_emails`` for all of them, which takes the cheaper of listing the account and
        reading each email.
        """
        before = self.transport.stats.api_calls
        found = await resolve_emails(self.transport, [r.email_only for r in rows if r.email_only])
        self.lookups += self.transport.stats.api_calls - before
        out = []
        for row in rows:
            ids = found.get((row.email_only or "").strip().lower())
            if not ids:
                out.append(replace(row, unknown=False))
                continue
            text = orjson.dumps({"id": ids[-1], **orjson.loads(row.json)}).decode()
            out.append(Row(row.row_nr, text, len(encode(text)), None))
        return out
