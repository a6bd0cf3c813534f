"""Dagster integration (``pip install 'pardot-frames[dagster]'``): a configurable resource and an asset helper.

``PardotResource``: the job file and the connection (each field may be a ``dagster.EnvVar``, so a secret is never in
the run's config or its log; fields left out come from the job file, a saved authentication or ``PARDOT_*``
variables). ``pardot_export_asset(name, **job)`` turns a function that returns a frame into an asset that exports it
and records applied, rejected, not sent, calls, the method and the verify summary as materialisation metadata; a job
that fails (or an input error) fails the run with its one-line reason.

No ``from __future__ import annotations`` here: Dagster reads the asset's parameter types at definition time.
"""

from collections.abc import Callable
from typing import Any

import dagster as dg

from pardot_frames.config.job import ExportConfig
from pardot_frames.engine.job.export import export_to_pardot
from pardot_frames.engine.results import ExportResult
from pardot_frames.errors import PardotFramesError

CONNECTION_FIELDS = ("client_id", "client_secret", "refresh_token", "business_unit", "pardot_domain", "login_url",
                     "auth")  # fmt: skip


class PardotResource(dg.ConfigurableResource):
    """Where and how to reach Pardot; secrets as ``dagster.EnvVar`` (never in the run's config log)."""

    job_file: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    business_unit: str | None = None
    pardot_domain: str | None = None
    login_url: str | None = None
    auth: str | None = None
    state_dir: str | None = None

    def job(self, **overrides: Any) -> ExportConfig:
        """The export job: the job file (if any), then this resource's fields, then ``overrides``."""
        given = {k: getattr(self, k) for k in CONNECTION_FIELDS if getattr(self, k) is not None}
        if self.job_file:
            return ExportConfig.from_file(self.job_file, **given, **overrides)
        return ExportConfig(**given, **overrides)

    def export(self, data: Any, verify: bool | float = False, **overrides: Any) -> ExportResult:
        """``export_to_pardot`` with this resource's job (no progress bar: Dagster logs the run)."""
        return export_to_pardot(data, self.job(**overrides), progress=False, state_dir=self.state_dir, verify=verify)


def pardot_export_asset(name: str, *, verify: bool | float = False, deps: Any = None,
                        **job: Any) -> Callable[[Callable[[], Any]], Any]:  # fmt: skip
    """A decorator: the function returns the rows to send (any frame the export takes); the asset sends them."""

    def decorate(build: Callable[[], Any]) -> Any:
        @dg.asset(name=name, deps=deps)
        def exported(pardot: PardotResource) -> dg.MaterializeResult:
            try:
                result = pardot.export(build(), verify=verify, **job)
            except PardotFramesError as exc:
                raise dg.Failure(description=str(exc).splitlines()[0]) from None
            return dg.MaterializeResult(metadata=metadata(result))

        return exported

    return decorate


def metadata(result: ExportResult) -> dict[str, Any]:
    """What a materialisation records of an export."""
    summary = result.summary()
    out: dict[str, Any] = {
        "applied": result.succeeded, "rejected": result.rejected_validation + result.rejected_pardot,
        "not_sent": result.not_sent, "calls": result.api_calls, "job_id": result.job_id or "",
        "method": str(result.extra.get("method", "batch")), "stopped": result.stopped or "",
    }  # fmt: skip
    if "verification" in result.extra:
        out["verify"] = dg.MetadataValue.json(result.extra["verification"])
    out["summary"] = dg.MetadataValue.json({k: v for k, v in summary.items() if isinstance(v, int | float | str)})
    return out
