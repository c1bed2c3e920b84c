"""The `hyperdock` command line. Bad input: one line on stderr, exit 2, nothing written."""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__
from .commands import COMMANDS
from .core.cli import EXIT_BAD_INPUT, OneLineParser
from .core.errors import InputError
from .interrupts import interrupts_raise

EXIT_INTERRUPTED = 130  # as a shell reports a command ended by Ctrl-C
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug in hyperdock, not in the input
MAX_MESSAGE = 2000
_HANDLERS = {command.NAME: command.run for command in COMMANDS}


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of `hyperdock`: one subparser per module of `migrate.commands`."""
    parser = OneLineParser(prog="hyperdock", description="Move Hyper-V VMs into Windows containers.")
    parser.add_argument("--version", action="version", version=f"hyperdock {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for command in COMMANDS:
        command.add_arguments(subparsers.add_parser(command.NAME, help=command.HELP))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code. Every failure ends as one line on stderr."""
    with interrupts_raise():
        try:
            args = build_parser().parse_args(argv)
            return _HANDLERS[args.command](args)
        except InputError as exc:
            _say(f"error: {exc}")
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            _say("interrupted; no partial result was written (a previous result is whole)")
            return EXIT_INTERRUPTED
        except OSError as exc:  # one the readers and writers did not already name
            _say(f"error: {exc.filename or 'hyperdock'}: {exc.strerror or exc}")
            return EXIT_BAD_INPUT
        except (RecursionError, MemoryError) as exc:
            _say(f"error: the input is too large or too deeply nested to process ({type(exc).__name__})")
            return EXIT_BAD_INPUT
        except Exception as exc:  # noqa: BLE001 - the promise is one line, never a traceback
            _say(f"internal error: {type(exc).__name__}: {exc} (a bug in hyperdock {__version__}; please report it)")
            return EXIT_INTERNAL


def run() -> None:
    """The console entry point: `main`, then exit at once once the output is flushed.

    A 50k-VM run holds millions of objects; freeing them one by one at interpreter exit took
    0.5 s and wrote nothing. Every result is already closed and renamed into place by then.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _say(message: str) -> None:
    """Print `message` as exactly one line: line breaks of any kind inside it become spaces."""
    line = " ".join(message.splitlines()) if message else message
    if len(line) > MAX_MESSAGE:
        line = line[:MAX_MESSAGE] + "…"
    print(f"hyperdock: {line}", file=sys.stderr, flush=True)
