"""generate renders look-alike workloads once (render_dockerfile's cache), with the bytes of rendering each."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from conftest import ROOT
from plan_fixtures import typed_workload
from migrate.contract.model import Target
from migrate.contract.plan_io import plan_from_document, read_plan_document
from migrate.generate.dockerfile import render_dockerfile


def _containers():
    plan = plan_from_document(read_plan_document(Path(ROOT / "examples/plan/plan.json")))
    return [w for w in plan.workloads if w.container is not None]


def test_cached_renderings_are_those_of_rendering_each_workload():
    """Every example workload and a twin that differs in all but what the renderer reads (name, id,
    label, isolation, wave): the cache gives each the text of a fresh rendering, one entry per original."""
    workloads = _containers()
    twins = [replace(w, name=w.name + "-twin", vm_id=w.vm_id + "-twin", wave=(w.wave or 0) + 7,
                     target=Target.HYPERV if w.target is Target.PROCESS else Target.PROCESS, tags={"tenant": "b"})
             for w in workloads]
    cache: dict = {}
    for w in workloads + twins:
        label = w.name.lower()
        assert render_dockerfile(w, label, cache) == render_dockerfile(w, label), w.name
    assert len(cache) == len({(w.container, w.base_image, w.image_os) for w in workloads})
    assert len(cache) < len(workloads + twins)
    twin, original = render_dockerfile(twins[0], "twin", cache), render_dockerfile(workloads[0], "original", cache)
    assert "twin" in twin[0] and "original" not in twin[0]


def test_the_label_reaches_start_ps1_of_each_workload():
    """start.ps1's first line names the workload, for the first rendering and the cached ones."""
    w = typed_workload({"name": "web", "container": {"iisSites": [{"name": "Site", "bindings": ["http/*:80:"]}],
                                                     "ports": [80]}})
    cache: dict = {}
    for label in ("web-a", "web-b"):
        _, files = render_dockerfile(w, label, cache)
        assert files["start.ps1"].startswith(f"# hyperdock: what the {label} container does at start")
        assert files["start.ps1"].count("# hyperdock: what the ") == 1
    assert len(cache) == 1


def test_a_port_that_prints_differently_is_never_shared():
    """80 == 80.0, but a plan edited to hold 80.0 keeps its own spelling, in either order."""
    whole = typed_workload({"name": "a", "container": {"ports": [80]}})
    edited = replace(whole, container=replace(whole.container, ports=(80.0,)))
    for first, second in ((whole, edited), (edited, whole)):
        cache: dict = {}
        assert render_dockerfile(first, "a", cache) == render_dockerfile(first, "a")
        assert render_dockerfile(second, "a", cache) == render_dockerfile(second, "a")
    assert "EXPOSE 80.0\n" in render_dockerfile(edited, "a", {})[0]
    assert "EXPOSE 80\n" in render_dockerfile(whole, "a", {})[0]


def test_the_cache_keeps_at_most_its_size(monkeypatch):
    """An estate of all-different workloads does not keep every rendering: the oldest goes first."""
    import migrate.generate.dockerfile as dockerfile

    monkeypatch.setattr(dockerfile, "CACHE_ENTRIES", 2)
    workloads = [typed_workload({"name": f"w{port}", "container": {"ports": [port]}}) for port in (80, 81, 82, 80)]
    cache: dict = {}
    for w in workloads:
        assert render_dockerfile(w, w.name, cache) == render_dockerfile(w, w.name)
        assert len(cache) <= 2
    assert [key[0].ports for key in cache] == [(82,), (80,)]


def test_exec_form_lines_are_json_dumps():
    """The Dockerfile's exec-form lists are written as json.dumps writes them, for any string."""
    import json
    import random

    from migrate.generate.dockerfile import _exec_form

    rng = random.Random(16)
    alphabet = 'aZ09 \\/"\'`$\t\n\x00\x7f\u00e9\u2018\u4e2d\U0001f600\ud800'
    for _ in range(300):
        items = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(6))) for _ in range(rng.randrange(5))]
        assert _exec_form(items) == json.dumps(items), items
