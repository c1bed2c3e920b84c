"""plan@1 is spelled in one place (issue 16): the keys of a workload and of its sub-documents, their order
and the empty values left out are migrate/contract/plan_io's, which both writers use (`plan_document` for a
typed Plan, migrate/plan.py for an assessment)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWNER = "migrate/contract/plan_io.py"
# Keys no other document of hyperdock uses: a dict literal holding one of them builds part of a plan@1 workload.
WORKLOAD_KEYS = {
    "baseImageReason", "moveGroup", "sharedInfrastructure", "dependsOn", "externalDependencies",  # workload
    "memoryAssignedMiB", "dynamicMemory",  # resources
    "windowsFeatures", "iisSites", "appPools", "scheduledTasks", "domainIdentities", "dataDrives", "netbiosDomain",
    "windowsAuthentication", "managedRuntimeVersion", "enable32Bit", "displayName", "startMode", "taskName", "runAs",
}


def dict_keys_in(path: Path) -> list[tuple[int, str]]:
    """Return (line, key) of every string key of a dict literal in `path`."""
    return [(node.lineno, key.value) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Dict) for key in node.keys if isinstance(key, ast.Constant)]


def test_only_plan_io_spells_a_workloads_keys():
    places = [f"{path.relative_to(ROOT).as_posix()}:{line} {key}"
              for path in sorted((ROOT / "migrate").rglob("*.py")) for line, key in dict_keys_in(path)
              if key in WORKLOAD_KEYS]
    assert places, "the scan finds plan_io's own documents"
    assert [p for p in places if not p.startswith(OWNER + ":")] == [], "build plan@1 objects with plan_io's *_entry/*_document"

