"""Hosts hyperdock's components as a Pulumi provider for every language (`pulumi package add ./components`)."""

import sys
from pathlib import Path

# Run as a plugin from this folder: make the repository's packages importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.provider.experimental import component_provider_host  # noqa: E402

from components.aks_cluster import AksWindowsCluster  # noqa: E402
from components.platforms import PLATFORMS  # noqa: E402
from components.workload import ContainerWorkload  # noqa: E402

if __name__ == "__main__":
    hosts = [platform.host_component() for platform in PLATFORMS.values()]
    component_provider_host([*hosts, ContainerWorkload, AksWindowsCluster], "hyperdock")
