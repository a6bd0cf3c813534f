"""Access tokens: the refresh-token grant against ``login_url``, reused for the job, renewed on 184.

The token lives only in memory, is never part of a repr, and is renewed at most once per
generation however many calls see error 184 at the same time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import orjson

from pardot_frames._control import LoginTransient, NoAnswer, Retriable
from pardot_frames.config import profiles
from pardot_frames.config.connection import Connection
from pardot_frames.errors import AuthError
from pardot_frames.pardot.endpoints import TOKEN
from pardot_frames.pardot.retry import Policy, with_retries
from pardot_frames.pardot.transport import Request

if TYPE_CHECKING:
    from pardot_frames.pardot.transport import Transport

log = logging.getLogger("pardot_frames")
# what each refusal of the login means, and the one thing to check for it
LOGIN_REFUSALS = {
    "invalid_grant": (
        "the refresh token was refused (expired, revoked or for another org)",
        "get a new refresh token (pardot-frames auth login), and check login_url: login.salesforce.com for "
        "production, test.salesforce.com for sandboxes",
    ),
    "invalid_client_id": (
        "the client_id is not known to this login server",
        "copy the connected app's consumer key into client_id, and check login_url",
    ),
    "invalid_client": (
        "the client_secret does not match the client_id",
        "copy the connected app's consumer secret into client_secret",
    ),
}
HINT = (
    "get a new refresh token (authorise the connected app again), check that the connected app has the "
    "pardot_api and refresh_token scopes, that business_unit is right, and that pardot_domain matches the org "
    "(https://pi.pardot.com for production, https://pi.demo.pardot.com for developer orgs and sandboxes)"
)


class TokenProvider:
    """Holds the job's access token; ``get()`` gives (token, generation), ``renew(generation)`` refreshes.

    Transient login failures (no answer, HTTP 5xx or 429) are retried with the job's backoff. When the
    login server rotates the refresh token (a new ``refresh_token`` in the answer), the new one is used
    for later refreshes and written back to the saved authentication the job named (``auth``).
    """

    def __init__(self, config: Connection, transport: Transport, policy: Policy) -> None:
        self._config = config
        self._transport = transport
        self._refresh_token = config.refresh_token.get_secret_value() if config.refresh_token else ""
        self._token: str | None = None
        self._generation = 0
        self._lock = asyncio.Lock()
        self._policy = policy
        self.logins = 0
        self.rotations = 0

    def __repr__(self) -> str:
        return f"TokenProvider(login_url={self._config.login_url!r}, generation={self._generation})"

    async def get(self) -> tuple[str, int]:
        """The current token and its generation, logging in first if there is none."""
        if self._token is None:
            await self.renew(self._generation)
        assert self._token is not None
        return self._token, self._generation

    async def renew(self, seen_generation: int) -> None:
        """Refresh the token unless another call already did since ``seen_generation``."""
        async with self._lock:
            if self._generation != seen_generation and self._token is not None:
                return
            self._token = await self._login()
            self._generation += 1

    async def _login(self) -> str:
        c = self._config
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if getattr(c, k) is None]
        if missing:
            raise AuthError(f"missing credentials: {', '.join(missing)} (set them in the job or PARDOT_* variables)")

        def give_up(failure: Retriable) -> AuthError:
            return AuthError(
                f"cannot log in at {c.login_url} after {self._policy.retries + 1} tries: {failure}; "
                "the login server may be down: run again later"
            )

        def announce(failure: Retriable, delay: float, attempt: int) -> None:
            tries = self._policy.retries + 1
            log.warning(
                "login at %s failed (%s): try %d of %d in %.1fs", c.login_url, failure, attempt + 2, tries, delay
            )

        return await with_retries(self._policy, lambda _unknown: self._grant(), give_up, announce)

    async def _grant(self) -> str:
        c = self._config
        form = {
            "grant_type": "refresh_token",
            "client_id": c.client_id or "",
            "client_secret": c.client_secret.get_secret_value() if c.client_secret else "",
            "refresh_token": self._refresh_token,
        }
        self.logins += 1
        try:
            answer = await self._transport.exchange(c.login_url, Request("POST", TOKEN, form), {})
        except NoAnswer as exc:
            if exc.lasting:  # the login server cannot be reached at all: say so now, not after every retry
                raise AuthError(f"cannot log in: {exc.reason}; check login_url and the network") from None
            raise LoginTransient(exc.reason) from None
        status = answer.status
        if status >= 500 or status == 429:
            raise LoginTransient(f"HTTP {status}")
        try:
            body = orjson.loads(answer.text)
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            if status == 200:
                raise LoginTransient("the login server's answer was not JSON")
            body = {}
        if status == 200 and body.get("access_token"):
            if body.get("refresh_token") and body["refresh_token"] != self._refresh_token:
                self._rotate(str(body["refresh_token"]))
            return str(body["access_token"])
        error = body.get("error", f"HTTP {status}")
        description = body.get("error_description", "")
        what, hint = LOGIN_REFUSALS.get(error, ("the login was refused", HINT))
        raise AuthError(f"login to {c.login_url} failed: {error} ({description}): {what}; {hint}")

    def _rotate(self, new_token: str) -> None:
        """The login server rotated the refresh token: the old one no longer works, so keep the new one."""
        self._refresh_token = new_token
        self.rotations += 1
        if self._config.auth:
            profiles.update(self._config.auth, refresh_token=new_token)
