"""No paging loop of the client runs without progress (issue #20): against a server that ignores the cursor
(``id_greater_than``, ``offset``) and answers the same full page for ever, each read stops with a clear
error after two pages, and a mirror job ends (exit-worthy stop) instead of running at full CPU."""

import asyncio

import polars as pl
import pytest
from scripted import CONFIG, ScriptedTransport, v4

from pardot_frames import ApiError, ExportConfig
from pardot_frames.engine.job.export import export_to_pardot_async
from pardot_frames.pardot import custom_fields, membership_calls, prospects
from pardot_frames.pardot.client import Client


def same_page(key, make, total=10_000):
    """A transport answering every query with the same 200 records, whatever the cursor."""
    page = [make(i) for i in range(200)]
    return ScriptedTransport(lambda sent: v4(200, result={"total_results": total, key: page}))


async def with_client(transport, read):
    async with Client(ExportConfig(**CONFIG), transport=transport) as client:
        return await read(client)


def test_list_members_stop_when_the_cursor_does_not_move():
    transport = same_page("list_membership", lambda i: {"id": i + 1, "list_id": 7, "prospect_id": 1000 + i})
    with pytest.raises(membership_calls.ReadFailed, match="ignores id_greater_than"):
        asyncio.run(with_client(transport, lambda c: membership_calls.members(c, 7)))
    assert len(transport.sent) == 2


def test_listing_prospects_for_emails_stops_when_the_cursor_does_not_move():
    transport = same_page("prospect", lambda i: {"id": i + 1, "email": f"p{i}@x.com"})
    wanted = [f"w{i}@x.com" for i in range(100)]  # many emails: listing the account is cheaper than reads
    with pytest.raises(prospects.LookupFailed, match="ignores id_greater_than"):
        asyncio.run(with_client(transport, lambda c: prospects.resolve_emails(c, wanted)))
    assert len(transport.sent) == 2  # the first page (with the size), then the same page again


def test_reading_custom_fields_stops_when_offset_is_ignored():
    transport = same_page("customField", lambda i: {"id": i + 1, "field_id": f"f{i}", "type": "Text"})
    with pytest.raises(ApiError, match="ignores offset"):
        asyncio.run(with_client(transport, custom_fields.read_custom_fields))
    assert len(transport.sent) == 2


def test_a_mirror_job_against_such_a_server_ends():
    def answer(sent):
        if "listMembership" in sent.path:
            return v4(200, result={"total_results": 10_000, "list_membership": [
                {"id": i + 1, "list_id": 7, "prospect_id": 5000 + i} for i in range(200)]})  # fmt: skip
        return v4(200)

    transport = ScriptedTransport(answer)
    config = ExportConfig(**CONFIG, prospect_lists=[7], prospect_list_operation="mirror")
    frame = pl.DataFrame({"id": [1, 2], "email": ["a@x.com", "b@x.com"]})
    with pytest.raises(ApiError, match="mirroring the lists failed"):
        asyncio.run(export_to_pardot_async(frame, config, progress=False, journal=False, transport=transport))
    assert len(transport.sent) < 10
