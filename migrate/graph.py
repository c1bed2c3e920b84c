"""The dependency graph and what it says: move groups, cycles, hubs, external dependencies.

An edge u → v means u depends on v (u opened connections to v). Nodes are VM ids; destinations
no VM owns (`external:…`) appear only in `external_dependencies`.
"""

from __future__ import annotations

from typing import Callable, Iterable

import networkx as nx
from networkx.utils import UnionFind

from .dependencies import EXTERNAL_PREFIX, Edge

CHATTY_CONNECTIONS = 1000  # observations of one pair that tie it as tightly as a cycle does


def build_graph(vm_ids: Iterable[str], edges: Iterable[Edge]) -> nx.DiGraph:
    """Return a DiGraph of every VM and the edges between VMs, weighted by `connections`.

    External destinations stay out: they never move, so no algorithm here needs them; the
    edges themselves keep ports and processes for the plan.
    """
    graph = nx.DiGraph()
    graph.add_nodes_from(vm_ids)
    graph.add_weighted_edges_from(
        ((e.source, e.target, e.connections) for e in edges
         if not e.source.startswith(EXTERNAL_PREFIX) and not e.target.startswith(EXTERNAL_PREFIX)),
        weight="connections",
    )
    return graph


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    """Return the strongly connected components with more than one node, each sorted, largest first."""
    found = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    return sorted(found, key=lambda c: (-len(c), c))


def chatty_pairs(graph: nx.DiGraph, threshold: int = CHATTY_CONNECTIONS) -> list[tuple[str, str]]:
    """Return the edges whose connection count reaches `threshold`, sorted."""
    return sorted((u, v) for u, v, n in graph.edges(data="connections") if n >= threshold)


def move_groups(
    graph: nx.DiGraph,
    application_of: Callable[[str], str | None],
    threshold: int = CHATTY_CONNECTIONS,
) -> list[tuple[list[str], list[str]]]:
    """Return move groups as (sorted nodes, sorted reasons) over the nodes of `graph`.

    Nodes in one cycle, the two ends of a chatty pair, and nodes of one application stay together
    (Azure Migrate's wave conditions 1 and 2). Every node is in exactly one group.
    """
    union = UnionFind(graph.nodes)
    reasons: dict[str, set[str]] = {}

    def join(nodes: list[str], reason: str) -> None:
        union.union(*nodes)
        reasons.setdefault(nodes[0], set()).add(reason)

    for component in cycles(graph):
        join(component, "cycle")
    for u, v in chatty_pairs(graph, threshold):
        join([u, v], "chatty")
    by_app: dict[str, list[str]] = {}
    for node in graph.nodes:
        app = application_of(node)
        if app:
            by_app.setdefault(app, []).append(node)
    for members in by_app.values():
        if len(members) > 1:
            join(members, "application")
    groups: dict[str, set[str]] = {}
    for node, why in reasons.items():
        groups.setdefault(union[node], set()).update(why)
    result = []
    for members in union.to_sets():
        root = union[next(iter(members))]
        result.append((sorted(members), sorted(groups.get(root, ()))))
    return sorted(result, key=lambda g: g[0])


def most_depended_on(graph: nx.DiGraph, limit: int = 10) -> list[tuple[str, int]]:
    """Return up to `limit` nodes with the most distinct dependants, as (node, count)."""
    ranked = [(n, k) for n, k in graph.in_degree() if k > 0]
    return sorted(ranked, key=lambda item: (-item[1], item[0]))[:limit]


def external_dependencies(edges: Iterable[Edge]) -> list[tuple[str, list[str]]]:
    """Return each external destination with the sorted nodes that depend on it."""
    dependants: dict[str, set[str]] = {}
    for e in edges:
        if e.target.startswith(EXTERNAL_PREFIX) and not e.source.startswith(EXTERNAL_PREFIX):
            dependants.setdefault(e.target.removeprefix(EXTERNAL_PREFIX), set()).add(e.source)
    return sorted((address, sorted(nodes)) for address, nodes in dependants.items())
