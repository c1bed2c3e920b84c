"""The dependency graph and what it says: move groups, cycles, hubs, external dependencies.

An edge u → v means u depends on v (u opened connections to v). Internal nodes are VM ids;
external nodes start with `external:` and carry `external=True`.
"""

from __future__ import annotations

from typing import Callable, Iterable

import networkx as nx
from networkx.utils import UnionFind

from .dependencies import EXTERNAL_PREFIX, Edge

CHATTY_CONNECTIONS = 1000  # observations of one pair that tie it as tightly as a cycle does


def build_graph(vm_ids: Iterable[str], edges: Iterable[Edge]) -> nx.DiGraph:
    """Return a DiGraph of every VM and every edge, with `connections`, `ports` and `processes`."""
    graph = nx.DiGraph()
    graph.add_nodes_from(vm_ids, external=False)
    for edge in edges:
        for node in (edge.source, edge.target):
            if node not in graph:
                graph.add_node(node, external=node.startswith(EXTERNAL_PREFIX))
        graph.add_edge(edge.source, edge.target, connections=edge.connections,
                       ports=sorted(edge.ports), processes=sorted(edge.processes))
    return graph


def vm_subgraph(graph: nx.DiGraph, exclude: Iterable[str] = ()) -> nx.DiGraph:
    """Return a copy of `graph` without external nodes and without the `exclude` nodes.

    A copy, not a view: the algorithms that follow walk it many times, and views filter each step.
    """
    result = graph.copy()
    result.remove_nodes_from([n for n, external in graph.nodes(data="external") if external])
    result.remove_nodes_from(exclude)
    return result


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
    """Return up to `limit` internal nodes with the most distinct dependants, as (node, count)."""
    ranked = [(n, graph.in_degree(n)) for n in graph if not graph.nodes[n]["external"] and graph.in_degree(n) > 0]
    return sorted(ranked, key=lambda item: (-item[1], item[0]))[:limit]


def external_dependencies(graph: nx.DiGraph) -> list[tuple[str, list[str]]]:
    """Return each external node with the sorted internal nodes that depend on it."""
    result = []
    for node, data in graph.nodes(data=True):
        if data["external"]:
            result.append((node.removeprefix(EXTERNAL_PREFIX), sorted(graph.predecessors(node))))
    return sorted(result)
