"""Stack configuration → what to build. Pure: reads config values and files, registers nothing.

Either the config names hosts directly (`azureHostCount`, `onpremHosts`), or `plan` points at the
folder `hyperdock generate` wrote: hosts.yaml decides the pools and the workloads on each host,
plan.json their images, ports, isolation and parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migrate.contract.model import HostsPlan, Isolation
from migrate.contract.names import credential_spec_file, data_mount, data_volume_name
from migrate.contract.plan_io import hosts_from_document, read_capacity_document, read_stack_plan
from migrate.contract.stack_config import StackConfig
from migrate.core.errors import InputError, StackConfigError

from .platforms import PLATFORMS, HostSpec, host_platform


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    name: str                       # generated label
    host: str
    image: str
    isolation: Isolation
    ports: tuple[int, ...]
    secret_names: tuple[str, ...]
    credential_spec: str | None
    image_os: str = ""
    tenant: str = ""
    zone: str = ""
    # "no" for scheduled work (a VM of scheduled tasks): it runs once, never restarted forever.
    restart_policy: str = "unless-stopped"
    # (named volume, container folder) per data drive of the VM: the plan's dataDrives, as compose mounts them.
    volumes: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class StackPlan:
    hosts: list[HostSpec] = field(default_factory=list)
    workloads: list[WorkloadSpec] = field(default_factory=list)


def plan_stack(config: StackConfig, project_dir: Path = Path(".")) -> StackPlan:
    """Return the hosts and workloads the configuration asks for; raise StackConfigError if it cannot work."""
    if config["plan"]:
        return _from_plan(config, project_dir / config["plan"])
    plan = StackPlan()
    for platform in PLATFORMS.values():
        plan.hosts += platform.configured_hosts(config)
    return plan


def _from_plan(config: StackConfig, folder: Path) -> StackPlan:
    plan = read_stack_plan(folder)
    hosts: HostsPlan = hosts_from_document(read_capacity_document(folder, "hosts.yaml", "hosts", "hyperdock generate"))
    if hosts.host_os != plan.host_os:
        raise StackConfigError(f"hyperdock:plan: hosts.yaml is for {hosts.host_os}, plan.json for {plan.host_os}")
    platform = host_platform(hosts.platform)
    platform.check_plan(config, plan.host_os)
    registry = config["registry"].rstrip("/")
    labels = plan.labels
    by_label = {labels[w.vm_id]: w for w in plan.containers}
    result = StackPlan()
    index = 0
    for pool in hosts.pools:
        for host in pool.hosts:
            image_os = tuple(sorted({by_label[label].image_os for label in host.workloads if label in by_label}))
            spec = platform.planned_host(config, host.name, pool.isolation, hosts.host_size, image_os, index, hosts.host_count)
            index += 1
            result.hosts.append(spec)
            for label in host.workloads:
                if label not in by_label:
                    raise StackConfigError(f"hyperdock:plan: hosts.yaml places {label!r}, which plan.json does not containerize")
                if not registry:
                    raise StackConfigError("hyperdock:registry: the plan has workloads; name the registry their images are pushed to")
                w = by_label[label]
                result.workloads.append(WorkloadSpec(
                    name=label, host=host.name, image=w.image_reference(registry, label), isolation=w.isolation,
                    ports=w.container.ports,
                    secret_names=tuple(w.container.parameter_variables()),
                    credential_spec=credential_spec_file(label) if w.container.gmsa else None,
                    image_os=w.image_os, tenant=w.tenant, zone=w.zone,
                    restart_policy="no" if w.container.is_batch else "unless-stopped",
                    volumes=tuple((data_volume_name(label, d), data_mount(d)) for d in w.container.data_drives)))
            refuse_port_collisions(host.name, [(label, by_label[label].container.ports) for label in host.workloads])
    return result


def refuse_port_collisions(host: str, workloads: list[tuple[str, tuple[int, ...]]]) -> None:
    """Raise StackConfigError when two workloads of a host publish the same port: the second
    `docker run -p` would fail (a host port is published once per host)."""
    owner: dict[int, str] = {}
    for label, ports in workloads:
        for port in ports:
            if port in owner:
                raise StackConfigError(f"hyperdock:plan: hosts.yaml places {owner[port]} and {label} on {host}, and both "
                                       f"publish port {port}; run `hyperdock generate` again (its capacity plan keeps "
                                       "published ports apart)")
            owner[port] = label


def refuse_gmsa_without_domain(workloads: list[WorkloadSpec], domain: str) -> None:
    """Raise StackConfigError when workloads run with a gMSA credential spec but the hosts join no domain.

    gMSA needs a domain-joined container host, or a non-domain-joined one with a CCG plug-in (Windows
    Server 2019+), which hyperdock does not install (Microsoft Learn "Create gMSAs for Windows containers",
    Virtualization-Documentation `manage-serviceaccounts.md`). Without either, every such `docker run` fails.
    """
    gmsa = sorted(w.name for w in workloads if w.credential_spec)
    if gmsa and not domain:
        raise StackConfigError(f"hyperdock:domain: the plan's gMSA workloads ({', '.join(gmsa)}) need domain-joined hosts; "
                               "set hyperdock:domain, domainUser and the secret domainPassword")
