"""Reader for `hyperdock/inventory@1` (contract: migrate/schemas/inventory.schema.json and README).

`read_estate(paths)` returns one merged `Estate`; any contract breach raises `InputError`.
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson
from typing import Iterable

from .core.documents import MAX_PORT, binding_problem, checked_text, load_document, type_name
from .core.errors import InputError
from .model import (
    VM, AppPool, Connection, ConnectionString, Driver, Estate, Guest, HardDrive, Host, IISApplication,
    IISModule, IISSite, Listener, NetworkAdapter, ScheduledTask, Service, Software, TaskTrigger, PLANNING_TAGS,
)
from .scrub import scrub_estate
from .tolerant import Record, name_problem, parse_timestamp

SCHEMA_ID = "hyperdock/inventory@1"

# Microsoft.HyperV.PowerShell.VMState: the contract names 2, 3, 6 and 9; the others are the
# enum's remaining common members, from the cmdlet's type (not verified here) [U].
VM_STATES = {
    1: "Other", 2: "Running", 3: "Off", 4: "Stopping", 6: "Saved", 9: "Paused", 10: "Starting",
    11: "Reset", 32773: "Saving", 32776: "Pausing", 32777: "Resuming", 32779: "FastSaved",
    32780: "FastSaving",
}
VHD_TYPES = {2: "Fixed", 3: "Dynamic", 4: "Differencing"}
# Microsoft.Web.Administration.ProcessModelIdentityType (the .NET enum; not verified here)
APP_POOL_IDENTITIES = {
    0: "LocalSystem", 1: "LocalService", 2: "NetworkService", 3: "SpecificUser", 4: "ApplicationPoolIdentity",
}
# Win32_Service.StartMode and .State are strings in WMI; integers appear when ServiceController
# objects are serialised instead (.NET's ServiceStartMode / ServiceControllerStatus; not verified
# here).
START_MODES = {0: "Boot", 1: "System", 2: "Auto", 3: "Manual", 4: "Disabled"}
SERVICE_STATES = {
    1: "Stopped", 2: "Start Pending", 3: "Stop Pending", 4: "Running", 5: "Continue Pending",
    6: "Pause Pending", 7: "Paused",
}

# A key starts a word: without the look-behind, a long word with no `=` is rescanned from each of
# its letters (quadratic: 15 s for 40 KB of Notes); with it, every character is scanned a bounded
# number of times.
_NOTE_PAIR = re.compile(r"(?<![\w-])([A-Za-z][\w-]*+)\s*+=\s*([^;,\n]+)")
# Far above Hyper-V's own maximums (240 vCPUs per VM, 2048 logical processors per host; Microsoft's
# "Plan for Hyper-V scalability", not verified here) [U]: a bound that keeps sums sane.
MAX_PROCESSORS = 4096
_TAG_KEYS = {key.lower(): key for key in PLANNING_TAGS}


def read_estate(paths: Iterable[Path]) -> Estate:
    """Return the estate described by all inventory files, merged; VMs keep the file they came from."""
    from .inventory_fast import FastReader  # it reads this module's enums

    fast = FastReader(vm_states=VM_STATES, vhd_types=VHD_TYPES, identities=APP_POOL_IDENTITIES, start_modes=START_MODES,
                      service_states=SERVICE_STATES, max_processors=MAX_PROCESSORS, note_pair=_NOTE_PAIR,
                      tag_keys=_TAG_KEYS)
    estate = Estate()
    by_id: dict[str, VM] = {}
    collected: dict[str, str] = {}
    records: dict[str, dict] = {}  # the record each kept VM was read from, to compare duplicates by
    for path in paths:
        document = load_document(path)
        where = str(path)
        root = Record(document, where, "")
        schema = root.raw("schema")
        if schema != SCHEMA_ID:
            shown = "missing" if schema is None else repr(schema)
            raise InputError(where, f"schema is {shown}; expected {SCHEMA_ID!r}", "schema")
        collected_at = ""
        if root.raw("collectedAt") is not None:
            collected_at = parse_timestamp(root.raw("collectedAt"), where, "collectedAt")
        hosts = root.records("hosts")
        if hosts is None:
            raise root.fail("hosts", "required field is missing")
        estate.sources.append(where)
        for host_record in hosts:
            host = _host(host_record)
            estate.hosts.append(host)
            for i, data in enumerate(_vm_objects(host_record)):
                # The full reader only for a record the fast path finds unusual: it names what is wrong.
                vm = fast.vm(data, host, where) or _vm(Record(data, where, f"{host_record.field('vms')}[{i}]"), host)
                previous = by_id.get(vm.vm_id)
                if previous is None:
                    by_id[vm.vm_id] = vm
                    collected[vm.vm_id] = collected_at
                    records[vm.vm_id] = data
                    continue
                keep, drop = _newer(previous, collected[vm.vm_id], records[vm.vm_id], vm, collected_at, data)
                by_id[vm.vm_id] = keep
                if keep is vm:
                    collected[vm.vm_id], records[vm.vm_id] = collected_at, data
                estate.merge_notes.append((
                    vm.vm_id,
                    f"VMId {vm.vm_id} appears twice ({drop.source}, host {drop.host}; and {keep.source}, "
                    f"host {keep.host}); kept the record from host {keep.host}",
                ))
    estate.vms = list(by_id.values())
    scrub_estate(estate)  # before anything is derived from it: no output ever sees a secret value
    return estate


def _vm_objects(host: Record) -> list[dict]:
    """Return a host's VM objects. A Record per VM (which names its place in messages) is made only
    when the fast path hands a VM to the full reader; `records` makes them all, for its messages,
    when the list is not a plain list of objects."""
    value = host.raw("vms")
    if type(value) is list and all(type(item) is dict for item in value):
        return value
    return [record.data for record in host.records("vms") or []]


def _newer(a: VM, a_when: str, a_record: dict, b: VM, b_when: str, b_record: dict) -> tuple[VM, VM]:
    """Pick which of two records of one VM to keep: the later collection, then the running one, then
    the greater content, so the choice never depends on the order the files were given in."""
    key_a = (a_when, a.state == "Running")
    key_b = (b_when, b.state == "Running")
    if key_a == key_b:
        key_a, key_b = (a_when, True, _content_key(a_record)), (b_when, True, _content_key(b_record))
    return (b, a) if key_b > key_a else (a, b)


def _content_key(record: dict) -> bytes:
    """Return a canonical form of a record's content (keys sorted), to compare two records by."""
    try:
        return orjson.dumps(record, default=repr, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):  # integers past 64 bits in fields hyperdock ignores
        return repr(sorted(record.items(), key=repr)).encode("utf-8", "backslashreplace")


def _host(record: Record) -> Host:
    return Host(
        name=record.string("ComputerName", required=True),
        os_version=record.string("OSVersion"),
        logical_processors=record.integer("LogicalProcessorCount", minimum=1, maximum=MAX_PROCESSORS),
        memory_capacity=record.integer("MemoryCapacity", minimum=0),
        cluster=record.string("ClusterName"),
    )


def _vm(record: Record, host: Host) -> VM:
    notes = record.string("Notes")
    vm = VM(
        name=record.string("Name", required=True),
        vm_id=record.string("VMId", required=True).strip().lower(),
        host=host.name,
        cluster=host.cluster,
        source=record.where,
        generation=record.integer("Generation", minimum=1),
        state=record.enum("State", VM_STATES),
        processor_count=record.integer("ProcessorCount", minimum=1, maximum=MAX_PROCESSORS),
        memory_startup=record.integer("MemoryStartup", minimum=0),
        memory_assigned=record.integer("MemoryAssigned", minimum=0),
        dynamic_memory=bool(record.boolean("DynamicMemoryEnabled")),
        notes=notes,
        tags=_tags(record, notes),
    )
    problem = name_problem(vm.name)
    if problem:
        raise record.fail("Name", problem)
    if vm.generation not in (None, 1, 2):
        raise record.fail("Generation", f"expected 1 or 2, got {vm.generation}")
    vm.collection_errors = record.strings("CollectionErrors") or []
    vm.network_adapters = [_adapter(r) for r in record.records("NetworkAdapters") or []]
    vm.hard_drives = [_hard_drive(r) for r in record.records("HardDrives") or [] if not _is_optical(r)]
    guest = record.raw("Guest")
    if guest is not None:
        vm.guest = _guest(Record(guest, record.where, record.field("Guest")))
    return vm


def _tags(record: Record, notes: str) -> dict[str, str]:
    """Return planning tags: `key=value` pairs in Notes, overridden by the Tags object."""
    tags: dict[str, str] = {}
    for key, value in _NOTE_PAIR.findall(notes):
        tags[_TAG_KEYS.get(key.lower(), key)] = value.strip()
    raw = record.raw("Tags")
    if raw is not None:
        if not isinstance(raw, dict):
            raise record.fail("Tags", f"expected an object of key: value, got {type_name(raw)}")
        for key, value in raw.items():
            field = f"{record.field('Tags')}.{str(key)[:40]}"
            key = checked_text(key, record.where, field)
            tags[_TAG_KEYS.get(key.lower(), key)] = "" if value is None else checked_text(value, record.where, field)
    return tags


def _adapter(record: Record) -> NetworkAdapter:
    return NetworkAdapter(
        name=record.string("Name"),
        switch_name=record.string("SwitchName"),
        mac_address=record.string("MacAddress"),
        ip_addresses=record.strings("IPAddresses") or [],
        vlan_id=record.integer("VlanId", minimum=0),
    )


def _is_optical(record: Record) -> bool:
    """True for a DVD drive or ISO image listed among the disks (hand-made inventories, Get-VMDvdDrive
    output): it holds no application data, so it is not a disk. Passthrough and VHD(X) disks stay."""
    if record.raw("DvdMediaType") is not None:  # a property only Get-VMDvdDrive's objects carry
        return True
    return record.string("Path").strip().strip('"').lower().endswith(".iso")


def _hard_drive(record: Record) -> HardDrive:
    return HardDrive(
        path=record.string("Path"),
        vhd_type=record.enum("VhdType", VHD_TYPES),
        size=record.integer("Size", minimum=0),
        file_size=record.integer("FileSize", minimum=0),
    )


def _guest(record: Record) -> Guest:
    return Guest(
        os_name=record.string("OSName"),
        os_version=record.string("OSVersion"),
        fqdn=record.string("FullyQualifiedDomainName"),
        part_of_domain=record.boolean("PartOfDomain"),
        features=_features(record),
        services=_each(record, "Services", lambda r: Service(
            name=r.string("Name", required=True),
            display_name=r.string("DisplayName"),
            start_mode=r.enum("StartMode", START_MODES),
            state=r.enum("State", SERVICE_STATES),
            path_name=r.string("PathName"),
            start_name=r.string("StartName"),
        )),
        drivers=_each(record, "Drivers", lambda r: Driver(
            name=r.string("Name", required=True),
            path_name=r.string("PathName"),
            service_type=r.string("ServiceType"),
            state=r.string("State"),
        )),
        software=_each(record, "Software", lambda r: Software(
            display_name=r.string("DisplayName", required=True),
            display_version=r.string("DisplayVersion"),
            publisher=r.string("Publisher"),
        )),
        dotnet_framework_release=record.integer("DotNetFrameworkRelease", minimum=0),
        dotnet_runtimes=record.strings("DotNetRuntimes"),
        iis_sites=_each(record, "IISSites", _site),
        app_pools=_each(record, "AppPools", lambda r: AppPool(
            name=r.string("Name", required=True),
            managed_runtime_version=r.string("ManagedRuntimeVersion"),
            enable_32bit=bool(r.boolean("Enable32BitAppOnWin64")),
            identity_type=r.enum("IdentityType", APP_POOL_IDENTITIES, default="ApplicationPoolIdentity"),
            user_name=r.string("UserName"),
        )),
        iis_modules=_each(record, "IISModules", lambda r: IISModule(name=r.string("Name", required=True), image=r.string("Image"))),
        collected_via=record.string("CollectedVia"),
        listeners=_each(record, "Listeners", lambda r: Listener(
            local_address=r.string("LocalAddress"),
            local_port=_port(r, "LocalPort"),
            process_name=r.string("ProcessName"),
        )),
        connections=_each(record, "Connections", lambda r: Connection(
            remote_address=r.string("RemoteAddress", required=True),
            remote_port=_port(r, "RemotePort"),
            process_name=r.string("ProcessName"),
        )),
        connection_strings=_each(record, "ConnectionStrings", lambda r: ConnectionString(
            file=r.string("File"), name=r.string("Name", required=True), provider=r.string("Provider"),
        )),
        scheduled_tasks=_each(record, "ScheduledTasks", lambda r: ScheduledTask(
            task_name=r.string("TaskName", required=True), execute=r.string("Execute"), run_as=r.string("RunAs"),
            triggers=_each(r, "Triggers", _trigger),
        )),
    )


def _each(record: Record, name: str, build) -> list | None:
    items = record.records(name)
    return None if items is None else [build(item) for item in items]


def _port(record: Record, name: str) -> int:
    port = record.integer(name, required=True, minimum=0, maximum=1 << 62)
    if not 0 < port <= MAX_PORT:
        raise record.fail(name, f"expected a port from 1 to {MAX_PORT}, got {port}")
    return port


def _bindings(record: Record) -> list[str]:
    bindings = record.strings("Bindings") or []
    for i, binding in enumerate(bindings):
        problem = binding_problem(binding)
        if problem:
            raise InputError(record.where, problem, f"{record.field('Bindings')}[{i}]")
    return bindings


TRIGGER_TYPES = ("Daily", "Weekly", "Once", "Boot", "Logon", "Other")
DAYS_OF_WEEK = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def _trigger(record: Record) -> TaskTrigger:
    """One `Triggers[]` item: Type, StartBoundary (ISO local time), intervals, DaysOfWeek, RepetitionInterval."""
    kind = record.string("Type", required=True)
    canonical = {t.lower(): t for t in TRIGGER_TYPES}.get(kind.lower())
    if canonical is None:
        raise record.fail("Type", f"unknown value {kind!r}; expected one of {', '.join(TRIGGER_TYPES)}")
    start = record.string("StartBoundary")
    if start and not _LOCAL_TIME.fullmatch(start):
        raise record.fail("StartBoundary", f"expected an ISO local time like 2024-01-01T02:00:00, got {start!r}")
    days = []
    for day in record.strings("DaysOfWeek") or []:
        name = {d.lower(): d for d in DAYS_OF_WEEK}.get(str(day).lower())
        if name is None:
            raise record.fail("DaysOfWeek", f"unknown day {day!r}; expected one of {', '.join(DAYS_OF_WEEK)}")
        days.append(name)
    repetition = record.string("RepetitionInterval")
    if repetition and not (_DURATION.fullmatch(repetition) and repetition not in ("P", "PT")):
        raise record.fail("RepetitionInterval", f"expected an ISO 8601 duration like PT15M, got {repetition!r}")
    return TaskTrigger(
        type=canonical, start_boundary=start,
        # 0 is what `[int]` makes of an unset interval in the collector: the same as absent.
        days_interval=record.integer("DaysInterval", minimum=0) or None,
        weeks_interval=record.integer("WeeksInterval", minimum=0) or None,
        days_of_week=days, repetition_interval=repetition,
    )


def _site(record: Record) -> IISSite:
    return IISSite(
        name=record.string("Name", required=True),
        bindings=_bindings(record),
        physical_path=record.string("PhysicalPath"),
        application_pool=record.string("ApplicationPool"),
        applications=[
            IISApplication(
                path=r.string("Path", required=True),
                physical_path=r.string("PhysicalPath"),
                application_pool=r.string("ApplicationPool"),
            )
            for r in record.records("Applications") or []
        ],
        windows_authentication=bool(record.boolean("WindowsAuthentication")),
    )


def _features(record: Record) -> list[str] | None:
    """Return installed feature names from names or full Get-WindowsFeature objects (Installed: true)."""
    raw = record.raw("Features")
    if raw is None:
        return None
    items = raw if isinstance(raw, list) else [raw]
    names: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            names.append(item)
            continue
        feature = Record(item, record.where, f"{record.field('Features')}[{i}]")
        installed = feature.boolean("Installed")
        if installed is None:
            # InstallState 1 = Installed (Microsoft.Windows.ServerManager.Commands.InstallState)
            installed = feature.integer("InstallState") == 1
        if installed:
            names.append(feature.string("Name", required=True))
    return sorted(set(names), key=str.lower)
