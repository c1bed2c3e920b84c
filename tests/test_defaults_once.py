"""Defaults that several parts share are written once (issue 11): the tag hyperdock's Azure resources
carry and the required-tags policy asks for lives in migrate.core.azure only."""

from __future__ import annotations

import ast
from pathlib import Path

from migrate.core.azure import MANAGED_BY_TAG, default_tags
from policies.tags import DEFAULT_REQUIRED

ROOT = Path(__file__).resolve().parent.parent
OWNER = "migrate/core/azure.py"


def program_sources() -> list[Path]:
    """hyperdock's own code: the program, components, policies and migrate (not tests or benchmarks)."""
    return [ROOT / "__main__.py"] + sorted(p for d in ("components", "policies", "migrate") for p in (ROOT / d).rglob("*.py"))


def test_the_managed_by_tag_is_written_once():
    places = []
    for path in program_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value == MANAGED_BY_TAG:
                places.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}")
    assert [p for p in places if not p.startswith(OWNER + ":")] == [], "use migrate.core.azure's MANAGED_BY_TAG / default_tags()"
    assert len(places) == 1


def test_resources_carry_by_default_what_the_policy_requires_by_default():
    assert set(DEFAULT_REQUIRED) <= set(default_tags())
    assert default_tags() is not default_tags()  # each caller gets its own dict
