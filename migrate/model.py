"""The estate as hyperdock sees it after reading: plain dataclasses, already normalised.

Field names follow the cmdlet property names of `hyperdock/inventory@1` where a reader would look
for them, in snake_case. Every list is a list (never a bare object) and every enum a name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Tag keys that drive planning (README, "Collecting an inventory").
PLANNING_TAGS = ("app", "env", "tenant", "zone", "criticality", "trust", "exposure", "osPin")


@dataclass(slots=True)
class Service:
    name: str
    display_name: str = ""
    start_mode: str = ""
    state: str = ""
    path_name: str = ""
    start_name: str = ""


@dataclass(slots=True)
class Driver:
    name: str
    path_name: str = ""
    service_type: str = ""
    state: str = ""


@dataclass(slots=True)
class Software:
    display_name: str
    display_version: str = ""
    publisher: str = ""


@dataclass(slots=True)
class IISApplication:
    path: str
    physical_path: str = ""
    application_pool: str = ""


@dataclass(slots=True)
class IISSite:
    name: str
    bindings: list[str] = field(default_factory=list)
    physical_path: str = ""
    application_pool: str = ""
    applications: list[IISApplication] = field(default_factory=list)
    windows_authentication: bool = False


@dataclass(slots=True)
class IISModule:
    """An IIS global (native) module, as Get-WebGlobalModule lists it (inventory-format addition)."""

    name: str
    image: str = ""


@dataclass(slots=True)
class AppPool:
    name: str
    managed_runtime_version: str = ""
    enable_32bit: bool = False
    identity_type: str = "ApplicationPoolIdentity"
    user_name: str = ""


@dataclass(slots=True)
class Listener:
    local_address: str
    local_port: int
    process_name: str = ""


@dataclass(slots=True)
class Connection:
    remote_address: str
    remote_port: int
    process_name: str = ""


@dataclass(slots=True)
class ConnectionString:
    file: str
    name: str
    provider: str = ""


@dataclass(slots=True)
class TaskTrigger:
    """One trigger of a scheduled task, as the collector writes it (inventory-format addition)."""

    type: str                        # Daily | Weekly | Once | Boot | Logon | Other
    start_boundary: str = ""         # ISO local time, "2024-01-01T02:00:00"
    days_interval: int | None = None
    weeks_interval: int | None = None
    days_of_week: list[str] = field(default_factory=list)
    repetition_interval: str = ""    # ISO 8601 duration, "PT15M"


@dataclass(slots=True)
class ScheduledTask:
    task_name: str
    execute: str = ""
    run_as: str = ""
    # None: the inventory did not say (older collectors); []: the task has no trigger.
    triggers: list[TaskTrigger] | None = None


@dataclass(slots=True)
class Guest:
    os_name: str = ""
    os_version: str = ""
    fqdn: str = ""
    part_of_domain: bool | None = None
    # None means the section was absent: "unknown", not "empty".
    features: list[str] | None = None
    services: list[Service] | None = None
    drivers: list[Driver] | None = None
    software: list[Software] | None = None
    dotnet_framework_release: int | None = None
    dotnet_runtimes: list[str] | None = None
    iis_sites: list[IISSite] | None = None
    app_pools: list[AppPool] | None = None
    iis_modules: list[IISModule] | None = None
    collected_via: str = ""  # PowerShellDirect | WinRM | KVP | RunCommand | "" (not said)
    listeners: list[Listener] | None = None
    connections: list[Connection] | None = None
    connection_strings: list[ConnectionString] | None = None
    scheduled_tasks: list[ScheduledTask] | None = None

    def missing_sections(self) -> list[str]:
        """Return the names of the optional guest sections the inventory did not carry."""
        sections = {
            "Features": self.features,
            "Services": self.services,
            "Drivers": self.drivers,
            "Software": self.software,
            "Listeners": self.listeners,
            "Connections": self.connections,
        }
        return [name for name, value in sections.items() if value is None]


@dataclass(slots=True)
class NetworkAdapter:
    name: str = ""
    switch_name: str = ""
    mac_address: str = ""
    ip_addresses: list[str] = field(default_factory=list)
    vlan_id: int | None = None


@dataclass(slots=True)
class HardDrive:
    path: str = ""
    vhd_type: str = ""
    size: int | None = None
    file_size: int | None = None


@dataclass(slots=True)
class VM:
    name: str
    vm_id: str
    host: str
    source: str  # the file it came from, for messages
    cluster: str = ""
    generation: int | None = None
    state: str = ""
    processor_count: int | None = None
    memory_startup: int | None = None
    memory_assigned: int | None = None
    dynamic_memory: bool = False
    notes: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    network_adapters: list[NetworkAdapter] = field(default_factory=list)
    hard_drives: list[HardDrive] = field(default_factory=list)
    guest: Guest | None = None
    # Why parts of this VM could not be collected (a discovery's Run Command failed, and so on).
    collection_errors: list[str] = field(default_factory=list)
    # Secret-looking values removed from its text (migrate/scrub.py): where, and the parameter now named there.
    removed_secrets: list = field(default_factory=list)

    def tag(self, key: str) -> str:
        """Return the tag's value lower-cased, or "" when it is not set."""
        value = self.tags.get(key)
        return value.strip().lower() if value else ""  # most tags are unset: no str calls for them

    def ip_addresses(self) -> list[str]:
        """Return every IP address on the VM's adapters, in adapter order."""
        return [ip for adapter in self.network_adapters for ip in adapter.ip_addresses]


@dataclass(slots=True)
class Host:
    name: str
    os_version: str = ""
    logical_processors: int | None = None
    memory_capacity: int | None = None
    cluster: str = ""


@dataclass(slots=True)
class Estate:
    hosts: list[Host] = field(default_factory=list)
    vms: list[VM] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    # Notes the reader made while merging (duplicates resolved, and so on): (vm_id, text).
    merge_notes: list[tuple[str, str]] = field(default_factory=list)
