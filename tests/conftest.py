"""Builders for inventories written in the test itself, independent of examples/."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
GIB = 1024 ** 3


def vm_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hyperdock-test/{name}"))


def guest(**overrides) -> dict:
    """A plain, containerizable Windows Server 2022 guest with one HTTP listener."""
    base = {
        "OSName": "Windows Server 2022 Datacenter",
        "OSVersion": "10.0.20348",
        "PartOfDomain": True,
        "Features": ["NET-Framework-45-Core"],
        "Services": [],
        "Drivers": [],
        "Software": [],
        "DotNetFrameworkRelease": 528040,
        "DotNetRuntimes": [],
        "IISSites": [],
        "AppPools": [],
        "Listeners": [{"LocalAddress": "0.0.0.0", "LocalPort": 8080, "ProcessName": "app"}],
        "Connections": [],
        "ConnectionStrings": [],
        "ScheduledTasks": [],
    }
    base.update(overrides)
    return base


def vm(name: str, ip: str | None = None, tags: dict | None = None, guest_data: dict | None | bool = True, **extra) -> dict:
    record = {
        "Name": name,
        "VMId": vm_id(name),
        "Generation": 2,
        "State": "Running",
        "ProcessorCount": 2,
        "MemoryStartup": 4 * GIB,
        "Tags": tags or {},
        "NetworkAdapters": [{"Name": "nic", "SwitchName": "ext", "IPAddresses": [ip] if ip else []}],
        "HardDrives": [{"Path": f"C:\\VMs\\{name}.vhdx", "VhdType": "Dynamic", "Size": 100 * GIB}],
    }
    if guest_data is True:
        guest_data = guest()
    if isinstance(guest_data, dict):
        record["Guest"] = {"FullyQualifiedDomainName": f"{name.lower()}.corp.local", **guest_data}
    record.update(extra)
    return record


def inventory(*vms: dict, host: str = "HV01", host_version: str = "10.0.20348") -> dict:
    return {
        "schema": "hyperdock/inventory@1",
        "collectedAt": "2026-11-20T10:00:00Z",
        "hosts": [{"ComputerName": host, "OSVersion": host_version, "LogicalProcessorCount": 32,
                   "MemoryCapacity": 256 * GIB, "vms": list(vms)}],
    }


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run `python -m migrate` as a user would, capturing output."""
    return subprocess.run([sys.executable, "-m", "migrate", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def write_inventory(tmp_path):
    def write(*vms: dict, name: str = "inventory.json", **kwargs) -> Path:
        return write_json(tmp_path / name, inventory(*vms, **kwargs))
    return write
