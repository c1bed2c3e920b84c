"""`hyperdock discover azure`: Azure VMs (which run on Hyper-V) into `hyperdock/inventory@1`.

azure-identity's DefaultAzureCredential (environment, managed identity, Azure CLI, …) and
azure-mgmt-compute/-network: VMs across pages, size → vCPUs and memory from resource SKUs, OS and
power state from the instance view, NIC IPs, tags. With `guest=True` a read-only PowerShell
script, the collector's own guest probe, runs in each Windows VM through Run Command, a few at a
time; a VM whose Run Command fails keeps its other data and records why (`CollectionErrors`).

Throttling (429 with Retry-After) and network failures are retried by azure-core's retry policy;
a 401/403 stops the run with one line naming the role that is missing.
"""

from __future__ import annotations

import ipaddress
import json
import re
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.compute.models import RunCommandInput
from azure.mgmt.network import NetworkManagementClient

from .core.errors import InputError
from .inventory import SCHEMA_ID

GIB = 1024 ** 3
READ_ROLE = "Reader on the subscription (Microsoft.Compute/virtualMachines/read, Microsoft.Network/networkInterfaces/read)"
RUN_ROLE = "Virtual Machine Contributor (Microsoft.Compute/virtualMachines/runCommand/action)"
_SUBSCRIPTION = re.compile(r"[0-9a-fA-F-]{36}")
_RESOURCE = re.compile(r"/resourceGroups/([^/]+)/providers/[^/]+/[^/]+/([^/]+)", re.IGNORECASE)
POWER_STATES = {"running": "Running", "deallocated": "Off", "stopped": "Off", "starting": "Starting",
                "stopping": "Stopping", "deallocating": "Stopping"}


def default_credential():
    """DefaultAzureCredential without the interactive browser: discovery runs unattended."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


def guest_probe_script() -> list[str]:
    """The collector's guest probe (between its markers), printing the Guest section as JSON."""
    text = resources.files("migrate").joinpath("collect", "Get-HyperdockInventory.ps1").read_text(encoding="utf-8")
    body = text.split("# >>> guest probe", 1)[1].split("# <<< guest probe", 1)[0]
    # -Compress: Run Command returns at most 4 KB of output.
    return ["$guest = & {", *body.strip("\n").splitlines(), "}", "$guest | ConvertTo-Json -Depth 6 -Compress"]


def discover_azure(subscription: str, credential, *, resource_group: str | None = None, guest: bool = False,
                   concurrency: int = 4, progress=None, **client_options) -> dict:
    """Return the inventory of the subscription's (or resource group's) VMs.

    `client_options` go to both management clients (base_url, retry settings, policies).
    """
    if not _SUBSCRIPTION.fullmatch(subscription):
        raise InputError("--subscription", f"expected a subscription ID (a GUID), got {subscription!r}")
    say = progress or (lambda message: print(f"hyperdock: {message}", file=sys.stderr, flush=True))
    compute = ComputeManagementClient(credential, subscription, **client_options)
    network = NetworkManagementClient(credential, subscription, **client_options)
    with _azure_errors("list virtual machines", READ_ROLE):
        pages = compute.virtual_machines.list(resource_group) if resource_group else compute.virtual_machines.list_all()
        machines = list(pages)
    say(f"found {len(machines)} VMs in subscription {subscription}" + (f", resource group {resource_group}" if resource_group else ""))
    sizes: dict[str, dict[str, tuple[int, float]]] = {}
    for location in sorted({_region(m.location) for m in machines}):
        sizes[location] = _sizes(compute, location)

    def read(machine) -> dict:
        return _vm(compute, network, machine, sizes.get(_region(machine.location), {}))

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        vms = list(pool.map(read, machines))
    if guest:
        windows = [(m, v) for m, v in zip(machines, vms) if v.get("_os_type") == "Windows" and v.get("State") == "Running"]
        done = 0

        def probe(pair) -> None:
            nonlocal done
            machine, vm = pair
            _probe_guest(compute, machine, vm)
            done += 1
            say(f"read guest {done}/{len(windows)}: {machine.name}")

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(probe, windows))
    hosts: dict[str, list[dict]] = {}
    for machine, vm in zip(machines, vms):
        vm.pop("_os_type", None)
        hosts.setdefault(f"azure-{_region(machine.location)}", []).append(vm)
    return {"schema": SCHEMA_ID, "source": "hyperdock discover azure",
            "hosts": [{"ComputerName": name, "vms": sorted(vms, key=lambda v: v["Name"].lower())} for name, vms in sorted(hosts.items())]}


class _azure_errors:
    """Turn authorization and network failures into one line naming what to fix."""

    def __init__(self, operation: str, role: str):
        self.operation, self.role = operation, role

    def __enter__(self):
        return self

    def __exit__(self, kind, error, _traceback):
        if error is None:
            return False
        if isinstance(error, ClientAuthenticationError) or (
                isinstance(error, HttpResponseError) and getattr(error, "status_code", None) in (401, 403)):
            code = getattr(getattr(error, "error", None), "code", None) or getattr(error, "status_code", "")
            raise InputError("azure", f"not allowed to {self.operation} ({code}): grant {self.role}") from None
        if isinstance(error, (ServiceRequestError, ServiceResponseError)):
            raise InputError("azure", f"network failure while trying to {self.operation}, after retries: {error.message}") from None
        if isinstance(error, HttpResponseError):
            raise InputError("azure", f"could not {self.operation}: HTTP {error.status_code} {error.reason}") from None
        return False


def _sizes(compute: ComputeManagementClient, location: str) -> dict[str, tuple[int, float]]:
    """Return {size name: (vCPUs, memory GB)} for a region, from the resource SKUs."""
    result = {}
    with _azure_errors("list resource SKUs", READ_ROLE):
        for sku in compute.resource_skus.list(filter=f"location eq '{location}'"):
            if sku.resource_type != "virtualMachines":
                continue
            capabilities = {c.name: c.value for c in sku.capabilities or []}
            try:
                result[sku.name] = (int(capabilities["vCPUs"]), float(capabilities["MemoryGB"]))
            except (KeyError, ValueError):
                continue
    return result


def _region(location: str) -> str:
    """ARM region name ("West US" and "westus" are the same region)."""
    return (location or "").replace(" ", "").lower()


def _parts(resource_id: str) -> tuple[str, str]:
    match = _RESOURCE.search(resource_id or "")
    if not match:
        raise InputError("azure", f"unexpected resource ID {resource_id!r}")
    return match.group(1), match.group(2)


def _vm(compute, network, machine, sizes: dict[str, tuple[int, float]]) -> dict:
    group, _ = _parts(machine.id)
    size = str(getattr(machine.hardware_profile.vm_size, "value", machine.hardware_profile.vm_size) or "") \
        if machine.hardware_profile else ""
    cpus, memory = sizes.get(size, (None, None))
    storage = machine.storage_profile
    os_type = str(storage.os_disk.os_type) if storage and storage.os_disk and storage.os_disk.os_type else ""
    vm: dict[str, Any] = {
        "Name": machine.name,
        "VMId": machine.vm_id if machine.vm_id and not machine.vm_id.startswith("{") else
        str(uuid.uuid5(uuid.NAMESPACE_URL, machine.id.lower())),
        "ProcessorCount": cpus,
        "MemoryStartup": int(memory * GIB) if memory else None,
        "Tags": dict(machine.tags or {}),
        "Notes": f"Azure size {size}",
        "HardDrives": [{"Path": d.name or ""} for d in ([storage.os_disk] if storage and storage.os_disk else [])
                       + list(storage.data_disks or [] if storage else [])],
        "NetworkAdapters": [],
        "CollectionErrors": [],
        "_os_type": "Windows" if os_type.lower().endswith("windows") else "Linux" if os_type else "",
    }
    guest: dict[str, Any] = {"OSName": _os_from_image(storage, vm["_os_type"])}
    try:
        view = compute.virtual_machines.instance_view(group, machine.name)
        states = [s.code for s in view.statuses or [] if s.code and s.code.startswith("PowerState/")]
        vm["State"] = POWER_STATES.get(states[0].split("/", 1)[1], "Other") if states else None
        guest["OSName"] = view.os_name or guest["OSName"]
        version = re.search(r"(\d+\.\d+\.\d+)", view.os_version or "")
        guest["OSVersion"] = version.group(1) if version else ""
        guest["FullyQualifiedDomainName"] = view.computer_name or ""
        vm["Generation"] = 2 if str(view.hyper_v_generation or "").upper() == "V2" else 1 if view.hyper_v_generation else None
    except HttpResponseError as error:
        vm["CollectionErrors"].append(f"instance view unavailable: HTTP {error.status_code}")
    for reference in (machine.network_profile.network_interfaces or []) if machine.network_profile else []:
        nic_group, nic_name = _parts(reference.id)
        try:
            nic = network.network_interfaces.get(nic_group, nic_name)
            ips = [c.private_ip_address for c in nic.ip_configurations or [] if _is_ip(c.private_ip_address)]
            vm["NetworkAdapters"].append({"Name": nic.name, "MacAddress": (nic.mac_address or "").replace("-", ""),
                                          "IPAddresses": ips})
        except HttpResponseError as error:
            vm["CollectionErrors"].append(f"network interface {nic_name} unavailable: HTTP {error.status_code}")
    vm["Guest"] = guest
    return {k: v for k, v in vm.items() if v not in (None, [])}


def _is_ip(value: str | None) -> bool:
    try:
        ipaddress.ip_address(value or "")
    except ValueError:
        return False
    return True


def _os_from_image(storage, os_type: str) -> str:
    reference = storage.image_reference if storage else None
    sku = (reference.sku or "") if reference else ""
    match = re.match(r"^(\d{4})-([A-Za-z]+)", sku)
    if reference and (reference.offer or "").lower() == "windowsserver" and match:
        return f"Windows Server {match.group(1)} {match.group(2).capitalize()}"
    return "Windows" if os_type == "Windows" else "Linux" if os_type == "Linux" else ""


def _probe_guest(compute, machine, vm: dict) -> None:
    group, _ = _parts(machine.id)
    try:
        poller = compute.virtual_machines.begin_run_command(
            group, machine.name, RunCommandInput(command_id="RunPowerShellScript", script=guest_probe_script()))
        result = poller.result()
        output = "".join(s.message or "" for s in result.value or [] if (s.code or "").startswith("ComponentStatus/StdOut"))
        data = json.loads(output)
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except HttpResponseError as error:
        reason = f"grant {RUN_ROLE}" if error.status_code in (401, 403) else f"HTTP {error.status_code} {error.reason}"
        vm.setdefault("CollectionErrors", []).append(f"Run Command failed: {reason}")
        return
    except ValueError:
        vm.setdefault("CollectionErrors", []).append("Run Command output was not the guest's JSON (over Run Command's 4 KB?)")
        return
    vm["Guest"] = {**vm.get("Guest", {}), **data, "CollectedVia": "RunCommand"}
