"""Network dependencies: from `Guest.Connections` and from Azure Migrate's dependency export CSV.

Observations aggregate into weighted edges between nodes. A node is a VM's `vm_id`, or, for a
destination no VM owns, `external:<name or ip>`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pyarrow as pa
import pyarrow.csv as pacsv

from .errors import InputError
from .model import VM
from .tolerant import open_text, sniff_encoding

EXTERNAL_PREFIX = "external:"

# Azure Migrate's agentless dependency export (migration-tools.md §3): the columns hyperdock needs.
# "Source process" and "Destination process" are read when present; "Time slot" = "Timeslot".
REQUIRED_COLUMNS = ("Source server name", "Destination server name", "Destination IP", "Destination port")
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

    Arrow reads the columns and collapses repeated rows (each 6-hour time slot repeats a pair) in
    C++, so Python only sees distinct rows: name resolution and validation run once per distinct
    row. A malformed file is re-read with the csv module to name the offending line.
    """
    where = str(path)
    header, encoding = _header(path)
    index = {_ALIASES.get(h.strip().lower(), h.strip().lower()): h for h in header}
    missing = [c for c in REQUIRED_COLUMNS if c.lower() not in index]
    if missing:
        raise InputError(f"{where}:1", f"missing column(s) {', '.join(repr(c) for c in missing)}; "
                                       "expected Azure Migrate's dependency export header")
    wanted = [index[c.lower()] for c in REQUIRED_COLUMNS]
    wanted += [index.get(c) for c in ("source process", "destination process")]
    columns = [c for c in dict.fromkeys(wanted) if c is not None]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding, use_threads=True),
            convert_options=pacsv.ConvertOptions(include_columns=columns,
                                                 column_types={c: pa.string() for c in columns}),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise _locate_problem(path, len(header)) or InputError(where, f"not a readable CSV: {exc}") from None
    rows = table.num_rows
    counts = table.group_by(columns, use_threads=False).aggregate([([], "count_all")])
    src, dst, dst_ip, port, src_proc, dst_proc = wanted
    names = {c: counts.column(c).to_pylist() for c in columns}
    empty = [""] * counts.num_rows
    nodes: dict[tuple[str, str], str] = {}
    for s, d, ip, p, sp, dp, n in zip(names[src], names[dst], names[dst_ip], names[port],
                                      names[src_proc] if src_proc else empty, names[dst_proc] if dst_proc else empty,
                                      counts.column("count_all").to_pylist()):
        s, d, ip, sp, dp = s or "", d or "", ip or "", sp or "", dp or ""
        port_number = _port_number(p or "")
        if port_number is None:
            raise _locate_problem(path, len(header), bad_port=p) or InputError(
                where, f"Destination port {p!r} is not a port number (0-65535)")
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


def _header(path: Path) -> tuple[list[str], str]:
    """Return the header row and the file's encoding; raise InputError for an empty file."""
    with open_text(path) as stream:
        try:
            header = next(csv.reader(stream))
        except StopIteration:
            raise InputError(str(path), "file is empty; expected a CSV with a header row") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{path}:1", f"not a readable CSV: {exc}") from None
    with path.open("rb") as probe:
        encoding, bom = sniff_encoding(probe.read(4))
    # Arrow skips a UTF-8 BOM itself; Python's "utf-16" codec consumes a UTF-16 one.
    return header, "utf-16" if bom and encoding.startswith("utf-16") else encoding


def _locate_problem(path: Path, width: int, bad_port: str | None = None) -> InputError | None:
    """Find the first malformed line with the csv module (error path only); None if it finds none."""
    port_column = None
    with open_text(path) as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader)
            lowered = [h.strip().lower() for h in header]
            port_column = lowered.index("destination port") if "destination port" in lowered else None
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != width:
                    return InputError(f"{path}:{reader.line_num}", f"expected {width} columns, got {len(row)}")
                if bad_port is not None and port_column is not None and row[port_column] == bad_port:
                    return InputError(f"{path}:{reader.line_num}",
                                      f"Destination port {bad_port!r} is not a port number (0-65535)")
        except (csv.Error, UnicodeDecodeError) as exc:
            return InputError(f"{path}:{reader.line_num + 1}", f"not a readable CSV row: {exc}")
    return None


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
