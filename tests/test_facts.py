"""Facts are derived once: rules read only the facts' signature, and the plan agrees with the rules."""

from __future__ import annotations

import json

from conftest import ROOT, guest, inventory, vm, vm_id, write_json
from migrate.decide import decide, estate_facts
from migrate.facts import SIGNATURE_FIELDS, WorkloadFacts, derive
from migrate.inventory import read_estate
from migrate.rules import RULES
from plan_fixtures import typed_container
from test_rules import CASES

# Methods of WorkloadFacts and the field each one reads.
_METHODS = {"has_feature": "features", "has_service": "service_names", "has_software": "software"}


class _Recorder:
    """Stands in for WorkloadFacts and notes every attribute a rule asks for."""

    def __init__(self, facts: WorkloadFacts, read: set[str]):
        self._facts, self._read = facts, read

    def __getattr__(self, name: str):
        self._read.add(_METHODS.get(name, name))
        return getattr(self._facts, name)


def _estate(tmp_path, *records, name="inv.json"):
    return read_estate([write_json(tmp_path / name, inventory(*records))])


def _all_facts(tmp_path) -> list[WorkloadFacts]:
    """Facts of every rule's firing and quiet case, and of the example estate, on shared and dedicated hosts."""
    result = []
    cases = [record for pair in CASES.values() for record in pair]
    multi = (vm("T1", tags={"tenant": "t1", "exposure": "internet"}), vm("T2", tags={"tenant": "t2", "zone": "dmz"}))
    for i, records in enumerate([[c] for c in cases] + [list(multi)]):
        estate = _estate(tmp_path, *records, name=f"{i}.json")
        for tenancy in ("shared", "dedicated"):
            for host_os in ("ltsc2022", "ltsc2025"):
                facts = estate_facts(estate, host_os, tenancy)
                result += [derive(v, facts) for v in estate.vms]
    example = read_estate([ROOT / "examples/estate/hv01.yaml", ROOT / "examples/estate/hv02.json"])
    facts = estate_facts(example, "ltsc2025", "dedicated")
    return result + [derive(v, facts) for v in example.vms]


def test_rules_read_exactly_the_signature(tmp_path):
    read: set[str] = set()
    for facts in _all_facts(tmp_path):
        for r in RULES:
            r.check(_Recorder(facts, read))
    assert read <= set(SIGNATURE_FIELDS), f"rules read facts outside the signature: {sorted(read - set(SIGNATURE_FIELDS))}"
    assert set(SIGNATURE_FIELDS) <= read, f"signature fields no rule reads: {sorted(set(SIGNATURE_FIELDS) - read)}"
    assert not {"vm", "guest"} & set(dir(WorkloadFacts))  # rules cannot reach the VM behind the facts


def test_equal_signatures_mean_equal_rule_results(tmp_path):
    # Two VMs that differ only in what no rule reads (name, id, host, memory) share a signature.
    a = vm("WEB01", guest_data=guest(IISSites=[{"Name": "Shop", "Bindings": ["https/*:443:"], "PhysicalPath": "D:\\sites\\shop"}]))
    b = dict(a, Name="WEB02", VMId=vm_id("WEB02"), MemoryStartup=8589934592)
    b["Guest"] = dict(a["Guest"], FullyQualifiedDomainName="web02.corp.local")
    estate = _estate(tmp_path, a, b)
    facts = estate_facts(estate, "ltsc2025", "dedicated")
    fa, fb = (derive(v, facts) for v in estate.vms)
    assert fa.signature() == fb.signature() and hash(fa) == hash(fb) and fa == fb
    assert fa.features is fb.features and fa.bindings is fb.bindings  # one object per distinct value, kept once
    assert [r.check(fa) for r in RULES] == [r.check(fb) for r in RULES]
    c = dict(a, Name="WEB03", VMId=vm_id("WEB03"), Tags={"trust": "untrusted"})
    fc = derive(_estate(tmp_path, a, c, name="c.json").vms[1], facts)
    assert fc != fa and fc.signature() != fa.signature()


def _container_and_findings(tmp_path, record) -> tuple[dict, dict[str, str]]:
    from migrate.plan import _container
    estate = _estate(tmp_path, record)
    d = decide(estate.vms[0], estate_facts(estate, "ltsc2025", "dedicated"))
    assert d.target != "vm", d.findings
    return _container(estate.vms[0], d), {f.rule: f.message for f in d.findings}


def test_app_on_d_has_a_finding_and_a_data_drive(tmp_path):
    record = vm("SVC01", guest_data=guest(Services=[
        {"Name": "Orders", "StartMode": "Auto", "PathName": "\"D:\\apps\\orders\\Orders.exe\"", "StartName": "LocalSystem"},
        {"Name": "docker", "StartMode": "Auto", "PathName": "E:\\docker\\dockerd.exe", "StartName": "LocalSystem"}]))
    container, findings = _container_and_findings(tmp_path, record)
    assert container["dataDrives"] == ["D"]
    # The runtime is not part of the container, so its drive is neither a finding nor a volume.
    assert findings["cond.writable-state"] == "application paths on drive D:"
    assert [s["name"] for s in container["services"]] == ["Orders"]


def test_identities_and_ports_agree_with_the_rules(tmp_path):
    record = vm("WEB01", guest_data=guest(
        IISSites=[{"Name": "Shop", "Bindings": ["http/*:8080:", "net.tcp/808:*"], "PhysicalPath": "C:\\inetpub\\shop",
                   "ApplicationPool": "ShopPool", "WindowsAuthentication": True}],
        AppPools=[{"Name": "ShopPool", "ManagedRuntimeVersion": "v4.0", "IdentityType": "SpecificUser", "UserName": "CORP\\svc-shop"}],
        ScheduledTasks=[{"TaskName": "Nightly", "Execute": "C:\\t.exe", "RunAs": "WEB01\\local"}]))
    container, findings = _container_and_findings(tmp_path, record)
    assert findings["cond.domain-identity"] == "site Shop uses Windows authentication; app pool ShopPool runs as CORP\\svc-shop"
    assert container["domainIdentities"] == ["CORP\\svc-shop"] and container["gmsa"] is True
    assert container["netbiosDomain"] == "CORP"
    assert 8080 in container["ports"] and 808 in container["ports"]
    assert "cond.no-listener" not in findings
    json.dumps(container)  # plain JSON data, no tuples or dataclasses left


def test_container_runtime_is_neither_a_background_service_nor_in_the_container(tmp_path):
    record = vm("BUILD01", guest_data=guest(Services=[
        {"Name": "BuildAgent", "StartMode": "Auto", "PathName": "C:\\agent\\agent.exe", "StartName": "LocalSystem"},
        {"Name": "docker", "StartMode": "Auto", "PathName": "C:\\Program Files\\docker\\dockerd.exe", "StartName": "LocalSystem"},
        {"Name": "com.docker.service", "StartMode": "Auto", "PathName": "C:\\Program Files\\Docker\\com.docker.service",
         "StartName": "LocalSystem"}]))
    container, findings = _container_and_findings(tmp_path, record)
    assert findings["cond.background-service"] == "services: BuildAgent"
    assert findings["cond.container-runtime-in-vm"] == "runtime services: com.docker.service, docker"
    assert [s["name"] for s in container["services"]] == ["BuildAgent"]


def test_a_site_reached_only_over_net_pipe_has_no_port(tmp_path):
    record = vm("PIPE01", guest_data=guest(
        Listeners=[{"LocalAddress": "0.0.0.0", "LocalPort": 445, "ProcessName": "System"}],
        IISSites=[{"Name": "Local", "Bindings": ["net.pipe/*"], "PhysicalPath": "C:\\inetpub\\local"}]))
    container, findings = _container_and_findings(tmp_path, record)
    assert container["ports"] == [] and "cond.no-listener" in findings


def test_ipv6_https_binding_port_is_published_where_its_certificate_is_bound(tmp_path):
    record = vm("WEB6", guest_data=guest(
        Listeners=[], IISSites=[{"Name": "Shop", "Bindings": ["https/[fd00::5]:8443:shop.contoso.com"],
                                 "PhysicalPath": "C:\\inetpub\\shop"}]))
    container, findings = _container_and_findings(tmp_path, record)
    assert [port for _, port, _ in typed_container(container).https_bindings()] == [8443]
    assert container["ports"] == [8443] and "cond.no-listener" not in findings


def test_nested_applications_and_task_programs_on_other_drives_get_volumes(tmp_path):
    record = vm("WEB02", guest_data=guest(
        IISSites=[{"Name": "Shop", "Bindings": ["http/*:80:"], "PhysicalPath": "C:\\inetpub\\shop",
                   "Applications": [{"Path": "/api", "PhysicalPath": "D:\\apps\\api", "ApplicationPool": "ShopPool"}]}],
        ScheduledTasks=[{"TaskName": "Export", "Execute": "\"E:\\jobs\\export.exe\"", "RunAs": "SYSTEM"}]))
    container, findings = _container_and_findings(tmp_path, record)
    assert container["dataDrives"] == ["D", "E"]
    assert findings["cond.writable-state"] == "application paths on drive D:, E:"


def test_legacy_dotnet_finding_whenever_the_image_gets_netfx3(tmp_path):
    from migrate.generate.iis_image import needs_netfx3
    site = {"Name": "Shop", "Bindings": ["http/*:80:"], "PhysicalPath": "C:\\inetpub\\shop", "ApplicationPool": "ShopPool"}
    for i, (features, runtime) in enumerate([(["Web-Server", "Web-Asp-Net"], "v4.0"), (["Web-Server", "Web-Net-Ext"], "v4.0"),
                                            (["Web-Server", "NET-Framework-Features"], "v4.0"), (["Web-Server"], "v2.0"),
                                            (["Web-Server", "Web-Asp-Net45"], "v4.0")]):
        record = vm(f"W{i}", guest_data=guest(Features=features, IISSites=[site], AppPools=[
            {"Name": "ShopPool", "ManagedRuntimeVersion": runtime, "IdentityType": "ApplicationPoolIdentity"}]))
        container, findings = _container_and_findings(tmp_path, record)
        assert ("cond.legacy-dotnet" in findings) == needs_netfx3(typed_container(container)) == (i < 4), features


def test_tenants_the_rules_count_as_one_share_one_pool(tmp_path):
    # iso.shared-tenancy reads tenants as VM.tag does (trimmed, lower-case): "Contoso" and "contoso " are
    # one tenant. The plan writes them so, and the capacity plan makes one pool with distinct host names
    # (it made two pools both named process-contoso, hosts process-contoso-01 twice).
    from conftest import run_cli
    import yaml
    inv = write_json(tmp_path / "inv.json", inventory(vm("A", tags={"tenant": "Contoso"}), vm("B", tags={"tenant": "contoso "})))
    result = run_cli("assess", str(inv), "--out", str(tmp_path / "out"), "--generate", "--quiet", "--tenancy", "shared")
    assert result.returncode == 0, result.stderr
    plan = json.loads((tmp_path / "out" / "plan.json").read_text(encoding="utf-8"))
    assert [w["tags"] for w in plan["workloads"]] == [{"tenant": "contoso"}, {"tenant": "contoso"}]
    assert {w["target"] for w in plan["workloads"]} == {"process"}  # one tenant: no shared-tenancy Hyper-V
    hosts = yaml.safe_load((tmp_path / "out" / "hosts.yaml").read_text(encoding="utf-8"))
    assert [p["tenant"] for p in hosts["pools"]] == ["contoso"]
    names = [h["name"] for p in hosts["pools"] for h in p["hosts"]]
    assert len(names) == len(set(names))


def test_a_disabled_service_is_not_part_of_the_container(tmp_path):
    # start.ps1 starts every service of the container; a service disabled on the VM never ran there.
    record = vm("SVC02", guest_data=guest(Services=[
        {"Name": "Orders", "StartMode": "Auto", "PathName": "C:\\apps\\orders.exe", "StartName": "LocalSystem"},
        {"Name": "OldSync", "StartMode": "Disabled", "PathName": "D:\\old\\sync.exe", "StartName": "CORP\\svc-old"}]))
    container, findings = _container_and_findings(tmp_path, record)
    assert [s["name"] for s in container["services"]] == ["Orders"]
    assert container["dataDrives"] == [] and "cond.writable-state" not in findings
    # Nor does its domain account make the container need a gMSA.
    assert container["domainIdentities"] == [] and not container["gmsa"] and "cond.domain-identity" not in findings


def test_tenants_the_rules_count_as_two_never_share_a_name(tmp_path):
    # "a_b" and "a-b" are two tenants to the rules; dns_label alone made both "a-b": one pool name, one
    # host name (a compose file overwritten), one network and one namespace for the two tenants.
    from conftest import run_cli
    from migrate.contract.names import tenant_namespace, tenant_network
    import yaml
    inv = write_json(tmp_path / "inv.json", inventory(vm("A", tags={"tenant": "a_b"}), vm("B", tags={"tenant": "a-b"})))
    result = run_cli("assess", str(inv), "--out", str(tmp_path / "out"), "--generate", "--quiet")
    assert result.returncode == 0, result.stderr
    hosts = yaml.safe_load((tmp_path / "out" / "hosts.yaml").read_text(encoding="utf-8"))
    names = [h["name"] for p in hosts["pools"] for h in p["hosts"]]
    assert len({p["name"] for p in hosts["pools"]}) == 2 and len(set(names)) == 2
    assert sorted(p.name for p in (tmp_path / "out" / "compose").iterdir()) == sorted(f"{n}.yaml" for n in names)
    assert tenant_network("a_b") != tenant_network("a-b") and tenant_namespace("a_b") != tenant_namespace("a-b")
    assert tenant_network("a-b") == "tenant-a-b" and tenant_network("Contoso ") == tenant_network("contoso") == "tenant-contoso"
