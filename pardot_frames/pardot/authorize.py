"""The connected app's OAuth steps outside a job: the authorize URL, catching the browser's redirect on
localhost, exchanging the code for a refresh token, and checking a job's credentials with one call.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import orjson
from aiohttp import web

from pardot_frames._control import NoAnswer
from pardot_frames.config.connection import Connection
from pardot_frames.config.job import Reachable
from pardot_frames.errors import AuthError, ConfigError
from pardot_frames.pardot import endpoints
from pardot_frames.pardot.client import Client
from pardot_frames.pardot.transport import AiohttpTransport, Request

DEFAULT_LOGIN, DEFAULT_REDIRECT = endpoints.DEFAULT_LOGIN, endpoints.DEFAULT_REDIRECT


def authorize_url(client_id: str, login_url: str = DEFAULT_LOGIN, redirect_uri: str = DEFAULT_REDIRECT) -> str:
    """The URL a user opens to authorise the connected app."""
    query = urlencode({"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code"})
    return f"{login_url.rstrip('/')}{endpoints.AUTHORIZE}?{query}"


def code_from(text: str) -> str:
    """The authorization code from a pasted redirect URL or a bare (possibly %-encoded) code."""
    if "code=" in text:
        values = parse_qs(urlsplit(text.strip()).query or text.split("?", 1)[-1]).get("code")
        if not values:
            raise ConfigError(["no code= in the redirect URL"])
        return values[0]
    return unquote(text.strip())


async def exchange_code(client_id: str, client_secret: str, code: str, login_url: str, redirect_uri: str) -> dict:
    """POST the authorization-code grant; the token response (with refresh_token) or an AuthError."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
    }
    transport = AiohttpTransport(timeout=60, connections=1)
    try:
        answer = await transport.exchange(login_url.rstrip("/"), Request("POST", endpoints.TOKEN, form), {})
    except NoAnswer as exc:
        raise AuthError(f"cannot reach the login server {login_url}: {exc.reason}") from None
    finally:
        await transport.close()
    try:
        body = orjson.loads(answer.text)
    except orjson.JSONDecodeError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if answer.status != 200 or "refresh_token" not in body:
        raise AuthError(
            f"the code exchange failed: {body.get('error')} ({body.get('error_description')}); "
            "codes are good once and for a few minutes: authorise again"
        )
    return body


async def catch_code(port: int, timeout: float) -> str:
    """A one-shot server on localhost:port that waits for the browser's redirect and returns its code."""
    got: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def callback(request: web.Request) -> web.Response:
        if "code" in request.query and not got.done():
            got.set_result(request.query["code"])
            return web.Response(text="pardot-frames: authorised. You can close this tab.")
        return web.Response(status=400, text=f"no code in the redirect: {request.query.get('error', '')}")

    app = web.Application()
    app.router.add_get("/{tail:.*}", callback)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        return await asyncio.wait_for(got, timeout)
    finally:
        await runner.cleanup()


async def check(config: Reachable) -> list[str]:
    """Log in and make one cheap Pardot call; the findings, one line each (raises on failure)."""
    async with Client(Connection.of(config).replace(maximum_retries=1)) as client:
        await client.login()
        lines = [f"login to {config.login_url}: ok (the connected app and refresh token are good)"]
        reply = await client.get(endpoints.prospect_query(limit=1))
        total = reply.body.get("result", {}).get("total_results") if isinstance(reply.body, dict) else None
        lines.append(f"Pardot at {config.pardot_domain}, business unit {config.business_unit}: ok ({total} prospects)")
    return lines
