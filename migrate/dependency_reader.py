"""Dependency exports read in a child process while `assess` reads the inventory.

Reading an export and grouping its rows alike (`dependencies.distinct_rows`) needs no inventory,
and at 50,000 VMs it is the largest stage of `assess` (a 556 MB file). Past `CHILD_FROM_BYTES`, a
child process started before the inventory is read does it, beside the parent's Python work, and
sends the distinct rows back as Arrow IPC (about 1 row in 13 of the file's); the parent then
resolves the names. Below it, or where no child can be started, the exports are read in-process
when the parent asks for them: the same results, errors and order either way.

The child is `python -m migrate.dependency_reader PATH...`, not a multiprocessing child: spawn
would import the caller's main script again in the child, which breaks a script that calls
`assess` without an `if __name__ == "__main__":` guard. Its stdout carries, per export, one JSON
header line and then the Arrow IPC bytes it announces; its stderr is discarded (on any failure
the parent reads the export itself and meets the same outcome, worded by its own reader).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Iterator

import pyarrow as pa

from .core.errors import InputError
from .dependencies import DistinctRows, distinct_rows

# Exports smaller than this (all together) are read in-process: starting a Python that imports
# pyarrow costs about 0.3 s of CPU, and below about 25,000 VMs (100 rows each) the inventory is
# read before the child is done, so it saves little (the tests pay nothing). None: never start one.
CHILD_FROM_BYTES: int | None = 256 * 1024 * 1024

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the folder holding migrate/, for the child's import


class DependencyReader:
    """The distinct rows of each dependency export, in order; `with` it so a child is always ended.

    With the child, an export that is not readable raises the same InputError, at the same point
    (when its rows are asked for), as reading it in-process would.
    """

    def __init__(self, paths: list[Path], child_from_bytes: int | None = None):
        self.paths = list(paths)
        self.process: subprocess.Popen | None = None
        self._answered = 0  # exports the child has sent: once all are, it ends by itself
        threshold = CHILD_FROM_BYTES if child_from_bytes is None else child_from_bytes
        if self.paths and threshold is not None and _size(self.paths) >= threshold:
            self._start()

    def __enter__(self) -> DependencyReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[DistinctRows]:
        for path in self.paths:
            yield self._received() or distinct_rows(path)

    def close(self) -> None:
        """End the child, if one is still running (an inventory error, an interrupt, or done), and reap it."""
        process, self.process = self.process, None
        if process is not None:
            process.stdout.close()
            if self._answered == len(self.paths):
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
            if process.poll() is None:
                process.terminate()
            process.wait()

    def _start(self) -> None:
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(_PACKAGE_ROOT)] + ([environment["PYTHONPATH"]] if environment.get("PYTHONPATH") else []))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "migrate.dependency_reader", *map(str, self.paths)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment)
        except OSError:
            self.process = None  # no child: the exports are read in-process

    def _received(self) -> DistinctRows | None:
        """Return the child's next export, raise its InputError, or None (read this one in-process)
        when there is no child or it stopped without an answer."""
        if self.process is None:
            return None
        try:
            header = json.loads(self.process.stdout.readline() or b'{"kind": "failed"}')
            if header["kind"] == "rows":
                data = self.process.stdout.read(header["bytes"])
                if len(data) == header["bytes"]:
                    self._answered += 1
                    table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
                    return DistinctRows(header["path"], header["rows"], table)
            elif header["kind"] == "error":
                self.close()
                raise InputError(header["where"], header["message"], header["field"])
        except (OSError, ValueError, KeyError, pa.ArrowInvalid):
            pass
        # It failed some other way: reading in-process gives the very same outcome.
        self.close()
        return None


def _size(paths: list[Path]) -> int:
    """Return the exports' total size; an unreadable one counts 0 (reading it says why)."""
    total = 0
    for path in paths:
        try:
            total += os.path.getsize(path)
        except OSError:
            pass
    return total


def _send(out: IO[bytes], header: dict, data: bytes = b"") -> None:
    out.write(json.dumps(header).encode() + b"\n")
    out.write(data)
    out.flush()


def _child(paths: list[str], out: IO[bytes]) -> None:
    """The child process: each export's distinct rows as Arrow IPC, in order, up to the first
    InputError (sent as its parts). Anything else ends it with no header: the parent reads on its own."""
    # One core is the parent's, busy with the inventory: Arrow's threads take the others (a second
    # thread on a 2-core machine only slowed the parent down).
    pa.set_cpu_count(max(1, (os.cpu_count() or 2) - 1))
    for path in paths:
        try:
            distinct = distinct_rows(Path(path))
        except InputError as exc:
            _send(out, {"kind": "error", "where": exc.where, "message": exc.message, "field": exc.field})
            return
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, distinct.table.schema) as writer:
            writer.write_table(distinct.table)
        del distinct.table
        data = sink.getvalue()
        _send(out, {"kind": "rows", "path": str(distinct.path), "rows": distinct.rows, "bytes": data.size}, data)


if __name__ == "__main__":
    try:
        _child(sys.argv[1:], sys.stdout.buffer)
    except BrokenPipeError:
        pass  # the parent stopped listening (its inventory failed, or it was interrupted)
