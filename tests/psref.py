"""Check PowerShell against Microsoft's documented cmdlets and parameters.

    problems(script, "ws2022") -> ["line 3: New-WebBinding has no parameter -BindingInformation", ...]

The reference (tests/data/powershell-reference.json, trimmed from the shared cmdlet reference by
tests/data/trim_powershell_reference.py) holds, per documentation set, every cmdlet of the modules
hyperdock may use with its parameters, aliases and parameter sets. A reference set is one Windows
Server version's modules plus a PowerShell core (5.1 unless named: "ws2022+7.4").

A command passes when it is in the set, is a function the script defines, comes from a module the
script installs (`Install-Module -Name X`), is one of the native executables below, or is the
workload's own program called by an absolute literal path (`& 'C:\\app\\x.exe'`). A parameter
passes when it is a parameter, an alias, an unambiguous prefix of those, or a common parameter; the
named parameters of one call must also fit one parameter set.
"""

from __future__ import annotations

import base64
import json
import re
from functools import lru_cache
from pathlib import Path

from powershell_ast import nodes, parse

REFERENCE_FILE = Path(__file__).resolve().parent / "data" / "powershell-reference.json"

# Native executables are not cmdlets: their arguments are not PowerShell parameters. Each is here
# because hyperdock's scripts or images call it, and why.
NATIVE = {
    "docker": "the container runtime's CLI, installed by the host setup",
    "dockerd.exe": "the Docker daemon registers itself as a service (Microsoft's install-docker-ce.ps1)",
    "shutdown.exe": "reboot after the Containers/Hyper-V features (no reboot cmdlet survives Run Command)",
    "docker-compose.exe": "the Docker Compose CLI plugin the host setup installs, asked for its version",
    "curl.exe": "the only HTTP client in Nano Server images (healthchecks)",
    "dotnet": "the .NET CLI lists a guest's runtimes (collector); there is no cmdlet for it",
    "dism.exe": "adds the NetFx3 capability on Server Core (/Add-Capability), the documented way for .NET 3.5",
    "servicemonitor.exe": "Microsoft's IIS.ServiceMonitor, the foreground entry point of IIS and service images",
    "logmonitor.exe": "Microsoft's LogMonitor, which sends Event Log, ETW and log files to stdout",
    "powershell": "Windows PowerShell in exec-form instructions",
    "powershell.exe": "Windows PowerShell, started by scheduled tasks and SSH",
    "python": "the CI workflow runs hyperdock and its own scripts with the runner's Python",
}

# about_CommonParameters (PowerShell-Docs reference/5.1 and 7.4): the aliases of the common
# parameters. WhatIf and Confirm exist only on cmdlets that list them (SupportsShouldProcess).
COMMON_ALIASES = {
    "vb": "Verbose", "db": "Debug", "ea": "ErrorAction", "wa": "WarningAction", "infa": "InformationAction",
    "ev": "ErrorVariable", "wv": "WarningVariable", "iv": "InformationVariable", "ov": "OutVariable",
    "ob": "OutBuffer", "pv": "PipelineVariable", "proga": "ProgressAction",
}
RISK_PARAMETERS = {"WhatIf", "Confirm"}


@lru_cache(maxsize=1)
def reference() -> dict:
    return json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))


def _expand(name: str, entry: dict, core: str) -> dict:
    """Return a cmdlet as the checker reads it: parameter names, aliases, sets as name lists."""
    parameters = entry["parameters"]
    sets = [[p for i, p in enumerate(parameters) if mask >> i & 1] for mask in entry.get("sets", [])]
    return {"name": name, "module": entry["module"], "parameters": parameters, "aliases": entry.get("aliases", {}),
            "sets": sets, "core": core}


@lru_cache(maxsize=None)
def commands_of(reference_set: str) -> dict[str, dict]:
    """Return the commands of a reference set ("ws2019", "ws2025+7.4"), by lower-case name."""
    windows, _, core = reference_set.partition("+")
    core = core or "5.1"
    if windows not in ("ws2016", "ws2019", "ws2022", "ws2025") or core not in ("5.1", "7.4"):
        raise KeyError(f"no reference set {reference_set!r}; expected ws2016..ws2025, optionally +5.1 or +7.4")
    data = reference()
    found = {name.lower(): _expand(name, entry, core) for name, entry in data["_added"]["core"].items()}
    for name, variants in data["cmdlets"].items():
        # The core's own documentation wins over a Windows Server page of the same cmdlet.
        entry = next((v for v in variants if core in v["in"]), None) or next(
            (v for v in variants if windows in v["in"]), None)
        if entry is not None:
            found[name.lower()] = _expand(name, entry, core)
    return found


def gallery_commands(module: str, core: str = "5.1") -> dict[str, dict]:
    """Return the commands of a PowerShell Gallery module the reference describes ({} if none), by lower-case name."""
    modules = {m.lower(): cmds for m, cmds in reference()["_added"]["gallery"].items()}
    return {n.lower(): _expand(n, e, core) for n, e in modules.get(module.lower(), {}).items()}


def reference_set_for_image(image: str) -> str:
    """Return the reference set of a base image by its Windows Server tag (ltsc2019 or 1809 -> ws2019)."""
    for tag, version in (("ltsc2025", "ws2025"), ("ltsc2022", "ws2022"), ("ltsc2019", "ws2019"), ("1809", "ws2019"),
                         ("ltsc2016", "ws2016")):
        if tag in image:
            return version
    raise ValueError(f"{image!r} names no Windows Server LTSC tag")


def reference_set_for_host(host_os: str) -> str:
    """Return the reference set of a host OS (ltsc2022 -> ws2022)."""
    return reference_set_for_image(host_os)


def problems(script: str | bytes, reference_set: str) -> list[str]:
    """Return one line per command or parameter of `script` that the reference does not know (none: [])."""
    tree = parse(script)
    root = tree.root_node
    found = []
    if root.has_error:
        found.append("the script does not parse")
    known = commands_of(reference_set)
    functions = _functions(root)
    installed = _installed_modules(root)
    assigned = _assigned_literals(root)
    for command in nodes(root, "command"):
        name_node = command.child_by_field_name("command_name")
        if name_node is None:
            continue
        name = name_node.text.decode("utf-8")
        where = f"line {command.start_point[0] + 1}"
        if name.startswith("$"):
            # `& $dockerd ...`: allowed when the variable holds a path to an allowed native executable.
            targets = assigned.get(name.lower(), set())
            if not any(_native(t) for t in targets):
                found.append(f"{where}: {name} is not known to name an allowed native executable")
            continue
        if _native(name) or _literal_program(name_node) or name.startswith("{"):
            continue  # `& { ... }` runs a script block, whose own commands are checked as the walk goes on
        if name.lower() in functions:
            continue
        cmdlet = known.get(name.lower()) or next(
            (cmds[name.lower()] for cmds in installed.values() if name.lower() in cmds), None)
        if cmdlet is None:
            found.append(f"{where}: {name} is not a documented command in {reference_set} "
                         "(nor a function of the script, a command of a module it installs, or an allowed native executable)")
            continue
        found.extend(f"{where}: {p}" for p in _parameter_problems(cmdlet, _parameters(command)))
    return found


def _literal_program(name_node) -> bool:
    """True for `& 'C:\\apps\\x.exe'` or `& (<Base64 literal>)`: the workload's own program, at an absolute path."""
    text = name_node.text.decode("utf-8")
    if not text.startswith(("'", "(")):
        return False
    values = []
    for literal in nodes(name_node, "string_literal"):
        value = literal.text.decode("utf-8")[1:-1].replace("''", "'")
        try:
            values.append(base64.b64decode(value, validate=True).decode("utf-8"))
        except ValueError:
            values.append(value)
    return len(values) == 1 and re.match(r"[A-Za-z]:\\", values[0]) is not None


def _native(name: str) -> bool:
    base = re.split(r"[\\/]", name.strip("'\""))[-1].lower()
    return base in NATIVE


def _parameters(command) -> list[str]:
    elements = command.child_by_field_name("command_elements")
    if elements is None:
        elements = next((c for c in command.children if c.type == "command_elements"), None)
    if elements is None:
        return []
    return [p.text.decode("utf-8").lstrip("-").rstrip(":") for p in elements.children if p.type == "command_parameter"]


def _parameter_problems(cmdlet: dict, used: list[str]) -> list[str]:
    """Return what is wrong with the named parameters `used` in one call of `cmdlet`."""
    name = cmdlet["name"]
    parameters = {p.lower(): p for p in cmdlet["parameters"]}
    aliases = {a.lower(): t for a, t in cmdlet["aliases"].items()}
    common = {p.lower(): p for p in reference()["_common"] if p not in RISK_PARAMETERS
              and (p != "ProgressAction" or cmdlet["core"] == "7.4")}
    common_aliases = {a: p for a, p in COMMON_ALIASES.items() if p.lower() in common}
    names = {**common, **parameters}
    every = {**{a: p for a, p in common_aliases.items()}, **aliases, **names}
    out, resolved = [], []
    for given in used:
        key = given.lower()
        if key in every:
            resolved.append(every[key])
            continue
        matches = {target for candidate, target in every.items() if candidate.startswith(key)}
        if len(matches) == 1:
            resolved.append(matches.pop())
        elif matches:
            out.append(f"{name} -{given} is ambiguous: {', '.join(sorted(matches))}")
        else:
            out.append(f"{name} has no parameter -{given}")
    own = {p for p in resolved if p.lower() in parameters}
    sets = [set(s) for s in cmdlet["sets"]]
    if own and sets and not any(own <= s for s in sets):
        out.append(f"{name}: no parameter set takes {', '.join('-' + p for p in sorted(own))} together")
    return out


def _functions(root) -> set[str]:
    names = set()
    for function in nodes(root, "function_statement"):
        name = function.child_by_field_name("function_name")
        if name is None:
            name = next((c for c in function.children if c.type == "function_name"), None)
        if name is not None:
            names.add(name.text.decode("utf-8").lower())
    return names


def _installed_modules(root) -> dict[str, dict[str, dict]]:
    """Return {module: its commands} for each Gallery module the script installs (`Install-Module -Name X`)."""
    modules = {}
    for command in nodes(root, "command"):
        name = command.child_by_field_name("command_name")
        if name is None or name.text.decode("utf-8").lower() != "install-module":
            continue
        match = re.search(r"-Name\s+'?([A-Za-z0-9._-]+)'?", command.text.decode("utf-8"), re.IGNORECASE)
        if match:
            modules[match.group(1)] = gallery_commands(match.group(1))
    return modules


def _assigned_literals(root) -> dict[str, set[str]]:
    """Return {"$name": the string literals of every right-hand side assigned to it}."""
    found: dict[str, set[str]] = {}
    for assignment in nodes(root, "assignment_expression"):
        left, right = assignment.children[0], assignment.child_by_field_name("value")
        name = left.text.decode("utf-8").lower()
        literals = {s.text.decode("utf-8").strip("'\"") for s in nodes(right or assignment, "string_literal")}
        found.setdefault(name, set()).update(literals)
    return found


def dockerfile_powershell(text: str) -> tuple[str | None, list[str]]:
    """Return (reference set of its base image, the PowerShell it runs) for a Dockerfile with `# escape=``.

    The PowerShell: shell-form RUN lines under a powershell SHELL, and the -Command argument of
    exec-form instructions that start powershell. The reference set is None without a Windows tag.
    """
    reference_set, shell_is_powershell, scripts = None, False, []
    for instruction in _instructions(text):
        keyword, _, rest = instruction.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            try:
                reference_set = reference_set_for_image(rest.split()[0])
            except ValueError:
                reference_set = None
        elif keyword == "SHELL":
            shell_is_powershell = json.loads(rest)[0].lower() in ("powershell", "powershell.exe")
        elif keyword in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK"):
            if keyword == "HEALTHCHECK":
                if " CMD " not in f" {rest}":
                    continue  # HEALTHCHECK NONE
                rest = f" {rest}".split(" CMD ", 1)[1]
            body = rest
            if body.lstrip().startswith("["):
                argv = json.loads(body)
                if argv and argv[0].lower() in ("powershell", "powershell.exe"):
                    lowered = [a.lower() for a in argv]
                    if "-command" in lowered:
                        scripts.append(" ".join(argv[lowered.index("-command") + 1:]))
            elif keyword == "RUN" and shell_is_powershell:
                scripts.append(body)
    return reference_set, scripts


def dockerfile_problems(text: str) -> list[str]:
    """Return problems() of every PowerShell a Dockerfile runs, against its base image's reference set."""
    reference_set, scripts = dockerfile_powershell(text)
    if reference_set is None:
        return ["FROM names no Windows Server LTSC image"] if scripts else []
    return [f"{reference_set}: {p}: {script[:80]!r}" for script in scripts for p in problems(script, reference_set)]


def _instructions(text: str) -> list[str]:
    """Logical instructions of a Dockerfile whose escape character is the backtick (continuations joined)."""
    instructions, current = [], ""
    for line in text.splitlines():
        if not current and (line.startswith("#") or not line.strip()):
            continue
        current += line[:-1] + "\n" if line.endswith("`") else line
        if not line.endswith("`"):
            instructions.append(current)
            current = ""
    return instructions
