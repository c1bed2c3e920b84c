"""Typed plans for tests that write only the keys they are about: the rest filled as `assess` writes them."""

from __future__ import annotations

from migrate.contract.model import Plan, Workload
from migrate.contract.plan_io import plan_from_document

EMPTY_CONTAINER = {"windowsFeatures": [], "ports": [], "iisSites": [], "appPools": [], "services": [], "scheduledTasks": [],
                   "parameters": [], "domainIdentities": [], "dataDrives": [], "gmsa": False, "domain": None,
                   "netbiosDomain": None}


def full_workload(w: dict) -> dict:
    """Return `w` with every key assess writes for a workload of its target (container keys too)."""
    target = w.get("target", "process")
    image_os = w.get("imageOS", "ltsc2025")
    entry = {"name": w["name"], "vmId": w.get("vmId", w["name"]), "host": "hv01", "cluster": None, "target": target,
             "fit": "ready", "confidence": "high",
             "baseImage": None if target == "vm" else f"mcr.microsoft.com/windows/servercore:{image_os}",
             "baseImageReason": None, "imageOS": image_os, "wave": None if target == "vm" else 1, "moveGroup": None,
             "sharedInfrastructure": False, "tags": {},
             "resources": {"cpus": 2, "memoryMiB": 4096, "memoryAssignedMiB": None, "dynamicMemory": False},
             "dependsOn": [], "externalDependencies": [], "container": None, "findings": [], "rules": []}
    entry.update(w)
    if target != "vm":
        entry["container"] = {**EMPTY_CONTAINER, **(w.get("container") or {})}
    return entry


def typed_plan(workloads: list[dict], host_os: str = "ltsc2025") -> Plan:
    """Return the Plan of `workloads` (dicts with at least a name)."""
    return plan_from_document({
        "schema": "hyperdock/plan@1", "hostOS": host_os, "hostBuild": "10.0.26100", "summary": {}, "waves": [],
        "moveGroups": [], "sharedInfrastructure": [], "graph": {}, "rules": [],
        "workloads": [full_workload(w) for w in workloads]})


def typed_workload(w: dict) -> Workload:
    return typed_plan([w]).workloads[0]


def typed_trigger(trigger: dict):
    """Return the Trigger of a plan@1 trigger object."""
    task = {"taskName": "t", "triggers": [trigger]}
    return typed_workload({"name": "x", "container": {"scheduledTasks": [task]}}).container.scheduled_tasks[0].triggers[0]


def typed_container(container: dict):
    """Return the Container of a plan@1 container object."""
    return typed_workload({"name": "x", "container": container}).container
