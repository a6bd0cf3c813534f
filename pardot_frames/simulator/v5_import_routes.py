"""The Import API's routes in the simulator (``import-api.md`` 2): create, add a batch, submit, read, errors.

A read takes ``fields`` (every name must be one the import has: an unknown one, such as ``errorRef`` beside
the real ``errorsRef``, fails the whole read with code 51, as the sheet says of real Pardot; the errors
reference's name is a setting, ``import_errors_ref``, since one public client spells it ``errorRef``).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import BodyPartReader, web

from .config import SimConfig
from .state import PardotState
from .v5_imports import Import, ImportError_, Imports
from .wire import json_answer, v5_error


def settled_imports(state: PardotState, config: SimConfig) -> Imports:
    """The account's imports, with the simulator's current settings and faults."""
    if state.imports is None:
        state.imports = Imports()
    imports: Imports = state.imports
    imports.wait, imports.seconds = config.import_wait, config.import_seconds
    imports.daily_batches, imports.max_batch_bytes = config.import_daily_batches, config.import_max_batch_bytes
    imports.apply, faults = config.import_apply, config.faults
    imports.failed, imports.cancelled = faults.import_failed, faults.import_cancelled
    imports.failed_applies, imports.seed = faults.import_failed_applies, faults.seed
    imports.cancelled_status, imports.too_big_code = config.import_cancelled_status, config.import_too_big_code
    imports.errors_ref = config.import_errors_ref
    return imports


class ImportRoutes:
    """Handlers for ``/api/v5/imports`` over one account state."""

    def __init__(self, state: PardotState, imports: Any) -> None:
        self.state = state
        self.imports = imports  # a callable: the account's Imports, with the simulator's current settings

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/api/v5/imports", self.import_create)
        router.add_post("/api/v5/imports/{id}/batches", self.import_batch)
        router.add_patch("/api/v5/imports/{id}", self.import_submit)
        router.add_get("/api/v5/imports/{id}", self.import_read)
        router.add_get("/api/v5/imports/{id}/errors", self.import_errors)

    def _import(self, request: web.Request) -> Import:
        imports: Imports = self.imports()
        item = imports.get(request.match_info["id"])
        imports.advance(item, self.state.import_row)
        return item

    def _import_answer(self, item: Import, request: web.Request, status: int = 200,
                       fields: str | None = None) -> web.Response:  # fmt: skip
        record = self.imports().record(item, f"{request.scheme}://{request.host}")
        if fields is not None:
            record = self.imports().select(record, fields)
        return json_answer(record, status)

    async def import_create(self, request: web.Request) -> web.Response:
        """JSON options, or multipart with ``input`` (JSON) and an optional ``file`` (the first batch)."""
        try:
            files: list[bytes] = []
            if request.content_type.startswith("multipart/"):
                options: Any = None
                async for part in await request.multipart():
                    if not isinstance(part, BodyPartReader):
                        continue
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
            files = [bytes(await part.read()) async for part in await request.multipart()
                     if isinstance(part, BodyPartReader) and part.name == "file"]  # fmt: skip
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
            return self._import_answer(item, request, fields=request.query.get("fields"))
        except ImportError_ as exc:
            return v5_error(exc.code, exc.message, exc.status)

    async def import_errors(self, request: web.Request) -> web.Response:
        try:
            text = self.imports().errors_csv(self._import(request))
        except ImportError_ as exc:
            return v5_error(exc.code, exc.message, exc.status)
        return web.Response(text=text, content_type="text/csv")
