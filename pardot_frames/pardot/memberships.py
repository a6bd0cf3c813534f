"""List memberships in Pardot v4: one create or delete per (list, prospect) pair.

Repeating either is safe: 58 on create (already a member) and 109 on delete (not a member) mean
the membership is already as asked.
"""

from __future__ import annotations

from pardot_frames.pardot import endpoints
from pardot_frames.pardot.answers import Reply
from pardot_frames.pardot.transport import Request

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
