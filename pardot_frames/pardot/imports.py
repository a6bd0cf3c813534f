"""Pardot's Import API (v5): create an import, add CSV batches, submit it, read it, fetch its errors.

The choices where ``pardot-import-api.md`` says "not confirmed", in one place:

- v5 paths ``/api/v5/imports``, ``/{id}/batches``, ``/{id}`` (PATCH, GET), ``/{id}/errors``; the create
  call is JSON only (no file part: its part names are not confirmed), every batch is a multipart part
  ``file``; the read always sends ``fields``.
- The create and PATCH answers may be 200 or 201, with or without the import's representation; a batch
  answer is 204 (or 200/201). The id is taken from the create answer, else from its ``batchesRef``.
- ``status`` is read; ``state`` is accepted too. ``errorsRef`` and ``errorRef`` are both accepted.
- ``createOnNoMatch`` and each column's ``nullOverwrite`` are always sent (their defaults conflict):
  ``nullOverwrite`` false, so a blank cell leaves a field as it is, as a null does in batch mode.
- HTTP 413 (its code is not known) is the batch size limit; 160 (HTTP 429) the batches-per-import limit;
  164 the daily batch limit.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import orjson

from pardot_frames.pardot.answers import Reply
from pardot_frames.pardot.transport import Request

if TYPE_CHECKING:
    from pardot_frames.pardot.client import Client

IMPORTS = "/api/v5/imports"
READ_FIELDS = "id,status,isExpired,createdCount,updatedCount,errorCount,errorsRef"
BATCH_TOO_BIG, TOO_MANY_BATCHES, DAILY_BATCHES = 413, 160, 164
DONE = "Complete"


class ImportRefused(Exception):
    """The Import API refused a call; ``code`` is Pardot's (413 for a batch over 10 MB)."""

    def __init__(self, what: str, reply: Reply) -> None:
        code = reply.code if reply.code is not None else reply.status
        super().__init__(f"{what} refused: Pardot error {code} ({reply.message or f'HTTP {reply.status}'})")
        self.code, self.message = code, reply.message


class UploadInDoubt(Exception):
    """A batch upload got no answer after it may have reached Pardot: never upload it again to that import."""


def options(columns: list[str], create: bool) -> dict[str, Any]:
    """The create call's JSON: an upsert of prospects, blank cells leaving fields as they are."""
    return {
        "operation": "Upsert",
        "object": "Prospect",
        "createOnNoMatch": create,
        "restoreDeleted": False,
        "fields": {name: {"overwrite": True, "nullOverwrite": False} for name in columns},
    }


async def create(client: Client, columns: list[str], create_on_no_match: bool) -> int:
    """A new Open import; its id."""
    request = Request("POST", IMPORTS, json_body=orjson.dumps(options(columns, create_on_no_match)), accept="import")
    reply = await client.repeat(request)
    if reply.code is not None or reply.status >= 300:
        raise ImportRefused("creating the import", reply)
    return import_id(reply)


async def add_batch(client: Client, import_id: int, data: bytes, number: int) -> Reply:
    """Upload one CSV batch; the reply (a refusal is the caller's to read: 413, 160, 164, 159, 130)."""
    request = Request("POST", f"{IMPORTS}/{import_id}/batches", file=("file", f"batch-{number}.csv", data))

    async def make(unknown: bool) -> Request:
        if unknown:  # a second copy of this batch would import its rows twice
            raise UploadInDoubt(f"batch {number + 1} of import {import_id}: no answer after sending")
        return request

    return await client.call(make)


async def submit(client: Client, import_id: int) -> None:
    """Set the import Ready: processing starts; no batch can be added after this."""
    request = Request("PATCH", f"{IMPORTS}/{import_id}", json_body=b'{"status":"Ready"}', accept="import")
    reply = await client.repeat(request)
    if reply.code is not None or reply.status >= 300:
        if reply.code == 155 and await status(client, import_id) != "Open":
            return  # an earlier attempt did it (its answer was lost)
        raise ImportRefused("submitting the import", reply)


async def read(client: Client, import_id: int) -> dict[str, Any]:
    """The import as Pardot shows it now (``status``, counts, ``errorsRef``)."""
    reply = await client.get_as(f"{IMPORTS}/{import_id}?fields={READ_FIELDS}", "import")
    if reply.code is not None or not isinstance(reply.body, dict):
        raise ImportRefused(f"reading import {import_id}", reply)
    body = dict(reply.body)
    body.setdefault("status", body.get("state"))
    body.setdefault("errorsRef", body.get("errorRef"))
    return body


async def status(client: Client, import_id: int) -> str:
    return str((await read(client, import_id)).get("status"))


async def errors(client: Client, import_id: int) -> str:
    """The errors file of a Complete import (CSV text: the batch's columns and Pardot's message)."""
    reply = await client.get_as(f"{IMPORTS}/{import_id}/errors", "csv")
    if reply.code is not None or not isinstance(reply.body, str):
        raise ImportRefused(f"reading the errors of import {import_id}", reply)
    return reply.body


def import_id(reply: Reply) -> int:
    body = reply.body if isinstance(reply.body, dict) else {}
    if "id" in body:
        return int(body["id"])
    found = re.search(r"/imports/(\d+)", str(body.get("batchesRef", "")))
    if found:
        return int(found.group(1))
    raise ImportRefused("creating the import (no id in the answer)", reply)
