"""Checks that run before any resource exists. Pure functions; each raises HostConfigError with a
message that names the setting and what was expected.

Facts from shared docs/windows-containers.md: §6.3 (nested virtualization sizes, Trusted Launch,
marketplace images), §2.2 (process isolation needs the image build to fit the host), §5.2.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Iterable

from migrate.images import OS_BUILDS, process_isolation_possible

ISOLATIONS = ("process", "hyperv", "both")

# Series whose size pages list "Nested Virtualization: Supported" (S21): Dv3 (Gen1 only per the
# page), Dsv5, Dasv5, Dasv6 and Dsv6 (Gen2 only). Bsv2 does not support it. Other series are not
# in the reference: refuse them for Hyper-V isolation rather than guess.
_NESTED_SERIES = {
    "Dv3": re.compile(r"^Standard_D\d+_v3$"),
    "Dsv5": re.compile(r"^Standard_D\d+s_v5$"),
    "Dasv5": re.compile(r"^Standard_D\d+as_v5$"),
    "Dasv6": re.compile(r"^Standard_D\d+as_v6$"),
    "Dsv6": re.compile(r"^Standard_D\d+s_v6$"),
}

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
SECURITY_TYPES = ("TrustedLaunch", "Standard")
# Names Azure refuses for a Windows administrator (Azure's documented list; not in the shared reference).
RESERVED_ADMIN_NAMES = {"administrator", "admin", "user", "user1", "test", "user2", "test1", "user3", "admin1", "1",
                        "123", "a", "actuser", "adm", "admin2", "aspnet", "backup", "console", "david", "guest", "john",
                        "owner", "root", "server", "sql", "support", "support_388945a0", "sys", "test2", "test3", "user4",
                        "user5"}
INTERNET_SOURCES = {"*", "0.0.0.0/0", "internet", "any", "::/0"}


class HostConfigError(ValueError):
    """A host setting that cannot work or is unsafe; raised before any resource is registered."""


def supports_nested_virtualization(vm_size: str) -> bool:
    """True when the size's series lists nested virtualization as supported."""
    return any(pattern.match(vm_size) for pattern in _NESTED_SERIES.values())


def host_os_of_sku(sku: str) -> str:
    """Return the LTSC family of a Windows Server marketplace SKU, or raise for an unknown SKU."""
    if sku not in IMAGE_SKUS:
        raise HostConfigError(f"imageSku: {sku!r} is not a Windows Server 2022/2025 Datacenter Azure Edition SKU; "
                              f"expected one of {', '.join(IMAGE_SKUS)}")
    return IMAGE_SKUS[sku]


def validate_isolation(isolation: str) -> None:
    if isolation not in ISOLATIONS:
        raise HostConfigError(f"isolation: expected one of {', '.join(ISOLATIONS)}, got {isolation!r}")


def validate_security_type(isolation: str, security_type: str | None, vm_size: str) -> str:
    """Return the security type to use; Hyper-V isolation needs nested virtualization and a choice.

    Trusted Launch is the secure default. With nested virtualization the reference is split: the
    nested-virtualization page says to use Standard, an issue reports Hyper-V failing under
    Trusted Launch, and the current Trusted Launch page no longer lists it as unsupported
    (unverified, §6.3). So a Hyper-V host must name its security type: "Standard" (the documented
    route, without secure boot and vTPM) or "TrustedLaunch" (to be tested per size).
    """
    if security_type is not None and security_type not in SECURITY_TYPES:
        raise HostConfigError(f"securityType: expected TrustedLaunch or Standard, got {security_type!r}")
    if isolation == "process":
        return security_type or "TrustedLaunch"
    if not supports_nested_virtualization(vm_size):
        raise HostConfigError(
            f"vmSize: {vm_size} does not support nested virtualization, which Hyper-V isolation needs on an Azure VM; "
            f"use a size of the {', '.join(_NESTED_SERIES)} series (e.g. Standard_D4s_v5)")
    if security_type is None:
        raise HostConfigError(
            "securityType: Hyper-V isolation needs nested virtualization; choose 'Standard' (documented for nested "
            "virtualization, no secure boot or vTPM) or 'TrustedLaunch' (not verified with nested virtualization: "
            "test it on this size)")
    return security_type


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
    """Return the management source ranges; refuse the internet as a source."""
    result = []
    for cidr in cidrs:
        if cidr.strip().lower() in INTERNET_SOURCES:
            raise HostConfigError(f"managementCidrs: {cidr!r} would open RDP/WinRM/SSH to the internet; name your admin ranges")
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise HostConfigError(f"managementCidrs: {cidr!r} is not a CIDR range") from None
        if network.prefixlen == 0:
            raise HostConfigError(f"managementCidrs: {cidr!r} is the whole internet")
        result.append(str(network))
    return result


def validate_admin_username(name: str) -> None:
    if not re.match(r"^[A-Za-z][A-Za-z0-9._-]{0,19}$", name) or name.lower() in RESERVED_ADMIN_NAMES:
        raise HostConfigError(f"adminUsername: {name!r} is reserved or invalid on Azure Windows VMs "
                              "(1-20 letters, digits, '.', '_' or '-', not 'admin'/'administrator')")


def computer_name(name: str) -> str:
    """Return a Windows computer name (NetBIOS, at most 15 characters) for a resource name."""
    import hashlib

    cleaned = re.sub(r"[^A-Za-z0-9-]", "", name)[:15].strip("-")
    if cleaned and len(name) <= 15 and cleaned == name and not cleaned.isdigit():
        return cleaned
    return f"{cleaned[:8].rstrip('-') or 'hd'}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"
