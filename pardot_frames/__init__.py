"""pardot-frames: send data frames and SQL results to Salesforce Pardot (Account Engagement).

Names are imported on first use, so the command line starts quickly.
"""

from __future__ import annotations

from typing import Any

from pardot_frames._lazy import lazy_exports

_EXPORTS = {
    "ExportConfig": "config",
    "Connection": "config.connection",
    "validate": "prepare.validation",
    "Validated": "prepare.validation",
    "plan": "prepare.batching",
    "Plan": "prepare.batching",
    "export_to_pardot": "engine.job.export",
    "export_to_pardot_async": "engine.job.export",
    "ExportResult": "engine.results",
    "dry_run": "engine.job.dryrun",
    "DryRun": "engine.results",
    "OutputMapping": "config.mapping",
    "fields": "engine.state.field_cache",
    "read_prospects": "engine.read.frames",
    "read_lists": "engine.read.frames",
    "read_list_members": "engine.read.frames",
    "read": "engine.read.objects",
    "history": "engine.state.history",
    "verify": "engine.read.verify",
    "Verification": "engine.read.verify",
    **dict.fromkeys(
        [
            "PardotFramesError",
            "ConfigError",
            "InputError",
            "ColumnError",
            "ValidationFailed",
            "PardotError",
            "AuthError",
            "ApiError",
            "JobFailed",
            "VerifyFailed",
            "Interrupted",
            "RetriesExhausted",
            "PardotFramesWarning",
            "ReadStopped",
            "LimitReached",
        ],
        "errors",
    ),
}
__all__ = ["__version__", *_EXPORTS]
_exported = lazy_exports(__name__, _EXPORTS, globals())


def __getattr__(name: str) -> Any:
    """The exports, and ``__version__`` (read from the installed metadata on first use: 20 ms a start-up)."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("pardot-frames")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            found = "0.0.0"
        globals()["__version__"] = found
        return found
    return _exported(name)
