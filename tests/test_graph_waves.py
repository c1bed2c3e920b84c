"""Move groups and waves against Azure Migrate's wave conditions (as README's `hyperdock assess` section lists them)."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from migrate import graph as g
from migrate.dependencies import Edge
from migrate.waves import NONPROD, PROD, Unit, environment_class, plan_waves


def edges_of(pairs, connections=None):
    connections = connections or {}
    return {(a, b): Edge(a, b, connections.get((a, b), 1), {80}, set()) for a, b in pairs}


def graph_of(nodes, pairs, connections=None):
    return g.build_graph(nodes, edges_of(pairs, connections))


def test_cycles_chatty_pairs_and_applications_form_move_groups():
    graph = graph_of("abcdefg", [("a", "b"), ("b", "a"), ("c", "d"), ("e", "f")], {("c", "d"): 5000})
    assert g.chatty_pairs(graph, 1000) == [("c", "d")]
    apps = {"e": "shop", "g": "shop"}
    groups = dict((tuple(m), r) for m, r in g.move_groups(graph, apps.get, threshold=1000))
    assert groups == {("a", "b"): ["cycle"], ("c", "d"): ["chatty"], ("e", "g"): ["application"], ("f",): []}


def test_cycles_most_depended_on_and_external():
    edges = edges_of([("a", "b"), ("b", "c"), ("c", "a"), ("d", "a"), ("b", "a"), ("a", "external:1.2.3.4"),
                      ("d", "external:1.2.3.4")])
    graph = g.build_graph("abcd", edges)
    assert graph.nodes == list("abcd") and sum(map(len, graph.targets)) == 5  # the external edges stay out
    assert g.cycles(graph) == [["a", "b", "c"]]
    assert g.most_depended_on(graph, 1) == [("a", 3)]
    assert g.most_depended_on(graph) == [("a", 3), ("b", 1), ("c", 1)]
    assert g.external_dependencies(edges.values()) == [("1.2.3.4", ["a", "d"])]


def test_without_splits_the_cycles_through_what_it_takes_out():
    graph = graph_of("abcdef", [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a"), ("e", "f"), ("f", "e")],
                     {("e", "f"): 5000})
    assert g.cycles(graph) == [["a", "b", "c"], ["e", "f"]]
    smaller = graph.without(["c", "e", "not-a-node"])
    assert g.cycles(smaller) == [] and g.cycles(graph) == [["a", "b", "c"], ["e", "f"]]
    assert g.most_depended_on(smaller) == [("a", 1), ("b", 1)]
    assert g.chatty_pairs(smaller) == []
    groups = g.move_groups(smaller, {}.get)
    assert groups == [(["a"], []), (["b"], []), (["d"], []), (["f"], [])]
    assert graph.without([]) is graph


def random_graph(seed, nodes=60, edges=150):
    rnd = random.Random(seed)
    names = [f"vm{i:03d}" for i in range(nodes)]
    pairs = {(rnd.choice(names), rnd.choice(names)) for _ in range(edges)}
    connections = {pair: rnd.choice([1, 10, 2000]) for pair in pairs}
    return names, pairs, connections


@pytest.mark.parametrize("seed", range(30))
def test_strong_components_and_move_groups_agree_with_networkx(seed):
    names, pairs, connections = random_graph(seed)
    left_out = set(random.Random(seed).sample(names, 5))
    reference = nx.DiGraph()
    reference.add_nodes_from(names)
    reference.add_edges_from(pairs)
    graph = graph_of(names, pairs, connections)
    found = g.strong_components(graph.targets, range(len(names)))
    assert sorted(sorted(graph.nodes[c] for c in comp) for comp in found) == sorted(
        sorted(comp) for comp in nx.strongly_connected_components(reference))
    if seed % 2:
        g.cycles(graph)  # components known before nodes are taken out: `without` works out only the split ones
    smaller = graph.without(left_out)
    reference.remove_nodes_from(left_out)
    assert g.cycles(smaller) == sorted((sorted(c) for c in nx.strongly_connected_components(reference) if len(c) > 1),
                                       key=lambda c: (-len(c), c))
    assert g.most_depended_on(smaller, 60) == sorted(((n, k) for n, k in reference.in_degree() if k),
                                                     key=lambda item: (-item[1], item[0]))
    apps = {n: f"app{int(n[2:]) % 7}" for n in names if int(n[2:]) % 3 == 0}
    expected = nx.utils.UnionFind(reference.nodes)
    for comp in nx.strongly_connected_components(reference):
        expected.union(*comp)
    chatty = [(u, v) for u, v in reference.edges if connections[u, v] >= 1000]
    for u, v in chatty:
        expected.union(u, v)
    for app in set(apps.values()):
        expected.union(*(n for n in reference.nodes if apps.get(n) == app))
    groups = g.move_groups(smaller, apps.get)
    assert [members for members, _ in groups] == sorted(sorted(s) for s in expected.to_sets())
    assert g.chatty_pairs(smaller) == sorted(chatty)
    for members, reasons in groups:
        inside = set(members)
        assert ("cycle" in reasons) == any(len(c) > 1 and c <= inside for c in nx.strongly_connected_components(reference))
        assert ("chatty" in reasons) == any(u in inside for u, _ in chatty)
        assert ("application" in reasons) == any(sum(apps.get(m) == apps.get(n) for m in members) > 1
                                                 for n in members if n in apps)


def test_between_joins_owners_and_passes_over_the_rest():
    graph = graph_of("abcde", [("a", "b"), ("b", "c"), ("c", "a"), ("a", "d"), ("d", "e"), ("e", "a")])
    owner = {"a": "u1", "b": "u1", "c": "u2", "e": "u3"}
    assert g.between(graph, owner) == {("u1", "u2"), ("u2", "u1"), ("u3", "u1")}


def unit(uid, members, env=PROD, late=False):
    return Unit(id=uid, members=list(members), environment=env, late=late, groups=[uid])


def depends(units, *pairs):
    """Return the unit pairs that members' dependencies `pairs` give, as assess works them out."""
    members = [m for u in units for m in u.members]
    return g.between(graph_of(members, pairs), {m: u.id for u in units for m in u.members})


def wave_of(waves):
    return {m: w.number for w in waves for m in w.members}


def test_dependency_target_moves_in_same_or_earlier_wave():
    units = [unit("u1", ["web"]), unit("u2", ["api"]), unit("u3", ["db"])]
    waves = plan_waves(units, depends(units, ("web", "api"), ("api", "db")), max_size=1)
    w = wave_of(waves)
    assert w["db"] < w["api"] < w["web"]


def test_dev_and_test_before_production_and_never_mixed():
    units = [unit("p1", ["prod-a"]), unit("d1", ["dev-a"], NONPROD), unit("p2", ["prod-b"]), unit("d2", ["dev-b"], NONPROD)]
    waves = plan_waves(units, depends(units), max_size=10)
    assert [(w.environment, sorted(w.members)) for w in waves] == [
        (NONPROD, ["dev-a", "dev-b"]), (PROD, ["prod-a", "prod-b"])]


def test_dependency_outranks_dev_first():
    # A dev workload that needs a prod one must wait for it (condition 3 outranks 4).
    units = [unit("p", ["prod-svc"]), unit("d", ["dev-app"], NONPROD)]
    waves = plan_waves(units, depends(units, ("dev-app", "prod-svc")))
    assert [(w.environment, w.members) for w in waves] == [(PROD, ["prod-svc"]), (NONPROD, ["dev-app"])]


def test_high_criticality_not_in_wave_one():
    units = [unit("crit", ["crown-jewel"], late=True), unit("small", ["side-app"])]
    waves = plan_waves(units, depends(units), max_size=10)
    assert wave_of(waves)["crown-jewel"] > 1
    assert wave_of(waves)["side-app"] == 1


def test_only_high_criticality_gets_a_note():
    waves = plan_waves([unit("crit", ["a"], late=True)], set())
    assert waves[0].number == 1 and "high-criticality" in waves[0].notes[0]


def test_max_wave_size_and_oversized_group():
    units = [unit(f"u{i}", [f"w{i}"]) for i in range(5)] + [unit("big", ["b1", "b2", "b3", "b4"])]
    waves = plan_waves(units, depends(units), max_size=3)
    assert all(len(w.members) <= 3 or w.members == ["b1", "b2", "b3", "b4"] for w in waves)
    big = next(w for w in waves if "b1" in w.members)
    assert any("exceeds --max-wave-size" in n for n in big.notes)


def test_min_wave_size_merges_and_reports():
    units = [unit("d", ["dev"], NONPROD), unit("p1", ["p1"]), unit("p2", ["p2"])]
    waves = plan_waves(units, depends(units, ("p2", "p1")), min_size=2, max_size=1)
    # max 1 forbids merging: every wave is reported as undersized
    assert all(any("below --min-wave-size" in n for n in w.notes) for w in waves)
    merged = plan_waves(units, depends(units, ("p2", "p1")), min_size=2, max_size=5)
    assert [sorted(w.members) for w in merged] == [["dev"], ["p1", "p2"]]


def test_units_in_a_cycle_merge_into_one_wave():
    units = [unit("u1", ["a1", "a2"]), unit("u2", ["b1", "b2"])]
    waves = plan_waves(units, depends(units, ("a1", "b1"), ("b2", "a2")), max_size=2)
    assert len(waves) == 1 and sorted(waves[0].members) == ["a1", "a2", "b1", "b2"]


@pytest.mark.parametrize("env, expected", [("dev", NONPROD), ("Test", NONPROD), ("uat", NONPROD), ("prod", PROD), ("", PROD), ("weird", PROD)])
def test_environment_class(env, expected):
    assert environment_class(env) == expected
