"""Dependency exports read by a child process give what reading them in-process gives: the same
edges and counts, the same one-line errors at the same point, and no process left behind."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import guest, inventory, vm, write_json
from migrate import dependency_reader
from migrate.assess import Options, assess
from migrate.core.errors import InputError
from migrate.dependencies import Resolver, add_distinct_rows, read_dependency_csv
from migrate.dependency_reader import DependencyReader
from migrate.inventory import read_estate

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "estate"
HEADER = "Source server name,Source IP,Source process,Destination server name,Destination IP,Destination port,Connection count\n"


def _exports(tmp_path):
    """Two exports: names by FQDN and IP, an external partner, a count column with blanks."""
    first = tmp_path / "a.csv"
    first.write_text(HEADER + "app.corp.local,10.0.0.1,app.exe,db,10.0.0.2,1433,4\n"
                              "APP,10.0.0.1,app.exe,unknown,10.0.0.2,1433,\n"
                              "app,,,partner.example.com,203.0.113.9,443,2\n"
                              ",,,db,10.0.0.2,1433,1\n", encoding="utf-8")
    second = tmp_path / "b.csv"
    second.write_text(HEADER + "db,10.0.0.2,sqlservr.exe,app,10.0.0.1,8080,3\n"
                               "192.0.2.7,192.0.2.7,,app,10.0.0.1,8080,\n", encoding="utf-8")
    return [first, second]


def _resolver(tmp_path):
    estate = read_estate([write_json(tmp_path / "inv.json", inventory(
        vm("APP", ip="10.0.0.1", guest_data=guest(FullyQualifiedDomainName="app.corp.local")), vm("DB", ip="10.0.0.2")))])
    return Resolver(estate.vms)


def _ended(process) -> bool:
    """True when the child has exited and been reaped."""
    return process is not None and process.returncode is not None


def test_child_reads_the_same_edges_as_in_process(tmp_path):
    paths, resolver = _exports(tmp_path), _resolver(tmp_path)
    expected: dict = {}
    expected_reads = [read_dependency_csv(p, resolver, expected) for p in paths]
    edges: dict = {}
    with DependencyReader(paths, child_from_bytes=0) as exports:
        child = exports.process
        assert child is not None  # it did start one
        reads = [add_distinct_rows(rows, resolver, edges) for rows in exports]
        assert exports.process is child  # both exports came from it, none read in-process
    assert reads == expected_reads and [r.rows for r in reads] == [4, 2]
    assert list(edges) == list(expected)
    assert {k: (e.connections, e.ports, e.processes) for k, e in edges.items()} == \
           {k: (e.connections, e.ports, e.processes) for k, e in expected.items()}
    assert _ended(child) and child.returncode == 0


@pytest.mark.parametrize("threshold", [0, None])
def test_bad_second_export_raises_the_same_error_after_the_first(tmp_path, threshold):
    paths = _exports(tmp_path)
    paths[1].write_text(HEADER + "db,10.0.0.2,,app,10.0.0.1,8080,1\ndb,10.0.0.2,,app,10.0.0.1,http,1\n", encoding="utf-8")
    with pytest.raises(InputError) as in_process:
        read_dependency_csv(paths[1], _resolver(tmp_path), {})
    assert str(in_process.value) == f"{paths[1]}:3: Destination port 'http' is not a port number (1-65535)"
    reader = DependencyReader(paths, child_from_bytes=threshold if threshold is not None else 1 << 60)
    child = reader.process
    assert (child is not None) == (threshold == 0)
    with reader as exports:
        rows = iter(exports)
        assert next(rows).rows == 4
        with pytest.raises(InputError) as from_reader:
            next(rows)
    assert str(from_reader.value) == str(in_process.value)
    assert child is None or _ended(child)


def test_child_is_ended_when_the_inventory_fails_first(tmp_path):
    with pytest.raises(InputError, match="inventory.json"):
        with DependencyReader(_exports(tmp_path), child_from_bytes=0) as reader:
            child = reader.process
            raise InputError("inventory.json", "stands for a bad inventory read meanwhile")
    assert _ended(child)


def test_assess_plan_is_the_same_with_the_child(monkeypatch):
    inventories = [EXAMPLES / "hv01.yaml", EXAMPLES / "hv02.json"]
    csvs = [EXAMPLES / "dependencies.csv"]
    monkeypatch.setattr(dependency_reader, "CHILD_FROM_BYTES", None)
    in_process = assess(inventories, csvs, Options())
    monkeypatch.setattr(dependency_reader, "CHILD_FROM_BYTES", 0)
    assert assess(inventories, csvs, Options()) == in_process
    assert in_process["workloads"] and any(w.get("dependsOn") for w in in_process["workloads"])


def test_a_script_without_a_main_guard_gets_no_traceback_and_the_same_plan(tmp_path):
    # multiprocessing's spawn would run such a script again in the child; a plain child does not.
    script = tmp_path / "plan_it.py"
    script.write_text(textwrap.dedent(f"""
        import json
        from pathlib import Path
        from migrate import dependency_reader
        from migrate.assess import Options, assess
        inventories = [Path({str(EXAMPLES / "hv01.yaml")!r}), Path({str(EXAMPLES / "hv02.json")!r})]
        csvs = [Path({str(EXAMPLES / "dependencies.csv")!r})]
        dependency_reader.CHILD_FROM_BYTES = 0
        print(json.dumps(assess(inventories, csvs, Options()), sort_keys=True))
    """), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(EXAMPLES.parent.parent), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 0 and result.stderr == ""
    expected = assess([EXAMPLES / "hv01.yaml", EXAMPLES / "hv02.json"], [EXAMPLES / "dependencies.csv"], Options())
    assert json.loads(result.stdout) == json.loads(json.dumps(expected, sort_keys=True))
