"""Host platforms as plug-ins: one module here per place container hosts run, registered in PLATFORMS.

Each module imports only migrate.core, migrate.contract and the interface (base.py) at its top, and
imports Pulumi and its host component only inside the methods that build resources, so the capacity
half of a platform serves `hyperdock generate` without loading Pulumi. To add a platform: a value in
migrate.contract's Platform enum, a HostPlatform subclass in a module here, and its line below.
"""

from __future__ import annotations

from migrate.contract.model import Platform

from .azure import AzurePlatform
from .base import HostPlatform, HostSpec, SizeOptions
from .onprem import OnPremPlatform

PLATFORMS: dict[Platform, HostPlatform] = {p.platform: p for p in (AzurePlatform(), OnPremPlatform())}

__all__ = ["PLATFORMS", "HostPlatform", "HostSpec", "SizeOptions", "host_platform", "platform_of_target"]


def host_platform(platform: Platform | str) -> HostPlatform:
    """Return the registered platform named `platform` (KeyError for one without a module)."""
    return PLATFORMS[Platform(platform)]


def platform_of_target(args) -> HostPlatform | None:
    """Return the platform whose workload target argument `args` (ContainerWorkload's) holds; None unless exactly one."""
    given = [p for p in PLATFORMS.values() if args.get(p.workload_target) is not None]
    return given[0] if len(given) == 1 else None
