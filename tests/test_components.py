"""The Pulumi components under mocks: what they register, with which properties and parents."""

from __future__ import annotations

import pulumi
import pytest
from google.protobuf import json_format

import pulumi_mocks
import sdk_inputs
from components.azure_host import AzureContainerHost
from components.onprem_host import OnPremContainerHost
from components.workload import ContainerDefinition, ContainerWorkload, run_script
from migrate.core.errors import HostConfigError, WorkloadConfigError

SECRET_SIG = "4dabf18193072939515e22adb298388d"


@pytest.fixture
def monitor():
    mon = pulumi_mocks.start()
    yield mon
    pulumi_mocks.stop()


def props(request) -> dict:
    return json_format.MessageToDict(request.object)


def is_secret(value) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


def plain_text(value) -> str:
    """Every string of `value` outside Pulumi secrets, joined."""
    if is_secret(value):
        return ""
    if isinstance(value, dict):
        return "\n".join(plain_text(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(plain_text(v) for v in value)
    return value if isinstance(value, str) else ""


def one(monitor, type_token):
    (request,) = monitor.by_type(type_token)
    return request


def settle(*outputs):
    """Wait for registrations: a test returns this Output from a @pulumi.runtime.test function."""
    return pulumi.Output.all(*outputs)


@pulumi.runtime.test
def test_azure_host_defaults_are_closed_and_secret(monitor):
    host = AzureContainerHost("web", {"management_cidrs": ["10.1.0.0/24"]})

    def check(_):
        types = [r.type for r in monitor.requests]
        assert "azure-native:network:PublicIPAddress" not in types
        component = one(monitor, "hyperdock:index:AzureContainerHost")
        for request in monitor.requests:
            if request.type not in ("pulumi:pulumi:Stack", "hyperdock:index:AzureContainerHost"):
                assert request.parent.endswith("hyperdock:index:AzureContainerHost::web"), request.type
                assert request.name.startswith("web-"), request.name
        assert component.parent.endswith("pulumi:pulumi:Stack::hyperdock-test")

        rules = props(one(monitor, "azure-native:network:NetworkSecurityGroup"))["securityRules"]
        allows = [r for r in rules if r["access"] == "Allow" and r["direction"] == "Inbound"]
        assert [r["sourceAddressPrefix"] for r in allows] == ["10.1.0.0/24"]
        assert sorted(allows[0]["destinationPortRanges"]) == ["22", "3389", "5986"]
        deny = next(r for r in rules if r["access"] == "Deny")
        assert deny["sourceAddressPrefix"] == "Internet" and deny["priority"] > allows[0]["priority"]

        vm = props(one(monitor, "azure-native:compute:VirtualMachine"))
        assert is_secret(vm["osProfile"]["adminPassword"])
        assert vm["identity"] == {"type": "SystemAssigned"}
        assert vm["diagnosticsProfile"] == {"bootDiagnostics": {"enabled": True}}
        assert vm["osProfile"]["windowsConfiguration"]["patchSettings"]["patchMode"] == "AutomaticByPlatform"
        assert vm["securityProfile"] == {"securityType": "TrustedLaunch", "encryptionAtHost": True,
                                         "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
        assert vm["storageProfile"]["imageReference"] == {
            "publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
            "sku": "2025-datacenter-azure-edition-core", "version": "latest"}
        steps = {r.name: r for r in monitor.by_type("azure-native:compute:VirtualMachineRunCommandByVirtualMachine")}
        assert sorted(steps) == ["web-prepare", "web-runtime"]
        prepare = props(steps["web-prepare"])["source"]["script"]
        assert "Install-WindowsFeature" in prepare and "Hyper-V" not in prepare and "Add-Computer" not in prepare
        assert prepare.index("Install-WindowsFeature") < prepare.index("shutdown.exe /r /t 10")
        assert all(props(r)["treatFailureAsDeploymentFailure"] is True for r in steps.values())
        # prepare (features, restart) → pause on the Pulumi machine → runtime, each waiting for the one before
        (pause,) = monitor.by_type("command:local:Command")
        assert any(d.endswith("::web-vm") for d in steps["web-prepare"].dependencies)
        assert any(d.endswith("::web-prepare") for d in pause.dependencies)
        assert any(d.endswith("::web-reboot-pause") for d in steps["web-runtime"].dependencies)
        # Stacks made when the features were their own step keep that step's state (URN alias).
        assert [a.spec.name for a in steps["web-prepare"].aliases if a.spec.name] == ["web-features"]
        assert "LastBootUpTime" in props(steps["web-runtime"])["source"]["script"]
        assert_sdk_valid(monitor)

    return settle(host.urn, host.runtime.urn, host.private_ip).apply(check)


@pulumi.runtime.test
def test_hyperv_host_with_trusted_launch_asked_for(monitor):
    host = AzureContainerHost("tl", {"isolation": "both", "vm_size": "Standard_D8as_v6", "security_type": "TrustedLaunch",
                                     "encryption_at_host": False})

    def check(_):
        vm = props(one(monitor, "azure-native:compute:VirtualMachine"))
        assert vm["securityProfile"] == {"securityType": "TrustedLaunch", "encryptionAtHost": False,
                                         "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
        assert_sdk_valid(monitor)

    return settle(host.urn, host.runtime.urn).apply(check)


@pulumi.runtime.test
def test_azure_host_outputs(monitor):
    host = AzureContainerHost("out", {})

    def check(values):
        private_ip, principal, password_is_secret = values
        assert private_ip == "10.20.1.4"
        assert principal == "00000000-0000-0000-0000-00000000abcd"
        assert password_is_secret

    return pulumi.Output.all(host.private_ip, host.principal_id,
                             pulumi.Output.from_input(host.admin_password.is_secret())).apply(check)


def assert_sdk_valid(monitor):
    """Every registered azure-native resource's inputs exist in the SDK's types, enum values included."""
    checked = 0
    for request in monitor.requests:
        if request.type.startswith("azure-native:"):
            assert sdk_inputs.check(request.type, props(request)) == [], request.name
            checked += 1
    assert checked


@pulumi.runtime.test
def test_hyperv_host_leaves_security_type_out_and_installs_hyperv(monitor):
    host = AzureContainerHost("hv", {"isolation": "hyperv", "vm_size": "Standard_D8s_v3",
                                     "public_ip": True, "admin_password": "Given-Password-9!"})

    def check(_):
        vm = props(one(monitor, "azure-native:compute:VirtualMachine"))
        assert vm["securityProfile"] == {"encryptionAtHost": True}  # a standard VM: no securityType, no UEFI
        assert_sdk_valid(monitor)
        assert is_secret(vm["osProfile"]["adminPassword"])
        assert not monitor.by_type("random:index/randomPassword:RandomPassword")  # the given password is used
        assert monitor.by_type("azure-native:network:PublicIPAddress")  # asked for
        nsg = props(one(monitor, "azure-native:network:NetworkSecurityGroup"))
        assert not [r for r in nsg["securityRules"] if r["access"] == "Allow"]  # still nothing inbound
        steps = {r.name: props(r) for r in monitor.by_type("azure-native:compute:VirtualMachineRunCommandByVirtualMachine")}
        script = steps["hv-prepare"]["source"]["script"]
        # Azure nested virtualization: Hyper-V through the optional-feature cmdlets (Virtualization-Documentation#1975)
        assert "@('Containers')" in script
        assert "Enable-WindowsOptionalFeature -Online -FeatureName 'Microsoft-Hyper-V' -All -NoRestart" in script

    return settle(host.urn, host.runtime.urn).apply(check)


@pulumi.runtime.test
def test_azure_domain_join_is_in_the_prepare_step_with_a_protected_password(monitor):
    host = AzureContainerHost("dj", {"domain": "corp.example", "domain_user": "CORP\\joiner",
                                     "domain_password": "j0in-pw"})

    def check(_):
        steps = {r.name: r for r in monitor.by_type("azure-native:compute:VirtualMachineRunCommandByVirtualMachine")}
        assert sorted(steps) == ["dj-prepare", "dj-runtime"]
        body = props(steps["dj-prepare"])
        script = body["source"]["script"]
        assert script.startswith("param([string] $JoinPassword)\n")
        # features, then the join, then the restart when either asked for one
        assert script.index("Install-WindowsFeature") < script.index("Add-Computer @joinArgs") < script.index("shutdown.exe")
        (parameter,) = body["protectedParameters"]
        assert parameter["name"] == "JoinPassword" and is_secret(parameter["value"])
        for request in monitor.requests:
            assert "j0in-pw" not in plain_text(props(request)), request.name
        assert_sdk_valid(monitor)

    return settle(host.urn, host.runtime.urn).apply(check)


@pytest.mark.parametrize("args, message", [
    ({"isolation": "hyperv", "vm_size": "Standard_B8s_v2"}, "does not support nested virtualization"),
    ({"isolation": "hyperv", "vm_size": "Standard_D4_v3"}, r"Dv3\) has Generation 1 only and no Premium storage"),
    ({"isolation": "process", "vm_size": "Standard_D16_v3"}, r"Dv3\) has Generation 1 only"),
    ({"isolation": "hyperv", "vm_size": "Standard_E8s_v5"}, "not in hyperdock's size table"),
    ({"isolation": "hyperv", "vm_size": "Standard_D4s_v5", "security_type": "Standard"}, "not in the Azure API's enum"),
    ({"isolation": "hyperv", "vm_size": "Standard_D4s_v5", "security_type": "ConfidentialVM"}, "expected TrustedLaunch"),
    ({"encryption_at_host": "yes"}, "Microsoft.Compute/EncryptionAtHost"),
    ({"management_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]}, "not a private range"),
    ({"management_cidrs": ["203.0.113.0/24"]}, "not a private range"),
    ({"isolation": "process", "image_sku": "2022-datacenter-azure-edition", "workload_image_os": ["ltsc2019"]},
     "cannot run process-isolated on a ltsc2022 host"),
    ({"workload_image_os": ["ltsc2025"], "image_sku": "2022-datacenter-azure-edition-core"}, "cannot run on a ltsc2022 host"),
    ({"management_cidrs": ["0.0.0.0/0"]}, "would open RDP/WinRM/SSH to the internet"),
    ({"management_cidrs": ["Internet"]}, "would open RDP/WinRM/SSH to the internet"),
    ({"image_sku": "2019-datacenter"}, "imageSku"),
    ({"admin_username": "Administrator"}, "adminUsername"),
    ({"isolation": "gvisor"}, "isolation: expected one of"),
    ({"nat_subnet": "8.8.8.0/24"}, "natSubnet"),
])
def test_azure_host_validation_registers_nothing(monitor, args, message):
    with pytest.raises((HostConfigError, ValueError), match=message):
        AzureContainerHost("bad", args)
    assert [r.type for r in monitor.requests] == []


@pulumi.runtime.test
def test_onprem_host_steps_in_order_with_secret_credentials(monitor):
    host = OnPremContainerHost("dc1-host", {"address": "10.0.5.20", "user": "CORP\\deploy", "password": "pw",
                                            "host_key": "ssh-ed25519 AAAA", "isolation": "both", "host_os": "ltsc2022",
                                            "domain": "corp.example", "domain_user": "CORP\\joiner",
                                            "domain_password": "j0in-pw"})

    def check(_):
        by_name = {c.name: c for c in monitor.by_type("command:remote:Command")}
        assert sorted(by_name) == ["dc1-host-domain-join", "dc1-host-install-features", "dc1-host-reboot", "dc1-host-runtime"]
        commands = [by_name[f"dc1-host-{step}"] for step in ("install-features", "domain-join", "reboot", "runtime")]
        install, join, reboot, runtime = (props(c) for c in commands)
        for c in (install, join, reboot, runtime):
            assert c["create"].startswith("powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ")
            assert len(c["create"]) <= 8191  # cmd.exe's limit
            assert is_secret(c["connection"]) or is_secret(c["connection"].get("password"))
        # The runtime script is too long for a command line: it goes through stdin.
        assert "stdin" not in install
        assert "LastBootUpTime" in runtime["stdin"] and "docker-compose.exe" in runtime["stdin"]
        # The domain password reaches the host only in the secret stdin.
        assert is_secret(join["stdin"]) and "j0in-pw" in join["stdin"]["value"] and "Add-Computer" in join["stdin"]["value"]
        assert "stdin" in commands[1].additionalSecretOutputs
        (pause,) = monitor.by_type("command:local:Command")
        assert any(d.endswith("::dc1-host-install-features") for d in commands[1].dependencies)
        assert any(d.endswith("::dc1-host-domain-join") for d in commands[2].dependencies)
        assert any(d.endswith("::dc1-host-reboot") for d in pause.dependencies)
        assert any(d.endswith("::dc1-host-reboot-pause") for d in commands[3].dependencies)
        runtime_connection = runtime["connection"]["value"] if is_secret(runtime["connection"]) else runtime["connection"]
        assert runtime_connection["dialErrorLimit"] == -1
        assert runtime_connection["hostKey"] == "ssh-ed25519 AAAA"

    return settle(host.urn, host.runtime.urn).apply(check)


def test_onprem_host_needs_a_credential(monitor):
    with pytest.raises(HostConfigError, match="password or private_key"):
        OnPremContainerHost("x", {"address": "10.0.0.1"})
    assert monitor.requests == []


@pulumi.runtime.test
def test_workload_on_azure_host_keeps_secrets_in_protected_parameters(monitor):
    workload = ContainerWorkload("web01", {
        "image": "reg.example/hd/web01:wave-5", "isolation": "hyperv", "ports": [80, 443],
        "secrets": {"SHOPDB": "Server=db;Password=p@ss"}, "credential_spec": "web01_credspec.json",
        "azure_vm": {"resource_group_name": "rg", "vm_name": "host-01", "location": "westeurope"}})

    def check(_):
        run = props(one(monitor, "azure-native:compute:VirtualMachineRunCommandByVirtualMachine"))
        script = run["source"]["script"]
        assert "'--isolation=hyperv'" in script and "'--publish', '80:80'" in script
        assert "credentialspec=file://web01_credspec.json" in script
        assert "p@ss" not in script
        (parameter,) = run["protectedParameters"]
        assert parameter["name"] == "S_SHOPDB" and is_secret(parameter["value"])
        assert run["runCommandName"].startswith("hyperdock-web01-")

    return settle(workload.urn, workload.run.urn).apply(check)


@pulumi.runtime.test
def test_workload_on_onprem_host_is_a_secret_command_replaced_on_change(monitor):
    workload = ContainerWorkload("api01", {
        "image": "reg.example/hd/api01:wave-5", "isolation": "process", "secrets": {"SHOPDB": "secret-value"},
        "connection": {"host": "10.0.0.9", "user": "u", "password": pulumi.Output.secret("pw")}})

    def check(digest):
        run = props(one(monitor, "command:remote:Command"))
        assert is_secret(run["stdin"]) and "secret-value" in run["stdin"]["value"]
        assert "secret-value" not in run["create"] and len(run["create"]) <= 8191
        assert run["triggers"] == [digest]
        assert run["logging"] == "none"
        assert "EncodedCommand" in run["delete"]

    return workload.definition_digest.apply(lambda d: settle(workload.run.urn).apply(lambda _: check(d)))


def test_workload_mounts_data_volumes_and_keeps_old_digests():
    plain = ContainerDefinition(name="web01", image="reg.example/hd/web01:wave-5", isolation="process", ports=(80,))
    # The digest this definition had before volumes existed: upgrading hyperdock replaces no container.
    assert plain.digest() == "c61aedb353"
    mounted = ContainerDefinition(name="web01", image="reg.example/hd/web01:wave-5", isolation="process", ports=(80,),
                                  volumes=(("web01-data-d", "C:\\hyperdock\\D"),))
    assert mounted.digest() != plain.digest()
    script = run_script(mounted)
    assert "'--volume', 'web01-data-d:C:\\hyperdock\\D'" in script
    assert script.index("'--volume'") < script.index("'reg.example/hd/web01:wave-5'")  # an option, before the image
    assert "--volume" not in run_script(plain)


@pytest.mark.parametrize("args, message", [
    ({"image": "reg.example/web01:1", "volumes": {"web01-data-d;calc": "C:\\hyperdock\\D"}}, "docker volume name"),
    ({"image": "reg.example/web01:1", "volumes": {"web01-data-d": "C:\\"}}, "folder of C:"),
    ({"image": "reg.example/web01:1", "volumes": {"web01-data-d": "D:\\data"}}, "folder of C:"),
    ({"image": "web01:latest"}, "tag other than latest"),
    ({"image": "hyperdock/web01:wave-5"}, "registry host"),  # Docker Hub by accident
    ({"image": "other.example/web01:1", "registry_server": "reg.example", "registry_auth": "none"}, "not from the registry"),
    ({"image": "reg.example/web01:1", "registry_server": "reg.example", "registry_auth": "password",
      "registry_username": "u"}, "registry_password"),
    ({"image": "web01"}, "tag other than latest"),
    ({"image": "reg.example/web01:1", "isolation": "sandbox"}, "isolation"),
    ({"image": "reg.example/web01:1", "ports": [70000]}, "not a port"),
    ({"image": "reg.example/web01:1", "container_name": "Web_01"}, "DNS-1123"),
    ({"image": "reg.example/web01:1", "environment": {"A B": "x"}}, "variable name"),
])
def test_workload_validation_registers_nothing(monitor, args, message):
    with pytest.raises(WorkloadConfigError, match=message):
        ContainerWorkload("w", {"azure_vm": {"resource_group_name": "rg", "vm_name": "v", "location": "l"}, **args})
    assert monitor.requests == []


def test_workload_needs_exactly_one_host(monitor):
    with pytest.raises(WorkloadConfigError, match="exactly one"):
        ContainerWorkload("w", {"image": "reg.example/w:1"})


def test_components_infer_a_provider_schema():
    """What `pulumi package add ./components` relies on: args and outputs the analyzer understands."""
    from pulumi.provider.experimental.analyzer import Analyzer

    schema = Analyzer("hyperdock").analyze([AzureContainerHost, OnPremContainerHost, ContainerWorkload])
    components = schema["component_definitions"]
    assert set(components) == {"AzureContainerHost", "OnPremContainerHost", "ContainerWorkload"}
    for component in components.values():
        for name, prop in {**component.inputs, **component.outputs}.items():
            assert prop.description, f"{component.name}.{name} has no docstring"
    assert components["AzureContainerHost"].inputs["vmSize"].optional
    assert "adminPassword" in components["AzureContainerHost"].outputs


@pulumi.runtime.test
def test_existing_network_is_reused(monitor):
    host = AzureContainerHost("shared", {"resource_group_name": "rg-existing", "subnet_id": "/subnets/hosts",
                                         "network_security_group_id": "/nsgs/stack"})

    def check(_):
        types = {r.type for r in monitor.requests}
        assert not types & {"azure-native:resources:ResourceGroup", "azure-native:network:VirtualNetwork",
                            "azure-native:network:NetworkSecurityGroup"}
        nic = props(one(monitor, "azure-native:network:NetworkInterface"))
        assert nic["networkSecurityGroup"] == {"id": "/nsgs/stack"}
        assert nic["ipConfigurations"][0]["subnet"] == {"id": "/subnets/hosts"}
        assert nic["resourceGroupName"] == "rg-existing"

    return settle(host.urn, host.runtime.urn).apply(check)


@pulumi.runtime.test
def test_azure_workload_logs_in_with_its_managed_identity_before_the_pull(monitor):
    workload = ContainerWorkload("web01", {
        "image": "myacr01.azurecr.io/hd/web01:wave-5", "isolation": "process", "registry_server": "myacr01.azurecr.io",
        "registry_auth": "managed-identity",
        "azure_vm": {"resource_group_name": "rg", "vm_name": "host-01", "location": "westeurope"}})

    def check(_):
        script = props(one(monitor, "azure-native:compute:VirtualMachineRunCommandByVirtualMachine"))["source"]["script"]
        assert "http://169.254.169.254/metadata/identity/oauth2/token" in script
        assert "('https://{0}/oauth2/exchange' -f $registry)" in script
        assert script.index("docker login $registry") < script.index("& docker @arguments")
        assert "--password-stdin" in script and "00000000-0000-0000-0000-000000000000" in script

    return settle(workload.urn, workload.run.urn).apply(check)


@pulumi.runtime.test
def test_onprem_workload_logs_in_with_a_secret_password(monitor):
    workload = ContainerWorkload("api01", {
        "image": "registry.corp.example/hd/api01:wave-5", "isolation": "process",
        "registry_server": "registry.corp.example", "registry_auth": "password", "registry_username": "puller",
        "registry_password": pulumi.Output.secret("reg-pw-1"),
        "connection": {"host": "10.0.0.9", "user": "u", "password": pulumi.Output.secret("pw")}})

    def check(_):
        run = props(one(monitor, "command:remote:Command"))
        assert is_secret(run["stdin"])
        script = run["stdin"]["value"]
        assert "$secretText = 'reg-pw-1'" in script and "$user = 'puller'" in script
        assert script.index("docker login $registry") < script.index("& docker @arguments")
        assert "reg-pw-1" not in run["create"]

    return settle(workload.urn, workload.run.urn).apply(check)


def test_onprem_workload_cannot_use_a_managed_identity(monitor):
    with pytest.raises(WorkloadConfigError, match="no managed identity"):
        ContainerWorkload("w", {"image": "myacr01.azurecr.io/w:1", "registry_server": "myacr01.azurecr.io",
                                "registry_auth": "managed-identity", "connection": {"host": "h"}})
    assert monitor.requests == []
