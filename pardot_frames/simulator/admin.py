"""The simulator's own endpoints (``/__sim__/``), for scripts and other clients' tests: read the account
and the counters (``GET state``: ``held_calls`` says how many calls wait unanswered under
``faults.hold_from_call``, the point to kill a job at when rehearsing a crash), change settings
(``PATCH config``), and load lists, prospects, memberships and custom fields (``POST seed``)."""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from .activity import generate
from .config import SimConfig
from .state import PardotState
from .wire import json_answer


class Served(Protocol):
    """What the admin routes need of the app that serves them (the app itself: no import back)."""

    config: SimConfig
    state: PardotState

    def snapshot(self) -> dict[str, Any]: ...


class Admin:
    """The ``/__sim__/`` routes of one simulator app."""

    def __init__(self, app: Served) -> None:
        self.app = app

    def add_routes(self, r: web.UrlDispatcher) -> None:
        r.add_get("/__sim__/state", self.sim_state)
        r.add_patch("/__sim__/config", self.sim_config)
        r.add_post("/__sim__/seed", self.sim_seed)

    async def sim_state(self, request: web.Request) -> web.Response:
        return json_answer(self.app.snapshot())

    async def sim_config(self, request: web.Request) -> web.Response:
        try:
            self.app.config.update(await request.json())
        except (ValueError, TypeError, AttributeError) as exc:
            return json_answer({"error": str(exc)}, 400)
        self.app.state.follow(self.app.config)
        return json_answer(self.app.config.public())

    async def sim_seed(self, request: web.Request) -> web.Response:
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise TypeError("the seed is a JSON object of lists, prospects, memberships and custom_fields")
            seed(self.app.state, data)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            return json_answer({"error": f"bad seed: {what}"}, 400)
        return json_answer({"prospects": len(self.app.state.prospects), "lists": len(self.app.state.lists)})


def seed(state: PardotState, data: dict[str, Any]) -> None:
    """Load ``{"lists": [...], "prospects": [...], "memberships": [...]}`` (ids or records) into state;
    ``{"activity": N}`` generates N prospects with their activity (``activity.generate``)."""
    if data.get("activity"):
        generate(state, int(data["activity"]))
    for item in data.get("custom_fields", []):
        state.add_custom_field(item)
    for item in data.get("lists", []):
        item = {"id": item} if isinstance(item, int) else item
        state.add_list(int(item["id"]) if item.get("id") is not None else None, item.get("name"))
    for item in data.get("prospects", []):
        state.add_prospect(**item)
    for item in data.get("memberships", []):
        state._add_member(int(item["list_id"]), int(item["prospect_id"]), tolerate_existing=True)
