"""``pardot-frames simulator``: the simulator's own options and serve loop, under the command tree."""

from __future__ import annotations

from typing import Any

from pardot_frames.simulator.serve import add_arguments, serve


def add_simulator_parser(sub: Any) -> None:
    """The ``simulator`` command."""
    s = sub.add_parser("simulator", help="run a local Pardot simulator")
    add_arguments(s)
    s.set_defaults(func=serve)
