"""Parameters `hyperdock package` found in the app's configuration that the plan does not have.

package records them in `package.json` (beside plan.json, `inPlan: false`); `hyperdock generate`
(run again on that folder) and the Pulumi program read them back through `with_packaged_parameters`,
so compose's env file, the Kubernetes Secret and env, start.ps1 and the hosts' `docker run` all
carry them. Only names travel; package.json never holds a value.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from migrate.core.errors import InputError

from .model import Parameter, Plan

PACKAGE_FILE = "package.json"
PACKAGE_SCHEMA_ID = "hyperdock/package@1"


def read_packaged(folder: Path) -> dict[str, list[Parameter]]:
    """Return {vmId: [Parameter with its `variable`]} of package.json's parameters not in the plan; {} when
    `folder` has no package.json. Raises InputError for a file that is not package's."""
    path = folder / PACKAGE_FILE
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_bytes())
        if document.get("schema") != PACKAGE_SCHEMA_ID:
            raise InputError(str(path), f"schema: expected {PACKAGE_SCHEMA_ID!r}; run `hyperdock package` again")
        result: dict[str, list[Parameter]] = {}
        for index, report in enumerate(document["workloads"]):
            for p in report["parameters"]:
                if p["inPlan"]:
                    continue
                if not isinstance(p["env"], str) or not p["env"]:
                    raise InputError(str(path), f"workloads[{index}].parameters: env must be a variable name")
                result.setdefault(str(report["vmId"]), []).append(Parameter(p["env"], str(p["file"]), "", p["env"]))
        return result
    except InputError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(str(path), f"not a package.json hyperdock can read ({type(exc).__name__}); "
                                    "run `hyperdock package` again") from None


def with_packaged_parameters(plan: Plan, packaged: dict[str, list[Parameter]]) -> Plan:
    """Return a copy of `plan` whose workloads also carry `packaged`'s parameters (one per variable,
    compared without case as Windows and .NET do); `plan` is not changed."""
    if not packaged:
        return plan
    workloads = []
    for w in plan.workloads:
        extra = packaged.get(w.vm_id)
        if extra and w.container:
            seen = {p.env_variable.lower() for p in w.container.parameters}
            added = []
            for p in sorted(extra, key=lambda p: p.variable):
                if p.variable.lower() not in seen:
                    seen.add(p.variable.lower())
                    added.append(p)
            w = replace(w, container=w.container.with_parameters(tuple(added)))
        workloads.append(w)
    return plan.with_workloads(workloads)
