"""Dependencies from guests and from Azure Migrate's export aggregate into weighted edges."""

from __future__ import annotations

import pytest

from conftest import DATA, guest, inventory, vm, write_json
from migrate.dependencies import Resolver, edges_from_guests, read_dependency_csv
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
    assert read_dependency_csv(path, Resolver(estate.vms), edges) == 4
    edge = edges[(ids["APP"], ids["DB"])]
    assert edge.connections == 3 and edge.ports == {1433}
    assert edge.processes == {"app.exe", "sqlservr.exe"}
    assert (ids["APP"], "external:203.0.113.9") in edges


def test_real_sample_export_without_source_ip(tmp_path):
    estate = estate_of(tmp_path, vm("app1-server", ip="10.0.0.1"), vm("app2-server", ip="10.0.0.2"))
    edges: dict = {}
    rows = read_dependency_csv(DATA / "dependency-export-sample.csv", Resolver(estate.vms), edges)
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
    assert read_dependency_csv(path, Resolver(estate.vms), edges) == 1
    ids = {v.name: v.vm_id for v in estate.vms}
    assert list(edges) == [(ids["A"], ids["B"])]
