"""Azure facts hyperdock relies on, kept once: VM sizes, security types, management ports, private ranges.

Components (validation), the capacity plan and the policy pack all read this module.
[V] verified in the named source, [I] inferred from it, [U] the sources disagree or none says.

Sources:
- Microsoft Learn size pages (learn.microsoft.com/azure/virtual-machines/sizes/general-purpose/,
  MicrosoftDocs/azure-compute-docs `articles/virtual-machines/sizes/general-purpose/`):
  `dv3-series` lists Generation 1 only and no Premium storage; `dsv3-series`, `dsv5-series`,
  `dasv5-series`, `dsv6-series` and `dasv6-series` list nested virtualization as supported, the v6
  ones Generation 2 only (NVMe); `bsv2-series` lists it as not supported. [V]
- Microsoft Learn "Trusted Launch FAQ" (learn.microsoft.com/azure/virtual-machines/trusted-launch-faq)
  and the pulumi-azure-native SDK's `compute.SecurityTypes` enum: the API accepts `TrustedLaunch` and
  `ConfidentialVM`; `Standard` only with the `UseStandardSecurityType` subscription feature; leaving
  `securityType` out gives a standard VM. [V] Trusted Launch needs a Generation 2 size [I] (it is a
  Gen2 feature); whether it works with nested virtualization, the "Trusted Launch" page (no longer
  listed as unsupported) and Virtualization-Documentation's "Run Hyper-V in a virtual machine with
  nested virtualization" (use Standard) disagree [U].
- Microsoft Learn "Enable end-to-end encryption using encryption at host"
  (`disks-enable-host-based-encryption-*`): `encryptionAtHost` needs the subscription feature
  `Microsoft.Compute/EncryptionAtHost` registered, or VM creation fails. [V] Not checkable offline.
- vCPU and memory per size: the series' standard ratio (D-series 1 vCPU : 4 GiB) [U]: check with
  `az vm list-sizes` for a region.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SizeSeries:
    """What a VM size series offers a container host."""

    name: str
    pattern: re.Pattern
    nested_virtualization: bool
    generations: tuple[int, ...]
    premium_storage: bool


SERIES: tuple[SizeSeries, ...] = (
    SizeSeries("Dv3", re.compile(r"Standard_D\d+_v3"), True, (1,), False),
    SizeSeries("Dsv3", re.compile(r"Standard_D\d+s_v3"), True, (1, 2), True),
    SizeSeries("Dsv5", re.compile(r"Standard_D\d+s_v5"), True, (1, 2), True),
    SizeSeries("Dasv5", re.compile(r"Standard_D\d+as_v5"), True, (1, 2), True),
    SizeSeries("Dsv6", re.compile(r"Standard_D\d+s_v6"), True, (2,), True),
    SizeSeries("Dasv6", re.compile(r"Standard_D\d+as_v6"), True, (2,), True),
    SizeSeries("Bsv2", re.compile(r"Standard_B\d+s_v2"), False, (1, 2), True),
)


# The API's `securityProfile.securityType` values (pulumi-azure-native compute.SecurityTypes).
SECURITY_TYPES = ("TrustedLaunch", "ConfidentialVM")
ENCRYPTION_AT_HOST_FEATURE = "Microsoft.Compute/EncryptionAtHost"

# Ports that administer a Windows host (WinRM: 5985 HTTP, 5986 HTTPS, Microsoft Learn "Installation and
# configuration for Windows Remote Management"); the NSG opens only HOST_MANAGEMENT_PORTS (never WinRM over
# plain HTTP), and policies judge every one of them.
MANAGEMENT_PORTS = {22: "SSH", 3389: "RDP", 5985: "WinRM", 5986: "WinRM over HTTPS"}
HOST_MANAGEMENT_PORTS = (22, 3389, 5986)

# NSG source prefixes that mean "anyone": the `Internet` service tag (Microsoft Learn "Virtual network
# service tags"), `*`/`Any` and the catch-all ranges.
INTERNET_SOURCES = frozenset({"*", "internet", "any", "0.0.0.0/0", "0.0.0.0", "::/0"})
# Private address space: RFC 1918 (IPv4) and IPv6 unique local addresses (RFC 4193).
PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
# Service tags whose addresses are the VNet's own (and its peered / connected private spaces): `VirtualNetwork`
# ("Virtual network service tags").
PRIVATE_SERVICE_TAGS = frozenset({"virtualnetwork"})

# An AKS authorized IP range is an administrator's network, not a share of the internet: no source
# documents a limit, so hyperdock's own line is a /8 (IPv4) or /32 (IPv6) at the widest. This also
# catches the /0 split into halves (0.0.0.0/1 + 128.0.0.0/1).
BROADEST_AUTHORIZED_PREFIX = {4: 8, 6: 32}


def authorized_range_problem(cidr: str) -> str | None:
    """Return why `cidr` may not reach a public AKS API server, or None."""
    try:
        ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        return f"{cidr!r} is not a CIDR like 203.0.113.0/24"
    if is_overly_broad_range(cidr):
        return f"{cidr} opens the API server to a share of the internet (at most a /8 or an IPv6 /32)"
    return None


def resource_id_problem(resource_id: str) -> str | None:
    """Return why `resource_id` is not an Azure resource ID (/subscriptions/<id>/...), or None."""
    parts = resource_id.split("/")
    if len(parts) < 3 or parts[0] or parts[1].lower() != "subscriptions" or not parts[2]:
        return f"{resource_id!r} is not an Azure resource ID"
    return None


def is_overly_broad_range(cidr: str) -> bool:
    """True when `cidr` is a valid network wider than BROADEST_AUTHORIZED_PREFIX allows."""
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return False
    return network.prefixlen < BROADEST_AUTHORIZED_PREFIX[network.version]


# Publisher MicrosoftWindowsServer, offer WindowsServer. The 2022 Azure Edition SKUs are verified (Microsoft
# Learn "Trusted Launch" and Windows Server's "Hotpatch" page); the 2025 ones are seen only in third-party
# code [U]: verify with `az vm image list-skus -l <region> -p MicrosoftWindowsServer -f WindowsServer`.
IMAGE_SKUS = {
    "2022-datacenter-azure-edition": "ltsc2022",
    "2022-datacenter-azure-edition-core": "ltsc2022",
    "2022-datacenter-azure-edition-core-smalldisk": "ltsc2022",
    "2025-datacenter-azure-edition": "ltsc2025",
    "2025-datacenter-azure-edition-core": "ltsc2025",
    "2025-datacenter-azure-edition-core-smalldisk": "ltsc2025",
}
# Names Azure refuses for a Windows administrator (Microsoft Learn "Frequently asked questions about
# Windows Virtual Machines", username requirements).
RESERVED_ADMIN_NAMES = {"administrator", "admin", "user", "user1", "test", "user2", "test1", "user3", "admin1", "1",
                        "123", "a", "actuser", "adm", "admin2", "aspnet", "backup", "console", "david", "guest", "john",
                        "owner", "root", "server", "sql", "support", "support_388945a0", "sys", "test2", "test3", "user4",
                        "user5"}


def security_type_problem(security_type: str) -> str | None:
    """Return why hyperdock does not send `security_type` (TrustedLaunch is the one it asks for), or None."""
    if security_type == "Standard":
        return ("'Standard' is not in the Azure API's enum (TrustedLaunch, ConfidentialVM) and fails unless "
                "UseStandardSecurityType is registered; leave it empty for a standard VM")
    if security_type != "TrustedLaunch":
        return f"expected TrustedLaunch or empty (hyperdock does not make ConfidentialVM hosts), got {security_type!r}"
    return None


def image_sku_problem(sku: str) -> str | None:
    """Return why `sku` is not a Windows Server image hyperdock builds hosts from, or None."""
    if sku in IMAGE_SKUS:
        return None
    return f"{sku!r} is not a Windows Server 2022/2025 Datacenter Azure Edition SKU; expected one of {', '.join(IMAGE_SKUS)}"


def admin_username_problem(name: str) -> str | None:
    """Return why Azure refuses `name` for a Windows VM's administrator, or None."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9._-]{0,19}", name) and name.lower() not in RESERVED_ADMIN_NAMES:
        return None
    return (f"{name!r} is reserved or invalid on Azure Windows VMs (1-20 letters, digits, '.', '_' or '-', "
            "not 'admin'/'administrator')")


def management_cidr_problem(cidr: str) -> str | None:
    """Return why `cidr` may not reach a host's management ports, or None: it must be a private range
    (RFC 1918 / unique local), never the internet."""
    if is_internet_source(cidr):
        return f"{cidr!r} would open RDP/WinRM/SSH to the internet; name your admin ranges"
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return f"{cidr!r} is not a CIDR range"
    if not is_private_source(str(network)):
        return (f"{cidr!r} is not a private range (RFC 1918 10/8, 172.16/12, 192.168/16 or unique local fc00::/7); "
                "reach hosts over a VPN or Bastion")
    return None


# The tag every Azure resource hyperdock creates carries when the caller gives no tags, and the one
# the required-tags policy asks for by default (policies/tags.py): how a resource is known as hyperdock's.
MANAGED_BY_TAG = "managed-by"


def default_tags() -> dict[str, str]:
    """Return a new dict of the tags hyperdock's Azure resources carry when none are given."""
    return {MANAGED_BY_TAG: "hyperdock"}


# AKS's Linux system pool as hyperdock plans it (aks.yaml's systemPool) and AksWindowsCluster builds it
# when not told: two nodes, so that the critical add-ons survive one node's upgrade; a Dsv5 size.
AKS_SYSTEM_POOL_SIZE = "Standard_D4s_v5"
AKS_SYSTEM_POOL_COUNT = 2
# The size of AKS's Windows nodes as hyperdock plans them (`generate --node-size`) and AksWindowsCluster
# builds a pool that names none; and of the hosts `generate --host-size` plans unless told.
AKS_WINDOWS_NODE_SIZE = "Standard_D8s_v5"
PLANNED_HOST_SIZE = "Standard_D16s_v5"
# AKS Windows agent pool names: at most 6 characters, lower-case letters and digits, starting with a
# letter (Microsoft Learn, learn.microsoft.com/azure/aks/create-node-pools).
WINDOWS_POOL_NAME = re.compile(r"[a-z][a-z0-9]{0,5}")

# Built-in role AcrPull (Microsoft Learn "Azure built-in roles"; the ID is the same in every tenant).
ACR_PULL_ROLE_ID = "7f951dda-4ed3-4680-a7ca-43fe172d538d"


def series_of(vm_size: str) -> SizeSeries | None:
    """Return the series of an Azure size, or None when the size is not in the table."""
    return next((s for s in SERIES if s.pattern.fullmatch(vm_size)), None)


def supports_nested_virtualization(vm_size: str) -> bool:
    """True when the size's series supports nested virtualization (Hyper-V isolation needs it)."""
    series = series_of(vm_size)
    return bool(series and series.nested_virtualization)


def host_size_problem(vm_size: str) -> str | None:
    """Return why a size cannot run hyperdock's hosts (Gen2 Azure Edition image, Premium_LRS disk), or None.

    Sizes not in the table are not judged here.
    """
    series = series_of(vm_size)
    if series is None:
        return None
    reasons = []
    if 2 not in series.generations:
        reasons.append("Generation 1 only")
    if not series.premium_storage:
        reasons.append("no Premium storage")
    if reasons:
        return (f"{vm_size} ({series.name}) has {' and '.join(reasons)}: it cannot run the Gen2 Windows Server Azure "
                f"Edition images with a Premium_LRS disk; use {hyperv_host_series()}")
    return None


def hyperv_host_series() -> str:
    """Return the series a Hyper-V isolation host may use (nested virtualization, Generation 2,
    Premium storage), as prose: "Dsv3, Dsv5, Dasv5, Dsv6 or Dasv6"."""
    names = [s.name for s in SERIES if s.nested_virtualization and 2 in s.generations and s.premium_storage]
    return f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]


def hyperv_size_problem(vm_size: str) -> str | None:
    """Return why a size cannot be a Hyper-V isolation host, or None when it can."""
    problem = host_size_problem(vm_size)
    if problem:
        return problem
    if not supports_nested_virtualization(vm_size):
        return (f"{vm_size} does not support nested virtualization (or is not in hyperdock's size table), which "
                f"Hyper-V isolation needs on an Azure VM; use a size of the {hyperv_host_series()} series "
                "(e.g. Standard_D4s_v5)")
    return None


# Managed Run Command's timeoutInSeconds for host setup and workload steps (the SDK's
# VirtualMachineRunCommand `timeout_in_seconds`): an hour. Microsoft's "Run scripts in your Windows
# VM by using managed Run Commands" states a 90-minute script limit [U: not rechecked offline].
RUN_COMMAND_TIMEOUT_SECONDS = 3600


def supports_trusted_launch(vm_size: str) -> bool:
    """True when the size can run Trusted Launch as far as the table knows (a Generation 2 size)."""
    series = series_of(vm_size)
    return series is None or 2 in series.generations


def is_internet_source(prefix: str) -> bool:
    """True for an NSG source that means any address (`*`, `Internet`, `0.0.0.0/0`, ...)."""
    return prefix.strip().lower() in INTERNET_SOURCES


def is_private_source(prefix: str) -> bool:
    """True when an NSG source prefix lies entirely in private address space (or is the VNet tag)."""
    text = prefix.strip()
    if text.lower() in PRIVATE_SERVICE_TAGS:
        return True
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return any(network.version == r.version and network.subnet_of(r) for r in PRIVATE_RANGES)


@dataclass(frozen=True, slots=True)
class HostSize:
    """A host's shape: an Azure size, or an on-premises host described by its vCPUs and memory."""

    name: str
    vcpus: int
    memory_mib: int
    nested_virtualization: bool


# The sizes `hyperdock generate --host-size` offers, by name, with vCPUs and memory (MiB); see the
# caveat above. Nested virtualization comes from the series table.
AZURE_SIZES: dict[str, HostSize] = {name: HostSize(name, vcpus, memory, supports_nested_virtualization(name))
                                    for name, (vcpus, memory) in sorted({
    "Standard_D4s_v5": (4, 16384), "Standard_D8s_v5": (8, 32768), "Standard_D16s_v5": (16, 65536),
    "Standard_D32s_v5": (32, 131072), "Standard_D8as_v5": (8, 32768), "Standard_D16as_v5": (16, 65536),
    "Standard_D8s_v6": (8, 32768), "Standard_D16s_v6": (16, 65536), "Standard_D8s_v3": (8, 32768),
    "Standard_D16s_v3": (16, 65536), "Standard_B8s_v2": (8, 32768),
}.items())}
