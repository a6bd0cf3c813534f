"""Pardot's Import API (v5): create an import, add CSV batches, submit it, read it, fetch its errors.

The choices where ``pardot-import-api.md`` says "not confirmed", in one place:

- v5 paths ``/api/v5/imports``, ``/{id}/batches``, ``/{id}`` (PATCH, GET), ``/{id}/errors``; the create
  call is JSON only (no file part: its part names are not confirmed), every batch is a multipart part
  ``file``; the read always sends ``fields``.
- ``fields`` names only real prospect fields (v5 names, ``__c`` custom fields): the match and list
  columns travel in the CSV header alone (Pardot refuses them in ``fields``). ``createOnNoMatch`` and
  each field's ``nullOverwrite`` are always sent (their defaults conflict): ``nullOverwrite`` false, so
  a blank cell leaves a field as it is, as a null does in batch mode (Pardot forces it for ``notes``:
  see ``prepare.csv_batches``).
- Every answer of create, upload and submit with a 2xx status and a JSON object or no body is Pardot's
  (200, 201 or 204, with or without the import's representation). The id is taken from the create
  answer, else from its ``batchesRef``.
- A create whose answer was lost is sent again: the first, if it exists, is an Open import without a
  batch, which expires unapplied after 24 h (it costs no daily batch).
- ``status`` is read; ``state`` is accepted too. The read asks only for the fields the client uses
  (``READ_FIELDS``): an unknown name fails the whole read, and the errors reference is spelt two ways
  (``errorsRef``, ``errorRef``), so it is never asked for; the errors file has its own path.
- ``Complete`` is the end state with counts; ``Failed``, every spelling of cancelled (``Cancelled``,
  ``Canceled``, ``Canceling``, ``Cancelling``) and an expired import are end states whose rows' outcome is
  unknown. A status the client does not know (``KNOWN``) ends the wait after ``UNKNOWN_POLLS`` reads in a
  row that show it: its rows then go again the safe way, never waiting out ``import_max_wait``.
- HTTP 413 is the batch size limit, whatever code its body carries (none is known: the sheet says to key on
  the status); 160 (HTTP 429) the batches-per-import limit;
  164 the daily batch limit; 2 (expired) and 161 (not Open) refuse a batch of an import that can take
  none any more (nothing of that batch was applied).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import orjson

from pardot_frames._control import ImportRefused, UploadInDoubt
from pardot_frames.pardot.answers import Reply
from pardot_frames.pardot.transport import Request
from pardot_frames.prepare.csv_batches import real_fields

if TYPE_CHECKING:
    from pardot_frames.pardot.client import Client

IMPORTS = "/api/v5/imports"
READ_FIELDS = "id,status,isExpired,createdCount,updatedCount,errorCount"
BATCH_TOO_BIG, TOO_MANY_BATCHES, DAILY_BATCHES = 413, 160, 164
EXPIRED, NOT_OPEN = 2, 161
DONE = "Complete"
# end states without counts: the rows' outcome is unknown (import-api.md 4: the spelling is not confirmed)
ENDED = frozenset({"Failed", "Cancelled", "Canceled", "Canceling", "Cancelling"})
KNOWN = frozenset({"Open", "Ready", "Waiting", "Processing", DONE, *ENDED})
UNKNOWN_POLLS = 3  # reads in a row that show a status the client does not know: the wait ends


def refusal(what: str, reply: Reply) -> ImportRefused:
    """The error of a refused Import API call; its ``code`` is Pardot's, else the HTTP status."""
    return ImportRefused(what, reply.code if reply.code is not None else reply.status, reply.message, reply.status)


def options(header: list[str], create: bool, restore: bool = False) -> dict[str, Any]:
    """The create call's JSON: an upsert of prospects, blank cells leaving fields as they are; ``fields``
    names the header's real fields only; ``restoreDeleted`` is the job's ``restore_deleted``."""
    return {
        "operation": "Upsert",
        "object": "Prospect",
        "createOnNoMatch": create,
        "restoreDeleted": restore,
        "fields": {name: {"overwrite": True, "nullOverwrite": False} for name in real_fields(header)},
    }


def refused(reply: Reply) -> bool:
    """The answer refuses the call (an error code, or a status that is not 2xx)."""
    return reply.code is not None or not 200 <= reply.status < 300


async def create(client: Client, header: list[str], create_on_no_match: bool, restore: bool = False) -> int:
    """A new Open import; its id."""
    body = orjson.dumps(options(header, create_on_no_match, restore))
    request = Request("POST", IMPORTS, json_body=body, accept="import")
    reply = await client.repeat(request)
    if refused(reply):
        raise refusal("creating the import", reply)
    return import_id(reply)


async def add_batch(client: Client, import_id: int, data: bytes, number: int) -> Reply:
    """Upload one CSV batch; the reply (a refusal is the caller's to read: 413, 160, 164, 159, 130, 2, 161).
    Raises UploadInDoubt when an attempt went unanswered after it may have arrived."""
    request = Request(
        "POST", f"{IMPORTS}/{import_id}/batches", file=("file", f"batch-{number}.csv", data), accept="import"
    )

    async def make(unknown: bool) -> Request:
        if unknown:  # a second copy of this batch would import its rows twice
            raise UploadInDoubt(f"batch {number + 1} of import {import_id}: no answer after sending")
        return request

    return await client.call(make)


async def submit(client: Client, import_id: int) -> None:
    """Set the import Ready: processing starts; no batch can be added after this."""
    request = Request("PATCH", f"{IMPORTS}/{import_id}", json_body=b'{"status":"Ready"}', accept="import")
    reply = await client.repeat(request)
    if refused(reply):
        if reply.code == 155 and await status(client, import_id) != "Open":
            return  # an earlier attempt did it (its answer was lost)
        raise refusal("submitting the import", reply)


async def read(client: Client, import_id: int) -> dict[str, Any]:
    """The import as Pardot shows it now (``status``, counts, ``errorsRef``)."""
    reply = await client.get_as(f"{IMPORTS}/{import_id}?fields={READ_FIELDS}", "import")
    if refused(reply) or not isinstance(reply.body, dict):
        raise refusal(f"reading import {import_id}", reply)
    body = dict(reply.body)
    body.setdefault("status", body.get("state"))
    body.setdefault("errorsRef", body.get("errorRef"))
    return body


def ended(seen: dict[str, Any]) -> bool:
    """The import will not change any more: Complete, Failed, cancelled (any spelling), or expired."""
    return seen.get("status") in ENDED or seen.get("status") == DONE or bool(seen.get("isExpired"))


def too_big(reply: Reply) -> bool:
    """A batch refused for its size: HTTP 413, whatever the body says (or does not)."""
    return reply.status == 413


async def status(client: Client, import_id: int) -> str:
    return str((await read(client, import_id)).get("status"))


async def errors(client: Client, import_id: int) -> str:
    """The errors file of a Complete import (CSV text: the batch's columns and Pardot's message)."""
    reply = await client.get_as(f"{IMPORTS}/{import_id}/errors", "csv")
    if reply.code is not None or not isinstance(reply.body, str):
        raise refusal(f"reading the errors of import {import_id}", reply)
    return reply.body


def import_id(reply: Reply) -> int:
    body = reply.body if isinstance(reply.body, dict) else {}
    if "id" in body:
        return int(body["id"])
    found = re.search(r"/imports/(\d+)", str(body.get("batchesRef", "")))
    if found:
        return int(found.group(1))
    raise refusal("creating the import (no id in the answer)", reply)
