"""Salesforce OAuth in the simulator (facts 1 and 8): the token endpoint and the authorize redirect.

The token endpoint takes its parameters from a form body or the query string, and the client
credentials from them or from HTTP Basic (``Authorization: Basic base64(client_id:client_secret)``),
as Salesforce does. Access tokens are remembered after they die (expired or revoked), so a Pardot
call can tell a token it once issued (184 "...: Inactive token") from one it never issued (the bare
184 text).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .config import SimConfig
from .wire import json_answer


@dataclass
class Token:
    value: str
    issued: float
    calls: int = 0


@dataclass
class Tokens:
    """Live access tokens, those that died, and authorization codes waiting to be exchanged."""

    live: dict[str, Token] = field(default_factory=dict)
    dead: set[str] = field(default_factory=set)
    codes: dict[str, str] = field(default_factory=dict)  # authorization code -> redirect_uri

    def kill(self, value: str) -> None:
        self.live.pop(value, None)
        self.dead.add(value)

    def kill_all(self) -> None:
        self.dead.update(self.live)
        self.live.clear()


async def credentials(request: web.Request) -> dict[str, str]:
    """The grant's parameters: form body, then query string, then HTTP Basic for the client's id and secret."""
    found = {k: str(v) for k, v in (await request.post()).items()} if request.can_read_body else {}
    found = {**dict(request.query), **found}
    basic = request.headers.get("Authorization", "")
    if basic.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(basic[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id, secret = "", ""
        found.setdefault("client_id", client_id)
        found.setdefault("client_secret", secret)
    return found


class OAuth:
    """The two OAuth routes over the simulator's settings and tokens."""

    def __init__(self, config: SimConfig, tokens: Tokens, count: Any) -> None:
        self.config, self.tokens, self.count = config, tokens, count  # count(endpoint, status)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/services/oauth2/token", self.token)
        router.add_get("/services/oauth2/authorize", self.authorize)

    def fail(self, error: str, description: str, status: int = 400) -> web.Response:
        self.count("oauth/token", status)
        return json_answer({"error": error, "error_description": description}, status)

    async def token(self, request: web.Request) -> web.Response:
        form, cfg = await credentials(request), self.config
        if form.get("client_id") != cfg.client_id:
            return self.fail("invalid_client_id", "client identifier invalid")
        if form.get("client_secret") != cfg.client_secret:
            return self.fail("invalid_client", "invalid client credentials", 401)
        grant, refresh = form.get("grant_type"), None
        if grant == "refresh_token":
            if form.get("refresh_token") not in cfg.refresh_tokens:
                return self.fail("invalid_grant", "expired access/refresh token")
            if cfg.rotate_refresh_token:
                refresh = "sim-rt-" + secrets.token_urlsafe(16)
                cfg.refresh_tokens = [t for t in cfg.refresh_tokens if t != form.get("refresh_token")] + [refresh]
        elif grant == "authorization_code":
            if self.tokens.codes.pop(form.get("code", ""), None) != form.get("redirect_uri"):
                return self.fail("invalid_grant", "invalid authorization code")
            refresh = "sim-rt-" + secrets.token_urlsafe(16)
            cfg.refresh_tokens.append(refresh)
        else:
            return self.fail("unsupported_grant_type", "grant type not supported")
        token = Token("sim-at-" + secrets.token_urlsafe(24), time.monotonic())
        self.tokens.live[token.value] = token
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
        self.count("oauth/token", 200)
        return json_answer(body)

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.config.client_id or q.get("response_type") != "code" or not q.get("redirect_uri"):
            return web.Response(status=400, text="error=invalid_client_id: unknown client, or no redirect_uri")
        code = secrets.token_urlsafe(24) + "=="  # real codes end in '=' and arrive as %3D
        self.tokens.codes[code] = q["redirect_uri"]
        raise web.HTTPFound(f"{q['redirect_uri']}?{urlencode({'code': code})}")
