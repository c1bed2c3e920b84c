"""The inventory reader's fast path reads a clean record to exactly the VM the full reader makes,
and hands every other record to the full reader (so every message stays the full reader's)."""

from __future__ import annotations

import copy
import random
from pathlib import Path

import pytest

from conftest import DATA, guest, vm
from migrate.core.documents import load_document
from migrate.core.errors import InputError
from migrate.inventory import _vm, read_estate
from migrate.inventory_fast import FastReader
from migrate.model import Host
from migrate.tolerant import Record

ROOT = Path(__file__).resolve().parent.parent
HOST = Host(name="HV01", cluster="C1")


def fast_reader() -> FastReader:
    import migrate.inventory as inv

    return FastReader(vm_states=inv.VM_STATES, vhd_types=inv.VHD_TYPES, identities=inv.APP_POOL_IDENTITIES,
                      start_modes=inv.START_MODES, service_states=inv.SERVICE_STATES,
                      max_processors=inv.MAX_PROCESSORS, note_pair=inv._NOTE_PAIR, tag_keys=inv._TAG_KEYS)


def full(record: dict):
    """The full reader's VM for `record`, or the InputError it raises."""
    try:
        return _vm(Record(record, "inv.json", "hosts[0].vms[0]"), HOST)
    except InputError as exc:
        return exc


def rich_vm() -> dict:
    """A VM using every property the readers look at."""
    record = vm("WEB01", ip="10.0.0.5", tags={"app": "shop", "env": "prod"}, guest_data=guest(
        FullyQualifiedDomainName="web01.corp.local", DotNetFrameworkRelease=528040, DotNetRuntimes=["8.0.1"],
        Features=["Web-Server", "web-asp-net45", "NET-Framework-45-Core"], CollectedVia="WinRM",
        Services=[{"Name": "App", "DisplayName": "App", "StartMode": "Auto", "State": "Running",
                   "PathName": "\"D:\\app\\app.exe\"", "StartName": "CORP\\svc"}],
        Drivers=[{"Name": "vmbus", "PathName": "x.sys", "ServiceType": "Kernel Driver", "State": "Running"}],
        Software=[{"DisplayName": "App", "DisplayVersion": "1.0", "Publisher": "Contoso"}],
        IISSites=[{"Name": "Shop", "Bindings": ["http/*:80:", "https/*:443:shop"], "PhysicalPath": "D:\\shop",
                   "ApplicationPool": "Shop", "WindowsAuthentication": True,
                   "Applications": [{"Path": "/api", "PhysicalPath": "D:\\api", "ApplicationPool": "Shop"}]}],
        AppPools=[{"Name": "Shop", "ManagedRuntimeVersion": "v4.0", "Enable32BitAppOnWin64": False,
                   "IdentityType": "SpecificUser", "UserName": "CORP\\shop"}],
        IISModules=[{"Name": "Rewrite", "Image": "rewrite.dll"}],
        Listeners=[{"LocalAddress": "0.0.0.0", "LocalPort": 443, "ProcessName": "System"}],
        Connections=[{"RemoteAddress": "10.0.0.9", "RemotePort": 1433, "ProcessName": "w3wp"}],
        ConnectionStrings=[{"File": "D:\\shop\\web.config", "Name": "Db", "Provider": "System.Data.SqlClient"}],
        ScheduledTasks=[{"TaskName": "Nightly", "Execute": "D:\\job.exe", "RunAs": "CORP\\job"}],
    ), Notes="owner=ops; criticality=high", MemoryAssigned=4 << 30, DynamicMemoryEnabled=True,
        CollectionErrors=["guest: timeout"])
    record["HardDrives"] = [{"Path": "D:\\VMs\\web01.vhdx", "VhdType": "Dynamic", "Size": 1 << 36, "FileSize": 1 << 30},
                            {"Path": "D:\\iso\\setup.ISO"}, {"DvdMediaType": 1}]
    record["NetworkAdapters"][0].update(SwitchName="LAN", MacAddress="00155D000001", VlanId=12)
    return record


def records_in(path: Path) -> list[dict]:
    document = load_document(path)
    listed = lambda value: value if isinstance(value, list) else [value] if value else []  # noqa: E731
    return [v for host in listed(document["hosts"]) for v in listed(host.get("vms"))]


@pytest.mark.parametrize("path", [DATA / "windows-estate.json", ROOT / "examples/estate/hv01.yaml",
                                  ROOT / "examples/estate/hv02.json"], ids=lambda p: p.name)
def test_real_inventories_read_the_same(path):
    reader = fast_reader()
    for record in records_in(path):
        fast = reader.vm(record, HOST, "inv.json")
        assert fast is None or fast == full(record)


def test_a_clean_record_takes_the_fast_path_to_the_same_vm():
    record = rich_vm()
    fast = fast_reader().vm(record, HOST, "inv.json")
    assert fast is not None and fast == full(record)
    assert [d.path for d in fast.hard_drives] == ["D:\\VMs\\web01.vhdx"]  # the optical drives left out


ODD_VALUES = [None, "", " ", "nan", "x\ud800", "Ünïcode", 0, -1, 1, 2, 3, 70000, 2 ** 60, 1.0, 2.5, float("nan"), True,
              False, "true", "2", "Auto", "running", "Dynamic", "SpecificUser", [], ["a"], [1], {}, {"Name": "x"},
              "http/*:99999:", "http/*:80:", "RUNNING", ["a", None], [None], {"app": None}, {"x": 1}]


def _paths(value, path=()):
    """Every (path to a value) in a record, objects and lists included."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, path + (i,))


def _set(record, path, value):
    target = record
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


@pytest.mark.parametrize("seed", range(4))
def test_any_unusual_value_is_left_to_the_full_reader(seed):
    """Each property of a rich record replaced by odd values, renamed in another case, or dropped:
    the fast path returns the full reader's VM or nothing; never a VM the full reader refuses."""
    rnd = random.Random(seed)
    reader = fast_reader()
    base = rich_vm()
    paths = [p for p in _paths(base) if p]
    differs = refused = 0
    for path in rnd.sample(paths, min(len(paths), 60)):
        for value in rnd.sample(ODD_VALUES, 8) + ["rename", "drop"]:
            record = copy.deepcopy(base)
            if value == "rename" and isinstance(path[-1], str):
                parent = record
                for step in path[:-1]:
                    parent = parent[step]
                parent[path[-1].upper() if path[-1] != path[-1].upper() else path[-1].lower()] = parent.pop(path[-1])
            elif value == "drop" and isinstance(path[-1], str):
                parent = record
                for step in path[:-1]:
                    parent = parent[step]
                del parent[path[-1]]
            elif value not in ("rename", "drop"):
                _set(record, path, copy.deepcopy(value))
            expected = full(record)
            fast = reader.vm(record, HOST, "inv.json")
            if isinstance(expected, InputError):
                refused += 1
                assert fast is None, (path, value, str(expected))
            else:
                differs += fast is None
                assert fast is None or fast == expected, (path, value)
    assert refused and differs  # the mutations did reach both kinds of record


def test_messages_come_from_the_full_reader(tmp_path):
    """A refused record still gets the full reader's one-line message naming file and field."""
    import json

    record = rich_vm()
    record["Guest"]["Listeners"][0]["LocalPort"] = 70000
    path = tmp_path / "inv.json"
    path.write_text(json.dumps({"schema": "hyperdock/inventory@1", "hosts": [{"ComputerName": "HV01", "vms": [record]}]}),
                    encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_estate([path])
    assert str(caught.value) == str(full(record)).replace("inv.json", str(path))
    assert "Guest.Listeners[0].LocalPort" in str(caught.value) and "70000" in str(caught.value)


def test_every_value_lands_in_its_own_field():
    """Each text and number of a rich record made distinct (where the full reader accepts that):
    the fast path, which builds the model positionally, still puts each one where the full reader does."""
    record = rich_vm()
    for i, path in enumerate(p for p in _paths(record) if p):
        parent = record
        for step in path[:-1]:
            parent = parent[step]
        old = parent[path[-1]]
        if type(old) is str or type(old) is int:
            parent[path[-1]] = f"v{i}" if type(old) is str else old + i
            if isinstance(full(record), InputError):
                parent[path[-1]] = old
    fast = fast_reader().vm(record, HOST, "inv.json")
    assert fast is not None and fast == full(record)
    texts = [v for p in _paths(record) if p for v in [_get(record, p)] if type(v) is str and v.startswith("v")]
    assert len(texts) > 30  # most fields did get a value of their own


def _get(record, path):
    for step in path:
        record = record[step]
    return record
