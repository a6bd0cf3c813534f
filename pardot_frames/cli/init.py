"""``pardot-frames init``: write a commented starting job file, asking (or taking flags) for what differs
between accounts, and say the next command to run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pardot_frames.cli.common import EXIT_OK, UsageError

HOSTS = {"production": "https://pi.pardot.com", "demo": "https://pi.demo.pardot.com"}
TEMPLATE = """\
# pardot-frames job file, written by 'pardot-frames init'. Every key is a job parameter (docs/parameters.md: "Job
# parameters"); any of them can be changed for one run with --set key=value.

# Where the rows go: the Pardot host (https://pi.demo.pardot.com for developer orgs and sandboxes) and the
# business unit id (Salesforce Setup > Pardot Account Setup, it starts with 0Uv).
pardot_domain = "{host}"
business_unit = "{business_unit}"
{credentials}
# What the rows are: "prospects" (fields of prospects) or "list_memberships" (list_id and prospect_id).
data_object = "{data_object}"
{match}
# Lists to add the prospects to, by name or id (names are looked up once per job):
# prospect_lists = ["Newsletter"]
# prospect_list_operation = "add"      # add, remove, or mirror (the lists hold exactly the rows' prospects)

# Invalid rows are reported (--rejected-out) and the valid rows sent; false: nothing is sent if one is invalid.
skip_invalid_records = true
# The rows travel in the POST body, 50 to a call whatever their size (the query string is the connector's way).
payload_location = "body"
# Only send rows that changed since the last run to this destination (the first run sends every row).
# sync_mode = "changed"
"""
CREDENTIALS = """
# Credentials: a saved authentication ('pardot-frames auth save --name {auth}'). Secrets are never written
# here; without a saved one, set PARDOT_CLIENT_ID, PARDOT_CLIENT_SECRET and PARDOT_REFRESH_TOKEN.
auth = "{auth}"
"""
NO_SAVED = """
# Credentials: set PARDOT_CLIENT_ID, PARDOT_CLIENT_SECRET and PARDOT_REFRESH_TOKEN in the environment, or
# save them once with 'pardot-frames auth save --name prod' and add: auth = "prod". Never put secrets here.
"""
MATCH = {
    "email": "# The rows name prospects by email: match them by email (without this, each run may create a new\n"
    "# prospect for every row on accounts that allow several prospects per email).\nupsert_by_email = true\n",
    "id": "# The rows carry the Pardot prospect id (column id): they update those prospects.\n",
    "fid": "# The rows carry the Salesforce id (column fid): they update those prospects.\n",
}


def ask(args: argparse.Namespace, name: str, question: str, default: str) -> str:
    """A flag's value; else, at a terminal, the user's answer (Enter takes the default); else the default."""
    value = getattr(args, name)
    if value is not None:
        return str(value)
    if not sys.stdin.isatty():
        return default
    answer = input(f"{question} [{default}]: ").strip()
    return answer or default


def cmd_init(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists: choose another --out, or --force to replace it")
    host = ask(args, "host", "Pardot host (production, demo, or a URL)", "production")
    unit = ask(args, "business_unit", "Business unit id (0Uv...)", "0Uv000000000000AAA")
    auth = ask(args, "auth", "Saved authentication name (empty: PARDOT_* variables)", "")
    data_object = ask(args, "data_object", "Data object (prospects or list_memberships)", "prospects")
    match = ask(args, "match", "How rows name prospects (email, id or fid)", "email")
    if data_object not in ("prospects", "list_memberships") or match not in MATCH:
        raise UsageError("--data-object is prospects or list_memberships; --match is email, id or fid")
    text = TEMPLATE.format(
        host=HOSTS.get(host, host),
        business_unit=unit,
        credentials=CREDENTIALS.format(auth=auth) if auth else NO_SAVED,
        data_object=data_object,
        match=MATCH[match] if data_object == "prospects" else "",
    )
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    print(f"next: pardot-frames export --config {out} --input FILE.csv --dry-run   (then without --dry-run)")
    return EXIT_OK


def add_init_parser(sub: Any) -> None:
    """The ``init`` command."""
    p = sub.add_parser("init", help="write a commented starting job file")
    p.add_argument("--out", default="job.toml", metavar="FILE", help="where to write it (default: job.toml)")
    p.add_argument("--host", help="production, demo, or the Pardot host's URL")
    p.add_argument("--business-unit", dest="business_unit", metavar="0Uv...")
    p.add_argument("--auth", metavar="NAME", help="a saved authentication's name ('pardot-frames auth save')")
    p.add_argument("--data-object", dest="data_object", choices=["prospects", "list_memberships"])
    p.add_argument("--match", choices=["email", "id", "fid"], help="how the rows name prospects")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=cmd_init)
