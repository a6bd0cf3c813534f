"""pardot-frames: send data frames and SQL results to Salesforce Pardot (Account Engagement)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .batching import Plan, plan
from .config import ExportConfig
from .errors import (
    ApiError,
    AuthError,
    ColumnError,
    ConfigError,
    InputError,
    JobFailed,
    PardotError,
    PardotFramesError,
    ValidationFailed,
)
from .export import export_to_pardot, export_to_pardot_async
from .results import ExportResult
from .validate import Validated, validate

try:
    __version__ = version("pardot-frames")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "ApiError",
    "AuthError",
    "ExportResult",
    "JobFailed",
    "export_to_pardot",
    "export_to_pardot_async",
    "ColumnError",
    "ConfigError",
    "ExportConfig",
    "InputError",
    "PardotError",
    "PardotFramesError",
    "Plan",
    "Validated",
    "ValidationFailed",
    "__version__",
    "plan",
    "validate",
]
