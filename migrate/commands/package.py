"""`hyperdock package`: fill generate's build contexts from an extracted content folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import positive

NAME = "package"
HELP = "fill the build contexts of generate from an extracted content folder"
MIB = 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan_dir", type=Path, help="folder holding plan.json and containers/ (from generate)")
    parser.add_argument("--content", required=True, type=Path, metavar="DIR",
                        help="extraction folder DIR/<vmId>/manifest.json (Get-HyperdockInventory.ps1 -ExtractContent), or a zip of it")
    parser.add_argument("--max-file-mib", type=positive, default=512, help="larger files are left out (reported)")
    parser.add_argument("--max-layer-mib", type=positive, default=8192, help="a larger application layer is refused")
    parser.add_argument("--max-archive-mib", type=positive, default=65536,
                        help="a zip archive given as --content that unpacks to more is refused")


def run(args: argparse.Namespace) -> int:
    from ..package.build import PackageOptions, package, summary_lines

    options = PackageOptions(max_file_bytes=args.max_file_mib * MIB, max_layer_bytes=args.max_layer_mib * MIB,
                             max_archive_bytes=args.max_archive_mib * MIB)
    document = package(args.plan_dir, args.content, options)
    for line in summary_lines(document):
        print(f"hyperdock: {line}", file=sys.stderr)
    print(f"hyperdock: wrote {args.plan_dir / 'package.json'}", file=sys.stderr)
    return 0
