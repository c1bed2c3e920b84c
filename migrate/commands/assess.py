"""`hyperdock assess`: an inventory in, plan.json and report.md out (with --generate, the definitions too)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import InputError
from ..core.windows import HOST_OS_CHOICES
from .common import check_out_folder, positive
from .generate import add_generate_options, generate_settings

NAME = "assess"
HELP = "assess an inventory and write plan.json and report.md"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inventory", nargs="+", type=Path, help="hyperdock/inventory@1 files (JSON or YAML)")
    parser.add_argument("--dependencies", action="append", default=[], type=Path, metavar="CSV",
                        help="Azure Migrate dependency export (repeatable)")
    parser.add_argument("--host-os", choices=HOST_OS_CHOICES, default="ltsc2025", help="OS of the container hosts")
    parser.add_argument("--tenancy", choices=("dedicated", "shared"), default="dedicated",
                        help="dedicated: tenants and trust zones get hosts of their own (the capacity plan keeps "
                             "them apart); shared: they may share hosts, so they get Hyper-V isolation")
    parser.add_argument("--min-wave-size", type=positive, default=1)
    parser.add_argument("--max-wave-size", type=positive, default=50)
    parser.add_argument("--chatty-connections", type=positive, default=1000,
                        help="connections (export rows or their Connection Count, guest connections) at which a one-way pair moves together")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--generate", action="store_true", help="also write container definitions and hosts.yaml")
    add_generate_options(parser)


def run(args: argparse.Namespace) -> int:
    from ..assess import Options, Progress, assess_into

    if args.min_wave_size > args.max_wave_size:
        raise InputError("--min-wave-size", f"{args.min_wave_size} is larger than --max-wave-size {args.max_wave_size}")
    options = Options(host_os=args.host_os, tenancy=args.tenancy, min_wave_size=args.min_wave_size,
                      max_wave_size=args.max_wave_size, chatty_connections=args.chatty_connections)
    generate_options = generate_settings(args) if args.generate else None
    check_out_folder(args.out)
    assess_into(args.out, args.inventory, args.dependencies, options, Progress(enabled=not args.quiet), generate_options)
    return 0
