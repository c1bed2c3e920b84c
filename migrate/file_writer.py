"""Creating a result's files: in this process, or in a writer process beside the renderer.

`TreeWriter` takes files one at a time (see `output.tree_writer`). Up to `spawn_after` files are
held and written when the result is finished. Past that, a writer process creates them as they
come: creating 200k files (50k VMs) is mostly the kernel's work, which then runs beside the
rendering of the next files instead of after it. Threads did not do: each waits for the GIL after
every system call, and on the 2-core ext4 machine four threads of one process spent twice the
kernel time of one."""

from __future__ import annotations

import errno
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Union

from .result_folder import check_relative, os_error
from .core.errors import InputError

# A file's content: text, UTF-8 bytes, or an iterable of either, written chunk by chunk as it is
# produced, so a large result is never held whole as well as the data it is made from.
Content = Union[str, bytes, Iterable[Union[str, bytes]]]

# Files held and written in one go before a writer process takes over. Measured on the shared 2-core
# machine: starting one (`python -I -S`) takes about 25 ms (10 ms of CPU), and creating a file there
# 100 to 250 us of kernel time (5 to 12 s per 40k files, 46 s per 200k), so past a few hundred files
# the overlap pays for the start.
SPAWN_AFTER = 500
# Writer processes, files dealt to them in turn. One: on that machine at 50k VMs two spent 62 s of
# kernel time where one spent 46 s, and took longer (68.6 s against 62.5 s): the kernel's file
# creation did not scale over two processes there. Creating the files is the bottleneck (the
# renderer waited 47 s of 62 on the pipe); a faster disk or a quiet machine may favour two.
WRITERS = 1
# Path length and content length of each file sent to a writer process, then the two.
_FRAME = struct.Struct("<IQ")
# Bytes a pipe to a writer holds (Linux: F_SETPIPE_SZ, at most /proc/sys/fs/pipe-max-size, 1 MiB by
# default): the renderer blocks, and the writer wakes, once per megabyte rather than per 64 KiB.
_PIPE_BYTES = 1 << 20
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)

# A writer process: works in the temporary folder (relative paths: the kernel looks up one or two
# names per file, not the whole absolute path), reads frames from stdin and creates each file as
# `create_file` does (mode 0666 less the umask it inherits), folders as needed (the other writer may
# have made one first). At the first failure it writes "<relative path>\0<reason>" to stdout and
# exits 1. Ctrl+C reaches the parent, which ends it.
_WRITER = r"""
import os, signal, struct, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
os.chdir(sys.argv[1])
read = open(0, "rb", buffering=1 << 20).read
frame = struct.Struct("<IQ")
flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
made = {b""}
relative = b""

def make(folder):
    parent = folder.rpartition(b"/")[0]
    if parent not in made:
        make(parent)
    try:
        os.mkdir(folder, 0o777)
    except FileExistsError:
        if not os.path.isdir(folder):
            raise
    made.add(folder)

try:
    while head := read(frame.size):
        path_size, data_size = frame.unpack(head)
        relative = read(path_size)
        data = read(data_size)
        folder = relative.rpartition(b"/")[0]
        if folder not in made:
            make(folder)
        fd = os.open(relative, flags, 0o666)
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


def create_file(path: Path | str, content: Content) -> None:
    """Create `path` (which must not exist) with `content`; mode 0666 less the umask."""
    chunks = (content,) if isinstance(content, (str, bytes)) else content
    fd = os.open(path, _FLAGS, 0o666)
    with os.fdopen(fd, "wb") as stream:
        for chunk in chunks:
            stream.write(chunk if isinstance(chunk, bytes) else chunk.encode("utf-8"))


class TreeWriter:
    """Creates the files put into it under a result's temporary folder `staging` (see `output.tree_writer`)."""

    def __init__(self, out_dir: Path, staging: Path, spawn_after: int = SPAWN_AFTER, writers: int = WRITERS) -> None:
        self.written: set[str] = set()
        self._folders: set[str] = {""}
        self._out_dir = out_dir
        self._root = str(staging)
        self._held: list[tuple[str, bytes]] = []
        self._spawn_after = spawn_after
        self._writers = writers
        self._children: list[subprocess.Popen] = []
        self._streams: list = []
        self._turn = 0

    def put(self, relative: str, content: Content) -> None:
        """Add one file (a relative path with `/`, and its content); each path once.

        InputError when the path is a folder of a file put before, or the other way round (the
        writers, each creating its share, could not say which came first)."""
        check_relative(relative)
        if relative in self.written:
            raise ValueError(f"written twice: {relative!r}")  # a bug in the caller, not bad input
        folder = relative.rpartition("/")[0]
        if folder not in self._folders:
            self._add_folders(relative, folder)
        if relative in self._folders:
            raise InputError(str(self._out_dir / relative), f"cannot write: {os.strerror(errno.EEXIST)}")
        self.written.add(relative)
        if isinstance(content, str):
            content = content.encode("utf-8")
        if not isinstance(content, bytes):
            self._write_here(relative, content)  # chunks (plan.json, report.md): written as they come, never held whole
        elif self._streams:
            self._send(relative, content)
        else:
            self._held.append((relative, content))
            if len(self._held) > self._spawn_after and self._spawn():
                held, self._held = self._held, []
                for item in held:
                    self._send(*item)

    def _add_folders(self, relative: str, folder: str) -> None:
        while folder not in self._folders:
            if folder in self.written:
                raise InputError(str(self._out_dir / relative), f"cannot write: {os.strerror(errno.EEXIST)}")
            self._folders.add(folder)
            folder = folder.rpartition("/")[0]

    def _write_here(self, relative: str, content: Content) -> None:
        folder = relative.rpartition("/")[0]
        try:
            if folder:
                os.makedirs(os.path.join(self._root, folder), exist_ok=True)
            create_file(os.path.join(self._root, relative), content)
        except OSError as exc:
            raise os_error(self._out_dir / relative, exc) from None

    def finish(self) -> None:
        """Return once every file put is on disk; raise InputError naming a file that could not be written."""
        held, self._held = self._held, []
        for relative, data in sorted(held, key=lambda item: item[0]):
            self._write_here(relative, data)
        children, self._children = self._children, []
        for stream in self._streams:
            try:
                stream.close()
            except BrokenPipeError:
                pass  # it stopped at a file it could not write: its report says which
        self._streams = []
        failures = []
        for child in children:
            report = child.stdout.read()
            child.stdout.close()
            if child.wait():
                failures.append((child.returncode, report))
        if failures:
            # The first by path, so the message does not depend on which writer got there first.
            named = sorted(report for _, report in failures if report[:1] not in (b"", b"\0"))
            if named:
                relative, _, reason = named[0].partition(b"\0")
                raise InputError(str(self._out_dir / os.fsdecode(relative)), f"cannot write: {reason.decode('utf-8', 'replace')}")
            code, report = failures[0]
            reason = report[1:].decode("utf-8", "replace")
            raise InputError(str(self._out_dir), f"cannot write: the writer process ended with {code}{': ' + reason if reason else ''}")

    def stop(self) -> None:
        """End the writer processes still running (after a failure or an interrupt)."""
        children, self._children = self._children, []
        self._streams = []
        for child in children:
            child.kill()
            child.wait()
            for stream in (child.stdin, child.stdout):
                try:
                    stream.close()
                except OSError:
                    pass

    def _spawn(self) -> bool:
        """Start the writer processes; False (files stay held) where no Python can be started."""
        try:
            if not sys.executable:
                raise OSError("no Python executable to start")
            for _ in range(self._writers):
                child = subprocess.Popen([sys.executable, "-I", "-S", "-c", _WRITER, self._root], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=_PIPE_BYTES)
                self._children.append(child)
                _widen(child.stdin)
        except OSError:
            self.stop()
            self._spawn_after = sys.maxsize  # not again: every file is held and written at the end
            return False
        self._streams = [child.stdin for child in self._children]
        return True

    def _send(self, relative: str, data: bytes) -> None:
        path = os.fsencode(relative)
        turn = self._turn
        self._turn = (turn + 1) % len(self._streams)
        stream = self._streams[turn]
        try:
            stream.write(_FRAME.pack(len(path), len(data)) + path)
            stream.write(data)
        except BrokenPipeError:
            self._streams[turn] = _Discard()  # it stopped at a file it could not write: finish() says which


def _widen(stream) -> None:
    """Give a pipe `_PIPE_BYTES` where the system allows it (Linux); otherwise leave it as it is."""
    try:
        import fcntl
    except ImportError:
        return
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        try:
            fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        except OSError:
            pass


class _Discard:
    """Where files go once a writer process has stopped."""

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass
