"""A transport that answers from a script: for answers the simulator never gives (the seam in
``pardot_frames.pardot.transport``). Every request is recorded, so tests can check what was sent."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import orjson

from pardot_frames.pardot.transport import Answer, NoAnswer, Request

CONFIG = dict(  # a job for the scripted transport: hosts it never reaches, waits short enough for tests
    client_id="cid",
    client_secret="cs",
    refresh_token="rt",
    business_unit="0Uv000000000001",
    login_url="https://login.example.com",
    pardot_domain="https://pi.example.com",
    initial_retry_wait=0.001,
    maximum_retry_wait=0.002,
    check_fields=False,  # the scripts answer batchUpsert and lookups; the field read has its own tests
    check_deleted=False,  # ... and the recycle bin too
)
LOGIN = Answer(200, orjson.dumps({"access_token": "scripted-at-1", "token_type": "Bearer"}).decode(), {})


def v4(status: int = 200, **body: object) -> Answer:
    """A v4 JSON answer with ``stat: ok`` unless ``err_code`` is given."""
    code = body.pop("err_code", None)
    attrs = {"stat": "fail", "version": 1, "err_code": code} if code else {"stat": "ok", "version": 1}
    return Answer(status, orjson.dumps({"@attributes": attrs, **body}).decode(), {"Content-Type": "application/json"})


@dataclass
class Sent:
    base: str
    request: Request
    headers: Mapping[str, str]
    at: float = field(default_factory=time.monotonic)

    @property
    def path(self) -> str:
        return urlsplit(self.request.path_query).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.request.path_query).query)

    def prospects(self) -> list[dict]:
        return orjson.loads(self.query["prospects"][0])["prospects"]


@dataclass
class ScriptedTransport:
    """``answer(sent)`` gives each answer (an Answer, or a NoAnswer to raise); logins answer LOGIN."""

    answer: Callable[[Sent], Answer | NoAnswer]
    login: Callable[[int], Answer | NoAnswer] = lambda _n: LOGIN  # noqa: E731 - the n-th login's answer
    sent: list[Sent] = field(default_factory=list)
    logins: int = 0
    closed: bool = False

    async def exchange(self, base: str, request: Request, headers: Mapping[str, str]) -> Answer:
        if request.path_query.startswith("/services/oauth2/token"):
            self.logins += 1
            reply = self.login(self.logins)
            if isinstance(reply, NoAnswer):
                raise reply
            return reply
        sent = Sent(base, request, dict(headers))
        self.sent.append(sent)
        reply = self.answer(sent)
        if isinstance(reply, NoAnswer):
            raise reply
        return reply

    async def close(self) -> None:
        self.closed = True
