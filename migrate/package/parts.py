"""Which guest folders a workload's image is built from, and which files never go into it.

The folder names are the ones the generated Dockerfile COPYs from (`content/<folder>/`), so
`package` fills exactly what `generate` expects; tests/test_package.py reads the Dockerfiles to
keep the two in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..contract.model import Container, Workload
from ..contract.names import application_label, service_label, site_label, task_label

# Left out of every build context, by the collector on the guest and again by `package` (and by
# .dockerignore): certificates with private keys, key files, logs, temporary files and dumps.
EXCLUDED_EXTENSIONS = (".pfx", ".p12", ".key", ".log", ".tmp", ".dmp")
# Folders left out at the top of a part: the usual places of logs and scratch files. Only at the
# top: `Views/Logs` of an MVC app is code.
EXCLUDED_TOP_FOLDERS = ("logs", "log", "temp", "tmp")


@dataclass(frozen=True, slots=True)
class ContentPart:
    """A guest folder (site, application, service or task) and its folder under content/."""

    kind: str
    name: str
    guest_path: str
    folder: str
    runtime: str | None = None   # the app pool's managedRuntimeVersion, for IIS parts


def normalize_guest_path(path: str) -> str:
    """Return a guest path for comparison: %SystemDrive% expanded, backslashes, lower case, no trailing slash."""
    text = re.sub(r"(?i)^%systemdrive%", "C:", (path or "").strip().strip('"')).replace("/", "\\")
    return text.rstrip("\\").lower()


def executable_folder(command: str) -> str:
    """Return the folder of a Windows command line's executable (quoted or not), or ''."""
    match = re.match(r'^\s*"([^"]+)"', command or "") or re.match(r"^\s*(\S+)", command or "")
    exe = match.group(1) if match else ""
    return exe.rsplit("\\", 1)[0] if "\\" in exe else ""


def _inside(path: str, folder: str) -> bool:
    a, b = normalize_guest_path(path), normalize_guest_path(folder)
    return bool(b) and (a == b or a.startswith(b + "\\"))


def content_parts(workload: Workload) -> list[ContentPart]:
    """Return the content parts of a container workload, in the Dockerfile's COPY order."""
    return container_parts(workload.container)


def container_parts(container: Container) -> list[ContentPart]:
    """Return the content parts of a workload's container, in the Dockerfile's COPY order."""
    parts: list[ContentPart] = []
    runtimes = {p.name: p.managed_runtime_version for p in container.app_pools}
    for site in container.iis_sites:
        parts.append(ContentPart("site", site.name, site.physical_path, site_label(site.name),
                                 runtimes.get(site.application_pool or "")))
        for app in site.applications:
            if not _inside(app.physical_path, site.physical_path):
                parts.append(ContentPart("application", f"{site.name}{app.path}", app.physical_path,
                                         application_label(site.name, app.path),
                                         runtimes.get(app.application_pool or site.application_pool or "")))
    for service in container.services:
        parts.append(ContentPart("service", service.name, executable_folder(service.path_name),
                                 service_label(service.name)))
    if container.is_batch:   # a batch workload: every task's folder
        for task in container.scheduled_tasks:
            parts.append(ContentPart("task", task.task_name, executable_folder(task.execute), task_label(task.task_name)))
    unique: dict[str, ContentPart] = {}
    for part in parts:
        unique.setdefault(part.folder, part)
    return list(unique.values())


def exclusion_reason(path: str) -> str | None:
    """Return why a file (relative to its part, forward slashes) stays out of the image, or None."""
    lower = path.lower()
    top = lower.split("/", 1)[0] if "/" in lower else None
    if top in EXCLUDED_TOP_FOLDERS:
        return f"in the {top}/ folder (logs and temporary files stay out of images)"
    for extension in EXCLUDED_EXTENSIONS:
        if lower.endswith(extension):
            kind = "a private key or certificate" if extension in (".pfx", ".p12", ".key") else "a log, temporary or dump file"
            return f"{extension} is {kind}: never in an image"
    return None
