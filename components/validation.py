"""Checks that run before any resource exists. Pure functions; each raises HostConfigError with a
message that names the setting and what was expected.

Azure facts (sizes, security types, private ranges) come from migrate/core/azure.py, the one
table components, capacity plan and policies share. Other facts from shared
docs/windows-containers.md: §6.3 (marketplace images), §2.2 (process isolation needs the image
build to fit the host), §5.2.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Iterable

from migrate.contract.stack_config import HOST_ISOLATIONS
from migrate.core.azure import (
    ENCRYPTION_AT_HOST_FEATURE, host_size_problem, hyperv_size_problem, is_internet_source,
    is_private_source, supports_trusted_launch,
)
from migrate.core.errors import HostConfigError
from migrate.core.windows import OS_BUILDS, process_isolation_possible

# Publisher MicrosoftWindowsServer, offer WindowsServer (S21, S23). The 2022 Azure Edition SKUs are
# verified; the 2025 ones are seen only in third-party code [U]: verify with
# `az vm image list-skus -l <region> -p MicrosoftWindowsServer -f WindowsServer`.
IMAGE_SKUS = {
    "2022-datacenter-azure-edition": "ltsc2022",
    "2022-datacenter-azure-edition-core": "ltsc2022",
    "2022-datacenter-azure-edition-core-smalldisk": "ltsc2022",
    "2025-datacenter-azure-edition": "ltsc2025",
    "2025-datacenter-azure-edition-core": "ltsc2025",
    "2025-datacenter-azure-edition-core-smalldisk": "ltsc2025",
}
# Names Azure refuses for a Windows administrator (Azure's documented list; not in the shared reference).
RESERVED_ADMIN_NAMES = {"administrator", "admin", "user", "user1", "test", "user2", "test1", "user3", "admin1", "1",
                        "123", "a", "actuser", "adm", "admin2", "aspnet", "backup", "console", "david", "guest", "john",
                        "owner", "root", "server", "sql", "support", "support_388945a0", "sys", "test2", "test3", "user4",
                        "user5"}


def host_os_of_sku(sku: str) -> str:
    """Return the LTSC family of a Windows Server marketplace SKU, or raise for an unknown SKU."""
    if sku not in IMAGE_SKUS:
        raise HostConfigError(f"imageSku: {sku!r} is not a Windows Server 2022/2025 Datacenter Azure Edition SKU; "
                              f"expected one of {', '.join(IMAGE_SKUS)}")
    return IMAGE_SKUS[sku]


def validate_isolation(isolation: str) -> None:
    if isolation not in HOST_ISOLATIONS:
        raise HostConfigError(f"isolation: expected one of {', '.join(HOST_ISOLATIONS)}, got {isolation!r}")


def validate_security_type(isolation: str, security_type: str | None, vm_size: str) -> str | None:
    """Return the `securityProfile.securityType` to send, or None to leave it out (a standard VM).

    Process-isolation hosts get Trusted Launch. Hyper-V isolation hosts need nested virtualization;
    whether Trusted Launch works with it is disputed (migrate.core.azure), so they leave `securityType` out
    unless the user asks for TrustedLaunch explicitly. `Standard` is refused: it is not in the API's
    enum and works only where the subscription registered `UseStandardSecurityType`.
    """
    if security_type == "Standard":
        raise HostConfigError("securityType: 'Standard' is not in the Azure API's enum (TrustedLaunch, ConfidentialVM) "
                              "and fails unless UseStandardSecurityType is registered; leave it empty for a standard VM")
    if security_type and security_type != "TrustedLaunch":
        raise HostConfigError(f"securityType: expected TrustedLaunch or empty (hyperdock does not make ConfidentialVM "
                              f"hosts), got {security_type!r}")
    problem = host_size_problem(vm_size) if isolation == "process" else hyperv_size_problem(vm_size)
    if problem:
        raise HostConfigError(f"vmSize: {problem}")
    if isolation == "process":
        return "TrustedLaunch"
    if security_type == "TrustedLaunch" and not supports_trusted_launch(vm_size):
        raise HostConfigError(f"securityType: {vm_size} cannot run Trusted Launch (Generation 1 only); leave it empty")
    return security_type or None


def validate_encryption_at_host(enabled: object) -> bool:
    """Return whether to ask for encryption at host; it needs a subscription feature hyperdock cannot check."""
    if not isinstance(enabled, bool):
        raise HostConfigError(f"encryptionAtHost: expected true or false (true needs the {ENCRYPTION_AT_HOST_FEATURE} "
                              f"feature registered on the subscription), got {enabled!r}")
    return enabled


def validate_image_builds(isolation: str, host_os: str, image_os: Iterable[str]) -> None:
    """Every image must run on the host: process isolation needs a fitting build (R1, R4)."""
    host_build = OS_BUILDS[host_os]
    for image in image_os:
        if image not in OS_BUILDS:
            raise HostConfigError(f"workloadImageOs: unknown image OS {image!r}; expected ltsc2016..ltsc2025")
        image_build = OS_BUILDS[image]
        if image_build > host_build:
            raise HostConfigError(f"workloadImageOs: {image} images cannot run on a {host_os} host in any isolation")
        if isolation == "process" and not process_isolation_possible(host_build, image_build):
            raise HostConfigError(f"workloadImageOs: {image} images cannot run process-isolated on a {host_os} host; "
                                  "use isolation 'hyperv' or 'both', or a host of the image's OS")


def validate_management_cidrs(cidrs: Iterable[str]) -> list[str]:
    """Return the management source ranges; refuse any range that is not private (RFC 1918 / unique local)."""
    result = []
    for cidr in cidrs:
        if is_internet_source(cidr):
            raise HostConfigError(f"managementCidrs: {cidr!r} would open RDP/WinRM/SSH to the internet; name your admin ranges")
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise HostConfigError(f"managementCidrs: {cidr!r} is not a CIDR range") from None
        if not is_private_source(str(network)):
            raise HostConfigError(f"managementCidrs: {cidr!r} is not a private range (RFC 1918 10/8, 172.16/12, "
                                  "192.168/16 or unique local fc00::/7); reach hosts over a VPN or Bastion")
        result.append(str(network))
    return result


def validate_admin_username(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9._-]{0,19}", name) or name.lower() in RESERVED_ADMIN_NAMES:
        raise HostConfigError(f"adminUsername: {name!r} is reserved or invalid on Azure Windows VMs "
                              "(1-20 letters, digits, '.', '_' or '-', not 'admin'/'administrator')")


def computer_name(name: str) -> str:
    """Return a Windows computer name (NetBIOS, at most 15 characters) for a resource name."""
    import hashlib

    cleaned = re.sub(r"[^A-Za-z0-9-]", "", name)[:15].strip("-")
    if cleaned and len(name) <= 15 and cleaned == name and not cleaned.isdigit():
        return cleaned
    return f"{cleaned[:8].rstrip('-') or 'hd'}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"
