"""__main__.py under mocks, driven by stack config, including the example stack's capacity plan."""

from __future__ import annotations

import json
import runpy
from collections import Counter

import pulumi
import pytest
import yaml
from google.protobuf import json_format

import pulumi_mocks
import sdk_inputs
from conftest import ROOT, run_cli
from migrate.core.errors import HostConfigError, StackConfigError

EXAMPLE = yaml.safe_load((ROOT / "Pulumi.example.yaml").read_text(encoding="utf-8"))["config"]
SECRETS = {"web01": {"SHOPDB": "a"}, "web02": {"SHOPDB": "b"}, "api01": {"ConnectionStrings__ShopDb": "c"}, "ordersvc01": {"ORDERSDB": "d"},
           "dev-web01": {"SHOPDB": "e"}, "dmz-fab-api01": {"ConnectionStrings__PortalDb": "f"}}


@pytest.fixture
def monitor():
    mon = pulumi_mocks.start(project="hyperdock", stack="example")
    yield mon
    pulumi_mocks.stop()


def run_program(config: dict, secret_keys=()) -> None:
    """Run __main__.py with this stack config and wait until every registration has finished."""
    values = {k: json.dumps(v) if isinstance(v, (list, dict, bool, int)) and not isinstance(v, str) else v
              for k, v in config.items()}

    @pulumi.runtime.test
    def program():
        pulumi.runtime.set_all_config(values, list(secret_keys))
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__pulumi__")

    program()


def example_config() -> dict:
    return dict(EXAMPLE, **{"hyperdock:workloadSecrets": json.dumps(SECRETS), "hyperdock:domainPassword": "join-pw"})


EXAMPLE_SECRETS = ["hyperdock:workloadSecrets", "hyperdock:domainPassword"]


def test_example_stack_builds_the_capacity_plan(monitor):
    run_program(example_config(), EXAMPLE_SECRETS)
    hosts_plan = yaml.safe_load((ROOT / "examples" / "plan" / "hosts.yaml").read_text(encoding="utf-8"))
    counts = Counter(r.type for r in monitor.requests)
    planned_hosts = [h for p in hosts_plan["pools"] for h in p["hosts"]]
    assert counts["hyperdock:index:AzureContainerHost"] == len(planned_hosts) == hosts_plan["summary"]["hosts"]
    assert counts["hyperdock:index:ContainerWorkload"] == sum(len(h["workloads"]) for h in planned_hosts)
    assert counts["azure-native:network:PublicIPAddress"] == 0
    vms = {r.name: json_format.MessageToDict(r.object) for r in monitor.by_type("azure-native:compute:VirtualMachine")}
    setups = {r.name: json_format.MessageToDict(r.object) for r in monitor.by_type(
        "azure-native:compute:VirtualMachineRunCommandByVirtualMachine") if r.name.endswith("-prepare")}
    for pool in hosts_plan["pools"]:
        for host in pool["hosts"]:
            vm = vms[f"{host['name']}-vm"]
            assert vm["hardwareProfile"]["vmSize"] == hosts_plan["hostSize"]["name"]
            script = setups[f"{host['name']}-prepare"]["source"]["script"]
            assert ("Microsoft-Hyper-V" in script) == (pool["isolation"] == "hyperv")
            expected = None if pool["isolation"] == "hyperv" else "TrustedLaunch"  # Hyper-V hosts: a standard VM
            assert vm["securityProfile"].get("securityType") == expected
    # A private ACR, and AcrPull for each host's managed identity.
    (acr,) = monitor.by_type("azure-native:containerregistry:Registry")
    acr_body = json_format.MessageToDict(acr.object)
    assert acr_body["adminUserEnabled"] is False and acr_body["anonymousPullEnabled"] is False
    assert sorted(r.name for r in monitor.by_type("azure-native:authorization:RoleAssignment")) == sorted(
        f"{h['name']}-acr-pull" for h in planned_hosts)
    for request in monitor.requests:
        if request.type.startswith("azure-native:"):
            assert sdk_inputs.check(request.type, json_format.MessageToDict(request.object)) == [], request.name
            # No SDK API-version alias to turn into a URN (components/sdk_aliases.py).
            assert [a.spec.type for a in request.aliases if "/v20" in a.spec.type] == [], request.name
    for nsg in monitor.by_type("azure-native:network:NetworkSecurityGroup"):
        for rule in json_format.MessageToDict(nsg.object)["securityRules"]:
            if rule["access"] == "Allow":
                assert rule["sourceAddressPrefix"] == "10.0.0.0/24"
    runs = [r for r in monitor.by_type("azure-native:compute:VirtualMachineRunCommandByVirtualMachine")
            if r.name.endswith("-run")]
    for run in runs:
        body = json_format.MessageToDict(run.object)
        workload = run.name.removesuffix("-run")
        host = next(h for h in planned_hosts if workload in h["workloads"])
        assert body["vmName"] == f"{host['name']}-vm"
        for parameter in body.get("protectedParameters", []):
            assert "4dabf18193072939515e22adb298388d" in parameter["value"]  # still a secret
        component = next(r for r in monitor.by_type("hyperdock:index:ContainerWorkload") if r.name == workload)
        assert any(d.endswith(f"::{host['name']}-runtime") for d in component.dependencies)
        assert any(d.endswith(f"::{host['name']}-acr-pull") for d in component.dependencies)  # AcrPull before the pull
        assert "docker login $registry" in body["source"]["script"]
        # Scheduled work (batch01: only scheduled tasks) runs once; services restart.
        expected = "'--restart=no'" if workload == "batch01" else "'--restart=unless-stopped'"
        assert expected in body["source"]["script"], workload
    # A VM's data drive (the plan's dataDrives, the same fact as cond.writable-state's "application paths
    # on drive D:") is a named volume of its container, as in compose and Kubernetes.
    plan = json.loads((ROOT / "examples" / "plan" / "plan.json").read_text(encoding="utf-8"))
    drives = {w["name"].lower(): w["container"]["dataDrives"] for w in plan["workloads"] if w["container"]}
    assert drives["ordersvc01"] == ["D"]
    for run in runs:
        workload = run.name.removesuffix("-run")
        script = json_format.MessageToDict(run.object)["source"]["script"]
        mounts = [f"'--volume', '{workload}-data-{d.lower()}:C:\\hyperdock\\{d}'" for d in drives[workload]]
        assert all(m in script for m in mounts) and script.count("'--volume'") == len(mounts), workload


def test_dv3_stack_is_refused_with_one_line(monitor):
    with pytest.raises(HostConfigError) as error:
        run_program({"hyperdock:azureHostCount": 1, "hyperdock:vmSize": "Standard_D4_v3", "hyperdock:isolation": "hyperv"})
    assert "\n" not in str(error.value) and "Generation 1 only and no Premium storage" in str(error.value)
    assert [r.type for r in monitor.requests if r.type != "pulumi:pulumi:Stack"] == []


def test_hosts_without_a_plan(monitor):
    run_program({"hyperdock:azureHostCount": 2, "hyperdock:onpremHosts": ["10.0.0.5"],
                 "hyperdock:onpremHostKeys": ["ssh-ed25519 AAAA"], "hyperdock:onpremPassword": "pw"},
                ["hyperdock:onpremPassword"])
    # Registration order is asynchronous: compare as sets.
    assert sorted(r.name for r in monitor.by_type("hyperdock:index:AzureContainerHost")) == ["azure-host-01", "azure-host-02"]
    assert [r.name for r in monitor.by_type("hyperdock:index:OnPremContainerHost")] == ["onprem-host-01"]
    assert not monitor.by_type("hyperdock:index:ContainerWorkload")


@pytest.mark.parametrize("change, error, message", [
    ({"hyperdock:securityType": "Standard"}, StackConfigError,
     "hyperdock:securityType: 'Standard' is not in the Azure API's enum"),
    ({"hyperdock:dockerSha256": "abc"}, StackConfigError, "hyperdock:dockerSha256: expected 64 hexadecimal characters"),
    ({"hyperdock:domainUser": "joiner"}, StackConfigError, r"hyperdock:domainUser: expected DOMAIN\\user or user@domain"),
    ({"hyperdock:managementCidrs": ["0.0.0.0/1", "128.0.0.0/1"]}, StackConfigError,
     "hyperdock:managementCidrs: '0.0.0.0/1' is not a private range"),
    ({"hyperdock:workloadSecrets": json.dumps({})}, StackConfigError, "workloadSecrets: .* needs"),
    ({"hyperdock:registry": ""}, StackConfigError, "registry"),
    ({"hyperdock:adminPassword": "plain"}, StackConfigError, "hyperdock:adminPassword: set it as a secret"),
    ({"hyperdock:domain": ""}, StackConfigError,
     r"hyperdock:domain: the plan's gMSA workloads \(batch01, build01, ordersvc01, orderweb01, test-orderweb01\) need "
     "domain-joined hosts"),
    ({"hyperdock:imageSku": "2022-datacenter-azure-edition"}, StackConfigError, "plan was made for ltsc2025"),
    ({"hyperdock:managementCidrs": ["0.0.0.0/0"]}, StackConfigError, "hyperdock:managementCidrs: .* internet"),
    ({"hyperdock:imageSku": "2019-datacenter"}, StackConfigError, "hyperdock:imageSku: '2019-datacenter' is not a Windows"),
    ({"hyperdock:adminUsername": "admin"}, StackConfigError, "hyperdock:adminUsername: 'admin' is reserved"),
    ({"hyperdock:plan": "examples/estate"}, StackConfigError, "hyperdock:plan"),
    ({"hyperdock:plan": "tests/data/collide/plan"}, StackConfigError,
     "places web01 and web02 on process-contoso-internal-01, and both publish port 80"),
])
def test_bad_config_fails_before_any_resource(monitor, change, error, message):
    with pytest.raises(error, match=message):
        run_program(dict(example_config(), **change), EXAMPLE_SECRETS)
    assert [r.type for r in monitor.requests if r.type != "pulumi:pulumi:Stack"] == []


def test_example_plan_is_what_generate_writes(tmp_path):
    result = run_cli("assess", "examples/estate/hv01.yaml", "examples/estate/hv02.json", "--dependencies",
                     "examples/estate/dependencies.csv", "--out", str(tmp_path), "--generate", "--quiet")
    assert result.returncode == 0, result.stderr
    for name in ("plan.json", "hosts.yaml"):
        assert (tmp_path / name).read_bytes() == (ROOT / "examples" / "plan" / name).read_bytes(), name
