"""hyperdock's components leave out the azure-native SDK's API-version aliases, and nothing else."""

from __future__ import annotations

import pulumi
import pytest
from pulumi_azure_native import network

import pulumi_mocks
from components.aks_cluster import AksWindowsCluster
from components.azure_host import AzureContainerHost
from components.sdk_aliases import is_api_version_alias, without_api_version_aliases
from components.workload import ContainerWorkload

NIC = "azure-native:network:NetworkInterface"


@pytest.fixture
def monitor():
    mon = pulumi_mocks.start()
    yield mon
    pulumi_mocks.stop()


@pytest.mark.parametrize("alias, resource_type, expected", [
    (pulumi.Alias(type_="azure-native:network/v20230201:NetworkInterface"), NIC, True),
    (pulumi.Alias(type_="azure-native:network/v20150501preview:NetworkInterface"), NIC, True),
    (pulumi.Alias(type_="azure-native:network/v20230201:NetworkSecurityGroup"), NIC, False),  # another type
    (pulumi.Alias(type_="azure-native:compute/v20230201:NetworkInterface"), NIC, False),      # another module
    (pulumi.Alias(type_="azure-native:network:NetworkInterface"), NIC, False),                # no version
    (pulumi.Alias(type_="azure-native:network/v20230201:NetworkInterface", name="old"), NIC, False),  # also renamed
    (pulumi.Alias(type_="azure-native:network/v20230201:NetworkInterface", parent=None), NIC, False),  # also moved
    (pulumi.Alias(name="web-features"), NIC, False),
    ("urn:pulumi:test::hyperdock::azure-native:network/v20230201:NetworkInterface::web-nic", NIC, False),
])
def test_only_the_sdks_api_version_renames_are_recognised(alias, resource_type, expected):
    assert is_api_version_alias(alias, resource_type) is expected


def test_transformation_keeps_other_aliases_and_leaves_unaliased_resources_alone():
    given = pulumi.Alias(name="web-features")
    opts = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="azure-native:network/v20240101:NetworkInterface"), given])
    result = without_api_version_aliases(pulumi.ResourceTransformationArgs(None, NIC, "web-nic", {"a": 1}, opts))
    assert result.opts.aliases == [given] and result.props == {"a": 1}
    assert len(opts.aliases) == 2  # the caller's options are not changed
    bare = pulumi.ResourceTransformationArgs(None, NIC, "web-nic", {}, pulumi.ResourceOptions())
    assert without_api_version_aliases(bare) is None


def versioned(request) -> list[str]:
    return [a.spec.type for a in request.aliases if "/v20" in a.spec.type]


@pulumi.runtime.test
def test_component_children_register_without_version_aliases_other_resources_keep_them(monitor):
    host = AzureContainerHost("web", {"management_cidrs": ["10.1.0.0/24"]})
    outside = network.NetworkInterface("outside-nic", resource_group_name="rg", ip_configurations=[])
    workload = ContainerWorkload("app", {"image": "contoso.azurecr.io/app:1", "azure_vm": {
        "resource_group_name": "rg", "vm_name": "web-vm", "location": "westeurope"}})

    def check(_):
        by_name = {r.name: r for r in monitor.requests}
        # The SDK's own list, as a resource outside hyperdock's components registers it.
        assert len(versioned(by_name["outside-nic"])) >= 50
        inside = [r for r in monitor.requests if r.type.startswith("azure-native:") and r.name != "outside-nic"]
        assert {r.name for r in inside} >= {"web-nic", "web-vm", "web-prepare", "web-runtime", "app-run"}
        for request in inside:
            assert versioned(request) == [], request.name
        # hyperdock's own alias (the step's former name) stays.
        assert [a.spec.name for a in by_name["web-prepare"].aliases] == ["web-features"]

    return pulumi.Output.all(host.urn, host.runtime.urn, outside.urn, workload.urn).apply(check)


@pulumi.runtime.test
def test_aliases_a_users_own_transformation_adds_are_kept(monitor):
    # A user whose state holds the VM under a versioned token adds that alias with a transformation
    # of their own: the components' transformation runs before it, so the user's alias stays.
    old_type = "azure-native:compute/v20230301:VirtualMachine"

    def adopt_vm(args: pulumi.ResourceTransformationArgs):
        if args.type_ != "azure-native:compute:VirtualMachine":
            return None
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=old_type)]))
        return pulumi.ResourceTransformationResult(args.props, opts)

    host = AzureContainerHost("web", {"management_cidrs": ["10.1.0.0/24"]},
                              pulumi.ResourceOptions(transformations=[adopt_vm]))

    def check(_):
        by_name = {r.name: r for r in monitor.requests}
        assert versioned(by_name["web-vm"]) == [old_type]
        assert versioned(by_name["web-nic"]) == []

    return pulumi.Output.all(host.urn, host.runtime.urn).apply(check)


@pulumi.runtime.test
def test_aks_cluster_children_register_without_version_aliases(monitor):
    pools = [{"name": "w22001", "os_sku": "Windows2022", "vm_size": "Standard_D4s_v5",
              "node_count": 1, "min_count": 1, "max_count": 3}]
    cluster = AksWindowsCluster("estate", {"windows_pools": pools, "acr_id": (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
        "Microsoft.ContainerRegistry/registries/contoso")})

    def check(_):
        inside = [r for r in monitor.requests if r.type.startswith("azure-native:")]
        assert {r.type.rsplit(":", 1)[1] for r in inside} >= {
            "ResourceGroup", "VirtualNetwork", "ManagedCluster", "AgentPool", "RoleAssignment"}
        for request in inside:
            assert versioned(request) == [], request.name

    return pulumi.Output.all(cluster.urn, cluster.kubeconfig, cluster.acr_pull.urn,
                             *[p.urn for p in cluster.pools.values()]).apply(check)
