"""Job parameters (``ExportConfig``): the Treasure Data connector's names, types and defaults.

Built from keywords, a TOML file and, for the three credentials, the environment
(``PARDOT_CLIENT_ID``, ``PARDOT_CLIENT_SECRET``, ``PARDOT_REFRESH_TOKEN``). Precedence:
keywords > file > environment. Every problem is reported at once as a ``ConfigError`` that names
the key and the allowed values, never a secret's value.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, SecretStr, ValidationError, field_validator

from pardot_frames.config.connection import (
    CREDENTIALS,
    MASK,
    SECRET_KEYS,
    Connection,
    HostRules,
    gathered,
    validation_problems,
)
from pardot_frames.config.mapping import OutputMapping
from pardot_frames.errors import ConfigError


class ExportConfig(HostRules):
    """One export job's parameters; immutable. Secrets are ``SecretStr`` and never shown."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    login_url: str = "https://login.salesforce.com"
    pardot_domain: str = "https://pi.pardot.com"
    business_unit: str | None = None
    data_object: Literal["prospects", "list_memberships"] = "prospects"
    skip_invalid_records: bool = True
    prospect_operation: Literal["sync"] = "sync"
    prospect_lists: tuple[int | str, ...] = ()  # list ids, or list names resolved (once per job) to ids
    create_missing_lists: bool = False  # a list name the account does not have is created (else an error)
    prospect_list_operation: Literal["add", "remove", "mirror"] = "add"  # mirror: the lists hold exactly these rows
    upsert_by_email: bool = False
    parallel_tasks: int = Field(1, ge=1)
    max_payload: int = Field(5000, ge=1)
    list_membership_operation: Literal["upsert", "delete", "mirror"] = "upsert"  # mirror: lists = the input
    # where batchUpsert's prospects go: the query string (the connector's way, bounded by max_payload) or
    # the POST body (up to 50 rows a call whatever their size)
    payload_location: Literal["query", "body"] = "query"
    # list memberships: through batchUpsert (up to 50 prospects a call) or one v4 call per membership
    list_membership_method: Literal["batch", "single"] = "batch"
    max_api_calls: int | None = Field(None, ge=1)  # the job's own call budget (Pardot's day is shared)
    verify_strict: bool = False  # a verify that finds mismatches fails the job (exit 1); else it only reports
    sync_mode: Literal["full", "changed"] = "full"  # changed: send only rows Pardot does not have as they are
    # prospects through the Import API (CSV batches, asynchronous) instead of batchUpsert calls; auto: import
    # when the job's valid rows number at least import_threshold
    method: Literal["batch", "import", "auto"] = "batch"
    import_threshold: int = Field(50_000, ge=1)
    import_campaign_id: int | None = Field(None, ge=1)  # the campaign of prospects an import creates
    import_poll_seconds: float = Field(5, gt=0)  # first wait before reading an import's status (then x1.5)
    import_poll_max: float = Field(60, gt=0)  # longest wait between two reads
    # how long a submitted import may take to end (Complete, Failed, Cancelled); past it its rows are an
    # unknown outcome and go again the safe way
    import_max_wait: float = Field(6 * 3600, gt=0)
    import_batch_bytes: int = Field(10 * 1024 * 1024, ge=1_000, le=10 * 1024 * 1024)  # the most bytes a CSV batch holds
    check_fields: bool = True  # check columns and custom field values against the account's fields first
    # the recycle bin: rows for prospects a team deleted are not sent (reported, stage "deleted"), unless
    # restore_deleted brings them back (same name and meaning as the Import API's restoreDeleted, which it sets)
    check_deleted: bool = True
    restore_deleted: bool = False
    # who is told how a job went (engine.notify): Apprise URLs (mailto://, slack://, msteams://, json:// ...), which
    # hold passwords and tokens, so they are secrets; and on which outcomes
    notify: tuple[SecretStr, ...] = ()
    notify_on: tuple[Literal["failure", "rejected", "disabled", "success"], ...] = ("failure", "disabled")
    maximum_retries: int = Field(5, ge=0)
    initial_retry_wait: float = Field(1, gt=0)
    maximum_retry_wait: float = Field(120, gt=0)
    maximum_connection_timeout: float = Field(300, gt=0)
    output_mapping: OutputMapping | None = None  # activation output mapping (see mapping.py)
    auth: str | None = None  # the saved authentication this job's credentials came from (rotated tokens go back)

    @field_validator("notify", mode="before")
    @classmethod
    def _notify(cls, value: Any) -> tuple[Any, ...]:
        if value is None or value == "":
            return ()
        items = value.split() if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else [value]
        for item in items:
            text = item.get_secret_value() if isinstance(item, SecretStr) else str(item)
            if "://" not in text:
                raise ValueError(
                    f"{mask_url(text)} is not a notification URL (scheme://...: mailto://, slack://, json://)"
                )
        return tuple(items)

    @field_validator("notify_on", mode="before")
    @classmethod
    def _notify_on(cls, value: Any) -> tuple[Any, ...]:
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return tuple(value) if isinstance(value, list | tuple) else (value,)

    @field_validator("prospect_lists", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> tuple[int | str, ...]:
        if value is None or value == "":
            return ()
        items = (
            value.split(",") if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else [value]
        )
        out: list[int | str] = []
        for item in items:
            text = str(item).strip()
            if isinstance(item, bool) or not text or text.lstrip("-").isdigit() and int(text) < 1:
                raise ValueError(
                    f"list {text!r} is neither a positive list id nor a list name; give ids or names as "
                    "'123, Newsletter' or [123, 'Newsletter']"
                )
            out.append(int(text) if text.isdigit() else text)
        return tuple(dict.fromkeys(out))

    def _rules(self) -> list[str]:
        """Problems that concern several parameters at once."""
        problems = []
        if self.data_object == "prospects" and self.prospect_list_operation == "mirror" and not self.prospect_lists:
            problems.append("prospect_list_operation = 'mirror' needs prospect_lists: the lists that must hold "
                            "exactly this job's prospects")  # fmt: skip
        if self.method == "import" and self.data_object != "prospects":
            problems.append("method = 'import' sends prospects only; list_memberships go through batchUpsert "
                            "(list_membership_method = batch: 50 prospects a call)")  # fmt: skip
        if self.method == "import" and len(self.prospect_lists) > 1:
            problems.append("method = 'import' takes at most one list in prospect_lists (how an import cell names "
                            "several lists is not confirmed); use method = 'batch' or 'auto'")  # fmt: skip
        return problems

    @property
    def list_names(self) -> tuple[str, ...]:
        """The names in ``prospect_lists`` (they are resolved to ids before any row is sent)."""
        return tuple(item for item in self.prospect_lists if isinstance(item, str))

    def __init__(self, **values: Any) -> None:
        """Validate keywords (plus credentials from a saved authentication and the environment); all problems in
        one ConfigError."""
        known, problems = gathered(type(self), values)
        try:
            super().__init__(**known)
        except ValidationError as exc:
            problems += validation_problems(exc, known)
        else:
            problems += self._rules()
        if problems:
            raise ConfigError(problems) from None

    @property
    def connection(self) -> Connection:
        """The client's settings of this job (hosts, credentials, business unit, timeouts, retries, calls in flight)."""
        return Connection.of(self)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **overrides: Any) -> ExportConfig:
        """Read a TOML job file (top-level keys = parameter names); keywords override it."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError([f"job file {str(path)!r} does not exist"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"job file {str(path)!r} is not valid TOML: {exc}"]) from None
        return cls(**{**data, **overrides})

    def replace(self, **overrides: Any) -> ExportConfig:
        """A copy with some parameters changed, validated like the original."""
        current = {k: getattr(self, k) for k in type(self).model_fields}
        for key in SECRET_KEYS:
            if current[key] is not None:
                current[key] = current[key].get_secret_value()
        current["notify"] = [u.get_secret_value() for u in current["notify"]]
        return type(self)(**{**current, **overrides})

    def missing_credentials(self) -> list[str]:
        """Names of the parameters a real export needs but this config lacks."""
        return [k for k in CREDENTIALS if getattr(self, k) is None]

    def __repr__(self) -> str:
        """The parameters that differ from the defaults, one per line, secrets masked."""
        safe = self.safe_dict()
        changed = {k: safe[k] for k in type(self).model_fields if k in self.model_fields_set and k in safe}
        if not changed:
            return "ExportConfig()  # every parameter at its default"
        return "ExportConfig(\n" + "".join(f"    {k}={v!r},\n" for k, v in changed.items()) + ")"

    __str__ = __repr__

    def safe_dict(self) -> dict[str, Any]:
        """Parameters as plain values with secrets masked: for logs, journals and job identity."""
        out = self.model_dump(mode="json")
        for key in SECRET_KEYS:
            if out.get(key) is not None:
                out[key] = MASK
        out["notify"] = [mask_url(u.get_secret_value()) for u in self.notify]
        return out


def mask_url(url: str) -> str:
    """A notification URL as it may be shown: its scheme only (the rest may hold a password or a token)."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://…" if sep else "…"


# what the client, the reads and the field list take: a connection, or a job (whose own connection is used)
Reachable = Connection | ExportConfig
