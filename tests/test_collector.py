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


def function_text(tree, name: str) -> str:
    """Return the source of the script's function `name`."""
    (found,) = [n.text.decode() for n in nodes(tree.root_node, "function_statement")
                if any(c.type == "function_name" and c.text.decode().lower() == name.lower() for c in n.children)]
    return found


def test_guest_read_over_powershell_direct_or_winrm_with_the_credential(tree):
    sessions = commands(tree)["New-PSSession"]
    assert "New-PSSession -VMId $VM.VMId -Credential $GuestCredential" in sessions
    assert "New-PSSession -ComputerName $Target -Credential $GuestCredential" in sessions
    read = function_text(tree, "Read-HyperdockGuest")
    assert "Invoke-Command -Session $session -ScriptBlock $GuestProbe" in read
    assert "$guest['CollectedVia'] = $Channel" in read and "Remove-PSSession -Session $session" in read
    assert "$PSVersionTable.PSVersion.Major" in read  # PowerShell 2.0 guests are named, not mis-read


def test_channel_is_chosen_per_guest(tree):
    choose = function_text(tree, "Get-HyperdockGuestChannel")
    # PowerShell Direct: this host, a 2016+ host, and a guest at 10.0+ (or one that did not say);
    # WinRM for the rest, including VMs of other hosts.
    assert "$IsLocal -and [Environment]::OSVersion.Version.Major -ge 10 -and (-not $reported -or $version.Major -ge 10)" in choose
    assert "if ($Target) { $channels += 'WinRM' }" in choose
    record = function_text(tree, "Get-VMRecord")
    assert "foreach ($channel in @(Get-HyperdockGuestChannel -Kvp $kvp -IsLocal $IsLocal -Target $target))" in record
    assert "$record['CollectionErrors'] = $errors" in record and "CollectedVia = 'KVP'" in record
    assert "$IsLocal -and $VM.State" not in record  # guests of other hosts are no longer skipped
    address = function_text(tree, "Get-HyperdockGuestAddress")
    assert "$Kvp['FullyQualifiedDomainName']" in address


def test_third_party_drivers_by_driver_store_provider_not_signer(tree):
    drivers = function_text(tree, "Get-HyperdockThirdPartyDriver")
    assert "Get-WindowsDriver -Online" in drivers and "$package.ProviderName -match '^Microsoft'" in drivers
    assert "AddService" in drivers and "VersionInfo.CompanyName" in drivers
    assert "Get-AuthenticodeSignature" not in commands(tree)
    assert "Provider = $provider" in drivers


def test_iis_native_modules_are_read():
    text = SCRIPT.read_text(encoding="utf-8")
    assert "$modules = @(Get-WebGlobalModule |" in text and "IISModules               = $modules" in text


def test_task_triggers_in_the_inventory_shape(tree):
    convert = function_text(tree, "ConvertTo-HyperdockTrigger")
    for cim, kind in (("MSFT_TaskDailyTrigger", "Daily"), ("MSFT_TaskWeeklyTrigger", "Weekly"),
                      ("MSFT_TaskTimeTrigger", "Once"), ("MSFT_TaskBootTrigger", "Boot"), ("MSFT_TaskLogonTrigger", "Logon")):
        assert f"{cim} = '{kind}'" in convert
    assert "else { 'Other' }" in convert
    for key in ("StartBoundary", "DaysInterval", "WeeksInterval", "DaysOfWeek", "RepetitionInterval"):
        assert f"$entry['{key}']" in convert, key
    # Sunday is bit 0 of MSFT_TaskWeeklyTrigger.DaysOfWeek.
    assert "@('Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday')" in convert
    assert "ConvertTo-HyperdockTrigger -Trigger $_" in SCRIPT.read_text(encoding="utf-8")


def test_outfile_is_resolved_against_the_current_location():
    text = SCRIPT.read_text(encoding="utf-8")
    resolve = "$OutFile = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)"
    assert resolve in text and text.index(resolve) < text.index("WriteAllText($OutFile")


# Verbs of commands that only read (about_Approved_Verbs), the pipeline helpers, and Set-StrictMode
# (a setting of the probe's own session, not of the guest).
READ_ONLY = re.compile(r"^(Get|Test|Select|Where|ForEach|Sort|Measure|Import|Join|Split|ConvertTo|Write-Warning|Set-StrictMode)\b|^dotnet$")


def test_guest_probe_only_reads(tree):
    (probe,) = [n for n in nodes(tree.root_node, "assignment_expression") if n.text.decode().startswith("$GuestProbe = {")]
    called = {name for name in commands_in(probe)}
    assert called and all(READ_ONLY.match(name) for name in called), sorted(n for n in called if not READ_ONLY.match(n))


def commands_in(node) -> list[str]:
    return [c.child_by_field_name("command_name").text.decode() for c in nodes(node, "command")
            if c.child_by_field_name("command_name") is not None]


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
