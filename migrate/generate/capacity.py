"""The capacity plan (`hosts.yaml`, schema `hyperdock/hosts@1`): container workloads placed on hosts.

Pure functions. Demand is the VM's vCPUs and memory (the memory Hyper-V saw assigned under
dynamic memory when known, else its startup memory) plus a per-container overhead: a Hyper-V
isolated container runs in a utility VM, 1 GiB and 2 vCPUs by default (microsoft/hcsshim
`internal/uvm/create.go` defaults); a process-isolated one needs about 50 MiB (Server Core; Microsoft
Learn "Windows container requirements", memory table of its 2019 version). Hosts keep a reserve
for their own OS.

Separation: process-isolated workloads share a kernel, so each (tenant, zone) gets hosts of its
own; Hyper-V isolated workloads have their own kernel and share one pool, on hosts with the
Hyper-V role. Windows Server Standard allows 2 Hyper-V isolated containers per host (Windows
containers FAQ, Virtualization-Documentation `about/faq.yml`).
Packing is first-fit decreasing on the larger of each workload's CPU and memory shares; the
plan reports its host count beside the lower bound (total demand / host capacity, per pool).

Published ports: the Pulumi program publishes each container port on its host (`docker run -p P:P`),
and a host port can be published once per host (a second `docker run -p P:P` on the same host fails:
the port is already allocated), so no two workloads on a host share a port: packing refuses such a
host, the lower bound counts the workloads that publish the same port, and each host lists its
`ports`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..contract.model import Host, HostsPlan, Isolation, Plan, Platform, Pool, Target, Workload
from ..contract.names import host_name, hosts_pool_name
from ..core.azure import AZURE_SIZES, PLANNED_HOST_SIZE, HostSize


@dataclass(frozen=True, slots=True)
class CapacityOptions:
    platform: Platform = Platform.AZURE
    size: HostSize = AZURE_SIZES[PLANNED_HOST_SIZE]
    edition: str = "datacenter"         # datacenter | standard
    reserve_vcpus: int = 1
    reserve_memory_mib: int = 2048
    hyperv_overhead_vcpus: int = 2
    hyperv_overhead_memory_mib: int = 1024
    process_overhead_memory_mib: int = 50
    default_memory_mib: int = 2048      # for a VM whose memory the inventory does not say


@dataclass(slots=True)
class Demand:
    label: str
    isolation: Isolation
    vcpus: int
    memory_mib: int
    ports: frozenset[int] = frozenset()     # host ports it publishes; none on Kubernetes nodes


@dataclass(slots=True)
class _Bin:
    """A host being filled by `pack`."""

    vcpus: int = 0
    memory_mib: int = 0
    hyperv: int = 0
    workloads: list[str] = field(default_factory=list)
    ports: set[int] = field(default_factory=set)


def demand_of(workload: Workload, label: str, options: CapacityOptions) -> Demand:
    """Return what one container workload needs of a host."""
    vcpus = workload.resources.cpus or 1
    memory = workload.resources.memory_used_mib or options.default_memory_mib
    if workload.target is Target.HYPERV:
        return Demand(label, Isolation.HYPERV, vcpus + options.hyperv_overhead_vcpus,
                      memory + options.hyperv_overhead_memory_mib)
    return Demand(label, Isolation.PROCESS, vcpus, memory + options.process_overhead_memory_mib)


def capacity(options: CapacityOptions) -> tuple[int, int]:
    """Return the (vCPUs, MiB) a host offers to containers."""
    return options.size.vcpus - options.reserve_vcpus, options.size.memory_mib - options.reserve_memory_mib


def pool_key(workload: Workload) -> tuple[Isolation, str, str]:
    """Return (isolation, tenant, zone): the hosts a workload may share."""
    if workload.target is Target.HYPERV:
        return (Isolation.HYPERV, "", "")
    return (Isolation.PROCESS, workload.tenant, workload.zone)


def pack(demands: list[Demand], options: CapacityOptions) -> tuple[list[_Bin], list[str]]:
    """Place demands on as few hosts as first-fit decreasing finds; return hosts and notes."""
    cpu, memory = capacity(options)
    hyperv_cap = 2 if options.edition == "standard" else len(demands) + 1  # Datacenter: no limit
    # Workloads whose ports many others publish go first: each of them opens a host the rest can fill.
    crowd = port_counts(demands)
    order = sorted(demands, key=lambda d: (-max((crowd[p] for p in d.ports), default=0),
                                           -max(d.vcpus / cpu, d.memory_mib / memory), d.label))
    hosts: list[_Bin] = []
    notes = []
    free = _FreeTree(len(demands), (cpu, memory, hyperv_cap))
    # One more tree per set of ports that demands publish, where hosts already publishing one of
    # them count as full: first fit among the others stays O(log n). (Checking ports at the
    # leaves made packing quadratic: 290 s at 50k web workloads that all publish port 80.)
    port_sets = {d.ports for d in demands if d.ports}
    by_ports = {s: _FreeTree(len(demands), (cpu, memory, hyperv_cap)) for s in port_sets} \
        if len(port_sets) <= _MAX_PORT_TREES else {}
    for d in order:
        if d.vcpus > cpu or d.memory_mib > memory:
            notes.append(f"{d.label} needs {d.vcpus} vCPUs and {d.memory_mib} MiB, more than a "
                         f"{options.size.name} host offers ({cpu} vCPUs, {memory} MiB): it gets a host of its own")
        need = (d.vcpus, d.memory_mib, int(d.isolation == Isolation.HYPERV))
        # A host port is published once per host: skip open hosts that already publish one of d's.
        if not d.ports:
            index = free.first_fit(need)
        elif d.ports in by_ports:
            index = by_ports[d.ports].first_fit(need)
        else:
            index = free.first_fit(need, lambda i, d=d: i < len(hosts) and bool(hosts[i].ports & d.ports))
        if index is None or index >= len(hosts):  # fits no open host: open one
            index = len(hosts)
            hosts.append(_Bin())
        host = hosts[index]
        host.vcpus += d.vcpus
        host.memory_mib += d.memory_mib
        host.hyperv += d.isolation == Isolation.HYPERV
        host.workloads.append(d.label)
        host.ports |= d.ports
        left = (cpu - host.vcpus, memory - host.memory_mib, hyperv_cap - host.hyperv)
        free.set(index, left)
        for ports, tree in by_ports.items():
            tree.set(index, _FULL if host.ports & ports else left)
    return hosts, notes


# A host that may not take a demand: less free than anything needs.
_FULL = (-(1 << 62), -(1 << 62), -(1 << 62))
# Past this many distinct port sets, updating a tree per set costs more than it saves.
_MAX_PORT_TREES = 64


class _FreeTree:
    """What hosts have free (vCPUs, MiB, Hyper-V slots), with each range's maxima, in host order.

    First fit scans hosts in the order they were opened; at 50k workloads and 17k hosts that scan
    made packing quadratic (18 s). The maxima let `first_fit` skip every range where no host can
    fit, with the same answer as the scan. Unopened hosts are leaves with all capacity free.
    """

    def __init__(self, count: int, empty: tuple[int, int, int]) -> None:
        self.size = 1
        while self.size < max(count, 1):
            self.size *= 2
        self.tree = [empty] * (2 * self.size)

    def first_fit(self, need: tuple[int, int, int], rejects=None) -> int | None:
        """Return the index of the first host with room for `need` that `rejects` (if given) does not refuse, or None."""
        tree, size = self.tree, self.size
        c, m, h = need
        stack = [1]
        while stack:
            node = stack.pop()
            fc, fm, fh = tree[node]
            if fc < c or fm < m or fh < h:
                continue
            while node < size:  # down the left child while it has room, keeping each right one for later
                node *= 2
                fc, fm, fh = tree[node]
                if fc >= c and fm >= m and fh >= h:
                    stack.append(node + 1)
                    continue
                node += 1
                fc, fm, fh = tree[node]
                if fc < c or fm < m or fh < h:
                    break  # room in the range's maxima, but in no one host of it
            else:
                if rejects is None or not rejects(node - size):
                    return node - size
        return None

    def set(self, index: int, left: tuple[int, int, int]) -> None:
        """Record what host `index` has free, and the maxima above it."""
        tree = self.tree
        node = index + self.size
        if tree[node] == left:
            return  # e.g. a host already full in a port's tree stays full
        tree[node] = left
        node //= 2
        while node:
            a, b = tree[2 * node], tree[2 * node + 1]
            maxima = (max(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2]))
            if maxima == tree[node]:
                break  # the ranges above hold the same maxima: nothing more changes (most updates end here)
            tree[node] = maxima
            node //= 2


def lower_bound(demands: list[Demand], options: CapacityOptions) -> int:
    """Return the fewest hosts that could hold `demands` on capacity alone (0 for none)."""
    if not demands:
        return 0
    cpu, memory = capacity(options)
    bounds = [math.ceil(sum(d.vcpus for d in demands) / cpu), math.ceil(sum(d.memory_mib for d in demands) / memory)]
    if options.edition == "standard":
        bounds.append(math.ceil(sum(d.isolation == Isolation.HYPERV for d in demands) / 2))
    bounds += [max(port_counts(demands).values(), default=0)]
    return max(1, *bounds)


def port_counts(demands: list[Demand]) -> dict[int, int]:
    """Return how many demands publish each port (each needs a host of its own for that port)."""
    counts: dict[int, int] = {}
    for d in demands:
        for port in d.ports:
            counts[port] = counts.get(port, 0) + 1
    return counts


def capacity_plan(plan: Plan, labels: dict[str, str], options: CapacityOptions) -> HostsPlan:
    """Return the capacity plan (hosts@1) for the container workloads of `plan`; `labels` by vmId."""
    from components.platforms import host_platform

    platform = host_platform(options.platform)  # its size's limits become the pools' notes
    groups: dict[tuple[Isolation, str, str], list[Demand]] = {}
    for w in plan.workloads:
        if w.is_container:
            demand = demand_of(w, labels[w.vm_id], options)
            demand.ports = frozenset(w.container.ports)
            groups.setdefault(pool_key(w), []).append(demand)
    pools = []
    for (isolation, tenant, zone), demands in sorted(groups.items()):
        name = hosts_pool_name(isolation, tenant, zone)
        hosts, notes = pack(demands, options)
        crowded = sorted((port, n) for port, n in port_counts(demands).items() if n > 1)
        if crowded:
            notes.append("published ports keep workloads apart (one host per port): " + ", ".join(
                f"{n} publish {port}" for port, n in crowded))
        notes += platform.pool_notes(isolation, options.size)
        pools.append(Pool(
            name=name, isolation=isolation, tenant=tenant or None, zone=zone or None,
            hyperv_role=isolation is Isolation.HYPERV, host_count=len(hosts), lower_bound=lower_bound(demands, options),
            hosts=tuple(Host(host_name(name, i), tuple(sorted(h.workloads)), h.vcpus, h.memory_mib, tuple(sorted(h.ports)))
                        for i, h in enumerate(hosts, start=1)),
            notes=tuple(notes),
        ))
    all_demands = [d for ds in groups.values() for d in ds]
    total = sum(p.host_count for p in pools)
    bound = sum(p.lower_bound for p in pools)
    cpu, memory = capacity(options)
    return HostsPlan(
        host_os=plan.host_os, host_build=plan.host_build, platform=options.platform, edition=options.edition,
        host_size=options.size,
        reserve={"vcpus": options.reserve_vcpus, "memoryMiB": options.reserve_memory_mib},
        overhead={Isolation.HYPERV.value: {"vcpus": options.hyperv_overhead_vcpus, "memoryMiB": options.hyperv_overhead_memory_mib},
                  Isolation.PROCESS.value: {"vcpus": 0, "memoryMiB": options.process_overhead_memory_mib}},
        summary={
            "hosts": total,
            "lowerBound": bound,
            "lowerBoundWithoutSeparation": lower_bound(all_demands, options),
            "gapPercent": round(100 * (total - bound) / bound, 1) if bound else 0.0,
            "capacityPerHost": {"vcpus": cpu, "memoryMiB": memory},
        },
        pools=tuple(pools),
    )
