"""Policies on AKS clusters, one rule each: no open API server, no local accounts, patched Windows nodes.

Facts: the installed pulumi-azure-native SDK's containerservice docs (API 2025-09-01):
`disableLocalAccounts` turns off static credentials; NodeOSUpgradeChannel `Unmanaged` "is
equivalent to None" on Windows because Windows applies no patches by itself, so only `NodeImage`
and `SecurityPatch` keep Windows nodes patched.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from migrate.core.azure import is_overly_broad_range

from .common import dig

MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
PATCHING_CHANNELS = ("NodeImage", "SecurityPatch")


def _api_server_not_public(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != MANAGED_CLUSTER:
        return
    profile = dig(args.props, "apiServerAccessProfile") or {}
    if profile.get("enablePrivateCluster") is True:
        return
    ranges = profile.get("authorizedIPRanges") or profile.get("authorizedIpRanges") or []
    if not ranges:
        report("the API server is public and reachable from any address: make it private or set authorizedIPRanges")
    elif any(is_overly_broad_range(r) for r in ranges):
        report(f"authorizedIPRanges {', '.join(ranges)} include a share of the internet (wider than a /8 or an IPv6 /32)")


api_server_not_public = ResourceValidationPolicy(
    name="hyperdock-aks-api-server-not-public",
    description="An AKS API server is private, or public only to authorized IP ranges.",
    validate=_api_server_not_public,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Set apiServerAccessProfile.enablePrivateCluster, or list the administrators' ranges in "
                      "authorizedIPRanges (AksWindowsCluster: private_cluster / authorized_ip_ranges).",
)


def _local_accounts_disabled(args: ResourceValidationArgs, report) -> None:
    if args.resource_type == MANAGED_CLUSTER and dig(args.props, "disableLocalAccounts") is not True:
        report("local accounts are enabled: a static admin kubeconfig bypasses Entra ID and cannot be revoked per user")


local_accounts_disabled = ResourceValidationPolicy(
    name="hyperdock-aks-local-accounts-disabled",
    description="AKS clusters disable local accounts, so every access goes through Entra ID and Azure RBAC.",
    validate=_local_accounts_disabled,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Set disableLocalAccounts: true with aadProfile.managed and enableAzureRBAC "
                      "(AksWindowsCluster does).",
)


def _windows_nodes_patched(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != MANAGED_CLUSTER:
        return
    channel = dig(args.props, "autoUpgradeProfile", "nodeOSUpgradeChannel")
    if channel not in PATCHING_CHANNELS:
        report(f"node OS upgrade channel is {channel or 'not set'}: Windows nodes get no security updates "
               f"(Unmanaged equals None on Windows); use {' or '.join(PATCHING_CHANNELS)}")


windows_nodes_patched = ResourceValidationPolicy(
    name="hyperdock-aks-windows-nodes-patched",
    description="AKS node images are patched automatically (NodeImage or SecurityPatch channel): Windows nodes "
                "do not patch themselves.",
    validate=_windows_nodes_patched,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Set autoUpgradeProfile.nodeOSUpgradeChannel to NodeImage (AksWindowsCluster does) or SecurityPatch.",
)

POLICIES = [api_server_not_public, local_accounts_disabled, windows_nodes_patched]
