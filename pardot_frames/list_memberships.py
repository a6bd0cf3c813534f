"""Sending list memberships: one v4 call per row; 58 on create and 109 on delete count as done."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .config import ExportConfig
from .results import Ledger
from .transport import DailyLimitReached, Request, RetriesExhausted, Transport

BASE = "/api/listMembership/version/4/do"
ALREADY_MEMBER = "already a member (error 58), counted as done"
ALREADY_ABSENT = "not a member (error 109), counted as deleted"


class MembershipSender:
    """Creates or deletes one membership per call; never sets opted_out (it cannot be reverted)."""

    def __init__(self, transport: Transport, config: ExportConfig, ledger: Ledger) -> None:
        self.transport, self.config, self.ledger = transport, config, ledger
        self.operation = "create" if config.list_membership_operation == "upsert" else "delete"

    async def send(self, row_nr: int, list_id: int, prospect_id: int) -> None:
        path = f"{BASE}/{self.operation}/list_id/{list_id}/prospect_id/{prospect_id}?format=json"

        async def make(_unknown: bool) -> Request:
            return Request("POST", path)  # repeating either operation is safe: see the codes below

        self.ledger.sending([row_nr])
        try:
            await self._attempt(row_nr, make)
        finally:
            self.ledger.flush()

    async def _attempt(self, row_nr: int, make: Callable[[bool], Awaitable[Request]]) -> None:
        try:
            reply = await self.transport.call(make)
        except RetriesExhausted as exc:
            message = f"gave up after {self.config.maximum_retries} retries: {exc.last.reason}"
            self.ledger.reject([row_nr], exc.last.code, message, transient=True)
            return
        except DailyLimitReached:
            self.ledger.not_sent([row_nr], 122, "Daily API rate limit met: not sent (resume later)")
            raise
        if reply.code is None and reply.status in (200, 201, 204):
            self.ledger.ok([row_nr])
        elif reply.code == 58 and self.operation == "create":
            self.ledger.ok([row_nr], ALREADY_MEMBER)
        elif reply.code == 109 and self.operation == "delete":
            self.ledger.ok([row_nr], ALREADY_ABSENT)
        else:
            self.ledger.reject([row_nr], reply.code, reply.message or f"HTTP {reply.status}")
