"""Argument types and checks shared by several commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import InputError
from ..output import to_json, write_file


def positive(text: str) -> int:
    """Return `text` as a whole number >= 1; argparse reports the ArgumentTypeError otherwise."""
    if not (text.isascii() and text.isdigit() and len(text) <= 9):  # int() also takes "1_0" and "٣"
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def check_out_folder(out: Path) -> None:
    """Refuse an --out that can never hold a result before doing any work."""
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "exists and is not a folder; --out needs a folder")


def write_inventory(out: Path, inventory: dict) -> None:
    """Write an inventory@1 document to `out` (whole or not at all) and say how many VMs it holds."""
    count = sum(len(h["vms"]) for h in inventory["hosts"])
    write_file(out, to_json(inventory))
    print(f"hyperdock: wrote {count} VMs to {out}", file=sys.stderr)
