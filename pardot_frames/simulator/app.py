"""The simulator's HTTP face: Salesforce OAuth, Pardot v4/v5 routes, limits and faults (aiohttp.web).

A Pardot call goes through one pipeline (``_pardot_middleware``): the URI length (a front server's
HTTP 414) -> dropped connection fault -> auth headers and token (181/182/184/201) -> daily limit
(122) -> concurrent limit (66) -> 5xx/183 faults, or the call is applied -> the answer, unless it
is lost (applied, then the connection drops) and slow faults. The routes live by API: ``oauth``,
``v4`` (prospects, lists, list memberships, custom fields), ``v5`` (object reads, memberships, the
Import API); answers and parameters in ``wire``. An ``/api/`` path no route serves answers a Pardot
error body.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from .admin import Admin
from .config import SimConfig
from .email_clicks import EmailClicks
from .export_v4 import ExportsV4
from .exports import Exports
from .oauth import OAuth, Tokens
from .state import PardotState
from .v4 import V4, invalid_action
from .v5 import V5
from .v5_import_routes import ImportRoutes, settled_imports
from .wire import v4_error, v5_error

BU_HEADER = "Pardot-Business-Unit-Id"
BAD_REQUEST_HTML = (
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN"><html><head><title>400 Bad Request</title></head>'
    "<body><h1>Bad Request</h1><p>Your browser sent an invalid request.</p></body></html>"
)
MAINTENANCE_HTML = "<html><body><h1>Down for maintenance</h1><p>We will be back shortly.</p></body></html>"
TOKEN_TEXT = "access_token is invalid, unknown, or malformed"


V4_FAILED = b'{"@attributes":{"stat":"fail"'  # how the simulator's v4 errors begin (compact JSON, keys in order)


@dataclass
class Runtime:
    """Counters the HTTP layer keeps beside the account state."""

    tokens: Tokens = field(default_factory=Tokens)
    pardot_calls: int = 0
    max_attempted: int = 0  # most calls a business unit had in flight at once, counting those refused with 66
    held: int = 0  # calls waiting unanswered (faults.hold_from_call)
    first_call_at: float | None = None  # wall-clock time (time.time()) of the first Pardot call
    daily_calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    max_in_flight: int = 0
    err_184_count: int = 0
    lateness: float = 0.0  # how late the event loop's timer wakes, on average (seconds): see ``_answer_at``


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
        OAuth(config, self.runtime.tokens, self._count_login).add_routes(r)
        V4(state, lambda: self.config.body_params, lambda: self.config.field_values_shown).add_routes(r)
        EmailClicks(state).add_routes(r)
        exports = Exports(state, lambda: self.config)
        ExportsV4(exports).add_routes(r)
        exports.add_routes(r)  # before V5: /api/v5/objects/exports/{id} is theirs
        V5(state, lambda: self.config).add_routes(r)
        ImportRoutes(state, lambda: settled_imports(self.state, self.config)).add_routes(r)
        Admin(self).add_routes(r)
        r.add_route("*", "/api/{rest:.*}", self.unknown_path)

    def _count_login(self, endpoint: str, status: int) -> None:
        self.state.calls_by_endpoint[endpoint] += 1
        self.state.status_counts[status] += 1

    async def unknown_path(self, request: web.Request) -> web.Response:
        if request.path.startswith("/api/v5/"):
            return v5_error(404, f"Not found: {request.path}", 404)
        return invalid_action(request)

    # ---- the Pardot pipeline ----------------------------------------------------------------
    def _auth_error(self, request: web.Request) -> web.Response | None:
        """181/182/184/201, in the body shape of the API asked (v5: ``{"code", "message"}``, as recorded)."""
        error = v5_error if request.path.startswith("/api/v5/") else v4_error
        auth = request.headers.get("Authorization")
        unit = request.headers.get(BU_HEADER)
        if not unit:
            return error(181, f"A required header is missing: {BU_HEADER} header not found on request.")
        if not auth:
            return error(181, "A required header is missing: Authorization header not found on request.")
        if not auth.startswith("Bearer ") or not unit.startswith("0Uv") or len(unit) not in (15, 18):
            return error(182, "Invalid header value")
        value = auth.removeprefix("Bearer ").strip()
        tokens, cfg = self.runtime.tokens, self.config
        token = tokens.live.get(value)
        expired = token is not None and (
            (cfg.token_ttl_seconds is not None and time.monotonic() - token.issued > cfg.token_ttl_seconds)
            or (cfg.token_ttl_calls is not None and token.calls >= cfg.token_ttl_calls)
        )
        if token is None or expired:
            if token is not None:
                tokens.kill(value)
            self.runtime.err_184_count += 1
            status = cfg.err_184_status
            if status == "alternate":
                status = 401 if self.runtime.err_184_count % 2 else 400
            # a token this server issued and that died says so; one it never issued gets the bare text
            message = f"{TOKEN_TEXT}: Inactive token" if value in tokens.dead else TOKEN_TEXT
            return error(184, message, int(status))
        if unit not in cfg.business_units:
            return error(201, "Business Unit specified in Pardot-Business-Unit-Id header not found or inactive.")
        token.calls += 1
        return None

    @web.middleware
    async def _pardot_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        arrived = time.monotonic()
        self.state.calls_by_endpoint[_endpoint(request.path)] += 1
        if (too_long := self._uri_refused(request)) is not None:
            return self._count(too_long)
        call, draw = self._next_call()
        f = self.config.faults
        if draw[0] < f.drop:
            self.state.fault_counts["drop"] += 1
            return self._drop(request)
        if f.hold_from_call is not None and call > f.hold_from_call:
            await self._hold(call)  # not applied while held
        error = self._auth_error(request)  # (a Response is a mapping, falsy when empty: compare with None)
        error = error if error is not None else self._limit_error(request)
        if error is not None:
            return self._count(error, request)
        unit = request.headers[BU_HEADER]
        self.runtime.in_flight[unit] += 1
        self.runtime.max_in_flight = max(self.runtime.max_in_flight, self.runtime.in_flight[unit])
        try:
            return await self._serve(request, handler, call, draw, arrived)
        finally:
            self.runtime.in_flight[unit] -= 1

    def _uri_refused(self, request: web.Request) -> web.Response | None:
        """A front server's answer to a request line longer than it takes (414, or real Pardot's HTML 400)."""
        cfg = self.config
        if cfg.max_uri_length is None or len(request.raw_path) <= cfg.max_uri_length:
            return None
        if cfg.uri_too_long_status == 400:
            return web.Response(status=400, text=BAD_REQUEST_HTML, content_type="text/html")
        return web.Response(status=414, text="414 Request-URI Too Long")

    def _next_call(self) -> tuple[int, tuple[float, float, float]]:
        """The call's number and its fault draws (roll, slow roll, jitter), the same for a seed and number."""
        rt, f = self.runtime, self.config.faults
        rt.pardot_calls += 1
        call = rt.pardot_calls
        if rt.first_call_at is None:
            rt.first_call_at = time.time()
        draw = random.Random(f"{f.seed}:{call}")
        if f.revoke_at_call is not None and call == f.revoke_at_call:
            rt.tokens.kill_all()
            self.state.fault_counts["revoke"] += 1
        return call, (draw.random(), draw.random(), draw.random())

    def _limit_error(self, request: web.Request) -> web.Response | None:
        """The business unit's daily limit (122) and concurrent limit (66)."""
        cfg, rt = self.config, self.runtime
        unit = request.headers[BU_HEADER]
        if cfg.daily_limit is not None and rt.daily_calls[unit] >= cfg.daily_limit:
            return v4_error(122, "Daily API rate limit met", cfg.limit_error_status)
        rt.daily_calls[unit] += 1
        rt.max_attempted = max(rt.max_attempted, rt.in_flight[unit] + 1)  # what the client tried, refused or not
        if rt.in_flight[unit] >= cfg.concurrency_limit:
            message = "You have exceeded your concurrent request limit. Please wait, before trying again"
            return v4_error(66, message, cfg.limit_error_status)
        return None

    async def _serve(
        self, request: web.Request, handler: Any, call: int, draw: tuple[float, float, float], arrived: float
    ) -> web.StreamResponse:
        """The call applied (or a fault instead), answered after the configured latency, perhaps lost or slow."""
        cfg, f, state = self.config, self.config.faults, self.state
        roll, slow_roll, jitter = draw
        response, applied = await self._apply(request, handler, call, roll - f.drop)
        if f.hold_from_call is not None and call == f.hold_from_call:
            await self._hold(call)  # applied, not answered
        await self._answer_at(arrived + cfg.latency + cfg.jitter * jitter)  # the work is part of the latency
        if applied and roll - f.drop - f.http_5xx - f.err_183 - f.proxy_html - f.gateway_5xx < f.lost:
            state.fault_counts["lost"] += 1
            return self._drop(request)
        if slow_roll < f.slow:
            state.fault_counts["slow"] += 1
            await asyncio.sleep(f.slow_seconds)
        return self._count(response, request)

    async def _answer_at(self, deadline: float) -> None:
        """Wait until ``deadline`` (monotonic), on time on average: asyncio's timer wakes up to a millisecond
        late (epoll counts whole milliseconds, rounded up), which would make every call take longer than the
        latency setting says; the simulator learns that lateness and wakes that much earlier."""
        wait = deadline - time.monotonic()
        if wait <= 0:
            return
        early = min(self.runtime.lateness, wait)
        await asyncio.sleep(wait - early)
        late = time.monotonic() - (deadline - early)
        self.runtime.lateness += (min(max(late, 0.0), 0.002) - self.runtime.lateness) / 16

    async def _apply(
        self, request: web.Request, handler: Any, call: int, roll: float
    ) -> tuple[web.StreamResponse, bool]:
        """The handler's answer and True, or a fault's answer (5xx, 183, a proxy page, a gateway timeout)."""
        f, counts = self.config.faults, self.state.fault_counts
        if roll < f.http_5xx:
            counts["http_5xx"] += 1
            return web.Response(status=(500, 502, 503)[call % 3], text="Server Error"), False
        roll -= f.http_5xx
        if roll < f.err_183:
            counts["err_183"] += 1
            return v4_error(183, "An internal error has occurred, please try again", 400), False
        roll -= f.err_183
        if roll < f.proxy_html:
            counts["proxy_html"] += 1
            return web.Response(status=200, text=MAINTENANCE_HTML, content_type="text/html"), False
        if roll - f.proxy_html < f.gateway_5xx:
            await handler(request)  # applied, but the gateway in front gave up waiting
            counts["gateway_5xx"] += 1
            return web.Response(status=(502, 504)[call % 2], text="<html><body>Gateway Timeout</body></html>"), False
        return await handler(request), True

    def _count(self, response: web.StreamResponse, request: web.Request | None = None) -> web.StreamResponse:
        self.state.status_counts[response.status] += 1
        body = getattr(response, "body", None)
        # only an error carries a code (an HTTP error, or a v4 "stat": "fail" body): a page of records is never
        # parsed back here (it held 40% of a read benchmark's simulator time)
        if isinstance(body, bytes) and (response.status >= 400 or body.startswith(V4_FAILED)) and body[:1] == b"{":
            try:
                data = orjson.loads(body)
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
            held_calls=self.runtime.held,
            config=self.config.public(),
        )
        return data
