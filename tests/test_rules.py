"""Every rule: a workload that fires it and one that does not; then fit and target."""

from __future__ import annotations

import pytest

from conftest import guest, inventory, vm, write_json
from migrate.decide import decide, estate_facts
from migrate.inventory import read_estate
from migrate.rules import RULES

W3SVC = {"Name": "W3SVC", "StartMode": "Auto", "State": "Running", "PathName": "C:\\Windows\\system32\\svchost.exe -k iissvcs", "StartName": "LocalSystem"}
APP_SERVICE = {"Name": "Billing", "StartMode": "Auto", "State": "Running", "PathName": "\"C:\\apps\\billing\\Billing.exe\"", "StartName": "LocalSystem"}


def site(**overrides) -> dict:
    base = {"Name": "Shop", "Bindings": ["http/*:80:"], "PhysicalPath": "C:\\inetpub\\shop", "ApplicationPool": "ShopPool", "WindowsAuthentication": False}
    base.update(overrides)
    return base


def pool(**overrides) -> dict:
    base = {"Name": "ShopPool", "ManagedRuntimeVersion": "v4.0", "Enable32BitAppOnWin64": False, "IdentityType": "ApplicationPoolIdentity", "UserName": ""}
    base.update(overrides)
    return base


def without(*sections: str) -> dict:
    """A plain guest whose record lacks `sections` altogether (not read, rather than empty)."""
    return {k: v for k, v in guest().items() if k not in sections}


# What Azure Migrate's discovery report says of a VM with IIS web apps: the OS and the sites, no more.
WEB_APPS_ONLY = {"OSName": "Microsoft Windows Server 2016 or later (64-bit)", "Features": ["Web-Server"],
                 "IISSites": [{"Name": "web-app-1", "Bindings": ["http/*:80:"]}]}


# rule id → (the VM that fires it, a close VM that does not)
CASES: dict[str, tuple[dict, dict]] = {
    "data.no-guest": (vm("A", guest_data=None), vm("A")),
    "data.collection-error": (vm("A", CollectionErrors=["Run Command failed: VM agent not ready"]), vm("A")),
    "data.partial-guest": (vm("A", guest_data={"OSName": "Windows Server 2022 Datacenter", "OSVersion": "10.0.20348"}), vm("A")),
    "data.unverified-guest": (vm("A", guest_data=WEB_APPS_ONLY), vm("A")),
    "data.missing-evidence": (vm("A", guest_data=without("Drivers", "Listeners")), vm("A")),
    "block.non-windows-guest": (vm("A", guest_data=guest(OSName="Ubuntu 22.04.4 LTS", OSVersion="5.15.0")), vm("A")),
    "block.domain-controller": (vm("A", guest_data=guest(Features=["AD-Domain-Services"])), vm("A", guest_data=guest(Features=["RSAT-AD-Tools"]))),
    "block.infrastructure-role": (vm("A", guest_data=guest(Features=["DHCP"])), vm("A", guest_data=guest(Features=["Web-Server"]))),
    "block.file-server": (vm("A", guest_data=guest(Features=["FS-FileServer", "FS-DFS-Namespace"])),
                          vm("A", guest_data=guest(Features=["FS-FileServer"], IISSites=[site()]))),
    "block.database-engine": (vm("A", guest_data=guest(Services=[{"Name": "MSSQL$SQLEXPRESS", "PathName": "C:\\Program Files\\sqlservr.exe"}])),
                              vm("A", guest_data=guest(Services=[{"Name": "SQLWriter", "PathName": "C:\\Program Files\\sqlwriter.exe"}]))),
    "block.remote-desktop": (vm("A", guest_data=guest(Features=["RDS-RD-Server"])), vm("A", guest_data=guest(Features=["RSAT-RDS-Tools"]))),
    "block.kernel-driver": (vm("A", guest_data=guest(Drivers=[{"Name": "dongle", "ServiceType": "Kernel Driver"}])),
                            vm("A", guest_data=guest(Drivers=[{"Name": "umdf", "ServiceType": "User Mode Driver"}]))),
    "block.dotnet-1x": (vm("A", guest_data=guest(IISSites=[site()], AppPools=[pool(ManagedRuntimeVersion="v1.1")])),
                        vm("A", guest_data=guest(IISSites=[site()], AppPools=[pool()]))),
    "block.unsupported-product": (vm("A", guest_data=guest(Software=[{"DisplayName": "Microsoft Exchange Server 2019"}])),
                                  vm("A", guest_data=guest(Software=[{"DisplayName": "Contoso Exchange Rates"}]))),
    "block.migration-appliance": (vm("A", guest_data=guest(Services=[{"Name": "asrgwy", "StartMode": "Auto",
                                                                       "PathName": "\"C:\\Program Files\\Microsoft Azure Gateway Service\\GatewayWindowsService.exe\""}])),
                                  vm("A", guest_data=guest(Services=[APP_SERVICE]))),
    "block.image-newer-than-host": (vm("A", tags={"osPin": "ltsc2025"}), vm("A", tags={"osPin": "ltsc2022"})),
    "cond.legacy-guest-os": (vm("A", guest_data=guest(OSName="Windows Server 2012 R2 Standard", OSVersion="6.3.9600")), vm("A")),
    "cond.writable-state": (vm("A", HardDrives=[{"Path": "C:\\a.vhdx"}, {"Path": "C:\\b.vhdx"}]), vm("A")),
    "cond.connection-strings": (vm("A", guest_data=guest(ConnectionStrings=[{"File": "C:\\app\\web.config", "Name": "Db"}])), vm("A")),
    "cond.domain-identity": (vm("A", guest_data=guest(IISSites=[site()], AppPools=[pool(IdentityType="SpecificUser", UserName="CORP\\svc-shop")])),
                             vm("A", guest_data=guest(IISSites=[site()], AppPools=[pool(IdentityType="SpecificUser", UserName="A\\localuser")]))),
    "cond.non-http-binding": (vm("A", guest_data=guest(IISSites=[site(Bindings=["http/*:80:", "net.tcp/808:*"])])), vm("A", guest_data=guest(IISSites=[site()]))),
    "cond.https-certificate": (vm("A", guest_data=guest(IISSites=[site(Bindings=["https/*:443:shop"])])), vm("A", guest_data=guest(IISSites=[site()]))),
    "cond.no-listener": (vm("A", guest_data=guest(Listeners=[{"LocalAddress": "0.0.0.0", "LocalPort": 445, "ProcessName": "System"}])), vm("A")),
    "cond.specific-ip-listener": (vm("A", guest_data=guest(Listeners=[{"LocalAddress": "10.0.0.5", "LocalPort": 8080}])), vm("A")),
    "cond.background-service": (vm("A", guest_data=guest(Services=[APP_SERVICE])), vm("A", guest_data=guest(Services=[W3SVC]))),
    "cond.scheduled-task": (vm("A", guest_data=guest(ScheduledTasks=[{"TaskName": "Nightly", "Execute": "x.exe"}])), vm("A")),
    "cond.legacy-dotnet": (vm("A", guest_data=guest(IISSites=[site()], AppPools=[pool(ManagedRuntimeVersion="v2.0")])),
                           vm("A", guest_data=guest(IISSites=[site()], AppPools=[pool()]))),
    "cond.msmq": (vm("A", guest_data=guest(Features=["MSMQ-Server"])), vm("A")),
    # MSMQ alone, or gMSA alone, does not fire it: only both together.
    "cond.msmq-gmsa": (vm("A", guest_data=guest(Features=["MSMQ-Server"], IISSites=[site()],
                                                AppPools=[pool(IdentityType="SpecificUser", UserName="CORP\\svc-q")])),
                       vm("A", guest_data=guest(Features=["MSMQ-Server"]))),
    "cond.printing": (vm("A", guest_data=guest(Features=["Print-Server"])), vm("A")),
    "block.print-server-role": (vm("A", guest_data=guest(Features=["Print-Services", "Print-Server"])),
                                vm("A", guest_data=guest(Features=["Server-Media-Foundation"]))),
    "cond.dotnet-end-of-support": (vm("A", guest_data=guest(Services=[APP_SERVICE], DotNetRuntimes=["Microsoft.NETCore.App 8.0.11"])),
                                   vm("A", guest_data=guest(Services=[APP_SERVICE], DotNetRuntimes=["Microsoft.NETCore.App 10.0.1"]))),
    "cond.container-runtime-in-vm": (vm("A", guest_data=guest(Services=[{"Name": "docker", "PathName": "C:\\Program Files\\docker\\dockerd.exe"}])), vm("A")),
    "cond.iis-native-module": (vm("A", guest_data=guest(IISSites=[site()], IISModules=[
                                   {"Name": "ApplicationRequestRouting", "Image": "%ProgramFiles%\\IIS\\Application Request Routing\\requestRouter.dll"},
                                   {"Name": "RewriteModule", "Image": "%SystemRoot%\\system32\\inetsrv\\rewrite.dll"}])),
                               vm("A", guest_data=guest(IISSites=[site()], IISModules=[
                                   {"Name": "StaticFileModule", "Image": "%windir%\\System32\\inetsrv\\static.dll"},
                                   {"Name": "ManagedEngineV4.0_64bit", "Image": "%windir%\\Microsoft.NET\\Framework64\\v4.0.30319\\webengine4.dll"}]))),
    "cond.inline-secret": (vm("A", guest_data=guest(Services=[dict(APP_SERVICE, PathName='"C:\\apps\\b.exe" -password=Hunter2')])),
                           vm("A", guest_data=guest(Services=[dict(APP_SERVICE, PathName='"C:\\apps\\b.exe" -passwordFile C:\\p.txt')]))),
    "iso.untrusted": (vm("A", tags={"trust": "untrusted"}), vm("A", tags={"trust": "trusted"})),
    "iso.image-older-than-host": (vm("A", tags={"osPin": "ltsc2019"}), vm("A", tags={"osPin": "ltsc2022"})),
}


def decide_for(record: dict, tmp_path, host_os: str = "ltsc2025", tenancy: str = "dedicated", others: tuple = ()):
    estate = read_estate([write_json(tmp_path / "inv.json", inventory(record, *others))])
    facts = estate_facts(estate, host_os, tenancy)
    by_name = {v.name: v for v in estate.vms}
    return decide(by_name[record["Name"]], facts)


def rule_ids(decision) -> set[str]:
    return {f.rule for f in decision.findings}


def test_every_rule_has_cases():
    estate_level = {"iso.shared-tenancy", "iso.internet-facing-multitenant"}  # tested below with several VMs
    assert {r.id for r in RULES} - estate_level == set(CASES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires(rule_id, tmp_path):
    fires, _ = CASES[rule_id]
    host_os = "ltsc2022" if rule_id == "block.image-newer-than-host" else "ltsc2025"
    assert rule_id in rule_ids(decide_for(fires, tmp_path, host_os))


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_does_not_fire(rule_id, tmp_path):
    _, quiet = CASES[rule_id]
    host_os = "ltsc2022" if rule_id == "block.image-newer-than-host" else "ltsc2025"
    assert rule_id not in rule_ids(decide_for(quiet, tmp_path, host_os))


def test_shared_tenancy_puts_tenants_in_hyperv(tmp_path):
    a = vm("A", tags={"tenant": "t1"})
    b = vm("B", tags={"tenant": "t2"})
    shared = decide_for(a, tmp_path, tenancy="shared", others=(b,))
    dedicated = decide_for(a, tmp_path, tenancy="dedicated", others=(b,))
    single = decide_for(a, tmp_path, tenancy="shared", others=(vm("B", tags={"tenant": "t1"}),))
    assert "iso.shared-tenancy" in rule_ids(shared) and shared.target == "hyperv"
    assert "iso.shared-tenancy" not in rule_ids(dedicated) and dedicated.target == "process"
    assert "iso.shared-tenancy" not in rule_ids(single) and single.target == "process"


def test_internet_facing_in_multitenant_estate(tmp_path):
    exposed = vm("A", tags={"tenant": "t1", "exposure": "internet"})
    dmz = vm("A", tags={"tenant": "t1", "zone": "dmz"})
    other = vm("B", tags={"tenant": "t2"})
    assert decide_for(exposed, tmp_path, others=(other,)).target == "hyperv"
    assert decide_for(dmz, tmp_path, others=(other,)).target == "hyperv"
    lone = decide_for(exposed, tmp_path, others=(vm("B", tags={"tenant": "t1"}),))
    assert "iso.internet-facing-multitenant" not in rule_ids(lone) and lone.target == "process"


def test_fit_levels_and_targets(tmp_path):
    ready = decide_for(vm("A"), tmp_path)
    assert (ready.fit, ready.target, ready.confidence) == ("ready", "process", "high")
    conditional = decide_for(CASES["cond.msmq"][0], tmp_path)
    assert (conditional.fit, conditional.target) == ("ready-with-conditions", "process")
    blocked = decide_for(CASES["block.kernel-driver"][0], tmp_path)
    assert (blocked.fit, blocked.target, blocked.base_image) == ("not-ready", "vm", None)
    unknown = decide_for(vm("A", guest_data=None), tmp_path)
    assert (unknown.fit, unknown.target, unknown.confidence) == ("unknown", "vm", "low")
    partial = decide_for(CASES["data.partial-guest"][0], tmp_path)
    assert partial.confidence == "medium"


def test_ready_needs_the_guest_evidence_it_rests_on(tmp_path):
    unverified = decide_for(vm("A", guest_data=WEB_APPS_ONLY), tmp_path)
    assert (unverified.fit, unverified.target) == ("unknown", "vm")
    (finding,) = [f for f in unverified.findings if f.rule == "data.unverified-guest"]
    assert "Drivers (Get-WindowsDriver -Online)" in finding.message and "Services (Win32_Service)" in finding.message
    partial = decide_for(vm("A", guest_data=without("Drivers")), tmp_path)
    assert (partial.fit, partial.target) == ("ready-with-conditions", "process")
    (finding,) = [f for f in partial.findings if f.rule == "data.missing-evidence"]
    assert "kernel drivers" in finding.message and "Listeners" not in finding.message
    empty = decide_for(vm("A", guest_data=guest(Drivers=[], Software=[], Services=[])), tmp_path)
    assert empty.fit == "ready"  # read and empty is evidence; absent is not


def test_every_decision_names_its_rules(tmp_path):
    for fires, quiet in CASES.values():
        for record in (fires, quiet):
            decision = decide_for(record, tmp_path)
            assert decision.findings, record["Name"]
            assert all(f.rule and f.severity in ("blocker", "warning", "info") for f in decision.findings)


@pytest.mark.parametrize("guest_data, host_os, image", [
    (guest(IISSites=[site()], AppPools=[pool()], Features=["Web-Server", "Web-Asp-Net45"]), "ltsc2025",
     "mcr.microsoft.com/dotnet/framework/aspnet:4.8.1-windowsservercore-ltsc2025"),
    (guest(IISSites=[site()], AppPools=[pool()], Features=["Web-Server", "Web-Asp-Net45"]), "ltsc2019",
     "mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2019"),
    (guest(IISSites=[site()], AppPools=[pool(ManagedRuntimeVersion="")], Features=["Web-Server"]), "ltsc2022",
     "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"),
    (guest(Services=[APP_SERVICE], DotNetRuntimes=["Microsoft.NETCore.App 8.0.11"]), "ltsc2025",
     "mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2025"),
    (guest(Services=[APP_SERVICE], DotNetRuntimes=["Microsoft.NETCore.App 8.0.11"]), "ltsc2019",
     "mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-1809"),
    (guest(Services=[APP_SERVICE], DotNetRuntimes=["Microsoft.NETCore.App 10.0.1"]), "ltsc2019",
     "mcr.microsoft.com/windows/servercore:ltsc2019"),
    (guest(Services=[APP_SERVICE]), "ltsc2022", "mcr.microsoft.com/dotnet/framework/runtime:4.8.1-windowsservercore-ltsc2022"),
    (guest(Features=["Server-Media-Foundation"]), "ltsc2025", "mcr.microsoft.com/windows/server:ltsc2025"),
    (guest(Features=["Server-Media-Foundation"]), "ltsc2019", "mcr.microsoft.com/windows:1809"),
    (guest(DotNetFrameworkRelease=None), "ltsc2025", "mcr.microsoft.com/windows/servercore:ltsc2025"),
])
def test_base_image_ladder(guest_data, host_os, image, tmp_path):
    decision = decide_for(vm("A", guest_data=guest_data), tmp_path, host_os=host_os)
    assert decision.base_image.image == image
