"""Values of array custom fields (Checkbox, Multi-Select, fields recording multiple responses).

v5 queries refuse these fields (``pardot-v5-objects.md`` 1: "Custom fields that return array types are not
allowed to be selected"), so a read takes every other field from the v5 query and these from another call,
chosen by cost:

- a single-record v5 read (``/objects/prospects/{id}?fields=id,x__c``) returns them as arrays: one call a
  prospect, so it is used for a page of at most ``SINGLE_READS_UP_TO`` prospects;
- otherwise the v4 prospect query (``output=full`` returns custom fields, 200 prospects a call), from the
  next prospect still wanted to the last (``id_greater_than`` / ``id_less_than``): each call covers as many
  wanted prospects as the id range holds and at least one, so it never costs more calls than single reads,
  and a full page of 1,000 costs 5.

What v4 shows for several values is not confirmed (a JSON list, ``{"value": [...]}``, or one text value):
``as_list`` takes every shape. A prospect missing from the answer (deleted meanwhile) gets nulls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pardot_frames.errors import ApiError
from pardot_frames.pardot import endpoints
from pardot_frames.pardot.answers import records
from pardot_frames.pardot.paging import forward

if TYPE_CHECKING:
    from pardot_frames.pardot.client import Client

SINGLE_READS_UP_TO = 2  # a page this small reads its prospects one by one (the same calls, less data)
V4_PAGE = endpoints.QUERY_PAGE
Values = dict[int, dict[str, list[str] | None]]  # prospect id -> field id -> values


def as_list(value: Any) -> list[str] | None:
    """Several values as a list of text, from every shape an answer may give them in; None when empty."""
    if isinstance(value, dict):
        value = value.get("value", list(value.values()))
    if value is None or value == "":
        return None
    items = value if isinstance(value, list) else [value]
    return [str(v.get("value", v)) if isinstance(v, dict) else str(v) for v in items if v not in (None, "")]


def calls_for(count: int) -> int:
    """The most calls reading the array values of ``count`` prospects of one page takes (ids packed densely)."""
    if count <= SINGLE_READS_UP_TO:
        return count
    return -(-count // V4_PAGE)


async def array_values(client: Client, ids: list[int], fields: list[str]) -> Values:
    """The values of these array custom fields (field ids) of these prospects."""
    if not ids or not fields:
        return {}
    wanted = sorted(set(ids))
    if len(wanted) <= SINGLE_READS_UP_TO:
        return {pid: await _single(client, pid, fields) for pid in wanted}
    return await _by_v4_query(client, wanted, fields)


async def _single(client: Client, prospect_id: int, fields: list[str]) -> dict[str, list[str] | None]:
    names = ",".join(["id", *(f"{f}__c" for f in fields)])
    reply = await client.get_as(f"/api/v5/objects/prospects/{prospect_id}?fields={names}", "import")
    if reply.code in (109, 192) or reply.status == 404:
        return dict.fromkeys(fields)
    if reply.code is not None or not isinstance(reply.body, dict):
        raise ApiError(f"reading prospect {prospect_id} failed: Pardot error {reply.code} ({reply.message})",
                       reply.code, reply.status)  # fmt: skip
    return {f: as_list(reply.body.get(f"{f}__c")) for f in fields}


async def _by_v4_query(client: Client, wanted: list[int], fields: list[str]) -> Values:
    out: Values = {pid: dict.fromkeys(fields) for pid in wanted}
    position, cursor, pages = 0, None, 0
    while position < len(wanted):
        path = (f"{endpoints.PROSPECT_V4}/query?format=json&output=full&sort_by=id&sort_order=ascending"
                f"&limit={V4_PAGE}&id_greater_than={wanted[position] - 1}&id_less_than={wanted[-1] + 1}")  # fmt: skip
        reply = await client.get(path)
        result = reply.body.get("result") if isinstance(reply.body, dict) else None
        if reply.code is not None or not isinstance(result, dict):
            raise ApiError(f"reading custom field values failed: Pardot error {reply.code} ({reply.message})",
                           reply.code, reply.status)  # fmt: skip
        page = [p for p in records(result.get("prospect")) if "id" in p]
        for record in page:
            if int(record["id"]) in out:
                out[int(record["id"])] = {f: as_list(record.get(f)) for f in fields}
        if len(page) < V4_PAGE:
            break  # the rest of the range holds no more prospects
        pages += 1
        cursor = forward(cursor, [int(p["id"]) for p in page], pages, "reading custom field values", ApiError)
        while position < len(wanted) and wanted[position] <= cursor:
            position += 1
    return out
