"""A bare aiohttp client for testing the simulator itself (the engine has its own transport)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import aiohttp

from pardot_frames.simulator import Simulator

V4 = "/api/prospect/version/4/do"


class Raw:
    """Sends exactly what a test asks, over real HTTP, and returns (status, parsed body)."""

    def __init__(self, sim: Simulator, session: aiohttp.ClientSession) -> None:
        self.sim, self.session, self.token = sim, session, None

    async def login(self, **overrides: str) -> tuple[int, Any]:
        c = self.sim.credentials
        form = {
            "grant_type": "refresh_token",
            "client_id": c["client_id"],
            "client_secret": c["client_secret"],
            "refresh_token": c["refresh_token"],
            **overrides,
        }
        async with self.session.post(self.sim.login_url + "/services/oauth2/token", data=form) as r:
            body = await r.json()
        if r.status == 200:
            self.token = body["access_token"]
        return r.status, body

    def headers(self, **extra: str) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.token}", "Pardot-Business-Unit-Id": self.sim.credentials["business_unit"]}
        h.update(extra)
        return {k: v for k, v in h.items() if v}

    async def call(self, method: str, path: str, *, headers: dict | None = None, **kwargs: Any) -> tuple[int, Any]:
        async with self.session.request(
            method, self.sim.pardot_domain + path, headers=headers or self.headers(), **kwargs
        ) as r:
            text = await r.text()
        try:
            return r.status, json.loads(text) if text else None
        except ValueError:
            return r.status, text

    async def upsert(self, rows: Any, how: str = "query", **kwargs: Any) -> tuple[int, Any]:
        value = json.dumps({"prospects": rows})
        path = f"{V4}/batchUpsert?format=json"
        if how == "query":
            return await self.call("POST", f"{path}&prospects={quote(value, safe='')}", **kwargs)
        if how == "form":
            return await self.call("POST", path, data={"prospects": value}, **kwargs)
        form = aiohttp.FormData()
        form.add_field("prospects", value)
        return await self.call("POST", path, data=form, **kwargs)


def err(body: Any) -> int | None:
    """The Pardot error code of a v4 body, if any."""
    return body.get("@attributes", {}).get("err_code") if isinstance(body, dict) else None


def run(scenario: Any, **settings: Any) -> Any:
    """Start a simulator (``settings``), log in over real HTTP, and return ``await scenario(sim, raw)``."""
    import asyncio

    async def main() -> Any:
        async with Simulator(**settings) as sim, aiohttp.ClientSession() as session:
            raw = Raw(sim, session)
            status, _ = await raw.login()
            assert status == 200
            return await scenario(sim, raw)

    return asyncio.run(main())
