"""v4 email clicks (``pardot-v5-objects.md`` section 6: v5 has no email-click object): ``GET
/api/emailClick/version/4/do/query`` with the v4 criteria (``id_greater_than``, ``created_after``/``before``,
``sort_by``, ``limit`` of at most 200). ``output=bulk`` leaves ``total_results`` out, as bulk output does; the
records sit at ``result.emailClick``, one record as an object and several as a list (recorded v4 shape)."""

from __future__ import annotations

from aiohttp import web

from . import records
from .criteria import BadCriterion, v4_select
from .state import PardotState
from .wire import params, v4_error, v4_ok


class EmailClicks:
    """The v4 email-click query over one account state."""

    def __init__(self, state: PardotState) -> None:
        self.state = state

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("GET", "/api/emailClick/version/{v}/do/query", self.query)

    async def query(self, request: web.Request) -> web.Response:
        query = await params(request, False, None)
        try:
            total, found = v4_select(list(self.state.email_clicks.values()), query)
        except BadCriterion as exc:
            return v4_error(exc.code, exc.message)
        result: dict[str, object] = {} if query.get("output") == "bulk" else {"total_results": total}
        if found:
            result["emailClick"] = records.one_or_many(found)
        return v4_ok(result=result)
