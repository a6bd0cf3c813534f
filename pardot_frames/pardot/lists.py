"""Lists in Pardot v4: list names to ids, one query per name (once per job), creating missing ones
when the job allows it. A name the account does not have, or has twice, is a configuration error,
met before any row is sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pardot_frames._control import Retriable
from pardot_frames.errors import ConfigError
from pardot_frames.pardot import endpoints
from pardot_frames.pardot.answers import records
from pardot_frames.pardot.retry import with_retries
from pardot_frames.pardot.transport import Request

if TYPE_CHECKING:
    from pardot_frames.pardot.client import Client


async def find(client: Client, name: str) -> list[int]:
    """Ids of the lists named exactly ``name``."""
    reply = await client.get(endpoints.list_query(name))
    result = reply.body.get("result") if isinstance(reply.body, dict) else None
    if reply.code is not None or not isinstance(result, dict):
        raise ConfigError([f"prospect_lists: the list query for {name!r} failed ({reply.message or 'no result'})"])
    return sorted(int(r["id"]) for r in records(result.get("list")) if r.get("name") == name)


async def _create(client: Client, name: str) -> int | None:
    """Create a list; after an answer that leaves it unknown, look the name up before trying again, so a
    list is never created twice. None when Pardot refuses, or after the job's retries."""

    async def once(unknown: bool) -> int | None:
        if unknown and (ids := await find(client, name)):
            return ids[0]
        reply = await client.send(Request("POST", endpoints.list_create(name)))
        created = reply.body.get("list") if isinstance(reply.body, dict) else None
        return int(created["id"]) if reply.code is None and isinstance(created, dict) else None

    try:
        return await with_retries(client.policy, once, lambda failure: failure)
    except Retriable:
        return None


async def resolve(client: Client, names: tuple[str, ...], *, create: bool, dry: bool = False) -> dict[str, int | None]:
    """Each name's list id; missing lists are created when ``create`` (not in a ``dry`` run: None)."""
    out: dict[str, int | None] = {}
    problems = []
    for name in names:
        ids = await find(client, name)
        if len(ids) == 1:
            out[name] = ids[0]
        elif ids:
            problems.append(f"prospect_lists: {len(ids)} lists are named {name!r} (ids {ids}); give the id instead")
        elif not create:
            problems.append(
                f"prospect_lists: no list is named {name!r}; check the name (names are exact), give an id, "
                "or set create_missing_lists = true"
            )
        elif dry:
            out[name] = None
        else:
            created = await _create(client, name)
            if created is None:
                problems.append(f"prospect_lists: creating the list {name!r} failed; create it in Pardot")
            else:
                out[name] = created
    if problems:
        raise ConfigError(problems)
    return out
