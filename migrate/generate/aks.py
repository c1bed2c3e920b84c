"""The AKS plan (`aks.yaml`, schema `hyperdock/aks@1`): Windows node pools for the container workloads.

Pure functions. The demand of a workload is capacity.py's (its VM's vCPUs and memory plus the
process-isolation overhead); a node offers what AKS leaves allocatable on it:
- AKS reserves CPU per node size (60m for 1 core … 180m for 8, 260m for 16, 420m for 32, 740m for
  64), rounded up here to whole vCPUs because demand counts whole vCPUs;
- memory: kube-reserved = min(20 MiB × maxPods + 50 MiB, 25 % of the VM), a 100 Mi eviction
  threshold, and 2 GB more on Windows nodes for system processes (AKS ≥ 1.29);
  source: Microsoft Learn, learn.microsoft.com/azure/aks/node-resource-reservations.
- Azure CNI's default is 30 pods per node; Windows nodes run a few DaemonSet pods of their own
  (csi-proxy, network policy and monitoring agents), kept free here as `daemonset_pods`.

What AKS can run (Microsoft Learn, learn.microsoft.com/azure/aks/upgrade-os-version; pulumi-azure-native's
OSSKU enum): `osType: Windows` pools with `osSKU` Windows2022 (or Windows2019); a pool runs containers
of its own build only; Windows Server 2025 is not offered (Azure/AKS#4447, and the installed SDK's OSSKU enum has no
Windows2025); AKS does not support Hyper-V isolation. Windows Server 2019 node pools were retired on
2026-03-01 and are not supported from Kubernetes 1.33 (Azure/AKS#4268). Hence:
- ltsc2022 images run on Windows2022 pools as they are;
- ltsc2025 images are retargeted to their ltsc2022 tag (every image of migrate/core/windows.py's ladder publishes
  both) and run on Windows2022 pools, process-isolated;
- Hyper-V isolated workloads, and ltsc2019 images, stay on hyperdock's hosts (hosts.yaml).

Separation follows capacity.py: process-isolated workloads share a kernel, so each (tenant, zone)
gets its own pool, labelled and tainted so nothing else is scheduled there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..contract.aks import AKS_OS_SKUS, aks_placement
from ..contract.model import Plan
from ..contract.names import aks_pool_name
from ..core.azure import AKS_SYSTEM_POOL_COUNT, AKS_SYSTEM_POOL_SIZE, AKS_WINDOWS_NODE_SIZE, AZURE_SIZES, HostSize
from ..core.errors import InputError
from ..core.windows import OS_BUILDS
from .capacity import CapacityOptions, Demand, demand_of, pack

AKS_SCHEMA_ID = "hyperdock/aks@1"
# AKS: at most 1,000 nodes per node pool (Microsoft Learn, learn.microsoft.com/azure/aks/quotas-skus-regions):
# a larger group is split into pools whose autoscaler maximum stays within it.
MAX_POOL_NODES = 1000
MAX_CLUSTER_NODES = 5000
_CPU_RESERVED_MILLI = ((1, 60), (2, 100), (4, 140), (8, 180), (16, 260), (32, 420), (64, 740))


@dataclass(frozen=True, slots=True)
class AksOptions:
    node_size: HostSize = AZURE_SIZES[AKS_WINDOWS_NODE_SIZE]
    max_pods: int = 30                  # Azure CNI default; raised when the plan packs more pods on a node
    daemonset_pods: int = 5
    windows_reserve_memory_mib: int = 2048
    eviction_memory_mib: int = 100
    headroom_percent: int = 25          # autoscaler maximum above the planned count, for surges and growth
    system_pool_size: str = AKS_SYSTEM_POOL_SIZE
    system_pool_count: int = AKS_SYSTEM_POOL_COUNT
    default_memory_mib: int = 2048


def allocatable(size: HostSize, max_pods: int, options: AksOptions) -> tuple[int, int]:
    """Return the (whole vCPUs, MiB) an AKS Windows node of `size` offers to pods."""
    milli = next((m for cores, m in _CPU_RESERVED_MILLI if size.vcpus <= cores), _CPU_RESERVED_MILLI[-1][1])
    kube_reserved = min(20 * max_pods + 50, size.memory_mib // 4)
    memory = size.memory_mib - kube_reserved - options.eviction_memory_mib - options.windows_reserve_memory_mib
    return size.vcpus - math.ceil(milli / 1000), memory


def _pack(demands: list[Demand], max_pods: int, options: AksOptions) -> list:
    cpu, memory = allocatable(options.node_size, max_pods, options)
    node = HostSize(options.node_size.name, cpu, memory, options.node_size.nested_virtualization)
    hosts, _ = pack(demands, CapacityOptions(size=node, reserve_vcpus=0, reserve_memory_mib=0))
    return hosts


def aks_plan(plan: Plan, labels: dict[str, str], options: AksOptions = AksOptions()) -> dict:
    """Return the aks.yaml document: node pools per (build, tenant, zone), sized from the demand model."""
    where = aks_placement(plan, labels)
    demand_options = CapacityOptions(default_memory_mib=options.default_memory_mib)
    groups: dict[tuple[str, str, str], list[Demand]] = {}
    for w in plan.workloads:
        label = labels.get(w.vm_id)
        if label in where.on_aks:
            key = (where.on_aks[label], w.tenant, w.zone)
            groups.setdefault(key, []).append(demand_of(w, label, demand_options))
    # One max-pods value for the cluster: the most pods the packing puts on a node, plus DaemonSets.
    max_pods = options.max_pods
    for demands in groups.values():
        for node in _pack(demands, max_pods, options):
            max_pods = max(max_pods, len(node.workloads) + options.daemonset_pods)
    if max_pods > 250:
        raise InputError("--node-size", f"{max_pods} pods per node is more than Azure CNI's 250; choose a smaller node size")
    cpu, memory = allocatable(options.node_size, max_pods, options)
    planned_os = {labels[w.vm_id]: w.image_os for w in plan.workloads}
    pools, counters = [], {}
    chunk = MAX_POOL_NODES * 100 // (100 + options.headroom_percent)
    for (image_os, tenant, zone), demands in sorted(groups.items()):
        nodes = _pack(demands, max_pods, options)
        size = {d.label: d for d in demands}
        for first in range(0, len(nodes), chunk):
            part = nodes[first:first + chunk]
            members = [size[label] for node in part for label in node.workloads]
            counters[image_os] = counters.get(image_os, 0) + 1
            count = len(part)
            bound = max(1, math.ceil(sum(d.vcpus for d in members) / cpu), math.ceil(sum(d.memory_mib for d in members) / memory))
            pools.append({
                "name": aks_pool_name(image_os, counters[image_os]),
                "osType": "Windows",
                "osSku": AKS_OS_SKUS[image_os],
                "imageOS": image_os,
                "windowsBuild": f"10.0.{OS_BUILDS[image_os]}",
                "tenant": tenant or None,
                "zone": zone or None,
                "nodeCount": count,
                "minCount": count,
                "maxCount": min(MAX_POOL_NODES, count + max(1, math.ceil(count * options.headroom_percent / 100))),
                "lowerBound": bound,
                "workloads": sorted(d.label for d in members),
            })
    if sum(p["maxCount"] for p in pools) + options.system_pool_count > MAX_CLUSTER_NODES:
        raise InputError("--node-size", f"the pools need more than AKS's {MAX_CLUSTER_NODES} nodes per cluster; "
                                        "choose a larger node size or split the estate")
    return {
        "schema": AKS_SCHEMA_ID,
        "hostOS": plan.host_os,
        "nodeSize": {"name": options.node_size.name, "vcpus": options.node_size.vcpus, "memoryMiB": options.node_size.memory_mib},
        "maxPods": max_pods,
        "allocatablePerNode": {"vcpus": cpu, "memoryMiB": memory},
        "systemPool": {"name": "system", "osType": "Linux", "vmSize": options.system_pool_size, "count": options.system_pool_count},
        "summary": {
            "windowsNodes": sum(p["nodeCount"] for p in pools),
            "lowerBound": sum(p["lowerBound"] for p in pools),
            "workloadsOnAks": len(where.on_aks),
            "workloadsOnHosts": len(where.on_hosts),
            "retargeted": sorted(label for label, image_os in where.on_aks.items() if image_os != planned_os[label]),
        },
        "pools": pools,
        "stayOnHosts": [{"workload": label, "reason": reason} for label, reason in sorted(where.on_hosts.items())],
    }
