"""What IIS and .NET Framework images need besides the sites: features, .NET 3.5, binding addresses.

Pure functions over a plan workload; dockerfile.py puts their statements into the RUN lines.
"""

from __future__ import annotations

from dataclasses import replace

from ..contract.model import Container, Site
from ..core.windows import HOST_ONLY_FEATURES, NETFX3_FEATURES, OS_BUILDS
from ..core.documents import parse_binding
from .powershell import non_http_protocols

# Features the IIS-based images already have (servercore/iis, dotnet/framework/aspnet).
IIS_IMAGE_FEATURES = {
    "web-server", "web-webserver", "web-common-http", "web-default-doc", "web-dir-browsing", "web-http-errors",
    "web-static-content", "web-health", "web-http-logging", "web-performance", "web-stat-compression",
    "web-security", "web-filtering",
}
ASPNET_IMAGE_FEATURES = IIS_IMAGE_FEATURES | {
    "web-app-dev", "web-net-ext45", "web-asp-net45", "web-isapi-ext", "web-isapi-filter", "net-framework-45-aspnet",
    "net-framework-45-core", "net-framework-45-features",
}
# WCF non-HTTP activation per protocol; WAS comes with them as a dependency (the wcf image's
# Dockerfile for ltsc2019 installs NET-WCF-TCP-Activation45 alone).
_ACTIVATION_FEATURES = {"net.tcp": "NET-WCF-TCP-Activation45", "net.pipe": "NET-WCF-Pipe-Activation45",
                        "net.msmq": "NET-WCF-MSMQ-Activation45", "msmq.formatname": "NET-WCF-MSMQ-Activation45"}


def features_to_install(container: Container, image: str) -> list[str]:
    """Return the features to install: the VM's, less the image's own, host-only and .NET 3.5 ones, plus WCF activation."""
    present = ASPNET_IMAGE_FEATURES if "/framework/aspnet:" in image else IIS_IMAGE_FEATURES if "/iis:" in image else set()
    features = [f for f in container.windows_features
                if f.lower() not in present and f.lower() not in NETFX3_FEATURES and not HOST_ONLY_FEATURES.fullmatch(f)]
    for site in container.iis_sites:
        features += [_ACTIVATION_FEATURES[p] for p in non_http_protocols(site)]
    return list(dict.fromkeys(features))


def netfx3_script(image_os: str, iis: bool) -> list[str]:
    """Return the statements that add .NET Framework 3.5 the way Microsoft's own 3.5 images did.

    microsoft/dotnet-framework-docker removed its 3.5 images on 2025-10-14 (commit 7e6e683b, #1262:
    tags not listed are not supported), so hyperdock keeps the supported 4.8.x image and adds
    NetFx3 as those Dockerfiles did: `dism /Online /Add-Capability /CapabilityName:NetFx3` on
    ltsc2022 and ltsc2025; `/Enable-Feature /FeatureName:NetFx3 /All` with Windows Update enabled
    for the step on ltsc2019/2016; then ASP.NET 3.5 for IIS (Web-Asp-Net).
    """
    check = "if ($LASTEXITCODE -notin 0, 3010) { throw ('dism.exe failed: ' + $LASTEXITCODE) }"
    if OS_BUILDS[image_os] >= OS_BUILDS["ltsc2022"]:
        lines = ["dism.exe /Online /NoRestart /Add-Capability /CapabilityName:NetFx3", check]
    else:
        lines = ["Set-Service -Name wuauserv -StartupType Automatic",
                 "dism.exe /Online /NoRestart /Enable-Feature /FeatureName:NetFx3 /All", check,
                 "Set-Service -Name wuauserv -StartupType Disabled"]
    return lines + (["Install-WindowsFeature -Name 'Web-Asp-Net'"] if iis else [])


def needs_netfx3(container: Container) -> bool:
    """.NET 3.5 (CLR 2.0 app pools, or the NET-Framework-Core feature on the VM)."""
    return any(p.clr2 for p in container.app_pools) or any(f.lower() in NETFX3_FEATURES for f in container.windows_features)


def all_addresses(sites: tuple[Site, ...]) -> tuple[Site, ...]:
    """Return the sites with HTTP(S) bindings on a VM address moved to all addresses (`*`).

    The container has one interface with an address of its own: a binding to the VM's address
    would never answer. A binding that would then clash with another (IP-based hosting of two
    sites on one port) keeps its address, and that site must be split into its own container.
    """
    used = {(p[0], p[2], p[3].lower()) for site in sites for b in site.bindings
            if (p := parse_binding(b)) and p[1] == "*"}
    result = []
    for site in sites:
        bindings = []
        for binding in site.bindings:
            parsed = parse_binding(binding)
            if parsed and parsed[1] != "*" and (parsed[0], parsed[2], parsed[3].lower()) not in used:
                used.add((parsed[0], parsed[2], parsed[3].lower()))
                binding = f"{parsed[0]}/*:{parsed[2]}:{parsed[3]}"
            bindings.append(binding)
        bindings = tuple(bindings)
        result.append(site if bindings == site.bindings else replace(site, bindings=bindings))
    return tuple(result)
