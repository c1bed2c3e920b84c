"""The README's layout section says where to add a rule, an output format, a host platform and a
policy (issue 11), and every file those lines name exists where they say."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDITIONS = {"rule": "Add a rule", "output format": "Add an output format", "host platform": "a host platform:",
             "policy": "Add a policy"}


def layout_entries() -> dict[str, str]:
    """Return the Layout block's entries: folder (as written) -> its text, continuation lines joined."""
    text = ROOT.joinpath("README.md").read_text(encoding="utf-8")
    block = re.search(r"^## Layout\n+```\n(.*?)^```", text, re.S | re.M)
    assert block, "README.md has no ## Layout code block"
    entries: dict[str, str] = {}
    folder = None
    for line in block.group(1).splitlines():
        if line and not line[0].isspace():
            folder, _, rest = line.partition(" ")
            entries[folder] = rest.strip()
        elif folder is not None:
            entries[folder] += " " + line.strip()
    return entries


def test_layout_says_where_each_kind_of_addition_goes():
    entries = layout_entries()
    for kind, phrase in ADDITIONS.items():
        owners = [folder for folder, text in entries.items() if phrase in text]
        assert len(owners) == 1, f"the README layout should say once where to add a {kind} ({phrase!r}): {owners}"


def test_files_the_addition_lines_name_exist():
    for folder, text in layout_entries().items():
        if not any(phrase in text for phrase in ADDITIONS.values()):
            continue
        base = ROOT / folder if folder.endswith("/") else ROOT
        for name in re.findall(r"[\w/]+\.py\b", text):
            assert (ROOT / name).is_file() or (base / name).is_file(), f"README layout, {folder}: {name} does not exist"
