"""Reading generated PowerShell as a parse tree (tree-sitter-powershell): the tests' shared helpers."""

from __future__ import annotations

import tree_sitter
import tree_sitter_powershell

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def parse(script: str | bytes):
    """Return the tree of a script."""
    return PARSER.parse(script if isinstance(script, bytes) else script.encode("utf-8"))


def nodes(node, kind: str):
    """Yield every node of `kind` below `node`, in document order."""
    if node.type == kind:
        yield node
    for child in node.children:
        yield from nodes(child, kind)


def command_names(node) -> list[str]:
    """Return the names of the commands a script calls, in order."""
    names = []
    for command in nodes(node, "command"):
        name = command.child_by_field_name("command_name")
        if name is not None:
            names.append(name.text.decode())
    return names
