"""A Dockerfile per container workload, from its plan entry.

Inventory values reach the Dockerfile only inside PowerShell string literals (`ps_quote`) or JSON
strings of exec-form instructions; paths that could not be written safely there are replaced by
`C:\\app\\<label>`. Content is not in the inventory: COPY takes it from `content/<label>/`, a
placeholder folder with a README that says what to put there.
"""

from __future__ import annotations

import json
import re

from ..images import HOST_ONLY_FEATURES, OS_BUILDS
from ..package.parts import content_parts
from .configbuilders import config_targets, configure_script
from .configbuilders import run_statements as configure_statements
from .names import dns_label, env_name
from .powershell import (container_path, iis_prologue, iis_site_script, install_features, non_http_protocols,
                         parse_binding, ps_quote, service_script)
from .startup import LOGMONITOR_URL, LOGMONITOR_VERSION, entrypoint, https_bindings, logmonitor_config, start_script

# Features the IIS-based images already have (servercore/iis, dotnet/framework/aspnet).
IIS_IMAGE_FEATURES = {
    "web-server", "web-webserver", "web-common-http", "web-default-doc", "web-dir-browsing", "web-http-errors",
    "web-static-content", "web-health", "web-http-logging", "web-performance", "web-stat-compression",
    "web-security", "web-filtering",
}
ASPNET_IMAGE_FEATURES = IIS_IMAGE_FEATURES | {
    "web-app-dev", "web-net-ext45", "web-asp-net45", "web-isapi-ext", "web-isapi-filter", "net-framework-45-aspnet",
    "net-framework-45-core", "net-framework-45-features",
}
SERVICE_MONITOR_URL = "https://github.com/microsoft/IIS.ServiceMonitor/releases/download/v2.0.1.10/ServiceMonitor.exe"
_SAFE_PATH = re.compile(r"C:\\[A-Za-z0-9 ._()\\-]*")
SHELL = ('SHELL ["powershell", "-NoLogo", "-NoProfile", "-Command", '
         '"$ErrorActionPreference = \'Stop\'; $ProgressPreference = \'SilentlyContinue\';"]')


def safe_container_path(path: str, label: str) -> str:
    """Return where a guest folder of code or content lives in the image.

    Its own path when that is a plain path on C:; otherwise `C:\\app\\<label>`, because other
    drives are volumes in the container (`C:\\hyperdock\\<drive>`), and a volume over code would
    hide it.
    """
    if not (path or "").upper().startswith("C:\\"):
        return f"C:\\app\\{label}"
    mapped = container_path(path)
    return mapped if _SAFE_PATH.fullmatch(mapped) else f"C:\\app\\{label}"


def _run(statements: list[str]) -> str:
    # `# escape=`` ` makes a trailing backtick the line continuation, as Windows Dockerfiles use.
    return "RUN " + "; `\n    ".join(statements)


# .NET 3.5 features: Install-WindowsFeature fails for them on Server Core without a source; they
# come with NetFx3 instead (netfx3_script).
_NETFX3_FEATURES = {"net-framework-core", "net-framework-features", "web-asp-net", "web-net-ext"}
# WCF non-HTTP activation per protocol; WAS comes with them as a dependency (the wcf image's
# Dockerfile for ltsc2019 installs NET-WCF-TCP-Activation45 alone).
_ACTIVATION_FEATURES = {"net.tcp": "NET-WCF-TCP-Activation45", "net.pipe": "NET-WCF-Pipe-Activation45",
                        "net.msmq": "NET-WCF-MSMQ-Activation45", "msmq.formatname": "NET-WCF-MSMQ-Activation45"}


def _features(workload: dict) -> list[str]:
    """Return the features to install: the VM's, less the image's own, host-only and .NET 3.5 ones, plus WCF activation."""
    image = workload["baseImage"]
    present = ASPNET_IMAGE_FEATURES if "/framework/aspnet:" in image else IIS_IMAGE_FEATURES if "/iis:" in image else set()
    features = [f for f in workload["container"]["windowsFeatures"]
                if f.lower() not in present and f.lower() not in _NETFX3_FEATURES and not HOST_ONLY_FEATURES.fullmatch(f)]
    for site in workload["container"]["iisSites"]:
        features += [_ACTIVATION_FEATURES[p] for p in non_http_protocols(site)]
    return list(dict.fromkeys(features))


def netfx3_script(image_os: str, iis: bool) -> list[str]:
    """Return the statements that add .NET Framework 3.5 the way Microsoft's own 3.5 images did.

    microsoft/dotnet-framework-docker removed its 3.5 images on 2025-10-14 (commit 7e6e683b, #1262:
    tags not listed are not supported), so hyperdock keeps the supported 4.8.x image and adds
    NetFx3 as those Dockerfiles did: `dism /Online /Add-Capability /CapabilityName:NetFx3` on
    ltsc2022 and ltsc2025; `/Enable-Feature /FeatureName:NetFx3 /All` with Windows Update enabled
    for the step on ltsc2019/2016; then ASP.NET 3.5 for IIS (Web-Asp-Net).
    """
    check = "if ($LASTEXITCODE -notin 0, 3010) { throw ('dism.exe failed: ' + $LASTEXITCODE) }"
    if OS_BUILDS[image_os] >= OS_BUILDS["ltsc2022"]:
        lines = ["dism.exe /Online /NoRestart /Add-Capability /CapabilityName:NetFx3", check]
    else:
        lines = ["Set-Service -Name wuauserv -StartupType Automatic",
                 "dism.exe /Online /NoRestart /Enable-Feature /FeatureName:NetFx3 /All", check,
                 "Set-Service -Name wuauserv -StartupType Disabled"]
    return lines + (["Install-WindowsFeature -Name 'Web-Asp-Net'"] if iis else [])


def render_dockerfile(workload: dict, label: str) -> tuple[str, dict[str, str]]:
    """Return (Dockerfile text, the other files of its build context by relative path).

    Those files are the content placeholders and, for IIS and service images, `start.ps1` and
    `LogMonitorConfig.json` (see startup.py).
    """
    container = dict(workload["container"], iisSites=_all_addresses(workload["container"]["iisSites"]))
    workload = dict(workload, container=container)
    image = workload["baseImage"]
    nano = "nanoserver" in image
    has_iis_image = "/framework/aspnet:" in image or "/iis:" in image
    services = container["services"]
    sites = container["iisSites"]
    wrapped = not nano and bool(services or sites)  # LogMonitor + start.ps1
    lines = ["# escape=`", f"# hyperdock: {label}, {workload['target']} isolation, wave {workload['wave']}.",
             "# Generated from plan.json by `hyperdock generate`; change the plan, then generate again."]
    if wrapped:
        lines += ["# At start, start.ps1 (under LogMonitor, which sends logs to stdout) reads the parameters from the",
                  "# environment or C:\\hyperdock\\secrets, "
                  + ("imports C:\\hyperdock\\tls\\tls.pfx for HTTPS, " if https_bindings(container) else "")
                  + "and runs the app."]
    lines += [f"FROM {image}",
              f'LABEL io.hyperdock.workload="{label}" io.hyperdock.isolation="{workload["target"]}"']
    files: dict[str, str] = {}
    if not nano:
        lines.append(SHELL)
    setup: list[str] = []   # one RUN for features and IIS: fewer layers (hadolint DL3059)
    copies: list[str] = []
    registrations: list[str] = []
    features = _features(workload)
    if features and not nano:
        setup.append(install_features(features))
    if _needs_netfx3(container) and not nano:
        setup.extend(netfx3_script(workload["imageOS"], bool(sites)))

    folders: dict[str, tuple[str, bool]] = {}   # VM folder -> (its folder in the image, web application)
    pools = {p["name"]: p for p in container["appPools"]}
    if sites and not nano:
        setup.extend(iis_prologue())
    application_parts = {p.name: p for p in content_parts(workload) if p.kind == "application"}
    for site_id, site in enumerate(sites, start=1):
        site_label = dns_label(site["name"], "site")
        path = safe_container_path(site.get("physicalPath", ""), site_label)
        safe_site = dict(site, physicalPath=path, applications=[
            dict(a, physicalPath=safe_container_path(a.get("physicalPath", ""), f"{site_label}-{dns_label(a['path'], 'app')}"))
            for a in site.get("applications", [])])
        folders[_vm_folder(site.get("physicalPath", ""))] = (path, True)
        for app, safe_app in zip(site.get("applications", []), safe_site["applications"]):
            folders.setdefault(_vm_folder(app.get("physicalPath", "")), (safe_app["physicalPath"], True))
        if not nano:
            setup.extend(iis_site_script(safe_site, pools, site_id))
        copies.append(f"COPY {json.dumps(['content/' + site_label + '/', _slashes(path) + '/'])}")
        files[f"content/{site_label}/README.txt"] = _placeholder(f"IIS site {site['name']!r}", site.get("physicalPath", ""))
        if container["parameters"]:
            files[f"content/{site_label}/README.txt"] += _configuration_builders(container)
        # An application outside its site's folder has content of its own (`hyperdock package` fills it).
        for app in safe_site["applications"]:
            part = application_parts.get(f"{site['name']}{app['path']}")
            if part is not None:
                copies.append(f"COPY {json.dumps(['content/' + part.folder + '/', _slashes(app['physicalPath']) + '/'])}")
                files[f"content/{part.folder}/README.txt"] = _placeholder(f"IIS application {part.name!r}", part.guest_path)

    log_folders = []
    for service in services:
        service_label = dns_label(service["name"], "service")
        binary = service.get("pathName", "")
        folder = _folder_of(binary, service_label)
        log_folders.append(folder)
        folders.setdefault(_vm_folder(_split_command(binary)[0].rpartition("\\")[0]), (folder, False))
        copies.append(f"COPY {json.dumps(['content/' + service_label + '/', _slashes(folder) + '/'])}")
        files[f"content/{service_label}/README.txt"] = _placeholder(f"Windows service {service['name']!r}", service.get("pathName", ""))
        if not nano:
            registrations.extend(service_script(dict(service, pathName=_rebase(binary, folder))))
    if is_batch(container):
        for task in container["scheduledTasks"]:
            task_label = dns_label(task["taskName"], "task")
            folder = _folder_of(task.get("execute", ""), task_label)
            copies.append(f"COPY {json.dumps(['content/' + task_label + '/', _slashes(folder) + '/'])}")
            files[f"content/{task_label}/README.txt"] = _placeholder(f"scheduled task {task['taskName']!r}", task.get("execute", ""))
    targets = config_targets(container["parameters"], folders) if not nano else []
    if targets:
        files["configure-config.ps1"] = configure_script(targets)
        copies.append(f"COPY {json.dumps(['configure-config.ps1', 'C:/hyperdock/'])}")
        registrations[:0] = configure_statements()
    if setup:
        lines.append(_run(setup))
    lines.extend(sorted(set(copies), key=copies.index))
    if registrations:
        lines.append(_run(registrations))
    if wrapped and not has_iis_image:
        # Pinned release of Microsoft's ServiceMonitor (the IIS images already hold C:\ServiceMonitor.exe).
        lines.append(f"ADD {SERVICE_MONITOR_URL} C:/ServiceMonitor.exe")
    if wrapped:
        lines.append(f"# LogMonitor {LOGMONITOR_VERSION}, pinned; its SHA-256 is not verified by hyperdock: check the download.")
        lines.append(f"ADD {LOGMONITOR_URL} C:/LogMonitor/LogMonitor.exe")
        lines.append(f"COPY {json.dumps(['LogMonitorConfig.json', 'C:/LogMonitor/'])}")
        lines.append(f"COPY {json.dumps(['start.ps1', 'C:/hyperdock/'])}")
        files["LogMonitorConfig.json"] = logmonitor_config(container, log_folders)
        main_pool = (sites[0].get("applicationPool") or "DefaultAppPool") if sites else None
        port = _dotnet_port(workload)
        files["start.ps1"] = start_script(container, label, main_pool, [s["name"] for s in services],
                                          {"ASPNETCORE_HTTP_PORTS": str(port)} if port else None)

    port = _dotnet_port(workload)
    if port:
        # .NET 8+ images listen on ASPNETCORE_HTTP_PORTS (8080 by default); keep the VM's port.
        lines.append(f"ENV ASPNETCORE_HTTP_PORTS={port}")
    for parameter in container["parameters"]:
        lines.append(f"# runtime parameter (secret, never baked in): {env_name(parameter['name'])}")
    if container["ports"]:
        lines.append("EXPOSE " + " ".join(str(p) for p in container["ports"]))
    lines.append(_healthcheck(workload, nano))
    lines.append(_entrypoint(workload, nano))
    return "\n".join(lines) + "\n", files


def _all_addresses(sites: list[dict]) -> list[dict]:
    """Return the sites with HTTP(S) bindings on a VM address moved to all addresses (`*`).

    The container has one interface with an address of its own: a binding to the VM's address
    would never answer. A binding that would then clash with another (IP-based hosting of two
    sites on one port) keeps its address, and that site must be split into its own container.
    """
    used = {(p[0], p[2], p[3].lower()) for site in sites for b in site.get("bindings", [])
            if (p := parse_binding(b)) and p[1] == "*"}
    result = []
    for site in sites:
        bindings = []
        for binding in site.get("bindings", []):
            parsed = parse_binding(binding)
            if parsed and parsed[1] != "*" and (parsed[0], parsed[2], parsed[3].lower()) not in used:
                used.add((parsed[0], parsed[2], parsed[3].lower()))
                binding = f"{parsed[0]}/*:{parsed[2]}:{parsed[3]}"
            bindings.append(binding)
        result.append(dict(site, bindings=bindings))
    return result


def _vm_folder(path: str) -> str:
    """A VM folder as config_targets matches it: lower-case, without a trailing backslash."""
    return (path or "").strip().strip('"').rstrip("\\").lower()


def is_batch(container: dict) -> bool:
    """True for a workload whose only work is scheduled tasks: it runs on a schedule, never forever."""
    return not container["services"] and not container["iisSites"] and bool(container["scheduledTasks"])


def _needs_netfx3(container: dict) -> bool:
    """.NET 3.5 (CLR 2.0 app pools, or the NET-Framework-Core feature on the VM)."""
    return (any((p.get("managedRuntimeVersion") or "").lower().startswith("v2.") for p in container["appPools"])
            or any(f.lower() in _NETFX3_FEATURES for f in container["windowsFeatures"]))


def _dotnet_port(workload: dict) -> int | None:
    """Return the port a .NET 8+ image must listen on: the one the app used on the VM."""
    match = re.search(r"/dotnet/aspnet:(\d+)\.", workload["baseImage"])
    ports = workload["container"]["ports"]
    return ports[0] if match and int(match.group(1)) >= 8 and ports else None


def _configuration_builders(container: dict) -> str:
    """How a .NET Framework app gets the parameters from web.config (aspnet/MicrosoftConfigurationBuilders)."""
    names = ", ".join(sorted({p["name"] for p in container["parameters"]}))
    return ("\nConfiguration: the connection strings (" + names + ") are runtime parameters, set as environment\n"
            "variables of the app pool at start. For web.config to use them, the app must ship the NuGet package\n"
            "Microsoft.Configuration.ConfigurationBuilders.Environment (.NET Framework 4.7.1+); the image build\n"
            "(configure-config.ps1) then adds to web.config, unless it already has configBuilders:\n"
            '  <section name="configBuilders" type="System.Configuration.ConfigurationBuildersSection, ..." />\n'
            '  <configBuilders><builders><add name="HyperdockEnvironment" mode="Strict" '
            'type="Microsoft.Configuration.ConfigurationBuilders.EnvironmentConfigBuilder, '
            'Microsoft.Configuration.ConfigurationBuilders.Environment" /></builders></configBuilders>\n'
            '  <connectionStrings configBuilders="HyperdockEnvironment">\n'
            "Strict mode replaces each connection string whose name is an environment variable.\n")


def _slashes(path: str) -> str:
    return path.replace("\\", "/")


def _folder_of(binary: str, label: str) -> str:
    exe, _ = _split_command(binary)
    folder = exe.rsplit("\\", 1)[0] if "\\" in exe else ""
    return safe_container_path(folder, label)


def _split_command(command: str) -> tuple[str, str]:
    """Return (executable, arguments) of a Windows command line, quoted or not."""
    match = re.fullmatch(r'\s*"([^"]+)"(.*)', command, re.DOTALL) or re.fullmatch(r"\s*(\S+)(.*)", command, re.DOTALL)
    return (match.group(1), match.group(2)) if match else ("", "")


def _rebase(binary: str, folder: str) -> str:
    """Return the command line with its executable moved into `folder` (quoted)."""
    exe, rest = _split_command(binary)
    return f'"{folder}\\{exe.rsplit(chr(92), 1)[-1]}"{rest}' if exe else binary


def _placeholder(what: str, original: str) -> str:
    return (f"Put the files of {what} here; on the VM they were in:\n{original}\n"
            "The inventory holds no application content, so hyperdock cannot copy it for you.\n")


_PLAIN_ARGUMENT = re.compile(r"[\x20\x21\x23-\x7e]+")  # printable ASCII without the double quote
_DNS_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


def _probe_binding(container: dict) -> tuple[str, int, str, bool] | None:
    """Return (protocol, port, host name, answers anonymously) of the binding to probe: HTTP first, then HTTPS."""
    found = []
    for site in container["iisSites"]:
        for binding in site.get("bindings", []):
            parsed = parse_binding(binding)
            if parsed:
                protocol, _, port, host = parsed
                host = host if _DNS_NAME.fullmatch(host) else ""
                found.append((protocol != "http", protocol, port, host, not site.get("windowsAuthentication")))
    return min(found)[1:] if found else None


def _healthcheck(workload: dict, nano: bool) -> str:
    """A probe: HTTP(S) on an IIS binding with its host name, else the service's state, else a TCP connect.

    curl.exe ships with Windows from build 17763 (and Nano Server); PowerShell 5.1's
    Invoke-WebRequest cannot set a Host header. HTTPS is probed by name (`--resolve` gives SNI the
    binding's host) without checking the chain: the probe asks whether the site answers. A site
    with Windows authentication answers 401, so any HTTP answer counts there.
    """
    container = workload["container"]
    ports = container["ports"]
    options = "HEALTHCHECK --interval=30s --timeout=10s CMD "
    if nano:
        return options + json.dumps(["curl.exe", "-fs", f"http://localhost:{ports[0]}/"]) if ports else "HEALTHCHECK NONE"
    binding = _probe_binding(container)
    has_curl = OS_BUILDS[workload["imageOS"]] >= OS_BUILDS["ltsc2019"]
    if binding and has_curl:
        protocol, port, host, anonymous = binding
        command = ["curl.exe", "-sS" + ("f" if anonymous else ""), "-o", "NUL", "--max-time", "5"]
        if protocol == "https":
            name = host or "localhost"
            command += ["-k"] + (["--resolve", f"{host}:{port}:127.0.0.1"] if host else []) + [f"https://{name}:{port}/"]
        else:
            command += (["-H", f"Host:{host}"] if host else []) + [f"http://localhost:{port}/"]
        return options + json.dumps(command)
    if container["services"] and not container["iisSites"]:
        probe = (f"if ((Get-Service -Name {ps_quote(container['services'][0]['name'])}).Status -eq 'Running') "
                 "{ exit 0 } else { exit 1 }")
    elif ports:
        probe = (f"if ((Test-NetConnection -ComputerName localhost -Port {ports[0]}).TcpTestSucceeded) "
                 "{ exit 0 } else { exit 1 }")
    else:
        return "HEALTHCHECK NONE"
    return options + json.dumps(["powershell", "-NoProfile", "-Command", probe])


def _entrypoint(workload: dict, nano: bool) -> str:
    """LogMonitor + start.ps1 for IIS and services; the program itself on Nano Server and for batch work."""
    container = workload["container"]
    if not nano and (container["iisSites"] or container["services"]):
        return f"ENTRYPOINT {json.dumps(entrypoint())}"
    if container["services"]:
        # Nano Server: a .NET app runs as the entry point and logs to stdout itself.
        service = container["services"][0]
        binary = service.get("pathName", "")
        folder = _folder_of(binary, dns_label(service["name"], "service"))
        exe, _ = _split_command(_rebase(binary, folder))
        return f"ENTRYPOINT {json.dumps([exe])}"
    tasks = container["scheduledTasks"]
    if tasks and tasks[0].get("execute"):
        # A batch workload: the first task runs once in the foreground; the orchestrator schedules it.
        exe = task_command(tasks[0])
        if not _PLAIN_ARGUMENT.fullmatch(exe):
            # Quotes, control characters and non-ASCII do not survive Docker for Windows' command
            # line: PowerShell gets the path as Base64 instead.
            return f"ENTRYPOINT {json.dumps(['powershell', '-NoProfile', '-Command', f'& {ps_quote(exe)}; exit $LASTEXITCODE'])}"
        return f"ENTRYPOINT {json.dumps([exe])}"
    return 'ENTRYPOINT ["powershell", "-NoLogo", "-Command", "Write-Output \'no entry point found in the inventory\'; exit 1"]'


def task_command(task: dict) -> str:
    """Return where a scheduled task's program lives in the image."""
    label = dns_label(task["taskName"], "task")
    exe, _ = _split_command(_rebase(task.get("execute", ""), _folder_of(task.get("execute", ""), label)))
    return exe
