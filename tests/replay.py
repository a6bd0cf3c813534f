"""Replay the recorded real Pardot traffic (``shared/reference/recorded``) against the simulator and
compare each answer: HTTP status, ``@attributes.stat`` and ``err_code``, the error message, and the JSON
key structure. Ids differ between the real account and the simulator: each id an answer reveals is
mapped (recorded -> simulator) as the replay goes, and later requests are rewritten with the mapping.
The account's configuration (its custom fields) is seeded from the first recorded customField answer.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

from pardot_frames.simulator import Simulator

RECORDING = Path(__file__).resolve().parents[2] / "shared" / "reference" / "recorded" / "pardot-v4-recorded.json"
ID_KEYS = ("id", "list_id", "prospect_id")
ID_SEGMENT = re.compile(r"/(id|list_id|prospect_id)/(\d+)")


@dataclass
class Comparison:
    seq: int
    endpoint: str
    status: tuple[int, int]
    stat: tuple[Any, Any]
    err_code: tuple[Any, Any]
    message: tuple[Any, Any]
    keys_missing: frozenset[str]  # key paths the real answer has and the simulator's lacks
    keys_extra: frozenset[str]
    values_differ: frozenset[str]  # leaf paths (ids, times and ordering aside) whose values differ

    @property
    def outcome_agrees(self) -> bool:
        return (
            self.status[0] == self.status[1] and self.stat[0] == self.stat[1] and self.err_code[0] == self.err_code[1]
        )

    @property
    def keys_agree(self) -> bool:
        return not self.keys_missing and not self.keys_extra


VOLATILE = re.compile(r"(^|\.)(id|list_id|prospect_id|created_at|updated_at|last_activity_at|crm_last_sync)$")


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values by path, for answers compared value by value (lists by position)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out |= leaves(item, f"{prefix}.{key}" if prefix else key)
        return out
    if isinstance(value, list):
        out = {}
        for i, item in enumerate(value):
            out |= leaves(item, f"{prefix}[{i}]")
        return out
    return {prefix: value}


def differing(recorded: Any, simulated: Any) -> frozenset[str]:
    a, b = leaves(recorded), leaves(simulated)
    return frozenset(p for p in a.keys() | b.keys() if not VOLATILE.search(p) and a.get(p) != b.get(p))


def load() -> list[dict[str, Any]]:
    return json.loads(RECORDING.read_text(encoding="utf-8"))


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value; list items share one path (``a[].b``)."""
    if isinstance(value, dict):
        out = set()
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            out |= {path} | key_paths(item, path)
        return out
    if isinstance(value, list):
        return set().union(*(key_paths(item, prefix + "[]") for item in value)) if value else set()
    return set()


class IdMap:
    """Recorded ids -> simulator ids, learnt from answers; an unseen id maps to the nearest lower known one."""

    def __init__(self) -> None:
        self.ids: dict[int, int] = {}

    def learn(self, recorded: Any, simulated: Any) -> None:
        if isinstance(recorded, dict) and isinstance(simulated, dict):
            for key, value in recorded.items():
                other = simulated.get(key)
                if key in ID_KEYS and isinstance(value, int) and isinstance(other, int):
                    self.ids.setdefault(value, other)
                else:
                    self.learn(value, other)
        elif isinstance(recorded, list) and isinstance(simulated, list):
            for a, b in zip(recorded, simulated, strict=False):
                self.learn(a, b)

    def __call__(self, value: int | str, *, nearest: bool = False) -> int:
        value = int(value)
        if value in self.ids or not nearest:
            return self.ids.get(value, value)
        known = sorted(self.ids)
        at = bisect.bisect_right(known, value) - 1
        return self.ids[known[at]] if at >= 0 else value


def rewrite_prospects(text: str, ids: IdMap) -> str:
    data = json.loads(text)
    rows = []
    for row in data.get("prospects", []):
        out = {}
        for key, value in row.items():
            if key == "id" and value not in (None, ""):
                out[key] = ids(value)
            elif key.startswith("list_") and key[5:].isdigit():
                out[f"list_{ids(key[5:])}"] = value
            else:
                out[key] = value
        rows.append(out)
    return json.dumps({"prospects": rows})


async def send(session: aiohttp.ClientSession, sim: Simulator, headers: dict, call: dict, ids: IdMap) -> tuple:
    path = ID_SEGMENT.sub(lambda m: f"/{m.group(1)}/{ids(m.group(2))}", call["path"])
    query = dict(call["query"])
    for key in ("list_id", "prospect_id"):
        if key in query:
            query[key] = str(ids(query[key]))
    if "id_greater_than" in query:
        query["id_greater_than"] = str(ids(query["id_greater_than"], nearest=True))
    url = URL(sim.pardot_domain + path + ("?" + urlencode(query, quote_via=quote) if query else ""), encoded=True)
    data: Any = None
    if call["body_encoding"] == "multipart/form-data" and call["body"]:
        data = aiohttp.MultipartWriter("form-data")
        for name, value in call["body"].items():
            text = rewrite_prospects(value, ids) if name == "prospects" else value
            part = data.append(text)
            part.set_content_disposition("form-data", name=name)
    async with session.request(call["method"], url, headers=headers, data=data) as response:
        text = await response.text()
    try:
        body = json.loads(text) if text else ""
    except ValueError:
        body = text
    return response.status, body


def _attrs(body: Any) -> tuple[Any, Any, Any]:
    if not isinstance(body, dict):
        return None, None, None
    attrs = body.get("@attributes") or {}
    return attrs.get("stat"), attrs.get("err_code"), body.get("err")


async def replay(sim: Simulator, calls: list[dict[str, Any]]) -> list[Comparison]:
    """Replay every call in order; one Comparison each."""
    fields = next(c for c in calls if "customField" in c["path"])["response"]["result"]["customField"]
    sim.seed(custom_fields=fields if isinstance(fields, list) else [fields])
    ids = IdMap()
    out = []
    async with aiohttp.ClientSession() as session:
        form = {
            "grant_type": "refresh_token",
            **{k: sim.credentials[k] for k in ("client_id", "client_secret", "refresh_token")},
        }
        async with session.post(sim.login_url + "/services/oauth2/token", data=form) as r:
            token = (await r.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Pardot-Business-Unit-Id": sim.credentials["business_unit"]}
        for call in calls:
            status, body = await send(session, sim, headers, call, ids)
            recorded = call["response"]
            ids.learn(recorded, body)
            (rs, rc, rm), (ss, sc, sm) = _attrs(recorded), _attrs(body)
            real_keys, sim_keys = key_paths(recorded), key_paths(body)
            endpoint = re.sub(r"/(\d+|[^/]*%40[^/]*)", "/N", call["path"])
            out.append(
                Comparison(
                    call["seq"], f"{call['method']} {endpoint}", (call["status"], status), (rs, ss), (rc, sc), (rm, sm),
                    frozenset(real_keys - sim_keys), frozenset(sim_keys - real_keys), differing(recorded, body),
                )
            )  # fmt: skip
    return out


def scores(comparisons: list[Comparison]) -> dict[str, float]:
    n = len(comparisons)
    return {
        "calls": n,
        "status_stat_err_code": sum(c.outcome_agrees for c in comparisons) / n,
        "key_structure": sum(c.keys_agree for c in comparisons) / n,
        "messages": sum(c.message[0] == c.message[1] for c in comparisons) / n,
        "values": sum(not c.values_differ for c in comparisons) / n,
    }
