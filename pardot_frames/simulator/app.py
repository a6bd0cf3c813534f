"""The simulator's HTTP face: Salesforce OAuth, Pardot v4/v5 routes, limits and faults (aiohttp.web).

Order of events for a Pardot call, as a real deployment would apply them: URI length (front
proxy, HTTP 414) -> dropped connection fault -> auth headers and token (181/182/184/201) ->
daily limit (122) -> concurrent limit (66) -> 5xx/183 faults, or the call is applied -> the
answer waits until ``latency`` (+ jitter) has passed since arrival -> lost-response (applied,
then the connection drops) and slow faults -> the answer.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from . import records
from .config import SimConfig
from .imports import Import, ImportError_, Imports
from .state import ApiError, PardotState, _truthy

BU_HEADER = "Pardot-Business-Unit-Id"
BAD_REQUEST_HTML = (
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN"><html><head><title>400 Bad Request</title></head>'
    "<body><h1>Bad Request</h1><p>Your browser sent an invalid request.</p></body></html>"
)
MAINTENANCE_HTML = "<html><body><h1>Down for maintenance</h1><p>We will be back shortly.</p></body></html>"
V5_MEMBERSHIPS = "/api/v5/objects/list-memberships"
V5_IMPORTS = "/api/v5/imports"


@dataclass
class Token:
    value: str
    issued: float
    calls: int = 0


@dataclass
class Runtime:
    """Counters the HTTP layer keeps beside the account state."""

    tokens: dict[str, Token] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # authorization code -> redirect_uri
    pardot_calls: int = 0
    max_attempted: int = 0  # most calls a business unit had in flight at once, counting those refused with 66
    held: int = 0  # calls waiting unanswered (faults.hold_from_call)
    first_call_at: float | None = None  # wall-clock time (time.time()) of the first Pardot call
    daily_calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    max_in_flight: int = 0
    err_184_count: int = 0


def v4_error(code: int, message: str, status: int = 400) -> web.Response:
    body = {"@attributes": {"stat": "fail", "version": 1, "err_code": code}, "err": message}
    return web.json_response(body, status=status)


def v4_ok(status: int = 200, **payload: Any) -> web.Response:
    return web.json_response({"@attributes": {"stat": "ok", "version": 1}, **payload}, status=status)


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


def v5_error(code: int, message: str, status: int = 400) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)


def _endpoint(path: str) -> str:
    parts = path.strip("/").split("/")
    if path.startswith("/api/v5/objects/"):
        return "v5/" + parts[3] if len(parts) > 3 else "v5"
    if path.startswith("/api/v5/"):  # e.g. v5/imports, v5/imports/batches
        return "v5/" + "/".join(p for p in parts[2:] if not p.isdigit())
    if path.startswith("/api/") and len(parts) >= 6:
        return f"{parts[1]}/{parts[5]}"  # e.g. prospect/batchUpsert
    return path


class PardotSimulatorApp:
    """Builds the aiohttp application around one ``PardotState`` and ``SimConfig``."""

    def __init__(self, config: SimConfig, state: PardotState) -> None:
        self.config = config
        self.state = state
        self.runtime = Runtime()
        # the request line may be far longer than aiohttp's default, so that max_uri_length (HTTP 414)
        # decides, as a real front server would
        handler_args = {"max_line_size": 1 << 22, "max_field_size": 1 << 16}
        self.app = web.Application(
            middlewares=[self._pardot_middleware], handler_args=handler_args, client_max_size=11 * 1024 * 1024
        )  # bodies up to an import batch and more: the import limit (413) is the simulator's own
        r = self.app.router
        r.add_post("/services/oauth2/token", self.oauth_token)
        r.add_get("/services/oauth2/authorize", self.oauth_authorize)
        r.add_route("*", "/api/prospect/version/{v}/do/batchUpsert", self.batch_upsert)
        r.add_route("*", "/api/prospect/version/{v}/do/read/id/{id}", self.read_prospect)
        r.add_route("*", "/api/prospect/version/{v}/do/read/email/{email}", self.read_prospect)
        r.add_route("*", "/api/prospect/version/{v}/do/query", self.query_prospects)
        r.add_route("*", "/api/prospect/version/{v}/do/delete/id/{id}", self.delete_prospect)
        r.add_route("*", "/api/list/version/{v}/do/query", self.query_lists)
        r.add_route("*", "/api/list/version/{v}/do/create", self.create_list)
        r.add_route("*", "/api/list/version/{v}/do/delete/id/{id}", self.delete_list)
        r.add_route("*", "/api/listMembership/version/{v}/do/query", self.query_memberships)
        r.add_route("*", "/api/customField/version/{v}/do/query", self.query_custom_fields)
        r.add_route(
            "*",
            "/api/listMembership/version/{v}/do/{op}/list_id/{list_id}/prospect_id/{prospect_id}",
            self.v4_membership,
        )
        r.add_post(V5_MEMBERSHIPS, self.v5_create)
        r.add_delete(V5_MEMBERSHIPS + "/{id}", self.v5_delete)
        r.add_post(V5_IMPORTS, self.import_create)
        r.add_post(V5_IMPORTS + "/{id}/batches", self.import_batch)
        r.add_patch(V5_IMPORTS + "/{id}", self.import_submit)
        r.add_get(V5_IMPORTS + "/{id}", self.import_read)
        r.add_get(V5_IMPORTS + "/{id}/errors", self.import_errors)
        r.add_get("/__sim__/state", self.sim_state)
        r.add_patch("/__sim__/config", self.sim_config)
        r.add_post("/__sim__/seed", self.sim_seed)

    # ---- OAuth ------------------------------------------------------------------------------
    async def oauth_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.state.calls_by_endpoint["oauth/token"] += 1
        cfg = self.config

        def fail(error: str, description: str, status: int = 400) -> web.Response:
            self.state.status_counts[status] += 1
            return web.json_response({"error": error, "error_description": description}, status=status)

        if form.get("client_id") != cfg.client_id:
            return fail("invalid_client_id", "client identifier invalid")
        if form.get("client_secret") != cfg.client_secret:
            return fail("invalid_client", "invalid client credentials", 401)
        grant = form.get("grant_type")
        refresh = None
        if grant == "refresh_token":
            if form.get("refresh_token") not in cfg.refresh_tokens:
                return fail("invalid_grant", "expired access/refresh token")
            if cfg.rotate_refresh_token:
                refresh = "sim-rt-" + secrets.token_urlsafe(16)
                cfg.refresh_tokens = [t for t in cfg.refresh_tokens if t != form.get("refresh_token")] + [refresh]
        elif grant == "authorization_code":
            code = str(form.get("code", ""))
            if self.runtime.codes.pop(code, None) != form.get("redirect_uri"):
                return fail("invalid_grant", "invalid authorization code")
            refresh = "sim-rt-" + secrets.token_urlsafe(16)
            cfg.refresh_tokens.append(refresh)
        else:
            return fail("unsupported_grant_type", "grant type not supported")
        token = Token("sim-at-" + secrets.token_urlsafe(24), time.monotonic())
        self.runtime.tokens[token.value] = token
        base = f"{request.scheme}://{request.host}"
        body = {
            "access_token": token.value,
            "signature": secrets.token_urlsafe(32),
            "scope": "refresh_token pardot_api",
            "instance_url": base,
            "id": f"{base}/id/00D000000000001AAA/005000000000001AAA",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
        }
        if refresh:
            body["refresh_token"] = refresh
        self.state.status_counts[200] += 1
        return web.json_response(body)

    async def oauth_authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.config.client_id or q.get("response_type") != "code" or not q.get("redirect_uri"):
            return web.Response(status=400, text="error=invalid_client_id: unknown client, or no redirect_uri")
        code = secrets.token_urlsafe(24) + "=="  # real codes end in '=' and arrive as %3D
        self.runtime.codes[code] = q["redirect_uri"]
        raise web.HTTPFound(f"{q['redirect_uri']}?{urlencode({'code': code})}")

    # ---- the Pardot pipeline ----------------------------------------------------------------
    def _auth_error(self, request: web.Request) -> web.Response | None:
        auth = request.headers.get("Authorization")
        unit = request.headers.get(BU_HEADER)
        if not auth or not unit:
            return v4_error(181, "A required header is missing")
        if not auth.startswith("Bearer ") or not unit.startswith("0Uv") or len(unit) not in (15, 18):
            return v4_error(182, "Invalid header value")
        token = self.runtime.tokens.get(auth.removeprefix("Bearer ").strip())
        cfg = self.config
        expired = token is not None and (
            (cfg.token_ttl_seconds is not None and time.monotonic() - token.issued > cfg.token_ttl_seconds)
            or (cfg.token_ttl_calls is not None and token.calls >= cfg.token_ttl_calls)
        )
        if token is None or expired:
            if token is not None:
                self.runtime.tokens.pop(token.value, None)
            self.runtime.err_184_count += 1
            status = cfg.err_184_status
            if status == "alternate":
                status = 401 if self.runtime.err_184_count % 2 else 400
            return v4_error(184, "access_token is invalid, unknown, or malformed: Inactive token", int(status))
        if unit not in cfg.business_units:
            return v4_error(201, "Business Unit specified in Pardot-Business-Unit-Id header not found or inactive.")
        token.calls += 1
        return None

    @web.middleware
    async def _pardot_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        arrived = time.monotonic()
        cfg, rt, state = self.config, self.runtime, self.state
        endpoint = _endpoint(request.path)
        state.calls_by_endpoint[endpoint] += 1
        if cfg.max_uri_length is not None and len(request.raw_path) > cfg.max_uri_length:
            if cfg.uri_too_long_status == 400:  # what real Pardot's front end answers for very long URIs
                return self._count(web.Response(status=400, text=BAD_REQUEST_HTML, content_type="text/html"))
            return self._count(web.Response(status=414, text="414 Request-URI Too Long"))
        rt.pardot_calls += 1
        call = rt.pardot_calls
        if rt.first_call_at is None:
            rt.first_call_at = time.time()
        draw = random.Random(f"{cfg.faults.seed}:{call}")
        roll, slow_roll, jitter = draw.random(), draw.random(), draw.random()
        f = cfg.faults
        if f.revoke_at_call is not None and call == f.revoke_at_call:
            rt.tokens.clear()
            state.fault_counts["revoke"] += 1
        if roll < f.drop:
            state.fault_counts["drop"] += 1
            return self._drop(request)
        if f.hold_from_call is not None and call > f.hold_from_call:
            await self._hold(call)  # not applied while held
        held_after = f.hold_from_call is not None and call == f.hold_from_call
        if (error := self._auth_error(request)) is not None:
            return self._count(error, request)
        unit = request.headers[BU_HEADER]
        if cfg.daily_limit is not None and rt.daily_calls[unit] >= cfg.daily_limit:
            return self._count(v4_error(122, "Daily API rate limit met", cfg.limit_error_status), request)
        rt.daily_calls[unit] += 1
        rt.max_attempted = max(rt.max_attempted, rt.in_flight[unit] + 1)  # what the client tried, refused or not
        if rt.in_flight[unit] >= cfg.concurrency_limit:
            message = "You have exceeded your concurrent request limit. Please wait, before trying again"
            return self._count(v4_error(66, message, cfg.limit_error_status), request)
        rt.in_flight[unit] += 1
        rt.max_in_flight = max(rt.max_in_flight, rt.in_flight[unit])
        try:
            roll -= f.drop
            applied = False
            if roll < f.http_5xx:
                state.fault_counts["http_5xx"] += 1
                response: web.StreamResponse = web.Response(status=(500, 502, 503)[call % 3], text="Server Error")
            elif roll - f.http_5xx < f.err_183:
                state.fault_counts["err_183"] += 1
                response = v4_error(183, "An internal error has occurred, please try again", 400)
            elif roll - f.http_5xx - f.err_183 < f.proxy_html:
                state.fault_counts["proxy_html"] += 1
                response = web.Response(status=200, text=MAINTENANCE_HTML, content_type="text/html")
            elif roll - f.http_5xx - f.err_183 - f.proxy_html < f.gateway_5xx:
                await handler(request)  # applied, but the gateway in front gave up waiting
                state.fault_counts["gateway_5xx"] += 1
                response = web.Response(status=(502, 504)[call % 2], text="<html><body>Gateway Timeout</body></html>")
            else:
                response = await handler(request)
                applied = True
            if held_after:
                await self._hold(call)  # applied, not answered
            # latency is the time to answer: what the work took is part of it
            wait = cfg.latency + cfg.jitter * jitter - (time.monotonic() - arrived)
            if wait > 0:
                await asyncio.sleep(wait)
            if applied and roll - f.http_5xx - f.err_183 - f.proxy_html - f.gateway_5xx < f.lost:
                state.fault_counts["lost"] += 1
                return self._drop(request)
            if slow_roll < f.slow:
                state.fault_counts["slow"] += 1
                await asyncio.sleep(f.slow_seconds)
            return self._count(response, request)
        finally:
            rt.in_flight[unit] -= 1

    def _count(self, response: web.StreamResponse, request: web.Request | None = None) -> web.StreamResponse:
        self.state.status_counts[response.status] += 1
        body = getattr(response, "body", None)
        if isinstance(body, bytes) and body.startswith(b"{"):
            try:
                data = json.loads(body)
            except ValueError:
                data = {}
            code = data.get("@attributes", {}).get("err_code") if isinstance(data, dict) else None
            code = code if code is not None else (data.get("code") if isinstance(data, dict) else None)
            if code is not None:
                self.state.error_counts[int(code)] += 1
        return response

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError  # the handler ends; the client sees the connection close

    # ---- v4 prospects -----------------------------------------------------------------------
    async def _param(self, request: web.Request, name: str) -> str | None:
        if name in request.query:
            return request.query[name]
        if request.method == "POST" and request.can_read_body and self.config.body_params:
            ctype = request.content_type
            if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                value = form.get(name)
                if value is not None and hasattr(value, "file"):
                    return value.file.read().decode("utf-8")
                return None if value is None else str(value)
            raise ApiError(71)  # a raw JSON (or other) body is not how v4 takes parameters
        return None

    async def batch_upsert(self, request: web.Request) -> web.Response:
        try:
            raw = await self._param(request, "prospects")
            if raw is None:
                raise ApiError(13, "Required parameters are missing: prospects")
            try:
                data = json.loads(raw)
            except ValueError:
                raise ApiError(71) from None
            if not isinstance(data, dict) or "prospects" not in data:
                raise ApiError(71)
            created, errors = self.state.batch_upsert(data["prospects"])
        except ApiError as exc:
            return v4_error(exc.code, exc.message)
        status = 201 if created else 200
        body = {"@attributes": {"stat": "fail" if errors else "ok", "version": 1}, "errors": errors}
        return web.json_response(body, status=status)

    def _present(self, record: dict[str, Any], mobile: bool = False) -> dict[str, Any]:
        subscriptions = [records.subscription(m, lst) for m, lst in self.state.subscriptions(record["id"])]
        return records.prospect_record(record, self.state.custom_fields, subscriptions, mobile=mobile)

    async def read_prospect(self, request: web.Request) -> web.Response:
        try:
            found = self.state.read_prospect(
                prospect_id=request.match_info.get("id"), email=request.match_info.get("email")
            )
        except ApiError as exc:
            return v4_error(exc.code, exc.message)
        return v4_ok(prospect=records.one_or_many([self._present(p) for p in found]))

    async def delete_prospect(self, request: web.Request) -> web.Response:
        return deleted(lambda: self.state.delete_prospect(request.match_info["id"]))

    async def query_prospects(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        try:
            total, found = self.state.query_prospects(params)
        except ValueError:
            return v4_error(56, "Invalid number")
        mobile = params.get("output") == "mobile"
        return query_result("prospect", [self._present(p, mobile) for p in found], total)

    # ---- lists and custom fields ------------------------------------------------------------------
    async def query_lists(self, request: web.Request) -> web.Response:
        return query_result("list", [records.list_record(r) for r in self.state.lists_named(request.query.get("name"))])

    async def create_list(self, request: web.Request) -> web.Response:
        name = await self._param(request, "name")
        if not name:
            return v4_error(13, "Required parameters are missing: name")
        return v4_ok(list=records.list_record(self.state.add_list(name=name)))

    async def delete_list(self, request: web.Request) -> web.Response:
        return deleted(lambda: self.state.delete_list(request.match_info["id"]))

    async def query_memberships(self, request: web.Request) -> web.Response:
        try:
            total, found = self.state.query_memberships(dict(request.query))
        except ValueError:
            return v4_error(56, "Invalid number")
        return query_result("list_membership", found, total)

    async def query_custom_fields(self, request: web.Request) -> web.Response:
        return query_result("customField", [records.custom_field(d) for d in self.state.custom_fields.values()])

    # ---- list memberships -------------------------------------------------------------------
    async def v4_membership(self, request: web.Request) -> web.Response:
        op = request.match_info["op"]
        try:
            list_id, prospect_id = int(request.match_info["list_id"]), int(request.match_info["prospect_id"])
        except ValueError:
            return v4_error(56, "Invalid number")
        opted = request.query.get("opted_out")
        opted_out = _truthy(opted) if opted is not None else None
        try:
            if op == "create":
                record = self.state.create_membership(list_id, prospect_id, bool(opted_out))
            elif op == "read":
                record = self.state.get_membership(list_id, prospect_id)
            elif op == "update":
                record = self.state.update_membership(list_id, prospect_id, opted_out)
            elif op == "delete":
                self.state.delete_membership(list_id, prospect_id)
                return web.Response(status=204)
            else:
                return v4_error(60, "Invalid HTTP method or action")
        except ApiError as exc:
            return v4_error(exc.code, exc.message)
        return v4_ok(list_membership=record)

    # ---- the Import API (v5) ----------------------------------------------------------------
    def _imports(self) -> Imports:
        if self.state.imports is None:
            self.state.imports = Imports()
        imports: Imports = self.state.imports
        imports.wait, imports.seconds = self.config.import_wait, self.config.import_seconds
        imports.daily_batches = self.config.import_daily_batches
        imports.max_batch_bytes = self.config.import_max_batch_bytes
        imports.apply = self.config.import_apply
        faults = self.config.faults
        imports.failed, imports.cancelled = faults.import_failed, faults.import_cancelled
        imports.failed_applies, imports.seed = faults.import_failed_applies, faults.seed
        return imports

    def _import(self, request: web.Request) -> Import:
        imports = self._imports()
        item = imports.get(request.match_info["id"])
        imports.advance(item, self.state.import_row)
        return item

    def _import_answer(self, item: Import, request: web.Request, status: int = 200) -> web.Response:
        return web.json_response(self._imports().record(item, f"{request.scheme}://{request.host}"), status=status)

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
            item = self._imports().create(options, self.state.import_fields())
            for data in files:
                self._imports().add_batch(item, data, self.state.import_fields())
            if options.get("status") == "Ready":
                self._imports().submit(item, {"status": "Ready"})
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
            self._imports().add_batch(item, files[0], self.state.import_fields())
        except ImportError_ as exc:
            return v5_error(exc.code, exc.message, exc.status)
        return web.Response(status=204)

    async def import_submit(self, request: web.Request) -> web.Response:
        try:
            item = self._import(request)
            body = await request.json()
            self._imports().submit(item, body if isinstance(body, dict) else {})
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
            text = self._imports().errors_csv(self._import(request))
        except ImportError_ as exc:
            return v5_error(exc.code, exc.message, exc.status)
        return web.Response(text=text, content_type="text/csv")

    async def v5_create(self, request: web.Request) -> web.Response:
        try:
            data = await request.json()
            list_id, prospect_id = int(data["listId"]), int(data["prospectId"])
        except (ValueError, KeyError, TypeError):
            return v5_error(13, "listId and prospectId are required integers")
        try:
            record = self.state.create_membership(list_id, prospect_id, bool(data.get("optedOut", False)))
        except ApiError as exc:
            return v5_error(exc.code, exc.message)
        return web.json_response(_v5(record), status=201)

    async def v5_delete(self, request: web.Request) -> web.Response:
        try:
            self.state.delete_membership_by_id(int(request.match_info["id"]))
        except (ApiError, ValueError):
            return v5_error(109, "The requested record was not found.", 404)
        return web.Response(status=204)

    async def _hold(self, call: int) -> None:
        """Wait while calls from ``hold_from_call`` on are held (until the setting is cleared)."""
        self.runtime.held += 1
        try:
            while self.config.faults.hold_from_call is not None and call >= self.config.faults.hold_from_call:
                await asyncio.sleep(0.01)
        finally:
            self.runtime.held -= 1

    # ---- inspection ---------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        data = self.state.snapshot()
        data.update(
            pardot_calls=self.runtime.pardot_calls,
            first_call_at=self.runtime.first_call_at,
            daily_calls=dict(self.runtime.daily_calls),
            max_concurrency=self.runtime.max_in_flight,
            max_attempted_concurrency=self.runtime.max_attempted,
            config=self.config.public(),
        )
        return data

    async def sim_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())

    async def sim_config(self, request: web.Request) -> web.Response:
        try:
            self.config.update(await request.json())
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        self.state.one_prospect_per_email = self.config.one_prospect_per_email
        return web.json_response(self.config.public())

    async def sim_seed(self, request: web.Request) -> web.Response:
        seed(self.state, await request.json())
        return web.json_response({"prospects": len(self.state.prospects), "lists": len(self.state.lists)})


def _v5(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "listId": record["list_id"],
        "prospectId": record["prospect_id"],
        "optedOut": record["opted_out"],
        "createdAt": record["created_at"],
        "updatedAt": record["updated_at"],
    }


def seed(state: PardotState, data: dict[str, Any]) -> None:
    """Load ``{"lists": [...], "prospects": [...], "memberships": [...]}`` (ids or records) into state."""
    for item in data.get("custom_fields", []):
        state.add_custom_field(item)
    for item in data.get("lists", []):
        item = {"id": item} if isinstance(item, int) else item
        state.add_list(int(item["id"]), item.get("name"))
    for item in data.get("prospects", []):
        state.add_prospect(**item)
    for item in data.get("memberships", []):
        state._add_member(int(item["list_id"]), int(item["prospect_id"]), tolerate_existing=True)
