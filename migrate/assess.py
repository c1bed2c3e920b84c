"""`assess`: inventory and dependencies in, the plan (a dict matching plan.schema.json) out.

`assess` is pure apart from reading its input files; `assess_into` writes the results.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import graph as g
from .contract.model import Target
from .decide import Decision, Finding, decide_all, estate_facts
from .dependencies import Edge, Resolver, add_distinct_rows, edges_from_guests
from .dependency_reader import DependencyReader
from .core.windows import OS_BUILDS
from .inventory import read_estate
from .model import VM, Estate
from .output import cyclic_gc_paused, json_chunks, write_tree
from .plan import build_plan
from .report import report_chunks
from .rules import RULES
from .waves import MIXED, Unit, Wave, environment_class, plan_waves

if TYPE_CHECKING:
    from .generate.files import GenerateOptions

# Rules whose workloads are shared infrastructure: everything depends on them, they stay VMs
# and they stay out of move groups and waves.
INFRASTRUCTURE_RULES = {"block.domain-controller", "block.infrastructure-role", "block.file-server"}


@dataclass(frozen=True, slots=True)
class Options:
    host_os: str = "ltsc2025"
    tenancy: str = "dedicated"
    min_wave_size: int = 1
    max_wave_size: int = 50
    chatty_connections: int = g.CHATTY_CONNECTIONS


class Progress:
    """Stage lines on stderr with elapsed time, so long runs show where they are."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.started = time.perf_counter()
        self.timings: dict[str, float] = {}
        self._last = self.started

    def step(self, name: str, message: str) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self._last
        self._last = now
        if self.enabled:
            print(f"hyperdock: {message} ({now - self.started:.1f} s)", file=sys.stderr, flush=True)


def assess(inventories: list[Path], dependency_csvs: list[Path], options: Options,
           progress: Progress | None = None) -> dict:
    """Return the plan for the estate in `inventories`, with dependencies from guests and CSVs."""
    progress = progress or Progress(enabled=False)
    # Large exports are read by a child process meanwhile (dependency_reader.CHILD_FROM_BYTES).
    with DependencyReader(dependency_csvs) as exports:
        estate = read_estate(inventories)
        progress.step("read", f"read {len(estate.vms)} VMs on {len(estate.hosts)} hosts from {len(inventories)} file(s)")

        resolver = Resolver(estate.vms)
        edges = edges_from_guests(estate.vms, resolver)
        reads = [add_distinct_rows(rows, resolver, edges) for rows in exports]
    rows = sum(r.rows for r in reads)
    progress.step("dependencies", f"aggregated {rows} dependency rows and guest connections into {len(edges)} edges")
    dependency_warnings = [w for w in (r.warning() for r in reads) if w]

    facts = estate_facts(estate, options.host_os, options.tenancy)
    extra = _merge_findings(estate.merge_notes, estate.vms)
    decisions = decide_all(estate.vms, facts, extra)  # look-alike workloads worked out once
    progress.step("rules", f"decided {len(decisions)} workloads: {_summary(decisions)}")

    cycles, hubs, groups, waves, infrastructure = _graph_stage(estate, edges, decisions, options)
    progress.step("graph", f"{len(groups)} move groups, {len(waves)} waves, {len(infrastructure)} shared infrastructure")

    plan = build_plan(
        estate=estate, decisions=decisions, edges=list(edges.values()), cycles=cycles, hubs=hubs,
        groups=groups, waves=waves,
        infrastructure=infrastructure, options=options, host_build=OS_BUILDS[options.host_os],
        rules=RULES, dependency_warnings=dependency_warnings,
    )
    progress.step("plan", "built the plan")
    return plan


def _graph_stage(estate: Estate, edges: dict[tuple[str, str], Edge], decisions: dict[str, Decision],
                 options: Options) -> tuple[list[list[str]], list[tuple[str, int]],
                                            list[tuple[str, tuple[list[str], list[str]]]], list[Wave], set[str]]:
    """Return the cycles, the most depended-on VMs, the move groups as (id, (members, reasons)),
    the waves and the shared infrastructure's VM ids."""
    graph = g.build_graph((vm.vm_id for vm in estate.vms), edges)
    cycles, hubs = g.cycles(graph), g.most_depended_on(graph)
    # Shared infrastructure leaves the graph: everything depends on it, so it would chain every
    # application into one move group.
    infrastructure = {vid for vid, d in decisions.items() if {f.rule for f in d.findings} & INFRASTRUCTURE_RULES}
    graph = graph.without(infrastructure)
    environment = _environment_classes(estate.vms)
    groups = g.move_groups(graph, _application_keys(estate.vms, environment).get, options.chatty_connections)
    group_ids = {f"mg-{i:04d}": members for i, (members, _) in enumerate(groups, start=1)}
    migrating = {vid for vid, d in decisions.items() if d.target != Target.VM}
    units = []
    for gid, members in group_ids.items():
        moving = [m for m in members if m in migrating]
        if moving:
            classes = {environment[m] for m in moving}
            units.append(Unit(id=gid, members=moving, environment=classes.pop() if len(classes) == 1 else MIXED,
                              late=any(_is_late(decisions[m]) for m in moving), groups=[gid]))
    # Waves are worked out between units: the graph's edges collapse to the pairs of units they join.
    owner = {m: unit.id for unit in units for m in unit.members}
    waves = plan_waves(units, g.between(graph, owner), options.min_wave_size, options.max_wave_size)
    return cycles, hubs, list(zip(group_ids, groups)), waves, infrastructure


def assess_into(out: Path, inventories: list[Path], dependency_csvs: list[Path], options: Options,
                progress: Progress, generate_options: GenerateOptions | None = None) -> None:
    """Assess, then write plan.json and report.md under `out` (with `generate_options`, the
    container definitions and hosts.yaml too), all or nothing. Returns nothing; warns on stderr."""
    with cyclic_gc_paused():
        plan = assess(inventories, dependency_csvs, options, progress)
        for warning in plan["graph"]["warnings"]:
            print(f"hyperdock: warning: {warning}", file=sys.stderr)
        # plan.json and report.md are written as they are serialized, never held whole beside the plan.
        files = {"plan.json": json_chunks(plan)}
        generated = None
        if generate_options is not None:
            from .contract.plan_io import plan_from_document
            from .generate.files import generate

            definitions, generated = generate(plan_from_document(plan), generate_options)
            files.update(definitions)
        files["report.md"] = report_chunks(plan, generated)
        write_tree(out, files)
    progress.step("write", f"wrote {len(files)} files under {out}")


def _merge_findings(notes: list[tuple[str, str]], vms: list[VM]) -> dict[str, list[Finding]]:
    """Return extra per-VM findings from reading: duplicate VMIds merged, duplicate names."""
    extra: dict[str, list[Finding]] = {}
    for vm_id, text in notes:
        extra.setdefault(vm_id, []).append(Finding(
            "data.duplicate-vmid", "info", text, "Check for a stale record on the other host."))
    names = Counter(vm.name.lower() for vm in vms)
    if len(names) == len(vms):  # no name repeats
        return extra
    for vm in vms:
        if names[vm.name.lower()] > 1:
            extra.setdefault(vm.vm_id, []).append(Finding(
                "data.duplicate-name", "info", f"{names[vm.name.lower()]} VMs are named {vm.name}; they are told apart by VMId",
                "Rename one of them, or expect generated names with a suffix."))
    return extra


def _environment_classes(vms: list[VM]) -> dict[str, str]:
    """Return each VM's environment class by VM id (environment_class of its `env` tag, each
    distinct tag classified once)."""
    classes = {env: environment_class(env) for env in {vm.tags.get("env", "") for vm in vms}}
    return {vm.vm_id: classes[vm.tags.get("env", "")] for vm in vms}


def _application_keys(vms: list[VM], environment: dict[str, str]) -> dict[str, str]:
    """Return the application each VM with an `app` tag belongs to, by VM id: the tag within
    the VM's environment class.

    The dev and prod instances of one application are different deployments: keying by class keeps
    wave condition 5 (never mix) from fighting condition 2 (one application together).
    """
    return {vm.vm_id: f"{app}/{environment[vm.vm_id]}" for vm in vms if (app := vm.tag("app"))}


def _is_late(decision: Decision) -> bool:
    """High criticality, or high complexity (three or more conditions to address)."""
    return (decision.vm.tag("criticality") == "high"
            or sum(1 for f in decision.findings if f.severity == "warning") >= 3)


def _summary(decisions: dict[str, Decision]) -> str:
    counts = Counter(d.target for d in decisions.values())
    return ", ".join(f"{counts[t]} {t}" for t in (Target.PROCESS, Target.HYPERV, Target.VM))
