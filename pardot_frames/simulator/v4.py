"""The v3/v4 API of the simulator: prospects, lists, list memberships and custom fields (facts 2, 3, 8).

Every documented operation is served on the same state the batch operations use: prospect
``create/email/E``, ``read|update|upsert|delete`` by ``id/N``, ``email/E`` or ``fid/F``, ``query`` and
``batchUpsert``; list ``create``, ``read|update|delete/id/N`` and ``query``; list membership
``create|read|update|delete`` by ``list_id/L/prospect_id/P`` and by ``id/N``, and ``query``; custom
field ``read/id/N`` and ``query``. Parameters come from the query string or a form body alike
(``wire.params``); queries take the criteria in ``criteria``. Any other ``/api/`` path answers a
Pardot error body (code 2, "Invalid action"; the code real Pardot gives there is not confirmed).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from . import records
from .batch_rows import truthy
from .criteria import BadCriterion, v4_select
from .state import ApiError, PardotState, now
from .wire import deleted, json_answer, params, query_result, v4_error, v4_ok

NOT_FIELDS = frozenset({"format", "output", "api_key", "user_key", "id", "fid", "list_id", "prospect_id"})
VERSION = "/api/{object}/version/{v}/do/"


class V4:
    """Handlers for the v4 routes over one account state."""

    def __init__(self, state: PardotState, body_params: Any, values_shown: Any = lambda: True) -> None:
        self.state = state
        self.body_params = body_params  # a callable: is a form body read (SimConfig.body_params, live)
        self.values_shown = values_shown  # a callable: SimConfig.field_values_shown, live

    def add_routes(self, router: web.UrlDispatcher) -> None:
        add = router.add_route
        p = "/api/prospect/version/{v}/do/"
        add("*", p + "batchUpsert", self.batch_upsert)
        add("*", p + "query", self.query_prospects)
        add("*", p + "create/email/{email}", self.prospect_create)
        for op in ("read", "update", "upsert", "delete"):
            for key in ("id", "email", "fid"):
                add("*", p + f"{op}/{key}/{{{key}}}", self.prospect_op)
        lst = "/api/list/version/{v}/do/"
        add("*", lst + "query", self.query_lists)
        add("*", lst + "create", self.list_create)
        add("*", lst + "{op}/id/{id}", self.list_op)
        m = "/api/listMembership/version/{v}/do/"
        add("*", m + "query", self.query_memberships)
        add("*", m + "{op}/list_id/{list_id}/prospect_id/{prospect_id}", self.membership_op)
        add("*", m + "{op}/id/{id}", self.membership_by_id)
        c = "/api/customField/version/{v}/do/"
        add("*", c + "query", self.query_custom_fields)
        add("*", c + "read/id/{id}", self.custom_field_read)

    async def _params(self, request: web.Request, strict: str | None = None) -> dict[str, str]:
        return await params(request, self.body_params(), strict)

    def present(self, record: dict[str, Any], mobile: bool = False) -> dict[str, Any]:
        subscriptions = [records.subscription(m, lst) for m, lst in self.state.subscriptions(record["id"])]
        return records.prospect_record(record, self.state.custom_fields, subscriptions, mobile=mobile)

    # ---- prospects ---------------------------------------------------------------------------
    async def batch_upsert(self, request: web.Request) -> web.Response:
        try:
            raw = (await self._params(request, strict="prospects")).get("prospects")
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
        body = {"errors": errors}
        status = 201 if created else 200
        if errors:
            return _fail_rows(body, status)
        return v4_ok(status, **body)

    def _target(self, key: str, value: str) -> dict[str, Any] | None:
        """The prospect an id, email (the one it means: ``latest_by_email``) or fid names; None if none."""
        state = self.state
        if key == "id":
            return state.prospects.get(int(value)) if value.isdigit() else None
        if key == "fid":
            found = state._by_fid.get(value)
            return None if found is None else state.prospects.get(found)
        return state.latest_by_email(value)

    async def prospect_create(self, request: web.Request) -> web.Response:
        fields = _fields(await self._params(request))
        try:
            email = request.match_info["email"]
            binned = None if self.state.latest_by_email(email) else self.state.restore_by_email(email)  # facts 7
            row = {**fields, "id": binned["id"]} if binned is not None else {**fields, "email": email}
            record = self.state.upsert_one(row)
        except ApiError as exc:
            return v4_error(exc.code, exc.message)
        return v4_ok(prospect=self.present(record))

    async def prospect_op(self, request: web.Request) -> web.Response:
        op = request.path.split("/do/", 1)[1].split("/", 1)[0]
        key = next(k for k in ("id", "email", "fid") if k in request.match_info)
        value = request.match_info[key]
        missing = {"id": 3, "email": 4, "fid": 3}[key]
        target = self._target(key, value)
        if target is None and key == "id" and op in ("update", "upsert") and value.isdigit():
            target = self.state.deleted.get(int(value))  # updated where it is: it stays in the bin (facts 7)
        try:
            if op == "read":
                if target is None:
                    raise ApiError(missing)
                found = self.state.find_by_email(value) if key == "email" else [target]
                return v4_ok(prospect=records.one_or_many([self.present(p) for p in found]))
            if op == "delete":
                if target is None:
                    raise ApiError(missing)
                return deleted(lambda: self.state.delete_prospect(str(target["id"])))
            fields = _fields(await self._params(request))
            if target is None and op == "upsert" and key == "email":  # a binned prospect comes back (facts 7)
                target = self.state.restore_by_email(value)
            if target is None and op == "upsert" and key != "id":
                row = {**fields, key: value} if key == "email" else {**fields, "fid": value}
                if key == "fid" and "email" not in row:
                    raise ApiError(13, "Email address is required to create a prospect")
                record = self.state.upsert_one(row)
            elif target is None:
                raise ApiError(missing)
            else:
                record = self.state.upsert_one({**fields, "id": target["id"]})
        except ApiError as exc:
            return v4_error(exc.code, exc.message)
        return v4_ok(prospect=self.present(record))

    async def query_prospects(self, request: web.Request) -> web.Response:
        query = await self._params(request)
        try:
            total, found = self.state.query_prospects(query)
        except BadCriterion as exc:
            return v4_error(exc.code, exc.message)
        mobile = query.get("output") == "mobile"
        return query_result("prospect", [self.present(p, mobile) for p in found], total)

    # ---- lists -------------------------------------------------------------------------------
    async def query_lists(self, request: web.Request) -> web.Response:
        query = await self._params(request)
        try:
            total, found = v4_select(self.state.lists_named(query.get("name")), query)
        except BadCriterion as exc:
            return v4_error(exc.code, exc.message)
        return query_result("list", [records.list_record(r) for r in found], total)

    async def list_create(self, request: web.Request) -> web.Response:
        query = await self._params(request)
        if not query.get("name"):
            return v4_error(13, "Required parameters are missing: name")
        record = self.state.add_list(name=query["name"])
        _set_list(record, query)
        return v4_ok(list=records.list_record(record))

    async def list_op(self, request: web.Request) -> web.Response:
        op, list_id = request.match_info["op"], request.match_info["id"]
        record = self.state.lists.get(int(list_id)) if list_id.isdigit() else None
        if op == "delete":
            return deleted(lambda: self.state.delete_list(list_id))
        if op not in ("read", "update"):
            return invalid_action(request)
        if record is None:
            return v4_error(55)
        if op == "update":
            _set_list(record, await self._params(request))
        return v4_ok(list=records.list_record(record))

    # ---- list memberships --------------------------------------------------------------------
    async def query_memberships(self, request: web.Request) -> web.Response:
        query = await self._params(request)
        try:
            total, found = v4_select(self.state.memberships_where(query), query)
        except BadCriterion as exc:
            return v4_error(exc.code, exc.message)
        return query_result("list_membership", found, total)

    async def membership_op(self, request: web.Request) -> web.Response:
        op = request.match_info["op"]
        try:
            list_id, prospect_id = int(request.match_info["list_id"]), int(request.match_info["prospect_id"])
        except ValueError:
            return v4_error(56, "Invalid number")
        return await self._membership(request, op, list_id, prospect_id)

    async def membership_by_id(self, request: web.Request) -> web.Response:
        found = self.state.membership_by_id(request.match_info["id"])
        if found is None:
            return v4_error(109)
        return await self._membership(request, request.match_info["op"], found["list_id"], found["prospect_id"])

    async def _membership(self, request: web.Request, op: str, list_id: int, prospect_id: int) -> web.Response:
        opted = (await self._params(request)).get("opted_out")
        opted_out = truthy(opted) if opted is not None else None
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
                return invalid_action(request)
        except ApiError as exc:
            return v4_error(exc.code, exc.message)
        return v4_ok(list_membership=record)

    # ---- custom fields -----------------------------------------------------------------------
    async def query_custom_fields(self, request: web.Request) -> web.Response:
        shown = [records.custom_field(d, self.values_shown()) for d in self.state.custom_fields.values()]
        try:
            total, found = v4_select(shown, await self._params(request))
        except BadCriterion as exc:
            return v4_error(exc.code, exc.message)
        return query_result("customField", found, total)

    async def custom_field_read(self, request: web.Request) -> web.Response:
        wanted = request.match_info["id"]
        for definition in self.state.custom_fields.values():
            if str(definition["id"]) == wanted:
                return v4_ok(customField=records.custom_field(definition, self.values_shown()))
        return v4_error(109)


def invalid_action(request: web.Request) -> web.Response:
    """An ``/api/`` path no operation serves: a Pardot error body, never plain text."""
    return v4_error(2, "Invalid action")


def _fields(query: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in query.items() if k not in NOT_FIELDS}


def _set_list(record: dict[str, Any], query: dict[str, str]) -> None:
    for key in ("name", "title", "description"):
        if key in query:
            record[key] = query[key]
    for key in ("is_public", "is_dynamic", "is_crm_visible"):
        if key in query:
            record[key] = bool(truthy(query[key]))
    record["updated_at"] = now()


def _fail_rows(body: dict[str, Any], status: int) -> web.Response:
    return json_answer({"@attributes": {"stat": "fail", "version": 1}, **body}, status)
