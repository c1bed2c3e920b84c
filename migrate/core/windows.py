"""Windows facts: builds, host/image compatibility, base images and host-only features.

Pure functions; no I/O. [V] verified in the named source, [I] inferred from it, [U] unverified.

Builds and compatibility, from Microsoft Learn "Windows container version compatibility"
(learn.microsoft.com/virtualization/windowscontainers/deploy-containers/version-compatibility)
and "Windows container base image lifecycle" (.../deploy-containers/base-image-lifecycle):
- Windows Server 2016 is build 14393 (tag `ltsc2016`), 2019 is 17763 (`ltsc2019`/`1809`), 2022 is
  20348 (`ltsc2022`), 2025 is 26100 (`ltsc2025`). Builds compare on major.minor.build. [V]
- R1: before Windows Server 2022, a process-isolated container needs the same build on host and
  image, else it fails with 0xc0370101. [V]
- R3: Hyper-V isolation gives the container its own kernel, so an image older than the host runs;
  an image newer than the host never runs, in either mode. [V]
- R4: from build 20348 on, microsoft/hcsshim's `CheckHostAndContainerCompat`
  (`osversion/platform_compat_windows.go`) accepts a process-isolated image whose build lies in
  [floor, host], floor being the highest LTSC build (20348, 26100) strictly below the host's, or
  20348. containerd/platforms' `platform_windows_compat.go` floors newer hosts lower; hcsshim's
  stricter rule is the one kept. [V]

Images, from Microsoft Learn "Container base images" (.../manage-containers/container-base-images):
.NET Framework apps go on Server Core; .NET on Nano Server, which has no Windows PowerShell and no
WMI (and runs 64-bit code only: Windows Server docs, "Nano Server"); what needs the full Windows API
(GDI, fonts, printing) on `windows/server`, published for ltsc2022 and ltsc2025 only, or on
`windows`, published as 1809 only. Nano Server has no `ltsc2019` tag (its 2019 tag is `1809`). [V]
Tags of the application images: see each function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Container tag family → Windows Server build (version-compatibility, base-image-lifecycle).
OS_BUILDS = {"ltsc2016": 14393, "ltsc2019": 17763, "ltsc2022": 20348, "ltsc2025": 26100}
HOST_OS_CHOICES = ("ltsc2025", "ltsc2022", "ltsc2019")
LTSC_BUILDS = (20348, 26100)  # R4's LTSC list for hosts at or above 20348

# Digit runs start after a non-digit and are short: linear on 40 KB of digits, and int() stays small.
_VERSION = re.compile(r"(?<!\d)(\d{1,9})\.(\d{1,9})\.(\d{1,9})(?!\d)")
# Features that act on the container host, never installed in an image: Microsoft Learn "Windows container
# requirements" (.../deploy-containers/system-requirements) and microsoft/Windows-Containers'
# install-docker-ce.ps1 enable Containers and Hyper-V on the host. [V]
HOST_ONLY_FEATURES = re.compile(r"(containers|hyper-v(-.*)?|microsoft-hyper-v(-.*)?)", re.IGNORECASE)
# .NET Framework 3.5 features (lower-case), ASP.NET 3.5 included: Install-WindowsFeature cannot add them on
# Server Core without a source, so an image gets NetFx3 instead (generate/iis_image.py netfx3_script),
# and rule cond.legacy-dotnet reports them.
NETFX3_FEATURES = frozenset({"net-framework-core", "net-framework-features", "web-asp-net", "web-net-ext"})
# IIS binding protocols of WCF's non-HTTP activation (microsoft/dotnet-framework-docker wcf image:
# `enabledProtocols:"http,net.tcp"`); rule cond.non-http-binding and the IIS image script read them.
NON_HTTP_PROTOCOLS = ("net.tcp", "net.pipe", "net.msmq", "msmq.formatname")



def os_for_build(build: int) -> str | None:
    """Return the tag family (`ltsc2019`, …) of a Windows Server build, or None if none matches."""
    for name, value in OS_BUILDS.items():
        if value == build:
            return name
    return None


def parse_build(version: str) -> tuple[int, int, int] | None:
    """Return (major, minor, build) from a version like "10.0.17763" or "10.0.17763.1234"."""
    match = _VERSION.search(version or "")
    return tuple(int(part) for part in match.groups()) if match else None  # type: ignore[return-value]


def guest_build_from_name(os_name: str) -> int | None:
    """Return the build a Windows Server product name implies ("Windows Server 2019 …" → 17763)."""
    match = re.search(r"Windows Server (\d{4})", os_name or "")
    if match:
        return OS_BUILDS.get(f"ltsc{match.group(1)}")
    return None


def process_isolation_possible(host_build: int, image_build: int) -> bool:
    """True when a process-isolated container of `image_build` runs on `host_build` (R1, R4).

    Below 20348 the builds must be equal; from 20348 on, the image build must lie in
    [floor, host] where floor is the highest LTSC strictly below the host (hcsshim's rule,
    the stricter of the two runtimes in the reference), or 20348.
    """
    if host_build < 20348:
        return image_build == host_build
    below = [b for b in LTSC_BUILDS if b < host_build]
    floor = max(below) if below else 20348
    return floor <= image_build <= host_build


def hyperv_isolation_possible(host_build: int, image_build: int) -> bool:
    """True when a Hyper-V isolated container runs: the image is not newer than the host (R3)."""
    return image_build <= host_build


@dataclass(frozen=True, slots=True)
class ImageChoice:
    """A pinned base image and why it was chosen."""

    image: str
    reason: str


def _framework_tag(image_os: str) -> str:
    # microsoft/dotnet-framework-docker README.aspnet.md / README.runtime.md: 4.8.1 tags exist for
    # ltsc2022/2025; ltsc2019 and ltsc2016 stop at 4.8. [V]
    version = "4.8.1" if OS_BUILDS[image_os] >= 20348 else "4.8"
    return f"{version}-windowsservercore-{image_os}"


def _nanoserver_tag(image_os: str) -> str:
    return "1809" if image_os == "ltsc2019" else image_os  # no ltsc2019 Nano Server tag (module docstring)


def dotnet_core_image(major: int, image_os: str, nano: bool) -> str | None:
    """Return the `dotnet/aspnet` image for .NET `major` on `image_os`, or None if none is published.

    dotnet/dotnet-docker README.aspnet.md: 8.0, 9.0 and 10.0 publish ltsc2022/ltsc2025 tags; 8.0 and
    9.0 also `nanoserver-1809` and `windowsservercore-ltsc2019`; 10.0 has no 2019 tags. Nothing for
    ltsc2016. [V]
    """
    if major not in (8, 9, 10) or image_os == "ltsc2016":
        return None
    if image_os == "ltsc2019" and major == 10:
        return None
    flavour = f"nanoserver-{_nanoserver_tag(image_os)}" if nano else f"windowsservercore-{image_os}"
    return f"mcr.microsoft.com/dotnet/aspnet:{major}.0-{flavour}"


def choose_base_image(
    image_os: str,
    *,
    has_iis: bool,
    managed_framework: bool,
    dotnet_core_major: int | None,
    needs_full_api: bool,
    needs_windows_powershell: bool,
) -> ImageChoice:
    """Return the base image for a workload, following "Container base images"' guideline (module docstring).

    `needs_full_api`: GDI, fonts or printing → `windows/server` (2022+) or `windows` (1809).
    `needs_windows_powershell`: features to install, 32-bit code or WMI → not Nano Server.
    """
    if needs_full_api:
        if OS_BUILDS[image_os] >= 20348:
            return ImageChoice(f"mcr.microsoft.com/windows/server:{image_os}", "full Windows API (GDI, printing or fonts)")
        return ImageChoice("mcr.microsoft.com/windows:1809", "full Windows API (GDI, printing or fonts); no Server image before 2022")
    if managed_framework and has_iis:
        return ImageChoice(f"mcr.microsoft.com/dotnet/framework/aspnet:{_framework_tag(image_os)}", "ASP.NET on .NET Framework under IIS")
    if managed_framework:
        return ImageChoice(f"mcr.microsoft.com/dotnet/framework/runtime:{_framework_tag(image_os)}", ".NET Framework application")
    if dotnet_core_major is not None and not has_iis:
        image = dotnet_core_image(dotnet_core_major, image_os, nano=not needs_windows_powershell)
        if image:
            return ImageChoice(image, f".NET {dotnet_core_major} application")
    if has_iis:
        # microsoft/iis-docker publishes servercore/iis per LTSC; its ltsc2025 tag is inferred from that
        # repository's `windowsservercore-ltsc2025/Dockerfile` [I].
        return ImageChoice(f"mcr.microsoft.com/windows/servercore/iis:windowsservercore-{image_os}", "IIS site without .NET Framework")
    return ImageChoice(f"mcr.microsoft.com/windows/servercore:{image_os}", "Windows application on Server Core")
