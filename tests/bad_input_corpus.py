"""The bad-input corpus: inputs a careless or hostile user gives `assess`, `generate`, both imports
and `policy check`, each run in-process through the command line's `main()`.

`run_case` classifies each run: `clean` (exit 2, one line `hyperdock: error: …` naming the file,
line or field, nothing under the case's folder changed), `traceback` (an exception escaped, or
hyperdock's own internal-error line), `partial` (the folder changed), `hang` (the guard fired),
`accepted` (exit 0: bad input taken silently) or `other`. Used by tests/test_bad_input_corpus.py
and benchmarks/bad_input_corpus.py.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import signal
import traceback
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from conftest import guest, inventory, vm

HANG_SECONDS = 20
HEADER = "Source server name,Destination server name,Destination IP,Destination port\n"


@dataclass(frozen=True)
class Case:
    id: str
    command: str
    build: Callable[[Path], list[str]]  # writes the case's files under a folder; returns the argv
    expect: str = ""  # text the error line must contain (a file name, a field)


@dataclass
class Outcome:
    category: str
    code: int | None
    stderr: str
    detail: str = ""


class _Hang(BaseException):
    pass


def _snapshot(folder: Path) -> dict[str, tuple]:
    return {str(p.relative_to(folder)): ((s := p.lstat()).st_size, s.st_mtime_ns, p.is_dir())
            for p in sorted(folder.rglob("*"))}


def run_case(case: Case, folder: Path, check_message: bool = True) -> Outcome:
    """Build the case under `folder`, run it in-process and classify what happened.

    `check_message=False` counts any one-line error as clean (to measure code whose messages differ).
    """
    from migrate.cli import main

    folder.mkdir(parents=True, exist_ok=True)
    argv = case.build(folder)
    before = _snapshot(folder)
    err, out = io.StringIO(), io.StringIO()
    escaped = None
    code: int | None = None
    previous = signal.signal(signal.SIGALRM, _raise_hang)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        with redirect_stderr(err), redirect_stdout(out):
            code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except _Hang:
        return Outcome("hang", None, err.getvalue())
    except BaseException as exc:  # noqa: BLE001 - what escapes is what the corpus counts
        escaped = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    stderr = err.getvalue()
    if escaped or "Traceback" in stderr or code == 70:
        return Outcome("traceback", code, stderr, escaped or stderr.strip()[-200:])
    if code == 0:
        return Outcome("accepted", code, stderr)
    if _snapshot(folder) != before:
        return Outcome("partial", code, stderr)
    lines = stderr.splitlines()
    if code == 2 and len(lines) == 1 and stderr.endswith("\n") and lines[0].startswith("hyperdock: error: ") \
            and (case.expect in lines[0] or not check_message):
        return Outcome("clean", code, stderr)
    return Outcome("other", code, stderr)


def _raise_hang(signum, frame):
    raise _Hang()


# ---------------------------------------------------------------------------------------- builders

def _base_inventory() -> dict:
    return inventory(vm("WEB01", ip="10.0.0.1", guest_data=guest(
        Features=["Web-Server"], IISSites=[{"Name": "shop", "Bindings": ["http/*:80:"], "PhysicalPath": "C:\\inetpub\\shop",
                                            "ApplicationPool": "shop"}],
        AppPools=[{"Name": "shop", "ManagedRuntimeVersion": "v4.0"}])), vm("APP02", ip="10.0.0.2"))


def _set(document: dict, dotted: str, value) -> dict:
    """Return a copy of `document` with `a/0/b` set to `value` (DELETE removes it)."""
    document = copy.deepcopy(document)
    target = document
    *path, last = dotted.split("/")
    for key in path:
        target = target[int(key)] if key.isdigit() else target[key]
    if value is DELETE:
        del target[int(last) if last.isdigit() else last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return document


DELETE = object()
VM0 = "hosts/0/vms/0"
GUEST0 = f"{VM0}/Guest"


def _write(folder: Path, name: str, content: bytes | str | dict | list) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, (dict, list)):
        content = json.dumps(content, indent=1)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _assess(name: str, content, *extra: str) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        path = _write(folder, name, content)
        return ["assess", str(path), "--out", str(folder / "out"), "--quiet", *extra]
    return build


def _assess_with_csv(text: str | bytes) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        inv = _write(folder, "inv.json", _base_inventory())
        deps = _write(folder, "deps.csv", text)
        return ["assess", str(inv), "--dependencies", str(deps), "--out", str(folder / "out"), "--quiet"]
    return build


def _assess_args(*args: str, setup: Callable[[Path], None] | None = None) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        inv = _write(folder, "inv.json", _base_inventory())
        if setup:
            setup(folder)
        return ["assess", str(inv), *[a.format(folder=folder) for a in args]]
    return build


_PLAN_CACHE: dict[str, bytes] = {}


def valid_plan() -> dict:
    """A plan.json `assess` writes for the base inventory (made once, in-process)."""
    if "plan" not in _PLAN_CACHE:
        import tempfile

        from migrate.cli import main

        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            inv = _write(folder, "inv.json", _base_inventory())
            assert main(["assess", str(inv), "--out", str(folder / "out"), "--quiet"]) == 0
            _PLAN_CACHE["plan"] = (folder / "out" / "plan.json").read_bytes()
    return json.loads(_PLAN_CACHE["plan"])


def _container_index(plan: dict) -> int:
    return next(i for i, w in enumerate(plan["workloads"]) if w["target"] in ("process", "hyperv"))


def _generate(content: Callable[[], bytes | str | dict | list] | bytes | str, *extra: str,
              setup: Callable[[Path], None] | None = None) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        plan_dir = folder / "plan"
        plan_dir.mkdir()
        _write(plan_dir, "plan.json", content() if callable(content) else content)
        if setup:
            setup(folder)
        return ["generate", str(plan_dir), *[a.format(folder=folder) for a in extra]]
    return build


def _plan_with(mutate: Callable[[dict], None]) -> Callable[[], dict]:
    def make() -> dict:
        plan = valid_plan()
        mutate(plan)
        return plan
    return make


def _import_am(name: str, content: bytes | str, out: str = "{folder}/inv.json") -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        path = _write(folder, name, content)
        return ["import", "azure-migrate", str(path), "--out", out.format(folder=folder)]
    return build


DISCOVERY_HEADER = ["Machine Name", "Operating System", "Cores", "Memory (in MB)", "Total Disks", "Web Applications Count"]


def _discovery(**changes: str) -> str:
    row = {"Machine Name": "WEB01", "Operating System": "Windows Server 2019", "Cores": "2", "Memory (in MB)": "4096",
           "Total Disks": "1", "Web Applications Count": "1", **changes}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DISCOVERY_HEADER)
    writer.writerow([row[c] for c in DISCOVERY_HEADER])
    return buffer.getvalue()


def _a2c_info(**changes) -> dict:
    info = {"hostInfo": {"os": "Microsoft Windows Server 2019 Datacenter", "osVersion": "10.0.17763"},
            "appId": "iis-shop-1", "appServerIp": "10.1.0.5", "appType": "IIS", "appName": "Shop",
            "ports": [{"localPort": 80, "protocol": "http"}], "features": ["Web-Server"], "appPoolName": "Shop",
            "discoveredWebApps": []}
    info.update(changes)
    return {"analysisInfo": info}


def _import_a2c(content: bytes | str | dict | list | None, name: str = "ws/iis-shop-1/analysis.json",
                out: str = "{folder}/inv.json", source: str = "{folder}/ws") -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        (folder / "ws").mkdir(exist_ok=True)
        if content is not None:
            _write(folder, name, content)
        return ["import", "app2container", source.format(folder=folder), "--out", out.format(folder=folder)]
    return build


def _policy(*args: str, files: dict[str, bytes | str | dict | list] | None = None) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        for name, content in (files or {}).items():
            _write(folder, name, content)
        return ["policy", "check", *[a.format(folder=folder) for a in args]]
    return build


# ---------------------------------------------------------------------------------------- hostile texts

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9))
ALIAS_BOMB_INVENTORY = ("schema: hyperdock/inventory@1\nbomb:\n" + "".join("  " + line + "\n" for line in ALIAS_BOMB.splitlines())
                        + "hosts:\n- ComputerName: H\n  vms: [*j, *j, *j]\n")
DEEP_YAML_FLOW = "schema: hyperdock/inventory@1\nhosts: " + "[" * 100_000
DEEP_YAML_BLOCK = "schema: hyperdock/inventory@1\nhosts:\n" + "".join(" " * i + "- \n" for i in range(1, 300))
DEEP_YAML_COMPACT = "schema: hyperdock/inventory@1\nhosts:\n" + "- " * 5000 + "x\n"
DEEP_JSON = "[" * 100_000
DEEP_JSON_OBJECTS = '{"a":' * 5000 + "1" + "}" * 5000
HUGE_INT = "1" + "0" * 5000
BASE = _base_inventory()


def _json_text(document: dict, placeholder: str, raw: str) -> str:
    """The document as JSON with the string `"<placeholder>"` replaced by raw JSON text (NaN, 1e400, …)."""
    return json.dumps(document).replace(json.dumps(placeholder), raw)


def _raw(dotted: str, raw: str) -> str:
    return _json_text(_set(BASE, dotted, "@@RAW@@"), "@@RAW@@", raw)


# ---------------------------------------------------------------------------------------- the cases

def _inventory_cases() -> list[Case]:
    c = []
    add = lambda id_, content, expect="", name="inv.json", *extra: c.append(  # noqa: E731
        Case(f"assess/{id_}", "assess", _assess(name, content, *extra), expect))
    add("not-json", b"{ this is : not json", "inv.json:1")
    add("json-trailing-garbage", json.dumps(BASE) + " trailing", "inv.json")
    add("json-comment", "{ // comment\n}", "inv.json:1")
    add("yaml-syntax", b"schema: [unclosed\nhosts: x\n", "inv.yaml", "inv.yaml")
    add("yaml-tab-indent", b"schema: hyperdock/inventory@1\nhosts:\n\t- x\n", "inv.yaml", "inv.yaml")
    add("empty", b"", "file is empty")
    add("whitespace-only", b"  \n\n\t \n", "file is empty")
    add("bom-only", b"\xef\xbb\xbf", "file is empty")
    add("not-utf8", "schema: caf\u00e9".encode("latin-1"), "not valid UTF-8", "inv.yaml")
    add("utf16-odd-bytes", b"\xff\xfe{\x00\"\x00a", "not valid UTF-16", "inv.json")
    add("binary-garbage", bytes(range(256)) * 4, "inv.bin", "inv.bin")
    add("wrong-schema", _set(BASE, "schema", "hyperdock/inventory@9"), "schema")
    add("missing-schema", _set(BASE, "schema", DELETE), "schema")
    add("schema-number", _set(BASE, "schema", 1), "schema")
    add("missing-hosts", _set(BASE, "hosts", DELETE), "hosts")
    add("hosts-string", _set(BASE, "hosts", "HV01"), "hosts")
    add("hosts-numbers", _set(BASE, "hosts", [1, 2]), "hosts[0]")
    add("top-level-list", [1, 2], "expected an object")
    add("top-level-scalar-yaml", b"just text\n", "expected an object", "inv.yaml")
    add("top-level-null-yaml", b"~\n", "expected an object", "inv.yaml")
    add("host-name-missing", _set(BASE, "hosts/0/ComputerName", DELETE), "hosts[0].ComputerName")
    add("host-processors-zero", _set(BASE, "hosts/0/LogicalProcessorCount", 0), "LogicalProcessorCount")
    add("host-memory-negative", _set(BASE, "hosts/0/MemoryCapacity", -1), "MemoryCapacity")
    add("host-memory-1e30", _raw("hosts/0/MemoryCapacity", "1e30"), "MemoryCapacity")
    add("vms-string", _set(BASE, "hosts/0/vms", "none"), "hosts[0].vms")
    add("vm-number", _set(BASE, f"{VM0}", 7), "hosts[0].vms[0]")
    add("missing-vmid", _set(BASE, f"{VM0}/VMId", DELETE), "VMId")
    add("vmid-object", _set(BASE, f"{VM0}/VMId", {"a": 1}), "VMId")
    add("missing-name", _set(BASE, f"{VM0}/Name", DELETE), "hosts[0].vms[0].Name")
    add("name-null", _set(BASE, f"{VM0}/Name", None), "Name")
    add("name-empty", _set(BASE, f"{VM0}/Name", ""), "Name")
    add("name-list", _set(BASE, f"{VM0}/Name", ["a"]), "Name")
    add("name-nan-text", _set(BASE, f"{VM0}/Name", "NaN"), "Name")
    add("name-blank", _set(BASE, f"{VM0}/Name", "   "), "Name")
    add("name-nan-json", _raw(f"{VM0}/Name", "NaN"), "inv.json:1")
    add("name-infinity-json", _raw(f"{VM0}/Name", "Infinity"), "inv.json:1")
    add("name-nan-yaml", "schema: hyperdock/inventory@1\nhosts:\n- ComputerName: H\n  vms:\n  - {Name: .nan, VMId: a}\n",
        "Name", "inv.yaml")
    add("name-inf-yaml", "schema: hyperdock/inventory@1\nhosts:\n- ComputerName: H\n  vms:\n  - {Name: -.inf, VMId: a}\n",
        "Name", "inv.yaml")
    add("name-date-yaml", "schema: hyperdock/inventory@1\nhosts:\n- ComputerName: H\n  vms:\n  - {Name: 2026-01-01, VMId: a}\n",
        "Name", "inv.yaml")
    add("name-binary-yaml", "schema: hyperdock/inventory@1\nhosts:\n- ComputerName: H\n  vms:\n  - {Name: !!binary aGk=, VMId: a}\n",
        "Name", "inv.yaml")
    add("name-lone-surrogate-json", _raw(f"{VM0}/Name", '"web\\ud800"'), "inv.json:1")
    add("name-lone-surrogate-yaml", 'schema: hyperdock/inventory@1\nhosts:\n- ComputerName: H\n  vms:\n  - {Name: "a\\ud800", VMId: a}\n',
        "inv.yaml:5", "inv.yaml")
    add("python-tag-yaml", "schema: !!python/object:os.system {}\nhosts: []\n", "inv.yaml", "inv.yaml")
    add("set-tag-yaml", "schema: hyperdock/inventory@1\nhosts:\n- ComputerName: !!set {a, b}\n", "ComputerName", "inv.yaml")
    add("two-yaml-documents", "schema: hyperdock/inventory@1\nhosts: []\n---\nx: 1\n", "inv.yaml", "inv.yaml")
    add("undefined-alias", "schema: hyperdock/inventory@1\nhosts: *nope\n", "inv.yaml", "inv.yaml")
    add("alias-bomb", ALIAS_BOMB_INVENTORY, "alias", "inv.yaml")
    add("deep-yaml-flow", DEEP_YAML_FLOW, "nested deeper", "inv.yaml")
    add("deep-yaml-block", DEEP_YAML_BLOCK, "nested deeper", "inv.yaml")
    add("deep-yaml-compact", DEEP_YAML_COMPACT, "nested deeper", "inv.yaml")
    add("deep-json-lists", DEEP_JSON, "inv.json:1")
    add("deep-json-objects", DEEP_JSON_OBJECTS, "inv.json:1")
    add("processors-text", _set(BASE, f"{VM0}/ProcessorCount", "two"), "ProcessorCount")
    add("processors-1e30", _raw(f"{VM0}/ProcessorCount", "1e30"), "ProcessorCount")
    add("processors-5000-digits", _raw(f"{VM0}/ProcessorCount", HUGE_INT), "inv.json:1")
    add("processors-2^64", _raw(f"{VM0}/ProcessorCount", str(2 ** 64)), "ProcessorCount")
    add("processors-negative", _set(BASE, f"{VM0}/ProcessorCount", -1), "ProcessorCount")
    add("processors-fraction", _set(BASE, f"{VM0}/ProcessorCount", 1.5), "ProcessorCount")
    add("processors-boolean", _set(BASE, f"{VM0}/ProcessorCount", True), "ProcessorCount")
    add("processors-100k", _set(BASE, f"{VM0}/ProcessorCount", 100_000), "ProcessorCount")
    add("memory-1e400", _raw(f"{VM0}/MemoryStartup", "1e400"), "inv.json:1")
    add("memory-huge-yaml-int", "schema: hyperdock/inventory@1\nhosts:\n- ComputerName: H\n  vms:\n  - {Name: a, VMId: a, MemoryStartup: "
        + HUGE_INT[:400] + "}\n", "MemoryStartup", "inv.yaml")
    add("memory-inf-yaml", "schema: hyperdock/inventory@1\nhosts:\n- ComputerName: H\n  vms:\n  - {Name: a, VMId: a, MemoryStartup: .inf}\n",
        "MemoryStartup", "inv.yaml")
    add("state-unknown", _set(BASE, f"{VM0}/State", "Exploded"), "State")
    add("state-arabic-digit", _set(BASE, f"{VM0}/State", "\u0662"), "State")
    add("state-superscript", _set(BASE, f"{VM0}/State", "\u00b2"), "State")
    add("state-99", _set(BASE, f"{VM0}/State", 99), "State")
    add("state-list", _set(BASE, f"{VM0}/State", [2]), "State")
    add("generation-3", _set(BASE, f"{VM0}/Generation", 3), "Generation")
    add("dynamic-memory-text", _set(BASE, f"{VM0}/DynamicMemoryEnabled", "maybe"), "DynamicMemoryEnabled")
    add("collected-text", _set(BASE, "collectedAt", "yesterday"), "collectedAt")
    add("collected-date-overflow", _set(BASE, "collectedAt", "/Date(99999999999999999)/"), "collectedAt")
    add("collected-date-negative", _set(BASE, "collectedAt", "/Date(-99999999999999999)/"), "collectedAt")
    add("collected-date-5000-digits", _set(BASE, "collectedAt", f"/Date({HUGE_INT})/"), "collectedAt")
    add("collected-year-1-offset", _set(BASE, "collectedAt", "0001-01-01T00:00:00+01:00"), "collectedAt")
    add("collected-list", _set(BASE, "collectedAt", [1]), "collectedAt")
    add("tags-list", _set(BASE, f"{VM0}/Tags", ["a"]), "Tags")
    add("tag-value-object", _set(BASE, f"{VM0}/Tags", {"app": {"x": 1}}), "Tags.app")
    add("tag-value-nan", _raw(f"{VM0}/Tags/app", "NaN"), "inv.json:1")
    add("adapters-number", _set(BASE, f"{VM0}/NetworkAdapters", 5), "NetworkAdapters")
    add("ip-object", _set(BASE, f"{VM0}/NetworkAdapters/0/IPAddresses", [{"a": 1}]), "IPAddresses[0]")
    add("vlan-text", _set(BASE, f"{VM0}/NetworkAdapters/0/VlanId", "x"), "VlanId")
    add("disk-size-1e30", _raw(f"{VM0}/HardDrives/0/Size", "1e30"), "Size")
    add("disk-type-unknown", _set(BASE, f"{VM0}/HardDrives/0/VhdType", "Floppy"), "VhdType")
    add("guest-string", _set(BASE, f"{GUEST0}", "windows"), "Guest")
    add("listener-port-70000", _set(BASE, f"{GUEST0}/Listeners/0/LocalPort", 70000), "LocalPort")
    add("listener-port-0", _set(BASE, f"{GUEST0}/Listeners/0/LocalPort", 0), "LocalPort")
    add("listener-port-negative", _set(BASE, f"{GUEST0}/Listeners/0/LocalPort", -5), "LocalPort")
    add("listener-port-text", _set(BASE, f"{GUEST0}/Listeners/0/LocalPort", "443"), "LocalPort")
    add("listener-port-1e30", _raw(f"{GUEST0}/Listeners/0/LocalPort", "1e30"), "LocalPort")
    add("listener-port-missing", _set(BASE, f"{GUEST0}/Listeners/0/LocalPort", DELETE), "LocalPort")
    add("binding-port-underscores", _set(BASE, f"{GUEST0}/IISSites/0/Bindings", ["http/*:4_4_3:"]), "Bindings[0]")
    add("binding-port-arabic", _set(BASE, f"{GUEST0}/IISSites/0/Bindings", ["http/*:\u0664\u0664\u0663:"]), "Bindings[0]")
    add("binding-port-70000", _set(BASE, f"{GUEST0}/IISSites/0/Bindings", ["https/*:70000:"]), "Bindings[0]")
    add("binding-port-0", _set(BASE, f"{GUEST0}/IISSites/0/Bindings", ["http/*:0:"]), "Bindings[0]")
    add("binding-port-empty", _set(BASE, f"{GUEST0}/IISSites/0/Bindings", ["http/*::"]), "Bindings[0]")
    add("binding-port-superscript", _set(BASE, f"{GUEST0}/IISSites/0/Bindings", ["http/*:8\u00b2:"]), "Bindings[0]")
    add("binding-object", _set(BASE, f"{GUEST0}/IISSites/0/Bindings", [{"port": 80}]), "Bindings[0]")
    add("sites-number", _set(BASE, f"{GUEST0}/IISSites", 3), "IISSites")
    add("site-name-missing", _set(BASE, f"{GUEST0}/IISSites/0/Name", DELETE), "IISSites[0].Name")
    add("service-string", _set(BASE, f"{GUEST0}/Services", ["svc"]), "Services[0]")
    add("service-name-missing", _set(BASE, f"{GUEST0}/Services", [{"DisplayName": "x"}]), "Services[0].Name")
    add("service-start-mode-unknown", _set(BASE, f"{GUEST0}/Services", [{"Name": "s", "StartMode": "Sometimes"}]), "StartMode")
    add("connection-port-99999", _set(BASE, f"{GUEST0}/Connections", [{"RemoteAddress": "10.0.0.2", "RemotePort": 99999}]),
        "RemotePort")
    add("connection-address-missing", _set(BASE, f"{GUEST0}/Connections", [{"RemotePort": 443}]), "RemoteAddress")
    add("feature-object-without-name", _set(BASE, f"{GUEST0}/Features", [{"Installed": True}]), "Features[0].Name")
    add("feature-number", _set(BASE, f"{GUEST0}/Features", [5]), "Features[0]")
    add("dotnet-release-1e300", _raw(f"{GUEST0}/DotNetFrameworkRelease", "1e300"), "DotNetFrameworkRelease")
    add("app-pool-identity-unknown", _set(BASE, f"{GUEST0}/AppPools/0/IdentityType", "Root"), "IdentityType")
    add("task-name-missing", _set(BASE, f"{GUEST0}/ScheduledTasks", [{"Execute": "x.exe"}]), "TaskName")
    c.append(Case("assess/file-missing", "assess",
                  lambda folder: ["assess", str(folder / "nope.json"), "--out", str(folder / "out"), "--quiet"], "nope.json"))
    c.append(Case("assess/file-is-folder", "assess",
                  lambda folder: ((folder / "inv.json").mkdir(), ["assess", str(folder / "inv.json"), "--out", str(folder / "out")])[1],
                  "inv.json"))
    c.append(Case("assess/second-file-bad", "assess", lambda folder: [
        "assess", str(_write(folder, "good.json", BASE)), str(_write(folder, "bad.json", b"{")), "--out", str(folder / "out")],
        "bad.json"))
    return c


def _csv_cases() -> list[Case]:
    cases = {
        "missing-column": ("Source server name,Destination IP,Destination port\nA,10.0.0.2,443\n", "deps.csv:1"),
        "port-text": (HEADER + "A,B,10.0.0.2,443\nA,B,10.0.0.2,https\n", "deps.csv:3"),
        "port-underscores": (HEADER + "A,B,10.0.0.2,4_4_3\n", "deps.csv:2"),
        "port-arabic": (HEADER + "A,B,10.0.0.2,\u0664\u0664\u0663\n", "deps.csv:2"),
        "port-70000": (HEADER + "A,B,10.0.0.2,70000\n", "deps.csv:2"),
        "port-0": (HEADER + "A,B,10.0.0.2,0\n", "deps.csv:2"),
        "port-negative": (HEADER + "A,B,10.0.0.2,-1\n", "deps.csv:2"),
        "port-empty": (HEADER + "A,B,10.0.0.2,\n", "deps.csv:2"),
        "port-5000-digits": (HEADER + f"A,B,10.0.0.2,{HUGE_INT}\n", "deps.csv"),
        "short-row": (HEADER + "A,B\n", "deps.csv:2"),
        "long-row": (HEADER + "A,B,10.0.0.2,443,extra\n", "deps.csv:2"),
        "empty": ("", "file is empty"),
        "duplicate-header": ("Source server name,Destination server name,Destination IP,Destination port,Destination port\n"
                             "A,B,10.0.0.2,443,443\n", "deps.csv:1"),
        "duplicate-header-case": ("Source server name,destination server name,Destination server name,Destination IP,Destination port\n"
                                  "A,B,B,10.0.0.2,443\n", "deps.csv:1"),
        "unterminated-quote": (HEADER + "A,B,10.0.0.2,443\nA,\"B,10.0.0.2,443\n" + "C,D,10.0.0.3,443\n" * 50, "deps.csv:3"),
        "not-utf8": (HEADER.encode() + "caf\u00e9,B,10.0.0.2,443\n".encode("latin-1"), "deps.csv"),
        "binary-garbage": (bytes(range(1, 256)) * 8, "deps.csv"),
        "count-text": (HEADER.rstrip("\n") + ",Connection count\nA,B,10.0.0.2,443,many\n", "deps.csv:2"),
        "count-negative": (HEADER.rstrip("\n") + ",Connection count\nA,B,10.0.0.2,443,-4\n", "deps.csv"),
        "count-5000-digits": (HEADER.rstrip("\n") + f",Connection count\nA,B,10.0.0.2,443,{HUGE_INT}\n", "deps.csv"),
    }
    out = [Case(f"assess-csv/{name}", "assess", _assess_with_csv(text), expect) for name, (text, expect) in cases.items()]
    out.append(Case("assess-csv/missing-file", "assess", lambda folder: [
        "assess", str(_write(folder, "inv.json", BASE)), "--dependencies", str(folder / "nope.csv"), "--out", str(folder / "out"),
        "--quiet"], "nope.csv"))
    out.append(Case("assess-csv/folder", "assess", lambda folder: [
        "assess", str(_write(folder, "inv.json", BASE)), "--dependencies", str(folder), "--out", str(folder / "out"), "--quiet"],
        "cannot read file"))
    return out


def _option_cases() -> list[Case]:
    def out_file(folder: Path) -> None:
        (folder / "out").write_text("a file", encoding="utf-8")

    def plan_folder(folder: Path) -> None:
        (folder / "out" / "plan.json").mkdir(parents=True)

    def containers_file(folder: Path) -> None:
        (folder / "out").mkdir()
        (folder / "out" / "containers").write_text("x", encoding="utf-8")

    def parent_file(folder: Path) -> None:
        (folder / "parent").write_text("x", encoding="utf-8")

    cases = [
        ("host-os", ("--host-os", "ltsc2030", "--out", "{folder}/out"), "ltsc2030", None),
        ("tenancy", ("--tenancy", "everyone", "--out", "{folder}/out"), "everyone", None),
        ("min-wave-zero", ("--min-wave-size", "0", "--out", "{folder}/out"), "--min-wave-size", None),
        ("min-wave-text", ("--min-wave-size", "many", "--out", "{folder}/out"), "--min-wave-size", None),
        ("min-wave-arabic", ("--min-wave-size", "\u0663", "--out", "{folder}/out"), "--min-wave-size", None),
        ("min-wave-underscore", ("--min-wave-size", "1_0", "--out", "{folder}/out"), "--min-wave-size", None),
        ("min-above-max", ("--min-wave-size", "9", "--max-wave-size", "3", "--out", "{folder}/out"), "--min-wave-size", None),
        ("chatty-negative", ("--chatty-connections", "-1", "--out", "{folder}/out"), "--chatty-connections", None),
        ("max-wave-huge", ("--max-wave-size", HUGE_INT, "--out", "{folder}/out"), "--max-wave-size", None),
        ("no-out", ("--quiet",), "--out", None),
        ("unknown-option", ("--bogus", "--out", "{folder}/out"), "--bogus", None),
        ("out-is-file", ("--out", "{folder}/out", "--quiet"), "out", out_file),
        ("out-is-file-generate", ("--out", "{folder}/out", "--quiet", "--generate"), "out", out_file),
        ("out-plan-json-folder", ("--out", "{folder}/out", "--quiet"), "plan.json", plan_folder),
        ("out-containers-file", ("--out", "{folder}/out", "--quiet", "--generate"), "containers", containers_file),
        ("out-under-a-file", ("--out", "{folder}/parent/out", "--quiet"), "parent", parent_file),
        ("out-in-proc", ("--out", "/proc/hyperdock-corpus/out", "--quiet"), "/proc/hyperdock-corpus", None),
        ("registry", ("--generate", "--registry", "Bad Registry!", "--out", "{folder}/out"), "--registry", None),
        ("host-size", ("--generate", "--host-size", "Standard_Z1", "--out", "{folder}/out"), "--host-size", None),
        ("onprem-without-size", ("--generate", "--platform", "onprem", "--out", "{folder}/out"), "--platform onprem", None),
        ("host-vcpus-zero", ("--generate", "--platform", "onprem", "--host-vcpus", "0", "--out", "{folder}/out"), "--host-vcpus", None),
    ]
    return [Case(f"assess-options/{name}", "assess", _assess_args(*args, setup=setup), expect)
            for name, args, expect, setup in cases]


def _generate_cases() -> list[Case]:
    def wl(plan: dict) -> dict:
        return plan["workloads"][_container_index(plan)]

    def mutate(action: Callable[[dict], None]) -> Callable[[], dict]:
        return _plan_with(action)

    def first_vm_id(plan):
        return plan["workloads"][0]["vmId"]

    cases: list[tuple[str, object, str]] = [
        ("empty", b"", "plan.json"),
        ("not-json", b"{ nope", "plan.json:1"),
        ("nan", lambda: _json_text(_set(valid_plan(), "hostBuild", "@@RAW@@"), "@@RAW@@", "NaN"), "plan.json:1"),
        ("number-1e400", lambda: _json_text(_set(valid_plan(), "hostBuild", "@@RAW@@"), "@@RAW@@", "1e400"), "plan.json:1"),
        ("lone-surrogate", lambda: _json_text(_set(valid_plan(), "hostBuild", "@@RAW@@"), "@@RAW@@", '"\\udc00"'), "plan.json:1"),
        ("deep", "[" * 50_000, "plan.json"),
        ("top-level-list", b"[]", "plan.json"),
        ("wrong-schema", mutate(lambda p: p.update(schema="hyperdock/plan@0")), "schema"),
        ("missing-schema", mutate(lambda p: p.pop("schema")), "schema"),
        ("missing-workloads", mutate(lambda p: p.pop("workloads")), "plan.json"),
        ("workloads-object", mutate(lambda p: p.update(workloads={})), "workloads"),
        ("workload-missing-vmid", mutate(lambda p: p["workloads"][0].pop("vmId")), "workloads[0]"),
        ("workload-vmid-number", mutate(lambda p: p["workloads"][0].update(vmId=5)), "workloads[0].vmId"),
        ("duplicate-vmid", mutate(lambda p: p["workloads"].append(copy.deepcopy(p["workloads"][0]))), "vmId"),
        ("target-unknown", mutate(lambda p: p["workloads"][0].update(target="lxc")), "workloads[0].target"),
        ("container-null", mutate(lambda p: wl(p).update(container=None)), "container"),
        ("container-missing", mutate(lambda p: wl(p).pop("container")), "container"),
        ("container-without-gmsa", mutate(lambda p: wl(p)["container"].pop("gmsa")), "plan.json"),
        ("container-without-ports", mutate(lambda p: wl(p)["container"].pop("ports")), "plan.json"),
        ("container-port-70000", mutate(lambda p: wl(p)["container"].update(ports=[70000])), "ports"),
        ("container-sites-object", mutate(lambda p: wl(p)["container"].update(iisSites={})), "iisSites"),
        ("binding-port-arabic", mutate(lambda p: wl(p)["container"].update(iisSites=[
            {"name": "s", "bindings": ["http/*:\u0668\u0660:"]}])), "bindings[0]"),
        ("binding-port-underscores", mutate(lambda p: wl(p)["container"].update(iisSites=[
            {"name": "s", "bindings": ["http/*:8_0:"]}])), "bindings[0]"),
        ("binding-number", mutate(lambda p: wl(p)["container"].update(iisSites=[{"name": "s", "bindings": [80]}])), "bindings[0]"),
        ("wave-text", mutate(lambda p: wl(p).update(wave="first")), "wave"),
        ("tags-list", mutate(lambda p: wl(p).update(tags=["a"])), "plan.json"),
        ("resources-cpus-text", mutate(lambda p: wl(p).update(resources={"cpus": "two"})), "plan.json"),
        ("depends-on-object", mutate(lambda p: wl(p).update(dependsOn={"vmId": first_vm_id(p)})), "plan.json"),
        ("base-image-null", mutate(lambda p: wl(p).update(baseImage=None)), "baseImage"),
    ]
    out = [Case(f"generate/{name}", "generate", _generate(content), expect) for name, content, expect in cases]

    def plan_is_folder(folder: Path) -> list[str]:
        (folder / "plan" / "plan.json").mkdir(parents=True)
        return ["generate", str(folder / "plan")]

    def out_file(folder: Path) -> None:
        (folder / "out").write_text("x", encoding="utf-8")

    out += [
        Case("generate/plan-missing", "generate", lambda folder: ["generate", str(folder / "nowhere")], "plan.json"),
        Case("generate/plan-is-folder", "generate", plan_is_folder, "plan.json"),
        Case("generate/out-is-file", "generate", _generate(lambda: valid_plan(), "--out", "{folder}/out", setup=out_file), "out"),
        Case("generate/bad-registry", "generate", _generate(lambda: valid_plan(), "--registry", "UPPER/Case"), "--registry"),
        Case("generate/onprem-no-size", "generate", _generate(lambda: valid_plan(), "--platform", "onprem"), "--platform"),
    ]
    return out


def _azure_migrate_cases() -> list[Case]:
    server_header = "Server name,Cores,Memory,OS name,Number of disks\n"
    cases = [
        ("empty", "d.csv", "", "d.csv"),
        ("unknown-columns", "d.csv", "a,b\n1,2\n", "d.csv:1"),
        ("duplicate-header", "d.csv", "Machine Name,Operating System,Cores,Memory (in MB),Cores\nA,W,1,1,2\n", "d.csv:1"),
        ("disks-1e8", "d.csv", _discovery(**{"Total Disks": "100000000"}), "Total Disks"),
        ("web-apps-1e8", "d.csv", _discovery(**{"Web Applications Count": "1e8"}), "Web Applications Count"),
        ("cores-inf", "d.csv", _discovery(Cores="inf"), "Cores"),
        ("cores-nan", "d.csv", _discovery(Cores="NaN"), "Cores"),
        ("cores-1e30", "d.csv", _discovery(Cores="1e30"), "Cores"),
        ("cores-underscores", "d.csv", _discovery(Cores="1_6"), "Cores"),
        ("cores-arabic", "d.csv", _discovery(Cores="\u0661\u0666"), "Cores"),
        ("cores-5000-digits", "d.csv", _discovery(Cores=HUGE_INT), "Cores"),
        ("memory-huge", "d.csv", _discovery(**{"Memory (in MB)": "99999999999999"}), "Memory (in MB)"),
        ("memory-text", "d.csv", _discovery(**{"Memory (in MB)": "lots"}), "Memory (in MB)"),
        ("name-missing", "d.csv", _discovery(**{"Machine Name": ""}), "Machine Name"),
        ("name-nan", "d.csv", _discovery(**{"Machine Name": "NaN"}), "Machine Name"),
        ("unterminated-quote", "d.csv", _discovery() + 'B,"Windows,2,2,1,1\n' + "C,W,1,1,1,1\n" * 20, "d.csv:3"),
        ("not-utf8", "d.csv", _discovery(**{"Machine Name": "CAF\u00c9"}).encode("latin-1"), "d.csv"),
        ("binary-garbage", "d.csv", bytes(range(1, 256)) * 8, "d.csv"),
        ("xlsx-not-a-zip", "d.xlsx", b"not a workbook", "d.xlsx"),
        ("xlsx-empty-zip", "d.xlsx", b"PK\x05\x06" + b"\x00" * 18, "d.xlsx"),
        ("server-cores-missing", "s.csv", server_header + "A,,4096,Windows,1\n", "Cores"),
        ("server-memory-text", "s.csv", server_header + "A,2,much,Windows,1\n", "Memory"),
        ("server-disks-1e8", "s.csv", server_header + "A,2,4096,Windows,100000000\n", "Number of disks"),
        ("server-name-missing", "s.csv", server_header + ",2,4096,Windows,1\n", "Server name"),
    ]
    out = [Case(f"import-azure-migrate/{name}", "import azure-migrate", _import_am(file, content), expect)
           for name, file, content, expect in cases]
    out += [
        Case("import-azure-migrate/source-missing", "import azure-migrate",
             lambda folder: ["import", "azure-migrate", str(folder / "nope.csv"), "--out", str(folder / "inv.json")], "nope.csv"),
        Case("import-azure-migrate/source-is-folder", "import azure-migrate",
             lambda folder: ["import", "azure-migrate", str(folder), "--out", str(folder / "inv.json")], "cannot read file"),
        Case("import-azure-migrate/out-is-folder", "import azure-migrate",
             _import_am("d.csv", _discovery(), out="{folder}"), "is a folder"),
        Case("import-azure-migrate/out-under-a-file", "import azure-migrate",
             _import_am("d.csv", _discovery(), out="{folder}/d.csv/inv.json"), "d.csv"),
        Case("import-azure-migrate/out-in-proc", "import azure-migrate",
             _import_am("d.csv", _discovery(), out="/proc/hyperdock-corpus/inv.json"), "/proc"),
    ]
    return out


def _app2container_cases() -> list[Case]:
    a2c = lambda **kw: _a2c_info(**kw)  # noqa: E731
    cases = [
        ("not-json", b"{ nope", "analysis.json:1"),
        ("empty", b"", "analysis.json"),
        ("nan", json.dumps(a2c(appName="@@")).replace('"@@"', "NaN"), "analysis.json:1"),
        ("number-1e400", json.dumps(a2c(appName="@@")).replace('"@@"', "1e400"), "analysis.json:1"),
        ("lone-surrogate", json.dumps(a2c(appName="@@")).replace('"@@"', '"\\ud800"'), "analysis.json:1"),
        ("deep", "[" * 50_000, "analysis.json"),
        ("not-utf8", json.dumps(a2c(appName="caf\u00e9"), ensure_ascii=False).encode("latin-1"), "analysis.json"),
        ("top-level-list", [1], "analysisInfo"),
        ("analysis-info-missing", {"containerParameters": {}}, "analysisInfo"),
        ("analysis-info-string", {"analysisInfo": "iis"}, "analysisInfo"),
        ("app-type-unknown", a2c(appType="java"), "analysisInfo.appType"),
        ("ports-number", a2c(ports=80), "analysisInfo.ports"),
        ("port-70000", a2c(ports=[{"localPort": 70000}]), "analysisInfo.ports"),
        ("port-0", a2c(ports=[0]), "analysisInfo.ports"),
        ("port-underscores", a2c(ports=[{"localPort": "4_4_3"}]), "analysisInfo.ports"),
        ("port-arabic", a2c(ports=[{"localPort": "\u0664\u0664\u0663"}]), "analysisInfo.ports"),
        ("port-boolean", a2c(ports=[True]), "analysisInfo.ports"),
        ("port-object", a2c(ports=[{"localPort": {"n": 1}}]), "analysisInfo.ports"),
        ("port-float", a2c(ports=[80.5]), "analysisInfo.ports"),
        ("features-number", a2c(features=3), "analysisInfo.features"),
        ("web-apps-string", a2c(discoveredWebApps="all"), "analysisInfo.discoveredWebApps"),
        ("too-large", b"{" + b" " * (17 * 1024 * 1024) + b"}", "analysis.json"),
    ]
    out = [Case(f"import-app2container/{name}", "import app2container", _import_a2c(content), expect)
           for name, content, expect in cases]

    def analysis_folder(folder: Path) -> list[str]:
        (folder / "ws" / "app" / "analysis.json").mkdir(parents=True)
        return ["import", "app2container", str(folder / "ws"), "--out", str(folder / "inv.json")]

    out += [
        Case("import-app2container/folder-missing", "import app2container",
             lambda folder: ["import", "app2container", str(folder / "nope"), "--out", str(folder / "inv.json")], "nope"),
        Case("import-app2container/folder-empty", "import app2container", _import_a2c(None), "no analysis.json"),
        Case("import-app2container/source-is-file", "import app2container",
             _import_a2c(a2c(), source="{folder}/ws/iis-shop-1/analysis.json"), "analysis.json"),
        Case("import-app2container/analysis-is-folder", "import app2container", analysis_folder, "analysis.json"),
        Case("import-app2container/out-is-folder", "import app2container", _import_a2c(a2c(), out="{folder}/ws"), "is a folder"),
        Case("import-app2container/out-in-proc", "import app2container", _import_a2c(a2c(), out="/proc/hyperdock-corpus/x.json"),
             "/proc"),
    ]
    return out


def _policy_cases() -> list[Case]:
    compose = "compose/h.yaml"
    cases = [
        ("stack-file-missing", ("--stack-file", "{folder}/Pulumi.nope.yaml"), None, "Pulumi.nope.yaml"),
        ("stack-file-not-yaml", ("--stack-file", "{folder}/Pulumi.s.yaml"), {"Pulumi.s.yaml": "config: [unclosed\n"}, "Pulumi.s.yaml"),
        ("stack-file-list", ("--stack-file", "{folder}/Pulumi.s.yaml"), {"Pulumi.s.yaml": "- a\n- b\n"}, "Pulumi.s.yaml"),
        ("stack-config-list", ("--stack-file", "{folder}/Pulumi.s.yaml"), {"Pulumi.s.yaml": "config:\n- a\n"}, "config"),
        ("stack-config-nan", ("--stack-file", "{folder}/Pulumi.s.yaml"), {"Pulumi.s.yaml": "config:\n  hyperdock:x: .nan\n"},
         "config.hyperdock:x"),
        ("stack-alias-bomb", ("--stack-file", "{folder}/Pulumi.s.yaml"), {"Pulumi.s.yaml": ALIAS_BOMB}, "alias"),
        ("stack-deep", ("--stack-file", "{folder}/Pulumi.s.yaml"), {"Pulumi.s.yaml": "config: " + "[" * 100_000}, "nested deeper"),
        ("stack-not-utf8", ("--stack-file", "{folder}/Pulumi.s.yaml"), {"Pulumi.s.yaml": "config:\n  a: caf\u00e9\n".encode("latin-1")},
         "Pulumi.s.yaml"),
        ("stack-file-folder", ("--stack-file", "{folder}"), None, "is not a file"),
        ("stack-name-unknown", ("--stack", "no-such-stack"), None, "Pulumi.no-such-stack.yaml"),
        ("config-missing", ("--config", "{folder}/nope.json", "--artifacts", "{folder}"), None, "nope.json"),
        ("config-not-json", ("--config", "{folder}/c.json", "--artifacts", "{folder}"), {"c.json": "{ nope"}, "c.json"),
        ("config-list", ("--config", "{folder}/c.json", "--artifacts", "{folder}"), {"c.json": [1]}, "c.json"),
        ("config-level-unknown", ("--config", "{folder}/c.json", "--artifacts", "{folder}"), {"c.json": {"all": "sometimes"}}, "all"),
        ("config-entry-number", ("--config", "{folder}/c.json", "--artifacts", "{folder}"), {"c.json": {"x": 5}}, "x"),
        ("config-registries-string", ("--config", "{folder}/c.json", "--artifacts", "{folder}"),
         {"c.json": {"hyperdock-workload-allowed-registries": {"allowedRegistries": "any"}}}, "allowedRegistries"),
        ("artifacts-missing", ("--artifacts", "{folder}/nope"), None, "nope"),
        ("artifacts-file", ("--artifacts", "{folder}/f.txt"), {"f.txt": "x"}, "f.txt"),
        ("compose-not-yaml", ("--artifacts", "{folder}"), {compose: "services: [unclosed\n"}, "h.yaml"),
        ("compose-list", ("--artifacts", "{folder}"), {compose: "- a\n"}, "h.yaml"),
        ("compose-services-list", ("--artifacts", "{folder}"), {compose: "services:\n- a\n"}, "services"),
        ("compose-service-string", ("--artifacts", "{folder}"), {compose: "services:\n  web: nginx\n"}, "services.web"),
        ("compose-alias-bomb", ("--artifacts", "{folder}"), {compose: ALIAS_BOMB}, "alias"),
        ("compose-deep", ("--artifacts", "{folder}"), {compose: "services: " + "{a: " * 3000}, "nested deeper"),
        ("k8s-not-yaml", ("--artifacts", "{folder}"), {"k8s/a.yaml": "kind: [\n"}, "a.yaml"),
        ("k8s-deep", ("--artifacts", "{folder}"), {"k8s/a.yaml": "kind: Deployment\nspec: " + "[" * 100_000}, "nested deeper"),
        ("k8s-not-utf8", ("--artifacts", "{folder}"), {"k8s/a.yaml": "kind: caf\u00e9\n".encode("latin-1")}, "a.yaml"),
        ("unknown-option", ("--bogus",), None, "--bogus"),
        ("stack-platform-unknown", ("--stack-file", "{folder}/Pulumi.s.yaml"),
         {"Pulumi.s.yaml": "config:\n  hyperdock:platform: mars\n"}, "hyperdock:platform"),
        ("stack-plan-missing", ("--stack-file", "{folder}/Pulumi.s.yaml"),
         {"Pulumi.s.yaml": "config:\n  hyperdock:plan: /nonexistent/hyperdock-plan\n"}, "hyperdock:plan"),
    ]
    out = [Case(f"policy-check/{name}", "policy check", _policy(*args, files=files), expect)
           for name, args, files, expect in cases]

    def stack_with_plan(plan, hosts: str | bytes) -> Callable[[Path], list[str]]:
        def build(folder: Path) -> list[str]:
            _write(folder, "plan/plan.json", plan() if callable(plan) else plan)
            _write(folder, "plan/hosts.yaml", hosts)
            _write(folder, "Pulumi.s.yaml", f"config:\n  hyperdock:plan: {folder / 'plan'}\n")
            return ["policy", "check", "--stack-file", str(folder / "Pulumi.s.yaml")]
        return build

    out += [
        Case("policy-check/stack-plan-not-json", "policy check", stack_with_plan(b"{ nope", "x: 1\n"), "plan.json:1"),
        Case("policy-check/stack-hosts-alias-bomb", "policy check", stack_with_plan(valid_plan, ALIAS_BOMB), "alias"),
        Case("policy-check/stack-hosts-deep", "policy check", stack_with_plan(valid_plan, "pools: " + "[" * 100_000),
             "nested deeper"),
        Case("policy-check/stack-hosts-not-utf8", "policy check", stack_with_plan(valid_plan, "pools: caf\u00e9\n".encode("latin-1")),
             "hosts.yaml"),
    ]
    return out



CASES: list[Case] = (_inventory_cases() + _csv_cases() + _option_cases() + _generate_cases() + _azure_migrate_cases()
                     + _app2container_cases() + _policy_cases())
