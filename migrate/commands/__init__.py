"""The `hyperdock` subcommands: one module each, holding the command's parser and its handler.

A command module defines `NAME`, `HELP`, `add_arguments(parser)` and `run(args) -> int` (the
`Command` protocol) and is listed in `COMMANDS`, in the order `hyperdock --help` shows them. To add a
command, write such a module and list it. A module's top level imports only what its parser needs,
so `hyperdock --help` and a bad option stay fast: the work's imports (networkx, pyarrow, jsonschema,
the Azure SDK, Pulumi) happen inside `run`.
"""

from __future__ import annotations

import argparse
from typing import Protocol

from . import assess, discover, generate, import_, package, policy


class Command(Protocol):
    """What `migrate.cli` needs of a command module."""

    NAME: str
    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the command's arguments to its subparser."""

    def run(self, args: argparse.Namespace) -> int:
        """Run the command with the parsed `args`; return the exit code."""


COMMANDS: tuple[Command, ...] = (assess, generate, package, import_, discover, policy)
