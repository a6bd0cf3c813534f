"""Mirrored lists (``prospect_list_operation`` or ``list_membership_operation`` = ``"mirror"``).

While the rows go out (they add their memberships), ``note`` collects which prospects each mirrored
list must hold: for a prospects job, every list of ``prospect_lists`` holds the prospects of the job's
valid rows; for a list_memberships job, each list named in the input holds exactly its input pairs.
After the last row, ``apply`` reads each list's members (200 a call) and removes the others in
batchUpsert calls (``{"id": P, "list_L": 0}``, 50 prospects a call). Prospects are never deleted, and
lists the job does not name are never touched.

A prospects job knows the ids of rows that carry one. Rows matched by email or fid may hold a prospect
whose id the job never saw (batchUpsert does not return new ids): a member that is not known to be the
job's is read first (one call) and kept when its email or fid is the job's; when there are more such
members than emails to look up, the emails are looked up instead. The destination's id map (changed
mode) shrinks that set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from pardot_frames.engine.send.base import Phase
from pardot_frames.engine.send.ledger import Ledger
from pardot_frames.engine.send.membership_batches import INVALID_PROSPECT, MembershipBatchPath
from pardot_frames.engine.state.sync import KnownIds
from pardot_frames.pardot import membership_calls, prospects
from pardot_frames.prepare.frames import ROW_NR
from pardot_frames.prepare.validation import Validated

if TYPE_CHECKING:
    from pardot_frames.config.job import ExportConfig
    from pardot_frames.pardot.client import Client

log = logging.getLogger("pardot_frames")


def mirrors(config: ExportConfig) -> bool:
    """True when this job mirrors lists."""
    if config.data_object == "prospects":
        return config.prospect_list_operation == "mirror"
    return config.list_membership_operation == "mirror"


@dataclass
class Mirror:
    """What the job's valid rows say each mirrored list must hold, and the removals that make it so."""

    config: ExportConfig
    keep: dict[int, set[int]] = field(default_factory=dict)  # list id -> prospect ids (list_memberships)
    ids: set[int] = field(default_factory=set)  # prospects: ids the rows carry
    emails: set[str] = field(default_factory=set)  # prospects: emails of rows without an id
    fids: set[str] = field(default_factory=set)  # prospects: fids of rows with neither id nor email
    figures: dict[str, Any] = field(default_factory=dict)

    def note(self, checked: Validated) -> None:
        """Take a chunk's valid rows (all of them: unchanged rows and rows sent before a resume count too)."""
        rows = checked.rows
        if self.config.data_object == "list_memberships":
            grouped = rows.group_by("list_id").agg(pl.col("prospect_id").unique())
            for list_id, pids in grouped.iter_rows():
                self.keep.setdefault(int(list_id), set()).update(int(p) for p in pids)
            return
        rest = rows
        if "id" in rows.columns:
            self.ids.update(rows["id"].drop_nulls().to_list())
            rest = rows.filter(pl.col("id").is_null())
        if "email" in rest.columns:
            email = pl.col("email").str.strip_chars().str.to_lowercase()
            self.emails.update(rest.select(email.filter(email != ""))["email"].to_list())
            rest = rest.filter(pl.col("email").is_null() | (pl.col("email") == ""))
        if "fid" in rest.columns:
            fid = pl.col("fid").cast(pl.String)
            self.fids.update(rest.select(fid.filter(fid != ""))["fid"].to_list())

    def lists(self) -> list[int]:
        """The lists this job mirrors (ids: list names are resolved before the rows go)."""
        if self.config.data_object == "list_memberships":
            return sorted(self.keep)
        return [int(x) for x in self.config.prospect_lists if not isinstance(x, str)]

    async def outsiders(self, client: Client, known: KnownIds | None = None) -> dict[int, set[int]]:
        """Per list, the members this job's rows do not account for (read from Pardot, then checked)."""
        members = {list_id: await membership_calls.members(client, list_id) for list_id in self.lists()}
        self.figures["members_read"] = sum(len(m) for m in members.values())
        if self.config.data_object == "list_memberships":
            return {lid: m - self.keep.get(lid, set()) for lid, m in members.items()}
        keep = self._known(known)
        doubtful = set().union(*members.values()) - keep if members else set()
        if doubtful and (self.emails or self.fids):
            keep |= await self._theirs(client, doubtful, known)
        return {lid: m - keep for lid, m in members.items()}

    async def preview(self, client: Client, known: KnownIds | None = None) -> tuple[int, int]:
        """For a dry run: (memberships to remove at most, calls: member reads plus removals); reads only.
        Exact for list_memberships and for rows that all carry ids; otherwise members matched by email or
        fid count as removals (the real run reads them first and keeps the job's)."""
        before = client.stats.api_calls
        keep = self._known(known)
        outside: dict[int, set[int]] = {}
        for list_id in self.lists():
            members = await membership_calls.members(client, list_id)
            outside[list_id] = members - (self.keep.get(list_id, set()) if self.keep else keep)
        prospects_out = set().union(*outside.values()) if outside else set()
        removal_calls = -(-len(prospects_out) // 50)
        return sum(len(m) for m in outside.values()), client.stats.api_calls - before + removal_calls

    def _known(self, known: KnownIds | None) -> set[int]:
        """Prospect ids known to be the job's: those the rows carry, and the id map's for the rows' emails."""
        mapped = known.known_ids(sorted(self.emails)).values() if known is not None and self.emails else ()
        return set(self.ids) | set(mapped)

    async def _theirs(self, client: Client, doubtful: set[int], known: KnownIds | None) -> set[int]:
        """Which of these prospects are the job's (matched by email or fid): read each, or, when that costs
        more, look the job's emails up (then read only what is left, if rows go by fid)."""
        theirs: set[int] = set()
        if len(doubtful) > len(self.emails) + len(self.fids) and self.emails:
            found = await prospects.resolve_emails(client, sorted(self.emails))
            if known is not None:
                known.remember({email: ids[-1] for email, ids in found.items()})
            theirs = {pid for ids in found.values() for pid in ids}
            doubtful -= theirs
            if not self.fids:
                return theirs
        self.figures["members_checked"] = len(doubtful)
        for pid in sorted(doubtful):
            seen = await prospects.identity(client, pid)
            if seen is not None and (seen[0] in self.emails or seen[1] & self.fids):
                theirs.add(pid)
        return theirs

    async def remove(self, client: Client, outside: dict[int, set[int]]) -> Ledger:
        """Remove the outsiders from their lists, 50 prospects a call; the ledger holds each removal's fate."""
        pairs = [(lid, pid) for lid in sorted(outside) for pid in sorted(outside[lid])]
        frame = pl.DataFrame(
            {ROW_NR: range(len(pairs)), "list_id": [p[0] for p in pairs], "prospect_id": [p[1] for p in pairs]},
            schema={ROW_NR: pl.Int64, "list_id": pl.Int64, "prospect_id": pl.Int64},
        )
        config = self.config.replace(data_object="list_memberships", list_membership_operation="delete")
        ledger = Ledger()
        path = MembershipBatchPath(config, client, ledger)
        calls = path.calls(Phase(frame, frame))
        for call in calls:
            await path.send(call)
        gone = {r for r, (_, _, message) in ledger.unapplied.items() if message == INVALID_PROSPECT}
        ledger.ok(sorted(gone), "the prospect is gone from Pardot")
        self.figures |= {"removed": len(ledger.succeeded), "removal_calls": len(calls), "pairs": pairs}
        return ledger

    async def apply(self, client: Client, known: KnownIds | None = None) -> dict[str, Any]:
        """Make each mirrored list hold exactly the job's prospects; the figures for ``ExportResult.extra``."""
        before = client.stats.api_calls
        outside = await self.outsiders(client, known)
        ledger = await self.remove(client, outside) if any(outside.values()) else Ledger()
        pairs = self.figures.pop("pairs", [])
        failed = [
            {"list_id": pairs[r][0], "prospect_id": pairs[r][1], "reason": message}
            for r, (_, _, message) in sorted(ledger.unapplied.items())
        ]
        if failed:
            log.warning("mirror: %d members could not be removed from their lists (see extra['mirror'])", len(failed))
        return {
            "lists": self.lists(),
            "members_read": self.figures.get("members_read", 0),
            "members_checked": self.figures.get("members_checked", 0),
            "removed": len(ledger.succeeded),
            "removal_failed": failed,
            "calls": client.stats.api_calls - before,
        }
