"""AksWindowsCluster: an AKS cluster with Windows node pools per build, secure by default.

A small Linux system pool (AKS needs one: Windows pools cannot be system pools, per the SDK's
OSSKU docs) and one `containerservice.AgentPool` per Windows pool of aks.yaml: `osType: Windows`,
`osSKU` from the SDK's OSSKU enum (Windows2022; Windows2025 is not in the API version the
installed SDK uses, 2025-09-01), sizes, counts and autoscaler bounds from the plan, labelled and
tainted per pool so tenants stay apart.

Secure defaults, checked by policies/aks.py:
- private API server unless `authorized_ip_ranges` are given (a public one is refused without them);
- Entra ID integration with Azure RBAC and local accounts disabled, so no static admin
  kubeconfig exists; the kubeconfig is the user one in `exec` format (kubelogin), a secret;
- node OS upgrades through the `NodeImage` channel: the SDK documents that `Unmanaged` leaves
  Windows nodes unpatched ("equivalent to None"), and Kubernetes patch upgrades on `patch`;
- Azure CNI (Windows pools need it) with a network policy engine for the tenants' NetworkPolicies;
- the kubelet's managed identity gets AcrPull on the registry when `acr_id` is given.
gMSA: `windowsProfile.gmsaProfile.enabled` when the plan has gMSA workloads (AKS's Windows gMSA
support installs the webhook; the credential specs and RBAC come with the workloads).
"""


import ipaddress
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence, TypedDict

import pulumi
import pulumi_random
from pulumi_azure_native import authorization, containerservice, network, resources
from pulumi_azure_native.containerservice import OSSKU

from migrate.contract.stack_config import ip_address_problem
from migrate.core.azure import (AKS_SYSTEM_POOL_COUNT, AKS_SYSTEM_POOL_SIZE, AKS_WINDOWS_NODE_SIZE, WINDOWS_POOL_NAME,
                                authorized_range_problem, default_tags)
from migrate.core.errors import AksConfigError, RegistryConfigError
from migrate.contract.kubernetes import POOL_LABEL, pool_taint

from .registry import acr_pull_role_definition
from .sdk_aliases import leaving_out_api_version_aliases

NODE_OS_UPGRADE_CHANNEL = "NodeImage"
NETWORK_POLICIES = ("azure", "calico")  # the engines AKS lists for Windows nodes; Cilium has no Windows support


class WindowsPoolArgs(TypedDict, total=False):
    name: str
    """AKS pool name: at most 6 lower-case letters and digits, starting with a letter."""
    os_sku: str
    """Windows2022 (or another Windows member of the SDK's OSSKU enum)."""
    vm_size: str
    """Azure size of the nodes."""
    node_count: int
    """Nodes the plan needs; also the autoscaler's minimum."""
    min_count: int
    """Autoscaler minimum."""
    max_count: int
    """Autoscaler maximum."""
    tenant: Optional[str]
    """Tenant the pool serves (label only)."""
    zone: Optional[str]
    """Trust zone the pool serves (label only)."""


class AksWindowsClusterArgs(TypedDict, total=False):
    location: pulumi.Input[str]
    """Azure region; defaults to the resource group's."""
    resource_group_name: pulumi.Input[str]
    """An existing resource group; a new one is created when omitted."""
    subnet_id: pulumi.Input[str]
    """An existing subnet for nodes and pods (Azure CNI); a VNet 10.30.0.0/16 is created when omitted."""
    kubernetes_version: Optional[str]
    """Kubernetes version; AKS's default when omitted."""
    system_vm_size: str
    """Size of the Linux system pool's nodes."""
    system_node_count: int
    """Nodes in the Linux system pool."""
    windows_pools: Sequence[WindowsPoolArgs]
    """The Windows user pools, from aks.yaml."""
    max_pods: int
    """Pods per node (Azure CNI), from aks.yaml."""
    private_cluster: bool
    """Private API server (default unless authorized_ip_ranges are given)."""
    authorized_ip_ranges: Sequence[str]
    """CIDRs allowed to reach a public API server."""
    admin_group_object_ids: Sequence[str]
    """Entra ID groups that administer the cluster (local accounts are disabled)."""
    network_policy: str
    """azure or calico: the engine that enforces the tenants' NetworkPolicies."""
    acr_id: Optional[pulumi.Input[str]]
    """Resource ID of the container registry; the kubelet identity gets AcrPull on it."""
    gmsa: bool
    """Enable AKS's Windows gMSA support."""
    gmsa_dns_server: Optional[str]
    """DNS server of the Active Directory domain, when the VNet's DNS does not resolve it (with gmsa_root_domain_name)."""
    gmsa_root_domain_name: Optional[str]
    """Root domain name of the Active Directory domain (with gmsa_dns_server)."""
    windows_admin_username: str
    """Administrator of the Windows nodes; its password is generated and kept secret."""
    tags: pulumi.Input[Mapping[str, str]]
    """Tags for every resource."""


@dataclass(frozen=True, slots=True)
class AksSettings:
    """The validated settings of a cluster, before any resource exists."""

    private_cluster: bool
    authorized_ip_ranges: list[str]
    network_policy: str
    max_pods: int
    pools: list[dict]


def aks_cluster_settings(args: AksWindowsClusterArgs) -> AksSettings:
    """Validate `args` and return the settings; raise AksConfigError naming the setting."""
    ranges = []
    for cidr in args.get("authorized_ip_ranges", []):
        problem = authorized_range_problem(cidr)
        if problem:
            raise AksConfigError(f"authorized_ip_ranges: {problem}")
        ranges.append(str(ipaddress.ip_network(cidr, strict=True)))
    private = args.get("private_cluster", not ranges)
    if not private and not ranges:
        raise AksConfigError("private_cluster: a public API server needs authorized_ip_ranges")
    policy = args.get("network_policy", "calico")
    if policy not in NETWORK_POLICIES:
        raise AksConfigError(f"network_policy: expected one of {', '.join(NETWORK_POLICIES)}, got {policy!r}")
    max_pods = args.get("max_pods", 30)
    if not 10 <= max_pods <= 250:
        raise AksConfigError(f"max_pods: {max_pods} is outside Azure CNI's 10-250")
    if bool(args.get("gmsa_dns_server")) != bool(args.get("gmsa_root_domain_name")):
        raise AksConfigError("gmsa_dns_server: set it together with gmsa_root_domain_name, or neither")
    problem = ip_address_problem(args["gmsa_dns_server"]) if args.get("gmsa_dns_server") else None
    if problem:
        raise AksConfigError(f"gmsa_dns_server: {problem}")
    windows_skus = {m.value for m in OSSKU if m.value.startswith("Windows")}
    pools, seen = [], set()
    for pool in args.get("windows_pools", []):
        name = pool.get("name", "")
        if not WINDOWS_POOL_NAME.fullmatch(name) or name in seen:
            raise AksConfigError(f"windows_pools: {name!r} is not a unique AKS Windows pool name (6 characters, a-z0-9)")
        seen.add(name)
        if pool.get("os_sku") not in windows_skus:
            raise AksConfigError(f"windows_pools.{name}.os_sku: expected one of {', '.join(sorted(windows_skus))}")
        count = pool.get("node_count", 1)
        low, high = pool.get("min_count", count), pool.get("max_count", count)
        if not 0 <= low <= count <= high:
            raise AksConfigError(f"windows_pools.{name}: expected min_count <= node_count <= max_count")
        pools.append({**pool, "node_count": count, "min_count": low, "max_count": high})
    return AksSettings(private, ranges, policy, max_pods, pools)


def acr_pull_role(acr_id: str) -> str:
    """Return the AcrPull role definition ID in the registry's subscription (registry.py's, as AksConfigError)."""
    try:
        return acr_pull_role_definition(acr_id)
    except RegistryConfigError:
        raise AksConfigError(f"acr_id: {acr_id!r} is not an Azure resource ID") from None


class AksWindowsCluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    """Name of the managed cluster."""
    resource_group_name: pulumi.Output[str]
    """Resource group holding the cluster."""
    kubeconfig: pulumi.Output[str]
    """User kubeconfig (exec format, needs kubelogin), secret."""
    kubelet_object_id: pulumi.Output[str]
    """Object ID of the kubelet's managed identity (the one that pulls images)."""

    def __init__(self, name: str, args: AksWindowsClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        settings = aks_cluster_settings(args)
        # Children inherit the transformation: none carries the SDK's API-version aliases (sdk_aliases.py).
        super().__init__("hyperdock:index:AksWindowsCluster", name, {}, leaving_out_api_version_aliases(opts))
        child = pulumi.ResourceOptions(parent=self)
        tags = args.get("tags", default_tags())
        location = args.get("location")

        if args.get("resource_group_name") is not None:
            group_name = pulumi.Output.from_input(args["resource_group_name"])
        else:
            group_name = resources.ResourceGroup(f"{name}-rg", location=location, tags=tags, opts=child).name
        if args.get("subnet_id") is not None:
            subnet_id = pulumi.Output.from_input(args["subnet_id"])
        else:
            # Azure CNI gives every pod a VNet address: a /18 holds 16,382 nodes and pods.
            vnet = network.VirtualNetwork(
                f"{name}-vnet", resource_group_name=group_name, location=location,
                address_space={"address_prefixes": ["10.30.0.0/16"]},
                subnets=[{"name": "nodes", "address_prefix": "10.30.0.0/18"}], tags=tags, opts=child)
            subnet_id = vnet.subnets.apply(lambda subnets: _field(subnets[0], "id") if subnets else None)

        password = pulumi.Output.secret(pulumi_random.RandomPassword(
            f"{name}-windows-password", length=24, special=True, override_special="!#%*()-_=+[]{}:?",
            min_lower=1, min_upper=1, min_numeric=1, min_special=1, opts=child).result)
        windows_profile: dict = {"admin_username": args.get("windows_admin_username", "hyperdock"), "admin_password": password}
        if args.get("gmsa", False):
            windows_profile["gmsa_profile"] = {"enabled": True}
            if args.get("gmsa_dns_server"):
                windows_profile["gmsa_profile"].update(dns_server=args["gmsa_dns_server"],
                                                       root_domain_name=args["gmsa_root_domain_name"])

        api_access: dict = {"enable_private_cluster": settings.private_cluster}
        if settings.authorized_ip_ranges:
            api_access["authorized_ip_ranges"] = settings.authorized_ip_ranges
        self.cluster = containerservice.ManagedCluster(
            f"{name}-aks", resource_group_name=group_name, location=location, dns_prefix=name,
            kubernetes_version=args.get("kubernetes_version"),
            identity={"type": "SystemAssigned"},
            sku={"name": "Base", "tier": "Standard"},
            enable_rbac=True,
            aad_profile={"managed": True, "enable_azure_rbac": True,
                         "admin_group_object_ids": list(args.get("admin_group_object_ids", []))},
            disable_local_accounts=True,
            api_server_access_profile=api_access,
            auto_upgrade_profile={"upgrade_channel": "patch", "node_os_upgrade_channel": NODE_OS_UPGRADE_CHANNEL},
            network_profile={"network_plugin": "azure", "network_policy": settings.network_policy,
                             "load_balancer_sku": "standard"},
            agent_pool_profiles=[{
                "name": "system", "mode": "System", "os_type": "Linux", "os_sku": "AzureLinux",
                "vm_size": args.get("system_vm_size", AKS_SYSTEM_POOL_SIZE),
                "count": args.get("system_node_count", AKS_SYSTEM_POOL_COUNT),
                "max_pods": settings.max_pods, "vnet_subnet_id": subnet_id, "enable_node_public_ip": False,
                # Only critical add-ons on the system pool; workloads go to their Windows pools.
                "node_taints": ["CriticalAddonsOnly=true:NoSchedule"],
            }],
            windows_profile=windows_profile,
            tags=tags,
            # The Windows password is a secret input; keep the whole windowsProfile encrypted in state.
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["windowsProfile"]))

        self.pools = {}
        for pool in settings.pools:
            labels = {POOL_LABEL: pool["name"]}
            for key in ("tenant", "zone"):
                if pool.get(key):
                    labels[f"hyperdock.io/{key}"] = pool[key]
            self.pools[pool["name"]] = containerservice.AgentPool(
                f"{name}-{pool['name']}", resource_group_name=group_name, resource_name_=self.cluster.name,
                agent_pool_name=pool["name"], mode="User", os_type="Windows", os_sku=pool["os_sku"],
                vm_size=pool.get("vm_size", AKS_WINDOWS_NODE_SIZE), count=pool["node_count"],
                enable_auto_scaling=pool["min_count"] < pool["max_count"],
                min_count=pool["min_count"] if pool["min_count"] < pool["max_count"] else None,
                max_count=pool["max_count"] if pool["min_count"] < pool["max_count"] else None,
                max_pods=settings.max_pods, vnet_subnet_id=subnet_id, enable_node_public_ip=False,
                node_labels=labels, node_taints=[pool_taint(pool["name"])],
                upgrade_settings={"max_surge": "1"}, tags=tags, opts=child)

        self.kubelet_object_id = self.cluster.identity_profile.apply(
            lambda profile: _field((profile or {}).get("kubeletidentity"), "object_id") or "")
        self.acr_pull = None
        if args.get("acr_id") is not None:
            acr_id = pulumi.Output.from_input(args["acr_id"])
            self.acr_pull = authorization.RoleAssignment(
                f"{name}-acr-pull", principal_id=self.kubelet_object_id, principal_type="ServicePrincipal",
                role_definition_id=acr_id.apply(acr_pull_role), scope=acr_id, opts=child)

        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=group_name, resource_name=self.cluster.name, format="exec")
        self.kubeconfig = pulumi.Output.secret(credentials.apply(_first_kubeconfig))
        self.cluster_name = self.cluster.name
        self.resource_group_name = group_name
        self.register_outputs({"clusterName": self.cluster_name, "resourceGroupName": self.resource_group_name,
                               "kubeconfig": self.kubeconfig, "kubeletObjectId": self.kubelet_object_id})


def _first_kubeconfig(result) -> str:
    import base64

    configs = _field(result, "kubeconfigs") or []
    return base64.b64decode(_field(configs[0], "value")).decode("utf-8") if configs else ""


def _field(value, name: str):
    """Read a field of an output object, whichever form it arrives in (typed output or plain dict)."""
    if value is None:
        return None
    if isinstance(value, dict) and name in value:
        return value[name]
    return getattr(value, name, None)
