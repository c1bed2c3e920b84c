"""The command registry: every command module is registered, and parsing imports none of the work."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import migrate.commands
from migrate.cli import build_parser
from migrate.commands import COMMANDS

# What the commands need to do their work, never to parse their options or print help.
HEAVY = ("networkx", "pyarrow", "jsonschema", "jsonschema_rs", "openpyxl", "pulumi", "azure", "yaml",
         "migrate.assess", "migrate.generate.files", "migrate.contract.plan_io", "migrate.package.build",
         "migrate.imports", "migrate.discover_azure", "policies.check")


def test_every_command_module_is_registered_once():
    modules = {m.name for m in pkgutil.iter_modules(migrate.commands.__path__)} - {"common"}
    assert sorted(c.__name__.rsplit(".", 1)[1] for c in COMMANDS) == sorted(modules)
    names = [c.NAME for c in COMMANDS]
    assert len(set(names)) == len(names)


def test_the_parser_has_one_subcommand_per_registered_command():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert list(subparsers.choices) == [c.NAME for c in COMMANDS]
    for command in COMMANDS:
        assert subparsers.choices[command.NAME].prog == f"hyperdock {command.NAME}"


PROBE = """
import json, sys
from migrate.cli import main

def exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse ends --help and option errors with it
        return exc.code

codes = [exit_code(a) for a in (["--help"], ["assess", "--help"], ["generate", "x", "--platform", "moon"])]
print(json.dumps([codes, sorted(sys.modules)]))
"""


def test_help_and_a_bad_option_import_none_of_the_work():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    codes, modules = json.loads(result.stdout.splitlines()[-1])
    assert codes == [0, 0, 2]
    loaded = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == []
