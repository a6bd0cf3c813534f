"""Job configuration: the connector's parameters (``ExportConfig``), output mapping, saved credentials.

The base layer: every other stage reads a config; this package reads only files and the environment.
Names load on first use (pydantic and polars are heavy), so the command line starts quickly.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {"ExportConfig": "job", "is_loopback_host": "job", "OutputMapping": "mapping"}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
