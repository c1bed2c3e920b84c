"""Every policy, called directly: a compliant case, a violating case, missing properties, a config override."""

from __future__ import annotations

import copy

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs,
)

from policies import azure_vm, network, onprem, tags, workloads
from policies.pack import POLICIES

HOST = "hyperdock:index:AzureContainerHost"
ONPREM = "hyperdock:index:OnPremContainerHost"


def urn(type_: str, name: str = "r", parent: str | None = HOST) -> str:
    chain = f"{parent}${type_}" if parent else type_
    return f"urn:pulumi:test::hyperdock::{chain}::{name}"


def args(type_: str, props: dict, *, parent: str | None = HOST, config: dict | None = None,
         secret_outputs: list[str] = ()) -> ResourceValidationArgs:
    opts = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), list(secret_outputs))
    return ResourceValidationArgs(type_, props, urn(type_, parent=parent), "r", opts, None, config or {})


def run(policy, validation_args) -> list[str]:
    found: list[str] = []
    policy.validate(validation_args, lambda message, urn=None: found.append(message))
    return found


GOOD_VM = {
    "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
    "identity": {"type": "SystemAssigned"},
    "osProfile": {"adminUsername": "hyperdock", "adminPassword": "x",
                  "windowsConfiguration": {"patchSettings": {"patchMode": "AutomaticByPlatform"}}},
    "storageProfile": {"imageReference": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                                          "sku": "2025-datacenter-azure-edition-core", "version": "latest"}},
    "securityProfile": {"securityType": "TrustedLaunch", "encryptionAtHost": True,
                        "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}},
    "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
    "tags": {"managed-by": "hyperdock", "hyperdock-isolation": "process"},
}
VM = "azure-native:compute:VirtualMachine"


def vm(**changes) -> dict:
    """GOOD_VM with dotted-path changes; a value of None deletes the key."""
    props = copy.deepcopy(GOOD_VM)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = props
        for key in parents:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return props


def vm_args(props=None, **kw):
    return args(VM, props if props is not None else vm(), secret_outputs=kw.pop("secret_outputs", ["osProfile"]), **kw)


# policy → (violating VM changes, a config that accepts the violation or None)
VM_CASES = {
    azure_vm.approved_image: ({"storageProfile__imageReference__sku": "2016-datacenter"},
                              {"allowedSkus": ["^2016-datacenter"]}),
    azure_vm.managed_identity: ({"identity": None}, None),
    azure_vm.boot_diagnostics: ({"diagnosticsProfile": None}, None),
    azure_vm.automatic_patching: ({"osProfile__windowsConfiguration__patchSettings__patchMode": "Manual"}, None),
    azure_vm.encryption: ({"securityProfile__encryptionAtHost": False}, None),
    azure_vm.trusted_launch: ({"securityProfile__securityType": None, "securityProfile__uefiSettings": None,
                               "tags__hyperdock-isolation": "hyperv"}, None),
    azure_vm.nested_virtualization: ({"hardwareProfile__vmSize": "Standard_B8s_v2", "tags__hyperdock-isolation": "hyperv",
                                      "securityProfile__securityType": None}, None),
}


def test_every_policy_is_in_the_pack_with_metadata():
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names)) == 18
    for policy in POLICIES:
        assert policy.name.startswith("hyperdock-")
        assert policy.description and policy.remediation_steps and policy.severity and policy.enforcement_level


@pytest.mark.parametrize("policy", list(VM_CASES), ids=lambda p: p.name)
def test_vm_policy_compliant_violating_missing(policy):
    changes, _ = VM_CASES[policy]
    assert run(policy, vm_args()) == []
    if policy is azure_vm.trusted_launch:
        # The exception: no securityType on a Hyper-V isolation host passes; on a process host it does not.
        assert run(policy, vm_args(vm(**changes))) == []
        standard = vm(**dict(changes, **{"securityProfile__securityType": "Standard"}))
        assert "not in the Azure API's enum" in run(policy, vm_args(standard))[0]
        assert run(policy, vm_args(vm(**dict(changes, **{"tags__hyperdock-isolation": "process"})))) != []
        assert run(policy, vm_args(vm(**changes), config={"allowStandardForNestedVirtualization": False})) != []
    else:
        assert len(run(policy, vm_args(vm(**changes)))) == 1
    # Missing properties: a bare VM is judged, never crashes.
    assert isinstance(run(policy, vm_args({})), list)
    # Outside a hyperdock host the rule does not apply.
    assert run(policy, args(VM, vm(**changes), parent=None)) == []


def test_vm_missing_properties_are_violations_where_they_must_exist():
    bare = vm_args({})
    for policy in (azure_vm.approved_image, azure_vm.managed_identity, azure_vm.boot_diagnostics,
                   azure_vm.automatic_patching, azure_vm.encryption, azure_vm.trusted_launch):
        assert run(policy, bare), policy.name
    assert run(azure_vm.nested_virtualization, bare) == []  # no isolation tag: a process host


def test_approved_image_config_override():
    old = vm_args(vm(storageProfile__imageReference__sku="2016-datacenter"))
    assert run(azure_vm.approved_image, old)
    overridden = vm_args(vm(storageProfile__imageReference__sku="2016-datacenter"), config={"allowedSkus": ["^2016-datacenter"]})
    assert run(azure_vm.approved_image, overridden) == []


def test_admin_password_secret():
    assert run(azure_vm.admin_password_secret, vm_args()) == []
    assert run(azure_vm.admin_password_secret, vm_args(secret_outputs=[])) != []
    assert run(azure_vm.admin_password_secret, vm_args(vm(osProfile__adminPassword=None), secret_outputs=[])) == []
    # Applies to any VM, not only hyperdock's.
    assert run(azure_vm.admin_password_secret, args(VM, vm(), parent=None)) != []


NSG = "azure-native:network:NetworkSecurityGroup"


def rule(source, ports="3389", access="Allow", **extra):
    return dict({"name": "r1", "access": access, "direction": "Inbound", "sourceAddressPrefix": source,
                 "destinationPortRange": ports}, **extra)


@pytest.mark.parametrize("security_rule, violations", [
    (rule("10.0.0.0/24"), 0),
    (rule("*"), 1),
    (rule("Internet", ports="5985-5986"), 1),
    (rule("0.0.0.0/0", ports="*"), 1),
    (rule("Internet", ports="443"), 0),
    (rule("Internet", access="Deny"), 0),
    ({"name": "r2", "access": "Allow", "direction": "Inbound", "sourceAddressPrefixes": ["10.0.0.0/8", "Internet"],
      "destinationPortRanges": ["22", "8080"]}, 1),
    ({}, 0),
])
def test_nsg_no_internet_management(security_rule, violations):
    assert len(run(network.no_internet_management, args(NSG, {"securityRules": [security_rule]}, parent=None))) == violations
    assert run(network.no_internet_management, args(NSG, {}, parent=None)) == []


def test_no_public_ip():
    pip = "azure-native:network:PublicIPAddress"
    nic = "azure-native:network:NetworkInterface"
    assert run(network.no_public_ip, args(pip, {})) != []
    assert run(network.no_public_ip, args(pip, {}, config={"allowPublicIp": True})) == []
    assert run(network.no_public_ip, args(pip, {}, parent=None)) == []  # not a container host's
    assert run(network.no_public_ip, args(nic, {"ipConfigurations": [{"publicIPAddress": {"id": "x"}}]})) != []
    assert run(network.no_public_ip, args(nic, {"ipConfigurations": [{"subnet": {"id": "s"}}]})) == []
    assert run(network.no_public_ip, args(nic, {})) == []


CMD = "command:remote:Command"


def test_ssh_host_key_pinned():
    assert run(onprem.host_key_pinned, args(CMD, {"connection": {"host": "h", "hostKey": "ssh-ed25519 A"}}, parent=ONPREM)) == []
    assert run(onprem.host_key_pinned, args(CMD, {"connection": {"host": "h"}}, parent=ONPREM)) != []
    assert run(onprem.host_key_pinned, args(CMD, {}, parent=ONPREM)) != []
    assert run(onprem.host_key_pinned, args(CMD, {"connection": {"host": "h"}}, parent=None)) == []


def test_ssh_credentials_secret():
    props = {"connection": {"host": "h", "password": "p"}}
    assert run(onprem.ssh_credentials_secret, args(CMD, props, secret_outputs=["connection"])) == []
    assert run(onprem.ssh_credentials_secret, args(CMD, props)) != []
    assert run(onprem.ssh_credentials_secret, args(CMD, {"connection": {"host": "h"}})) == []
    assert run(onprem.ssh_credentials_secret, args(CMD, {})) == []


def test_required_tags():
    group = "azure-native:resources:ResourceGroup"
    assert run(tags.required_tags, args(group, {"tags": {"managed-by": "x"}})) == []
    assert run(tags.required_tags, args(group, {})) == ["missing tags: managed-by"]
    assert run(tags.required_tags, args(group, {"tags": {"managed-by": "x"}}, config={"requiredTags": ["owner", "cost-center"]})) \
        == ["missing tags: owner, cost-center"]
    assert run(tags.required_tags, args("azure-native:compute:VirtualMachineRunCommandByVirtualMachine", {})) == []


WORKLOAD = "hyperdock:index:ContainerWorkload"


def test_allowed_registries():
    ok = args(WORKLOAD, {"image": "mcr.microsoft.com/windows/servercore:ltsc2025"}, parent=None)
    assert run(workloads.allowed_registries, ok) == []
    theirs = args(WORKLOAD, {"image": "docker.io/someone/app:1"}, parent=None)
    assert run(workloads.allowed_registries, theirs) != []
    ours = args(WORKLOAD, {"image": "myregistry.azurecr.io/hyperdock/web01:wave-5"}, parent=None,
                config={"allowedRegistries": ["myregistry.azurecr.io/hyperdock"]})
    assert run(workloads.allowed_registries, ours) == []
    lookalike = args(WORKLOAD, {"image": "myregistry.azurecr.io/hyperdock-evil/x:1"}, parent=None,
                     config={"allowedRegistries": ["myregistry.azurecr.io/hyperdock"]})
    assert run(workloads.allowed_registries, lookalike) != []
    assert run(workloads.allowed_registries, args(WORKLOAD, {}, parent=None)) == []


def resource(type_, name, props):
    opts = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])
    return PolicyResource(type_, props, urn(type_, name, parent=None), name, opts, None, None, [], {})


def stack_violations(resources, config=None) -> list[str]:
    found: list[str] = []
    workloads.process_isolation.validate(StackValidationArgs(resources, config or {}),
                                         lambda message, urn=None: found.append(message))
    return found


def workload(name, host, isolation="process", image_os="ltsc2025", tenant="a", zone="internal"):
    return resource(WORKLOAD, name, {"host": host, "isolation": isolation, "imageOs": image_os, "tenant": tenant, "zone": zone,
                                     "image": "mcr.microsoft.com/x:1"})


def test_process_isolation_stack_policy():
    hosts = [resource(HOST, "h1", {"hostOs": "ltsc2025", "isolation": "process"}),
             resource(HOST, "h2", {"hostOs": "ltsc2022", "isolation": "both"})]
    assert stack_violations(hosts + [workload("w1", "h1"), workload("w2", "h1", image_os="ltsc2022")]) == []
    mixed = stack_violations(hosts + [workload("w1", "h1"), workload("w2", "h1", tenant="b")])
    assert len(mixed) == 2 and all("other tenants or zones" in m for m in mixed)
    zones = stack_violations(hosts + [workload("w1", "h1"), workload("w2", "h1", zone="dmz")])
    assert len(zones) == 2
    old_image = stack_violations(hosts + [workload("w3", "h2", image_os="ltsc2019")])
    assert old_image == ["w3 runs with process isolation, but its ltsc2019 image cannot run process-isolated on a ltsc2022 host"]
    assert stack_violations(hosts + [workload("w3", "h2", image_os="ltsc2019", isolation="hyperv")]) == []
    # Missing facts: an unknown host or image OS is not guessed at.
    assert stack_violations([workload("w4", "nowhere", image_os="")]) == []
