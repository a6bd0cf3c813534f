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

from pardot_frames.engine.send.base import Phase, Planned
from pardot_frames.engine.send.batch_sender import BatchSender, Wire
from pardot_frames.engine.send.membership_pairs import change_one
from pardot_frames.pardot.answers import row_error_code
from pardot_frames.prepare.batching import pack
from pardot_frames.prepare.payload import membership_rows
from pardot_frames.prepare.validation import Validated

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.send.ledger import Ledger
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

    def calls(self, phase: Phase) -> Planned[Member]:
        grouped = membership_rows(phase.payloads, self.config)
        in_body, sizes, texts = self.sender.in_body, grouped["size"].to_list(), grouped["json"].to_list()
        ids, row_nrs, list_ids = (grouped[c].to_list() for c in ("prospect_id", "row_nrs", "list_ids"))

        def build(start: int, end: int) -> list[Member]:
            return [
                Member(ids[i], Wire(texts[i], sizes[i], in_body), tuple(zip(row_nrs[i], list_ids[i], strict=True)))
                for i in range(start, end)
            ]

        def rows(start: int, end: int) -> list[int]:
            return [nr for nrs in row_nrs[start:end] for nr in nrs]

        return Planned(pack(grouped, self.config, "prospect_id")["rows"].to_list(), build, rows)

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
