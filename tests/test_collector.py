"""The collector script parses as PowerShell and reads what the inventory format needs."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT
from powershell_ast import nodes, parse

SCRIPT = ROOT / "migrate" / "collect" / "Get-HyperdockInventory.ps1"


@pytest.fixture(scope="module")
def tree():
    return parse(SCRIPT.read_bytes())


def commands(tree) -> dict[str, list[str]]:
    """Map each command name the script calls to the text of its calls."""
    found: dict[str, list[str]] = {}
    for node in nodes(tree.root_node, "command"):
        name = node.child_by_field_name("command_name")
        if name is not None:
            found.setdefault(name.text.decode(), []).append(node.text.decode())
    return found


def test_parses_without_errors(tree):
    assert not tree.root_node.has_error


def test_uses_the_hyperv_cmdlets(tree):
    called = commands(tree)
    for cmdlet in ("Get-VMHost", "Get-VM", "Get-VMNetworkAdapter", "Get-VMHardDiskDrive", "Get-VHD",
                   "Get-VMNetworkAdapterVlan", "Invoke-Command", "Get-CimAssociatedInstance", "ConvertTo-Json"):
        assert cmdlet in called, cmdlet


def test_powershell_direct_with_guest_credential(tree):
    (call,) = [c for c in commands(tree)["Invoke-Command"] if "-VMId" in c]
    assert "-VMId" in call and "-Credential $GuestCredential" in call and "-ScriptBlock $GuestProbe" in call


def test_kvp_exchange_is_read():
    text = SCRIPT.read_text(encoding="utf-8")
    assert "'Msvm_KvpExchangeComponent'" in text and "GuestIntrinsicExchangeItems" in text


def test_json_depth_and_utf8_without_bom(tree):
    (convert,) = [c for c in commands(tree)["ConvertTo-Json"] if "$inventory" in c]
    assert re.search(r"-Depth 8\b", convert)
    text = SCRIPT.read_text(encoding="utf-8")
    assert "WriteAllText($OutFile, $json, (New-Object -TypeName 'System.Text.UTF8Encoding' -ArgumentList $false))" in text
    assert "Out-File" not in {c for c in commands(tree)}  # 5.1's Out-File writes UTF-16


def test_writes_every_property_of_the_contract():
    text = SCRIPT.read_text(encoding="utf-8")
    properties = [
        "schema", "collectedAt", "hosts", "ComputerName", "OSVersion", "LogicalProcessorCount", "MemoryCapacity",
        "ClusterName", "vms", "Name", "VMId", "Generation", "State", "ProcessorCount", "MemoryStartup",
        "DynamicMemoryEnabled", "MemoryAssigned", "Notes", "NetworkAdapters", "SwitchName", "MacAddress",
        "IPAddresses", "VlanId", "HardDrives", "VhdType", "Size", "FileSize", "OSName", "FullyQualifiedDomainName",
        "PartOfDomain", "Features", "Services", "Drivers", "Software", "DotNetFrameworkRelease", "DotNetRuntimes",
        "IISSites", "Bindings", "PhysicalPath", "ApplicationPool", "Applications", "WindowsAuthentication",
        "AppPools", "ManagedRuntimeVersion", "Enable32BitAppOnWin64", "IdentityType", "UserName", "Listeners",
        "LocalAddress", "LocalPort", "Connections", "RemoteAddress", "RemotePort", "ConnectionStrings",
        "Provider", "ScheduledTasks", "TaskName", "Execute", "RunAs",
    ]
    for prop in properties:
        assert re.search(rf"\b{prop}\s+=|'{prop}'|\b{prop}\b", text), prop
    assert "'hyperdock/inventory@1'" in text


def code_without_comments(tree) -> str:
    source = SCRIPT.read_bytes()
    for comment in sorted(nodes(tree.root_node, "comment"), key=lambda n: n.start_byte, reverse=True):
        source = source[:comment.start_byte] + source[comment.end_byte:]
    return source.decode("utf-8")


def test_never_reads_secret_values(tree):
    text = code_without_comments(tree)
    assert "connectionStrings.add" in text  # it does read the section, for names
    # Connection strings by name and provider only; the value attribute is never read.
    assert not re.search(r"\.connectionString\b", text)
    assert not re.search(r"processModel\.password", text, re.IGNORECASE)
    assert "GetNetworkCredential" not in text
    assert "ConvertFrom-SecureString" not in commands(tree)


def test_wmi_filter_uses_the_vmid_not_the_name():
    # A VM name with a quote must not be able to change the WQL filter.
    text = SCRIPT.read_text(encoding="utf-8")
    assert "-Filter ('Name = ''{0}''' -f $VMId.Guid)" in text
    assert "ElementName" not in text
