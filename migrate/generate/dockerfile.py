"""A Dockerfile per container workload, from its plan entry.

Inventory values reach the Dockerfile only inside PowerShell string literals (`ps_quote`) or JSON
strings of exec-form instructions; paths that could not be written safely there are replaced by
`C:\\app\\<label>`. Content is not in the inventory: COPY takes it from `content/<label>/`, a
placeholder folder with a README that says what to put there.
"""

from __future__ import annotations

import json
import re

from .names import dns_label, env_name
from .powershell import container_path, iis_site_script, install_features, ps_quote, service_script

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
SERVICE_MONITOR = "C:\\ServiceMonitor.exe"
SERVICE_MONITOR_URL = "https://github.com/microsoft/IIS.ServiceMonitor/releases/download/v2.0.1.10/ServiceMonitor.exe"
_SAFE_PATH = re.compile(r"^C:\\[A-Za-z0-9 ._()\\-]*$")
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
    return mapped if _SAFE_PATH.match(mapped) else f"C:\\app\\{label}"


def _run(statements: list[str]) -> str:
    # `# escape=`` ` makes a trailing backtick the line continuation, as Windows Dockerfiles use.
    return "RUN " + "; `\n    ".join(statements)


def _features(workload: dict) -> list[str]:
    image = workload["baseImage"]
    present = ASPNET_IMAGE_FEATURES if "/aspnet:" in image else IIS_IMAGE_FEATURES if "/iis:" in image else set()
    return [f for f in workload["container"]["windowsFeatures"] if f.lower() not in present]


def render_dockerfile(workload: dict, label: str) -> tuple[str, dict[str, str]]:
    """Return (Dockerfile text, placeholder files by path relative to the container folder)."""
    container = workload["container"]
    image = workload["baseImage"]
    nano = "nanoserver" in image
    has_iis_image = "/aspnet:" in image or "/iis:" in image
    lines = ["# escape=`", f"# hyperdock: {label}, {workload['target']} isolation, wave {workload['wave']}.",
             "# Generated from plan.json by `hyperdock generate`; change the plan, then generate again.",
             f"FROM {image}"]
    lines.append(f'LABEL io.hyperdock.workload="{label}" io.hyperdock.isolation="{workload["target"]}"')
    placeholders: dict[str, str] = {}
    if not nano:
        lines.append(SHELL)
    setup: list[str] = []   # one RUN for features and IIS: fewer layers (hadolint DL3059)
    copies: list[str] = []
    registrations: list[str] = []
    features = _features(workload)
    if features and not nano:
        setup.append(install_features(features))

    pools = {p["name"]: p for p in container["appPools"]}
    for site in container["iisSites"]:
        site_label = dns_label(site["name"], "site")
        path = safe_container_path(site.get("physicalPath", ""), site_label)
        safe_site = dict(site, physicalPath=path, applications=[
            dict(a, physicalPath=safe_container_path(a.get("physicalPath", ""), f"{site_label}-{dns_label(a['path'], 'app')}"))
            for a in site.get("applications", [])])
        if not nano:
            setup.extend(iis_site_script(safe_site, pools))
        copies.append(f"COPY {json.dumps(['content/' + site_label + '/', _slashes(path) + '/'])}")
        placeholders[f"content/{site_label}/README.txt"] = _placeholder(f"IIS site {site['name']!r}", site.get("physicalPath", ""))

    services = container["services"]
    for service in services:
        service_label = dns_label(service["name"], "service")
        binary = service.get("pathName", "")
        folder = _folder_of(binary, service_label)
        copies.append(f"COPY {json.dumps(['content/' + service_label + '/', _slashes(folder) + '/'])}")
        placeholders[f"content/{service_label}/README.txt"] = _placeholder(f"Windows service {service['name']!r}", service.get("pathName", ""))
        if not nano:
            registrations.extend(service_script(dict(service, pathName=_rebase(binary, folder))))
    if not services and not container["iisSites"]:
        for task in container["scheduledTasks"][:1]:
            task_label = dns_label(task["taskName"], "task")
            folder = _folder_of(task.get("execute", ""), task_label)
            copies.append(f"COPY {json.dumps(['content/' + task_label + '/', _slashes(folder) + '/'])}")
            placeholders[f"content/{task_label}/README.txt"] = _placeholder(f"scheduled task {task['taskName']!r}", task.get("execute", ""))
    if setup:
        lines.append(_run(setup))
    lines.extend(sorted(set(copies), key=copies.index))
    if registrations:
        lines.append(_run(registrations))
    needs_monitor = not nano and not has_iis_image and (services or container["iisSites"])
    if needs_monitor:
        # Pinned release of Microsoft's ServiceMonitor, the foreground entry point for a service.
        lines.append(f"ADD {SERVICE_MONITOR_URL} C:/ServiceMonitor.exe")

    for parameter in container["parameters"]:
        lines.append(f"# runtime parameter (secret, never baked in): {env_name(parameter['name'])}")
    if container["ports"]:
        lines.append("EXPOSE " + " ".join(str(p) for p in container["ports"]))
    lines.append(_healthcheck(workload, nano))
    lines.append(_entrypoint(workload, nano))
    return "\n".join(lines) + "\n", placeholders


def _slashes(path: str) -> str:
    return path.replace("\\", "/")


def _folder_of(binary: str, label: str) -> str:
    exe, _ = _split_command(binary)
    folder = exe.rsplit("\\", 1)[0] if "\\" in exe else ""
    return safe_container_path(folder, label)


def _split_command(command: str) -> tuple[str, str]:
    """Return (executable, arguments) of a Windows command line, quoted or not."""
    match = re.match(r'^\s*"([^"]+)"(.*)$', command) or re.match(r"^\s*(\S+)(.*)$", command)
    return (match.group(1), match.group(2)) if match else ("", "")


def _rebase(binary: str, folder: str) -> str:
    """Return the command line with its executable moved into `folder` (quoted)."""
    exe, rest = _split_command(binary)
    return f'"{folder}\\{exe.rsplit(chr(92), 1)[-1]}"{rest}' if exe else binary


def _placeholder(what: str, original: str) -> str:
    return (f"Put the files of {what} here; on the VM they were in:\n{original}\n"
            "The inventory holds no application content, so hyperdock cannot copy it for you.\n")


def _healthcheck(workload: dict, nano: bool) -> str:
    """A probe: HTTP on an IIS http binding, else the service's state, else a TCP connect.

    Nano Server has no PowerShell: its (.NET) workloads are probed with curl.exe over HTTP.
    """
    container = workload["container"]
    ports = container["ports"]
    options = "HEALTHCHECK --interval=30s --timeout=10s CMD "
    if nano:
        return options + json.dumps(["curl.exe", "-fs", f"http://localhost:{ports[0]}/"]) if ports else "HEALTHCHECK NONE"
    http = sorted({p for site in container["iisSites"] for b in site.get("bindings", [])
                   if b.lower().startswith("http/") and (p := _binding_port(b))})
    if http:
        probe = (f"try {{ Invoke-WebRequest -UseBasicParsing -TimeoutSec 5 -Uri 'http://localhost:{http[0]}/' | Out-Null; exit 0 }} "
                 "catch { exit 1 }")
    elif container["services"] and not container["iisSites"]:
        probe = (f"if ((Get-Service -Name {ps_quote(container['services'][0]['name'])}).Status -eq 'Running') "
                 "{ exit 0 } else { exit 1 }")
    elif ports:
        probe = (f"if ((Test-NetConnection -ComputerName localhost -Port {ports[0]}).TcpTestSucceeded) "
                 "{ exit 0 } else { exit 1 }")
    else:
        return "HEALTHCHECK NONE"
    return options + json.dumps(["powershell", "-NoProfile", "-Command", probe])


def _binding_port(binding: str) -> int | None:
    parts = binding.partition("/")[2].split(":")
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


def _entrypoint(workload: dict, nano: bool) -> str:
    container = workload["container"]
    if container["iisSites"] and not nano:
        return f"ENTRYPOINT {json.dumps([SERVICE_MONITOR, 'w3svc'])}"
    if container["services"]:
        service = container["services"][0]
        if nano:
            binary = service.get("pathName", "")
            folder = _folder_of(binary, dns_label(service["name"], "service"))
            exe, _ = _split_command(_rebase(binary, folder))
            return f"ENTRYPOINT {json.dumps([exe])}"
        return f"ENTRYPOINT {json.dumps([SERVICE_MONITOR, service['name']])}"
    tasks = container["scheduledTasks"]
    if tasks and tasks[0].get("execute"):
        # A batch workload: the first task runs in the foreground; schedule the container instead.
        label = dns_label(tasks[0]["taskName"], "task")
        exe, _ = _split_command(_rebase(tasks[0]["execute"], _folder_of(tasks[0]["execute"], label)))
        return f"ENTRYPOINT {json.dumps([exe])}"
    return 'ENTRYPOINT ["powershell", "-NoLogo", "-Command", "Write-Output \'no entry point found in the inventory\'; exit 1"]'
