"""What the rules and the plan writer look at, derived once per workload from the inventory.

Every fact about a workload that a rule (`rules.py`), the decision (`decide.py`) or the plan
writer (`plan.py`) uses is derived here and nowhere else, so a finding and the container
definition cannot disagree (a finding about an application on `D:` and a data volume for `D:`
come from the same `data_drives`).

`WorkloadFacts` has no reference to the VM or its guest record: rules see only facts. Its
*signature* (`WorkloadFacts.signature()`, also its `==` and `hash`) is exactly the fields the
rules read (`SIGNATURE_FIELDS`; tests/test_facts.py checks that every rule reads only these and
that each is read), so two workloads with equal signatures get the same rule results: results
may be cached by it. Fields outside the signature (`compare=False`) are read only by the
decision (the base image also reads pools_32bit, framework_release, has_dotnet_runtimes,
service_binaries and features_to_install, so a whole decision is not a function of the signature
alone) and by the plan writer. A rule that needs a new fact adds a field here, derived in `derive`;
an inventory value `derive` did not read before goes into `inputs_key` too, since facts are derived
once per distinct key (tests/test_rule_cache.py checks the key holds all that `derive` reads).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import TYPE_CHECKING

from .core.windows import HOST_ONLY_FEATURES, OS_BUILDS, guest_build_from_name, parse_build
from .model import VM, Service
from .core.documents import http_binding_port_text, parse_port

if TYPE_CHECKING:
    from .scrub import RemovedSecret

# Listeners every Windows machine has; they say nothing about the application.
SYSTEM_PORTS = frozenset({135, 139, 445, 3389, 5985, 5986, 47001, 49664, 49665, 49666, 49667, 49668, 49669, 5357})
# Accounts that are not domain identities.
LOCAL_ACCOUNT_PREFIXES = ("nt authority\\", "nt service\\", "builtin\\", ".\\", "iis apppool\\", "nt virtual machine\\")
LOCAL_ACCOUNTS = frozenset({"", "localsystem", "localservice", "networkservice"})
# A container runtime inside the VM is not part of the application (rule cond.container-runtime-in-vm).
CONTAINER_RUNTIME_SERVICES = ("docker", "containerd", "com.docker.service")
# Addresses that mean "every interface" or loopback: a listener on one of them is not bound to one IP.
_ANY_ADDRESS = frozenset({"0.0.0.0", "::", "", "*", "127.0.0.1", "::1"})
_KERNEL_TYPES = ("kernel", "file system")
_DOTNET_RUNTIME = re.compile(r"Microsoft\.(?:AspNetCore|NETCore)\.App (\d{1,9})\.")  # short: int() of 5000 digits raises
# Features present in every Server Core image, or irrelevant inside one; not worth installing.
_BASE_FEATURES = re.compile(
    r"(net-framework-45-(core|features)|powershell.*|wow64-support|filesandstorage-services|storage-services|"
    r"server-gui-.*|user-interfaces-infra|xps-viewer|rsat.*|.*-tools|.*mgmt.*|windows-defender.*|"
    r"system-datastore|search-service|telnet-client|windows-server-backup|fs-smb1|desktop-experience|"
    r"windows-internal-database|bitlocker.*|enhancedstorage|ad-domain-services|dns|dhcp|hyper-v|rds-.*|"
    r"remote-desktop-services|fs-fileserver|file-services)",
    re.IGNORECASE,
)
_DRIVE = re.compile(r"^\s*\"?([A-Za-z]):\\")
# WorkloadFacts.has_feature's names, lower-cased, by the tuple of names a rule asks for.
_LOWERED: dict[tuple[str, ...], frozenset[str]] = {}


@dataclass(frozen=True, slots=True)
class EstateFacts:
    """Facts about the whole estate that per-workload rules need."""

    tenants: frozenset[str]
    zones: frozenset[str]
    host_os: str
    tenancy: str  # "dedicated": hyperdock's capacity plan keeps tenants/zones apart; "shared": it cannot
    # One object per distinct fact value across the estate's workloads (derive's `shared`): an estate
    # repeats the same feature sets, services and ports, and the decisions keep their facts until
    # plan.json is written. Not part of the facts' equality or hash.
    values: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def multi_tenant(self) -> bool:
        return len(self.tenants) > 1

    @property
    def host_build(self) -> int:
        return OS_BUILDS[self.host_os]


def _plan(default=()):
    """A fact read by the decision or the plan writer only: outside the signature."""
    return field(default=default, compare=False)


@dataclass(frozen=True, slots=True)
class WorkloadFacts:
    """One workload's facts. Names are lower-case where a field says so; tuples keep inventory order."""

    estate: EstateFacts
    image_os: str
    has_guest: bool = False
    guest_sections_empty: bool = False     # a guest record with no features, services, software, sites, listeners or pools
    missing_sections: tuple[str, ...] = ()  # Guest.missing_sections(): absent, not empty
    os_name: str = ""
    guest_build: int | None = None
    disk_count: int = 0
    collection_errors: tuple[str, ...] = ()
    removed_secrets: tuple[RemovedSecret, ...] = ()
    trust: str = ""                         # planning tags, lower-case
    exposure: str = ""
    zone: str = ""
    features: frozenset[str] = frozenset()        # lower-case names
    service_names: frozenset[str] = frozenset()   # lower-case names
    app_services: tuple[tuple[str, str], ...] = ()  # (name, start mode) of container_services
    software: tuple[str, ...] = ()                 # lower-case display names
    listener_processes: frozenset[str] = frozenset()
    bound_listeners: tuple[str, ...] = ()          # "address:port" of app listeners bound to one address, sorted
    bindings: tuple[str, ...] = ()                 # every IIS binding, "protocol/info"
    ports: tuple[int, ...] = ()                    # the container's: app listeners (not SYSTEM_PORTS), IIS bindings; sorted
    has_iis_sites: bool = False
    app_pools: tuple[tuple[str, str], ...] = ()    # (name, managed runtime version lower-case)
    iis_modules: tuple[tuple[str, str], ...] = ()  # (name, image) of IIS global modules
    kernel_drivers: tuple[str, ...] = ()
    connection_strings: tuple[str, ...] = ()       # names
    scheduled_tasks: tuple[str, ...] = ()          # names
    windows_auth_sites: tuple[str, ...] = ()       # sites with Windows authentication
    domain_accounts: tuple[tuple[str, str, str], ...] = ()  # (kind, name, account): app pools, services, tasks
    data_drives: tuple[str, ...] = ()              # drive letters other than C: of application paths, sorted
    dotnet_majors: tuple[int, ...] = ()            # .NET (Core) runtime majors, sorted
    # Outside the signature: the decision's image choice and the plan's container definition.
    container_services: tuple[Service, ...] = _plan()  # installed outside %SystemRoot%, container runtimes left out
    domain: str | None = _plan(None)               # the guest's DNS domain, lower-case
    features_to_install: tuple[str, ...] = _plan()  # guest features a container image lacks
    pools_32bit: bool = _plan(False)
    framework_release: int | None = _plan(None)
    has_dotnet_runtimes: bool = _plan(False)
    service_binaries: bool = _plan(False)         # some app service has a binary path

    def signature(self) -> tuple:
        """Return the values of SIGNATURE_FIELDS: equal signatures, equal rule results."""
        return tuple(getattr(self, name) for name in SIGNATURE_FIELDS)

    def has_feature(self, *names: str) -> bool:
        # Called ~20 times per workload by the rules, always with names written in the code: each
        # tuple of names is lower-cased once (_LOWERED), then one set operation per call.
        lowered = _LOWERED.get(names)
        if lowered is None:
            lowered = _LOWERED[names] = frozenset(map(str.lower, names))
        return not self.features.isdisjoint(lowered)

    def has_service(self, pattern: re.Pattern[str]) -> bool:
        return any(pattern.search(name) for name in self.service_names)

    def has_software(self, pattern: re.Pattern[str]) -> bool:
        return any(pattern.search(name) for name in self.software)

    @property
    def domain_identities(self) -> list[str]:
        """Return the domain accounts the workload runs as, sorted case-insensitively, once each."""
        return sorted({account for _, _, account in self.domain_accounts}, key=lambda a: (a.lower(), a))

    @property
    def gmsa(self) -> bool:
        """True when the container needs a gMSA credential spec: a domain account or Windows authentication."""
        return bool(self.domain_accounts or self.windows_auth_sites)

    @property
    def netbios_domain(self) -> str | None:
        """Return the NetBIOS domain of the first `DOMAIN\\user` identity, upper-case, or None."""
        return next((i.split("\\", 1)[0].upper() for i in self.domain_identities if "\\" in i), None)


SIGNATURE_FIELDS = tuple(f.name for f in fields(WorkloadFacts) if f.compare)


def image_os_for(vm: VM, estate: EstateFacts) -> str:
    """Return the tag family the workload's image should use: its `osPin` tag, else the host's."""
    pin = vm.tags.get("osPin", "").strip().lower()
    return pin if pin in OS_BUILDS else estate.host_os


def machine_names(vm: VM) -> set[str]:
    """Return the names an account prefix `NAME\\` may use for the machine itself, lower-case."""
    return {vm.name.lower(), vm.guest.fqdn.split(".")[0].lower()}


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


def binding_port(binding: str) -> int | None:
    """Return the port of an IIS binding like "http/*:80:host", "https/[::1]:443:" or "net.tcp/808:*".

    HTTP(S) bindings are read as the inventory reader checked them (core.documents.http_binding_port_text),
    so an IPv6-bound HTTPS binding's port is published like any other.
    """
    text = http_binding_port_text(binding)
    return parse_port(text if text is not None else binding.partition("/")[2].split(":")[0])


def _sharer(values: dict):
    """Return a function giving the one stored object equal to its argument (storing it the first time)."""
    def shared(value):
        return values.setdefault(value, value)
    return shared


class _BUILD:
    """Key prefix (and missing marker) of the guest-build cache; a class, so deepcopy and astuple keep it."""


class _FEATURES:
    """Key prefix of the feature-facts cache."""


def _guest_build(os_name: str, os_version: str) -> int | None:
    """Return the guest's Windows build from its version, else its product name; None for another OS."""
    if "windows" in os_name.lower() or not os_name:
        parsed = parse_build(os_version)
        return parsed[2] if parsed else guest_build_from_name(os_name)
    return None


def _feature_facts(features: list[str], shared) -> tuple[frozenset[str], tuple[str, ...]]:
    """Return the features lower-cased, and those a container image lacks sorted case-insensitively."""
    return (shared(frozenset(f.lower() for f in features)),
            shared(tuple(sorted(
                (f for f in features if not _BASE_FEATURES.fullmatch(f) and not HOST_ONLY_FEATURES.fullmatch(f)),
                key=str.lower))))


def derive(vm: VM, estate: EstateFacts) -> WorkloadFacts:
    """Return the facts the rules, the decision and the plan writer read for one workload."""
    tags = vm.tags
    # Keywords straight to the constructor: a `**common` dict per workload cost more than the facts.
    image_os, disk_count = image_os_for(vm, estate), len(vm.hard_drives)
    collection_errors, removed_secrets = tuple(vm.collection_errors), tuple(vm.removed_secrets)
    trust = tags.get("trust", "").strip().lower()  # VM.tag, inlined
    exposure = tags.get("exposure", "").strip().lower()
    zone = tags.get("zone", "").strip().lower()
    guest = vm.guest
    if guest is None:
        return WorkloadFacts(estate, image_os, disk_count=disk_count, collection_errors=collection_errors,
                             removed_secrets=removed_secrets, trust=trust, exposure=exposure, zone=zone)
    shared = _sharer(estate.values)
    services = guest.services or []
    sites = guest.iis_sites or []
    pools = guest.app_pools or []
    tasks = guest.scheduled_tasks or []
    listeners = guest.listeners or []
    # The application's services: not Windows' own, not a container runtime (its containers move to
    # the hosts, cond.container-runtime-in-vm) and not disabled (it never runs on the VM, yet start.ps1
    # would start it): rules judge the services the container runs.
    app_services = tuple(s for s in services
                         if not is_windows_component(s) and s.name.lower() not in CONTAINER_RUNTIME_SERVICES
                         and s.start_mode.lower() != "disabled")
    bindings = tuple(b for site in sites for b in site.bindings)
    app_ports = {l.local_port for l in listeners if l.local_port not in SYSTEM_PORTS}
    machine = machine_names(vm)
    domain_accounts = tuple(
        [("app pool", p.name, p.user_name) for p in pools
         if p.identity_type == "SpecificUser" and is_domain_account(p.user_name, machine)]
        + [("service", s.name, s.start_name) for s in app_services if is_domain_account(s.start_name, machine)]
        + [("task", t.task_name, t.run_as) for t in tasks if is_domain_account(t.run_as, machine)])
    # Application paths: IIS sites' and applications' content, the container's services' binaries and
    # the scheduled tasks' programs (cond.writable-state and the container's dataDrives read the same fact).
    paths = ([s.physical_path for s in sites] + [a.physical_path for s in sites for a in s.applications]
             + [s.path_name for s in app_services] + [t.execute for t in tasks])
    values = estate.values
    # An estate repeats a few OS versions and feature lists: each is worked out once per estate.
    # The keys start with a private class, so they never equal a shared fact value in `values`.
    build_key = (_BUILD, guest.os_name, guest.os_version)
    guest_build = values.get(build_key, _BUILD)
    if guest_build is _BUILD:
        guest_build = values[build_key] = _guest_build(guest.os_name, guest.os_version)
    feature_key = (_FEATURES, *guest.features) if guest.features else (_FEATURES,)
    feature_facts = values.get(feature_key)
    if feature_facts is None:
        feature_facts = values[feature_key] = _feature_facts(guest.features or [], shared)
    return WorkloadFacts(
        estate, image_os, disk_count=disk_count, collection_errors=collection_errors,
        removed_secrets=removed_secrets, trust=trust, exposure=exposure, zone=zone,
        has_guest=True,
        guest_sections_empty=all(section is None for section in (
            guest.features, guest.services, guest.software, guest.iis_sites, guest.listeners, guest.app_pools)),
        missing_sections=tuple(guest.missing_sections()),
        os_name=guest.os_name,
        guest_build=guest_build,
        features=feature_facts[0],
        service_names=shared(frozenset(s.name.lower() for s in services)),
        app_services=shared(tuple((s.name, s.start_mode) for s in app_services)),
        software=shared(tuple(s.display_name.lower() for s in guest.software or [])),
        listener_processes=shared(frozenset(l.process_name.lower().removesuffix(".exe") for l in listeners)),
        bound_listeners=tuple(sorted({f"{l.local_address}:{l.local_port}" for l in listeners
                                      if l.local_port not in SYSTEM_PORTS and l.local_address not in _ANY_ADDRESS})),
        bindings=shared(bindings),
        has_iis_sites=bool(sites),
        app_pools=shared(tuple((p.name, p.managed_runtime_version.lower()) for p in pools)),
        iis_modules=tuple((m.name, m.image) for m in guest.iis_modules or []),
        kernel_drivers=tuple(d.name for d in guest.drivers or [] if d.service_type.lower().startswith(_KERNEL_TYPES)),
        connection_strings=tuple(c.name for c in guest.connection_strings or []),
        scheduled_tasks=tuple(t.task_name for t in tasks),
        windows_auth_sites=tuple(s.name for s in sites if s.windows_authentication),
        domain_accounts=domain_accounts,
        data_drives=tuple(sorted({d for d in map(drive_of, paths) if d and d != "C"})),
        dotnet_majors=tuple(sorted({int(m.group(1)) for r in guest.dotnet_runtimes or []
                                    if (m := _DOTNET_RUNTIME.search(r))})),
        ports=shared(tuple(sorted(app_ports | {p for p in map(binding_port, bindings) if p is not None}))),
        container_services=app_services,
        domain=guest.fqdn.split(".", 1)[1].lower() if "." in guest.fqdn else None,
        features_to_install=feature_facts[1],
        pools_32bit=any(p.enable_32bit for p in pools),
        framework_release=guest.dotnet_framework_release,
        has_dotnet_runtimes=bool(guest.dotnet_runtimes),
        service_binaries=any(s.path_name for s in app_services),
    )


# What `derive` reads of each guest item, in the order of the fields; Service's every field, because
# facts.container_services passes the Service objects on to the plan writer.
_SERVICE = attrgetter("name", "display_name", "start_mode", "state", "path_name", "start_name")
_POOL = attrgetter("name", "managed_runtime_version", "enable_32bit", "identity_type", "user_name")
_TASK = attrgetter("task_name", "execute", "run_as")
_LISTENER = attrgetter("local_address", "local_port", "process_name")
_MODULE = attrgetter("name", "image")
_DRIVER = attrgetter("name", "service_type")
_DISPLAY_NAME = attrgetter("display_name")
_NAME = attrgetter("name")


def _each(key, items: list | None) -> tuple | None:
    """Return `key` of each item, or None for an absent section (absent and empty are different facts)."""
    return None if items is None else tuple(map(key, items))


def inputs_key(vm: VM) -> tuple:
    """Return every inventory value `derive` reads of `vm` as one hashable value, the machine's own names aside.

    Two workloads with equal keys get equal facts unless an account names one of their machines
    (`account_prefixes`): decide.py derives the facts once per key. tests/test_facts.py checks that
    this reads everything `derive` reads.
    """
    tags = vm.tags
    common = (tags.get("osPin"), tags.get("trust"), tags.get("exposure"), tags.get("zone"), len(vm.hard_drives),
              tuple(vm.collection_errors), tuple(vm.removed_secrets))
    guest = vm.guest
    if guest is None:
        return common
    sites = guest.iis_sites
    return (common, guest.os_name, guest.os_version, guest.fqdn.partition(".")[1:],
            None if guest.features is None else tuple(guest.features),
            _each(_SERVICE, guest.services), _each(_DRIVER, guest.drivers), _each(_DISPLAY_NAME, guest.software),
            guest.dotnet_framework_release, None if guest.dotnet_runtimes is None else tuple(guest.dotnet_runtimes),
            None if sites is None else tuple([
                (s.name, tuple(s.bindings), s.physical_path, s.windows_authentication,
                 tuple([a.physical_path for a in s.applications])) for s in sites]),
            _each(_POOL, guest.app_pools), _each(_MODULE, guest.iis_modules), _each(_LISTENER, guest.listeners),
            guest.connections is None, _each(_NAME, guest.connection_strings), _each(_TASK, guest.scheduled_tasks))


def account_prefixes(vm: VM) -> frozenset[str]:
    """Return the `NAME\\` prefixes of the guest's accounts, lower-case.

    Whether such an account is a domain account depends on the machine's names (`is_domain_account`),
    which `inputs_key` leaves out: facts derived for one machine hold for another with the same key
    when none of these prefixes is a name of either.
    """
    guest = vm.guest
    if guest is None:
        return frozenset()
    accounts = ([p.user_name for p in guest.app_pools or []] + [s.start_name for s in guest.services or []]
                + [t.run_as for t in guest.scheduled_tasks or []])
    return frozenset(a.strip().lower().split("\\", 1)[0] for a in accounts if "\\" in a)
