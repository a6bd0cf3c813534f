"""A faithful local Pardot (Account Engagement) and Salesforce login server, for tests and rehearsals.

It follows ``pardot-api-facts.md``: OAuth refresh/authorization-code grants, v4 batchUpsert with
per-row errors, v4/v5 list memberships, auth errors 181/182/184/201, limits 66/122/414 and seeded
faults. It never imports the client package (and the client never imports it).
"""

from .config import Faults, SimConfig
from .server import Simulator, SimulatorThread
from .state import ApiError, PardotState

__all__ = ["ApiError", "Faults", "PardotState", "SimConfig", "Simulator", "SimulatorThread"]
