"""``pardot-frames simulator``: its options (cheap to build) and the loop that serves until Ctrl-C."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``pardot-frames simulator`` options."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--seed", metavar="FILE", help="JSON with lists, prospects and memberships to load")
    parser.add_argument("--seed-activity", metavar="N", type=int, default=0,
                        help="generate N prospects with their visits, activities, emails and the rest")  # fmt: skip
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every Pardot call")
    parser.add_argument("--jitter", type=float, default=0.0, help="extra uniform(0, jitter) seconds")
    parser.add_argument("--concurrency-limit", type=int, default=5, help="in-flight calls per business unit (err 66)")
    parser.add_argument("--daily-limit", type=int, default=None, help="calls per business unit per day (err 122)")
    parser.add_argument("--max-uri-length", type=int, default=8192, help="longer URIs get HTTP 414")
    parser.add_argument("--one-prospect-per-email", action="store_true", help="email-only rows update the match")
    parser.add_argument("--faults", metavar="JSON", help='seeded faults, e.g. \'{"seed": 1, "http_5xx": 0.05}\'')


def serve(args: argparse.Namespace) -> int:
    """Run the simulator until interrupted, printing the job parameters that reach it."""
    import asyncio
    import json
    from pathlib import Path

    from .config import SimConfig
    from .server import Simulator

    config = SimConfig(
        latency=args.latency,
        jitter=args.jitter,
        concurrency_limit=args.concurrency_limit,
        daily_limit=args.daily_limit,
        max_uri_length=args.max_uri_length,
        one_prospect_per_email=args.one_prospect_per_email,
    )
    if args.faults:
        config.update({"faults": json.loads(args.faults)})
    sim = Simulator(config, host=args.host, port=args.port, seed_activity=args.seed_activity)
    if args.seed:
        sim.seed(json.loads(Path(args.seed).read_text(encoding="utf-8")))

    async def main() -> None:
        async with sim:
            print(f"Pardot simulator on {sim.base_url}  (state: {sim.base_url}/__sim__/state)")
            print("Job parameters that reach it:")
            for key, value in sim.credentials.items():
                print(f'  {key} = "{value}"')
            print("Ctrl-C stops it.", flush=True)
            await asyncio.Event().wait()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return 0
