"""A result folder's bookkeeping: its manifest, the paths it may hold, stale temporaries, the swap.

`output.tree_writer` writes a result into `.<name>.hyperdock-<pid>.new` beside it and swaps it in
here; the manifest says which files hyperdock wrote, so the next run replaces exactly those and
carries the user's own over.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

from .core.errors import InputError

MANIFEST = ".hyperdock-manifest"
MANIFEST_HEADER = "# Files written by hyperdock; the next run replaces these and keeps the rest.\n"
TEMP_TAG = ".hyperdock-"


def os_error(path: Path | str, exc: OSError) -> InputError:
    """Return the InputError for a file or folder that could not be written."""
    return InputError(str(path), f"cannot write: {exc.strerror or exc}")


def is_relative(relative: str) -> bool:
    """True for a plain relative result path (`/`-separated, no `..`, not the manifest)."""
    parts = relative.split("/")
    return bool(relative) and not relative.startswith("/") and "\\" not in relative and "\0" not in relative \
        and all(p not in ("", ".", "..") for p in parts) and parts[0] != MANIFEST


def check_relative(relative: str) -> None:
    """Raise ValueError (a bug in the caller, not bad input) for a path `is_relative` refuses."""
    if not is_relative(relative):
        raise ValueError(f"not a result path: {relative!r}")


def read_manifest(folder: Path) -> set[str]:
    """Return the files a previous run listed in `folder`'s manifest (empty when there is none)."""
    try:
        text = (folder / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    # Only plain relative paths count: a manifest edited to name ../elsewhere changes nothing outside.
    return {line for line in text.split("\n") if not line.startswith("#") and is_relative(line)}


def temporary_name(name: str, suffix: str) -> str:
    """Return the name of this process's temporary sibling of `name` (`.new` or `.old`)."""
    return f".{name}{TEMP_TAG}{os.getpid()}.{suffix}"


def remove_stale_temporaries(parent: Path, name: str) -> None:
    """Remove temporaries (folders or files) of earlier runs into `name` whose process is gone."""
    prefix = f".{name}{TEMP_TAG}"
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(".new")):
            continue
        pid = entry.name[len(prefix):-len(".new")]
        if pid.isascii() and pid.isdigit() and not process_exists(int(pid)):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                Path(entry.path).unlink(missing_ok=True)


def process_exists(pid: int) -> bool:
    """Return whether process `pid` (not this one) may still be running; sends it nothing.

    POSIX: `kill(pid, 0)` checks without signalling. Windows has no such probe in `os`: there
    `os.kill(pid, 0)` sends CTRL_C_EVENT (signal.CTRL_C_EVENT is 0) to a process group, and any other
    signal ends the process through TerminateProcess (Python's os.kill documentation), so Windows
    asks the process's exit code instead (`_windows_process_exists`). When unsure the answer is
    True: a temporary is kept rather than removed under a running process.
    """
    if pid == os.getpid():
        return False
    if os.name == "nt":
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        kernel32.OpenProcess.restype = wintypes.HANDLE
        kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
        return _windows_process_exists(pid, kernel32, ctypes.get_last_error)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


_PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
_ERROR_INVALID_PARAMETER = 87  # OpenProcess's error for a process id that names no process
_STILL_ACTIVE = 259


def _windows_process_exists(pid: int, kernel32, last_error) -> bool:
    """Return whether `pid` runs, through Win32 calls that cannot end or signal it.

    The process is opened for PROCESS_QUERY_LIMITED_INFORMATION, which allows nothing but queries,
    and asked for its exit code, STILL_ACTIVE while it runs (OpenProcess and GetExitCodeProcess in
    Microsoft's Win32 reference; psutil's pid_exists does the same). `kernel32` is ctypes' kernel32
    and `last_error` ctypes.get_last_error (tests give their own: there is no Windows here)."""
    from ctypes import byref, wintypes

    handle = kernel32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        return last_error() != _ERROR_INVALID_PARAMETER  # access denied: it exists
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, byref(code)):
            return True
        return code.value == _STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def check_conflicts(out_dir: Path, files: set[str], previous: set[str]) -> None:
    """Refuse a result that would land on a user's folder (or under a user's file) of the same name."""
    if not out_dir.is_dir():
        return
    # Plain strings, not Paths: a result of 50k VMs has 180k files.
    root = str(out_dir)
    folders = set()
    for relative in files:
        end = relative.rfind("/")
        while end > 0 and relative[:end] not in folders:
            folders.add(relative[:end])
            end = relative.rfind("/", 0, end)
    for relative in sorted(files):
        try:
            mode = os.lstat(os.path.join(root, relative)).st_mode
        except OSError:
            continue
        if stat.S_ISDIR(mode):
            raise InputError(str(out_dir / relative), "is a folder; hyperdock writes a file of that name here")
    for folder in sorted(folders):
        path = os.path.join(root, folder)
        if os.path.lexists(path) and not os.path.isdir(path) and folder not in previous:
            raise InputError(str(out_dir / folder), "is a file; hyperdock writes a folder of that name here")


def swap(out_dir: Path, staging: Path, previous: set[str], written: set[str]) -> None:
    """Carry the user's files from `out_dir` into `staging`, then put `staging` in its place."""
    if not out_dir.exists():
        os.rename(staging, out_dir)
        return
    if _holds_working_folder(out_dir):
        # Renaming it would leave the shell that started hyperdock in a deleted folder.
        _merge_in_place(out_dir, staging, previous, written)
        return
    retired = out_dir.parent / temporary_name(out_dir.name, "old")
    shutil.rmtree(retired, ignore_errors=True)
    try:
        os.rename(out_dir, retired)
    except OSError as exc:
        if exc.errno not in (errno.EBUSY, errno.EXDEV, errno.EPERM, errno.EACCES, errno.EINVAL):
            raise os_error(out_dir, exc) from None
        _merge_in_place(out_dir, staging, previous, written)  # a mount point or the working folder
        return
    os.rename(staging, out_dir)
    ours = previous | written | {MANIFEST}
    owned_folders = {"/".join(r.split("/")[:i]) for r in ours for i in range(1, r.count("/") + 1)}
    _carry_user_files(retired, out_dir, ours, owned_folders, "")
    shutil.rmtree(retired, ignore_errors=True)


def _holds_working_folder(folder: Path) -> bool:
    try:
        here = Path(os.getcwd())
    except OSError:
        return False
    return here == folder or folder in here.parents


def _carry_user_files(source: Path, target: Path, ours: set[str], owned_folders: set[str], prefix: str) -> None:
    """Move every entry of `source` that hyperdock did not write into `target`, keeping its place."""
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        relative = f"{prefix}{entry.name}"
        destination = target / entry.name
        if relative in ours:
            continue
        if relative in owned_folders and entry.is_dir(follow_symlinks=False):
            _carry_user_files(Path(entry.path), destination, ours, owned_folders, relative + "/")
        elif not destination.exists() and not destination.is_symlink():
            target.mkdir(parents=True, exist_ok=True)  # a folder of a workload gone since: kept for the user's file
            os.rename(entry.path, destination)


def _merge_in_place(out_dir: Path, staging: Path, previous: set[str], written: set[str]) -> None:
    """Where `out_dir` itself cannot be renamed: replace the files one by one, then drop stale ones."""
    for relative in sorted(written) + [MANIFEST]:
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / relative, target)
    for relative in sorted(previous - written):
        path = out_dir / relative
        if path.is_file() or path.is_symlink():
            path.unlink()
            for folder in path.parents:  # folders left empty go too; a user's file keeps its own
                if folder == out_dir or any(folder.iterdir()):
                    break
                folder.rmdir()
