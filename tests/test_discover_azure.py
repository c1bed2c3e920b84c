"""Azure discovery with the real azure-mgmt clients against a loopback ARM (no network beyond 127.0.0.1)."""

from __future__ import annotations

import re
import time

import pytest

from conftest import run_cli, write_json
from fake_arm import SUBSCRIPTION, FakeArm, FakeCredential
from migrate.assess import Options, assess
from migrate.discover_azure import discover_azure, guest_probe_script
from migrate.core.errors import InputError
from migrate.inventory import read_estate


def discover(arm: FakeArm, **kwargs) -> dict:
    messages: list[str] = []
    inventory = discover_azure(SUBSCRIPTION, FakeCredential(), progress=messages.append, **arm.client_options(), **kwargs)
    inventory["_messages"] = messages
    return inventory


def vms_of(inventory: dict) -> dict[str, dict]:
    return {vm["Name"]: vm for host in inventory["hosts"] for vm in host["vms"]}


def test_lists_across_pages_with_sizes_power_state_ips_and_tags():
    with FakeArm() as arm:
        inventory = discover(arm)
        sent = [headers for method, path, headers in arm.requests if method == "GET"]
    vms = vms_of(inventory)
    assert sorted(vms) == ["app02", "sql03", "web01"]  # two pages
    web = vms["web01"]
    assert web["ProcessorCount"] == 2 and web["MemoryStartup"] == 8 * 1024 ** 3  # from the resource SKUs
    assert web["State"] == "Running"
    assert web["NetworkAdapters"][0]["IPAddresses"] == ["10.0.0.4"]
    assert web["Tags"] == {"app": "shop", "env": "prod"}
    assert web["Guest"]["OSName"] == "Windows Server 2016 Datacenter" and web["Guest"]["OSVersion"] == "10.0.14393"
    assert web["Notes"] == "Azure size Standard_D2s_v3"
    assert inventory["hosts"][0]["ComputerName"] == "azure-westus"
    assert all(h.get("Authorization") == "Bearer fake-token" for h in sent)
    assert "found 3 VMs" in inventory["_messages"][0]


def test_throttling_honours_retry_after():
    with FakeArm(throttle_first_list=True) as arm:
        started = time.perf_counter()
        inventory = discover(arm)
        elapsed = time.perf_counter() - started
        listings = [p for m, p, _ in arm.requests if "virtualMachines?" in p and "page=2" not in p]
    assert len(vms_of(inventory)) == 3
    assert len(listings) == 2 and elapsed >= 1.0  # waited the Retry-After second, then succeeded


def test_denied_gives_one_line_naming_the_role():
    with FakeArm(deny=True) as arm, pytest.raises(InputError) as error:
        discover(arm)
    assert "not allowed to list virtual machines (AuthorizationFailed): grant Reader" in str(error.value)


def test_network_failure_mid_list_is_retried_then_reported():
    with FakeArm(drop_second_page=True) as arm, pytest.raises(InputError) as error:
        discover(arm)
        # (not reached)
    second_pages = [p for m, p, _ in arm.requests if "page=2" in p]
    assert len(second_pages) > 1  # retried
    assert str(error.value).startswith("azure: network failure while trying to list virtual machines, after retries")


def test_guest_run_command_and_a_failing_vm(tmp_path):
    with FakeArm(failing_run_command="app02") as arm:
        inventory = discover(arm, guest=True, concurrency=2)
        run_commands = [body for method, path, body in arm.requests if method == "POST"]
    vms = vms_of(inventory)
    assert len(run_commands) == 3
    assert run_commands[0]["commandId"] == "RunPowerShellScript"
    assert run_commands[0]["script"] == guest_probe_script()
    assert vms["web01"]["Guest"]["IISSites"][0]["Name"] == "Shop"
    assert vms["web01"]["Guest"]["CollectedVia"] == "RunCommand"  # how the guest was read, as the collector records it
    assert "IISSites" not in vms["app02"]["Guest"]  # kept its other data
    assert vms["app02"]["CollectionErrors"] == ["Run Command failed: HTTP 409 Conflict"]
    assert vms["app02"]["NetworkAdapters"][0]["IPAddresses"] == ["10.0.0.5"]
    # The discovered inventory runs through assess like a collected one.
    inventory.pop("_messages")
    path = write_json(tmp_path / "azure.json", inventory)
    plan = assess([path], [], Options())
    by_name = {w["name"]: w for w in plan["workloads"]}
    assert by_name["web01"]["target"] == "process"
    assert by_name["app02"]["fit"] == "unknown" and "data.collection-error" in by_name["app02"]["rules"]
    assert len(read_estate([path]).vms) == 3


def test_guest_probe_is_the_collectors_and_never_reads_secrets():
    script = "\n".join(guest_probe_script())
    assert "Get-WindowsFeature" in script and "Get-NetTCPConnection" in script
    assert not re.search(r"\.connectionString\b", script) and "ConvertTo-Json -Depth 6 -Compress" in script


def test_bad_subscription_is_refused_before_any_call(tmp_path):
    result = run_cli("discover", "azure", "--subscription", "not-a-guid", "--out", str(tmp_path / "x.json"))
    assert result.returncode == 2
    assert result.stderr.strip() == "hyperdock: error: --subscription: expected a subscription ID (a GUID), got 'not-a-guid'"
    assert not (tmp_path / "x.json").exists()
