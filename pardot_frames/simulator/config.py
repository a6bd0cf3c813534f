"""The simulator's settings: accepted credentials, account rules, limits and seeded faults.

Everything here can be changed while the server runs (``Simulator.configure`` or
``PATCH /__sim__/config``), so a test can, say, lift the daily limit and let a job resume.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal


@dataclass
class Faults:
    """Seeded, reproducible faults: each Pardot call's fate is drawn from (seed, call number)."""

    seed: int = 0
    http_5xx: float = 0.0  # share of calls answered 500/502/503 (not applied)
    err_183: float = 0.0  # share answered with error 183 "internal error" (not applied)
    drop: float = 0.0  # share whose connection is dropped before the call is applied
    lost: float = 0.0  # share applied, then the connection drops: the client cannot know
    slow: float = 0.0  # share answered only after slow_seconds (applied first)
    gateway_5xx: float = 0.0  # share applied, then answered 502/504 by a gateway that timed out in front
    proxy_html: float = 0.0  # share answered HTTP 200 with an HTML page by a proxy (not applied)
    slow_seconds: float = 0.0
    revoke_at_call: int | None = None  # every access token dies at this Pardot call number (1-based)
    import_failed: float = 0.0  # share of imports that end Failed, having applied import_failed_applies of rows
    import_cancelled: float = 0.0  # share of imports that end Cancelled, nothing applied
    import_failed_applies: float = 0.5
    hold_from_call: int | None = None  # call N is applied, then it and every later call wait unanswered (later
    #   ones not applied) until this is set back to None: a deterministic point to kill a client at


@dataclass
class SimConfig:
    """Accounts, limits and behaviours of one simulated Pardot + Salesforce login server."""

    client_id: str = "sim-client-id"
    client_secret: str = "sim-client-secret"
    refresh_tokens: list[str] = field(default_factory=lambda: ["sim-refresh-token"])
    business_units: list[str] = field(default_factory=lambda: ["0Uv000000000001AAA"])
    rotate_refresh_token: bool = False  # the token grant also returns a new refresh token
    token_ttl_seconds: float | None = None  # access tokens expire after this many seconds ...
    token_ttl_calls: int | None = None  # ... or after this many Pardot calls
    err_184_status: Literal["alternate", 400, 401] = "alternate"  # the real API has used both
    one_prospect_per_email: bool = False  # account setting: email-only rows update the match
    # the recycle bin (facts 7), not confirmed: an email-only batchUpsert row on an account with one prospect
    # per email brings a binned prospect back (likely: it is an upsert by email); deleting touches updated_at
    batch_email_unarchives: bool = True
    delete_touches_updated_at: bool = True
    body_params: bool = True  # v4 takes parameters from a form/multipart body (False: only the query string)
    # the customField read lists a field's allowed values: not confirmed (recorded/pardot-v4-recorded.json has
    # customField answers, output=mobile, with is_use_values and no values; the full output is not recorded).
    # False hides them, so a client cannot check a Dropdown's values; either way an unlisted value is dropped
    # without an error (stat ok), as recorded/README.md says of typed custom fields
    field_values_shown: bool = True
    concurrency_limit: int = 5  # in-flight Pardot calls per business unit (error 66 above)
    daily_limit: int | None = None  # Pardot calls per business unit per day (error 122 above)
    limit_error_status: int = 400  # HTTP status of errors 66 and 122 (not confirmed in the docs)
    max_uri_length: int | None = 8192  # longer request URIs get HTTP 414 ...
    uri_too_long_status: Literal[414, 400] = 414  # ... or, as real Pardot does for very long ones, an HTML 400
    latency: float = 0.0  # seconds a Pardot call takes to answer, its own work included ...
    jitter: float = 0.0  # ... plus uniform(0, jitter)
    import_wait: float = 0.05  # Import API: seconds an import waits after Ready ...
    import_seconds: float = 0.2  # ... and processes before it is Complete
    import_max_batch_bytes: int = 10 * 1024 * 1024  # a bigger batch gets HTTP 413
    import_daily_batches: int = 1000  # Import API batches per account per day (error 164 above)
    import_apply: bool = True  # False: imports count their rows as created without storing them (load tests)
    # import-api.md 4 and 6, not confirmed: the word a cancelled import's status reads ("Cancelled", "Canceled",
    # "Canceling", or any other: a client must end polling on each), the code in a 413 answer's body (None: a
    # plain-text body), and the name of the errors file's reference (errorsRef; one public client reads errorRef)
    import_cancelled_status: str = "Cancelled"
    import_too_big_code: int | None = 413
    import_errors_ref: str = "errorsRef"
    v5_utc_offset: str = "-07:00"  # v5 datetimes are in the API user's timezone (v5-objects 4; recorded: -07:00)
    page_token_seconds: float = 4 * 3600  # a v5 nextPageToken's life (v5-objects 2: 4 h, then code 210)
    # v5-objects 2: a token chain ends after 100,000 records, said in a Pardot-Warning header whose code is not
    # confirmed (203 in the docs, 101 in the server code)
    token_chain_cap: int = 100_000
    page_warning_code: int = 203
    # the Export API (export-api sheet): seconds an export processes, rows per result file (standing in for
    # maxFileSizeBytes), the code of unknown export fields (130 or 180: not confirmed), v3/v4-style dates in the CSV
    # (the v5 form is not confirmed), and generated VisitorActivity rows for a benchmark (0: the stored ones)
    export_seconds: float = 0.2
    export_file_rows: int = 50_000
    export_fields_code: int = 130
    export_legacy_dates: bool = False
    export_synthetic_rows: int = 0
    # export-api 7: an export's files expire 7 days after it; from its creation or its completion is not confirmed
    export_expiry_seconds: float = 7 * 86_400
    export_expiry_from: Literal["created", "completed"] = "created"
    export_v4_wrapped: bool = True  # export-api 6: a v4 export answer as {"export": {...}} or bare (both documented)
    v5_dotted_flat: bool = False  # v5-objects 1: a dotted field (trackerDomain.domain) nested, or a flat key
    # v5-objects 2 (recorded): a full page that happens to end the data still carries a token, and the next call
    # answers "values": [] (False: the end is said at once, as a friendlier server would)
    token_at_data_end: bool = True
    # v5-objects 6: dynamic content variations are read per dynamic content; whether a query without
    # dynamicContentId is refused (code 51) or answers every variation is not confirmed
    variations_need_content: bool = True
    faults: Faults = field(default_factory=Faults)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply changes in place (``faults`` may be a dict of fault settings); unknown names raise."""
        names = {f.name for f in fields(self)}
        fault_names = {f.name for f in fields(Faults)}
        for key, value in changes.items():
            if key == "faults":
                if isinstance(value, Faults):
                    self.faults = value
                    continue
                for fkey, fvalue in dict(value).items():
                    if fkey not in fault_names:
                        raise ValueError(f"unknown fault setting {fkey!r}; known: {sorted(fault_names)}")
                    setattr(self.faults, fkey, fvalue)
            elif key in names:
                setattr(self, key, value)
            else:
                raise ValueError(f"unknown simulator setting {key!r}; known: {sorted(names)}")

    def public(self) -> dict[str, Any]:
        """Settings as JSON-ready data (the simulator's credentials are test values, not secrets)."""
        return asdict(self)
