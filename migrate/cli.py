"""The `hyperdock` command line. Bad input: one line on stderr, exit 2, nothing written."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .assess import Options, Progress, assess, cyclic_gc_paused
from .errors import InputError
from .images import HOST_OS_CHOICES
from .output import to_json, write_files
from .report import render_report

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every other bad input
        self.exit(EXIT_BAD_INPUT, f"hyperdock: error: {message}\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hyperdock", description="Move Hyper-V VMs into Windows containers.")
    parser.add_argument("--version", action="version", version=f"hyperdock {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    a = commands.add_parser("assess", help="assess an inventory and write plan.json and report.md")
    a.add_argument("inventory", nargs="+", type=Path, help="hyperdock/inventory@1 files (JSON or YAML)")
    a.add_argument("--dependencies", action="append", default=[], type=Path, metavar="CSV",
                   help="Azure Migrate dependency export (repeatable)")
    a.add_argument("--host-os", choices=HOST_OS_CHOICES, default="ltsc2025", help="OS of the container hosts")
    a.add_argument("--tenancy", choices=("dedicated", "shared"), default="dedicated",
                   help="dedicated: tenants and trust zones get hosts of their own (the capacity plan keeps "
                        "them apart); shared: they may share hosts, so they get Hyper-V isolation")
    a.add_argument("--min-wave-size", type=_positive, default=1)
    a.add_argument("--max-wave-size", type=_positive, default=50)
    a.add_argument("--chatty-connections", type=_positive, default=1000,
                   help="connection count at which a one-way pair moves together")
    a.add_argument("--out", required=True, type=Path, help="output directory")
    a.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "assess":
            return _assess(args)
    except InputError as exc:
        print(f"hyperdock: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    return 0


def _assess(args: argparse.Namespace) -> int:
    if args.min_wave_size > args.max_wave_size:
        raise InputError("--min-wave-size", f"{args.min_wave_size} is larger than --max-wave-size {args.max_wave_size}")
    options = Options(host_os=args.host_os, tenancy=args.tenancy, min_wave_size=args.min_wave_size,
                      max_wave_size=args.max_wave_size, chatty_connections=args.chatty_connections)
    progress = Progress(enabled=not args.quiet)
    with cyclic_gc_paused():
        plan = assess(args.inventory, args.dependencies, options, progress)
        files = {"plan.json": to_json(plan), "report.md": render_report(plan)}
    write_files(args.out, files)
    progress.step("write", f"wrote {args.out / 'plan.json'} and {args.out / 'report.md'}")
    return 0
