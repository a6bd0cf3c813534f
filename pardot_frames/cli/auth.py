"""``pardot-frames auth``: the connector's "custom connected app" steps as commands.

url       print the authorize URL to open in a browser
login     open it (or print it), catch the redirect on localhost, exchange the code, keep the token
exchange  exchange a code, or a pasted redirect URL (``%3D`` and the rest decoded)
check     log in with a job's credentials, make one cheap Pardot call, say what is right or wrong
save      keep credentials under a name (a job file then says ``auth = "NAME"``)
list      the saved names and their hosts (never secrets)
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import webbrowser
from pathlib import Path
from typing import Any

from pardot_frames.cli.common import add_job_arguments, load_config, plain
from pardot_frames.config import profiles
from pardot_frames.config.files import write_private
from pardot_frames.errors import ConfigError, PardotError
from pardot_frames.pardot.endpoints import DEFAULT_LOGIN, DEFAULT_REDIRECT


def _secret(args: argparse.Namespace) -> str:
    secret = args.client_secret or os.environ.get("PARDOT_CLIENT_SECRET")
    if not secret:
        if not sys.stdin.isatty():
            raise ConfigError(["client secret: give --client-secret, PARDOT_CLIENT_SECRET, or run in a terminal"])
        secret = getpass.getpass("client secret: ")
    return secret


def _keep(args: argparse.Namespace, body: dict, client_id: str, client_secret: str) -> None:
    token = body["refresh_token"]
    if args.name:
        path = profiles.save(
            args.name,
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "refresh_token": token,
                "login_url": args.login_url,
                **({"pardot_domain": args.pardot_domain} if args.pardot_domain else {}),
                **({"business_unit": args.business_unit} if args.business_unit else {}),
            },
        )
        print(f'saved as {args.name!r} in {path} (mode 0600); a job file can now say: auth = "{args.name}"')
    if args.save:
        write_private(Path(args.save), token + "\n")
        print(f"refresh token written to {args.save} (mode 0600)")
    if args.show:
        print(f"refresh_token = {token}")
    if not (args.name or args.save or args.show):
        print("refresh token obtained; keep it with --name NAME or --save FILE (or print it with --show)")


def cmd_url(args: argparse.Namespace) -> int:
    from pardot_frames.pardot import authorize

    print(authorize.authorize_url(args.client_id, args.login_url, args.redirect_uri))
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    import asyncio

    from pardot_frames.pardot import authorize

    client_id = args.client_id or os.environ.get("PARDOT_CLIENT_ID")
    if not client_id:
        raise ConfigError(["client id: give --client-id or PARDOT_CLIENT_ID"])
    secret = _secret(args)
    redirect = f"http://localhost:{args.port}"
    url = authorize.authorize_url(client_id, args.login_url, redirect)
    print(f"open this URL and allow access:\n{url}", flush=True)
    if not args.no_browser:
        webbrowser.open(url)

    async def flow() -> dict:
        code = await authorize.catch_code(args.port, args.timeout)
        return await authorize.exchange_code(client_id, secret, code, args.login_url, redirect)

    _keep(args, asyncio.run(flow()), client_id, secret)
    return 0


def cmd_exchange(args: argparse.Namespace) -> int:
    import asyncio

    from pardot_frames.pardot import authorize

    client_id = args.client_id or os.environ.get("PARDOT_CLIENT_ID")
    if not client_id:
        raise ConfigError(["client id: give --client-id or PARDOT_CLIENT_ID"])
    code = authorize.code_from(args.redirect_url or args.code)
    secret = _secret(args)
    _keep(
        args,
        asyncio.run(authorize.exchange_code(client_id, secret, code, args.login_url, args.redirect_uri)),
        client_id,
        secret,
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    import asyncio

    from pardot_frames.pardot import authorize

    config = load_config(args)
    missing = config.missing_credentials()
    if missing:
        raise ConfigError([f"{k} is missing" for k in missing])
    try:
        for line in asyncio.run(authorize.check(config)):
            print(line)
    except PardotError as exc:
        print(f"check failed: {exc}", file=sys.stderr)
        return 4
    return 0


def cmd_save(args: argparse.Namespace) -> int:
    from pardot_frames.config.job import ExportConfig

    values: dict[str, Any] = {
        "client_id": args.client_id or os.environ.get("PARDOT_CLIENT_ID"),
        "client_secret": _secret(args),
        "refresh_token": args.refresh_token or os.environ.get("PARDOT_REFRESH_TOKEN"),
        "login_url": args.login_url,
        "pardot_domain": args.pardot_domain,
        "business_unit": args.business_unit,
    }
    ExportConfig(**{k: v for k, v in values.items() if v is not None})  # same checks as a job
    path = profiles.save(args.name, values)
    print(f"saved as {args.name!r} in {path} (mode 0600)")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    saved = profiles.load_all()
    if not saved:
        print(f"no saved authentications ({profiles.credentials_file()})")
    for name, values in sorted(saved.items()):
        print(
            f"{name}: login_url={values.get('login_url', DEFAULT_LOGIN)} "
            f"pardot_domain={values.get('pardot_domain', 'https://pi.pardot.com')} "
            f"business_unit={values.get('business_unit', '-')} client_id={values.get('client_id', '-')}"
        )
    return 0


def _app_arguments(p: argparse.ArgumentParser, secret: bool = True) -> None:
    """The connected app's options (consumer key and secret, login server)."""
    p.add_argument("--client-id", help="the connected app's consumer key (or PARDOT_CLIENT_ID)")
    if secret:
        p.add_argument("--client-secret", help="its consumer secret (or PARDOT_CLIENT_SECRET, or asked)")
    p.add_argument("--login-url", default=DEFAULT_LOGIN)


def _keep_arguments(p: argparse.ArgumentParser) -> None:
    """Where a new refresh token goes."""
    p.add_argument("--name", help="save the credentials under this name")
    p.add_argument("--save", metavar="FILE", help="write the refresh token to FILE (mode 0600)")
    p.add_argument("--show", action="store_true", help="print the refresh token")
    p.add_argument("--pardot-domain", help="saved with --name")
    p.add_argument("--business-unit", help="saved with --name")


def add_auth_parser(sub: Any) -> None:
    a = sub.add_parser(
        "auth",
        help="connected-app authorisation helpers",
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = a.add_subparsers(dest="verb", required=True)

    u = verbs.add_parser("url", help="print the authorize URL")
    _app_arguments(u, secret=False)
    u.add_argument("--redirect-uri", default=DEFAULT_REDIRECT)
    u.set_defaults(func=cmd_url)
    lo = verbs.add_parser("login", help="authorise in a browser and keep the refresh token")
    _app_arguments(lo)
    _keep_arguments(lo)
    lo.add_argument("--port", type=int, default=8080, help="local callback port (the app's callback URL)")
    lo.add_argument("--no-browser", action="store_true", help="only print the URL")
    lo.add_argument("--timeout", type=float, default=300, help="seconds to wait for the redirect")
    lo.set_defaults(func=cmd_login)
    ex = verbs.add_parser("exchange", help="exchange a code or a pasted redirect URL")
    _app_arguments(ex)
    _keep_arguments(ex)
    given = ex.add_mutually_exclusive_group(required=True)
    given.add_argument("--code")
    given.add_argument("--redirect-url")
    ex.add_argument("--redirect-uri", default=DEFAULT_REDIRECT)
    ex.set_defaults(func=cmd_exchange)
    ch = verbs.add_parser("check", help="test a job's credentials with one cheap call")
    add_job_arguments(ch)
    ch.set_defaults(func=cmd_check)
    sv = verbs.add_parser("save", help="keep credentials under a name")
    _app_arguments(sv)
    sv.add_argument("--name", required=True)
    sv.add_argument("--refresh-token", help="(or PARDOT_REFRESH_TOKEN)")
    sv.add_argument("--pardot-domain", default="https://pi.pardot.com")
    sv.add_argument("--business-unit")
    sv.set_defaults(func=cmd_save)
    ls = verbs.add_parser("list", help="saved names and hosts (no secrets)")
    ls.set_defaults(func=cmd_list)
