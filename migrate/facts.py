"""What the rules look at, derived once per workload from the inventory.

Keeping the derivation here lets each rule in `rules.py` stay a few lines that read like the
reference they cite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .core.windows import OS_BUILDS, guest_build_from_name, parse_build
from .model import VM, Service

# Listeners every Windows machine has; they say nothing about the application.
SYSTEM_PORTS = frozenset({135, 139, 445, 3389, 5985, 5986, 47001, 49664, 49665, 49666, 49667, 49668, 49669, 5357})
# Accounts that are not domain identities.
LOCAL_ACCOUNT_PREFIXES = ("nt authority\\", "nt service\\", "builtin\\", ".\\", "iis apppool\\", "nt virtual machine\\")
LOCAL_ACCOUNTS = frozenset({"", "localsystem", "localservice", "networkservice"})

_DRIVE = re.compile(r"^\s*\"?([A-Za-z]):\\")


@dataclass(frozen=True, slots=True)
class EstateFacts:
    """Facts about the whole estate that per-workload rules need."""

    tenants: frozenset[str]
    zones: frozenset[str]
    host_os: str
    tenancy: str  # "dedicated": hyperdock's capacity plan keeps tenants/zones apart; "shared": it cannot

    @property
    def multi_tenant(self) -> bool:
        return len(self.tenants) > 1

    @property
    def host_build(self) -> int:
        return OS_BUILDS[self.host_os]


@dataclass(slots=True)
class WorkloadFacts:
    vm: VM
    estate: EstateFacts
    image_os: str
    features: frozenset[str] = frozenset()        # lower-case names
    service_names: frozenset[str] = frozenset()   # lower-case names
    app_services: list[Service] = field(default_factory=list)  # installed outside %SystemRoot%
    software: list[str] = field(default_factory=list)          # lower-case display names
    listener_processes: frozenset[str] = frozenset()
    app_ports: list[int] = field(default_factory=list)         # listening ports that are not SYSTEM_PORTS
    bindings: list[str] = field(default_factory=list)          # every IIS binding, "protocol/info"
    guest_build: int | None = None

    @property
    def guest(self):
        return self.vm.guest

    def has_feature(self, *names: str) -> bool:
        # Called ~20 times per workload by the rules: a set operation, not a generator per call.
        return not self.features.isdisjoint(map(str.lower, names))

    def has_service(self, pattern: re.Pattern[str]) -> bool:
        return any(pattern.search(name) for name in self.service_names)

    def has_software(self, pattern: re.Pattern[str]) -> bool:
        return any(pattern.search(name) for name in self.software)


def image_os_for(vm: VM, estate: EstateFacts) -> str:
    """Return the tag family the workload's image should use: its `osPin` tag, else the host's."""
    pin = vm.tags.get("osPin", "").strip().lower()
    return pin if pin in OS_BUILDS else estate.host_os


def is_domain_account(account: str, machine_names: set[str]) -> bool:
    """True for `DOMAIN\\user` or `user@domain` identities (not built-in, not machine-local)."""
    lowered = account.strip().lower()
    if lowered in LOCAL_ACCOUNTS or lowered.startswith(LOCAL_ACCOUNT_PREFIXES):
        return False
    if "@" in lowered:
        return True
    if "\\" in lowered:
        return lowered.split("\\", 1)[0] not in machine_names
    return False


def is_windows_component(service: Service) -> bool:
    """True when a service's binary lives under %SystemRoot% (it ships with Windows)."""
    path = service.path_name.strip().strip('"').lower()
    return path.startswith(("c:\\windows\\", "%systemroot%", "\\systemroot\\", "system32\\")) or not path


def drive_of(path: str) -> str | None:
    """Return the drive letter of a Windows path, upper-case, or None."""
    match = _DRIVE.match(path or "")
    return match.group(1).upper() if match else None


def derive(vm: VM, estate: EstateFacts) -> WorkloadFacts:
    """Return the facts the rules read for one workload."""
    facts = WorkloadFacts(vm=vm, estate=estate, image_os=image_os_for(vm, estate))
    guest = vm.guest
    if guest is None:
        return facts
    facts.features = frozenset(f.lower() for f in guest.features or [])
    facts.service_names = frozenset(s.name.lower() for s in guest.services or [])
    facts.app_services = [s for s in guest.services or [] if not is_windows_component(s)]
    facts.software = [s.display_name.lower() for s in guest.software or []]
    facts.listener_processes = frozenset(l.process_name.lower().removesuffix(".exe") for l in guest.listeners or [])
    facts.app_ports = sorted({l.local_port for l in guest.listeners or [] if l.local_port not in SYSTEM_PORTS})
    facts.bindings = [b for site in guest.iis_sites or [] for b in site.bindings]
    if "windows" in guest.os_name.lower() or not guest.os_name:
        parsed = parse_build(guest.os_version)
        facts.guest_build = parsed[2] if parsed else guest_build_from_name(guest.os_name)
    return facts
