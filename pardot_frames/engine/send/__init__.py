"""Send paths: each turns a chunk of valid rows into API calls and sends them, one interface for all.

``SendPath`` (in ``base``) is the interface; ``upsert`` sends prospects through batchUpsert;
``batched_memberships`` sends list memberships through batchUpsert, ``memberships`` one per call.
``for_job`` picks a job's path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pardot_frames.engine.send.base import Phase, Planned, SendPath, planned_calls
from pardot_frames.engine.send.imports import ImportPath
from pardot_frames.engine.send.membership_batches import MembershipBatchPath
from pardot_frames.engine.send.membership_pairs import MembershipPath
from pardot_frames.engine.send.upsert import UpsertPath
from pardot_frames.engine.state.sync import KnownIds

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.engine.send.ledger import Ledger
    from pardot_frames.pardot.client import Client

__all__ = [
    "ImportPath",
    "KnownIds",
    "MembershipBatchPath",
    "MembershipPath",
    "Phase",
    "Planned",
    "SendPath",
    "UpsertPath",
    "for_job",
    "planned_calls",
]


def for_job(
    config: ExportConfig,
    client: Client | None = None,
    ledger: Ledger | None = None,
    ids: KnownIds | None = None,
    **resume: Any,
) -> SendPath:
    """The send path of this job (without a client: for planning only, as the dry run does); ``ids`` is the
    destination's email -> prospect id map (changed mode); ``resume`` gives the import path what a stopped
    run left (``attached``, ``unknown``) and its ``progress``."""
    if config.data_object == "prospects" and config.method == "import":
        return ImportPath(config, client, ledger, ids, **resume)
    if config.data_object == "prospects":
        return UpsertPath(config, client, ledger, ids)
    if config.list_membership_method == "batch":
        return MembershipBatchPath(config, client, ledger)
    return MembershipPath(config, client, ledger)
