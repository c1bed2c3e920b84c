"""The fast path of the inventory reader: a VM record in its common, clean shape, read with plain
dict access.

`FastReader.vm` accepts only what the full reader (`inventory._vm`) would read to the same VM:
exact property names, JSON types as the collector writes them, values within range. Anything else
(a name in another case, a number where text is expected, a bare object for a list, a value the
reader would refuse) makes it return None, and the full reader reads that record again: it names
the problem with its usual message, or accepts the unusual shape. So messages never differ.

Why it is fast: a few Python operations per object rather than per value. An object's property
names are checked with one set comparison; its text values are checked together (`_texts`: one
join proves they are all text, one scan finds no lone surrogate), a list of text the same way; the
model's dataclasses are built with positional arguments (keyword calls cost about three times as
much); an enum value in its usual spelling is one dict look-up.
"""

from __future__ import annotations

from typing import Any

from .core.documents import _SURROGATE, MAX_INTEGER, MAX_PORT, binding_problem
from .model import (
    VM, AppPool, Connection, ConnectionString, Driver, Guest, HardDrive, Host, IISApplication, IISModule, IISSite,
    Listener, NetworkAdapter, ScheduledTask, Service, Software,
)
from .tolerant import name_problem


class _Unusual(Exception):
    """The record is not in the shape the fast path reads: the full reader takes it."""


class _Keys:
    """The properties the full reader reads on one kind of object. Other properties are ignored by
    both readers, unless one differs from a read property only in case (the full reader matches case
    insensitively): then the object is unusual."""

    __slots__ = ("exact", "lowered", "clean")

    def __init__(self, *names: str):
        self.exact = frozenset(names)
        self.lowered = frozenset(name.lower() for name in names)
        self.clean: dict[tuple, bool] = {}  # objects of one inventory share their key sets: each checked once

    def check(self, value: Any) -> dict:
        """Return `value` if it is an object whose read properties are all spelled exactly."""
        if type(value) is not dict:
            raise _Unusual
        if value.keys() <= self.exact:
            return value
        names = tuple(value)
        clean = self.clean.get(names)
        if clean is None:
            clean = all(type(k) is str and (k in self.exact or k.lower() not in self.lowered) for k in names)
            if len(self.clean) > 4096:
                self.clean.clear()
            self.clean[names] = clean
        if not clean:
            raise _Unusual
        return value


_VM = _Keys("Name", "VMId", "Generation", "State", "ProcessorCount", "MemoryStartup", "MemoryAssigned",
            "DynamicMemoryEnabled", "Notes", "Tags", "CollectionErrors", "NetworkAdapters", "HardDrives", "Guest")
_ADAPTER = _Keys("Name", "SwitchName", "MacAddress", "IPAddresses", "VlanId")
_DRIVE = _Keys("Path", "VhdType", "Size", "FileSize", "DvdMediaType")
_GUEST = _Keys("OSName", "OSVersion", "FullyQualifiedDomainName", "PartOfDomain", "Features", "Services", "Drivers",
               "Software", "DotNetFrameworkRelease", "DotNetRuntimes", "IISSites", "AppPools", "IISModules",
               "CollectedVia", "Listeners", "Connections", "ConnectionStrings", "ScheduledTasks")
_SERVICE = _Keys("Name", "DisplayName", "StartMode", "State", "PathName", "StartName")
_DRIVER = _Keys("Name", "PathName", "ServiceType", "State")
_SOFTWARE = _Keys("DisplayName", "DisplayVersion", "Publisher")
_SITE = _Keys("Name", "Bindings", "PhysicalPath", "ApplicationPool", "Applications", "WindowsAuthentication")
_APPLICATION = _Keys("Path", "PhysicalPath", "ApplicationPool")
_POOL = _Keys("Name", "ManagedRuntimeVersion", "Enable32BitAppOnWin64", "IdentityType", "UserName")
_MODULE = _Keys("Name", "Image")
_LISTENER = _Keys("LocalAddress", "LocalPort", "ProcessName")
_CONNECTION = _Keys("RemoteAddress", "RemotePort", "ProcessName")
_CONNECTION_STRING = _Keys("File", "Name", "Provider")
_TASK = _Keys("TaskName", "Execute", "RunAs", "Triggers")


def _texts(values: tuple) -> tuple:
    """Return text values as the full reader reads them (null as ""), all checked in one go.

    Callers read absent properties as "", so a null is the only non-text value the join meets in
    the common case. Anything but text or null (a number, a list) is unusual, and so is a lone
    surrogate (which the full reader refuses)."""
    try:
        joined = "".join(values)
    except TypeError:
        values = tuple("" if v is None else v for v in values)
        try:
            joined = "".join(values)
        except TypeError:
            raise _Unusual from None
    if not joined.isascii() and _SURROGATE.search(joined):
        raise _Unusual
    return values


def _text_list(value: Any) -> list[str] | None:
    """Return a list of text as read, or None for null; a null item, a non-text item, a bare value are unusual."""
    if value is None:
        return None
    if type(value) is not list:
        raise _Unusual
    try:
        joined = "".join(value)  # a TypeError unless every item is text
    except TypeError:
        raise _Unusual from None
    if not joined.isascii() and _SURROGATE.search(joined):
        raise _Unusual
    return value


def _strings(value: Any) -> list[str] | None:
    """Return a copy of a list of text (YAML aliases can share one list between records), or None."""
    value = _text_list(value)
    return None if value is None else list(value)


def _number(value: Any, minimum: int = 0, maximum: int = MAX_INTEGER) -> bool:
    """True for null or an integer (not a boolean, not a float) from `minimum` to `maximum`."""
    return value is None or (type(value) is int and minimum <= value <= maximum)


def _flag(value: Any) -> bool:
    """Return a boolean property as the full reader's bool(record.boolean(...)); only true, false, null."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    raise _Unusual


def _required(value: str) -> str:
    if not value:
        raise _Unusual
    return value


class _Names(dict):
    """An enum's names as the full reader takes them (any case): name -> canonical name. A value in
    another case is looked up lower-cased (and remembered); anything else is unusual (integers and
    digit strings included: the full reader reads those)."""

    def __init__(self, names_by_value: dict[int, str]):
        self._lowered = {name.lower(): name for name in names_by_value.values()}
        super().__init__(self._lowered)
        self.update({name: name for name in names_by_value.values()})

    def __missing__(self, value: Any) -> str:
        name = self._lowered.get(value.lower()) if type(value) is str else None
        if name is None:
            raise _Unusual
        if len(self) < 4096:
            self[value] = name
        return name


class FastReader:
    """Reads clean VM records; built once per run with the full reader's enums and tag rules."""

    def __init__(self, *, vm_states, vhd_types, identities, start_modes, service_states, max_processors,
                 note_pair, tag_keys):
        self.vm_states, self.vhd_types = _Names(vm_states), _Names(vhd_types)
        self.identities, self.start_modes = _Names(identities), _Names(start_modes)
        self.service_states = _Names(service_states)
        self.max_processors = max_processors
        self.note_pair, self.tag_keys = note_pair, tag_keys
        self._tag_names: dict[tuple, tuple] = {}  # Tags property names -> planning tag names

    def vm(self, data: Any, host: Host, where: str) -> VM | None:
        """Return the VM `data` describes, as the full reader would; None when it is not clean."""
        try:
            return self._vm(_VM.check(data), host, where)
        except _Unusual:
            return None

    def _vm(self, d: dict, host: Host, where: str) -> VM:
        get = d.get
        name, vm_id, notes, state = _texts((get("Name", ""), get("VMId", ""), get("Notes", ""), get("State", "")))
        generation, processors = get("Generation"), get("ProcessorCount")
        startup, assigned = get("MemoryStartup"), get("MemoryAssigned")
        if (not name or not vm_id or name_problem(name) or not _number(generation, 1, 2)
                or not (_number(processors, 1, self.max_processors) and _number(startup) and _number(assigned))):
            raise _Unusual
        # Positional, in the field order of model.VM.
        vm = VM(name, vm_id.strip().lower(), host.name, where, host.cluster, generation,
                self.vm_states[state] if state else "", processors, startup, assigned,
                _flag(get("DynamicMemoryEnabled")), notes, self._tags(notes, get("Tags")))
        errors, guest = get("CollectionErrors"), get("Guest")
        if errors is not None:
            vm.collection_errors = _strings(errors)
        adapters, drives = _each(get("NetworkAdapters"), _adapter), _each(get("HardDrives"), self._drive)
        if adapters:
            vm.network_adapters = adapters
        if drives:
            vm.hard_drives = [h for h in drives if h is not None]
        if guest is not None:
            vm.guest = self._guest(_GUEST.check(guest))
        return vm

    def _tags(self, notes: str, raw: Any) -> dict[str, str]:
        """Planning tags as the full reader's _tags: `key=value` pairs in Notes, overridden by Tags."""
        tags: dict[str, str] = {}
        if notes:
            for key, value in self.note_pair.findall(notes):
                tags[self.tag_keys.get(key.lower(), key)] = value.strip()
        if raw is not None:
            if type(raw) is not dict:
                raise _Unusual
            keys = tuple(raw)
            names = self._tag_names.get(keys)
            if names is None:
                names = tuple(self.tag_keys.get(key.lower(), key) for key in _texts(keys))
                if None in keys:
                    raise _Unusual  # a null name (YAML): the full reader's
                if len(self._tag_names) > 4096:  # a bound, should every VM have tags of its own
                    self._tag_names.clear()
                self._tag_names[keys] = names
            values = _texts(tuple(raw.values()))
            if not tags:
                return dict(zip(names, values))
            tags.update(zip(names, values))
        return tags

    def _drive(self, d: Any) -> HardDrive | None:
        get = _DRIVE.check(d).get
        path, vhd_type = _texts((get("Path", ""), get("VhdType", "")))
        if get("DvdMediaType") is not None or path.strip().strip('"').lower().endswith(".iso"):
            return None  # an optical drive, as the full reader's _is_optical
        size, file_size = get("Size"), get("FileSize")
        if not (_number(size) and _number(file_size)):
            raise _Unusual
        return HardDrive(path, self.vhd_types[vhd_type] if vhd_type else "", size, file_size)

    def _guest(self, d: dict) -> Guest:
        get = d.get
        os_name, os_version, fqdn, collected_via = _texts((
            get("OSName", ""), get("OSVersion", ""), get("FullyQualifiedDomainName", ""), get("CollectedVia", "")))
        features, domain, release = get("Features"), get("PartOfDomain"), get("DotNetFrameworkRelease")
        if features is not None:
            # Text only: Get-WindowsFeature objects are the full reader's (_strings raises on them).
            features = sorted(set(_text_list(features)), key=str.lower)
        if not (_number(release) and (domain is None or type(domain) is bool)):
            raise _Unusual
        # Positional, in the field order of model.Guest.
        return Guest(
            os_name, os_version, fqdn, domain, features,
            _each(get("Services"), self._service), _each(get("Drivers"), _driver),
            _each(get("Software"), _software), release, _strings(get("DotNetRuntimes")),
            _each(get("IISSites"), _site), _each(get("AppPools"), self._pool), _each(get("IISModules"), _module),
            collected_via, _each(get("Listeners"), _listener), _each(get("Connections"), _connection),
            _each(get("ConnectionStrings"), _connection_string), _each(get("ScheduledTasks"), _task),
        )

    def _service(self, r: Any) -> Service:
        get = _SERVICE.check(r).get
        name, display, mode, state, path, account = _texts((get("Name", ""), get("DisplayName", ""),
                                                            get("StartMode", ""), get("State", ""),
                                                            get("PathName", ""), get("StartName", "")))
        return Service(_required(name), display, self.start_modes[mode] if mode else "",
                       self.service_states[state] if state else "", path, account)

    def _pool(self, r: Any) -> AppPool:
        get = _POOL.check(r).get
        name, runtime, identity, user = _texts((get("Name", ""), get("ManagedRuntimeVersion", ""),
                                                get("IdentityType", ""), get("UserName", "")))
        return AppPool(_required(name), runtime, _flag(get("Enable32BitAppOnWin64")),
                       self.identities[identity] if identity else "ApplicationPoolIdentity", user)


def _each(value: Any, build) -> list | None:
    """Return the objects `build` reads from a list property; null and [] are kept as read."""
    if type(value) is list:
        return list(map(build, value)) if value else value
    if value is None:
        return None
    raise _Unusual


def _driver(r: Any) -> Driver:
    get = _DRIVER.check(r).get
    name, path, kind, state = _texts((get("Name", ""), get("PathName", ""), get("ServiceType", ""), get("State", "")))
    return Driver(_required(name), path, kind, state)


def _software(r: Any) -> Software:
    get = _SOFTWARE.check(r).get
    name, version, publisher = _texts((get("DisplayName", ""), get("DisplayVersion", ""), get("Publisher", "")))
    return Software(_required(name), version, publisher)


def _module(r: Any) -> IISModule:
    get = _MODULE.check(r).get
    name, image = _texts((get("Name", ""), get("Image", "")))
    return IISModule(_required(name), image)


def _port(value: Any) -> int:
    if type(value) is not int or not 0 < value <= MAX_PORT:
        raise _Unusual
    return value


def _listener(r: Any) -> Listener:
    get = _LISTENER.check(r).get
    address, process = _texts((get("LocalAddress", ""), get("ProcessName", "")))
    return Listener(address, _port(get("LocalPort")), process)


def _connection(r: Any) -> Connection:
    get = _CONNECTION.check(r).get
    address, process = _texts((get("RemoteAddress", ""), get("ProcessName", "")))
    return Connection(_required(address), _port(get("RemotePort")), process)


def _connection_string(r: Any) -> ConnectionString:
    get = _CONNECTION_STRING.check(r).get
    file, name, provider = _texts((get("File", ""), get("Name", ""), get("Provider", "")))
    return ConnectionString(file, _required(name), provider)


def _adapter(r: Any) -> NetworkAdapter:
    get = _ADAPTER.check(r).get
    name, switch, mac = _texts((get("Name", ""), get("SwitchName", ""), get("MacAddress", "")))
    vlan = get("VlanId")
    if not _number(vlan):
        raise _Unusual
    return NetworkAdapter(name, switch, mac, _strings(get("IPAddresses")) or [], vlan)


_GOOD_BINDINGS: set[str] = set()  # bindings binding_problem passed: each distinct one checked once


def _site(r: Any) -> IISSite:
    get = _SITE.check(r).get
    name, path, pool = _texts((get("Name", ""), get("PhysicalPath", ""), get("ApplicationPool", "")))
    bindings = _strings(get("Bindings")) or []
    for binding in bindings:
        if binding not in _GOOD_BINDINGS:
            if binding_problem(binding):
                raise _Unusual
            if len(_GOOD_BINDINGS) < 4096:
                _GOOD_BINDINGS.add(binding)
    applications = _each(get("Applications"), _application) or []
    return IISSite(_required(name), bindings, path, pool, applications, _flag(get("WindowsAuthentication")))


def _application(r: Any) -> IISApplication:
    get = _APPLICATION.check(r).get
    path, physical, pool = _texts((get("Path", ""), get("PhysicalPath", ""), get("ApplicationPool", "")))
    return IISApplication(_required(path), physical, pool)


def _task(r: Any) -> ScheduledTask:
    get = _TASK.check(r).get
    if get("Triggers") is not None:
        raise _Unusual  # triggers are checked by the full reader
    name, execute, run_as = _texts((get("TaskName", ""), get("Execute", ""), get("RunAs", "")))
    return ScheduledTask(_required(name), execute, run_as)
