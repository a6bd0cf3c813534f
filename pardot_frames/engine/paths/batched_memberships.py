"""List memberships through batchUpsert: one row per prospect, ``{"id": P, "list_L": 1, ...}`` (0 to
delete), up to 50 prospects a call, so memberships cost about one call per 50 prospects instead of one
call each. Only ids travel: no field of the prospect changes.

Outcomes stay per membership row. A row Pardot refuses as "Invalid prospect ID" fails every membership
it carries; a refusal that cannot say which list failed ("Invalid list ID" on a row with several lists)
is settled with one v4 call per membership, so each membership row gets its own outcome. Adding a
member twice, or removing a non-member, is done (Pardot ignores redundant changes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pardot_frames.engine.paths.base import Phase
from pardot_frames.engine.paths.memberships import change_one
from pardot_frames.engine.paths.sender import BatchSender, Wire
from pardot_frames.pardot.answers import row_error_code
from pardot_frames.prepare.batching import pack
from pardot_frames.prepare.payload import encode_each, membership_rows
from pardot_frames.prepare.validation import Validated

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.ledger import Ledger
    from pardot_frames.pardot.client import Client

INVALID_PROSPECT = "Invalid prospect ID"


@dataclass(frozen=True, slots=True)
class Member:
    """One batchUpsert row of memberships: the prospect, how it travels, the (row_nr, list_id) pairs it carries."""

    prospect_id: int
    wire: Wire
    members: tuple[tuple[int, int], ...]


class MembershipBatchPath:
    """List memberships through the batchUpsert sender (body or query mode, 414 splits, retries)."""

    def __init__(self, config: ExportConfig, client: Client | None = None, ledger: Ledger | None = None) -> None:
        self.config, self.client, self.ledger = config, client, ledger
        self.sender: BatchSender[Member] = BatchSender(config, client, ledger, self)
        self.operation = "delete" if config.list_membership_operation == "delete" else "create"
        self.single_calls = 0

    def phases(self, checked: Validated) -> list[Phase]:
        return [Phase(checked.rows, checked.payloads)]

    def count(self, phase: Phase) -> int:
        return pack(membership_rows(phase.payloads, self.config), self.config, "prospect_id").height

    def calls(self, phase: Phase) -> list[list[Member]]:
        grouped = membership_rows(phase.payloads, self.config)
        sizes, in_body = grouped["size"].to_list(), self.sender.in_body
        texts = grouped["json"].to_list() if in_body else encode_each(grouped["json"].to_list(), sizes)
        rows = {
            pid: Member(pid, Wire(text, size, in_body), tuple(zip(nrs, lists, strict=True)))
            for pid, text, size, nrs, lists in zip(
                grouped["prospect_id"].to_list(), texts, sizes, grouped["row_nrs"].to_list(),
                grouped["list_ids"].to_list(), strict=True,
            )
        }  # fmt: skip
        batches = pack(grouped, self.config, "prospect_id")["row_nrs"].to_list()
        return [[rows[pid] for pid in batch] for batch in batches]

    def rows(self, call: Sequence[Member]) -> list[int]:
        return [nr for row in call for nr, _ in row.members]

    async def resolve(self, phase: Phase) -> Phase:
        return phase

    async def settle(self, calls: Any, unknown: set[int]) -> Any:
        return calls  # resending a membership change is safe

    async def send(self, call: list[Member]) -> int:
        await self.sender.send(call)
        return len(self.rows(call))

    async def before_attempt(self, call: list[Member], unknown: bool) -> list[Member]:
        return call  # repeating a membership change is safe

    def held_back(self, row_nrs: list[int], exc: Exception) -> None:
        raise AssertionError("memberships look nothing up")  # pragma: no cover

    async def outcomes(self, call: list[Member], errors: dict[int, str]) -> None:
        assert self.ledger is not None
        for index, row in enumerate(call):
            members = [nr for nr, _ in row.members]
            if index not in errors:
                self.ledger.ok(members)
            elif errors[index] == INVALID_PROSPECT or len({lid for _, lid in row.members}) == 1:
                self.ledger.reject(members, row_error_code(errors[index]), errors[index])
            else:  # which of its lists failed? one v4 call per membership says
                for row_nr, list_id in row.members:
                    self.single_calls += 1
                    await change_one(self.client, self.ledger, self.operation, (row_nr, list_id, row.prospect_id))

    async def finish(self, stopping: Callable[[], object]) -> None:
        """Nothing waits: every call went when its chunk did."""

    def abandon(self, code: int | None, reason: str) -> None:
        """Nothing is held between chunks."""

    def figures(self) -> dict[str, Any]:
        return {**self.sender.figures(), "single_membership_calls": self.single_calls}
