"""Assemble `plan.json` (schema `hyperdock/plan@1`, migrate/schemas/plan.schema.json).

Everything is sorted so the same input gives byte-identical output.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from . import __version__
from . import graph as g
from .contract.model import Target
from .contract.plan_io import PLAN_SCHEMA_ID, task_document
from .decide import Decision
from .dependencies import CONNECTIONS_DEFINITION, Edge
from .model import VM, PLANNING_TAGS, Estate
from .rules import FIT_ORDER, Rule
from .waves import Wave

MIB = 1024 * 1024


def build_plan(*, estate: Estate, decisions: dict[str, Decision], edges: list[Edge], cycles: list[list[str]],
               hubs: list[tuple[str, int]],
               groups: list[tuple[str, tuple[list[str], list[str]]]], waves: list[Wave],
               infrastructure: set[str], options, host_build: int, rules: Iterable[Rule],
               dependency_warnings: Iterable[str] = ()) -> dict:
    """Return the plan document as plain JSON-ready data."""
    by_id = {vm.vm_id: vm for vm in estate.vms}
    wave_of = {m: w.number for w in waves for m in w.members}
    group_of = {m: gid for gid, (members, _) in groups for m in members}
    outgoing: dict[str, list[Edge]] = {}
    for edge in edges:
        outgoing.setdefault(edge.source, []).append(edge)
    # Each VM's sort key once for the estate, not once per edge pointing at it.
    order = {vid: (vm.name.lower(), vid) for vid, vm in by_id.items()}
    workloads = [
        _workload(by_id[vid], decisions[vid], outgoing.get(vid, []), by_id, order, wave_of.get(vid),
                  group_of.get(vid), vid in infrastructure)
        for vid in sorted(by_id, key=order.__getitem__)
    ]
    name = lambda vid: by_id[vid].name  # noqa: E731
    return {
        "schema": PLAN_SCHEMA_ID,
        "generator": f"hyperdock {__version__}",
        "hostOS": options.host_os,
        "hostBuild": f"10.0.{host_build}",
        "options": {
            "tenancy": options.tenancy, "minWaveSize": options.min_wave_size,
            "maxWaveSize": options.max_wave_size, "chattyConnections": options.chatty_connections,
        },
        "inputs": list(estate.sources),
        "summary": _summary(decisions),
        "workloads": workloads,
        "waves": [
            {"wave": w.number, "environment": w.environment, "workloads": sorted(name(m) for m in w.members),
             "moveGroups": sorted(set(w.groups)), "notes": w.notes}
            for w in waves
        ],
        "moveGroups": [
            {"id": gid, "workloads": sorted(name(m) for m in members),
             "applications": sorted({by_id[m].tag("app") for m in members if by_id[m].tag("app")}),
             "reasons": reasons, "waves": sorted({wave_of[m] for m in members if m in wave_of})}
            for gid, (members, reasons) in groups
        ],
        "sharedInfrastructure": sorted(name(v) for v in infrastructure),
        "graph": {
            "mostDependedOn": [{"name": name(n), "vmId": n, "dependants": k} for n, k in hubs],
            "cycles": [[name(n) for n in c] for c in cycles],
            "external": [{"address": a, "dependants": sorted(name(n) for n in deps if n in by_id)}
                         for a, deps in g.external_dependencies(edges)],
            "connections": CONNECTIONS_DEFINITION,
            "warnings": list(dependency_warnings),
        },
        "rules": [
            {"id": r.id, "severity": r.severity, "title": r.title, "remediation": r.remediation, "source": r.source}
            for r in sorted(rules, key=lambda r: r.id)
        ],
    }


def _summary(decisions: dict[str, Decision]) -> dict:
    targets = Counter(d.target for d in decisions.values())
    fits = Counter(d.fit for d in decisions.values())
    return {
        "workloads": len(decisions),
        # .value: orjson takes only plain str dict keys, not str enum members.
        "byTarget": {t.value: targets[t] for t in (Target.PROCESS, Target.HYPERV, Target.VM)},
        "byFit": {f.value: fits[f] for f in reversed(FIT_ORDER)},
    }


def _workload(vm: VM, d: Decision, outgoing: list[Edge], by_id: dict[str, VM], order: dict[str, tuple[str, str]],
              wave: int | None, group: str | None, infrastructure: bool) -> dict:
    """Return the plan's entry for one workload; `order` is each VM's (lower-case name, id) sort key."""
    depends = []
    external = []
    if len(outgoing) > 1:
        outgoing = sorted(outgoing, key=lambda e: order.get(e.target) or (e.target, e.target))
    for edge in outgoing:
        target = by_id.get(edge.target)
        if target is not None:
            depends.append({"name": target.name, "vmId": edge.target, "ports": sorted(edge.ports),
                            "connections": edge.connections})
        else:
            external.append(edge.target.removeprefix(g.EXTERNAL_PREFIX))
    entry = {
        "name": vm.name,
        "vmId": vm.vm_id,
        "host": vm.host,
        "cluster": vm.cluster or None,
        "target": d.target,
        "fit": d.fit,
        "confidence": d.confidence,
        "baseImage": d.base_image.image if d.base_image else None,
        "baseImageReason": d.base_image.reason if d.base_image else None,
        "imageOS": d.image_os,
        "wave": wave,
        "moveGroup": group,
        "sharedInfrastructure": infrastructure,
        "tags": _tags(vm),
        "resources": _resources(vm),
        "dependsOn": depends,
        "externalDependencies": external,
        "container": _container(vm, d) if d.target != Target.VM else None,
        "findings": [
            {"rule": f.rule, "severity": f.severity, "message": f.message, "remediation": f.remediation}
            for f in d.findings
        ],
        "rules": sorted({f.rule for f in d.findings}),
    }
    return entry


# Tags that separate hosts: written as the rules read them (VM.tag: trimmed, lower-case), so the capacity
# plan, compose networks, the stack and its policies see the tenants and zones iso.shared-tenancy counted.
_BOUNDARY_TAGS = ("tenant", "zone")


def _tags(vm: VM) -> dict:
    """Return the workload's planning tags; tenant and zone normalised like VM.tag."""
    tags = {k: vm.tag(k) if k in _BOUNDARY_TAGS else vm.tags.get(k) for k in PLANNING_TAGS}
    return {k: v for k, v in tags.items() if v}


def _resources(vm: VM) -> dict:
    """CPU and memory as configured, and as the inventory saw them used (dynamic memory)."""
    return {
        "cpus": vm.processor_count,
        "memoryMiB": vm.memory_startup // MIB if vm.memory_startup is not None else None,
        "memoryAssignedMiB": vm.memory_assigned // MIB if vm.memory_assigned else None,
        "dynamicMemory": vm.dynamic_memory,
    }


def _container(vm: VM, d: Decision) -> dict:
    """What a container definition needs from the guest (issue: generate). Never secret values.

    Derived facts (ports, identities, data drives, services) come from the decision's facts, the
    ones the rules read (facts.py); the rest is the inventory's, copied.
    """
    guest = vm.guest
    facts = d.facts
    return {
        "windowsFeatures": list(facts.features_to_install),
        "ports": list(facts.ports),
        "iisSites": [
            {"name": s.name, "bindings": s.bindings, "physicalPath": s.physical_path,
             "applicationPool": s.application_pool, "windowsAuthentication": s.windows_authentication,
             "applications": [{"path": a.path, "physicalPath": a.physical_path, "applicationPool": a.application_pool}
                              for a in s.applications]}
            for s in guest.iis_sites or []
        ],
        "appPools": [
            {"name": p.name, "managedRuntimeVersion": p.managed_runtime_version, "enable32Bit": p.enable_32bit,
             "identityType": p.identity_type, "userName": p.user_name}
            for p in guest.app_pools or []
        ],
        "services": [
            {"name": s.name, "displayName": s.display_name, "pathName": s.path_name, "startMode": s.start_mode,
             "startName": s.start_name}
            for s in facts.container_services
        ],
        "scheduledTasks": [task_document(t) for t in guest.scheduled_tasks or []],
        "parameters": [{"name": c.name, "file": c.file, "provider": c.provider} for c in guest.connection_strings or []]
        + [{"name": name, "file": "", "provider": ""}
           for name in dict.fromkeys(r.parameter for r in facts.removed_secrets if r.parameter)],
        "domainIdentities": facts.domain_identities,
        "dataDrives": list(facts.data_drives),
        "gmsa": facts.gmsa,
        "domain": facts.domain,
        "netbiosDomain": facts.netbios_domain,
    }
