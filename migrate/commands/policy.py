"""`hyperdock policy check`: the CrossGuard pack run offline. Its options and work live in policies/check.py."""

from __future__ import annotations

import argparse

NAME = "policy"
HELP = "run the CrossGuard policy pack offline (no Pulumi CLI, no cloud)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("check",))
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="options of `hyperdock policy check --help`")


def run(args: argparse.Namespace) -> int:
    from policies.check import main as policy_check  # imports Pulumi: only when asked for

    return policy_check(args.rest)
