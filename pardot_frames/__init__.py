"""pardot-frames: send data frames and SQL results to Salesforce Pardot (Account Engagement).

Names are imported on first use, so the command line starts quickly.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from pardot_frames._lazy import lazy_exports

try:
    __version__ = version("pardot-frames")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

_EXPORTS = {
    "ExportConfig": "config",
    "validate": "prepare.validation",
    "Validated": "prepare.validation",
    "plan": "prepare.batching",
    "Plan": "prepare.batching",
    "export_to_pardot": "engine.export",
    "export_to_pardot_async": "engine.export",
    "ExportResult": "engine.results",
    "dry_run": "engine.dryrun",
    "DryRun": "engine.results",
    "OutputMapping": "config.mapping",
    "fields": "engine.field_cache",
    "read_prospects": "engine.read",
    "read_lists": "engine.read",
    "read_list_members": "engine.read",
    "verify": "engine.verify",
    "Verification": "engine.verify",
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
            "Interrupted",
            "RetriesExhausted",
            "PardotFramesWarning",
            "ReadStopped",
        ],
        "errors",
    ),
}
__all__ = ["__version__", *_EXPORTS]
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
