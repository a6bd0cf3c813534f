"""The Export API of the simulator (``pardot-export-api.md``, its section 12 "what a simulator must do").

``POST /api/v5/exports`` (also under ``/api/v5/objects/exports``: section 2 leaves the prefix open) validates in
the sheet's order: ``fields`` present (153) and not empty, ``procedure`` present (153), ``arguments`` a non-empty
object (154), the object part of ``procedure.name`` known (154), the procedure known for it (174, naming the
allowed ones; object and procedure matched without regard to case), arguments known (175), required (176) and
valid (177: a bad datetime, a window over 366 days, ``deleted`` other than ``all`` on Prospect, an unknown
``type``), ``maxFileSizeBytes`` within 10,000,000 .. 200,000,000 (231/232), fields known (``export_fields_code``,
130 or 180: not confirmed). It answers 201 with ``status: Waiting``.

Exports of the account run one at a time, oldest first: ``Waiting`` until the one before ends, ``Processing``
for ``export_seconds``, then ``Complete``. Bounds are exclusive; ``...Before`` defaults to the creation time.
The rows go into CSV files of at most ``export_file_rows`` rows (standing in for ``maxFileSizeBytes``), in a
random order, a header row of the requested field names, empty cells for nulls, datetimes in the API user's
offset (ISO 8601; ``export_legacy_dates``: ``YYYY-MM-DD HH:MM:SS``, the v3/v4 form, both not confirmed for v5);
``resultRefs`` lists their absolute URLs (``/api/v5/exports/{id}/results/{n}``: the v5 form is not confirmed),
absent when no row matched. A download before Complete or after expiry is 404 (178); an unknown file 404.
``POST .../{id}/do/cancel`` cancels a Waiting or Processing export (400, 178 otherwise); an export expires
``export_expiry_seconds`` (7 days) after its creation or completion (``export_expiry_from``: not confirmed):
``isExpired`` true, no ``resultRefs``, downloads 404 (178). ``GET /api/v5/exports`` lists them (``limit``,
``nextPageToken``); ``export_v4`` serves the v3/v4 routes over the same exports.
``export_synthetic_rows`` makes a VisitorActivity export produce that many generated rows without keeping them
(a benchmark's 10M rows), each row made as its file is asked for.
"""

from __future__ import annotations

import csv
import io
import random
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .activity import shaped
from .criteria import BadCriterion, moment
from .export_rows import cell, instant, iso, synthetic_line, when
from .v5_fields import parse_fields
from .wire import json_answer, v5_error

OBJECTS = {"visitoractivity": "visitor-activities", "prospect": "prospects", "listmembership": "list-memberships",
           "prospectaccount": "prospect-accounts", "visitor": "visitors", "visit": "visits",
           "opportunity": "opportunities"}  # fmt: skip
PROCEDURES = {"filterbycreatedat": "created", "filterbyupdatedat": "updated"}
ARGUMENTS = {"created": ("createdAfter", "createdBefore"), "updated": ("updatedAfter", "updatedBefore")}
EXTRA = {"visitor-activities": {"type", "prospectOnly"}, "prospects": {"deleted"}, "list-memberships": {"deleted"},
         "prospect-accounts": {"deleted"}, "visitors": {"deleted"}}  # fmt: skip
STATUS_FIELDS = ("id", "status", "isExpired", "resultRefs", "fields", "procedure", "createdAt", "updatedAt")


class Exports:
    """The account's exports and the routes that serve them."""

    def __init__(self, state: Any, settings: Any) -> None:
        self.state, self.settings = state, settings
        self.items: dict[int, dict[str, Any]] = state.exports  # kept with the account (tests read them)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        for prefix in ("/api/v5/exports", "/api/v5/objects/exports"):
            router.add_post(prefix, self.create)
            router.add_get(prefix + "/{id}", self.read)
            router.add_get(prefix + "/{id}/results/{n}", self.download)
            router.add_post(prefix + "/{id}/do/cancel", self.cancel)
            router.add_get(prefix, self.query)

    async def query(self, request: web.Request) -> web.Response:
        """``GET /api/v5/exports?fields=...``: the account's exports by id, ``limit`` (200, at most 1,000) a page,
        ``nextPageToken`` to the next (section 2's query)."""
        if not request.query.get("fields"):
            return v5_error(13, "One or more required parameters are missing: fields")
        asked = request.query.get("limit", "200")
        limit = min(int(asked), 1000) if asked.isdigit() and int(asked) > 0 else 200
        token = request.query.get("nextPageToken", "")
        start = int(token[4:]) if token.startswith("from") and token[4:].isdigit() else 0
        ids = sorted(self.items)[start : start + limit]
        more = start + limit < len(self.items)
        body: dict[str, Any] = {"values": [self._shown(self.items[i], request) for i in ids],
                                "nextPageToken": f"from{start + limit}" if more else None}  # fmt: skip
        body["nextPageUrl"] = f"{request.scheme}://{request.host}{request.path}?fields={request.query['fields']}" \
            f"&nextPageToken={body['nextPageToken']}" if more else None  # fmt: skip
        return json_answer(body)

    async def create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            return v5_error(150, "The body is not valid JSON")
        try:
            item = self.validated(body)
        except BadCriterion as exc:
            return v5_error(exc.code, exc.message)
        item["id"] = len(self.items) + 1
        item["created"] = time.time()
        self.items[item["id"]] = item
        return json_answer(self._shown(item, request), 201)

    async def read(self, request: web.Request) -> web.Response:
        item = self.items.get(int(request.match_info["id"])) if request.match_info["id"].isdigit() else None
        if item is None:
            return v5_error(109, "The requested record was not found.", 404)
        if not request.query.get("fields"):
            return v5_error(13, "One or more required parameters are missing: fields")
        return json_answer(self._shown(item, request))

    async def cancel(self, request: web.Request) -> web.Response:
        """``/do/cancel`` (section 2, its path not confirmed): a Waiting or Processing export is Canceled; any other
        is 400 (178) saying why."""
        item = self.items.get(int(request.match_info["id"])) if request.match_info["id"].isdigit() else None
        if item is None:
            return v5_error(109, "The requested record was not found.", 404)
        status = self.status(item)
        if status == "Canceled":
            return v5_error(178, "The current state of the export does not allow the operation. Export has "
                                 "already been canceled.")  # fmt: skip
        if status not in ("Waiting", "Processing"):
            return v5_error(178, "The current state of the export does not allow the operation. Export has "
                                 "already been completed or failed.")  # fmt: skip
        item["canceled"] = time.time()
        return json_answer(self._shown(item, request))

    async def download(self, request: web.Request) -> web.Response:
        item = self.items.get(int(request.match_info["id"])) if request.match_info["id"].isdigit() else None
        if item is None:
            return v5_error(109, "The requested record was not found.", 404)
        if self.status(item) != "Complete" or self.expired(item):
            return v5_error(178, "The current state of the export does not allow the operation", 404)
        number = int(request.match_info["n"]) if request.match_info["n"].isdigit() else -1
        files = self.files(item)
        if not 0 <= number < len(files):
            return v5_error(404, "Unable to find export file with the given ID", 404)
        text = self.csv_text(item, files[number])
        return web.Response(text=text, content_type="text/csv")

    # ---- validation ---------------------------------------------------------------------------
    def validated(self, body: dict[str, Any]) -> dict[str, Any]:
        if "fields" not in body:
            raise BadCriterion(153, "Missing required property in request: fields")
        if not body["fields"]:
            raise BadCriterion(153, "Missing required property in request: fields is empty")
        procedure = body.get("procedure")
        if not isinstance(procedure, dict):
            raise BadCriterion(153, "Missing required property in request: procedure")
        arguments = procedure.get("arguments")
        if not isinstance(arguments, dict) or not arguments:
            raise BadCriterion(154, "Invalid property in request: Arguments are missing or empty")
        object_part, _, name = str(procedure.get("name", "")).partition("/")
        kind = OBJECTS.get(object_part.lower())
        if kind is None:
            raise BadCriterion(154, f"Invalid property in request: unknown object {object_part!r}")
        how = PROCEDURES.get(name.lower())
        if how is None:
            raise BadCriterion(174, "Procedure name must be one of the following: filterByCreatedAt, filterByUpdatedAt")
        window = self._window(kind, how, arguments)
        size = body.get("maxFileSizeBytes")
        if size is not None and int(size) < 10_000_000:
            raise BadCriterion(231, "Maximum file size has to be at least 10,000,000 bytes")
        if size is not None and int(size) > 200_000_000:
            raise BadCriterion(232, "Maximum file size cannot exceed 200 MB")
        fields = self._fields(kind, body["fields"])
        return {"kind": kind, "how": how, "window": window, "fields": fields, "arguments": arguments,
                "procedure": {"name": procedure["name"], "arguments": arguments}}  # fmt: skip

    def _window(self, kind: str, how: str, arguments: dict[str, Any]) -> tuple[datetime, datetime | None]:
        after, before = ARGUMENTS[how]
        unknown = sorted(set(arguments) - {after, before} - EXTRA.get(kind, set()))
        if unknown:
            raise BadCriterion(175, f"Unknown arguments for procedure: {' and '.join(unknown)}")
        if after not in arguments:
            raise BadCriterion(176, f"Missing required arguments for procedure: {after}")
        try:
            start = moment(str(arguments[after]))
            end = moment(str(arguments[before])) if arguments.get(before) else None
        except (ValueError, BadCriterion):
            raise BadCriterion(177, f"Invalid value specified for argument {after}") from None
        if end is not None and (end <= start or (end - start).days > 366):
            raise BadCriterion(177, f"Invalid value specified for argument {before}: at most one year after {after}")
        if kind == "prospects" and arguments.get("deleted") != "all":
            raise BadCriterion(177, "Invalid value specified for argument deleted: it must be all")
        types = arguments.get("type")
        if types is not None and (not isinstance(types, list) or any(not isinstance(t, int) or t < 1 for t in types)):
            raise BadCriterion(177, f"nonexistent type provided: {types}")
        return start, end

    def _fields(self, kind: str, fields: Any) -> list[str]:
        try:
            return parse_fields(kind, ",".join(str(f) for f in fields), self.state.custom_fields, query=False)
        except BadCriterion as exc:
            code = self.settings().export_fields_code
            raise BadCriterion(code, f"One or more of the specified fields are invalid: {exc.message}") from None

    # ---- the queue, the files -----------------------------------------------------------------
    def status(self, item: dict[str, Any]) -> str:
        """Waiting until every older export ended, Processing for ``export_seconds``, then Complete (Canceled from
        its cancel on: the next one starts then)."""
        return self._times(item)[0]

    def _times(self, item: dict[str, Any]) -> tuple[str, float]:
        """The export's status and when it ended (or will)."""
        seconds, ends, now = self.settings().export_seconds, 0.0, time.time()
        for other in sorted(self.items.values(), key=lambda i: i["id"]):
            begins = max(ends, other["created"])
            ends = min(begins + seconds, other.get("canceled", float("inf")))
            if other is item:
                if "canceled" in item and item["canceled"] < begins + seconds:
                    return "Canceled", ends
                return ("Waiting" if now < begins else "Processing" if now < ends else "Complete"), ends
        return "Complete", ends

    def expired(self, item: dict[str, Any]) -> bool:
        """Its files are gone: ``export_expiry_seconds`` after its creation or completion (not confirmed which)."""
        status, ended = self._times(item)
        since = item["created"] if self.settings().export_expiry_from == "created" else ended
        return status == "Complete" and time.time() > since + self.settings().export_expiry_seconds

    def _shown(self, item: dict[str, Any], request: web.Request) -> dict[str, Any]:
        status, expired = self.status(item), self.expired(item)
        shown: dict[str, Any] = {"id": item["id"], "status": status, "isExpired": expired, "fields": item["fields"],
                                 "procedure": item["procedure"], "createdAt": iso(item["created"]),
                                 "updatedAt": iso(time.time())}  # fmt: skip
        files = self.files(item) if status == "Complete" and not expired else []
        if files:
            base = f"{request.scheme}://{request.host}/api/v5/exports/{item['id']}/results"
            shown["resultRefs"] = [f"{base}/{n}" for n in range(len(files))]
        return shown

    def files(self, item: dict[str, Any]) -> list[Any]:
        """The rows of each result file (ids, or synthetic row numbers), made once."""
        synthetic = self.settings().export_synthetic_rows if item["kind"] == "visitor-activities" else 0
        if "files" not in item and synthetic:  # a benchmark's rows: numbered ranges, each made when asked for
            size = max(1, self.settings().export_file_rows)
            item["files"] = [range(i + 1, min(i + size, synthetic) + 1) for i in range(0, synthetic, size)]
        if "files" not in item:
            rows = self._matching(item)
            random.Random(item["id"]).shuffle(rows)
            size = max(1, self.settings().export_file_rows)
            item["files"] = [rows[i : i + size] for i in range(0, len(rows), size)]
        return item["files"]

    def _matching(self, item: dict[str, Any]) -> list[Any]:
        start, end = item["window"]
        end = end or datetime.fromtimestamp(item["created"], UTC).replace(tzinfo=None)
        key = "created_at" if item["how"] == "created" else "updated_at"
        records = self._stored(item["kind"])
        types = set(item["arguments"].get("type") or [])
        chosen = []
        for rid, record in records.items():
            at = instant(record.get(key))
            if at is None or not start < at < end or (types and record.get("type") not in types):
                continue
            if item["arguments"].get("prospectOnly") and not record.get("prospect_id"):
                continue
            chosen.append(rid)
        return chosen

    def csv_text(self, item: dict[str, Any], rows: Any) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(item.get("header") or item["fields"])  # a v3/v4 export names its columns in snake_case
        offset, legacy = self.settings().v5_utc_offset, self.settings().export_legacy_dates or "header" in item
        store = self._records(item)
        if store is None:  # a benchmark's generated rows: written straight (millions of them)
            return out.getvalue() + "".join(synthetic_line(n, item["fields"]) for n in rows)
        for rid in rows:
            record = store.get(rid)
            if record is None:
                continue
            values = shaped(record, item["fields"], True, lambda v: when(v, offset, legacy))
            writer.writerow(["" if values.get(f) is None else cell(values.get(f)) for f in item["fields"]])
        return out.getvalue()

    def _records(self, item: dict[str, Any]) -> dict[Any, dict[str, Any]] | None:
        """The records a file's rows are (None: a benchmark's generated rows)."""
        if self.settings().export_synthetic_rows and item["kind"] == "visitor-activities":
            return None
        return self._stored(item["kind"])

    def _stored(self, kind: str) -> dict[Any, dict[str, Any]]:
        """An exportable object's records by id, the recycle bin's prospects included (Prospect exports take
        deleted=all)."""
        if kind == "prospects":
            return {**self.state.prospects, **self.state.deleted}
        if kind == "list-memberships":
            return {r["id"]: r for r in self.state.memberships.values()}
        return dict(self.state.activity.get(kind, {}))
