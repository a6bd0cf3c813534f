"""List memberships in Pardot v4: one create or delete per (list, prospect) pair.

Repeating either is safe: 58 on create (already a member) and 109 on delete (not a member) mean
the membership is already as asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pardot_frames.errors import ReadFailed
from pardot_frames.pardot import endpoints
from pardot_frames.pardot.answers import Reply, records
from pardot_frames.pardot.paging import forward
from pardot_frames.pardot.transport import Request

if TYPE_CHECKING:
    from pardot_frames.pardot.client import Client


ALREADY_MEMBER = "already a member (error 58), counted as done"
ALREADY_ABSENT = "not a member (error 109), counted as deleted"


def change(operation: str, list_id: int, prospect_id: int) -> Request:
    """``create`` or ``delete`` one membership."""
    return Request("POST", endpoints.membership(operation, list_id, prospect_id))


def outcome(operation: str, reply: Reply) -> tuple[bool, str | None]:
    """(done, note) for a membership answer; not done means Pardot refused the row."""
    if reply.code is None and reply.status in (200, 201, 204):
        return True, None
    if reply.code == 58 and operation == "create":
        return True, ALREADY_MEMBER
    if reply.code == 109 and operation == "delete":
        return True, ALREADY_ABSENT
    return False, None


async def members(client: Client, list_id: int) -> set[int]:
    """The prospect ids of every member of a list, a page of 200 memberships a call (by membership id)."""
    found: set[int] = set()
    after: int | None = None
    pages = 0
    while True:
        reply = await client.get(endpoints.membership_query(list_id, after))
        result = reply.body.get("result") if isinstance(reply.body, dict) else None
        if reply.code is not None or not isinstance(result, dict):
            reason = f"Pardot error {reply.code} ({reply.message})" if reply.code else "no result in the answer"
            raise ReadFailed(f"reading the members of list {list_id} failed: {reason}")
        page = records(result.get("list_membership"))
        found.update(int(r["prospect_id"]) for r in page)
        if len(page) < endpoints.QUERY_PAGE:
            return found
        pages += 1
        after = forward(
            after, [int(r["id"]) for r in page], pages, f"reading the members of list {list_id}", ReadFailed
        )
