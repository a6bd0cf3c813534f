"""List memberships, one v4 create or delete per call; never sets opted_out (it cannot be reverted)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pardot_frames._control import DailyLimitReached
from pardot_frames.engine.send.base import Phase
from pardot_frames.errors import RetriesExhausted
from pardot_frames.pardot import membership_calls
from pardot_frames.prepare.validation import Validated

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.send.ledger import Ledger
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
        assert self.ledger is not None, "a planning-only path cannot send"
        await self.ledger.sending([call[0]])
        await change_one(self.client, self.ledger, self.operation, call)
        return 1

    def figures(self) -> dict[str, Any]:
        return {}

    async def finish(self, stopping: Callable[[], object]) -> None:
        """Nothing waits: every call went when its chunk did."""

    def abandon(self, code: int | None, reason: str) -> None:
        """Nothing is held between chunks."""


async def change_one(client: Client | None, ledger: Ledger, operation: str, call: Membership) -> None:
    """One membership created or deleted (repeating either is safe: 58 and 109 count as done); its outcome."""
    assert client is not None, "a planning-only path cannot send"
    row_nr, list_id, prospect_id = call
    try:
        reply = await client.repeat(membership_calls.change(operation, list_id, prospect_id))
    except RetriesExhausted as exc:
        return ledger.reject([row_nr], exc.code, str(exc), transient=True)
    except DailyLimitReached as exc:
        ledger.not_sent([row_nr], exc.code, f"{exc}: not sent (resume later)")
        raise
    done, note = membership_calls.outcome(operation, reply)
    if done:
        ledger.ok([row_nr], note)
    else:
        ledger.reject([row_nr], reply.code, reply.message or f"HTTP {reply.status}")
