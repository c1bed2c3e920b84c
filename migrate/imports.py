"""Imports into `hyperdock/inventory@1`: Azure Migrate exports and App2Container analyses.

What an export says reaches the inventory in the form `assess` reads: SQL Server present becomes
an MSSQLSERVER service (a blocker), web applications become IIS sites, the OS name becomes the
guest's, an environment becomes the `env` tag. What it does not say stays absent, so the decision
is "unknown" rather than a guess. Formats: AWS App2Container User Guide
(`analysis.json`) and Azure Migrate's Export utility / import template (Microsoft Learn,
learn.microsoft.com/azure/migrate/tutorial-discover-import).
"""

from __future__ import annotations

import csv
import math
import ntpath
import re
import uuid
from pathlib import Path
from typing import Any, Iterator

import orjson

from .core.documents import MAX_INTEGER, open_text, parse_port
from .core.errors import InputError
from .inventory import SCHEMA_ID
from .tolerant import name_problem

MIB = 1024 * 1024
# Bounds on what one row may ask for, far above real servers (Hyper-V: at most 256 virtual disks
# and 240 vCPUs per VM, Microsoft's "Plan for Hyper-V scalability", not verified here [U]):
# an export claiming 1e8 disks or web applications would otherwise build 1e8 records.
MAX_ROWS = 1_000_000
MAX_DISKS = 1024
MAX_WEB_APPS = 1000
MAX_CORES = 4096
MAX_MEMORY_MB = MAX_INTEGER // MIB
MAX_ANALYSIS_FILES = 10_000
MAX_ANALYSIS_BYTES = 16 * MIB
_DECIMAL = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")
# Columns of the Azure Migrate Export utility's Discovery_Report sheet (Azure/azure-migrate-export).
DISCOVERY_REPORT = ("Machine Name", "Operating System", "Cores", "Memory (in MB)")
# The server import CSV (Azure Migrate "import" discovery): required columns.
SERVER_IMPORT = ("Server name", "Cores", "Memory", "OS name")
_LIST = re.compile(r"\[(.*)\];?", re.DOTALL)


def _inventory(vms: list[dict], source: str) -> dict:
    return {"schema": SCHEMA_ID, "source": source, "hosts": [{"ComputerName": "imported", "vms": vms}]}


def import_azure_migrate(path: Path) -> dict:
    """Return the inventory in an Azure Migrate Discovery_Report (XLSX or CSV) or server import CSV."""
    rows = list(_rows(path))
    if not rows:
        raise InputError(str(path), "no rows; expected a header and one row per server")
    (_, header), data = rows[0], rows[1:]
    columns = _columns(path, header)
    if all(c in columns for c in DISCOVERY_REPORT):
        vms = [_discovery_row(path, line, _named(columns, row)) for line, row in data if any(_present(v) for v in row)]
        return _inventory(vms, "Azure Migrate Export Discovery_Report")
    if all(c in columns for c in SERVER_IMPORT):
        vms = [_import_row(path, line, _named(columns, row)) for line, row in data if any(_present(v) for v in row)]
        return _inventory(vms, "Azure Migrate server import CSV")
    raise InputError(f"{path}:1", f"unknown columns; expected Azure Migrate's Discovery_Report ({', '.join(DISCOVERY_REPORT)}, …) "
                                  f"or the server import CSV ({', '.join(SERVER_IMPORT)}, …)")


def _rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """Yield (line or row number, cells) from an XLSX (sheet Discovery_Report, else the first) or a CSV.

    A CSV row's number is the line it starts on, so a quote never closed is reported where it opens.
    """
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl  # only for spreadsheets

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
            raise InputError(str(path), f"not a readable XLSX workbook: {exc.__class__.__name__}") from None
        sheet = book["Discovery_Report"] if "Discovery_Report" in book.sheetnames else book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS + 1:
                raise InputError(f"{path}:{number}", f"more than {MAX_ROWS} rows; split the export")
            yield number, list(row)
        return
    with open_text(path) as stream:
        reader = csv.reader(stream, strict=True)
        start = 1
        try:
            for row in reader:
                if start > MAX_ROWS + 1:
                    raise InputError(f"{path}:{start}", f"more than {MAX_ROWS} rows; split the export")
                yield start, row
                start = reader.line_num + 1
        except csv.Error as exc:
            problem = "a quoted value opened on this line is never closed" if "end of data" in str(exc) else exc
            raise InputError(f"{path}:{start}", f"not a readable CSV row: {problem}") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}:{start}", f"not valid {stream.encoding} text: {exc.reason}") from None


def _columns(path: Path, header: list[Any]) -> dict[str, int]:
    """Return {column name: index}; raise InputError for a name that appears twice."""
    columns: dict[str, int] = {}
    for i, cell in enumerate(header):
        name = str(cell).strip() if cell is not None else ""
        if not name:
            continue
        if name in columns:
            raise InputError(f"{path}:1", f"column {name[:60]!r} appears twice (columns {columns[name] + 1} and {i + 1}); "
                                          "expected each column once")
        columns[name] = i
    return columns


def _named(columns: dict[str, int], row: list[Any]) -> dict[str, Any]:
    return {name: row[i] if i < len(row) else None for name, i in columns.items()}


def _present(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _number(path: Path, line: int, row: dict, column: str, required: bool = False,
            maximum: int = MAX_INTEGER) -> int | None:
    """Return a whole number, at most `maximum`; -1 (the exports' "unknown") and blanks are None.

    Only ASCII digits count: `4_4_3`, other scripts' digits, `inf` and `1e30` are refused.
    """
    value = row.get(column)
    if not _present(value):
        if required:
            raise InputError(f"{path}:{line}", f"{column}: required value is missing")
        return None
    number: int | float
    if isinstance(value, bool):
        number = math.nan
    elif isinstance(value, (int, float)):
        number = value
    else:
        text = str(value).strip()
        number = float(text) if _DECIMAL.fullmatch(text) else math.nan
    if not math.isfinite(number):
        raise InputError(f"{path}:{line}", f"{column}: expected a number, got {str(value)[:40]!r}")
    if number < 0:
        return None
    if number > maximum:
        raise InputError(f"{path}:{line}", f"{column}: {str(value)[:40]} is more than hyperdock accepts ({maximum})")
    return int(number)


def _text(row: dict, column: str) -> str:
    value = row.get(column)
    return str(value).strip() if _present(value) else ""


def _list(value: Any) -> list[str]:
    """Parse the exports' lists: `[a,b];` (Discovery_Report) or `a;b` / `a,b`."""
    text = str(value or "").strip()
    match = _LIST.fullmatch(text)
    inner = match.group(1) if match else text
    return [item.strip() for item in re.split(r"[;,]", inner) if item.strip()]


def _vm_id(kind: str, key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hyperdock-import/{kind}/{key.lower()}"))


def _discovery_row(path: Path, line: int, row: dict) -> dict:
    name = _text(row, "Machine Name")
    problem = name_problem(name)
    if problem:
        raise InputError(f"{path}:{line}", f"Machine Name: {problem}")
    cores = _number(path, line, row, "Cores", maximum=MAX_CORES)
    memory = _number(path, line, row, "Memory (in MB)", maximum=MAX_MEMORY_MB)
    vm: dict[str, Any] = {
        "Name": name,
        "VMId": _text(row, "Machine ID") or _vm_id("azure-migrate", name),
        "State": {"ON": "Running", "OFF": "Off"}.get(_text(row, "Power Stats").upper(), None),
        "ProcessorCount": cores,
        "MemoryStartup": memory * MIB if memory is not None else None,
        "Generation": {"BIOS": 1, "EFI": 2, "UEFI": 2}.get(_text(row, "Boot Type").upper()),
        "NetworkAdapters": [{"Name": "nic", "IPAddresses": _list(row.get("IP Addresses")),
                             "MacAddress": (_list(row.get("MAC Addresses")) or [""])[0]}],
        "HardDrives": [{"Path": f"disk{i}"} for i in range(_number(path, line, row, "Total Disks", maximum=MAX_DISKS) or 0)],
        "Tags": {"env": _text(row, "Environment").lower()} if _text(row, "Environment") else {},
    }
    guest: dict[str, Any] = {"OSName": _text(row, "Operating System")}
    sql = _text(row, "Is SQL Service Present").lower()
    if sql in ("true", "yes", "1"):
        guest["Services"] = [{"Name": "MSSQLSERVER", "StartMode": "Auto", "PathName": "sqlservr.exe"}]
    web_apps = _number(path, line, row, "Web Applications Count", maximum=MAX_WEB_APPS)
    if web_apps:
        guest["Features"] = ["Web-Server"]
        guest["IISSites"] = [{"Name": f"web-app-{i + 1}", "Bindings": ["http/*:80:"]} for i in range(web_apps)]
    vm["Guest"] = guest
    return {k: v for k, v in vm.items() if v is not None}


def _import_row(path: Path, line: int, row: dict) -> dict:
    name = _text(row, "Server name")
    problem = name_problem(name)
    if problem:
        raise InputError(f"{path}:{line}", f"Server name: {problem}")
    cores = _number(path, line, row, "Cores", required=True, maximum=MAX_CORES)
    memory = _number(path, line, row, "Memory", required=True, maximum=MAX_MEMORY_MB)
    used = _number(path, line, row, "Memory utilization percentage")
    vm: dict[str, Any] = {
        "Name": name,
        "VMId": _vm_id("server-import", name),
        "ProcessorCount": cores,
        "MemoryStartup": memory * MIB,
        "NetworkAdapters": [{"Name": "nic", "IPAddresses": _list(row.get("IP address")),
                             "MacAddress": (_list(row.get("MAC address")) or [""])[0]}],
        "HardDrives": [{"Path": f"disk{i}"} for i in range(_number(path, line, row, "Number of disks", maximum=MAX_DISKS) or 0)],
        "Guest": {"OSName": _text(row, "OS name"), "OSVersion": _text(row, "OS version")},
    }
    if used is not None and 0 < used <= 100:
        vm["MemoryAssigned"] = memory * MIB * used // 100  # right-sizing from observed use
    firmware = _text(row, "Firmware type").upper()
    if firmware in ("BIOS", "UEFI"):
        vm["Generation"] = 1 if firmware == "BIOS" else 2
    return vm


def import_app2container(folder: Path) -> dict:
    """Return the inventory described by App2Container `analysis.json` files under `folder`."""
    files = _analysis_files(folder)
    servers: dict[str, dict] = {}
    for file in files:
        document = _read_analysis(file)
        info = document.get("analysisInfo") if isinstance(document, dict) else None
        if not isinstance(info, dict):
            raise InputError(str(file), "required field is missing; expected App2Container's analysis.json", "analysisInfo")
        _add_app(servers, folder, file, info)
    vms = [servers[key] for key in sorted(servers)]
    return _inventory(vms, "AWS App2Container analysis.json")


def _analysis_files(folder: Path) -> list[Path]:
    """Return the analysis.json files under `folder`, at most MAX_ANALYSIS_FILES of them."""
    files: list[Path] = []
    try:
        if folder.is_dir():
            for file in folder.rglob("analysis.json"):
                files.append(file)
                if len(files) > MAX_ANALYSIS_FILES:
                    raise InputError(str(folder), f"more than {MAX_ANALYSIS_FILES} analysis.json files; import the workspaces in parts")
    except OSError as exc:
        raise InputError(str(exc.filename or folder), f"cannot read folder: {exc.strerror}") from None
    if not files:
        raise InputError(str(folder), "no analysis.json found; expected App2Container's <app-id>/analysis.json files")
    return sorted(files)


def _read_analysis(file: Path) -> Any:
    """Return one analysis.json parsed: UTF-8 (with or without BOM), at most MAX_ANALYSIS_BYTES."""
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_ANALYSIS_BYTES + 1)
    except OSError as exc:
        raise InputError(str(file), f"cannot read file: {exc.strerror}") from None
    if len(raw) > MAX_ANALYSIS_BYTES:
        raise InputError(str(file), f"larger than {MAX_ANALYSIS_BYTES // MIB} MiB; not an App2Container analysis.json")
    try:
        return orjson.loads(raw.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{file}:{exc.lineno}", f"not valid JSON: {exc.msg}") from None


def _list_field(file: Path, info: dict, name: str) -> list:
    """Return `analysisInfo.<name>` as a list (absent: empty); raise InputError for anything else."""
    value = info.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(str(file), f"expected a list, got {type(value).__name__}", f"analysisInfo.{name}")
    return value


def _a2c_port(file: Path, port: Any) -> int:
    """Return a port from an A2C `ports` entry (a number, or an object with localPort)."""
    value = port.get("localPort") if isinstance(port, dict) else port
    if isinstance(value, int) and not isinstance(value, bool):
        number = value if 0 < value <= 65535 else None
    else:
        number = parse_port(value.strip()) if isinstance(value, str) else None
    if number is None:
        raise InputError(str(file), f"expected a port number (1-65535), got {str(value)[:40]!r}", "analysisInfo.ports")
    return number


def _add_app(servers: dict[str, dict], folder: Path, file: Path, info: dict) -> None:
    app_type = str(info.get("appType") or "").lower()
    if app_type not in ("iis", "service"):
        raise InputError(str(file), f"expected IIS or service, got {info.get('appType')!r}", "analysisInfo.appType")
    key, label, ip = _a2c_server(folder, file, info)
    host = info.get("hostInfo") if isinstance(info.get("hostInfo"), dict) else {}
    vm = servers.setdefault(key, {
        "Name": f"a2c-{re.sub(r'[^A-Za-z0-9]+', '-', label).strip('-') or 'server'}",
        "VMId": _vm_id("app2container", key),
        "NetworkAdapters": [{"Name": "nic", "IPAddresses": [ip] if ip else []}],
        "Guest": {"OSName": str(host.get("os") or "Windows Server"), "OSVersion": str(host.get("osVersion") or ""),
                  "Features": [], "Services": [], "IISSites": [], "AppPools": [], "Listeners": []},
    })
    guest = vm["Guest"]
    guest["Features"] = sorted(set(guest["Features"]) | {str(f) for f in _list_field(file, info, "features")})
    ports: list[tuple[int, str]] = []
    for port in _list_field(file, info, "ports"):
        number = _a2c_port(file, port)
        protocol = str(port.get("protocol") or "") if isinstance(port, dict) else ""
        ports.append((number, protocol.strip().lower()))
    name = str(info.get("appName") or info.get("appId") or "app")
    if app_type == "iis":
        pool = str(info.get("appPoolName") or "DefaultAppPool")
        guest["IISSites"].append({
            "Name": name, "Bindings": [_a2c_binding(p, proto) for p, proto in ports] or ["http/*:80:"],
            "PhysicalPath": str(info.get("sitePhysicalPath") or ""), "ApplicationPool": pool,
            # The analyze script writes siteUsesWindowsAuth; the User Guide's simple example isSiteUsingWindowsAuth.
            "WindowsAuthentication": _truthy(info.get("siteUsesWindowsAuth")) or _truthy(info.get("isSiteUsingWindowsAuth")),
            "Applications": [{"Path": "/" + str(a.get("webAppName", "")).strip("/"), "PhysicalPath": str(a.get("webAppPhysicalPath") or ""),
                              "ApplicationPool": str(a.get("webAppPool") or pool)}
                             for a in _list_field(file, info, "discoveredWebApps") if isinstance(a, dict)],
        })
        app_pool = {"Name": pool, "IdentityType": str(info.get("poolIdentityType") or "ApplicationPoolIdentity")}
        runtime = _a2c_runtime(info)
        if runtime is not None:
            app_pool["ManagedRuntimeVersion"] = runtime
        guest["AppPools"].append(app_pool)
        if "Web-Server" not in guest["Features"]:
            guest["Features"].append("Web-Server")
    else:
        guest["Services"].append({"Name": str(info.get("serviceName") or name), "StartMode": "Auto", "State": "Running",
                                  "PathName": _a2c_service_path(info)})
    guest["Listeners"] += [{"LocalAddress": "0.0.0.0", "LocalPort": p, "ProcessName": name} for p, _ in ports]


def _a2c_server(folder: Path, file: Path, info: dict) -> tuple[str, str, str]:
    """Return (key, label, IP) of the server an analysis describes.

    A2C's Windows analyze script writes `appServerIp: "localhost"` on every server, so for
    localhost the workspace the file sits in tells servers apart: `<workspace>/<appId>/analysis.json`.
    """
    ip = str(info.get("appServerIp") or "").strip()
    if ip and ip.lower() not in ("localhost", "127.0.0.1", "::1"):
        return ip.lower(), ip, ip
    app_dir = file.parent
    app_id = str(info.get("appId") or "").strip().lower()
    workspace = app_dir.parent if app_dir != folder and app_dir.name.lower() == app_id else app_dir
    relative = workspace.relative_to(folder).as_posix() if workspace != folder else ""
    label = relative or folder.resolve().name or "localhost"
    return f"localhost/{label.lower()}", label, ""


def _a2c_binding(port: int, protocol: str) -> str:
    """Return an IIS binding ("protocol/information") for an A2C IIS port."""
    if protocol.startswith("net."):
        return f"{protocol}/{port}:*"
    return f"{'https' if protocol == 'https' else 'http'}/*:{port}:"


def _a2c_runtime(info: dict) -> str | None:
    """Return the app pool's CLR version as IIS writes it: "v2.0", "v4.0", or "" (No Managed Code).

    A2C copies the pool's managedRuntimeVersion (the analyze script's `dotNetVersion`; the User
    Guide's simple example spells it `dotnetVersion`). None when neither key is there.
    """
    for key in ("dotNetVersion", "dotnetVersion"):
        if key in info:
            text = str(info[key] or "").strip()
            if not text or text.lower().startswith("no managed"):
                return ""
            return text if text[:1] in "vV" else f"v{text}"
    return None


_EXE = re.compile(r'\s*(?:"([^"]+)"|(\S+?\.exe))(?:\s+(.*))?', re.IGNORECASE | re.DOTALL)
_ARG = re.compile(r'"[^"]*"|\S+')


def _a2c_service_path(info: dict) -> str:
    """Return a service's PathName: the quoted executable (`serviceDir` + `serviceBinary`), then its arguments.

    `cmdline` starts with the executable itself when A2C read it from the process; only what
    follows it is an argument.
    """
    directory = str(info.get("serviceDir") or "").strip()
    binary = str(info.get("serviceBinary") or "").strip()
    raw = info.get("cmdline") or []
    cmdline = [str(a) for a in raw] if isinstance(raw, list) else _ARG.findall(str(raw))
    extra: list[str] = []
    match = _EXE.fullmatch(binary)
    if match and match.group(3):  # the analyze script can leave the service's arguments on serviceBinary
        binary, extra = match.group(1) or match.group(2), _ARG.findall(match.group(3))
    if binary and directory and not ntpath.isabs(binary):
        binary = ntpath.join(directory, binary)
    if cmdline and (not binary or _same_exe(cmdline[0], binary)):
        binary = binary or cmdline[0].strip('"')
        cmdline = cmdline[1:]
    arguments = " ".join(a if " " not in a or a.startswith('"') else f'"{a}"' for a in (cmdline or extra))
    if not binary:
        return arguments
    return f'"{binary}" {arguments}'.strip()


def _same_exe(first: str, binary: str) -> bool:
    """True when a command line's first element names `binary` (full path or file name)."""
    first = first.strip().strip('"').lower()
    binary = binary.lower()
    return first == binary or ntpath.basename(first) == ntpath.basename(binary)


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes")
