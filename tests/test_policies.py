"""Every policy, called directly: a compliant case, a violating case, missing properties, a config override."""

from __future__ import annotations

import copy
from dataclasses import dataclass

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


def test_every_policy_is_in_the_pack_with_metadata():
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names)) == 18
    for policy in POLICIES:
        assert policy.name.startswith("hyperdock-")
        assert policy.description and policy.remediation_steps and policy.severity and policy.enforcement_level


NSG = "azure-native:network:NetworkSecurityGroup"
RULE = "azure-native:network:SecurityRule"
PIP = "azure-native:network:PublicIPAddress"
NIC = "azure-native:network:NetworkInterface"
CMD = "command:remote:Command"


def rule(source, ports="3389", access="Allow", **extra):
    return dict({"name": "r1", "access": access, "direction": "Inbound", "sourceAddressPrefix": source,
                 "destinationPortRange": ports}, **extra)


@dataclass
class Case:
    """One policy's fixed test matrix: a compliant and a violating resource, what a bare resource
    gives, and a config that changes the verdict (besides onlyHyperdockComponents, tested for all)."""

    type_: str
    compliant: dict
    violating: dict
    missing_violates: bool
    parent: str = HOST
    secret_outputs: tuple = ("osProfile",)
    config: dict | None = None          # turns `violating` compliant
    config_violates: tuple | None = None  # (config, props): turns compliant props into a violation


CASES = {
    azure_vm.approved_image: Case(VM, vm(), vm(storageProfile__imageReference__sku="2016-datacenter"), True,
                                  config={"allowedSkus": ["^2016-datacenter"]}),
    azure_vm.managed_identity: Case(VM, vm(), vm(identity=None), True),
    azure_vm.boot_diagnostics: Case(VM, vm(), vm(diagnosticsProfile=None), True),
    azure_vm.automatic_patching: Case(VM, vm(), vm(osProfile__windowsConfiguration__patchSettings__patchMode="Manual"), True),
    azure_vm.encryption: Case(VM, vm(), vm(securityProfile__encryptionAtHost=False), True),
    azure_vm.trusted_launch: Case(
        VM, vm(), vm(securityProfile__securityType="Standard", securityProfile__uefiSettings=None), True,
        config_violates=({"allowStandardForNestedVirtualization": False},
                         vm(securityProfile__securityType=None, securityProfile__uefiSettings=None,
                            **{"tags__hyperdock-isolation": "hyperv"}))),
    azure_vm.nested_virtualization: Case(
        VM, vm(**{"tags__hyperdock-isolation": "hyperv"}),
        vm(hardwareProfile__vmSize="Standard_D4_v3", **{"tags__hyperdock-isolation": "hyperv"}), False),
    azure_vm.admin_password_secret: Case(VM, vm(), vm(), False, secret_outputs=()),
    network.no_public_ip: Case(NIC, {"ipConfigurations": [{"subnet": {"id": "s"}}]},
                               {"ipConfigurations": [{"publicIPAddress": {"id": "x"}}]}, False, config={"allowPublicIp": True}),
    network.no_internet_management: Case(NSG, {"securityRules": [rule("10.0.0.0/24")]},
                                         {"securityRules": [rule("Internet", ports="5985-5986")]}, False),
    onprem.host_key_pinned: Case(CMD, {"connection": {"host": "h", "hostKey": "ssh-ed25519 A"}},
                                 {"connection": {"host": "h"}}, True, parent=ONPREM, secret_outputs=("connection",)),
    onprem.ssh_credentials_secret: Case(CMD, {"connection": {"host": "h", "password": "p"}},
                                        {"connection": {"host": "h", "password": "p"}}, False, parent=ONPREM,
                                        secret_outputs=()),
}
# The compliant case of a Case whose violation is only in the options: run it with these secret outputs.
COMPLIANT_SECRET_OUTPUTS = {onprem.ssh_credentials_secret: ("connection",), azure_vm.admin_password_secret: ("osProfile",)}


def case_args(policy, props, *, parent=HOST, config=None, compliant=False):
    case = CASES[policy]
    outputs = COMPLIANT_SECRET_OUTPUTS.get(policy, case.secret_outputs) if compliant else case.secret_outputs
    return args(case.type_, props, parent=parent, config=config, secret_outputs=list(outputs))


@pytest.mark.parametrize("policy", list(CASES), ids=lambda p: p.name)
def test_policy_matrix(policy):
    case = CASES[policy]
    # 1. compliant
    assert run(policy, case_args(policy, case.compliant, parent=case.parent, compliant=True)) == []
    # 2. violating, inside a hyperdock component and in the stack at large (hand-written resources too)
    assert run(policy, case_args(policy, case.violating, parent=case.parent))
    assert run(policy, case_args(policy, case.violating, parent=None))
    # 3. missing properties: judged, never a crash
    assert bool(run(policy, case_args(policy, {}, parent=case.parent))) is case.missing_violates
    # 4. config: onlyHyperdockComponents narrows to hyperdock's components
    narrow = {"onlyHyperdockComponents": True}
    assert run(policy, case_args(policy, case.violating, parent=None, config=narrow)) == []
    assert run(policy, case_args(policy, case.violating, parent=case.parent, config=narrow))
    assert "onlyHyperdockComponents" in policy.config_schema.properties
    if case.config is not None:
        assert run(policy, case_args(policy, case.violating, parent=case.parent, config=case.config)) == []
    if case.config_violates is not None:
        config, props = case.config_violates
        assert run(policy, case_args(policy, props, parent=case.parent)) == []
        assert run(policy, case_args(policy, props, parent=case.parent, config=config))


def test_trusted_launch_exception_is_for_hyperv_hosts_only():
    standard_vm = vm(securityProfile__securityType=None, securityProfile__uefiSettings=None)
    assert run(azure_vm.trusted_launch, vm_args(vm(**{"tags__hyperdock-isolation": "hyperv"}, securityProfile__securityType=None,
                                                     securityProfile__uefiSettings=None))) == []
    assert run(azure_vm.trusted_launch, vm_args(standard_vm)) != []  # a process host must use Trusted Launch
    assert "not in the Azure API's enum" in run(azure_vm.trusted_launch, vm_args(vm(securityProfile__securityType="Standard")))[0]


@pytest.mark.parametrize("size, violates", [("Standard_D4s_v5", False), ("Standard_D8s_v3", False), ("Standard_D8as_v6", False),
                                            ("Standard_D4_v3", True), ("Standard_B8s_v2", True), ("Standard_E8s_v5", True)])
def test_nested_virtualization_reads_the_size_table(size, violates):
    props = vm(hardwareProfile__vmSize=size, **{"tags__hyperdock-isolation": "hyperv"})
    assert bool(run(azure_vm.nested_virtualization, vm_args(props))) is violates


@pytest.mark.parametrize("security_rule, violations", [
    (rule("10.0.0.0/24"), 0),
    (rule("VirtualNetwork"), 0),
    (rule("fd00::/8"), 0),
    (rule("*"), 1),
    (rule("Internet", ports="5985-5986"), 1),
    (rule("0.0.0.0/0", ports="*"), 1),
    (rule("0.0.0.0/1"), 1),
    (rule("128.0.0.0/1", ports="22"), 1),
    (rule("203.0.113.0/24", ports="5986"), 1),
    (rule("Internet", ports="443"), 0),
    (rule("Internet", access="Deny"), 0),
    ({"name": "r2", "access": "Allow", "direction": "Inbound", "sourceAddressPrefixes": ["10.0.0.0/8", "Internet"],
      "destinationPortRanges": ["22", "8080"]}, 1),
    ({}, 0),
])
def test_nsg_and_standalone_rules_no_management_from_outside(security_rule, violations):
    assert len(run(network.no_internet_management, args(NSG, {"securityRules": [security_rule]}, parent=None))) == violations
    # The same rule as a standalone network.SecurityRule resource.
    assert len(run(network.no_internet_management, args(RULE, security_rule, parent=None))) == violations


def test_every_public_ip_resource_is_a_violation():
    assert run(network.no_public_ip, args(PIP, {}, parent=None)) != []
    assert run(network.no_public_ip, args(PIP, {}, parent=None, config={"allowPublicIp": True})) == []


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
    # A host of any platform counts: its component's inputs carry hostOs, whatever its type.
    other = [resource("hyperdock:index:SomeOtherPlatformHost", "h3", {"hostOs": "ltsc2022", "isolation": "process"})]
    assert stack_violations(other + [workload("w3", "h3", image_os="ltsc2019")]) == [
        "w3 runs with process isolation, but its ltsc2019 image cannot run process-isolated on a ltsc2022 host"]
    # Missing facts: an unknown host or image OS is not guessed at.
    assert stack_violations([workload("w4", "nowhere", image_os="")]) == []
