"""The ``pardot-frames`` command line: one module per command group; nothing imports this package."""

from pardot_frames.cli.main import main

__all__ = ["main"]
