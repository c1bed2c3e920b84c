"""Dependencies from guests and from Azure Migrate's export aggregate into weighted edges."""

from __future__ import annotations

import json

import pytest

from conftest import DATA, guest, inventory, vm, write_json
from migrate.dependencies import Resolver, edges_from_guests, read_dependency_csv
from migrate.core.errors import InputError
from migrate.inventory import read_estate

HEADER = ("Timeslot,Source server name,Source IP,Source application,Source process,Destination server name,"
          "Destination IP,Destination application,Destination process,Destination port\n")


def estate_of(tmp_path, *vms):
    return read_estate([write_json(tmp_path / "inv.json", inventory(*vms))])


def test_guest_connections_resolve_by_adapter_ip(tmp_path):
    web = vm("WEB", ip="10.0.0.1", guest_data=guest(Connections=[
        {"RemoteAddress": "10.0.0.2", "RemotePort": 1433, "ProcessName": "w3wp"},
        {"RemoteAddress": "10.0.0.2", "RemotePort": 1433, "ProcessName": "w3wp"},
        {"RemoteAddress": "10.0.0.2", "RemotePort": 1434, "ProcessName": "other"},
        {"RemoteAddress": "8.8.8.8", "RemotePort": 53, "ProcessName": "dns"},
    ]))
    db = vm("DB", ip="10.0.0.2")
    estate = estate_of(tmp_path, web, db)
    ids = {v.name: v.vm_id for v in estate.vms}
    edges = edges_from_guests(estate.vms, Resolver(estate.vms))
    internal = edges[(ids["WEB"], ids["DB"])]
    assert internal.connections == 3
    assert internal.ports == {1433, 1434}
    assert internal.processes == {"w3wp", "other"}
    assert (ids["WEB"], "external:8.8.8.8") in edges


def test_csv_rows_collapse_across_time_slots(tmp_path):
    estate = estate_of(tmp_path, vm("APP", ip="10.0.0.1", guest_data=guest(FullyQualifiedDomainName="app.corp.local")),
                       vm("DB", ip="10.0.0.2"))
    ids = {v.name: v.vm_id for v in estate.vms}
    rows = [
        "2026-01-01 00:00,app.corp.local,10.0.0.1,,app.exe,db,10.0.0.2,,sqlservr.exe,1433",
        "2026-01-01 06:00,APP,10.0.0.1,,app.exe,db,10.0.0.2,,sqlservr.exe,1433",
        "2026-01-01 12:00,app,10.0.0.1,,app.exe,unknown-name,10.0.0.2,,sqlservr.exe,1433",  # resolves by IP
        "2026-01-01 12:00,app,10.0.0.1,,app.exe,partner.example.com,203.0.113.9,,,443",
    ]
    path = tmp_path / "deps.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    edges: dict = {}
    assert read_dependency_csv(path, Resolver(estate.vms), edges).rows == 4
    edge = edges[(ids["APP"], ids["DB"])]
    assert edge.connections == 3 and edge.ports == {1433}
    assert edge.processes == {"app.exe", "sqlservr.exe"}
    assert (ids["APP"], "external:203.0.113.9") in edges


def test_real_sample_export_without_source_ip(tmp_path):
    estate = estate_of(tmp_path, vm("app1-server", ip="10.0.0.1"), vm("app2-server", ip="10.0.0.2"))
    edges: dict = {}
    rows = read_dependency_csv(DATA / "dependency-export-sample.csv", Resolver(estate.vms), edges).rows
    assert rows == 5
    ids = {v.name: v.vm_id for v in estate.vms}
    assert edges[(ids["app1-server"], ids["app2-server"])].ports == {443}
    # Servers not in the inventory become external nodes, not errors.
    assert any(target == "external:10.0.0.5" for _, target in edges)


def test_ambiguous_ip_does_not_resolve(tmp_path):
    estate = estate_of(tmp_path, vm("A", ip="10.0.0.9"), vm("B", ip="10.0.0.9"))
    assert Resolver(estate.vms).node("", "10.0.0.9") == "external:10.0.0.9"


@pytest.mark.parametrize("bom, encoding", [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"), (b"\xef\xbb\xbf", "utf-8")])
def test_csv_with_bom(tmp_path, bom, encoding):
    estate = estate_of(tmp_path, vm("A", ip="10.0.0.1"), vm("B", ip="10.0.0.2"))
    path = tmp_path / "deps.csv"
    path.write_bytes(bom + (HEADER + "t,A,,,,B,10.0.0.2,,,80\n").encode(encoding))
    edges: dict = {}
    assert read_dependency_csv(path, Resolver(estate.vms), edges).rows == 1
    ids = {v.name: v.vm_id for v in estate.vms}
    assert list(edges) == [(ids["A"], ids["B"])]


# Azure Migrate's export header as real files show it (Azure-Samples/azure-docs-powershell-samples, azure-migrate/dependencies-at-scale/AzMig_Dependencies.ps1).
PORTAL = ("Time slot,Source server name,Source IP,Source application,Source process,Destination server name,"
          "Destination IP,Destination application,Destination process,Destination port\n")


def three_vms(tmp_path):
    estate = estate_of(tmp_path, vm("WEB", ip="10.0.0.1"), vm("API", ip="10.0.0.2"), vm("DB", ip="10.0.0.3"))
    return estate, {v.name: v.vm_id for v in estate.vms}


def test_empty_source_names_resolve_by_source_ip(tmp_path):
    estate, ids = three_vms(tmp_path)
    path = tmp_path / "deps.csv"
    path.write_text(PORTAL + "\n".join([
        "12/15/2024 00:00-06:00,,10.0.0.1,,w3wp.exe,,10.0.0.3,,sqlservr.exe,1433",
        "12/15/2024 00:00-06:00,,10.0.0.2,,api.exe,DB,10.0.0.3,,sqlservr.exe,1433",
        "12/15/2024 06:00-12:00,,10.0.0.2,,api.exe,DB,10.0.0.3,,sqlservr.exe,1433",
    ]) + "\n", encoding="utf-8")
    edges: dict = {}
    read = read_dependency_csv(path, Resolver(estate.vms), edges)
    assert set(edges) == {(ids["WEB"], ids["DB"]), (ids["API"], ids["DB"])}
    assert edges[(ids["API"], ids["DB"])].connections == 2
    assert read.warning() is None


def test_export_csv_type_line_is_skipped(tmp_path):
    estate, ids = three_vms(tmp_path)
    path = tmp_path / "deps.csv"
    quoted = lambda line: ",".join(f'"{cell}"' for cell in line.split(","))  # noqa: E731  Export-Csv quotes every field
    path.write_text("#TYPE System.Management.Automation.PSCustomObject\n" + quoted(PORTAL.strip()) + "\n"
                    + quoted("12/15/2024 00:00-06:00,WEB,10.0.0.1,,w3wp.exe,API,10.0.0.2,,api.exe,443") + "\n",
                    encoding="utf-8-sig")
    edges: dict = {}
    assert read_dependency_csv(path, Resolver(estate.vms), edges).rows == 1
    assert list(edges) == [(ids["WEB"], ids["API"])]


def test_connection_count_column_means_the_same_as_repeated_rows(tmp_path):
    """A deduplicated export with a count weighs a pair as the portal export's repeated rows do."""
    estate, ids = three_vms(tmp_path)
    portal, deduplicated = tmp_path / "portal.csv", tmp_path / "dedup.csv"
    portal.write_text(PORTAL + "".join(f"12/{d}/2024 00:00-06:00,WEB,10.0.0.1,,,API,10.0.0.2,,,443\n" for d in (15, 16, 17)),
                      encoding="utf-8")
    deduplicated.write_text("Source server name,Source IP,Destination server name,Destination IP,Destination port,Connection Count\n"
                            "WEB,10.0.0.1,API,10.0.0.2,443,3\nWEB,10.0.0.1,DB,10.0.0.3,1433,\n", encoding="utf-8")
    counted = []
    for path in (portal, deduplicated):
        edges: dict = {}
        read_dependency_csv(path, Resolver(estate.vms), edges)
        counted.append(edges[(ids["WEB"], ids["API"])].connections)
    assert counted == [3, 3]
    edges = {}
    read_dependency_csv(deduplicated, Resolver(estate.vms), edges)
    assert edges[(ids["WEB"], ids["DB"])].connections == 1  # an empty count is one observation


def test_rows_that_cannot_be_placed_are_counted(tmp_path):
    estate, ids = three_vms(tmp_path)
    path = tmp_path / "deps.csv"
    path.write_text(PORTAL + "\n".join([
        "t1,WEB,10.0.0.1,,,API,10.0.0.2,,,443",
        "t1,,,,,API,10.0.0.2,,,443",              # no source name, no source IP
        "t2,,,,,API,10.0.0.2,,,443",
        "t1,WEB,10.0.0.1,,,,,,,443",              # no destination either way
        "t1,,192.0.2.50,,,API,10.0.0.2,,,443",    # a client outside the inventory
    ]) + "\n", encoding="utf-8")
    edges: dict = {}
    read = read_dependency_csv(path, Resolver(estate.vms), edges)
    assert (read.rows, read.no_key, read.outside) == (5, 3, 1)
    assert "4 of 5 rows could not be placed" in read.warning()
    assert not any(node.endswith(":unknown") for pair in edges for node in pair)


def test_unplaced_rows_are_warned_about_in_cli_plan_and_report(tmp_path):
    from conftest import run_cli

    inv = write_json(tmp_path / "inv.json", inventory(vm("WEB", ip="10.0.0.1"), vm("API", ip="10.0.0.2")))
    deps = tmp_path / "deps.csv"
    deps.write_text(PORTAL + "t1,WEB,10.0.0.1,,,API,10.0.0.2,,,443\nt1,,,,,API,10.0.0.2,,,443\n", encoding="utf-8")
    result = run_cli("assess", str(inv), "--dependencies", str(deps), "--out", str(tmp_path / "out"), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "hyperdock: warning:" in result.stderr and "1 of 2 rows could not be placed" in result.stderr
    plan = json.loads((tmp_path / "out" / "plan.json").read_text(encoding="utf-8"))
    assert plan["graph"]["warnings"] and "Connection Count" in plan["graph"]["connections"]
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "1 of 2 rows could not be placed" in report and "6-hour time slot" in report


def test_bad_connection_count_names_the_line(tmp_path):
    estate, _ = three_vms(tmp_path)
    path = tmp_path / "deps.csv"
    path.write_text("Source server name,Destination server name,Destination IP,Destination port,Connection Count\n"
                    "WEB,API,10.0.0.2,443,4\nWEB,API,10.0.0.2,443,many\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"deps.csv:3: Connection Count: expected a whole number"):
        read_dependency_csv(path, Resolver(estate.vms), {})


def _row_by_row(path, resolver):
    """The export's meaning spelled out one row at a time (Resolver.node for each end), to hold
    the column-wise reader to: edges as (connections, ports, processes), rows without a key, rows
    from outside."""
    import csv

    edges, no_key, outside = {}, 0, 0
    with path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            row = {k.lower(): v for k, v in row.items()}
            s, sip = row["source server name"].strip(), row.get("source ip", "").strip()
            d, ip = row["destination server name"], row["destination ip"]
            if not (s or sip) or not (d.strip() or ip.strip()):
                no_key += 1
                continue
            source, target = resolver.node(s, sip), resolver.node(d, ip)
            outside += source.startswith("external:")
            if source == target:
                continue
            connections, ports, processes = edges.get((source, target), (0, set(), set()))
            count = row.get("connection count", "").strip()
            ports.add(int(row["destination port"]))
            processes |= {p.strip() for p in (row["source process"], row["destination process"]) if p.strip()}
            edges[(source, target)] = (connections + (int(count) if count else 1), ports, processes)
    return edges, no_key, outside


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_column_wise_reading_means_what_each_row_says(tmp_path, seed):
    """Names in any case, with domains and blanks, IPs that resolve, are ambiguous or external,
    processes with spaces, a count column or none: the same edges and counts as row by row."""
    import random

    rnd = random.Random(seed)
    vms = [vm(f"VM{i}", ip=f"10.0.0.{i % 6}", guest_data=guest(FullyQualifiedDomainName=f"vm{i}.corp.local"))
           for i in range(8)]
    estate = estate_of(tmp_path, *vms)
    names = ["", " ", "vm1", "VM2.corp.local", " vm3 ", "vm4.other", "unknown", "vm1.corp.local", "ext.example.com",
             "Ext.Example.com ", "vm7"]
    ips = ["", " ", "10.0.0.1", "10.0.0.2 ", "10.0.0.7", "203.0.113.1", "10.0.0.3", "::1"]
    processes = ["", " ", "a.exe", " a.exe", "b.exe"]
    for trial in range(10):
        counted, source_ip = trial % 3 == 0, trial % 4 != 1
        header = (["Source server name"] + ["Source IP"] * source_ip + ["Source process", "Destination server name",
                  "Destination IP", "Destination process", "Destination port"] + ["Connection count"] * counted)
        lines = [",".join(header)]
        for _ in range(rnd.randint(1, 80)):
            cells = ([rnd.choice(names)] + [rnd.choice(ips)] * source_ip + [rnd.choice(processes), rnd.choice(names),
                     rnd.choice(ips), rnd.choice(processes), rnd.choice(["80", "443", " 8080"])]
                     + [rnd.choice(["", "1", "5", "0"])] * counted)
            lines.append(",".join(cells))
        path = tmp_path / f"deps{trial}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        resolver = Resolver(estate.vms)
        edges: dict = {}
        read = read_dependency_csv(path, resolver, edges)
        expected, no_key, outside = _row_by_row(path, resolver)
        assert {k: (e.connections, e.ports, e.processes) for k, e in edges.items()} == expected
        assert (read.rows, read.no_key, read.outside) == (len(lines) - 1, no_key, outside)
