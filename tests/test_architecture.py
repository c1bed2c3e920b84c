"""hyperdock's package units and the layering between them (issue 11; the design is README's Layout).

Every .py file of the units is parsed with `ast`, imports inside functions included, and each
import of hyperdock is mapped to the unit it lands in. The unit graph must have no cycle, and each
unit may import only the units below it:

    core  <-  contract  <-  components, policies  <-  the migrate app (assess, generate, package, cli)

The app may import components and policies, but only inside a function (lazily), so that
`hyperdock assess` never loads Pulumi. `__main__.py`, the Pulumi program, is a unit of its own.

VIOLATIONS lists the imports that still break a rule, each with the issue-11 item that removes it.
It may only shrink: an import not in it fails, and so does an entry whose import is gone.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("migrate", "components", "policies")

# What each unit may import of hyperdock (besides itself).
ALLOWED = {
    "core": set(),
    "contract": {"core"},
    "components": {"core", "contract"},
    "policies": {"core", "contract"},
    "app": {"core", "contract", "components", "policies"},
    "program": {"core", "contract", "components"},
}
# Units the app imports only inside functions: they load Pulumi, which assess/generate never need.
LAZY_FOR_APP = {"components", "policies"}

# (importing file, imported module): the item of issue 11 (and its helper) that removes it.
VIOLATIONS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True, slots=True)
class Import:
    """One import statement's target, resolved to an absolute module name."""

    file: str          # relative to the tree's root, with forward slashes
    module: str        # e.g. migrate.plan_reader
    lazy: bool         # inside a function (or a class body's function)


def unit_of_module(module: str) -> str | None:
    """Return the unit a hyperdock module belongs to, or None for anything outside hyperdock."""
    parts = module.split(".")
    if parts[0] == "__main__":
        return "program"
    if parts[0] in ("components", "policies"):
        return parts[0]
    if parts[0] == "migrate":
        if len(parts) > 1 and parts[1] in ("core", "contract"):
            return parts[1]
        return "app"
    return None


def unit_of_file(relative: str) -> str | None:
    """Return the unit of a file given relative to the root (`migrate/core/azure.py` -> core)."""
    if relative == "__main__.py":
        return "program"
    return unit_of_module(relative.removesuffix(".py").replace("/", "."))


def source_files(root: Path) -> list[Path]:
    """Return every .py file of hyperdock's units under `root`, in a stable order."""
    files = [root / "__main__.py"] if (root / "__main__.py").is_file() else []
    for package in PACKAGES:
        files += sorted((root / package).rglob("*.py")) if (root / package).is_dir() else []
    return files


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    """Return (dotted module name, whether the file is a package's __init__)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _is_module(root: Path, module: str) -> bool:
    base = root.joinpath(*module.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(root: Path, path: Path) -> list[Import]:
    """Return every import in `path` (module level and inside functions), resolved to module names.

    `from pkg import name` counts as an import of `pkg.name` when that is a module of the tree.
    """
    relative = path.relative_to(root).as_posix()
    module, is_package = _module_name(root, path)
    package = module if is_package else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend(Import(relative, alias.name, lazy) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[:len(anchor) - (child.level - 1)]
                    target = ".".join(anchor + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                for alias in child.names:
                    candidate = f"{target}.{alias.name}"
                    found.append(Import(relative, candidate if _is_module(root, candidate) else target, lazy))
            visit(child, inner)

    visit(tree, False)
    return found


def unit_graph(root: Path, skip: set[tuple[str, str]] = frozenset()) -> nx.DiGraph:
    """Return the graph of units, an edge for each unit importing another (imports in `skip` left out)."""
    graph = nx.DiGraph()
    for path in source_files(root):
        for imp in imports_of(root, path):
            source, target = unit_of_file(imp.file), unit_of_module(imp.module)
            if source and target and source != target and (imp.file, imp.module) not in skip:
                graph.add_edge(source, target)
    return graph


def layering_violations(root: Path) -> set[tuple[str, str]]:
    """Return (file, imported module) for every import that breaks ALLOWED or LAZY_FOR_APP."""
    broken = set()
    for path in source_files(root):
        for imp in imports_of(root, path):
            source, target = unit_of_file(imp.file), unit_of_module(imp.module)
            if not source or not target or source == target:
                continue
            if target not in ALLOWED[source] or (source == "app" and target in LAZY_FOR_APP and not imp.lazy):
                broken.add((imp.file, imp.module))
    return broken


def test_the_unit_graph_has_no_cycle():
    graph = unit_graph(ROOT, skip=set(VIOLATIONS))
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, f"units import in a loop: {cycles}"
    assert {"core", "components", "policies", "app", "program"} <= set(graph.nodes)


def test_no_import_breaks_the_layering_beyond_the_shrinking_list():
    actual = layering_violations(ROOT)
    new = sorted(actual - set(VIOLATIONS))
    assert not new, f"imports that break the layering (see this file's docstring): {new}"


def test_the_list_of_known_violations_only_shrinks():
    gone = sorted(set(VIOLATIONS) - layering_violations(ROOT))
    assert not gone, f"these imports are gone: remove them from VIOLATIONS in tests/test_architecture.py: {gone}"


def test_core_imports_nothing_of_hyperdock():
    for path in source_files(ROOT):
        if unit_of_file(path.relative_to(ROOT).as_posix()) == "core":
            outside = {imp.module for imp in imports_of(ROOT, path) if unit_of_module(imp.module) not in (None, "core")}
            assert not outside, f"{path.relative_to(ROOT)} imports {sorted(outside)}"


@pytest.mark.parametrize("package", ["migrate", "migrate/core"])
def test_package_inits_import_nothing(package):
    """Importing `migrate.core` must not load the migrate app: both __init__ files stay import-free."""
    path = ROOT / package / "__init__.py"
    assert imports_of(ROOT, path) == []


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def test_a_planted_cycle_is_found(tmp_path):
    _write(tmp_path, {
        "migrate/__init__.py": "",
        "migrate/core/__init__.py": "",
        "migrate/core/facts.py": "X = 1\n",
        "migrate/plan.py": "from .core.facts import X\n",
        "migrate/cli.py": "def run():\n    from components import host\n",
        "components/__init__.py": "",
        "components/host.py": "from migrate.core import facts\n",
    })
    assert list(nx.simple_cycles(unit_graph(tmp_path))) == []
    assert layering_violations(tmp_path) == set()
    # An import inside a function closes the loop app -> components -> app just as well.
    _write(tmp_path, {"components/host.py": "from migrate.core import facts\n\n\ndef plan():\n    from migrate.plan import X\n"})
    assert [set(cycle) for cycle in nx.simple_cycles(unit_graph(tmp_path))] == [{"app", "components"}]
    assert layering_violations(tmp_path) == {("components/host.py", "migrate.plan")}


def test_the_checker_resolves_relative_and_eager_imports(tmp_path):
    _write(tmp_path, {
        "migrate/__init__.py": "",
        "migrate/core/__init__.py": "",
        "migrate/core/azure.py": "from .. import plan\n",
        "migrate/plan.py": "",
        "migrate/generate/__init__.py": "",
        "migrate/generate/files.py": "from ..core import azure\nfrom components.host import H\n",
        "components/__init__.py": "",
        "components/host.py": "H = 1\n",
    })
    assert layering_violations(tmp_path) == {("migrate/core/azure.py", "migrate.plan"),
                                             ("migrate/generate/files.py", "components.host")}
    files = {imp.module: imp.lazy for imp in imports_of(tmp_path, tmp_path / "migrate/generate/files.py")}
    assert files == {"migrate.core.azure": False, "components.host": False}
