"""Version compatibility and image tags, as migrate/core/windows.py states them with their sources."""

from __future__ import annotations

import pytest

from migrate.core.windows import (
    OS_BUILDS, dotnet_core_image, guest_build_from_name, hyperv_isolation_possible, parse_build,
    process_isolation_possible,
)

H = OS_BUILDS


@pytest.mark.parametrize("host, image, process, hyperv", [
    # "Windows container version compatibility"'s matrix, row by row
    ("ltsc2025", "ltsc2025", True, True),
    ("ltsc2025", "ltsc2022", True, True),
    ("ltsc2025", "ltsc2019", False, True),
    ("ltsc2025", "ltsc2016", False, True),
    ("ltsc2022", "ltsc2025", False, False),
    ("ltsc2022", "ltsc2022", True, True),
    ("ltsc2022", "ltsc2019", False, True),
    ("ltsc2019", "ltsc2022", False, False),
    ("ltsc2019", "ltsc2019", True, True),
    ("ltsc2019", "ltsc2016", False, True),
    ("ltsc2016", "ltsc2016", True, True),
])
def test_compatibility_matrix(host, image, process, hyperv):
    assert process_isolation_possible(H[host], H[image]) is process
    assert hyperv_isolation_possible(H[host], H[image]) is hyperv


def test_r4_windows11_22h2_accepts_ltsc2022_range():
    assert process_isolation_possible(22621, 20348)
    assert not process_isolation_possible(22621, 17763)
    assert not process_isolation_possible(20348, 22621)


def test_parse_build():
    assert parse_build("10.0.17763") == (10, 0, 17763)
    assert parse_build("10.0.20348.2849") == (10, 0, 20348)
    assert parse_build("") is None
    assert guest_build_from_name("Windows Server 2019 Datacenter") == 17763
    assert guest_build_from_name("Windows 10 Enterprise") is None


def test_dotnet_core_tags():
    assert dotnet_core_image(8, "ltsc2019", nano=True) == "mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-1809"
    assert dotnet_core_image(9, "ltsc2019", nano=False) == "mcr.microsoft.com/dotnet/aspnet:9.0-windowsservercore-ltsc2019"
    assert dotnet_core_image(10, "ltsc2019", nano=True) is None  # 10.0 has no 2019 tags
    assert dotnet_core_image(10, "ltsc2025", nano=True) == "mcr.microsoft.com/dotnet/aspnet:10.0-nanoserver-ltsc2025"
    assert dotnet_core_image(6, "ltsc2022", nano=True) is None
