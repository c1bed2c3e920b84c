"""A Dockerfile per container workload, from its plan entry.

Inventory values reach the Dockerfile only inside PowerShell string literals (`ps_quote`) or JSON
strings of exec-form instructions; paths that could not be written safely there are replaced by
`C:\\app\\<label>`. Content is not in the inventory: COPY takes it from `content/<label>/`, a
placeholder folder with a README that says what to put there.
"""

from __future__ import annotations

import json
import re
from json.encoder import encode_basestring_ascii
from dataclasses import dataclass, field, replace

from ..contract.model import AppPool, Container, Workload
from ..contract.layout import folder_of, rebase_command, safe_container_path, split_command, task_program
from ..contract.names import application_label, service_label, site_label, task_label
from ..core.documents import parse_binding
from ..core.powershell import ps_quote
from ..core.windows import OS_BUILDS
from ..package.parts import container_parts
from .configbuilders import add_instructions, config_targets, configure_script
from .configbuilders import run_statements as configure_statements
from .iis_image import all_addresses, features_to_install, needs_netfx3, netfx3_script
from .powershell import iis_prologue, iis_site_script, install_features, service_script
from .startup import LOGMONITOR_URL, LOGMONITOR_VERSION, entrypoint, logmonitor_config, start_script_body, start_script_heading

SERVICE_MONITOR_URL = "https://github.com/microsoft/IIS.ServiceMonitor/releases/download/v2.0.1.10/ServiceMonitor.exe"
SHELL = ('SHELL ["powershell", "-NoLogo", "-NoProfile", "-Command", '
         '"$ErrorActionPreference = \'Stop\'; $ProgressPreference = \'SilentlyContinue\';"]')

# Lines every image of a kind has, written once.
_COPY_CONFIGURE = f"COPY {json.dumps(['configure-config.ps1', 'C:/hyperdock/'])}"
_COPY_LOGMONITOR_CONFIG = f"COPY {json.dumps(['LogMonitorConfig.json', 'C:/LogMonitor/'])}"
_COPY_START = f"COPY {json.dumps(['start.ps1', 'C:/hyperdock/'])}"
_WRAPPED_ENTRYPOINT = f"ENTRYPOINT {json.dumps(entrypoint())}"


def _exec_form(items: list[str]) -> str:
    """Return `json.dumps(items)` for a list of strings: the same escaping (the stdlib's own C
    function), without json.dumps' setup for each call, which cost more than the escaping."""
    return "[" + ", ".join(map(encode_basestring_ascii, items)) + "]"


def _run(statements: list[str]) -> str:
    # `# escape=`` ` makes a trailing backtick the line continuation, as Windows Dockerfiles use.
    return "RUN " + "; `\n    ".join(statements)


@dataclass(slots=True)
class _Parts:
    """What the parts of a workload add to its Dockerfile and build context, in Dockerfile order."""

    setup: list[str] = field(default_factory=list)          # one RUN for features and IIS (hadolint DL3059)
    copies: list[str] = field(default_factory=list)
    registrations: list[str] = field(default_factory=list)  # one RUN after the content is in place
    files: dict[str, str] = field(default_factory=dict)
    folders: dict[str, tuple[str, bool]] = field(default_factory=dict)  # VM folder -> (image folder, web app)
    configs: dict[str, str] = field(default_factory=dict)  # VM folder -> its usual .config file name
    log_folders: list[str] = field(default_factory=list)
    content_folders: list[str] = field(default_factory=list)  # image folders the content is copied to

    def copy(self, source: str, target: str) -> None:
        """COPY a content folder to its folder in the image."""
        self.copies.append(f"COPY {_exec_form([source, _slashes(target) + '/'])}")
        self.content_folders.append(target)


# Renderings kept by render_dockerfile's cache: plenty for the kinds of workload an estate repeats,
# few enough that an estate of all-different workloads does not keep every one (about 4 KiB each).
CACHE_ENTRIES = 1024


@dataclass(frozen=True, slots=True)
class _Shared:
    """A Dockerfile and its build context less what names the workload (its label, isolation and
    wave): the same for every workload with the same container, base image and image OS."""

    middle: str             # the lines between the heading and LABEL, FROM last, each ending in "\n"
    rest: str               # the lines after LABEL, each ending in "\n"
    files: dict[str, str]   # the build context; start.ps1 without its first line (start_script_heading)


def render_dockerfile(workload: Workload, label: str, cache: dict | None = None) -> tuple[str, dict[str, str]]:
    """Return (Dockerfile text, the other files of its build context by relative path).

    Those files are the content placeholders and, for IIS and service images, `start.ps1` and
    `LogMonitorConfig.json` (see startup.py), and `configure-config.ps1` (configbuilders.py).
    With `cache` (a dict kept for one run), look-alike workloads are rendered once: the key is
    exactly what `_render_shared` reads, and only the label, isolation and wave differ per workload.
    """
    container = workload.container
    key = (container, workload.base_image, workload.image_os)
    # A port is the one value whose equal forms print differently (80 == 80.0): a plan edited to
    # hold a non-integer one is rendered on its own, never shared.
    if cache is not None and all(type(p) is int for p in container.ports):
        shared = cache.get(key)
        if shared is None:
            if len(cache) >= CACHE_ENTRIES:
                del cache[next(iter(cache))]  # the oldest entry
            shared = cache[key] = _render_shared(*key)
    else:
        shared = _render_shared(*key)
    target = workload.target
    dockerfile = (f"# escape=`\n# hyperdock: {label}, {target} isolation, wave {workload.wave}.\n{shared.middle}"
                  f'LABEL io.hyperdock.workload="{label}" io.hyperdock.isolation="{target}"\n{shared.rest}')
    files = dict(shared.files)
    if "start.ps1" in files:
        files["start.ps1"] = start_script_heading(label) + files["start.ps1"]
    return dockerfile, files


def _render_shared(container: Container, image: str, image_os: str) -> _Shared:
    """Return the Dockerfile's and build context's parts that do not name the workload (`_Shared`)."""
    sites = all_addresses(container.iis_sites)
    if sites != container.iis_sites:
        container = replace(container, iis_sites=sites)
    nano = "nanoserver" in image
    wrapped = not nano and bool(container.services or container.iis_sites)  # LogMonitor + start.ps1
    lines = ["# Generated from plan.json by `hyperdock generate`; change the plan, then generate again."]
    if wrapped:
        lines += ["# At start, start.ps1 (under LogMonitor, which sends logs to stdout) reads the parameters from the",
                  "# environment or C:\\hyperdock\\secrets, "
                  + ("imports C:\\hyperdock\\tls\\tls.pfx for HTTPS, " if container.https_bindings() else "")
                  + "and runs the app."]
    lines.append(f"FROM {image}")
    middle = "\n".join(lines) + "\n"
    lines = [] if nano else [SHELL]
    parts = _Parts()
    if not nano:
        features = features_to_install(container, image)
        parts.setup += [install_features(features)] if features else []
        parts.setup += netfx3_script(image_os, bool(container.iis_sites)) if needs_netfx3(container) else []
    _add_sites(parts, container, nano)
    _add_services(parts, container, nano)
    if container.is_batch:
        _add_tasks(parts, container)
    targets = config_targets(container.parameters, parts.folders, parts.configs) if not nano else []
    if targets:
        parts.files["configure-config.ps1"] = configure_script(targets)
        parts.copies += add_instructions()  # the builder, for apps that do not ship it
        parts.copies.append(_COPY_CONFIGURE)
        parts.registrations[:0] = configure_statements()
    if parts.setup:
        lines.append(_run(parts.setup))
    lines.extend(sorted(set(parts.copies), key=parts.copies.index))
    if parts.registrations:
        lines.append(_run(parts.registrations))
    port = _dotnet_port(container, image)
    if wrapped:
        lines += _wrapper(container, image, port, parts)
    if port:
        # .NET 8+ images listen on ASPNETCORE_HTTP_PORTS (8080 by default); keep the VM's port.
        lines.append(f"ENV ASPNETCORE_HTTP_PORTS={port}")
    for parameter in container.parameters:
        lines.append(f"# runtime parameter (secret, never baked in): {parameter.env_variable}")
    if container.ports:
        lines.append("EXPOSE " + " ".join(str(p) for p in container.ports))
    lines.append(_healthcheck(container, image_os, nano))
    lines.append(_entrypoint(container, nano))
    return _Shared(middle, "\n".join(lines) + "\n", parts.files)


def _add_sites(parts: _Parts, container: Container, nano: bool) -> None:
    """IIS: no Default Web Site, then each site with its pools, bindings and applications, and its content."""
    pools = {p.name: p for p in container.app_pools}
    if container.iis_sites and not nano:
        parts.setup.extend(iis_prologue())
    # Parts of their own are applications outside their site's folder: none where no site has one.
    application_parts = ({p.name: p for p in container_parts(container) if p.kind == "application"}
                         if any(site.applications for site in container.iis_sites) else {})
    for site_id, site in enumerate(container.iis_sites, start=1):
        folder = site_label(site.name)
        path = safe_container_path(site.physical_path, folder)
        safe_site = replace(site, physical_path=path, applications=tuple(
            replace(a, physical_path=safe_container_path(a.physical_path, application_label(site.name, a.path)))
            for a in site.applications))
        # ConfigurationBuilders need .NET Framework 4.7.1+: a CLR 2.0 app's config is left alone.
        builders = not _clr2(pools, site.pool)
        if builders:
            parts.folders[_vm_folder(site.physical_path)] = (path, True)
            parts.configs[_vm_folder(site.physical_path)] = "web.config"
        for app, safe_app in zip(site.applications, safe_site.applications):
            if not _clr2(pools, app.application_pool or site.pool):
                parts.folders.setdefault(_vm_folder(app.physical_path), (safe_app.physical_path, True))
                parts.configs.setdefault(_vm_folder(app.physical_path), "web.config")
        if not nano:
            parts.setup.extend(iis_site_script(safe_site, pools, site_id))
        parts.copy(f"content/{folder}/", path)
        readme = _placeholder(f"IIS site {site.name!r}", site.physical_path)
        parts.files[f"content/{folder}/README.txt"] = readme + (
            _configuration_builders(container) if container.parameters and builders else "")
        # An application outside its site's folder has content of its own (`hyperdock package` fills it).
        for app in safe_site.applications:
            part = application_parts.get(f"{site.name}{app.path}")
            if part is not None:
                parts.copy(f"content/{part.folder}/", app.physical_path)
                parts.files[f"content/{part.folder}/README.txt"] = _placeholder(f"IIS application {part.name!r}", part.guest_path)


def _clr2(pools: dict[str, AppPool], pool: str) -> bool:
    return pool in pools and pools[pool].clr2


def _add_services(parts: _Parts, container: Container, nano: bool) -> None:
    """Windows services: content, and registration (Manual: start.ps1 starts them)."""
    for service in container.services:
        content = service_label(service.name)
        binary = service.path_name
        folder = folder_of(binary, content)
        parts.log_folders.append(folder)
        program_folder, _, program = split_command(binary)[0].rpartition("\\")
        parts.folders.setdefault(_vm_folder(program_folder), (folder, False))
        if program.lower().endswith(".exe"):
            parts.configs.setdefault(_vm_folder(program_folder), f"{program}.config")
        parts.copy(f"content/{content}/", folder)
        parts.files[f"content/{content}/README.txt"] = _placeholder(f"Windows service {service.name!r}", binary)
        if not nano:
            parts.registrations.extend(service_script(replace(service, path_name=rebase_command(binary, folder))))


def _add_tasks(parts: _Parts, container: Container) -> None:
    """Scheduled tasks of a batch workload: the content of each (the orchestrator runs them)."""
    for task in container.scheduled_tasks:
        content = task_label(task.task_name)
        parts.copy(f"content/{content}/", folder_of(task.execute, content))
        parts.files[f"content/{content}/README.txt"] = _placeholder(f"scheduled task {task.task_name!r}", task.execute)


def _wrapper(container: Container, image: str, port: int | None, parts: _Parts) -> list[str]:
    """The entry point's parts: ServiceMonitor where the image lacks it, LogMonitor, its config and start.ps1
    (without its first line, which names the workload: start_script_heading)."""
    lines = []
    if "/framework/aspnet:" not in image and "/iis:" not in image:
        # Pinned release of Microsoft's ServiceMonitor (the IIS images already hold C:\ServiceMonitor.exe).
        lines.append(f"ADD {SERVICE_MONITOR_URL} C:/ServiceMonitor.exe")
    lines += [f"# LogMonitor {LOGMONITOR_VERSION}, pinned; its SHA-256 is not verified by hyperdock: check the download.",
              f"ADD {LOGMONITOR_URL} C:/LogMonitor/LogMonitor.exe",
              _COPY_LOGMONITOR_CONFIG, _COPY_START]
    parts.files["LogMonitorConfig.json"] = logmonitor_config(container, parts.log_folders)
    sites = container.iis_sites
    main_pool = sites[0].pool if sites else None
    parts.files["start.ps1"] = start_script_body(container, main_pool, [s.name for s in container.services],
                                                 {"ASPNETCORE_HTTP_PORTS": str(port)} if port else None,
                                                 sorted(set(parts.content_folders)))
    return lines


def _vm_folder(path: str) -> str:
    """A VM folder as config_targets matches it: lower-case, without a trailing backslash."""
    return (path or "").strip().strip('"').rstrip("\\").lower()


def _dotnet_port(container: Container, image: str) -> int | None:
    """Return the port a .NET 8+ image must listen on: the one the app used on the VM."""
    match = re.search(r"/dotnet/aspnet:(\d+)\.", image)
    ports = container.ports
    return ports[0] if match and int(match.group(1)) >= 8 and ports else None


def _configuration_builders(container: Container) -> str:
    """How a .NET Framework app gets the parameters from web.config (aspnet/MicrosoftConfigurationBuilders)."""
    names = ", ".join(sorted({p.name for p in container.parameters}))
    return ("\nConfiguration: the connection strings (" + names + ") are runtime parameters, set as environment\n"
            "variables of the app pool at start. web.config reads them through Microsoft's EnvironmentConfigBuilder\n"
            "(NuGet Microsoft.Configuration.ConfigurationBuilders.Environment, .NET Framework 4.7.1+): the image\n"
            "build (configure-config.ps1) puts the pinned package's assemblies in bin when the app does not ship\n"
            "them, and adds to web.config, unless it already has configBuilders:\n"
            '  <section name="configBuilders" type="System.Configuration.ConfigurationBuildersSection, ..." />\n'
            '  <configBuilders><builders><add name="HyperdockEnvironment" mode="Strict" '
            'type="Microsoft.Configuration.ConfigurationBuilders.EnvironmentConfigBuilder, '
            'Microsoft.Configuration.ConfigurationBuilders.Environment" /></builders></configBuilders>\n'
            '  <connectionStrings configBuilders="HyperdockEnvironment">\n'
            "Strict mode replaces each connection string whose name is an environment variable.\n")


def _slashes(path: str) -> str:
    return path.replace("\\", "/")


def _placeholder(what: str, original: str) -> str:
    return (f"Put the files of {what} here; on the VM they were in:\n{original}\n"
            "The inventory holds no application content, so hyperdock cannot copy it for you.\n")


_PLAIN_ARGUMENT = re.compile(r"[\x20\x21\x23-\x7e]+")  # printable ASCII without the double quote
_DNS_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


def _probe_binding(container: Container) -> tuple[str, int, str, bool] | None:
    """Return (protocol, port, host name, answers anonymously) of the binding to probe: HTTP first, then HTTPS."""
    found = []
    for site in container.iis_sites:
        for binding in site.bindings:
            parsed = parse_binding(binding)
            if parsed:
                protocol, _, port, host = parsed
                host = host if _DNS_NAME.fullmatch(host) else ""
                found.append((protocol != "http", protocol, port, host, not site.windows_authentication))
    return min(found)[1:] if found else None


# Silent but for errors, body discarded, at most 5 s; exit 0 on any HTTP status (curl without -f).
_HTTP_PROBE = ["curl.exe", "-sS", "-o", "NUL", "--max-time", "5"]


def _healthcheck(container: Container, image_os: str, nano: bool) -> str:
    """A probe: HTTP(S) on an IIS binding with its host name, else the service's state, else a TCP connect.

    curl.exe ships with Windows from build 17763 (and Nano Server); PowerShell 5.1's
    Invoke-WebRequest cannot set a Host header. HTTPS is probed by name (`--resolve` gives SNI the
    binding's host) without checking the chain: the probe asks whether the site answers. Any HTTP
    answer counts (no `-f`), for IIS and .NET images alike: a Web API answers 404 at `/`, a site
    without a default document 403, one with Windows authentication 401, and all of them are alive;
    curl still fails when nothing answers in time. The inventory names no health path to ask for.
    """
    ports = container.ports
    options = "HEALTHCHECK --interval=30s --timeout=10s CMD "
    if nano:
        return options + _exec_form(_HTTP_PROBE + [f"http://localhost:{ports[0]}/"]) if ports else "HEALTHCHECK NONE"
    binding = _probe_binding(container)
    has_curl = OS_BUILDS[image_os] >= OS_BUILDS["ltsc2019"]
    if binding and has_curl:
        protocol, port, host, _ = binding
        command = list(_HTTP_PROBE)
        if protocol == "https":
            name = host or "localhost"
            command += ["-k"] + (["--resolve", f"{host}:{port}:127.0.0.1"] if host else []) + [f"https://{name}:{port}/"]
        else:
            command += (["-H", f"Host:{host}"] if host else []) + [f"http://localhost:{port}/"]
        return options + _exec_form(command)
    if container.services and not container.iis_sites:
        probe = (f"if ((Get-Service -Name {ps_quote(container.services[0].name)}).Status -eq 'Running') "
                 "{ exit 0 } else { exit 1 }")
    elif ports:
        probe = (f"if ((Test-NetConnection -ComputerName localhost -Port {ports[0]}).TcpTestSucceeded) "
                 "{ exit 0 } else { exit 1 }")
    else:
        return "HEALTHCHECK NONE"
    return options + _exec_form(["powershell", "-NoProfile", "-Command", probe])


def _entrypoint(container: Container, nano: bool) -> str:
    """LogMonitor + start.ps1 for IIS and services; the program itself on Nano Server and for batch work."""
    if not nano and (container.iis_sites or container.services):
        return _WRAPPED_ENTRYPOINT
    if container.services:
        # Nano Server: a .NET app runs as the entry point and logs to stdout itself.
        service = container.services[0]
        binary = service.path_name
        folder = folder_of(binary, service_label(service.name))
        exe, _ = split_command(rebase_command(binary, folder))
        return f"ENTRYPOINT {_exec_form([exe])}"
    tasks = container.scheduled_tasks
    if tasks and tasks[0].execute:
        # A batch workload: the first task runs once in the foreground; the orchestrator schedules it.
        exe = task_program(tasks[0])
        if not _PLAIN_ARGUMENT.fullmatch(exe):
            # Quotes, control characters and non-ASCII do not survive Docker for Windows' command
            # line: PowerShell gets the path as Base64 instead.
            return f"ENTRYPOINT {_exec_form(['powershell', '-NoProfile', '-Command', f'& {ps_quote(exe)}; exit $LASTEXITCODE'])}"
        return f"ENTRYPOINT {_exec_form([exe])}"
    return 'ENTRYPOINT ["powershell", "-NoLogo", "-Command", "Write-Output \'no entry point found in the inventory\'; exit 1"]'
