"""A faithful local Pardot (Account Engagement) and Salesforce login server, for tests and rehearsals.

It follows ``pardot-api-facts.md``: OAuth refresh/authorization-code grants, v4 batchUpsert with
per-row errors, v4/v5 list memberships, auth errors 181/182/184/201, limits 66/122/414 and seeded
faults. It never imports the client package (and the client never imports it). Names load on first
use, so the command line can describe the simulator's options without starting aiohttp.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Faults": "config",
    "SimConfig": "config",
    "Simulator": "server",
    "SimulatorThread": "server",
    "ApiError": "state",
    "PardotState": "state",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
