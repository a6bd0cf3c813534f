"""Job configuration: the connector's parameters (``ExportConfig``), output mapping, saved credentials.

The base layer: every other stage reads a config; this package reads only files and the environment.
Names load on first use (pydantic and polars are heavy), so the command line starts quickly.
"""

from __future__ import annotations

from pardot_frames._lazy import lazy_exports

_EXPORTS = {
    "ExportConfig": "job",
    "Connection": "connection",
    "is_loopback_host": "connection",
    "OutputMapping": "mapping",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
