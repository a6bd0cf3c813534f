"""The v3/v4 Export API of the simulator (``pardot-export-api.md`` sections 2, 3, 6, 12 item 7), over the same
exports as v5: ``POST /api/export/version/{3,4}/do/create`` (a JSON body: ``object``, snake_case ``procedure``
name, arguments and fields; ``fields`` left out means every field of the object), ``read/id/{id}``, ``query``
and ``downloadResults/id/{id}/file/{n}``. Answers say ``state`` (not ``status``), times as ``YYYY-MM-DD
HH:MM:SS``, ``resultRefs`` a string when there is one file, wrapped as ``{"export": {...}}`` (the docs show it
bare too: a client takes both); the files' header names the fields in snake_case, their dates in the v3/v4
form. Errors are v4 bodies."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .activity import ACTIVITY_FIELDS
from .criteria import BadCriterion
from .exports import Exports
from .v5_fields import PROSPECT
from .wire import v4_error, v4_ok

V4_OBJECTS = {"visitoractivity": "VisitorActivity", "prospect": "Prospect", "listmembership": "ListMembership"}
ALL_FIELDS = {"VisitorActivity": ACTIVITY_FIELDS["visitor-activities"],
              "Prospect": tuple(f for f in PROSPECT if f not in ("password", "grade", "notes")),  # not exportable
              "ListMembership": ("id", "listId", "prospectId", "optedOut", "createdAt", "updatedAt")}  # fmt: skip


class ExportsV4:
    """The v3/v4 routes, answering from the v5 ``Exports``."""

    def __init__(self, exports: Exports) -> None:
        self.exports = exports

    def add_routes(self, router: web.UrlDispatcher) -> None:
        base = "/api/export/version/{v:[34]}/do/"
        router.add_post(base + "create", self.create)
        router.add_get(base + "read/id/{id}", self.read)
        router.add_get(base + "query", self.query)
        router.add_get(base + "downloadResults/id/{id}/file/{n}", self.download)

    async def create(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return v4_error(150, "The request body must be JSON (Content-Type: application/json)")
        try:
            body = await request.json()
            item = self.exports.validated(_as_v5(body if isinstance(body, dict) else {}))
        except BadCriterion as exc:  # (a ValueError too: caught first)
            return v4_error(exc.code, exc.message)
        except ValueError:
            return v4_error(150, "The body is not valid JSON")
        item.update(id=len(self.exports.items) + 1, created=time.time(), header=[_snake(f) for f in item["fields"]])
        self.exports.items[item["id"]] = item
        return self._answer(item, request)

    async def read(self, request: web.Request) -> web.Response:
        item = self._item(request)
        return v4_error(404, "Invalid ID", 404) if item is None else self._answer(item, request)

    def _answer(self, item: dict[str, Any], request: web.Request) -> web.Response:
        """Wrapped as ``{"export": {...}}``, or bare (``export_v4_wrapped``: the docs show both)."""
        shown = self._shown(item, request)
        return v4_ok(export=shown) if self.exports.settings().export_v4_wrapped else v4_ok(**shown)

    async def query(self, request: web.Request) -> web.Response:
        shown = [self._shown(item, request) for _, item in sorted(self.exports.items.items())]
        return v4_ok(result={"total_results": len(shown), **({"export": shown} if shown else {})})

    async def download(self, request: web.Request) -> web.Response:
        item = self._item(request)
        if item is None:
            return v4_error(404, "Invalid ID", 404)
        if self.exports.status(item) != "Complete" or self.exports.expired(item):
            return v4_error(178, "The current state of the export does not allow the operation", 404)
        files, n = self.exports.files(item), request.match_info["n"]
        if not n.isdigit() or not 1 <= int(n) <= len(files):
            return v4_error(404, "Unable to find export file with the given ID", 404)
        return web.Response(text=self.exports.csv_text(item, files[int(n) - 1]), content_type="text/csv")

    def _item(self, request: web.Request) -> dict[str, Any] | None:
        wanted = request.match_info["id"]
        return self.exports.items.get(int(wanted)) if wanted.isdigit() else None

    def _shown(self, item: dict[str, Any], request: web.Request) -> dict[str, Any]:
        status, expired = self.exports.status(item), self.exports.expired(item)
        shown: dict[str, Any] = {"id": item["id"], "state": status, "isExpired": expired,
                                 "createdAt": _v4_time(item["created"]),
                                 "updatedAt": _v4_time(time.time())}  # fmt: skip
        files = self.exports.files(item) if status == "Complete" and not expired else []
        if files:
            base = f"{request.scheme}://{request.host}/api/export/version/4/do/downloadResults/id/{item['id']}/file"
            refs = [f"{base}/{n + 1}" for n in range(len(files))]
            shown["resultRefs"] = refs[0] if len(refs) == 1 else refs
        return shown


def _as_v5(body: dict[str, Any]) -> dict[str, Any]:
    """A v3/v4 create body in the v5 form ``Exports`` validates (names camelCased, the object into the name)."""
    name = V4_OBJECTS.get(str(body.get("object", "")).lower())
    if name is None:
        raise BadCriterion(154, "The 'object' property must be visitorActivity, prospect or listMembership.")
    given = body.get("procedure")
    procedure: dict[str, Any] = given if isinstance(given, dict) else {}
    arguments: dict[str, Any] = procedure["arguments"] if isinstance(procedure.get("arguments"), dict) else {}
    fields = body["fields"] if "fields" in body else list(ALL_FIELDS[name])
    return {"fields": [_camel(str(f)) for f in fields] if isinstance(fields, list) else fields,
            "procedure": {"name": f"{name}/{_camel(str(procedure.get('name', '')))}",
                          "arguments": {_camel(k): v for k, v in arguments.items()}}}  # fmt: skip


def _camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name.replace(".", "_")).lower()


def _v4_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
