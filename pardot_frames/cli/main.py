"""The ``pardot-frames`` command line.

Commands: init (a starting job file), export (and its --dry-run), read, jobs, state, fields, demo, simulator, auth (url,
login, exchange, check, save, list), schedule (next, run, history).

Exit codes of export and demo:
  0  every row done
  1  some rows rejected (by validation or by Pardot); see --rejected-out
  2  bad usage, configuration or input: nothing was sent
  3  stopped by the daily API limit (error 122): run again after the account's day resets
  4  failed: login, network, or Pardot refused the job
  130 interrupted
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import NoReturn

from pardot_frames._control import Control
from pardot_frames.cli import log_json
from pardot_frames.cli.auth import add_auth_parser
from pardot_frames.cli.common import (
    EXIT_DAILY_LIMIT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    plain,
)
from pardot_frames.cli.demo import add_demo_parser
from pardot_frames.cli.export import add_export_parser
from pardot_frames.cli.fields import add_fields_parser
from pardot_frames.cli.history import add_history_parser
from pardot_frames.cli.init import add_init_parser
from pardot_frames.cli.notify import add_notify_parser
from pardot_frames.cli.read import add_read_parser
from pardot_frames.cli.schedule import add_schedule_parser
from pardot_frames.cli.simulator import add_simulator_parser
from pardot_frames.cli.state import add_state_parser
from pardot_frames.errors import (
    AuthError,
    ColumnError,
    ConfigError,
    CronError,
    InputError,
    Interrupted,
    JobFailed,
    LimitReached,
    PardotError,
    PardotFramesError,
    PardotFramesWarning,
    SourceError,
    ValidationFailed,
)

_READER_GONE: list[bool] = []  # set when stdout's reader went away (``| head``)
HINTS = {  # the first class that matches gives the hint
    UsageError: "see 'pardot-frames export --help' (or the command's --help)",
    CronError: "see 'pardot-frames schedule --help' for the syntax and the spec's two rules",
    ConfigError: "check the job file and --set values; 'pardot-frames init' writes a commented job file",
    SourceError: "check the --input file (.parquet, .csv or .tsv, with a header row) or the --sql/--query text",
    ColumnError: "rename or drop the columns named above; 'pardot-frames fields --config JOB' lists the fields",
    ValidationFailed: "see every invalid row with --dry-run --rejected-out rejected.csv, or set skip_invalid_records",
    AuthError: "'pardot-frames auth check --config JOB' tests the credentials alone",
    LimitReached: "Pardot's daily call limit resets with the account's day; try again then (or raise max_api_calls)",
    PardotError: "see docs/troubleshooting.md",
}


class _Version(argparse.Action):
    """``--version``: the installed version, looked up only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        import pardot_frames

        print(f"pardot-frames {pardot_frames.__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree; each command group adds its own parsers."""
    parser = argparse.ArgumentParser(
        prog="pardot-frames", description=plain(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--log-json", action="store_true", help="one JSON line per event on stderr (log collectors)")
    sub = parser.add_subparsers(dest="command", required=True)
    add_init_parser(sub)
    add_export_parser(sub)
    add_fields_parser(sub)
    add_read_parser(sub)
    add_state_parser(sub)
    add_history_parser(sub)
    add_demo_parser(sub)
    add_simulator_parser(sub)
    add_auth_parser(sub)
    add_schedule_parser(sub)
    add_notify_parser(sub)
    return parser


def report_error(exc: BaseException, debug: bool) -> int:
    """One line (plus detail lines) and a hint for an error the user can act on; the exit code."""
    if debug:
        traceback.print_exc()
    first, *rest = str(exc).splitlines() or [type(exc).__name__]
    print(f"error: {first}", file=sys.stderr)
    for line in rest:
        print(f"  {line.strip()}" if not line.startswith("  ") else line, file=sys.stderr)
    hint = next((h for kind, h in HINTS.items() if isinstance(exc, kind)), None)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    if isinstance(exc, LimitReached):
        return EXIT_DAILY_LIMIT
    if isinstance(exc, (PardotError, JobFailed)) and not isinstance(exc, InputError):
        return EXIT_FAILED
    if isinstance(exc, Interrupted):
        return EXIT_INTERRUPTED
    return EXIT_USAGE


def _cancelled() -> type[BaseException]:
    """asyncio's CancelledError, imported only when an exception is being matched (start-up stays quick)."""
    import asyncio

    return asyncio.CancelledError


class _Stderr(logging.Handler):
    """The product's warnings on stderr as "warning: ...", each once (whatever sys.stderr is at the time)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:  # info events go to --log-json only
            self.say(record.getMessage())

    def say(self, text: str) -> None:
        if text not in self.seen:
            self.seen.add(text)
            print(f"warning: {text}", file=sys.stderr)

    def show(self, message: Warning | str, *_: object, **__: object) -> None:
        self.say(str(message))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors print one line and a hint (a traceback only with --debug)."""
    args = build_parser().parse_args(argv)
    from pardot_frames.engine.host.heap import OWN_PROCESS

    own = OWN_PROCESS.set(True)  # the command line's process is its own: a job may freeze the collector
    handler, logger = _Stderr(), logging.getLogger("pardot_frames")
    logger.addHandler(handler)
    json_lines = log_json.install(logger) if args.log_json else None
    try:
        with warnings.catch_warnings():  # the product's warnings shown as lines; the caller's filters come back
            warnings.simplefilter("always", PardotFramesWarning)
            warnings.showwarning = handler.show
            return int(args.func(args))
    except (KeyboardInterrupt, _cancelled()):
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly, as other tools do
        _READER_GONE.append(True)  # the console script points stdout at /dev/null before it exits
        return EXIT_OK
    except (PardotFramesError, OSError) as exc:
        return report_error(exc, args.debug)
    except Control as exc:  # a command that ran the client itself: the public error it means
        from pardot_frames.engine.stop import public_error

        return report_error(public_error(exc), args.debug)
    finally:
        logger.removeHandler(handler)
        if json_lines is not None:
            log_json.remove(logger, json_lines)
        OWN_PROCESS.reset(own)


def run() -> NoReturn:
    """The console script: run the command, then exit without the interpreter's last garbage collection over
    everything the command made (``gc.freeze``: 0.1 s after a million-row dry run). Exit handlers and
    finalizers still run; only a pass looking for unreachable cycles is skipped, at exit."""
    code = main()
    if _READER_GONE:  # Python's documented way: the interpreter's last flush of stdout must not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
