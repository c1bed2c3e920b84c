"""Writing results all-or-nothing.

A result folder is written whole into a temporary sibling folder, then swapped in with two renames,
so an interrupted or failed run leaves the previous result as it was. A manifest in the folder
lists the files hyperdock wrote: the next run replaces exactly those and carries everything else
(the operator's application content, secrets) over into the new result. Files are created with
mode 0666 and directories 0777, less the umask, as any other tool's output.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Union

import orjson

from .core.errors import InputError

MANIFEST = ".hyperdock-manifest"
MANIFEST_HEADER = "# Files written by hyperdock; the next run replaces these and keeps the rest.\n"
_TEMP_TAG = ".hyperdock-"
# Files held and written in one go before a writer process takes over (see TreeWriter).
SPAWN_AFTER = 2000
# Path length and content length of each file sent to the writer process, then the two.
_FRAME = struct.Struct("<IQ")
# The writer process: reads frames from stdin, creates each file as `_write_file` does (mode 0666
# less the umask it inherits), folders as needed; at the first failure it writes
# "<relative path>\0<reason>" to stdout and exits 1. Ctrl+C reaches the parent, which ends it.
_WRITER = r"""
import os, signal, struct, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
root = os.fsencode(sys.argv[1])
read = sys.stdin.buffer.read
frame = struct.Struct("<IQ")
flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
made = {b""}
relative = b""
try:
    while head := read(frame.size):
        path_size, data_size = frame.unpack(head)
        relative = read(path_size)
        data = read(data_size)
        folder = relative.rpartition(b"/")[0]
        if folder not in made:
            os.makedirs(os.path.join(root, folder), exist_ok=True)
            made.add(folder)
        fd = os.open(os.path.join(root, relative), flags, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
except OSError as exc:
    sys.stdout.buffer.write(relative + b"\0" + str(exc.strerror or exc).encode("utf-8", "replace"))
    sys.exit(1)
except BaseException as exc:
    sys.stdout.buffer.write(b"\0" + repr(exc).encode("utf-8", "replace"))
    sys.exit(2)
"""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; raised where Python next runs, unwinding every cleanup."""


def to_json(document: object) -> bytes:
    """Return the canonical JSON hyperdock writes: UTF-8, indented by two, newline-terminated.

    orjson because the stdlib encoder falls back to pure Python when indenting: 20x slower on a
    50k-VM plan. Bytes, so a 160 MB plan is not decoded and encoded again on its way to disk.
    """
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def json_text(document: object) -> str:
    """Return `json.dumps(document, indent=2)` and a newline: the stdlib's text, non-ASCII escaped.

    For documents without floats (their spelling may differ). orjson writes it where the two give
    the same text (printable ASCII throughout); the stdlib's encoder, pure Python when indenting,
    took 2 s of `generate` at 50k VMs for LogMonitorConfig.json alone.
    """
    try:
        data = orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:  # a lone surrogate, an integer past 64 bits, a key that is not a string
        data = b"\x80"
    if data.isascii() and b"\x7f" not in data:
        return data.decode("ascii")
    return json.dumps(document, indent=2) + "\n"


# A file's content: text, UTF-8 bytes, or an iterable of either, written chunk by chunk as it is
# produced, so a large result is never held whole as well as the data it is made from.
Content = Union[str, bytes, Iterable[Union[str, bytes]]]

_INDENT = orjson.OPT_INDENT_2
_BATCH = 1000  # list items serialized per orjson call when streaming: few calls, small chunks


def json_chunks(document: dict) -> Iterator[bytes]:
    """Yield `to_json(document)` for a JSON object in pieces, byte for byte the same.

    A top-level list is serialized a batch of items at a time, each batch inside a one-key object
    so orjson indents it as it would in place, so a 160 MB plan.json never exists as one bytes
    object and no byte is copied to re-indent it.
    """
    if not document:
        yield to_json(document)
        return
    separator = b"{\n"
    for key, value in document.items():
        if isinstance(value, list) and value:
            opening = b"{\n  " + orjson.dumps(key) + b": [\n"
            yield separator + opening[2:]
            for start in range(0, len(value), _BATCH):
                batch = orjson.dumps({key: value[start:start + _BATCH]}, option=_INDENT)
                yield (b",\n" if start else b"") + batch[len(opening):-len(b"\n  ]\n}")]
            yield b"\n  ]"
        else:
            yield separator + orjson.dumps({key: value}, option=_INDENT)[2:-2]
        separator = b",\n"
    yield b"\n}\n"


def _raise_interrupted(signum, frame) -> None:
    raise Interrupted(signal.Signals(signum).name)


@contextmanager
def interrupts_raise() -> Iterator[None]:
    """Turn SIGTERM (and SIGINT) into `Interrupted` for the duration, so cleanups run on both."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block is done, then raise `Interrupted` if one came.

    Around the swap: a handful of renames that must not stop half-way.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if pending:
        raise Interrupted(signal.Signals(pending[0]).name)


@contextmanager
def cyclic_gc_paused():
    """Pause the cyclic garbage collector for a batch run (assess, generate).

    An assessment builds millions of small acyclic objects; every generation-2 pass rescans all of
    them, which more than doubles the time to read a 50k-VM inventory (and `generate`'s reading of
    the plan: 8 s against 3 s at 50k). Reference counting still frees memory as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Everything made meanwhile waits in the youngest generation: the first collection after
        # enabling would scan it all (0.85 s at 50k VMs). Frozen, it is never scanned; reference
        # counting still frees it, only cycles among those objects stay until the process ends.
        gc.freeze()
        if was_enabled:
            gc.enable()


def _os_error(path: Path | str, exc: OSError) -> InputError:
    return InputError(str(path), f"cannot write: {exc.strerror or exc}")


def _write_file(path: Path | str, content: Content) -> None:
    """Create `path` (which must not exist) with `content`; mode 0666 less the umask."""
    chunks = (content,) if isinstance(content, (str, bytes)) else content
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    with os.fdopen(fd, "wb") as stream:
        for chunk in chunks:
            stream.write(chunk if isinstance(chunk, bytes) else chunk.encode("utf-8"))


def _is_relative(relative: str) -> bool:
    parts = relative.split("/")
    return bool(relative) and not relative.startswith("/") and "\\" not in relative and "\0" not in relative \
        and all(p not in ("", ".", "..") for p in parts) and parts[0] != MANIFEST


def _check_relative(relative: str) -> None:
    if not _is_relative(relative):
        raise ValueError(f"not a result path: {relative!r}")  # a bug in the caller, not bad input


def _read_manifest(folder: Path) -> set[str]:
    """Return the files a previous run listed in `folder`'s manifest (empty when there is none)."""
    try:
        text = (folder / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    # Only plain relative paths count: a manifest edited to name ../elsewhere changes nothing outside.
    return {line for line in text.split("\n") if not line.startswith("#") and _is_relative(line)}


def _remove_stale_temporaries(parent: Path, name: str) -> None:
    """Remove temporaries (folders or files) of earlier runs into `name` that were killed before the swap."""
    prefix = f".{name}{_TEMP_TAG}"
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(".new")):
            continue
        pid = entry.name[len(prefix):-len(".new")]
        if pid.isascii() and pid.isdigit() and not _alive(int(pid)):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                Path(entry.path).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def write_tree(out_dir: Path, files: dict[str, Content]) -> None:
    """Make `out_dir` hold exactly `files` (relative path → text, UTF-8 bytes, or an iterable of
    either, consumed once) plus the user's own files.

    As `tree_writer` with every file put in path order. Raises InputError for a `--out` that cannot
    hold the result.
    """
    with tree_writer(out_dir) as tree:
        for relative, content in sorted(files.items()):
            tree.put(relative, content)


@contextmanager
def tree_writer(out_dir: Path, spawn_after: int = SPAWN_AFTER) -> Iterator[TreeWriter]:
    """Yield a `TreeWriter` whose files, once the block ends without an exception, make up `out_dir`
    (plus the user's own files).

    Everything is written into `.<name>.hyperdock-<pid>.new` beside `out_dir`; then, with SIGINT and
    SIGTERM held, the user's files (those not in the previous manifest) move across and the folder
    is swapped in. Any failure before the swap (an exception in the block included) removes the
    temporary folder and leaves `out_dir` as it was. Raises InputError for a `--out` that cannot
    hold the result.
    """
    out_dir = Path(os.path.abspath(out_dir))
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(str(out_dir), "exists and is not a folder; --out needs a folder")
    if out_dir.parent == out_dir:
        raise InputError(str(out_dir), "cannot be the root folder; --out needs a folder of its own")
    previous = _read_manifest(out_dir) if out_dir.is_dir() else set()
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(out_dir.parent, exc) from None
    _remove_stale_temporaries(out_dir.parent, out_dir.name)
    staging = out_dir.parent / f".{out_dir.name}{_TEMP_TAG}{os.getpid()}.new"
    shutil.rmtree(staging, ignore_errors=True)
    tree = None
    try:
        try:
            os.mkdir(staging, 0o777)
        except OSError as exc:
            raise InputError(str(out_dir), f"cannot write a temporary folder beside it: {exc.strerror or exc}") from None
        tree = TreeWriter(out_dir, staging, spawn_after)
        yield tree
        tree.finish()
        _check_conflicts(out_dir, tree.written, previous)
        _write_file(staging / MANIFEST, MANIFEST_HEADER + "".join(f"{r}\n" for r in sorted(tree.written)))
        with interrupts_deferred():
            _swap(out_dir, staging, previous, tree.written)
    finally:
        if tree is not None:
            tree.stop()
        shutil.rmtree(staging, ignore_errors=True)


class TreeWriter:
    """Creates the files put into it under a result's temporary folder (see `tree_writer`).

    Up to `spawn_after` files are held and written in path order when the result is finished, as
    one process. Past that, a writer process creates them as they come: creating 180k files (50k
    VMs) is mostly the kernel's work, which then runs beside the rendering of the next files
    instead of after it. A thread did not do: it waits for the GIL after each system call and
    slowed the renderer down threefold.
    """

    def __init__(self, out_dir: Path, staging: Path, spawn_after: int) -> None:
        self.written: set[str] = set()
        self._out_dir = out_dir
        self._root = str(staging)
        self._held: list[tuple[str, Content]] = []
        self._spawn_after = spawn_after
        self._child: subprocess.Popen | None = None
        self._stream = None

    def put(self, relative: str, content: Content) -> None:
        """Add one file (a relative path with `/`, and its content); each path once."""
        _check_relative(relative)
        if relative in self.written:
            raise ValueError(f"written twice: {relative!r}")  # a bug in the caller, not bad input
        if isinstance(content, str):
            content = content.encode("utf-8")
        self.written.add(relative)
        if self._stream is None:
            self._held.append((relative, content))
            if len(self._held) <= self._spawn_after or not self._spawn():
                return
            held, self._held = self._held, []
            for item in held:
                self._pass_on(*item)
        else:
            self._pass_on(relative, content)

    def _pass_on(self, relative: str, content: Content) -> None:
        if isinstance(content, bytes):
            self._send(relative, content)
            return
        # Chunks (plan.json, report.md) are written here as they come, not held whole to be sent.
        folder = relative.rpartition("/")[0]
        try:
            if folder:
                os.makedirs(os.path.join(self._root, folder), exist_ok=True)
            _write_file(os.path.join(self._root, relative), content)
        except OSError as exc:
            raise _os_error(self._out_dir / relative, exc) from None

    def finish(self) -> None:
        """Return once every file put is on disk; raise InputError naming a file that could not be written."""
        if self._child is None:
            made = {""}
            for relative, data in sorted(self._held, key=lambda item: item[0]):
                folder = relative.rpartition("/")[0]
                try:
                    if folder not in made:
                        os.makedirs(os.path.join(self._root, folder), exist_ok=True)
                        made.add(folder)
                    _write_file(os.path.join(self._root, relative), data)
                except OSError as exc:
                    raise _os_error(self._out_dir / relative, exc) from None
            self._held = []
            return
        child, self._child = self._child, None
        try:
            self._stream.close()
        except BrokenPipeError:
            pass  # it stopped at a file it could not write: its report says which
        self._stream = None
        report = child.stdout.read()
        child.stdout.close()
        if child.wait():
            relative, _, reason = report.partition(b"\0")
            if relative:
                raise InputError(str(self._out_dir / os.fsdecode(relative)), f"cannot write: {reason.decode('utf-8', 'replace')}")
            raise InputError(str(self._out_dir), f"cannot write: the writer process ended with {child.returncode}"
                                                 f"{': ' + reason.decode('utf-8', 'replace') if reason else ''}")

    def stop(self) -> None:
        """End the writer process, if one is still running (after a failure or an interrupt)."""
        child, self._child = self._child, None
        if child is not None:
            child.kill()
            child.wait()
            for stream in (child.stdin, child.stdout):
                try:
                    stream.close()
                except OSError:
                    pass

    def _spawn(self) -> bool:
        """Start the writer process; False (files stay held) where no Python can be started."""
        try:
            if not sys.executable:
                raise OSError("no Python executable to start")
            self._child = subprocess.Popen([sys.executable, "-I", "-S", "-c", _WRITER, self._root], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=1 << 20)
        except OSError:
            self._spawn_after = sys.maxsize  # not again: every file is held and written at the end
            return False
        self._stream = self._child.stdin
        return True

    def _send(self, relative: str, data: bytes) -> None:
        path = os.fsencode(relative)
        try:
            self._stream.write(_FRAME.pack(len(path), len(data)) + path)
            self._stream.write(data)
        except BrokenPipeError:
            self._stream = _Discard()  # it stopped at a file it could not write: finish() says which


class _Discard:
    """Where files go once the writer process has stopped."""

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def _check_conflicts(out_dir: Path, files: set[str], previous: set[str]) -> None:
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


def _swap(out_dir: Path, staging: Path, previous: set[str], written: set[str]) -> None:
    """Carry the user's files from `out_dir` into `staging`, then put `staging` in its place."""
    if not out_dir.exists():
        os.rename(staging, out_dir)
        return
    if _holds_working_folder(out_dir):
        # Renaming it would leave the shell that started hyperdock in a deleted folder.
        _merge_in_place(out_dir, staging, previous, written)
        return
    retired = out_dir.parent / f".{out_dir.name}{_TEMP_TAG}{os.getpid()}.old"
    shutil.rmtree(retired, ignore_errors=True)
    try:
        os.rename(out_dir, retired)
    except OSError as exc:
        if exc.errno not in (errno.EBUSY, errno.EXDEV, errno.EPERM, errno.EACCES, errno.EINVAL):
            raise _os_error(out_dir, exc) from None
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


def write_file(path: Path, content: Content) -> None:
    """Write one file all-or-nothing: a temporary sibling, then a rename over `path`."""
    path = Path(os.path.abspath(path))
    if path.is_dir():
        raise InputError(str(path), "is a folder; --out needs a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(path.parent, exc) from None
    _remove_stale_temporaries(path.parent, path.name)
    temporary = path.parent / f".{path.name}{_TEMP_TAG}{os.getpid()}.new"
    try:
        temporary.unlink(missing_ok=True)
        _write_file(temporary, content)
        with interrupts_deferred():
            os.replace(temporary, path)
    except OSError as exc:
        raise _os_error(path, exc) from None
    finally:
        temporary.unlink(missing_ok=True)


def write_files(out_dir: Path, files: dict[str, Content]) -> None:
    """Former name of `write_tree`, kept for callers outside the command line (benchmarks)."""
    write_tree(out_dir, files)
