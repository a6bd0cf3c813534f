"""The v5 object API of the simulator (``pardot-v5-objects.md``; facts 3, 9): reads, prospect create and
delete, list memberships. The Import API's routes are ``v5_import_routes``.

Object reads: ``GET /api/v5/objects/{prospects|lists|list-memberships|custom-fields}`` (query) and
``/{id}`` (read). ``fields`` is parsed as Pardot does (``v5_fields.parse_fields``: missing is code 13, unknown
names code 51, array custom fields refused in queries); ``limit`` defaults to 200, at most 1000; ``orderBy``;
the filters of ``criteria.v5_predicate`` plus per object ``listId``, ``prospectId``, ``email``, ``name``, and
``deleted`` (``true``, ``all``, ``false``: the default) on archivable objects; any other parameter is code
51 naming it (section 3: not confirmed, the closest documented shape). After a full page the answer carries
``nextPageToken`` (base64 JSON of the shape real tokens decode to, section 2) and ``nextPageUrl``; on the last
page both are JSON null. A follow-up sends the token and ``fields`` only (anything else is code 51); a token
lives ``page_token_seconds`` (210 once expired; 211 for one this server never issued).
"""

from __future__ import annotations

import base64
import bisect
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .activity import ACTIVITY_FIELDS, shaped
from .config import SimConfig
from .criteria import ALWAYS, V5_LIMIT, BadCriterion, number, v5_filter, v5_predicate
from .state import ApiError, PardotState
from .v5_fields import parse_fields, shape, shaper, snake, v5_time
from .v5_params import FILTERS, OBJECTS, PAGING, check_params, custom_field, deleted_of, id_order
from .wire import json_answer, v5_error

NOT_FOUND = (109, "The requested record was not found.")


class V5:
    """Handlers for the v5 object routes over one account state."""

    def __init__(self, state: PardotState, settings: Callable[[], SimConfig]) -> None:
        self.state = state
        self.settings = settings
        self.tokens: dict[str, tuple[dict[str, str], float]] = {}  # nextPageToken -> (its query, expiry)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        objects = "/api/v5/objects/"
        router.add_post(objects + "list-memberships", self.membership_create)
        router.add_delete(objects + "list-memberships/{id}", self.membership_delete)
        router.add_post(objects + "prospects", self.prospect_create)
        router.add_delete(objects + "prospects/{id}", self.prospect_delete)
        router.add_get(objects + "{object}", self.query)
        router.add_get(objects + "{object}/{id}", self.read)

    # ---- object reads ------------------------------------------------------------------------
    def _records(self, kind: str, deleted: str = "false") -> list[dict[str, Any]]:
        state = self.state
        if kind in ACTIVITY_FIELDS:
            chosen = {"false": (False,), "true": (True,), "all": (False, True)}[deleted]
            return [r for r in state.activity.get(kind, {}).values() if bool(r.get("is_deleted")) in chosen]
        if kind == "prospects":
            live = list(state.prospects.values()) if deleted in ("false", "all") else []
            return live + (list(state.deleted.values()) if deleted in ("true", "all") else [])
        if deleted == "true":
            return []
        if kind == "lists":
            return list(state.lists.values())
        if kind == "list-memberships":
            return list(state.memberships.values())
        return [custom_field(d) for d in state.custom_fields.values()]

    def _matches(self, record: dict[str, Any], query: dict[str, str]) -> bool:
        for name, field in FILTERS.items():
            if (value := number(query, name)) is not None and record.get(field) != value:
                return False
        for name in ("email", "name"):
            if query.get(name) and str(record.get(name) or "").lower() != query[name].lower():
                return False
        if query.get("type"):  # visitor activities: a comma list of type numbers (section 3: not confirmed)
            return record.get("type") in {int(t) for t in query["type"].split(",") if t.strip().isdigit()}
        return True

    def _by_id(self, kind: str, query: dict[str, str], limit: int, descending: bool) -> list[dict[str, Any]]:
        """An id-ordered query between ``idGreaterThan`` and ``idLessThan``: one more than a page at most, found
        by bisecting the ids, from either end (a page costs its own size, not the account's, as Pardot's index)."""
        ids, table = self._ids(kind, deleted_of(kind, query))
        v5_predicate(query)  # its checks (at most three fields filtered); the id bounds are the bisection's below
        test = v5_predicate({k: v for k, v in query.items() if k not in ("idGreaterThan", "idLessThan")})
        after = number(query, "idGreaterThan")
        below = number(query, "idLessThan")
        end = bisect.bisect_left(ids, below) if below is not None else len(ids)  # a range reader's upper bound
        plain = not any(name in query for name in (*FILTERS, "email", "name", "type"))  # no per-record filter
        out: list[dict[str, Any]] = []
        start = bisect.bisect_right(ids, after) if after is not None else 0
        for position in range(end - 1, start - 1, -1) if descending else range(start, end):
            record = table.get(ids[position])
            if record is not None and (plain or self._matches(record, query)) and (test is ALWAYS or test(record)):
                out.append(record)
                if len(out) > limit:
                    break
        return out

    def _ids(self, kind: str, deleted: str) -> tuple[list[int], dict[int, dict[str, Any]]]:
        """The sorted ids of a kind's records and the records by id, kept while the records stay the same."""
        if kind == "prospects" and deleted == "false":
            return self.state.sorted_ids(), self.state.prospects
        if kind in ACTIVITY_FIELDS and deleted == "false" and kind in self.state.activity_ids:
            return self.state.activity_ids[kind], self.state.activity[kind]
        table = {int(r["id"]): r for r in self._records(kind, deleted)}
        if kind in ACTIVITY_FIELDS and deleted == "false" and len(table) == len(self.state.activity.get(kind, {})):
            self.state.activity_ids[kind] = sorted(table)  # kept until the records change (generate, delete)
        return sorted(table), table

    def _shape(self, kind: str, record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        if kind in ACTIVITY_FIELDS:
            offset = self.settings().v5_utc_offset
            return shaped(record, fields, self.settings().v5_dotted_flat, lambda v: v5_time(v, offset))
        gone = kind == "prospects" and record["id"] in self.state.deleted
        custom = self.state.custom_fields
        return shape(record, fields, custom, deleted=gone, offset=self.settings().v5_utc_offset)

    def _shape_page(self, kind: str, page: list[dict[str, Any]], fields: list[str]) -> list[dict[str, Any]]:
        """``_shape`` for a page of records, the field plan worked out once."""
        if kind in ACTIVITY_FIELDS:
            return [self._shape(kind, r, fields) for r in page]
        one, gone = shaper(fields, self.state.custom_fields, self.settings().v5_utc_offset), self.state.deleted
        return [one(r, kind == "prospects" and r["id"] in gone) for r in page]

    def _fields(self, kind: str, query: dict[str, str], *, many: bool) -> list[str]:
        if kind not in OBJECTS:
            raise BadCriterion(404, f"Invalid object: {kind}")
        return parse_fields(kind, query.get("fields", ""), self.state.custom_fields, query=many)

    async def read(self, request: web.Request) -> web.Response:
        kind, wanted = request.match_info["object"], request.match_info["id"]
        try:
            fields = self._fields(kind, dict(request.query), many=False)
        except BadCriterion as exc:
            return v5_error(exc.code, exc.message, 404 if exc.code == 404 else 400)
        found = next((r for r in self._records(kind, "all") if str(r["id"]) == wanted), None)
        if found is None or (kind == "prospects" and found["id"] in self.state.deleted):
            return v5_error(*NOT_FOUND, 404)  # a recycle-bin record reads as missing (section 5: not confirmed)
        return json_answer(self._shape(kind, found, fields))

    async def query(self, request: web.Request) -> web.Response:
        kind, query = request.match_info["object"], dict(request.query)
        try:
            if kind == "account":  # one object, not a page (v5-objects 6)
                return self._account(query)
            if "nextPageToken" in query:
                query = self._continued(request)
            else:
                check_params(kind, query)
                if kind == "dynamic-content-variations" and self.settings().variations_need_content:
                    if number(query, "dynamicContentId") is None:
                        raise BadCriterion(51, "Invalid parameter: dynamicContentId is required.")
            fields = self._fields(kind, query, many=True)
            limit = min(number(query, "limit", 200) or 200, V5_LIMIT)
            skip = number(query, "_skip", 0) or 0
            order = id_order(query)
            found = self._by_id(kind, query, limit, order == "desc") if order else self._found(kind, query)
        except BadCriterion as exc:
            return v5_error(exc.code, exc.message, 404 if exc.code == 404 else 400)
        page = found[skip : skip + limit]
        body: dict[str, Any] = {"nextPageToken": None, "nextPageUrl": None}
        capped = len(page) == limit and skip + limit < len(found) and skip + limit >= self.settings().token_chain_cap
        more = skip + limit < len(found) or self.settings().token_at_data_end
        if len(page) == limit and more and not capped:
            token = self._token({**query, "_skip": str(skip + limit)}, page[-1]["id"], skip // limit + 2, limit)
            body["nextPageToken"] = token
            body["nextPageUrl"] = f"{request.scheme}://{request.host}{request.path}?" + urlencode(
                {"fields": query["fields"], "nextPageToken": token}
            )
        body["values"] = self._shape_page(kind, page, fields)
        if capped:  # section 2: past 100,000 records a chain ends, said in a header (its code not confirmed)
            text = "Record count for nextPageToken sequence has been exceeded. No page token returned."
            return json_answer(body, headers={"Pardot-Warning": f"{self.settings().page_warning_code};{text}"})
        return json_answer(body)

    def _account(self, query: dict[str, str]) -> web.Response:
        extra = sorted(k for k in query if k != "fields")
        if extra:
            raise BadCriterion(51, f"Invalid parameter: {extra[0]}. The account is one object, not a query.")
        fields = self._fields("account", query, many=False)
        found = next(iter(self.state.activity.get("account", {}).values()), None)
        return json_answer(self._shape("account", found or {"id": 1}, fields))

    def _found(self, kind: str, query: dict[str, str]) -> list[dict[str, Any]]:
        found = [r for r in self._records(kind, deleted_of(kind, query)) if self._matches(r, query)]
        return v5_filter(found, query)

    def _continued(self, request: web.Request) -> dict[str, str]:
        """The query a follow-up continues: its token's, with the follow-up's ``fields`` (sent on every page)."""
        extra = sorted({k for k in request.query if k not in ("nextPageToken", "fields")})
        if extra:
            raise BadCriterion(51, f"Invalid parameter: {extra[0]}. Only fields may be sent with nextPageToken.")
        saved = self.tokens.get(request.query["nextPageToken"])
        if saved is None:
            raise BadCriterion(211, "Page token is invalid.")
        if time.time() > saved[1]:
            raise BadCriterion(210, "Page token has expired.")
        fields = request.query.getall("fields", [])
        return {**saved[0], **({"fields": fields[-1]} if fields else {})}

    def _token(self, query: dict[str, str], last_id: int, page: int, limit: int) -> str:
        """A page token shaped like real Pardot's (base64 JSON; opaque to clients), remembered here."""
        expires = time.time() + self.settings().page_token_seconds
        filters = sorted(k for k in query if k not in PAGING and not k.startswith("_"))
        data = {"orderBy": query.get("orderBy", ""), "filters": filters, "limit": limit,
                "resumeValue": {"id": last_id}, "page": page, "recCount": (page - 1) * limit,
                "expireTime": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(expires)),
                "deleted": query.get("deleted")}  # fmt: skip
        token = base64.b64encode(json.dumps(data).encode()).decode()
        self.tokens[token] = (query, expires)
        return token

    # ---- prospects and list memberships ------------------------------------------------------
    async def prospect_create(self, request: web.Request) -> web.Response:
        """A v5 prospect create: JSON under v5 names; the answer holds ``fields`` (else the id and what was sent)."""
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise ValueError
        except ValueError:
            return v5_error(150, "The body is not valid JSON")
        try:
            parse_fields("prospects", ",".join(data) or "id", self.state.custom_fields, query=False)
            answer = ["id", *data] if "fields" not in request.query else None
            if answer is None:
                answer = parse_fields("prospects", request.query["fields"], self.state.custom_fields, query=False)
            record = self.state.upsert_one({snake(k): v for k, v in data.items() if k != "id"})
        except BadCriterion as exc:
            return v5_error(exc.code, exc.message)
        except ApiError as exc:
            return v5_error(exc.code, exc.message)
        return json_answer(self._shape("prospects", record, answer), 201)

    async def prospect_delete(self, request: web.Request) -> web.Response:
        try:
            self.state.delete_prospect(request.match_info["id"])
        except ApiError:
            return v5_error(*NOT_FOUND, 404)
        return web.Response(status=204)

    async def membership_create(self, request: web.Request) -> web.Response:
        try:
            data = await request.json()
            list_id, prospect_id = int(data["listId"]), int(data["prospectId"])
        except (ValueError, KeyError, TypeError):
            return v5_error(13, "One or more required parameters are missing: listId, prospectId")
        try:
            record = self.state.create_membership(list_id, prospect_id, bool(data.get("optedOut", False)))
        except ApiError as exc:
            return v5_error(exc.code, exc.message)
        fields = ["id", "listId", "prospectId", "optedOut", "createdAt", "updatedAt"]
        return json_answer(self._shape("list-memberships", record, fields), 201)

    async def membership_delete(self, request: web.Request) -> web.Response:
        try:
            self.state.delete_membership_by_id(int(request.match_info["id"]))
        except (ApiError, ValueError):
            return v5_error(*NOT_FOUND, 404)
        return web.Response(status=204)
