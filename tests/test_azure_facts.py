"""The one table of Azure facts: what it says, and that every reader uses it."""

from __future__ import annotations

import pytest
from pulumi_azure_native import compute

from components.validation import validate_security_type
from migrate.core import azure
from migrate.core.errors import HostConfigError


@pytest.mark.parametrize("size", ["Standard_D8s_v3", "Standard_D4s_v5", "Standard_D8as_v5", "Standard_D8s_v6",
                                  "Standard_D16as_v6"])
def test_nested_series_are_accepted_for_hyperv_hosts(size):
    assert validate_security_type("hyperv", None, size) is None
    assert validate_security_type("process", None, size) == "TrustedLaunch"


def test_dv3_is_refused_with_the_reason():
    with pytest.raises(HostConfigError, match="Generation 1 only and no Premium storage"):
        validate_security_type("hyperv", None, "Standard_D4_v3")
    assert azure.supports_nested_virtualization("Standard_D4_v3")  # nested, but unusable for other reasons


def test_security_types_are_the_sdk_enum():
    assert set(azure.SECURITY_TYPES) == {member.value for member in compute.SecurityTypes}
    assert "Standard" not in azure.SECURITY_TYPES


def test_size_table_follows_the_series_table():
    assert list(azure.AZURE_SIZES) == sorted(azure.AZURE_SIZES)  # --host-size's help lists them in this order
    for name, size in azure.AZURE_SIZES.items():
        assert size.name == name and azure.series_of(name) is not None
        assert size.nested_virtualization == azure.supports_nested_virtualization(name)
    assert not azure.AZURE_SIZES["Standard_B8s_v2"].nested_virtualization
    assert azure.AZURE_SIZES["Standard_D4s_v5"].memory_mib == 4 * 4096  # D-series: 4 GiB per vCPU


@pytest.mark.parametrize("prefix, private", [
    ("10.1.0.0/24", True), ("172.16.0.0/12", True), ("192.168.10.0/24", True), ("fd00:1::/64", True),
    ("VirtualNetwork", True), ("0.0.0.0/1", False), ("128.0.0.0/1", False), ("172.32.0.0/16", False),
    ("10.0.0.0/7", False), ("100.64.0.0/10", False), ("Internet", False), ("*", False), ("AzureCloud", False),
    ("2001:db8::/32", False),
])
def test_private_sources(prefix, private):
    assert azure.is_private_source(prefix) is private
