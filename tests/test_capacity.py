"""Capacity planning: optimum known by construction, separation, edition limit, lower bound."""

from __future__ import annotations

import random

import pytest

from migrate.contract.plan_io import hosts_document
from migrate.core.azure import AZURE_SIZES, HostSize
from migrate.generate.capacity import CapacityOptions, capacity_plan

from plan_fixtures import typed_plan

# A host of 16 vCPUs / 65536 MiB with a reserve of 1 / 1024 offers exactly 15 / 64512.
SIZE = HostSize("test", 16, 65536, True)
OPTIONS = CapacityOptions(size=SIZE, reserve_vcpus=1, reserve_memory_mib=1024, process_overhead_memory_mib=0,
                          hyperv_overhead_memory_mib=1024, hyperv_overhead_vcpus=2)


def workload(name, cpus, memory, target="process", tenant="t1", zone="internal"):
    return {"name": name, "vmId": name, "target": target, "tags": {"tenant": tenant, "zone": zone},
            "resources": {"cpus": cpus, "memoryMiB": memory, "memoryAssignedMiB": None}}


def run(workloads, options=OPTIONS):
    return hosts_document(capacity_plan(typed_plan(workloads), {w["vmId"]: w["name"] for w in workloads}, options))


def shuffled(workloads, seed=3):
    random.Random(seed).shuffle(workloads)
    return workloads


def test_exact_tiling_reaches_the_optimum():
    # 10- and 5-vCPU workloads in pairs that fill 15-vCPU hosts exactly: the optimum is the
    # number of pairs, and first-fit decreasing finds it.
    pairs = 25
    workloads = shuffled([workload(f"w{t}-{c}", c, 1024) for t in range(pairs) for c in (10, 5)])
    hosts = run(workloads)
    assert hosts["summary"]["lowerBound"] == pairs
    assert hosts["summary"]["hosts"] == pairs


def test_adversarial_tiling_stays_within_ten_percent():
    # 3+5+7 = 15 tiles every host, but first-fit decreasing pairs the 7s first and needs one host
    # more than the optimum (20): its known weakness, inside the 10% the plan aims for.
    triples = 20
    workloads = shuffled([workload(f"w{t}-{c}", c, 1024) for t in range(triples) for c in (3, 5, 7)])
    hosts = run(workloads)
    assert hosts["summary"]["lowerBound"] == triples
    assert triples <= hosts["summary"]["hosts"] <= 1.1 * triples


def test_memory_bound_optimum():
    # Each workload takes exactly a quarter of a host's memory: 4 per host.
    workloads = [workload(f"m{i}", 1, 64512 // 4) for i in range(37)]
    hosts = run(workloads)
    assert hosts["summary"]["hosts"] == hosts["summary"]["lowerBound"] == 10


def test_tenants_and_zones_never_share_process_hosts():
    workloads = [workload(f"a{i}", 1, 1024, tenant="a") for i in range(3)]
    workloads += [workload(f"b{i}", 1, 1024, tenant="b") for i in range(3)]
    workloads += [workload(f"d{i}", 1, 1024, tenant="a", zone="dmz") for i in range(3)]
    hosts = run(workloads)
    assert [p["name"] for p in hosts["pools"]] == ["process-a-dmz", "process-a-internal", "process-b-internal"]
    assert hosts["summary"]["hosts"] == 3
    assert hosts["summary"]["lowerBoundWithoutSeparation"] == 1


def test_hyperv_overhead_and_shared_pool():
    workloads = [workload("x", 2, 2048, target="hyperv", tenant="a"), workload("y", 2, 2048, target="hyperv", tenant="b")]
    hosts = run(workloads)
    (pool,) = hosts["pools"]
    assert pool["isolation"] == "hyperv" and pool["hypervRole"] is True
    assert pool["hosts"][0]["demand"] == {"vcpus": 8, "memoryMiB": 6144}  # (2+2) vCPUs, (2048+1024) MiB each


def test_standard_edition_allows_two_hyperv_containers_per_host():
    workloads = [workload(f"h{i}", 1, 1024, target="hyperv") for i in range(5)]
    standard = run(workloads, CapacityOptions(size=SIZE, edition="standard"))
    datacenter = run(workloads, CapacityOptions(size=SIZE, edition="datacenter"))
    assert standard["summary"]["hosts"] == 3 and standard["summary"]["lowerBound"] == 3
    assert datacenter["summary"]["hosts"] == 1


def test_oversized_workload_gets_a_host_and_a_note():
    hosts = run([workload("huge", 64, 1024)])
    (pool,) = hosts["pools"]
    assert pool["hostCount"] == 1 and "more than a test host offers" in pool["notes"][0]


def test_size_without_nested_virtualization_is_flagged():
    hosts = run([workload("h", 1, 1024, target="hyperv")], CapacityOptions(size=AZURE_SIZES["Standard_B8s_v2"]))
    assert "does not support nested virtualization" in hosts["pools"][0]["notes"][0]


@pytest.mark.parametrize("seed", range(5))
def test_random_estates_stay_within_ten_percent_of_the_bound(seed):
    rnd = random.Random(seed)
    workloads = [workload(f"r{i}", rnd.choice([1, 2, 2, 4]), rnd.choice([2048, 4096, 8192]), tenant=rnd.choice("ab"))
                 for i in range(300)]
    hosts = run(workloads)
    assert hosts["summary"]["hosts"] <= 1.1 * hosts["summary"]["lowerBound"]


def first_fit_by_scan(demands, options):
    """The plain first-fit decreasing scan: the placement `pack` must reproduce."""
    from migrate.generate.capacity import capacity

    cpu, memory = capacity(options)
    cap = 2 if options.edition == "standard" else float("inf")
    crowd = {}
    for d in demands:
        for port in d.ports:
            crowd[port] = crowd.get(port, 0) + 1
    hosts = []
    for d in sorted(demands, key=lambda d: (-max((crowd[p] for p in d.ports), default=0),
                                            -max(d.vcpus / cpu, d.memory_mib / memory), d.label)):
        for host in hosts:
            if host[0] + d.vcpus <= cpu and host[1] + d.memory_mib <= memory and host[2] + (d.isolation == "hyperv") <= cap \
                    and not host[4] & d.ports:
                break
        else:
            host = [0, 0, 0, [], set()]
            hosts.append(host)
        host[0] += d.vcpus
        host[1] += d.memory_mib
        host[2] += d.isolation == "hyperv"
        host[3].append(d.label)
        host[4] |= d.ports
    return [h[3] for h in hosts]


@pytest.mark.parametrize("seed", range(6))
def test_pack_places_as_the_first_fit_scan_does(seed):
    from migrate.generate.capacity import Demand, pack

    rnd = random.Random(seed)
    options = CapacityOptions(size=SIZE, edition=rnd.choice(["datacenter", "standard"]))
    demands = [Demand(f"d{i:04d}", rnd.choice(["process", "hyperv"]), rnd.choice([1, 2, 3, 4, 8, 20]),
                      rnd.choice([512, 2048, 4096, 8192, 30000, 70000]),
                      frozenset(rnd.sample([80, 443, 808, 8080], rnd.choice([0, 0, 1, 2]))))
               for i in range(rnd.choice([1, 40, 700]))]
    hosts, _ = pack(demands, options)
    assert [h.workloads for h in hosts] == first_fit_by_scan(demands, options)


def with_ports(w, *ports):
    return dict(w, container={"ports": list(ports)})


def test_no_two_workloads_on_a_host_publish_the_same_port():
    # Three small web workloads that would fit one host by CPU and memory all publish 80; two publish 443.
    workloads = [with_ports(workload("web1", 1, 1024), 80, 443), with_ports(workload("web2", 1, 1024), 80, 443),
                 with_ports(workload("web3", 1, 1024), 80), with_ports(workload("api", 1, 1024), 8080)]
    plan = run(workloads)
    (pool,) = plan["pools"]
    assert pool["hostCount"] == pool["lowerBound"] == 3  # one host per port-80 publisher
    for host in pool["hosts"]:
        published = [p for w in workloads if w["name"] in host["workloads"] for p in w["container"]["ports"]]
        assert len(published) == len(set(published)) and sorted(set(published)) == host["ports"]
    assert any("3 publish 80" in note for note in pool["notes"])


def test_refused_colliding_plan_in_the_pulumi_program():
    from components.stack import refuse_port_collisions
    from migrate.core.errors import StackConfigError

    refuse_port_collisions("h1", [("web1", [80, 443]), ("api", [8080])])
    with pytest.raises(StackConfigError, match="places web1 and web2 on h1, and both publish port 80"):
        refuse_port_collisions("h1", [("web1", [80, 443]), ("web2", [80])])


def test_pack_with_many_distinct_port_sets_places_as_the_scan_does():
    from migrate.generate.capacity import Demand, pack

    rnd = random.Random(11)
    demands = [Demand(f"m{i:04d}", "process", rnd.choice([1, 2, 4]), rnd.choice([1024, 4096]),
                      frozenset({8000 + i % 90, 80} if i % 3 else {}))
               for i in range(400)]
    hosts, _ = pack(demands, OPTIONS)
    assert [h.workloads for h in hosts] == first_fit_by_scan(demands, OPTIONS)
