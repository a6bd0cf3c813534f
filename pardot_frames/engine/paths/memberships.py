"""List memberships, one v4 create or delete per call; never sets opted_out (it cannot be reverted)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pardot_frames.engine.paths.base import Phase
from pardot_frames.pardot import memberships
from pardot_frames.pardot.answers import DailyLimitReached, RetriesExhausted
from pardot_frames.prepare.validation import Validated

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.ledger import Ledger
    from pardot_frames.pardot.client import Client

Membership = tuple[int, int, int]  # row_nr, list_id, prospect_id


class MembershipPath:
    """Creates or deletes one membership per call."""

    def __init__(self, config: ExportConfig, client: Client | None = None, ledger: Ledger | None = None) -> None:
        self.config, self.client, self.ledger = config, client, ledger
        self.operation = "delete" if config.list_membership_operation == "delete" else "create"

    def phases(self, checked: Validated) -> list[Phase]:
        return [Phase(checked.rows, checked.payloads)]

    def calls(self, phase: Phase) -> Sequence[Membership]:
        return list(phase.payloads.select("row_nr", "list_id", "prospect_id").iter_rows())

    def count(self, phase: Phase) -> int:
        return phase.payloads.height

    def api_calls(self, calls: Sequence[Any]) -> int:
        return len(calls)

    async def resolve(self, phase: Phase) -> Phase:
        return phase

    async def settle(self, calls: Sequence[Any], unknown: set[int]) -> Sequence[Any]:
        return calls  # repeating a create or a delete is safe (58 and 109 count as done)

    def rows(self, call: Membership) -> list[int]:
        return [call[0]]

    async def send(self, call: Membership) -> int:
        assert self.client is not None and self.ledger is not None, "a planning-only path cannot send"
        row_nr, list_id, prospect_id = call
        await self.ledger.sending([row_nr])
        try:  # repeating a create or a delete is safe (58 and 109 count as done)
            reply = await self.client.repeat(memberships.change(self.operation, list_id, prospect_id))
        except RetriesExhausted as exc:
            message = f"gave up after {self.config.maximum_retries} retries: {exc.last.reason}"
            self.ledger.reject([row_nr], exc.last.code, message, transient=True)
            return 1
        except DailyLimitReached as exc:
            self.ledger.not_sent([row_nr], exc.code, f"{exc}: not sent (resume later)")
            raise
        done, note = memberships.outcome(self.operation, reply)
        if done:
            self.ledger.ok([row_nr], note)
        else:
            self.ledger.reject([row_nr], reply.code, reply.message or f"HTTP {reply.status}")
        return 1

    def figures(self) -> dict[str, Any]:
        return {}

    async def finish(self, stopping: Callable[[], object]) -> None:
        """Nothing waits: every call went when its chunk did."""

    def abandon(self, code: int | None, reason: str) -> None:
        """Nothing is held between chunks."""
