"""Reading Pardot's objects through v5 (``GET /api/v5/objects/{prospects|lists|list-memberships}``, facts 9).

Why v5: a page holds up to 1,000 records (v4's query 200), so reading an account costs a fifth of the
calls. Every page is its own query ordered by id and started after the last id read (``idGreaterThan``),
not a ``nextPageToken`` chain: a chain ends after 100,000 records and its tokens expire after about
4 hours, while an id cursor reads any number of records and resumes from any id. A page that does not
move the cursor forward is an error (``paging.forward``), never an endless loop.

Names: the product's (v4) column names map to v5 field names here (``first_name`` <-> ``firstName``,
``fid`` <-> ``salesforceId``, a custom field ``colour`` <-> ``colour__c``). A full page whose answer carries
``"nextPageToken": null`` is the last (``last_page``): no call is spent to find an empty page.

Array custom fields (Checkbox, Multi-Select, multiple responses) are refused in v5 queries (v5-objects 1):
callers leave them out (``pardot.array_values`` reads their values); should Pardot refuse one the account's
fields did not show as an array, ``ArrayFieldsRefused`` names them, so the caller reads them that other way.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from pardot_frames.errors import ApiError, ConfigError
from pardot_frames.pardot.paging import forward

if TYPE_CHECKING:
    from pardot_frames.pardot.client import Client

ARRAY_REFUSAL = re.compile(r"array types are not allowed to be selected: (.+?)\.?$")
OBJECTS = "/api/v5/objects"
PAGE = 1000  # records a v5 query answers at most
RENAMED = {"fid": "salesforceId"}


class ArrayFieldsRefused(ApiError):
    """A v5 query refused array custom fields (code 51, Pardot's FieldsParser); ``fields`` names them (v5)."""

    def __init__(self, kind: str, fields: list[str], message: str) -> None:
        super().__init__(f"reading {kind}: {message}", 51, 400)
        self.fields = fields


def v5_field(name: str, custom: bool = False) -> str:
    """The v5 name of a product column: ``first_name`` -> ``firstName``; custom ``colour`` -> ``colour__c``."""
    if custom:
        return name if name.endswith("__c") else f"{name}__c"
    if name in RENAMED:
        return RENAMED[name]
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def column(v5: str) -> str:
    """The product column of a v5 field name (the inverse of ``v5_field``)."""
    if v5.endswith("__c"):
        return v5[:-3]
    back = {v: k for k, v in RENAMED.items()}
    return back.get(v5) or re.sub(r"(?<!^)([A-Z])", r"_\1", v5).lower()


def query_path(kind: str, fields: list[str], after: int | None, filters: dict[str, str], limit: int) -> str:
    params = {"fields": ",".join(fields), "orderBy": "id asc", "limit": str(limit), **filters}
    if after is not None:
        params["idGreaterThan"] = str(after)
    return f"{OBJECTS}/{kind}?{urlencode(params)}"


async def pages(
    client: Client, kind: str, fields: list[str], filters: dict[str, str] | None = None, *,
    after: int | None = None, limit: int = PAGE,
) -> AsyncIterator[list[dict[str, Any]]]:  # fmt: skip
    """Every record of ``kind`` under ``filters`` (v5 names), a page at a time, by ascending id from ``after``."""
    wanted = fields if "id" in fields else ["id", *fields]
    count = 0
    while True:
        reply = await client.get_as(query_path(kind, wanted, after, filters or {}, limit), "import")
        records = records_of(reply, kind)
        if not records:
            return
        count += 1
        after = forward(after, [int(r["id"]) for r in records], count, f"reading {kind}", ApiError)
        yield records
        if len(records) < limit or last_page(reply.body):
            return


def last_page(body: Any) -> bool:
    """The answer says no record follows: ``nextPageToken`` present and JSON null (v5-objects 2: a token comes
    after a full page unless the data ends there; recorded). Each page here is its own query, so the
    100,000-record cap of a token chain cannot be what ended it. A server that leaves the key out says nothing."""
    return isinstance(body, dict) and "nextPageToken" in body and body["nextPageToken"] is None


def records_of(reply: Any, kind: str) -> list[dict[str, Any]]:
    """A page's records; a refusal is one clear error (an unknown field names it: code 51). A warning that a
    token chain was cut at its 100,000-record cap is an error: this reader never follows a chain that far, so
    records could have been left out (v5-objects 2: detected by its text, its code is not confirmed)."""
    if reply.warning and "nextPageToken sequence" in reply.warning:
        raise ApiError(f"reading {kind}: Pardot cut the read short ({reply.warning}); no record was skipped silently")
    body = reply.body if isinstance(reply.body, dict) else None
    if reply.code is not None or body is None or not isinstance(body.get("values"), list):
        message = reply.message or f"HTTP {reply.status}"
        refused = ARRAY_REFUSAL.search(message) if reply.code == 51 else None
        if refused:
            raise ArrayFieldsRefused(kind, [f.strip() for f in refused.group(1).split(",")], message)
        if reply.code == 51:
            raise ConfigError([f"reading {kind}: {message} (check the field names; 'pardot-frames fields' lists them)"])
        raise ApiError(f"reading {kind} failed: Pardot error {reply.code} ({message})", reply.code, reply.status)
    return [r for r in body["values"] if isinstance(r, dict)]
