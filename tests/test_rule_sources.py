"""Rule sources cite public sources by name (issue 11 item 7): nothing hyperdock writes, and no example or
golden file, points at the project's earlier reference notes, which a clone of the repository lacks."""

from __future__ import annotations

import re
from pathlib import Path

from migrate.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
# The reference notes' file names, and the section marks their citations used ("§4", "§2.2").
NOTES = re.compile(r"(windows-containers|migration-tools|inventory-format|offline-testing|pulumi-practices"
                   r"|benchmarks)\.md|§\s*\d", re.I)
CHECKED = (ROOT / "examples", ROOT / "tests" / "golden", ROOT / "tests" / "data")


def notes_reference(text: str) -> str | None:
    """Return the first pointer to the reference notes in `text`, or None."""
    match = NOTES.search(text)
    return match.group(0) if match else None


def test_the_pattern_catches_the_old_citations():
    assert notes_reference("windows-containers.md §4 (S5)") == "windows-containers.md"
    assert notes_reference("Migration-Tools.MD 4.13 (ASMA)") == "Migration-Tools.MD"
    assert notes_reference("see §2.2 R3") == "§2"
    assert notes_reference("learn.microsoft.com/virtualization/windowscontainers/about/faq (S7)") is None


def test_every_rule_cites_a_named_source_not_the_notes():
    for rule in RULES:
        assert rule.source.strip(), rule.id
        assert notes_reference(rule.source) is None, f"{rule.id}: {rule.source}"


def test_no_example_golden_or_test_data_file_points_at_the_notes():
    checked = 0
    for folder in CHECKED:
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            text = path.read_bytes().decode("utf-8", errors="replace")
            found = notes_reference(text)
            assert found is None, f"{path.relative_to(ROOT)} mentions {found!r}"
            checked += 1
    assert checked > 50  # the folders were there to read
