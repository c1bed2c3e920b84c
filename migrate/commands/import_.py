"""`hyperdock import`: another tool's export (Azure Migrate, App2Container) as an inventory@1 file.

The module is `import_` because `import` is a Python keyword.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import write_inventory

NAME = "import"
HELP = "turn another tool's export into a hyperdock/inventory@1 file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=("azure-migrate", "app2container"))
    parser.add_argument("source", type=Path, help="Azure Migrate export (XLSX or CSV), or a folder of A2C analysis.json")
    parser.add_argument("--out", required=True, type=Path, help="inventory file to write (JSON)")


def run(args: argparse.Namespace) -> int:
    from ..imports import import_app2container, import_azure_migrate  # the inventory reader and openpyxl: only when asked for

    inventory = import_azure_migrate(args.source) if args.format == "azure-migrate" else import_app2container(args.source)
    write_inventory(args.out, inventory)
    return 0
