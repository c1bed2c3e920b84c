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
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .core.documents import open_text, sniff_encoding
from .core.errors import InputError
from .model import VM
from .tolerant import parse_port

EXTERNAL_PREFIX = "external:"

# Azure Migrate's agentless dependency export (migration-tools.md §3 and its 2026-11-30 addendum):
# the columns hyperdock needs. "Source IP", the processes and a connection count are read when
# present; "Time slot" = "Timeslot".
REQUIRED_COLUMNS = ("Source server name", "Destination server name", "Destination IP", "Destination port")
COUNT_COLUMN = "connection count"
_ALIASES = {"time slot": "timeslot", "connectioncount": COUNT_COLUMN, "connections": COUNT_COLUMN}
# Windows PowerShell 5.1's Export-Csv writes this line first unless given -NoTypeInformation.
_TYPE_LINE = "#TYPE"

# What an edge's `connections` counts, everywhere (plan, report, --chatty-connections).
CONNECTIONS_DEFINITION = (
    "connections = observations of a pair: one per dependency-export row (the pair seen in one "
    "6-hour time slot), or that row's Connection Count where the export has the column "
    "(deduplicated exports); one per established connection a guest reported")


@dataclass(slots=True)
class CsvRead:
    """What one dependency export contributed: rows read, and rows that could not be placed."""

    path: str
    rows: int
    no_key: int = 0   # source or destination has neither a name nor an IP: left out
    outside: int = 0  # source not in the inventory by name or IP: kept as inbound traffic only

    def warning(self) -> str | None:
        """Return a one-line warning when some rows could not be placed on an inventoried VM, else None."""
        if not self.no_key and not self.outside:
            return None
        parts = []
        if self.no_key:
            parts.append(f"{self.no_key} without a source or destination name or IP (left out)")
        if self.outside:
            parts.append(f"{self.outside} from sources not in the inventory by name or IP (inbound traffic only)")
        return (f"{self.path}: {self.no_key + self.outside} of {self.rows} rows could not be placed on an "
                f"inventoried VM: {'; '.join(parts)}")


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


def read_dependency_csv(path: Path, resolver: Resolver, edges: dict[tuple[str, str], Edge]) -> CsvRead:
    """Add the rows of an Azure Migrate dependency export to `edges`; return what was read.

    Arrow's allocator (mimalloc) keeps the pages of a freed table for reuse: about 300 MiB per
    million rows that the rest of the run would otherwise hold on top of its own objects. They go
    back to the system once the table is gone.
    """
    try:
        return _read_dependency_csv(path, resolver, edges)
    finally:
        pa.default_memory_pool().release_unused()


def _read_dependency_csv(path: Path, resolver: Resolver, edges: dict[tuple[str, str], Edge]) -> CsvRead:
    """Add the rows of an Azure Migrate dependency export to `edges`; return what was read.

    Arrow reads the columns and collapses repeated rows (each 6-hour time slot repeats a pair) in
    C++, so Python only sees distinct rows: name resolution and validation run once per distinct
    row. A malformed file is re-read with the csv module to name the offending line.
    """
    where = str(path)
    header, encoding, skip = _header(path)
    index: dict[str, str] = {}
    for h in header:
        name = _ALIASES.get(h.strip().lower(), h.strip().lower())
        if name and name in index:
            raise InputError(f"{where}:{1 + skip}", f"column {h.strip()[:60]!r} appears twice; expected each column once")
        index[name] = h
    missing = [c for c in REQUIRED_COLUMNS if c.lower() not in index]
    if missing:
        raise InputError(f"{where}:{1 + skip}", f"missing column(s) {', '.join(repr(c) for c in missing)}; "
                                                "expected Azure Migrate's dependency export header")
    wanted = [index[c.lower()] for c in REQUIRED_COLUMNS]
    wanted += [index.get(c) for c in ("source ip", "source process", "destination process")]
    count = index.get(COUNT_COLUMN)
    keys = [c for c in dict.fromkeys(wanted) if c is not None and c != count]
    # Dictionary-encoded: names repeat across time slots and partners, so the table is about 40%
    # smaller; group_by needs one dictionary per column, hence unify_dictionaries.
    types = {c: pa.dictionary(pa.int32(), pa.string()) for c in keys} | ({count: pa.int64()} if count else {})
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding, use_threads=True, skip_rows=skip),
            convert_options=pacsv.ConvertOptions(include_columns=list(types), column_types=types),
        ).unify_dictionaries()
        if count:
            table = table.set_column(table.schema.get_field_index(count), count, pc.fill_null(table[count], 1))
            if table.num_rows and pc.min(table[count]).as_py() < 0:
                raise pa.ArrowInvalid("negative connection count")
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise _locate_problem(path, len(header), skip, count) or InputError(where, f"not a readable CSV: {exc}") from None
    read = CsvRead(where, table.num_rows)
    aggregates = [([], "count_all")] + ([(count, "sum")] if count else [])
    groups = table.group_by(keys, use_threads=False).aggregate(aggregates)
    del table
    src, dst, dst_ip, port, src_ip, src_proc, dst_proc = wanted
    # Decoded in Arrow first: to_pylist on a dictionary column is 15x slower.
    names = {c: groups.column(c).cast(pa.string()).to_pylist() for c in keys}
    empty = [""] * groups.num_rows
    rows = groups.column("count_all").to_pylist()
    weights = groups.column(f"{count}_sum").to_pylist() if count else rows
    nodes: dict[tuple[str, str], str] = {}
    ports: dict[str | None, int | None] = {}  # a few distinct port texts among many rows: parsed once each
    for s, sip, d, ip, p, sp, dp, n, weight in zip(
            names[src], names[src_ip] if src_ip else empty, names[dst], names[dst_ip], names[port],
            names[src_proc] if src_proc else empty, names[dst_proc] if dst_proc else empty, rows, weights):
        s, sip, d, ip, sp, dp = (s or "").strip(), (sip or "").strip(), d or "", ip or "", sp or "", dp or ""
        port_number = ports.get(p, -1)
        if port_number == -1:
            port_number = ports[p] = _port_number(p or "")
        if port_number is None:
            raise _locate_problem(path, len(header), skip, bad_port=p) or InputError(
                where, f"Destination port {p!r} is not a port number (1-65535)")
        if not (s or sip) or not (d.strip() or ip.strip()):
            read.no_key += n  # nothing to resolve either end by
            continue
        source = nodes.get((s, sip))
        if source is None:
            source = nodes[(s, sip)] = resolver.node(s, sip)
        target = nodes.get((d, ip))
        if target is None:
            target = nodes[(d, ip)] = resolver.node(d, ip)
        if source.startswith(EXTERNAL_PREFIX):
            read.outside += n
        if source == target:
            continue
        _add(edges, source, target, weight, port_number, sp.strip())
        if dp.strip():
            edges[(source, target)].processes.add(dp.strip())
    return read


def _header(path: Path) -> tuple[list[str], str, int]:
    """Return the header row, the file's encoding and how many lines precede the header (a `#TYPE` line).

    Raises InputError for an empty file.
    """
    with open_text(path) as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader)
            skip = 0
            if header and header[0].lstrip("\ufeff").startswith(_TYPE_LINE):
                header, skip = next(reader), 1
        except StopIteration:
            raise InputError(str(path), "file is empty; expected a CSV with a header row") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{path}:1", f"not a readable CSV: {exc}") from None
    with path.open("rb") as probe:
        encoding, bom = sniff_encoding(probe.read(4))
    # Arrow skips a UTF-8 BOM itself; Python's "utf-16" codec consumes a UTF-16 one.
    return header, "utf-16" if bom and encoding.startswith("utf-16") else encoding, skip


def _locate_problem(path: Path, width: int, skip: int = 0, count: str | None = None,
                    bad_port: str | None = None) -> InputError | None:
    """Find the first malformed row with the csv module (error path only); None if it finds none.

    A row is reported at the line it starts on: a quote never closed is named where it opens.
    """
    with open_text(path) as stream:
        reader = csv.reader(stream, strict=True)
        start = 1
        try:
            for _ in range(skip):
                next(reader)
            lowered = [h.strip().lower() for h in next(reader)]
            port_column = lowered.index("destination port") if "destination port" in lowered else None
            count_column = lowered.index(count.strip().lower()) if count else None
            start = reader.line_num + 1
            for row in reader:
                line, start = start, reader.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != width:
                    return InputError(f"{path}:{line}", f"expected {width} columns, got {len(row)}")
                if bad_port is not None and port_column is not None and row[port_column] == bad_port:
                    return InputError(f"{path}:{line}",
                                      f"Destination port {bad_port[:20]!r} is not a port number (1-65535)")
                value = row[count_column].strip() if count_column is not None else ""
                if value and not (value.isascii() and value.isdigit() and len(value) <= 18):
                    return InputError(f"{path}:{line}",
                                      f"{count}: expected a whole number of connections, got {value[:40]!r}")
        except csv.Error as exc:
            problem = "a quoted value opened on this line is never closed" if "end of data" in str(exc) else exc
            return InputError(f"{path}:{start}", f"not a readable CSV row: {problem}")
        except UnicodeDecodeError as exc:
            return InputError(f"{path}:{start}", f"not valid {stream.encoding} text: {exc.reason}")
    return None


def _port_number(text: str) -> int | None:
    return parse_port(text.strip())


def _add(edges: dict[tuple[str, str], Edge], source: str, target: str, count: int, port: int, process: str) -> None:
    edge = edges.get((source, target))
    if edge is None:
        edge = edges[(source, target)] = Edge(source, target)
    edge.connections += count
    edge.ports.add(port)
    if process:
        edge.processes.add(process)
