"""The reader owes real PowerShell output its tolerances (README, "Collecting an inventory")."""

from __future__ import annotations

import codecs
import json

import pytest

from conftest import DATA, guest, inventory, vm, write_json
from migrate.core.errors import InputError
from migrate.inventory import read_estate


def _bytes(document: dict) -> bytes:
    return json.dumps(document).encode("utf-8")


@pytest.mark.parametrize("encode", [
    lambda text: text.encode("utf-8"),
    lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    lambda text: text.encode("utf-16-le"),  # BOM-less, as some tools write it
], ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le-nobom"])
def test_encodings(tmp_path, encode):
    text = json.dumps(inventory(vm("WEB01", tags={"app": "shop"}, Notes="caf\u00e9")))
    path = tmp_path / "inv.json"
    path.write_bytes(encode(text))
    estate = read_estate([path])
    assert [v.name for v in estate.vms] == ["WEB01"]
    assert estate.vms[0].notes == "caf\u00e9"


def test_bare_objects_integer_enums_and_ms_dates(tmp_path):
    # ConvertTo-Json writes one-element arrays as bare objects, enums as integers.
    document = {
        "schema": "hyperdock/inventory@1",
        "collectedAt": "/Date(1763632800000)/",
        "hosts": {"ComputerName": "HV01", "vms": {
            "Name": "WEB01", "VMId": "ABC-1", "State": 3,
            "NetworkAdapters": {"Name": "nic", "IPAddresses": "10.0.0.5"},
            "HardDrives": {"Path": "C:\\a.vhdx", "VhdType": 3},
            "Guest": guest(Listeners={"LocalAddress": "0.0.0.0", "LocalPort": 80, "ProcessName": "System"},
                           AppPools={"Name": "P", "IdentityType": 3, "UserName": "CORP\\svc"}),
        }},
    }
    estate = read_estate([write_json(tmp_path / "inv.json", document)])
    (web,) = estate.vms
    assert web.state == "Off"
    assert web.vm_id == "abc-1"  # GUIDs compare case-insensitively
    assert web.ip_addresses() == ["10.0.0.5"]
    assert web.hard_drives[0].vhd_type == "Dynamic"
    assert web.guest.listeners[0].local_port == 80
    assert web.guest.app_pools[0].identity_type == "SpecificUser"


def test_real_get_windowsfeature_objects_keep_only_installed(tmp_path):
    features = json.loads((DATA / "windows-features.json").read_text(encoding="utf-8"))
    document = inventory(vm("WEB01", guest_data=guest(Features=features)))
    (web,) = read_estate([write_json(tmp_path / "inv.json", document)]).vms
    assert "Web-Server" in web.guest.features
    assert "Web-Asp-Net45" in web.guest.features
    assert "AD-Certificate" not in web.guest.features  # present in the file, Installed: false
    assert len(web.guest.features) == sum(1 for f in features if f["Installed"])


def test_yaml_and_case_insensitive_properties(tmp_path):
    path = tmp_path / "inv.yaml"
    path.write_text(
        "schema: hyperdock/inventory@1\n"
        "collectedAt: 2026-11-20T10:00:00Z\n"
        "hosts:\n"
        "  - computername: HV01\n"
        "    VMs:\n"
        "      - name: APP01\n"
        "        vmid: 11111111-1111-1111-1111-111111111111\n"
        "        state: running\n"
        "        notes: 'app=billing; env=dev'\n"
        "        tags: {criticality: high, ospin: ltsc2022}\n", encoding="utf-8")
    (app,) = read_estate([path]).vms
    assert app.state == "Running"
    assert app.tags == {"app": "billing", "env": "dev", "criticality": "high", "osPin": "ltsc2022"}


def test_tags_override_notes(tmp_path):
    document = inventory(vm("A", tags={"env": "prod"}, Notes="env=dev; app=x"))
    (a,) = read_estate([write_json(tmp_path / "i.json", document)]).vms
    assert a.tags == {"env": "prod", "app": "x"}


def test_unknown_properties_are_ignored(tmp_path):
    document = inventory(vm("A", Uptime="1.02:03:04", Path="C:\\VMs", guest_data=guest(Extra={"x": 1})))
    document["hosts"][0]["Whatever"] = [1, 2]
    (a,) = read_estate([write_json(tmp_path / "i.json", document)]).vms
    assert a.name == "A"


def test_missing_guest_sections_are_not_errors(tmp_path):
    document = inventory(vm("A", guest_data={"OSName": "Windows Server 2019 Standard"}))
    (a,) = read_estate([write_json(tmp_path / "i.json", document)]).vms
    assert a.guest.services is None
    assert "Services" in a.guest.missing_sections()


def test_several_files_merge(tmp_path):
    one = write_json(tmp_path / "one.json", inventory(vm("A"), host="HV01"))
    two = write_json(tmp_path / "two.json", inventory(vm("B"), host="HV02"))
    estate = read_estate([one, two])
    assert sorted((v.name, v.host) for v in estate.vms) == [("A", "HV01"), ("B", "HV02")]
    assert estate.sources == [str(one), str(two)]


def test_duplicate_vmid_keeps_latest_collection(tmp_path):
    old = inventory(vm("A", State="Off"), host="HV01")
    old["collectedAt"] = "2026-11-01T00:00:00Z"
    new = inventory(vm("A"), host="HV02")
    estate = read_estate([write_json(tmp_path / "old.json", old), write_json(tmp_path / "new.json", new)])
    (a,) = estate.vms
    assert a.host == "HV02"
    assert len(estate.merge_notes) == 1 and "appears twice" in estate.merge_notes[0][1]


def test_real_get_vm_output_with_integer_states_and_duplicate_names(tmp_path):
    """Centreon's Get-VM JSON (Windows Server 2022): integer `state`, one name twice."""
    rows = json.loads((DATA / "nodeintegrationservice-2022-1.json").read_text(encoding="utf-8"))
    vms = [{"Name": r["name"], "VMId": f"{i:08d}-0000-0000-0000-000000000000", "State": r["state"], "Notes": r["note"]}
           for i, r in enumerate(rows)]
    estate = read_estate([write_json(tmp_path / "i.json", inventory(*vms))])
    names = [v.name for v in estate.vms]
    assert len(names) == len(rows) and len(set(names)) == len(rows) - 1
    assert {v.state for v in estate.vms} <= {"Running", "Off"}


def test_unknown_enum_is_an_error(tmp_path):
    with pytest.raises(InputError) as err:
        read_estate([write_json(tmp_path / "i.json", inventory(vm("A", State=77)))])
    assert err.value.field == "hosts[0].vms[0].State"
    assert "unknown value 77" in str(err.value)


def test_dvd_drives_and_iso_images_are_not_disks(tmp_path):
    disks = [{"Path": "D:\\VMs\\A\\os.vhdx"}, {"Path": "D:\\ISO\\SW_DVD9_Win_Server_2019.ISO"},
             {"Path": "", "DvdMediaType": "None", "ControllerType": "SCSI"},
             {"Path": "E:\\VMs\\A\\data.vhdx"}, {"Path": "", "DiskNumber": 3}]  # the last: a passthrough disk
    (a,) = read_estate([write_json(tmp_path / "inv.json", inventory(vm("A", HardDrives=disks)))]).vms
    assert [d.path for d in a.hard_drives] == ["D:\\VMs\\A\\os.vhdx", "E:\\VMs\\A\\data.vhdx", ""]


def test_collector_additions_are_read(tmp_path):
    """What collector 1.1 adds: how the guest was read, IIS native modules, driver providers, task triggers."""
    data = guest(CollectedVia="WinRM", IISModules=[{"Name": "RewriteModule", "Image": "%SystemRoot%\\system32\\inetsrv\\rewrite.dll"}],
                 Drivers=[{"Name": "hasplms", "ServiceType": "Kernel Driver", "Provider": "Thales"}],
                 ScheduledTasks=[{"TaskName": "Nightly", "Execute": "C:\\apps\\n.exe", "Triggers": [
                     {"Type": "Weekly", "StartBoundary": "2024-01-01T02:00:00", "WeeksInterval": 1, "DaysOfWeek": ["Monday", "Friday"]}]}])
    (a,) = read_estate([write_json(tmp_path / "inv.json", inventory(vm("A", guest_data=data)))]).vms
    assert a.guest.collected_via == "WinRM"
    assert [(m.name, m.image) for m in a.guest.iis_modules] == [("RewriteModule", "%SystemRoot%\\system32\\inetsrv\\rewrite.dll")]
    assert a.guest.drivers[0].name == "hasplms"
    assert a.guest.scheduled_tasks[0].triggers[0].days_of_week == ["Monday", "Friday"]
