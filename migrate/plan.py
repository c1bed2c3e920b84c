"""Assemble `plan.json` (schema `hyperdock/plan@1`, migrate/schemas/plan.schema.json) from an assessment.

This module picks the values; the documents' keys, their order and the empty values left out are
migrate/contract/plan_io's (`*_entry`, `*_document`), the one writer of plan@1. Everything is sorted
so the same input gives byte-identical output.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from . import __version__
from . import graph as g
from .contract.model import Target
from .contract.plan_io import (app_pool_document, container_entry, dependency_entry, finding_document,
                               parameter_entry, plan_entry, resources_entry, service_document, site_document,
                               task_document, workload_entry)
from .decide import Decision, Finding
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
    """Return the plan document as plain JSON-ready data.

    Sub-documents that come out equal for many workloads (findings with their rule list, tags,
    resources) are one shared object each: an estate repeats a few shapes. Read the plan, write it;
    do not edit it in place.
    """
    by_id = {vm.vm_id: vm for vm in estate.vms}
    wave_of = {m: w.number for w in waves for m in w.members}
    group_of = {m: gid for gid, (members, _) in groups for m in members}
    # Workloads in (lower-case name, id) order; a VM's rank in it orders the edges pointing at it.
    ids = sorted(by_id, key=lambda vid: (by_id[vid].name.lower(), vid))
    rank = {vid: i for i, vid in enumerate(ids)}
    depends, external = _dependencies(edges, by_id, rank)
    shared = _Shared()
    workloads = [
        _workload(by_id[vid], decisions[vid], depends.get(vid, []), external.get(vid, []), wave_of.get(vid),
                  group_of.get(vid), vid in infrastructure, shared)
        for vid in ids
    ]
    name = {vid: vm.name for vid, vm in by_id.items()}.__getitem__  # C-level in the maps below
    return plan_entry(
        generator=f"hyperdock {__version__}", host_os=options.host_os, host_build=f"10.0.{host_build}",
        options={"tenancy": options.tenancy, "minWaveSize": options.min_wave_size,
                 "maxWaveSize": options.max_wave_size, "chattyConnections": options.chatty_connections},
        inputs=list(estate.sources),
        summary=_summary(decisions),
        workloads=workloads,
        waves=[
            {"wave": w.number, "environment": w.environment, "workloads": sorted(map(name, w.members)),
             "moveGroups": sorted(set(w.groups)), "notes": w.notes}
            for w in waves
        ],
        move_groups=[
            {"id": gid, "workloads": sorted(map(name, members)),
             "applications": sorted({app for app in (by_id[m].tag("app") for m in members) if app}),
             "reasons": reasons, "waves": sorted({wave_of[m] for m in members if m in wave_of})}
            for gid, (members, reasons) in groups
        ],
        shared_infrastructure=sorted(map(name, infrastructure)),
        graph={
            "mostDependedOn": [{"name": name(n), "vmId": n, "dependants": k} for n, k in hubs],
            "cycles": [list(map(name, c)) for c in cycles],
            "external": [{"address": a, "dependants": sorted(name(n) for n in deps if n in by_id)}
                         for a, deps in g.external_dependencies(edges)],
            "connections": CONNECTIONS_DEFINITION,
            "warnings": list(dependency_warnings),
        },
        rules=[
            {"id": r.id, "severity": r.severity, "title": r.title, "remediation": r.remediation, "source": r.source}
            for r in sorted(rules, key=lambda r: r.id)
        ],
    )


def _summary(decisions: dict[str, Decision]) -> dict:
    targets = Counter(d.target for d in decisions.values())
    fits = Counter(d.fit for d in decisions.values())
    return {
        "workloads": len(decisions),
        # .value: orjson takes only plain str dict keys, not str enum members.
        "byTarget": {t.value: targets[t] for t in (Target.PROCESS, Target.HYPERV, Target.VM)},
        "byFit": {f.value: fits[f] for f in reversed(FIT_ORDER)},
    }


def _dependencies(edges: list[Edge], by_id: dict[str, VM], rank: dict[str, int]
                  ) -> tuple[dict[str, list[dict]], dict[str, list[str]]]:
    """Return each VM's `dependsOn` entries and `externalDependencies`, by VM id: VMs by their `rank`
    in the plan (lower-case name, id), addresses by themselves."""
    outgoing: dict[str, list[Edge]] = {}
    for edge in edges:
        outgoing.setdefault(edge.source, []).append(edge)
    depends: dict[str, list[dict]] = {}
    external: dict[str, list[str]] = {}
    for source, out in outgoing.items():
        if source not in rank:
            continue  # traffic from outside the inventory: no workload to list it under
        if len(out) > 1:
            out.sort(key=lambda e: rank.get(e.target, -1))
        # About 8 per VM, 390k at 50k VMs: one port is the usual case, listed without a sort.
        depends[source] = [
            dependency_entry(by_id[e.target].name, e.target, sorted(e.ports) if len(e.ports) > 1 else [*e.ports],
                             e.connections)
            for e in out if e.target in rank
        ]
        if len(depends[source]) < len(out):  # some target is no VM's: an external address
            external[source] = [t.removeprefix(g.EXTERNAL_PREFIX) for t in sorted(e.target for e in out if e.target not in rank)]
    return depends, external


class _Shared:
    """One document per distinct value, for the sub-documents look-alike workloads repeat."""

    def __init__(self) -> None:
        self._findings: dict[tuple[int, ...], tuple[list[dict], list[str]]] = {}
        self._tags: dict[tuple, dict] = {}
        self._resources: dict[tuple, dict] = {}

    def findings(self, findings: list[Finding]) -> tuple[list[dict], list[str]]:
        """Return the findings' documents and their sorted rule ids."""
        # By identity: look-alike workloads carry the same Finding objects (decide.Decider), and every
        # one stays alive in `decisions` while the plan is built, so an id is not reused meanwhile.
        key = tuple(map(id, findings))
        found = self._findings.get(key)
        if found is None:
            found = self._findings[key] = ([finding_document(f) for f in findings], sorted({f.rule for f in findings}))
        return found

    def tags(self, vm: VM) -> dict:
        key = tuple(vm.tags.items())
        found = self._tags.get(key)
        if found is None:
            found = self._tags[key] = _tags(vm)
        return found

    def resources(self, vm: VM) -> dict:
        key = (vm.processor_count, vm.memory_startup, vm.memory_assigned, vm.dynamic_memory)
        found = self._resources.get(key)
        if found is None:
            found = self._resources[key] = _resources(vm)
        return found


def _workload(vm: VM, d: Decision, depends: list[dict], external: list[str], wave: int | None, group: str | None,
              infrastructure: bool, shared: _Shared) -> dict:
    """Return the plan's entry for one workload; `depends` and `external` are its ordered dependencies."""
    findings, rules = shared.findings(d.findings)
    image = d.base_image
    # By position, in workload_entry's order (a keyword call per workload costs as much as the dict).
    return workload_entry(
        vm.name, vm.vm_id, vm.host, vm.cluster or None, d.target, d.fit, d.confidence,
        image.image if image else None, image.reason if image else None, d.image_os, wave, group, infrastructure,
        shared.tags(vm), shared.resources(vm), depends, external,
        _container(vm, d) if d.target != Target.VM else None, findings, rules)


# Tags that separate hosts: written as the rules read them (VM.tag: trimmed, lower-case), so the capacity
# plan, compose networks, the stack and its policies see the tenants and zones iso.shared-tenancy counted.
_BOUNDARY_TAGS = ("tenant", "zone")


def _tags(vm: VM) -> dict:
    """Return the workload's planning tags; tenant and zone normalised like VM.tag."""
    tags = {k: vm.tag(k) if k in _BOUNDARY_TAGS else vm.tags.get(k) for k in PLANNING_TAGS}
    return {k: v for k, v in tags.items() if v}


def _resources(vm: VM) -> dict:
    """CPU and memory as configured, and as the inventory saw them used (dynamic memory)."""
    return resources_entry(vm.processor_count, vm.memory_startup // MIB if vm.memory_startup is not None else None,
                           vm.memory_assigned // MIB if vm.memory_assigned else None, vm.dynamic_memory)


def _container(vm: VM, d: Decision) -> dict:
    """What a container definition needs from the guest (issue: generate). Never secret values.

    Derived facts (ports, identities, data drives, services) come from the decision's facts, the
    ones the rules read (facts.py); the rest is the inventory's, copied. Most sections are empty
    for most workloads: those skip their comprehension.
    """
    guest = vm.guest
    facts = d.facts
    accounts = facts.domain_accounts
    return container_entry(  # by position, in container_entry's order
        list(facts.features_to_install),
        list(facts.ports),
        [site_document(s) for s in guest.iis_sites] if guest.iis_sites else [],
        [app_pool_document(p) for p in guest.app_pools] if guest.app_pools else [],
        [service_document(s) for s in facts.container_services] if facts.container_services else [],
        [task_document(t) for t in guest.scheduled_tasks] if guest.scheduled_tasks else [],
        _parameters(guest.connection_strings, facts.removed_secrets),
        facts.domain_identities if accounts else [],
        list(facts.data_drives),
        facts.gmsa,
        facts.domain,
        facts.netbios_domain if accounts else None,
    )


def _parameters(connection_strings, removed_secrets) -> list[dict]:
    """The connection strings' names, then each scrubbed secret's parameter once."""
    if not connection_strings and not removed_secrets:
        return []
    return [parameter_entry(c.name, c.file, c.provider) for c in connection_strings or []] + [
        parameter_entry(name, "", "") for name in dict.fromkeys(r.parameter for r in removed_secrets if r.parameter)]
