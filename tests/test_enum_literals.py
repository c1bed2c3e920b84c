"""The contract's enum values are spelled once, in migrate/contract/model.py.

A bare "hyperv" or "onprem" string in code compares or writes an isolation, target or platform
without the enum: the kind of drift issue 11 removed. Only whole string literals count, so messages,
docstrings and help texts that mention the words are fine.
"""

from __future__ import annotations

import io
import tokenize
from ast import literal_eval
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("migrate", "components", "policies")
OWNER = ROOT / "migrate" / "contract" / "model.py"
WATCHED = {"hyperv", "onprem"}


def bare_literals(source: str) -> list[tuple[int, str]]:
    """Return (line, value) for each string literal in `source` whose whole value is a watched word."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.STRING or token.string.lstrip("rRbBuU")[:1] not in "'\"":
            continue  # f-strings and bytes never hold a bare value
        value = literal_eval(token.string)
        if value in WATCHED:
            found.append((token.start[0], value))
    return found


def _sources() -> list[Path]:
    # schemas/ holds JSON, not .py, so globbing .py files leaves it out already.
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py") if p != OWNER)


def test_sources_are_found():
    files = _sources()
    assert len(files) > 20
    assert OWNER not in files and ROOT / "migrate" / "rules.py" in files


@pytest.mark.parametrize("source, expected", [
    ('if isolation == "hyperv":\n    pass\n', [(1, "hyperv")]),
    ("PLATFORMS = ('azure', 'onprem')\n", [(1, "onprem")]),
    ('raise ValueError("use isolation hyperv or onprem")\n', []),
    ('"""hyperv"""\nx = Isolation.HYPERV\n', [(1, "hyperv")]),
    ("x = f'{a}hyperv'\n", []),
])
def test_bare_literals(source, expected):
    assert bare_literals(source) == expected


def test_no_bare_enum_values_outside_the_contract():
    offenders = [f"{path.relative_to(ROOT)}:{line}: {value!r}"
                 for path in _sources() for line, value in bare_literals(path.read_text(encoding="utf-8"))]
    assert offenders == [], "use Isolation/Target/Platform from migrate.contract.model:\n" + "\n".join(offenders)
