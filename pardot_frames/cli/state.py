"""``pardot-frames state``: the destination states of incremental sync (``sync_mode = "changed"``) and the
recycle-bin caches (one per Pardot host and business unit: the prospects deleted there, issue #33)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pardot_frames.cli.common import EXIT_OK, UsageError, print_table


def cmd_state(args: argparse.Namespace) -> int:
    import orjson

    from pardot_frames.engine.state.journal import state_dir
    from pardot_frames.engine.state.recycle_bin import list_bins
    from pardot_frames.engine.state.sync import list_states

    folder = Path(args.state_dir) if args.state_dir else state_dir()
    states, bins = list_states(folder), list_bins(folder)
    if args.action == "list":
        if not states:
            print(f"no sync states in {folder / 'sync'}")
        else:
            print_table(
                ["id", "rows", "object", "host", "business unit", "lists", "operation", "by email"],
                [state_row(s) for s in states],
                right=["rows"],
            )
        if bins:
            print("\nrecycle bins (prospects deleted in Pardot: rows for them are not sent)")
            print_table(["id", "prospects", "host", "business unit", "read", "checked"],
                        [bin_row(b) for b in bins], right=["prospects"])  # fmt: skip
        return EXIT_OK
    chosen = [s for s in [*states, *bins] if args.all or s["id"] == args.id]
    if not chosen:
        raise UsageError(f"no sync state or recycle bin {args.id!r} in {folder} (pardot-frames state list shows them)")
    if args.action == "show":
        for s in chosen:
            print(orjson.dumps(s, option=orjson.OPT_INDENT_2).decode())
        return EXIT_OK
    for s in chosen:  # reset: the next changed-mode run sends every row again; the next job reads the bin whole
        Path(s["path"]).unlink(missing_ok=True)
        Path(f"{s['path']}.wal").unlink(missing_ok=True)
        what = f"{s['rows']:,} rows" if "rows" in s else f"the recycle bin's {s['prospects']:,} prospects"
        print(f"reset {s['id']} ({what} forgotten)")
    return EXIT_OK


def bin_row(found: dict[str, Any]) -> list[object]:
    """One recycle-bin cache as a table row."""
    return [found["id"], f"{found['prospects']:,}", found.get("host") or "-", found.get("business_unit") or "-",
            found.get("read_at") or "-", found.get("checked_at") or "-"]  # fmt: skip


def state_row(state: dict[str, Any]) -> list[object]:
    """One destination as a table row: what tells it apart from the others."""
    d = state["destination"]
    lists = ", ".join(str(x) for x in d.get("prospect_lists") or []) or "-"
    operation = d.get("prospect_list_operation") if d.get("data_object") == "prospects" else None
    by_email = "yes" if d.get("upsert_by_email") else "no"
    return [state["id"], f"{state['rows']:,}", d.get("data_object"), d.get("pardot_domain"), d.get("business_unit"),
            lists, operation or d.get("list_membership_operation") or "-", by_email]  # fmt: skip


def add_state_parser(sub: Any) -> None:
    """The ``state`` command."""
    p = sub.add_parser("state", help="list, show or reset incremental-sync states and recycle-bin caches")
    p.add_argument("action", choices=["list", "show", "reset"], nargs="?", default="list")
    p.add_argument("id", nargs="?", help="the state or recycle bin id (from 'state list')")
    p.add_argument("--all", action="store_true", help="show or reset every state")
    p.add_argument("--state-dir", metavar="DIR")
    p.set_defaults(func=cmd_state)
