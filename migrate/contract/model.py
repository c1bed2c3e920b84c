"""The plan contract as types: enums for the closed vocabularies, frozen dataclasses for plan@1 and hosts@1.

Field names are the documents' camelCase keys in snake_case (migrate/schemas/plan.schema.json,
hosts.schema.json). Objects are read and written by `plan_io` only, from a document that passed its
schema, so constructors do not validate again. An optional key that a document lacks gets the default its
consumers always assumed; one that holds null keeps None. Derived names are methods here or
functions of `names`, never recomputed by a consumer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import Any

from migrate.core.azure import HostSize

from . import names


class Target(StrEnum):
    """What a workload becomes: plan@1 `workloads[].target`."""

    VM = "vm"
    PROCESS = "process"
    HYPERV = "hyperv"


class Isolation(StrEnum):
    """How a container is isolated: plan@1 container targets, hosts@1 `pools[].isolation`."""

    PROCESS = "process"
    HYPERV = "hyperv"


class Platform(StrEnum):
    """Where the hosts of hosts@1 run: `platform`."""

    AZURE = "azure"
    ONPREM = "onprem"


class Fit(StrEnum):
    """How ready a workload is: plan@1 `workloads[].fit`."""

    READY = "ready"
    READY_WITH_CONDITIONS = "ready-with-conditions"
    NOT_READY = "not-ready"
    UNKNOWN = "unknown"


CONTAINER_TARGETS = (Target.PROCESS, Target.HYPERV)
# A vm workload stays a VM; every other target is a container with that isolation.
_ISOLATION_OF = {Target.PROCESS: Isolation.PROCESS, Target.HYPERV: Isolation.HYPERV}


# ------------------------------------------------------------------------------------------ plan@1


@dataclass(frozen=True, slots=True)
class Application:
    path: str
    physical_path: str | None = ""
    application_pool: str | None = None


@dataclass(frozen=True, slots=True)
class Site:
    """An IIS site of the VM."""

    name: str
    bindings: tuple[str, ...] = ()
    physical_path: str | None = ""
    application_pool: str | None = None
    windows_authentication: bool | None = None
    applications: tuple[Application, ...] = ()

    @property
    def pool(self) -> str:
        """The site's application pool; IIS's default when none is named."""
        return self.application_pool or "DefaultAppPool"


@dataclass(frozen=True, slots=True)
class AppPool:
    name: str
    managed_runtime_version: str | None = None
    enable_32bit: bool | None = None
    identity_type: str | None = None
    user_name: str | None = None

    @property
    def clr2(self) -> bool:
        """True for a pool of .NET CLR 2.0 (v2.0): ConfigurationBuilders and .NET 4.x do not apply to it."""
        return (self.managed_runtime_version or "").lower().startswith("v2.")


@dataclass(frozen=True, slots=True)
class Service:
    """A Windows service of the application (Windows components already left out by assess)."""

    name: str
    display_name: str | None = None
    path_name: str | None = ""
    start_mode: str | None = None
    start_name: str | None = None


@dataclass(frozen=True, slots=True)
class Trigger:
    """A scheduled task's trigger; plan@1 leaves out the values a trigger does not have."""

    type: str
    start_boundary: str = ""
    days_interval: int | None = None
    weeks_interval: int | None = None
    days_of_week: tuple[str, ...] = ()
    repetition_interval: str = ""


@dataclass(frozen=True, slots=True)
class ScheduledTask:
    task_name: str
    execute: str | None = ""
    run_as: str | None = None
    triggers: tuple[Trigger, ...] | None = None     # None: the inventory did not record them


@dataclass(frozen=True, slots=True)
class Parameter:
    """A runtime parameter (connection string, scrubbed secret): its name only, never a value."""

    name: str
    file: str | None = ""
    provider: str | None = ""
    variable: str | None = None     # recorded by `hyperdock package`: the variable its config reads

    @property
    def env_variable(self) -> str:
        """The environment variable the app reads this parameter from (names.parameter_variable)."""
        return names.parameter_variable(self.name, self.file, self.variable)


@dataclass(frozen=True, slots=True)
class Container:
    """What a container definition needs from the guest: plan@1 `workloads[].container`."""

    windows_features: tuple[str, ...]
    ports: tuple[int, ...]
    iis_sites: tuple[Site, ...]
    app_pools: tuple[AppPool, ...]
    services: tuple[Service, ...]
    scheduled_tasks: tuple[ScheduledTask, ...]
    parameters: tuple[Parameter, ...]
    data_drives: tuple[str, ...]
    gmsa: bool
    domain_identities: tuple[str, ...] = ()
    domain: str | None = None
    netbios_domain: str | None = None

    @property
    def is_batch(self) -> bool:
        """True for a workload whose only work is scheduled tasks: it runs on a schedule, never forever."""
        return not self.services and not self.iis_sites and bool(self.scheduled_tasks)

    def https_bindings(self) -> list[tuple[str, int, str]]:
        """Return (site, port, host header) of every HTTPS binding of the container's IIS sites."""
        from migrate.core.documents import parse_binding  # here: the model loads without YAML (CLI parsing)

        return [(site.name, parsed[2], parsed[3]) for site in self.iis_sites for binding in site.bindings
                if (parsed := parse_binding(binding)) and parsed[0] == "https"]

    def parameter_variables(self) -> list[str]:
        """Return the sorted, distinct environment variables of the parameters (names.parameter_variable)."""
        return sorted({p.env_variable for p in self.parameters})

    def with_parameters(self, extra: tuple[Parameter, ...]) -> Container:
        """Return a copy whose parameters also hold `extra`."""
        return replace(self, parameters=self.parameters + tuple(extra))


@dataclass(frozen=True, slots=True)
class Resources:
    cpus: int | None = None
    memory_mib: int | None = None
    memory_assigned_mib: int | None = None
    dynamic_memory: bool | None = None

    @property
    def memory_used_mib(self) -> int | None:
        """The memory Hyper-V saw assigned (dynamic memory) when known, else the startup memory."""
        return self.memory_assigned_mib or self.memory_mib


@dataclass(frozen=True, slots=True)
class Dependency:
    """An edge to another inventoried VM."""

    name: str
    vm_id: str
    ports: tuple[int, ...]
    connections: int


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str
    message: str
    remediation: str | None = None


@dataclass(frozen=True, slots=True)
class Workload:
    """One VM of the plan and what assess decided for it."""

    name: str
    vm_id: str
    host: str
    target: Target
    fit: Fit
    base_image: str | None
    wave: int | None
    move_group: str | None
    findings: tuple[Finding, ...]
    cluster: str | None = None
    confidence: str | None = None
    base_image_reason: str | None = None
    image_os: str | None = None
    shared_infrastructure: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    resources: Resources = Resources()
    depends_on: tuple[Dependency, ...] = ()
    external_dependencies: tuple[str, ...] = ()
    container: Container | None = None
    rules: tuple[str, ...] = ()

    @property
    def is_container(self) -> bool:
        return self.target is not Target.VM

    @property
    def isolation(self) -> Isolation | None:
        """The container's isolation; None for a workload that stays a VM."""
        return _ISOLATION_OF.get(self.target)

    @property
    def tenant(self) -> str:
        return self.tags.get("tenant", "")

    @property
    def zone(self) -> str:
        return self.tags.get("zone", "")

    def image_reference(self, registry: str, label: str) -> str:
        """The image the workload runs, in `registry` (names.image_reference)."""
        return names.image_reference(registry, label, self.wave)


@dataclass(frozen=True)
class Plan:
    """plan@1. Parts no consumer reads typed (options, summary, waves, move groups, graph, rules) stay
    as their JSON values, written back as they are."""

    host_os: str
    host_build: str
    workloads: tuple[Workload, ...]
    generator: str | None = None
    options: dict[str, Any] | None = None
    inputs: list[str] | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    waves: list[dict] = field(default_factory=list)
    move_groups: list[dict] = field(default_factory=list)
    shared_infrastructure: list[str] = field(default_factory=list)
    graph: dict[str, Any] = field(default_factory=dict)
    rules: list[dict] = field(default_factory=list)

    @cached_property
    def labels(self) -> dict[str, str]:
        """{vmId: label}: each workload's DNS-1123 name, unique in the plan (names.unique_labels)."""
        return names.unique_labels([(w.vm_id, w.name) for w in self.workloads])

    def label(self, workload: Workload) -> str:
        return self.labels[workload.vm_id]

    @property
    def containers(self) -> list[Workload]:
        """The workloads that become containers, in plan order."""
        return [w for w in self.workloads if w.target is not Target.VM]

    def with_workloads(self, workloads) -> Plan:
        """Return a copy holding `workloads` (labels are derived again)."""
        return replace(self, workloads=tuple(workloads))


# ----------------------------------------------------------------------------------------- hosts@1


@dataclass(frozen=True, slots=True)
class Host:
    """One container host of a pool and the workloads (by label) placed on it."""

    name: str
    workloads: tuple[str, ...]
    demand_vcpus: int | None = None
    demand_memory_mib: int | None = None
    ports: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Pool:
    """Hosts that may share a kernel: one isolation, and for process isolation one (tenant, zone)."""

    name: str
    isolation: Isolation
    hyperv_role: bool
    host_count: int
    hosts: tuple[Host, ...]
    tenant: str | None = None
    zone: str | None = None
    lower_bound: int | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HostsPlan:
    """hosts@1: the capacity plan `generate` writes as hosts.yaml and the Pulumi program reads."""

    host_os: str
    host_build: str
    platform: Platform
    edition: str
    host_size: HostSize
    summary: dict[str, Any]
    pools: tuple[Pool, ...]
    reserve: dict[str, int] | None = None
    overhead: dict[str, Any] | None = None

    @property
    def host_count(self) -> int:
        return sum(len(p.hosts) for p in self.pools)
