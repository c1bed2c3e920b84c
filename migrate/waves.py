"""Migration waves from move groups, following Azure Migrate's wave conditions in their order.

1 and 2 (two-way dependencies, one application together) hold because a move group never splits.
3: a dependency target moves in the same wave or an earlier one. 4 and 5: dev/test waves come
before production where dependencies allow, and a wave never mixes them, unless a move group itself
does (a cycle between dev and prod): that wave is marked "mixed" with a note. 6 and 7: high
criticality or high complexity is not in wave 1. 8: waves stay within --min/--max-wave-size,
except a move group larger than the maximum, which gets a wave of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import networkx as nx

NONPROD, PROD, MIXED = "non-production", "production", "mixed"
MIXED_NOTE = ("production and dev/test workloads together: a cycle or chatty pair binds them, and wave "
              "conditions 1-2 outrank 5; split the dependency to separate them")
_NONPROD_ENVS = {"dev", "development", "test", "testing", "qa", "uat", "staging", "stage", "sandbox"}


def environment_class(env: str) -> str:
    """Return NONPROD for dev/test-like `env` tags; PROD otherwise, unknown included (Azure's default)."""
    return NONPROD if env.strip().lower() in _NONPROD_ENVS else PROD


@dataclass(slots=True)
class Unit:
    """A set of migrating workloads that must move in one wave."""

    id: str
    members: list[str]
    environment: str
    late: bool  # high criticality or complexity: not in wave 1
    groups: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Wave:
    number: int
    environment: str
    members: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def unit_graph(units: list[Unit], depends: Iterable[tuple[str, str]]) -> nx.DiGraph:
    """Return a DiGraph over unit ids with an edge a → b for each pair (a, b) of `depends`."""
    graph = nx.DiGraph()
    graph.add_nodes_from(u.id for u in units)
    graph.add_edges_from(depends)
    return graph


def merge_cyclic_units(units: list[Unit], graph: nx.DiGraph) -> tuple[list[Unit], nx.DiGraph]:
    """Merge units that depend on each other in a cycle; return the merged units and their DAG."""
    by_id = {u.id: u for u in units}
    condensed = nx.condensation(graph)
    merged: list[Unit] = []
    for index in sorted(condensed.nodes):
        parts = sorted((by_id[i] for i in condensed.nodes[index]["members"]), key=lambda u: u.id)
        environments = {p.environment for p in parts}
        merged.append(Unit(
            id=parts[0].id,
            members=sorted(m for p in parts for m in p.members),
            environment=environments.pop() if len(environments) == 1 else MIXED,
            late=any(p.late for p in parts),
            groups=sorted(g for p in parts for g in p.groups),
        ))
    dag = nx.DiGraph()
    dag.add_nodes_from(u.id for u in merged)
    dag.add_edges_from((merged[a].id, merged[b].id) for a, b in condensed.edges)
    return merged, dag


def plan_waves(units: list[Unit], depends: Iterable[tuple[str, str]], min_size: int = 1,
               max_size: int = 50) -> list[Wave]:
    """Return waves over `units`; `depends` holds a pair of unit ids (a, b) when a member of a
    depends on a member of b (graph.between works them out from the members' dependencies)."""
    units, dag = merge_cyclic_units(units, unit_graph(units, depends))
    by_id = {u.id: u for u in units}
    # Dependencies first; among the units ready to go, non-production, then early-safe, then by name.
    order = nx.lexicographical_topological_sort(
        dag.reverse(copy=False),
        key=lambda uid: (by_id[uid].environment != NONPROD, by_id[uid].late, uid),
    )
    waves: list[Wave] = []
    for uid in order:
        unit = by_id[uid]
        current = waves[-1] if waves else None
        fits = (current is not None and current.environment == unit.environment
                and len(current.members) + len(unit.members) <= max_size
                and not (unit.late and current.number == 1))
        if not fits:
            current = Wave(number=len(waves) + 1, environment=unit.environment)
            waves.append(current)
            if unit.environment == MIXED:
                current.notes.append(MIXED_NOTE)
            if unit.late and current.number == 1:
                current.notes.append("only high-criticality or high-complexity work was ready for wave 1")
        if len(unit.members) > max_size:
            current.notes.append(f"move group of {len(unit.members)} workloads exceeds --max-wave-size {max_size}")
        current.members.extend(unit.members)
        current.groups.extend(unit.groups)
    waves = _merge_small(waves, by_id, min_size, max_size)
    for wave in waves:
        wave.members.sort()
        wave.groups.sort()
        if len(wave.members) < min_size:
            wave.notes.append(f"{len(wave.members)} workloads, below --min-wave-size {min_size}: "
                              "no neighbouring wave of the same environment could take them")
    return waves


def _merge_small(waves: list[Wave], units: dict[str, Unit], min_size: int, max_size: int) -> list[Wave]:
    """Fold an undersized wave into the next one when environment and size allow.

    Merging two consecutive waves never breaks dependency order; it could only put late work into
    wave 1, which is checked.
    """
    late_members = {m for u in units.values() if u.late for m in u.members}
    result: list[Wave] = []
    for wave in waves:
        previous = result[-1] if result else None
        if (previous is not None and len(previous.members) < min_size
                and previous.environment == wave.environment
                and len(previous.members) + len(wave.members) <= max_size
                and not (previous.number == 1 and late_members.intersection(wave.members))):
            previous.members.extend(wave.members)
            previous.groups.extend(wave.groups)
            previous.notes.extend(wave.notes)
            continue
        wave.number = len(result) + 1
        result.append(wave)
    return result
