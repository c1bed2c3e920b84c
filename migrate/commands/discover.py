"""`hyperdock discover azure`: inventory VMs where they run, read through the Azure APIs."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import positive, write_inventory

NAME = "discover"
HELP = "inventory VMs where they are: Azure"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("platform", choices=("azure",))
    parser.add_argument("--subscription", required=True, help="subscription ID")
    parser.add_argument("--resource-group", help="only this resource group")
    parser.add_argument("--guest", action="store_true", help="also read each Windows guest with Run Command (read-only)")
    parser.add_argument("--concurrency", type=positive, default=4, help="Run Commands at a time")
    parser.add_argument("--out", required=True, type=Path, help="inventory file to write (JSON)")


def run(args: argparse.Namespace) -> int:
    from ..discover_azure import default_credential, discover_azure  # the Azure SDK: only when asked for

    inventory = discover_azure(args.subscription, default_credential(), resource_group=args.resource_group,
                               guest=args.guest, concurrency=args.concurrency)
    write_inventory(args.out, inventory)
    return 0
