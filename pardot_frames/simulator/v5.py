"""The v5 API of the simulator: object reads, list memberships and the Import API (facts 3, 9; import-api.md).

Object reads: ``GET /api/v5/objects/{prospects|lists|list-memberships|custom-fields}`` (query) and
``/{id}`` (read). ``fields`` is required (a comma list of camelCase names; an unknown one is code 51);
``limit`` defaults to 200, at most 1000; ``orderBy``; the filters of ``criteria.v5_filter`` plus per object
``listId``, ``prospectId``, ``email``, ``deleted``. After a full page the answer carries
``nextPageToken`` and ``nextPageUrl``; a follow-up sends the token (and ``fields``) only. Tokens are
the simulator's own (an unknown one is code 211). Values are the account's state, as v4 shows it,
under v5 names; several-value custom fields come back as arrays.
"""

from __future__ import annotations

import bisect
import json
import secrets
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .criteria import V5_LIMIT, BadCriterion, number, v5_filter, v5_predicate
from .records import STANDARD
from .state import ApiError, PardotState
from .v5_imports import Import, ImportError_, Imports, v4_name
from .wire import json_answer, v5_error

OBJECTS = ("prospects", "lists", "list-memberships", "custom-fields")
COMMON = ("id", "createdAt", "updatedAt")
KNOWN = {
    "lists": (*COMMON, "name", "title", "description", "isPublic", "isDynamic", "isCrmVisible"),
    "list-memberships": (*COMMON, "listId", "prospectId", "optedOut"),
    "custom-fields": (*COMMON, "name", "fieldId", "type", "isRecordMultipleResponses", "isUseValues"),
}
FILTERS = {"listId": "list_id", "prospectId": "prospect_id"}


def _by_ascending_id(query: dict[str, str]) -> bool:
    """A query the id index answers: ordered by id ascending (the default), not continued from a token."""
    order = (query.get("orderBy") or "id asc").replace(" ", "").lower()
    return order in ("idasc", "id") and "_skip" not in query


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


class V5:
    """Handlers for the v5 routes over one account state."""

    def __init__(self, state: PardotState, imports: Any) -> None:
        self.state = state
        self.imports = imports  # a callable: the account's Imports, with the simulator's current settings
        self.tokens: dict[str, dict[str, str]] = {}  # nextPageToken -> the query it continues

    def add_routes(self, router: web.UrlDispatcher) -> None:
        objects = "/api/v5/objects/"
        router.add_post(objects + "list-memberships", self.membership_create)
        router.add_delete(objects + "list-memberships/{id}", self.membership_delete)
        router.add_get(objects + "{object}", self.query)
        router.add_get(objects + "{object}/{id}", self.read)
        router.add_post("/api/v5/imports", self.import_create)
        router.add_post("/api/v5/imports/{id}/batches", self.import_batch)
        router.add_patch("/api/v5/imports/{id}", self.import_submit)
        router.add_get("/api/v5/imports/{id}", self.import_read)
        router.add_get("/api/v5/imports/{id}/errors", self.import_errors)

    # ---- object reads ------------------------------------------------------------------------
    def _records(self, kind: str) -> list[dict[str, Any]]:
        state = self.state
        if kind == "prospects":
            return list(state.prospects.values())
        if kind == "lists":
            return list(state.lists.values())
        if kind == "list-memberships":
            return list(state.memberships.values())
        return [{**d, "updated_at": d.get("updated_at", d.get("created_at"))} for d in state.custom_fields.values()]

    def _filtered(self, kind: str, query: dict[str, str]) -> list[dict[str, Any]]:
        """Every record of the query, filtered and ordered (any ``orderBy``; a token's ``_skip``)."""
        found = [r for r in self._records(kind) if self._matches(r, query)]
        return v5_filter(found, query)

    def _matches(self, record: dict[str, Any], query: dict[str, str]) -> bool:
        for name, field in FILTERS.items():
            if (value := number(query, name)) is not None and record.get(field) != value:
                return False
        email = query.get("email")
        return not email or str(record.get("email") or "").lower() == email.lower()

    def _by_id(self, kind: str, query: dict[str, str], limit: int) -> list[dict[str, Any]]:
        """An id-ordered query from ``idGreaterThan``: the records after it, one more than a page at most, found
        by bisecting the ids (a page costs its own size, not the account's)."""
        ids, table = self._ids(kind)
        test = v5_predicate(query)
        after = number(query, "idGreaterThan")
        out: list[dict[str, Any]] = []
        for position in range(bisect.bisect_right(ids, after) if after is not None else 0, len(ids)):
            record = table.get(ids[position])
            if record is not None and self._matches(record, query) and test(record):
                out.append(record)
                if len(out) > limit:
                    break
        return out

    def _ids(self, kind: str) -> tuple[list[int], dict[int, dict[str, Any]]]:
        """The sorted ids of a kind's records and the records by id, kept while the records stay the same."""
        if kind == "prospects":
            return self.state.sorted_ids(), self.state.prospects
        table = {int(r["id"]): r for r in self._records(kind)}
        return sorted(table), table

    def _known(self, kind: str) -> set[str]:
        if kind != "prospects":
            return set(KNOWN[kind])
        return (
            {camel(f) for f in STANDARD} | {"salesforceId", "isDeleted"} | {f"{f}__c" for f in self.state.custom_fields}
        )

    def _shape(self, kind: str, record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        out = {}
        for name in fields:
            if name.endswith("__c"):
                value = record.get(name[:-3])
                several = self.state.custom_fields.get(name[:-3], {}).get("type") in ("Checkbox", "Multi-Select")
                if several and value:  # several-value fields come back as arrays
                    value = list(value.values()) if isinstance(value, dict) else [value]
                out[name] = value
            elif name == "salesforceId":
                out[name] = record.get("fid")
            elif name == "isDeleted":
                out[name] = record["id"] in self.state.deleted
            else:
                out[name] = record.get(v4_name(name))
        return out

    def _fields(self, kind: str, query: dict[str, str]) -> list[str]:
        if kind not in OBJECTS:
            raise BadCriterion(404, f"Invalid object: {kind}")
        fields = [f.strip() for f in query.get("fields", "").split(",") if f.strip()]
        if not fields:
            raise BadCriterion(52, "Required parameter missing: fields.")
        unknown = [f for f in fields if f not in self._known(kind)]
        if unknown:
            raise BadCriterion(51, f"Invalid parameter: fields. It contains an invalid or unknown field: {unknown[0]}.")
        return fields

    async def read(self, request: web.Request) -> web.Response:
        kind, wanted = request.match_info["object"], request.match_info["id"]
        try:
            fields = self._fields(kind, dict(request.query))
        except BadCriterion as exc:
            return v5_error(exc.code, exc.message, 404 if exc.code == 404 else 400)
        found = next((r for r in self._records(kind) if str(r["id"]) == wanted), None)
        if found is None:
            return v5_error(404, "The requested object was not found.", 404)
        return json_answer(self._shape(kind, found, fields))

    async def query(self, request: web.Request) -> web.Response:
        kind, query = request.match_info["object"], dict(request.query)
        if "nextPageToken" in query:
            saved = self.tokens.get(query["nextPageToken"])
            if saved is None:
                return v5_error(211, "Invalid nextPageToken.")
            query = {**saved, **({"fields": query["fields"]} if query.get("fields") else {})}
        try:
            fields = self._fields(kind, query)
            limit = min(number(query, "limit", 200) or 200, V5_LIMIT)
            skip = number(query, "_skip", 0) or 0
            found = self._by_id(kind, query, limit) if _by_ascending_id(query) else self._filtered(kind, query)
        except BadCriterion as exc:
            return v5_error(exc.code, exc.message, 404 if exc.code == 404 else 400)
        page = found[skip : skip + limit]
        body: dict[str, Any] = {"values": [self._shape(kind, r, fields) for r in page]}
        if len(page) == limit and skip + limit < len(found):
            token = secrets.token_urlsafe(12)
            self.tokens[token] = {**query, "_skip": str(skip + limit)}
            body["nextPageToken"] = token
            body["nextPageUrl"] = f"{request.scheme}://{request.host}{request.path}?" + urlencode(
                {"nextPageToken": token, "fields": ",".join(fields)}
            )
        else:
            body["nextPageToken"] = body["nextPageUrl"] = None
        return json_answer(body)

    # ---- list memberships --------------------------------------------------------------------
    async def membership_create(self, request: web.Request) -> web.Response:
        try:
            data = await request.json()
            list_id, prospect_id = int(data["listId"]), int(data["prospectId"])
        except (ValueError, KeyError, TypeError):
            return v5_error(13, "listId and prospectId are required integers")
        try:
            record = self.state.create_membership(list_id, prospect_id, bool(data.get("optedOut", False)))
        except ApiError as exc:
            return v5_error(exc.code, exc.message)
        return json_answer(self._shape("list-memberships", record, list(KNOWN["list-memberships"])), 201)

    async def membership_delete(self, request: web.Request) -> web.Response:
        try:
            self.state.delete_membership_by_id(int(request.match_info["id"]))
        except (ApiError, ValueError):
            return v5_error(109, "The requested record was not found.", 404)
        return web.Response(status=204)

    # ---- the Import API ----------------------------------------------------------------------
    def _import(self, request: web.Request) -> Import:
        imports: Imports = self.imports()
        item = imports.get(request.match_info["id"])
        imports.advance(item, self.state.import_row)
        return item

    def _import_answer(self, item: Import, request: web.Request, status: int = 200) -> web.Response:
        return json_answer(self.imports().record(item, f"{request.scheme}://{request.host}"), status)

    async def import_create(self, request: web.Request) -> web.Response:
        """JSON options, or multipart with ``input`` (JSON) and an optional ``file`` (the first batch)."""
        try:
            files: list[bytes] = []
            if request.content_type.startswith("multipart/"):
                options: Any = None
                async for part in await request.multipart():
                    if part.name == "input":
                        options = json.loads(await part.text())
                    elif part.name == "file":
                        files.append(bytes(await part.read()))
            else:
                options = await request.json()
            if not isinstance(options, dict):
                raise ImportError_(400, 150, "The body is not valid JSON")
            item = self.imports().create(options, self.state.import_fields())
            for data in files:
                self.imports().add_batch(item, data, self.state.import_fields())
            if options.get("status") == "Ready":
                self.imports().submit(item, {"status": "Ready"})
        except ImportError_ as exc:
            return v5_error(exc.code, exc.message, exc.status)
        except ValueError:
            return v5_error(150, "The body is not valid JSON")
        return self._import_answer(item, request, 201)

    async def import_batch(self, request: web.Request) -> web.Response:
        try:
            item = self._import(request)
            if not request.content_type.startswith("multipart/"):
                raise ImportError_(400, 162, "No file was specified or uploaded")
            files = [bytes(await part.read()) async for part in await request.multipart() if part.name == "file"]
            if not files:
                raise ImportError_(400, 162, "No file was specified or uploaded")
            if len(files) > 1:
                raise ImportError_(400, 163, "Too many files were specified or uploaded")
            self.imports().add_batch(item, files[0], self.state.import_fields())
        except ImportError_ as exc:
            return v5_error(exc.code, exc.message, exc.status)
        return web.Response(status=204)

    async def import_submit(self, request: web.Request) -> web.Response:
        try:
            item = self._import(request)
            body = await request.json()
            self.imports().submit(item, body if isinstance(body, dict) else {})
        except ImportError_ as exc:
            return v5_error(exc.code, exc.message, exc.status)
        except ValueError:
            return v5_error(150, "The body is not valid JSON")
        return self._import_answer(item, request)

    async def import_read(self, request: web.Request) -> web.Response:
        try:
            item = self._import(request)
        except ImportError_ as exc:
            return v5_error(exc.code, exc.message, exc.status)
        return self._import_answer(item, request)

    async def import_errors(self, request: web.Request) -> web.Response:
        try:
            text = self.imports().errors_csv(self._import(request))
        except ImportError_ as exc:
            return v5_error(exc.code, exc.message, exc.status)
        return web.Response(text=text, content_type="text/csv")
