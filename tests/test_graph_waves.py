"""Move groups and waves against Azure Migrate's wave conditions (as README's `hyperdock assess` section lists them)."""

from __future__ import annotations

import networkx as nx
import pytest

from migrate import graph as g
from migrate.dependencies import Edge
from migrate.waves import NONPROD, PROD, Unit, environment_class, plan_waves


def graph_of(nodes, edges, connections=1):
    return g.build_graph(nodes, [Edge(a, b, connections, {80}, set()) for a, b in edges])


def test_cycles_chatty_pairs_and_applications_form_move_groups():
    graph = graph_of("abcdefg", [("a", "b"), ("b", "a"), ("c", "d"), ("e", "f")])
    graph.edges["c", "d"]["connections"] = 5000
    apps = {"e": "shop", "g": "shop"}
    groups = dict((tuple(m), r) for m, r in g.move_groups(graph, apps.get, threshold=1000))
    assert groups == {("a", "b"): ["cycle"], ("c", "d"): ["chatty"], ("e", "g"): ["application"], ("f",): []}


def test_cycles_most_depended_on_and_external():
    edges = [Edge(a, b, 1, {80}, set()) for a, b in
             [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a"), ("b", "a"), ("a", "external:1.2.3.4"), ("d", "external:1.2.3.4")]]
    graph = g.build_graph("abcd", edges)
    assert "external:1.2.3.4" not in graph
    assert g.cycles(graph) == [["a", "b", "c"]]
    assert g.most_depended_on(graph, 1) == [("a", 3)]
    assert g.external_dependencies(edges) == [("1.2.3.4", ["a", "d"])]


def unit(uid, members, env=PROD, late=False):
    return Unit(id=uid, members=list(members), environment=env, late=late, groups=[uid])


def depends(*pairs):
    graph = nx.DiGraph()
    graph.add_edges_from(pairs)
    return graph


def wave_of(waves):
    return {m: w.number for w in waves for m in w.members}


def test_dependency_target_moves_in_same_or_earlier_wave():
    units = [unit("u1", ["web"]), unit("u2", ["api"]), unit("u3", ["db"])]
    waves = plan_waves(units, depends(("web", "api"), ("api", "db")), max_size=1)
    w = wave_of(waves)
    assert w["db"] < w["api"] < w["web"]


def test_dev_and_test_before_production_and_never_mixed():
    units = [unit("p1", ["prod-a"]), unit("d1", ["dev-a"], NONPROD), unit("p2", ["prod-b"]), unit("d2", ["dev-b"], NONPROD)]
    waves = plan_waves(units, depends(), max_size=10)
    assert [(w.environment, sorted(w.members)) for w in waves] == [
        (NONPROD, ["dev-a", "dev-b"]), (PROD, ["prod-a", "prod-b"])]


def test_dependency_outranks_dev_first():
    # A dev workload that needs a prod one must wait for it (condition 3 outranks 4).
    units = [unit("p", ["prod-svc"]), unit("d", ["dev-app"], NONPROD)]
    waves = plan_waves(units, depends(("dev-app", "prod-svc")))
    assert [(w.environment, w.members) for w in waves] == [(PROD, ["prod-svc"]), (NONPROD, ["dev-app"])]


def test_high_criticality_not_in_wave_one():
    units = [unit("crit", ["crown-jewel"], late=True), unit("small", ["side-app"])]
    waves = plan_waves(units, depends(), max_size=10)
    assert wave_of(waves)["crown-jewel"] > 1
    assert wave_of(waves)["side-app"] == 1


def test_only_high_criticality_gets_a_note():
    waves = plan_waves([unit("crit", ["a"], late=True)], depends())
    assert waves[0].number == 1 and "high-criticality" in waves[0].notes[0]


def test_max_wave_size_and_oversized_group():
    units = [unit(f"u{i}", [f"w{i}"]) for i in range(5)] + [unit("big", ["b1", "b2", "b3", "b4"])]
    waves = plan_waves(units, depends(), max_size=3)
    assert all(len(w.members) <= 3 or w.members == ["b1", "b2", "b3", "b4"] for w in waves)
    big = next(w for w in waves if "b1" in w.members)
    assert any("exceeds --max-wave-size" in n for n in big.notes)


def test_min_wave_size_merges_and_reports():
    units = [unit("d", ["dev"], NONPROD), unit("p1", ["p1"]), unit("p2", ["p2"])]
    waves = plan_waves(units, depends(("p2", "p1")), min_size=2, max_size=1)
    # max 1 forbids merging: every wave is reported as undersized
    assert all(any("below --min-wave-size" in n for n in w.notes) for w in waves)
    merged = plan_waves(units, depends(("p2", "p1")), min_size=2, max_size=5)
    assert [sorted(w.members) for w in merged] == [["dev"], ["p1", "p2"]]


def test_units_in_a_cycle_merge_into_one_wave():
    units = [unit("u1", ["a1", "a2"]), unit("u2", ["b1", "b2"])]
    waves = plan_waves(units, depends(("a1", "b1"), ("b2", "a2")), max_size=2)
    assert len(waves) == 1 and sorted(waves[0].members) == ["a1", "a2", "b1", "b2"]


@pytest.mark.parametrize("env, expected", [("dev", NONPROD), ("Test", NONPROD), ("uat", NONPROD), ("prod", PROD), ("", PROD), ("weird", PROD)])
def test_environment_class(env, expected):
    assert environment_class(env) == expected
