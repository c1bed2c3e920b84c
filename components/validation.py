"""Checks that run before any resource exists. Pure functions; each raises HostConfigError with a
message that names the setting and what was expected.

Azure facts (sizes, security types, private ranges) come from migrate/core/azure.py, the one
table components, capacity plan and policies share; Windows builds and the process-isolation rule
(R1, R4) from migrate/core/windows.py.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Iterable

from migrate.contract.model import Isolation
from migrate.contract.stack_config import HOST_ISOLATIONS
from migrate.core.azure import (
    ENCRYPTION_AT_HOST_FEATURE, IMAGE_SKUS, admin_username_problem, host_size_problem, hyperv_size_problem,
    image_sku_problem, management_cidr_problem, security_type_problem, supports_trusted_launch,
)
from migrate.core.errors import HostConfigError
from migrate.core.windows import OS_BUILDS, process_isolation_possible



def host_os_of_sku(sku: str) -> str:
    """Return the LTSC family of a Windows Server marketplace SKU, or raise for an unknown SKU."""
    problem = image_sku_problem(sku)
    if problem:
        raise HostConfigError(f"imageSku: {problem}")
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
    problem = security_type_problem(security_type) if security_type else None
    if problem:
        raise HostConfigError(f"securityType: {problem}")
    problem = host_size_problem(vm_size) if isolation == Isolation.PROCESS else hyperv_size_problem(vm_size)
    if problem:
        raise HostConfigError(f"vmSize: {problem}")
    if isolation == Isolation.PROCESS:
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
        if isolation == Isolation.PROCESS and not process_isolation_possible(host_build, image_build):
            raise HostConfigError(f"workloadImageOs: {image} images cannot run process-isolated on a {host_os} host; "
                                  "use isolation 'hyperv' or 'both', or a host of the image's OS")


def validate_management_cidrs(cidrs: Iterable[str]) -> list[str]:
    """Return the management source ranges; refuse any range that is not private (RFC 1918 / unique local)."""
    result = []
    for cidr in cidrs:
        problem = management_cidr_problem(cidr)
        if problem:
            raise HostConfigError(f"managementCidrs: {problem}")
        result.append(str(ipaddress.ip_network(cidr, strict=False)))
    return result


def validate_admin_username(name: str) -> None:
    problem = admin_username_problem(name)
    if problem:
        raise HostConfigError(f"adminUsername: {problem}")


def computer_name(name: str) -> str:
    """Return a Windows computer name (NetBIOS, at most 15 characters) for a resource name."""
    import hashlib

    cleaned = re.sub(r"[^A-Za-z0-9-]", "", name)[:15].strip("-")
    if cleaned and len(name) <= 15 and cleaned == name and not cleaned.isdigit():
        return cleaned
    return f"{cleaned[:8].rstrip('-') or 'hd'}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"
