"""The hyperdock policy pack's contents; `__main__.py` only serves them."""

from __future__ import annotations

from . import aks, azure_vm, network, onprem, tags, workloads

PACK_NAME = "hyperdock"
PACK_VERSION = "0.1.0"
POLICIES = [*network.POLICIES, *aks.POLICIES, *azure_vm.POLICIES, *onprem.POLICIES, *tags.POLICIES, *workloads.POLICIES]
