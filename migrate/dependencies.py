"""Network dependencies: from `Guest.Connections` and from Azure Migrate's dependency export CSV.

Observations aggregate into weighted edges between nodes. A node is a VM's `vm_id`, or, for a
destination no VM owns, `external:<name or ip>`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .errors import InputError
from .model import VM
from .tolerant import open_text

EXTERNAL_PREFIX = "external:"

# Azure Migrate's agentless dependency export (migration-tools.md §3). "Time slot" is accepted too.
REQUIRED_COLUMNS = ("Source server name", "Destination server name", "Destination IP", "Destination port")
OPTIONAL_COLUMNS = ("Timeslot", "Source IP", "Source application", "Source process",
                    "Destination application", "Destination process")
_ALIASES = {"time slot": "timeslot"}


@dataclass(slots=True)
class Edge:
    """Aggregated traffic from one node to another."""

    source: str
    target: str
    connections: int = 0
    ports: set[int] = field(default_factory=set)
    processes: set[str] = field(default_factory=set)


class Resolver:
    """Maps server names and IP addresses to VM ids; ambiguous IPs resolve to nothing."""

    def __init__(self, vms: Iterable[VM]):
        self.by_name: dict[str, str] = {}
        self.by_ip: dict[str, str | None] = {}
        for vm in vms:
            names = {vm.name.lower()}
            if vm.guest and vm.guest.fqdn:
                names |= {vm.guest.fqdn.lower(), vm.guest.fqdn.split(".")[0].lower()}
            for name in names:
                # A name two VMs share cannot identify either: keep it unresolved.
                self.by_name[name] = None if self.by_name.get(name, vm.vm_id) != vm.vm_id else vm.vm_id
            for ip in vm.ip_addresses():
                self.by_ip[ip] = None if self.by_ip.get(ip, vm.vm_id) != vm.vm_id else vm.vm_id

    def node(self, name: str, ip: str = "") -> str:
        """Return the VM id for a server name or IP, or an external node id."""
        lowered = name.strip().lower()
        if lowered:
            found = self.by_name.get(lowered) or self.by_name.get(lowered.split(".")[0])
            if found:
                return found
        if ip:
            found = self.by_ip.get(ip.strip())
            if found:
                return found
        return EXTERNAL_PREFIX + (ip.strip() or lowered or "unknown")


def edges_from_guests(vms: Iterable[VM], resolver: Resolver) -> dict[tuple[str, str], Edge]:
    """Return edges from each guest's established outbound connections."""
    edges: dict[tuple[str, str], Edge] = {}
    for vm in vms:
        for conn in (vm.guest.connections or []) if vm.guest else []:
            target = resolver.node("", conn.remote_address)
            if target == vm.vm_id:
                continue
            _add(edges, vm.vm_id, target, 1, conn.remote_port, conn.process_name)
    return edges


def read_dependency_csv(path: Path, resolver: Resolver, edges: dict[tuple[str, str], Edge]) -> int:
    """Add the rows of an Azure Migrate dependency export to `edges`; return the row count.

    Rows first collapse on their distinct values (each 6-hour time slot repeats them), so name
    resolution and validation run once per distinct row rather than once per row.
    """
    where = str(path)
    counts: dict[tuple, int] = {}
    first_line: dict[tuple, int] = {}
    rows = 0
    with open_text(path) as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(where, "file is empty; expected a CSV with a header row") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{where}:1", f"not a readable CSV: {exc}") from None
        index = {_ALIASES.get(h.strip().lower(), h.strip().lower()): i for i, h in enumerate(header)}
        missing = [c for c in REQUIRED_COLUMNS if c.lower() not in index]
        if missing:
            raise InputError(f"{where}:1", f"missing column(s) {', '.join(repr(c) for c in missing)}; "
                                           "expected Azure Migrate's dependency export header")
        src, dst, dst_ip, port = (index[c.lower()] for c in REQUIRED_COLUMNS)
        src_proc = index.get("source process", -1)
        dst_proc = index.get("destination process", -1)
        width = max(index.values()) + 1
        try:
            for row in reader:
                rows += 1
                if len(row) < width:
                    if not any(cell.strip() for cell in row):
                        continue
                    raise InputError(f"{where}:{reader.line_num}", f"expected {len(header)} columns, got {len(row)}")
                key = (row[src], row[dst], row[dst_ip], row[port],
                       row[src_proc] if src_proc >= 0 else "", row[dst_proc] if dst_proc >= 0 else "")
                seen = counts.get(key)
                if seen is None:
                    counts[key] = 1
                    first_line[key] = reader.line_num
                else:
                    counts[key] = seen + 1
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{where}:{reader.line_num + 1}", f"not a readable CSV row: {exc}") from None
    nodes: dict[tuple[str, str], str] = {}
    for key, n in counts.items():
        s, d, ip, p, sp, dp = key
        port_number = _port_number(p)
        if port_number is None:
            raise InputError(f"{where}:{first_line[key]}", f"Destination port {p!r} is not a port number (0-65535)")
        source = nodes.get((s, ""))
        if source is None:
            source = nodes[(s, "")] = resolver.node(s)
        target = nodes.get((d, ip))
        if target is None:
            target = nodes[(d, ip)] = resolver.node(d, ip)
        if source == target:
            continue
        _add(edges, source, target, n, port_number, sp.strip())
        if dp.strip():
            edges[(source, target)].processes.add(dp.strip())
    return rows


def _port_number(text: str) -> int | None:
    try:
        number = int(text)
    except ValueError:
        return None
    return number if 0 <= number <= 65535 else None


def _add(edges: dict[tuple[str, str], Edge], source: str, target: str, count: int, port: int, process: str) -> None:
    edge = edges.get((source, target))
    if edge is None:
        edge = edges[(source, target)] = Edge(source, target)
    edge.connections += count
    edge.ports.add(port)
    if process:
        edge.processes.add(process)
