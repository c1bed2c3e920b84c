"""The dependency graph and what it says: move groups, cycles, hubs, external dependencies.

An edge u → v means u depends on v (u opened connections to v). Nodes are VM ids; destinations
no VM owns (`external:…`) appear only in `external_dependencies`.

The graph is integer codes in lists, not a networkx DiGraph: at 50k VMs it has about 400k edges,
and a DiGraph (a dict per node and per edge) took about 0.8 s to build before any algorithm ran,
and networkx's strongly connected components walked each edge twice through those dicts. The
few walks needed over all edges are here; the work on the small graph of move groups (its
cycles and order) is networkx's, in waves.py.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from itertools import chain
from typing import Callable, Iterable, Mapping, Sequence

from .dependencies import EXTERNAL_PREFIX, Edge

CHATTY_CONNECTIONS = 1000  # observations of one pair that tie it as tightly as a cycle does


@dataclass(slots=True)
class DependencyGraph:
    """VMs and the dependencies between them; a VM's code is its index in `nodes`."""

    nodes: list[str]
    targets: list[list[int]]       # by code: the codes of the VMs it depends on
    connections: list[list[int]]   # by code: each of those edges' connection count
    left_out: frozenset[int] = frozenset()  # codes taken out by `without`: no edges, in no result
    _components: list[list[int]] | None = None  # strongly connected components, once worked out

    def codes(self) -> list[int]:
        """Return the codes of the nodes in the graph (those not left out)."""
        every = range(len(self.nodes))
        return [c for c in every if c not in self.left_out] if self.left_out else list(every)

    def components(self) -> list[list[int]]:
        """Return the strongly connected components as lists of codes (worked out once)."""
        if self._components is None:
            self._components = strong_components(self.targets, self.codes())
        return self._components

    def without(self, vm_ids: Iterable[str]) -> DependencyGraph:
        """Return the graph without the nodes `vm_ids` and their edges (ids not in it are ignored).

        Taking nodes out only splits the components holding them, so those alone are worked out
        again when the components are already known.
        """
        code = {n: i for i, n in enumerate(self.nodes)}
        gone = frozenset(code[n] for n in vm_ids if n in code) - self.left_out
        if not gone:
            return self
        targets, connections = list(self.targets), list(self.connections)
        for c, ends in enumerate(self.targets):
            if c in gone:
                targets[c], connections[c] = [], []
            elif not gone.isdisjoint(ends):
                kept = [i for i, t in enumerate(ends) if t not in gone]
                targets[c] = [ends[i] for i in kept]
                connections[c] = [self.connections[c][i] for i in kept]
        smaller = DependencyGraph(self.nodes, targets, connections, self.left_out | gone)
        if self._components is not None:
            smaller._components = []
            for component in self._components:
                if gone.isdisjoint(component):
                    smaller._components.append(component)
                else:
                    inside = set(component) - gone
                    within = {c: [t for t in targets[c] if t in inside] for c in inside}
                    smaller._components.extend(strong_components(within, sorted(inside)))
        return smaller


def build_graph(vm_ids: Iterable[str], edges: Mapping[tuple[str, str], Edge]) -> DependencyGraph:
    """Return the graph of the VMs `vm_ids` and the edges between them, by (source, target).

    Edges with an end that is not one of `vm_ids` (external destinations) stay out: they never
    move, so nothing here needs them; the edges themselves keep ports and processes for the plan.
    """
    nodes = list(dict.fromkeys(vm_ids))
    code = {n: i for i, n in enumerate(nodes)}.get
    targets: list[list[int]] = [[] for _ in nodes]
    connections: list[list[int]] = [[] for _ in nodes]
    for edge in edges.values():
        source = code(edge.source)
        target = code(edge.target)
        if source is not None and target is not None:
            targets[source].append(target)
            connections[source].append(edge.connections)
    return DependencyGraph(nodes, targets, connections)


def strong_components(targets: Sequence[Sequence[int]] | Mapping[int, Sequence[int]],
                      roots: Iterable[int]) -> list[list[int]]:
    """Return the strongly connected components reachable from `roots`, each a list of codes.

    Tarjan's algorithm without recursion: each edge is looked at once. `targets[c]` lists the
    codes node c depends on; every code reachable from `roots` must have an entry.
    Written here rather than taken from networkx because networkx's needs a DiGraph, whose
    building cost more than the whole walk (see the module's docstring).
    """
    order: dict[int, int] = {}  # visiting order, for each node seen
    low: dict[int, int] = {}    # lowest order reachable, for each node not yet in a component
    stack: list[int] = []       # nodes seen and not yet in a component
    found: list[list[int]] = []
    for root in roots:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack.append(root)
        path = [(root, iter(targets[root]))]
        while path:
            node, ends = path[-1]
            for end in ends:
                if end not in order:
                    order[end] = low[end] = len(order)
                    stack.append(end)
                    path.append((end, iter(targets[end])))
                    break
                if end in low and order[end] < low[node]:
                    low[node] = order[end]  # an edge back into the stack: node is in end's component
            else:
                path.pop()
                if path and low[node] < low[path[-1][0]]:
                    low[path[-1][0]] = low[node]
                if low[node] == order[node]:
                    at = len(stack) - 1
                    while stack[at] != node:
                        at -= 1
                    component = stack[at:]
                    del stack[at:]
                    for member in component:
                        del low[member]
                    found.append(component)
    return found


def cycles(graph: DependencyGraph) -> list[list[str]]:
    """Return the strongly connected components with more than one node, each sorted, largest first."""
    found = [sorted(graph.nodes[c] for c in component) for component in graph.components() if len(component) > 1]
    return sorted(found, key=lambda c: (-len(c), c))


def chatty_pairs(graph: DependencyGraph, threshold: int = CHATTY_CONNECTIONS) -> list[tuple[str, str]]:
    """Return the edges whose connection count reaches `threshold`, sorted."""
    return sorted((graph.nodes[source], graph.nodes[target]) for source, target in _chatty(graph, threshold))


def _chatty(graph: DependencyGraph, threshold: int) -> list[tuple[int, int]]:
    """Return the edges whose connection count reaches `threshold`, as codes."""
    return [(source, target) for source, counts in enumerate(graph.connections) if max(counts, default=0) >= threshold
            for target, count in zip(graph.targets[source], counts) if count >= threshold]


def move_groups(
    graph: DependencyGraph,
    application_of: Callable[[str], str | None],
    threshold: int = CHATTY_CONNECTIONS,
) -> list[tuple[list[str], list[str]]]:
    """Return move groups as (sorted nodes, sorted reasons) over the nodes of `graph`.

    Nodes in one cycle, the two ends of a chatty pair, and nodes of one application stay together
    (Azure Migrate's wave conditions 1 and 2). Every node is in exactly one group.
    """
    nodes = graph.nodes
    joins: list[tuple[list[int], str]] = [(c, "cycle") for c in graph.components() if len(c) > 1]
    joins += [([u, v], "chatty") for u, v in _chatty(graph, threshold)]
    by_app: dict[str, list[int]] = {}
    for c in graph.codes():
        app = application_of(nodes[c])
        if app:
            by_app.setdefault(app, []).append(c)
    joins += [(members, "application") for members in by_app.values() if len(members) > 1]
    parent = list(range(len(nodes)))
    for members, _ in joins:
        root = _root(parent, members[0])
        for member in members[1:]:
            parent[_root(parent, member)] = root
    groups: dict[int, list[str]] = {}
    for c in graph.codes():
        groups.setdefault(_root(parent, c), []).append(nodes[c])
    reasons: dict[int, set[str]] = {}
    for members, reason in joins:
        reasons.setdefault(_root(parent, members[0]), set()).add(reason)
    return sorted((sorted(members), sorted(reasons.get(root, ()))) for root, members in groups.items())


def _root(parent: list[int], code: int) -> int:
    """Return the representative of `code`'s set in the union-find forest `parent`, halving the path."""
    while parent[code] != code:
        parent[code] = code = parent[parent[code]]
    return code


def most_depended_on(graph: DependencyGraph, limit: int = 10) -> list[tuple[str, int]]:
    """Return up to `limit` nodes with the most distinct dependants, as (node, count)."""
    nodes = graph.nodes
    ranked = [(nodes[c], k) for c, k in Counter(chain.from_iterable(graph.targets)).items()]
    return heapq.nsmallest(limit, ranked, key=lambda item: (-item[1], item[0]))


def between(graph: DependencyGraph, owner: Mapping[str, str]) -> set[tuple[str, str]]:
    """Return (a, b) for each pair of distinct owners where a node `owner` gives to a depends on
    one it gives to b; nodes without an owner are passed over."""
    owners = [owner.get(n) for n in graph.nodes]
    reached: dict[str, set[str | None]] = {}  # by owner: the owners of what its nodes depend on
    for a, ends in zip(owners, graph.targets):
        if a is not None and ends:
            reached.setdefault(a, set()).update(map(owners.__getitem__, ends))
    return {(a, b) for a, ends in reached.items() for b in ends if b is not None and b != a}


def external_dependencies(edges: Iterable[Edge]) -> list[tuple[str, list[str]]]:
    """Return each external destination with the sorted nodes that depend on it."""
    dependants: dict[str, set[str]] = {}
    for e in edges:
        if e.target.startswith(EXTERNAL_PREFIX) and not e.source.startswith(EXTERNAL_PREFIX):
            dependants.setdefault(e.target.removeprefix(EXTERNAL_PREFIX), set()).add(e.source)
    return sorted((address, sorted(nodes)) for address, nodes in dependants.items())
