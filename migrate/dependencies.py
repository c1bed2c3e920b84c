"""Network dependencies: from `Guest.Connections` and from Azure Migrate's dependency export CSV.

Observations aggregate into weighted edges between nodes. A node is a VM's `vm_id`, or, for a
destination no VM owns, `external:<name or ip>`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .core.documents import open_text, parse_port, sniff_encoding
from .core.errors import InputError
from .model import VM

EXTERNAL_PREFIX = "external:"

# Azure Migrate's agentless dependency export (Microsoft Learn,
# learn.microsoft.com/azure/migrate/how-to-create-group-machine-dependencies-agentless; Microsoft's export script Azure-Samples/azure-docs-powershell-samples `AzMig_Dependencies.ps1`):
# the columns hyperdock needs. "Source IP", the processes and a connection count are read when
# present; "Time slot" = "Timeslot".
REQUIRED_COLUMNS = ("Source server name", "Destination server name", "Destination IP", "Destination port")
COUNT_COLUMN = "connection count"
_ALIASES = {"time slot": "timeslot", "connectioncount": COUNT_COLUMN, "connections": COUNT_COLUMN}
# Windows PowerShell 5.1's Export-Csv writes this line first unless given -NoTypeInformation.
_TYPE_LINE = "#TYPE"
# The columns read, by the role each plays in a row (lower-case, after _ALIASES).
_ROLES = {"source": "source server name", "destination": "destination server name", "destination ip": "destination ip",
          "port": "destination port", "source ip": "source ip", "source process": "source process",
          "destination process": "destination process"}

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
    """Aggregated traffic from one node to another.

    The sets are frozen so that the many pairs seeing the same port or processes share one set;
    adding to an edge replaces its set (`|=`).
    """

    source: str
    target: str
    connections: int = 0
    ports: frozenset[int] = frozenset()
    processes: frozenset[str] = frozenset()


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
    """Add the rows of an Azure Migrate dependency export to `edges`; return what was read."""
    return add_distinct_rows(distinct_rows(path), resolver, edges)


@dataclass(slots=True)
class DistinctRows:
    """A dependency export reduced to its distinct rows, before any name is resolved.

    `table` has one dictionary column per role the export has ("source", "destination",
    "destination ip", "port", and where present "source ip", "source process", "destination
    process"), "rows" (export rows alike) and "weight" (their connections).
    """

    path: str
    rows: int  # rows in the export
    table: pa.Table


def distinct_rows(path: Path) -> DistinctRows:
    """Return the export at `path` as its distinct rows; it needs no inventory.

    Raises InputError for a file that is not a readable export, naming the line where it can.
    Arrow's allocator (mimalloc) keeps the pages of a freed table for reuse: about 300 MiB per
    million rows that the rest of the run would otherwise hold on top of its own objects. They go
    back to the system once the file's table is gone.
    """
    try:
        return _distinct_rows(path)
    finally:
        pa.default_memory_pool().release_unused()


def _distinct_rows(path: Path) -> DistinctRows:
    """Read the export dictionary-encoded and group its rows by their columns' codes.

    An export repeats each pair once per time slot (about 13 rows per distinct row in the
    benchmark's estates), so everything after this, Python included, works on the distinct rows.
    A malformed file is re-read with the csv module to name the offending line.
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
    count = index.get(COUNT_COLUMN)
    columns = {role: index[c] for role, c in _ROLES.items() if c in index and index[c] != count}
    # Dictionary-encoded: names repeat across time slots and partners, so the table is about 40%
    # smaller, rows group by integer codes, and each distinct text is resolved once;
    # unify_dictionaries gives each column one dictionary for all of its chunks.
    types = {c: pa.dictionary(pa.int32(), pa.string()) for c in columns.values()} | ({count: pa.int64()} if count else {})
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
    port = table[columns["port"]]
    bad = [i for i, text in enumerate(_dictionary(port).to_pylist()) if _port_number(text) is None]
    if bad or port.null_count:
        text = _first_bad_port(port, bad)
        raise _locate_problem(path, len(header), skip, bad_port=text) or InputError(
            where, f"Destination port {text!r} is not a port number (1-65535)")
    codes = pa.table({role: _indices(table[c]) for role, c in columns.items()}
                     | ({"weight": table[count]} if count else {}))
    dictionaries = {role: _dictionary(table[c]) for role, c in columns.items()}
    rows = table.num_rows
    del table  # from here on only the codes (views of its buffers) and the dictionaries are needed
    # Without a count column each row is one observation: the rows alike are counted. One thread:
    # as fast here as Arrow's threads merging their partial groups, and in first-seen order.
    grouped = codes.group_by(list(columns), use_threads=False).aggregate(
        [([], "count_all")] + ([("weight", "sum")] if count else []))
    del codes
    counted = grouped["count_all"]
    distinct = pa.table({role: _encoded(grouped[role], dictionaries[role]) for role in columns}
                        | {"rows": counted, "weight": grouped["weight_sum"] if count else counted})
    return DistinctRows(where, rows, distinct)


def add_distinct_rows(distinct: DistinctRows, resolver: Resolver, edges: dict[tuple[str, str], Edge]) -> CsvRead:
    """Add an export's distinct rows to `edges`, its names resolved with `resolver`; return what was read."""
    read = CsvRead(distinct.path, distinct.rows)
    if distinct.rows:
        coded = _coded_rows(distinct.table, resolver)
        distinct.table = None  # its columns are codes now
        _add_pairs(coded, edges, read)
    return read


@dataclass(slots=True)
class _CodedRows:
    """Distinct rows as integer codes: each row's source and target node, port, processes, export rows, weight."""

    rows: pa.Table
    nodes: list[str]      # node id by code; codes below `vms` are VMs
    vms: int
    processes: list[str]  # process name by code


def _coded_rows(table: pa.Table, resolver: Resolver) -> _CodedRows:
    """Return `table`'s rows as codes. Python sees each distinct name, IP, port and process text once
    (the columns' dictionaries); Arrow maps the codes onto the rows.
    """
    node_ids: dict[str, int] = {vm_id: i for i, vm_id in enumerate(dict.fromkeys(
        v for v in list(resolver.by_name.values()) + list(resolver.by_ip.values()) if v))}
    vms = len(node_ids)
    processes: dict[str, int] = {}
    has = table.column_names
    port_numbers = [_port_number(text) for text in _dictionary(table["port"]).to_pylist()]
    rows = pa.table({
        "s": _nodes(table, "source", "source ip" if "source ip" in has else None, resolver, node_ids),
        "t": _nodes(table, "destination", "destination ip", resolver, node_ids),
        "port": _mapped(table["port"], port_numbers),
        "sp": (_mapped(table["source process"], _codes(table["source process"], processes))
               if "source process" in has else _nulls(table.num_rows)),
        "dp": (_mapped(table["destination process"], _codes(table["destination process"], processes))
               if "destination process" in has else _nulls(table.num_rows)),
        "rows": table["rows"],
        "w": table["weight"],
    })
    return _CodedRows(rows, list(node_ids), vms, list(processes))


def _add_pairs(coded: _CodedRows, edges: dict[tuple[str, str], Edge], read: CsvRead) -> None:
    """Group coded rows by (source, target) and add each pair to `edges`; count in `read` the
    export rows with a blank end and those from outside the inventory.

    The groups are sorted by code, so the result does not depend on the order of the distinct rows.
    One thread: on distinct rows Arrow's threads cost more to merge than they save.
    """
    rows = coded.rows
    placed = pc.and_(pc.is_valid(rows["s"]), pc.is_valid(rows["t"]))
    read.no_key = read.rows - (pc.sum(pc.filter(rows["rows"], placed)).as_py() or 0)
    rows = rows.filter(placed)
    read.outside = pc.sum(pc.filter(rows["rows"], pc.greater_equal(rows["s"], coded.vms))).as_py() or 0
    rows = rows.filter(pc.not_equal(rows["s"], rows["t"]))
    # Both processes of a row as one code: pairs see few distinct combinations, each named once.
    blank = len(coded.processes)
    combined = pc.add(pc.multiply(pc.fill_null(rows["sp"], blank).cast(pa.int64()), blank + 1),
                      pc.fill_null(rows["dp"], blank).cast(pa.int64()))
    rows = rows.select(["s", "t", "port", "w"]).append_column("pp", combined)
    pairs = rows.group_by(["s", "t"], use_threads=False).aggregate(
        [("w", "sum"), ("port", "distinct"), ("pp", "distinct")],
    ).sort_by([("s", "ascending"), ("t", "ascending")])
    del rows, combined
    coded.rows = None
    names, processes = coded.nodes, coded.processes + [""]
    named: dict[int, frozenset[str]] = {}

    def used(combination: int) -> frozenset[str]:
        """The process names of one combination code (both ends, blanks left out)."""
        found = named.get(combination)
        if found is None:
            found = named[combination] = frozenset(
                p for p in (processes[combination // (blank + 1)], processes[combination % (blank + 1)]) if p)
        return found

    # Column-wise: most pairs see one port and one combination of processes, so lists are built
    # in Python only for the pairs that see more.
    sources = [names[s] for s in pairs["s"].to_pylist()]
    targets = [names[t] for t in pairs["t"].to_pylist()]
    weights = pairs["w_sum"].to_pylist()
    port_sets = _sets(pairs["port_distinct"], lambda port: frozenset((port,)))
    process_sets = _sets(pairs["pp_distinct"], used)
    del pairs
    if not edges:  # nothing to merge with: one Edge per pair, straight in
        edges.update(zip(zip(sources, targets), map(Edge, sources, targets, weights, port_sets, process_sets)))
        return
    for source, target, weight_sum, ports, used_processes in zip(sources, targets, weights, port_sets, process_sets):
        edge = edges.get((source, target))
        if edge is None:
            edges[(source, target)] = Edge(source, target, weight_sum, ports, used_processes)
        else:
            edge.connections += weight_sum
            edge.ports |= ports
            edge.processes |= used_processes


def _sets(lists: pa.ChunkedArray, members: Callable[[int], frozenset]) -> list[frozenset]:
    """Return, for each list of `lists` (none empty), the union of `members(item)` over its items.

    Python looks at each row's first item and at the whole list only where it is longer than one;
    `members` is called once per distinct first item.
    """
    lists = lists.combine_chunks()
    cached: dict[int, frozenset] = {}
    sets = [cached[v] if v in cached else cached.setdefault(v, members(v)) for v in pc.list_element(lists, 0).to_pylist()]
    longer = pc.greater(pc.list_value_length(lists), 1)
    for i, items in zip(pc.indices_nonzero(longer).to_pylist(), pc.filter(lists, longer).to_pylist()):
        sets[i] = frozenset().union(*map(members, items))
    return sets


def _dictionary(column: pa.ChunkedArray) -> pa.Array:
    """Return the one dictionary of a unified dictionary column (its distinct texts)."""
    return column.chunk(0).dictionary if column.num_chunks else pa.array([], pa.string())


def _indices(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pa.chunked_array([chunk.indices for chunk in column.chunks], pa.int32())


def _encoded(indices: pa.ChunkedArray, dictionary: pa.Array) -> pa.ChunkedArray:
    """Return a dictionary column of `indices` into `dictionary`."""
    return pa.chunked_array([pa.DictionaryArray.from_arrays(chunk, dictionary) for chunk in indices.chunks],
                            pa.dictionary(pa.int32(), dictionary.type))


def _mapped(column: pa.ChunkedArray, values: list[int | None]) -> pa.ChunkedArray:
    """Return, for each row of a dictionary column, the code its text maps to (null for a null cell)."""
    return pc.take(pa.array(values, pa.int32()), _indices(column))


def _nulls(rows: int) -> pa.Array:
    return pa.nulls(rows, pa.int32())


def _codes(column: pa.ChunkedArray, codes: dict[str, int]) -> list[int | None]:
    """Return a code per distinct text of `column`, stripped (None when blank); new texts join `codes`."""
    return [codes.setdefault(text.strip(), len(codes)) if text.strip() else None
            for text in _dictionary(column).to_pylist()]


def _first_bad_port(column: pa.ChunkedArray, bad: list[int]) -> str | None:
    """Return the text of the first row (in file order) whose port is not a port number: a null
    cell or a dictionary entry listed in `bad`."""
    wrong = pc.or_kleene(pc.is_null(column), pc.is_in(_indices(column), pa.array(bad, pa.int32())))
    first = pc.index(pc.fill_null(wrong, True), True).as_py()
    return column[first].as_py()


def _nodes(table: pa.Table, name: str, ip: str | None, resolver: Resolver, node_ids: dict[str, int]) -> pa.ChunkedArray:
    """Return each row's node code for one end (`name` and `ip` columns), as Resolver.node would
    name it: a VM by name, else by IP, else external by IP, else by name; null where both are blank.

    Codes below len(node_ids) on entry are VMs; external nodes get the codes after them.
    """
    names = [n.strip().lower() for n in _dictionary(table[name]).to_pylist()]
    by_name = [resolver.by_name.get(n) or resolver.by_name.get(n.split(".")[0]) if n else None for n in names]
    code = lambda node: node_ids.setdefault(node, len(node_ids))  # noqa: E731
    choices = [_mapped(table[name], [code(v) if v else None for v in by_name])]
    external_names = [code(EXTERNAL_PREFIX + n) if n and not v else None for n, v in zip(names, by_name)]
    if ip:
        ips = [i.strip() for i in _dictionary(table[ip]).to_pylist()]
        choices.append(_mapped(table[ip], [code(v) if (v := resolver.by_ip.get(i)) else None for i in ips]))
        choices.append(_mapped(table[ip], [code(EXTERNAL_PREFIX + i) if i else None for i in ips]))
    choices.append(_mapped(table[name], external_names))
    return pc.coalesce(*choices)


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
    if port not in edge.ports:
        edge.ports |= {port}
    if process and process not in edge.processes:
        edge.processes |= {process}
