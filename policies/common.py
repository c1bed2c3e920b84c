"""Helpers every policy uses: which component a resource belongs to, secrets, nested properties."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Secret

AZURE_HOST = "hyperdock:index:AzureContainerHost"
ONPREM_HOST = "hyperdock:index:OnPremContainerHost"
WORKLOAD = "hyperdock:index:ContainerWorkload"
VM = "azure-native:compute:VirtualMachine"
NSG = "azure-native:network:NetworkSecurityGroup"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
NIC = "azure-native:network:NetworkInterface"
SECURITY_RULE = "azure-native:network:SecurityRule"
REMOTE_COMMAND = "command:remote:Command"


def is_host(resource_type: str, props: Mapping[str, Any]) -> bool:
    """True for a container host component of any platform (components/platforms): a hyperdock component
    whose inputs carry the host's `hostOs` and `isolation`, so no policy lists the platforms."""
    return resource_type.startswith("hyperdock:index:") and "hostOs" in props and "isolation" in props


def under(urn: str, component_type: str) -> bool:
    """True when the resource's URN shows it inside a component of `component_type`.

    URNs carry the parent chain as `parentType$childType` in their type part.
    """
    parts = urn.split("::")
    return len(parts) >= 3 and component_type in parts[2].split("$")[:-1]


# Every VM, NIC, NSG, security rule and public IP of the stack is judged, hand-written ones too;
# this config property narrows a policy to hyperdock's components for users who want that.
SCOPE = "onlyHyperdockComponents"
SCOPE_SCHEMA = {SCOPE: {"type": "boolean", "default": False,
                        "description": "Judge only resources inside hyperdock's components (default: every such "
                                       "resource in the stack)."}}


def in_scope(args, component_type: str) -> bool:
    """True when the policy judges this resource: always, unless the config narrows it to `component_type`'s children."""
    return not args.get_config().get(SCOPE, False) or under(args.urn, component_type)


def plain(value: Any) -> Any:
    """Return `value` as plain dicts and lists (policies receive read-only mappings), secrets unwrapped."""
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(v) for v in value]
    return value


def dig(props: Any, *path: str) -> Any:
    """Return props[path[0]][path[1]]…, unwrapping secrets, or None where anything is missing."""
    value = props
    for key in path:
        if isinstance(value, Secret):
            value = value.value
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return plain(value)


@dataclass(frozen=True, slots=True)
class Violation:
    """One policy violation, as the offline checks report it."""

    policy: str
    level: str          # mandatory | advisory
    message: str
    resource_type: str
    resource_name: str
