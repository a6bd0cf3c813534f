"""What the simulator's answers look like on the wire, and how it reads parameters (facts 5 and 8).

JSON answers carry ``Content-Type: application/json`` exactly, without a charset, as real Pardot's do
(some clients compare the header). v3/v4 parameters are read from the query string and from a
form-encoded or multipart POST body alike; the query string wins where both give one.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from . import records
from .state import ApiError

JSON = "application/json"


def json_answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer whose content type is exactly ``application/json``."""
    response = web.Response(body=orjson.dumps(body), status=status, headers=headers)
    response.headers["Content-Type"] = JSON
    return response


def v4_error(code: int, message: str | None = None, status: int = 400) -> web.Response:
    text = message if message is not None else ApiError(code).message
    return json_answer({"@attributes": {"stat": "fail", "version": 1, "err_code": code}, "err": text}, status)


def v4_ok(status: int = 200, **payload: Any) -> web.Response:
    return json_answer({"@attributes": {"stat": "ok", "version": 1}, **payload}, status)


def v5_error(code: int | None, message: str, status: int = 400) -> web.Response:
    """A v5 error body ``{"code", "message"}``; with no code (an answer whose code is not Pardot's to give, such
    as a front server's 413), a plain text body."""
    if code is None:
        return web.Response(status=status, text=message)
    return json_answer({"code": code, "message": message}, status)


def query_result(key: str, found: list[Any], total: int | None = None) -> web.Response:
    """A v4 query answer: ``result.total_results`` and, when anything matched, the records under ``key``."""
    result: dict[str, Any] = {"total_results": len(found) if total is None else total}
    if found:
        result[key] = records.one_or_many(found)
    return v4_ok(result=result)


def deleted(delete: Any) -> web.Response:
    """A v4 delete: 204 with an empty body, or the Pardot error."""
    try:
        delete()
    except ApiError as exc:
        return v4_error(exc.code, exc.message)
    return web.Response(status=204)


async def params(request: web.Request, body_params: bool = True, strict: str | None = None) -> dict[str, str]:
    """Every v4 parameter of a request: the form-encoded or multipart body's (files read as text), then the
    query string's over them. A JSON body is no parameter source and hides none (facts 8: recorded, a ``{}``
    body beside ``?prospects=...`` created the prospect); with ``strict`` (a parameter's name), a JSON body
    is refused (error 71) when the query string lacks that parameter: the data was sent as raw JSON."""
    found: dict[str, str] = {}
    if request.method in ("POST", "PUT", "PATCH") and request.can_read_body and body_params:
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for name, value in (await request.post()).items():
                found[name] = value.file.read().decode("utf-8") if hasattr(value, "file") else str(value)
        elif strict and request.content_type in (JSON, "text/json") and strict not in request.query:
            raise ApiError(71)
    found.update(request.query)
    return found
