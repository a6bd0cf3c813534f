"""List memberships through batchUpsert: one row per prospect, ``{"id": P, "list_L": 1, ...}`` (0 to
delete), up to 50 prospects a call, so memberships cost about one call per 50 prospects instead of one
call each. Only ids travel: no field of the prospect changes.

Outcomes stay per membership row. A row Pardot refuses as "Invalid prospect ID" fails every membership
it carries; a refusal that cannot say which list failed ("Invalid list ID" on a row with several lists)
is settled with one v4 call per membership, so each membership row gets its own outcome. Adding a
member twice, or removing a non-member, is done (Pardot ignores redundant changes).
"""

from __future__ import annotations

from typing import Any

from pardot_frames.engine.paths.base import Phase
from pardot_frames.engine.paths.upsert import Row, UpsertPath
from pardot_frames.pardot import memberships
from pardot_frames.pardot.answers import RetriesExhausted
from pardot_frames.prepare.batching import pack
from pardot_frames.prepare.payload import encode_each, membership_rows
from pardot_frames.prepare.validation import Validated

INVALID_PROSPECT = "Invalid prospect ID"


class MembershipBatchPath(UpsertPath):
    """The batchUpsert machinery (body or query mode, 414 splits, retries), with membership outcomes."""

    single_calls = 0

    def phases(self, checked: Validated) -> list[Phase]:
        return [Phase(checked.rows, checked.payloads)]

    def count(self, phase: Phase) -> int:
        return pack(membership_rows(phase.payloads, self.config), self.config, "prospect_id").height

    def calls(self, phase: Phase) -> list[list[Row]]:
        grouped = membership_rows(phase.payloads, self.config)
        sizes = grouped["size"].to_list()
        texts = grouped["json"].to_list() if self.in_body else encode_each(grouped["json"].to_list(), sizes)
        rows = {
            pid: Row(pid, text, size, None, in_body=self.in_body, members=tuple(zip(nrs, lists, strict=True)))
            for pid, text, size, nrs, lists in zip(
                grouped["prospect_id"].to_list(), texts, sizes, grouped["row_nrs"].to_list(),
                grouped["list_ids"].to_list(), strict=True,
            )
        }  # fmt: skip
        batches = pack(grouped, self.config, "prospect_id")["row_nrs"].to_list()
        return [[rows[pid] for pid in batch] for batch in batches]

    async def resolve(self, phase: Phase) -> Phase:
        return phase

    async def settle(self, calls: Any, unknown: set[int]) -> Any:
        return calls  # resending a membership change is safe

    def rows(self, call: list[Row]) -> list[int]:
        return [nr for row in call for nr, _ in row.members]

    async def _outcomes(self, current: list[Row], errors: dict[int, str]) -> None:
        assert self.ledger is not None
        for index, row in enumerate(current):
            members = [nr for nr, _ in row.members]
            if index not in errors:
                self.ledger.ok(members)
            elif errors[index] == INVALID_PROSPECT or len({lid for _, lid in row.members}) == 1:
                self.ledger.reject(members, None, errors[index])
            else:  # which of its lists failed? one v4 call per membership says
                await self._one_by_one(row)

    async def _one_by_one(self, row: Row) -> None:
        assert self.client is not None and self.ledger is not None
        operation = "delete" if self.config.list_membership_operation == "delete" else "create"
        for row_nr, list_id in row.members:
            self.single_calls += 1
            try:
                reply = await self.client.repeat(memberships.change(operation, list_id, row.row_nr))
            except RetriesExhausted as exc:
                message = f"gave up after {self.config.maximum_retries} retries: {exc.last.reason}"
                self.ledger.reject([row_nr], exc.last.code, message, transient=True)
                continue
            done, note = memberships.outcome(operation, reply)
            if done:
                self.ledger.ok([row_nr], note)
            else:
                self.ledger.reject([row_nr], reply.code, reply.message or f"HTTP {reply.status}")

    def figures(self) -> dict[str, Any]:
        return {
            "payload_location": "body" if self.in_body else "query",
            "uri_splits": self.splits,
            "single_membership_calls": self.single_calls,
        }
