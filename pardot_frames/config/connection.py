"""The client's settings (``Connection``): the hosts, credentials, business unit, timeouts, retries and calls in
flight of one Pardot business unit, and nothing of a job. Reading, listing fields and checking credentials take
one directly; an export job gives its own (``ExportConfig.connection``).

The rules every parameter holder shares live here: secrets are ``SecretStr`` and shown as ``MASK``; credentials
come from keywords, a saved authentication (``auth``) or the environment (``PARDOT_CLIENT_ID``,
``PARDOT_CLIENT_SECRET``, ``PARDOT_REFRESH_TOKEN``); http:// only for loopback hosts; every problem at once in
one ``ConfigError``.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from pardot_frames.errors import ConfigError

SECRET_KEYS = frozenset({"client_secret", "refresh_token"})
MASK = "**********"  # what a secret shows as, wherever a value would be shown
ENV_KEYS = {
    "client_id": "PARDOT_CLIENT_ID",
    "client_secret": "PARDOT_CLIENT_SECRET",
    "refresh_token": "PARDOT_REFRESH_TOKEN",
}
CREDENTIALS = ("client_id", "client_secret", "refresh_token", "business_unit")


def is_loopback_host(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts allowed over plain http."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(value: str) -> str:
    """An absolute https URL (http for loopback hosts only), without its trailing slash."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{value!r} is not an absolute http(s) URL; use e.g. https://pi.pardot.com")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(
            f"{value!r} uses http:// for a host that is not loopback; only https is allowed "
            "(http is accepted for localhost, 127.0.0.0/8 and ::1, e.g. the simulator)"
        )
    return value.strip().rstrip("/")


def check_business_unit(value: str | None) -> str | None:
    """A Pardot business unit id: '0Uv' and 15 or 18 letters and digits."""
    if value is None:
        return None
    value = value.strip()
    if not value.startswith("0Uv") or len(value) not in (15, 18) or not value.isalnum():
        raise ValueError(
            f"{value!r} is not a Pardot business unit id: it must start with '0Uv' and be "
            "15 or 18 letters and digits (Setup > Pardot Account Setup)"
        )
    return value


def gathered(model: type[BaseModel], values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Keywords completed from a saved authentication (``auth``) and the environment, and the unknown keys."""
    fields = model.model_fields
    if values.get("auth"):  # a saved authentication supplies what the caller does not say
        from pardot_frames.config.profiles import load

        values = {**load(str(values["auth"])), **values}
    problems = [unknown_key(k, list(fields)) for k in values if k not in fields]
    known = {k: v for k, v in values.items() if k in fields}
    for key, env in ENV_KEYS.items():
        if key in fields and known.get(key) is None and os.environ.get(env):
            known[key] = os.environ[env]
    return known, problems


def validation_problems(exc: ValidationError, values: dict[str, Any]) -> list[str]:
    """Pydantic's errors as one line each, naming the key and what is allowed, never a secret's value."""
    return [describe(err, values) for err in exc.errors()]


def unknown_key(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else f"; known keys: {', '.join(known)}"
    return f"unknown key {key!r}{hint}"


def describe(err: Any, values: dict[str, Any]) -> str:
    key = str(err["loc"][0]) if err["loc"] else "?"
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "literal_error":
        allowed = str(err.get("ctx", {}).get("expected", "")).replace("'", "")
        return f"{key} = {values.get(key)!r} is not allowed; use one of: {allowed}"
    if key in SECRET_KEYS or key == "notify":
        return f"{key}: {message} (value hidden)"
    if err["type"] == "value_error":
        return f"{key}: {message}"
    return f"{key} = {values.get(key)!r}: {message}"


class HostRules(BaseModel):
    """The rules of the hosts and the business unit, for every holder of them (a job, a connection)."""

    @field_validator("login_url", "pardot_domain", check_fields=False)
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("business_unit", check_fields=False)
    @classmethod
    def _business_unit(cls, value: str | None) -> str | None:
        return check_business_unit(value)


class Connection(HostRules):
    """How to reach one Pardot business unit; immutable, secrets never shown. The names and defaults are the
    job's (``ExportConfig``), so a job's connection is its own parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    login_url: str = "https://login.salesforce.com"
    pardot_domain: str = "https://pi.pardot.com"
    business_unit: str | None = None
    parallel_tasks: int = Field(1, ge=1)
    max_api_calls: int | None = Field(None, ge=1)  # the caller's own call budget (Pardot's day is shared)
    maximum_retries: int = Field(5, ge=0)
    initial_retry_wait: float = Field(1, gt=0)
    maximum_retry_wait: float = Field(120, gt=0)
    maximum_connection_timeout: float = Field(300, gt=0)
    auth: str | None = None  # the saved authentication the credentials came from (rotated tokens go back)

    def __init__(self, **values: Any) -> None:
        """Validate keywords (plus credentials from a saved authentication and the environment)."""
        known, problems = gathered(type(self), values)
        try:
            super().__init__(**known)
        except ValidationError as exc:
            problems += validation_problems(exc, known)
        if problems:
            raise ConfigError(problems) from None

    @classmethod
    def of(cls, holder: Any) -> Connection:
        """The connection of a job (or of anything with these parameters), or the connection itself."""
        if isinstance(holder, Connection):
            return holder
        return cls.model_construct(**{k: getattr(holder, k) for k in cls.model_fields})

    def replace(self, **changes: Any) -> Connection:
        """A copy with some settings changed (not validated again: the changes are the caller's own)."""
        return self.model_copy(update=changes)

    def missing_credentials(self) -> list[str]:
        """Names of the parameters a call to Pardot needs but this connection lacks."""
        return [k for k in CREDENTIALS if getattr(self, k) is None]

    def __repr__(self) -> str:
        shown = {k: MASK if k in SECRET_KEYS else v for k, v in self if v is not None and k in self.model_fields_set}
        return "Connection(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    __str__ = __repr__
