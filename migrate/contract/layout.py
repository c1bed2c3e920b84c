"""Where a workload's files live in its image: guest paths mapped onto the container's single drive.

One rule for the Dockerfile (COPY targets, service registration, the entry point) and the
Kubernetes objects (a CronJob's command), so a task's program is where the image put it.
"""

from __future__ import annotations

import re

from .names import data_mount, task_label

_SAFE_PATH = re.compile(r"C:\\[A-Za-z0-9 ._()\\-]*")


def container_path(path: str) -> str:
    """Map a guest path to where it lives in the container: only C: exists there.

    `D:\\data\\x` becomes `C:\\hyperdock\\D\\data\\x` (a volume is mounted at `names.data_mount("D")`).
    """
    match = re.fullmatch(r"([A-Za-z]):\\(.*)", path or "", re.DOTALL)
    if not match:
        return path or "C:\\inetpub\\wwwroot"
    drive, rest = match.group(1).upper(), match.group(2)
    return f"C:\\{rest}" if drive == "C" else f"{data_mount(drive)}\\{rest}"


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


def split_command(command: str) -> tuple[str, str]:
    """Return (executable, arguments) of a Windows command line, quoted or not."""
    match = re.fullmatch(r'\s*"([^"]+)"(.*)', command, re.DOTALL) or re.fullmatch(r"\s*(\S+)(.*)", command, re.DOTALL)
    return (match.group(1), match.group(2)) if match else ("", "")


def folder_of(binary: str, label: str) -> str:
    """Return the image folder of a command line's executable (`safe_container_path` of its folder)."""
    exe, _ = split_command(binary)
    folder = exe.rsplit("\\", 1)[0] if "\\" in exe else ""
    return safe_container_path(folder, label)


def rebase_command(binary: str, folder: str) -> str:
    """Return the command line with its executable moved into `folder` (quoted)."""
    exe, rest = split_command(binary)
    return f'"{folder}\\{exe.rsplit(chr(92), 1)[-1]}"{rest}' if exe else binary


def task_program(task) -> str:
    """Return where a scheduled task's program (a model.ScheduledTask) lives in the image."""
    exe, _ = split_command(rebase_command(task.execute, folder_of(task.execute, task_label(task.task_name))))
    return exe
