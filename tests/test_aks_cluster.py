"""AksWindowsCluster under mocks, and the AKS policies: compliant, violating, missing properties."""

from __future__ import annotations

import copy

import pulumi
import pytest
from google.protobuf import json_format
from pulumi_azure_native.containerservice import NodeOSUpgradeChannel, OSSKU
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs

import pulumi_mocks
from conftest import ROOT
from components.aks_cluster import AksWindowsCluster, acr_pull_role, aks_cluster_settings
from policies import aks as aks_policies
from policies.pack import POLICIES
from migrate.core.errors import AksConfigError

SECRET_SIG = "4dabf18193072939515e22adb298388d"
POOLS = [{"name": "w22001", "os_sku": "Windows2022", "vm_size": "Standard_D8s_v5", "node_count": 3, "min_count": 3,
          "max_count": 4, "tenant": "contoso", "zone": "internal"},
         {"name": "w22002", "os_sku": "Windows2022", "vm_size": "Standard_D8s_v5", "node_count": 1, "min_count": 1,
          "max_count": 2, "tenant": "fabrikam", "zone": "dmz"}]
ACR = "/subscriptions/1111/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/reg"


@pytest.fixture
def monitor():
    mon = pulumi_mocks.start()
    yield mon
    pulumi_mocks.stop()


def props(request) -> dict:
    return json_format.MessageToDict(request.object)


@pulumi.runtime.test
def test_cluster_pools_identity_and_secure_defaults(monitor):
    cluster = AksWindowsCluster("estate", {"windows_pools": POOLS, "max_pods": 40, "gmsa": True, "acr_id": ACR})

    def check(_):
        (managed,) = monitor.by_type("azure-native:containerservice:ManagedCluster")
        body = props(managed)
        (system,) = body["agentPoolProfiles"]
        assert system["mode"] == "System" and system["osType"] == "Linux"
        assert body["networkProfile"]["networkPlugin"] == "azure"
        assert body["apiServerAccessProfile"]["enablePrivateCluster"] is True
        assert body["disableLocalAccounts"] is True and body["aadProfile"]["enableAzureRBAC"] is True
        assert body["autoUpgradeProfile"]["nodeOSUpgradeChannel"] == NodeOSUpgradeChannel.NODE_IMAGE.value
        assert body["identity"]["type"] == "SystemAssigned"
        assert body["windowsProfile"]["gmsaProfile"] == {"enabled": True}
        assert SECRET_SIG in body["windowsProfile"]["adminPassword"]  # still a secret
        assert "windowsProfile" in managed.additionalSecretOutputs
        pools = {props(r)["agentPoolName"]: props(r) for r in monitor.by_type("azure-native:containerservice:AgentPool")}
        assert sorted(pools) == ["w22001", "w22002"]
        windows_skus = {m.value for m in OSSKU if m.value.startswith("Windows")}
        for spec in POOLS:
            pool = pools[spec["name"]]
            assert pool["osType"] == "Windows" and pool["osSKU"] in windows_skus and pool["mode"] == "User"
            assert (pool["count"], pool["minCount"], pool["maxCount"]) == (spec["node_count"], spec["min_count"], spec["max_count"])
            assert pool["enableAutoScaling"] is True and pool["maxPods"] == 40
            assert pool["nodeLabels"]["hyperdock.io/pool"] == spec["name"]
            assert pool["nodeTaints"] == [f"hyperdock.io/pool={spec['name']}:NoSchedule"]
            assert pool["enableNodePublicIP"] is False
        (grant,) = monitor.by_type("azure-native:authorization:RoleAssignment")
        grant = props(grant)
        assert grant["scope"] == ACR and grant["principalId"] == "00000000-0000-0000-0000-00000000cafe"
        assert grant["roleDefinitionId"].endswith("/7f951dda-4ed3-4680-a7ca-43fe172d538d")
        for request in monitor.requests:
            if request.type not in ("pulumi:pulumi:Stack", "hyperdock:index:AksWindowsCluster"):
                assert request.parent.endswith("hyperdock:index:AksWindowsCluster::estate"), request.type

    return pulumi.Output.all(cluster.urn, cluster.kubeconfig, cluster.acr_pull.urn,
                             *[p.urn for p in cluster.pools.values()]).apply(check)


@pulumi.runtime.test
def test_kubeconfig_is_secret(monitor):
    cluster = AksWindowsCluster("estate", {"windows_pools": POOLS[:1]})

    async def check():
        assert await cluster.kubeconfig.is_secret()
        assert "mock.invalid" in await cluster.kubeconfig.future()
    return pulumi.Output.from_input(check())


@pulumi.runtime.test
def test_no_registry_no_role_assignment_and_no_gmsa(monitor):
    cluster = AksWindowsCluster("estate", {"windows_pools": POOLS[:1]})

    def check(_):
        assert monitor.by_type("azure-native:authorization:RoleAssignment") == []
        (managed,) = monitor.by_type("azure-native:containerservice:ManagedCluster")
        assert "gmsaProfile" not in props(managed)["windowsProfile"]
    return cluster.cluster.urn.apply(check)


@pytest.mark.parametrize("args, field", [
    ({"private_cluster": False}, "private_cluster"),
    ({"authorized_ip_ranges": ["0.0.0.0/0"]}, "authorized_ip_ranges"),
    ({"authorized_ip_ranges": ["0.0.0.0/1", "128.0.0.0/1"]}, "authorized_ip_ranges"),
    ({"authorized_ip_ranges": ["2000::/3"]}, "authorized_ip_ranges"),
    ({"authorized_ip_ranges": ["not-a-cidr"]}, "authorized_ip_ranges"),
    ({"network_policy": "cilium"}, "network_policy"),
    ({"max_pods": 300}, "max_pods"),
    ({"windows_pools": [dict(POOLS[0], name="windows-pool")]}, "windows_pools"),
    ({"windows_pools": [dict(POOLS[0], os_sku="Windows2025")]}, "os_sku"),
    ({"windows_pools": [dict(POOLS[0], os_sku="Ubuntu")]}, "os_sku"),
    ({"windows_pools": [dict(POOLS[0], min_count=5)]}, "min_count"),
    ({"windows_pools": [POOLS[0], POOLS[0]]}, "unique"),
    ({"gmsa_dns_server": "10.0.0.4"}, "gmsa_root_domain_name"),
    ({"gmsa_dns_server": "dc01", "gmsa_root_domain_name": "contoso.local"}, "IP address"),
])
def test_bad_settings_are_refused_before_anything_exists(args, field):
    with pytest.raises(AksConfigError, match=field):
        aks_cluster_settings(args)


def test_public_api_server_with_ranges_is_allowed():
    settings = aks_cluster_settings({"authorized_ip_ranges": ["203.0.113.0/24"]})
    assert settings.private_cluster is False and settings.authorized_ip_ranges == ["203.0.113.0/24"]


def test_acr_pull_role_is_in_the_registry_subscription():
    assert acr_pull_role(ACR) == "/subscriptions/1111/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d"
    with pytest.raises(AksConfigError):
        acr_pull_role("reg.azurecr.io")


GOOD_CLUSTER = {
    "apiServerAccessProfile": {"enablePrivateCluster": True},
    "disableLocalAccounts": True,
    "autoUpgradeProfile": {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"},
}
MC = "azure-native:containerservice:ManagedCluster"


def run(policy, props_: dict, type_: str = MC) -> list[str]:
    opts = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])
    found: list[str] = []
    policy.validate(ResourceValidationArgs(type_, props_, f"urn:pulumi:t::hyperdock::{type_}::c", "c", opts, None, {}),
                    lambda message, urn=None: found.append(message))
    return found


def changed(**changes) -> dict:
    props_ = copy.deepcopy(GOOD_CLUSTER)
    props_.update(changes)
    return props_


def test_aks_policies_are_in_the_pack_with_metadata():
    for policy in aks_policies.POLICIES:
        assert policy in POLICIES
        assert policy.name.startswith("hyperdock-aks-") and policy.severity and policy.remediation_steps


@pytest.mark.parametrize("policy, bad", [
    (aks_policies.api_server_not_public, {"apiServerAccessProfile": {"enablePrivateCluster": False}}),
    (aks_policies.api_server_not_public, {"apiServerAccessProfile": {"authorizedIPRanges": ["0.0.0.0/0"]}}),
    (aks_policies.api_server_not_public, {"apiServerAccessProfile": {"authorizedIPRanges": ["0.0.0.0/1", "128.0.0.0/1"]}}),
    (aks_policies.api_server_not_public, {"apiServerAccessProfile": None}),
    (aks_policies.local_accounts_disabled, {"disableLocalAccounts": False}),
    (aks_policies.local_accounts_disabled, {"disableLocalAccounts": None}),
    (aks_policies.windows_nodes_patched, {"autoUpgradeProfile": {"nodeOSUpgradeChannel": "Unmanaged"}}),
    (aks_policies.windows_nodes_patched, {"autoUpgradeProfile": {"nodeOSUpgradeChannel": "None"}}),
    (aks_policies.windows_nodes_patched, {"autoUpgradeProfile": None}),
])
def test_aks_policy_compliant_and_violating(policy, bad):
    assert run(policy, GOOD_CLUSTER) == []
    assert len(run(policy, changed(**{k: v for k, v in bad.items() if v is not None}) if all(
        v is not None for v in bad.values()) else {k: v for k, v in GOOD_CLUSTER.items() if k not in bad})) == 1


def test_public_api_server_with_authorized_ranges_complies():
    ranged = changed(apiServerAccessProfile={"enablePrivateCluster": False, "authorizedIPRanges": ["203.0.113.0/24"]})
    assert run(aks_policies.api_server_not_public, ranged) == []
    widest = changed(apiServerAccessProfile={"enablePrivateCluster": False, "authorizedIPRanges": ["10.0.0.0/8"]})
    assert run(aks_policies.api_server_not_public, widest) == []


def test_aks_policies_ignore_other_resources():
    for policy in aks_policies.POLICIES:
        assert run(policy, {}, "azure-native:compute:VirtualMachine") == []


def test_allowed_registries_covers_kubernetes_pods():
    from policies import workloads

    config = {"allowedRegistries": ["myregistry.azurecr.io/hyperdock"]}
    opts = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])

    def check(type_, body):
        found: list[str] = []
        workloads.allowed_registries.validate(
            ResourceValidationArgs(type_, body, f"urn:pulumi:t::hyperdock::{type_}::x", "x", opts, None, config),
            lambda message, urn=None: found.append(message))
        return found

    pod = lambda image: {"containers": [{"name": "x", "image": image}]}  # noqa: E731
    ours, theirs = "myregistry.azurecr.io/hyperdock/web01:wave-5", "docker.io/evil/web01:latest"
    assert check("kubernetes:apps/v1:Deployment", {"spec": {"template": {"spec": pod(ours)}}}) == []
    assert len(check("kubernetes:apps/v1:Deployment", {"spec": {"template": {"spec": pod(theirs)}}})) == 1
    cron = lambda image: {"spec": {"jobTemplate": {"spec": {"template": {"spec": pod(image)}}}}}  # noqa: E731
    assert check("kubernetes:batch/v1:CronJob", cron(ours)) == []
    assert len(check("kubernetes:batch/v1:CronJob", cron(theirs))) == 1
    assert check("kubernetes:apps/v1:Deployment", {}) == []


@pulumi.runtime.test
def test_gmsa_dns_settings(monitor):
    cluster = AksWindowsCluster("estate", {"windows_pools": POOLS[:1], "gmsa": True, "gmsa_dns_server": "10.0.0.4",
                                           "gmsa_root_domain_name": "contoso.local"})

    def check(_):
        (managed,) = monitor.by_type("azure-native:containerservice:ManagedCluster")
        assert props(managed)["windowsProfile"]["gmsaProfile"] == {"enabled": True, "dnsServer": "10.0.0.4",
                                                                   "rootDomainName": "contoso.local"}
    return cluster.cluster.urn.apply(check)


def test_aks_cluster_infers_a_provider_schema():
    """`pulumi package add ./components` exposes AksWindowsCluster too."""
    from pulumi.provider.experimental.analyzer import Analyzer

    schema = Analyzer("hyperdock").analyze([AksWindowsCluster])
    component = schema["component_definitions"]["AksWindowsCluster"]
    for name, prop in {**component.inputs, **component.outputs}.items():
        assert prop.description, name
    assert "windowsPools" in component.inputs and "kubeconfig" in component.outputs
    assert "AksWindowsCluster" in (ROOT / "components" / "__main__.py").read_text(encoding="utf-8")


@pulumi.runtime.test
def test_every_azure_input_is_in_the_sdk(monitor):
    """ManagedCluster, AgentPool, RoleAssignment, VNet: property names, nested types and enum values per the SDK."""
    import sdk_inputs

    cluster = AksWindowsCluster("estate", {"windows_pools": POOLS, "gmsa": True, "acr_id": ACR, "gmsa_dns_server": "10.0.0.4",
                                           "gmsa_root_domain_name": "contoso.local", "authorized_ip_ranges": ["203.0.113.0/24"],
                                           "network_policy": "azure"})

    def check(_):
        checked = set()
        for request in monitor.requests:
            if request.type.startswith("azure-native:"):
                assert sdk_inputs.check(request.type, props(request)) == [], request.name
                checked.add(request.type)
        assert {"azure-native:containerservice:ManagedCluster", "azure-native:containerservice:AgentPool",
                "azure-native:authorization:RoleAssignment", "azure-native:network:VirtualNetwork"} <= checked
    return pulumi.Output.all(cluster.cluster.urn, cluster.acr_pull.urn, *[p.urn for p in cluster.pools.values()]).apply(check)
