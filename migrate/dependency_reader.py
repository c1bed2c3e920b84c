"""Dependency exports read in a child process while `assess` reads the inventory.

Reading an export and grouping its rows alike (`dependencies.distinct_rows`) needs no inventory,
and at 50,000 VMs it is the largest stage of `assess` (a 556 MB file). Past `CHILD_FROM_BYTES`, a
child process started before the inventory is read does it, beside the parent's Python work, and
sends the distinct rows back as Arrow IPC (about 1 row in 13 of the file's); the parent then
resolves the names. Below it, or where no child can be started, the exports are read in-process
when the parent asks for them: the same results, errors and order either way.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Iterator

import pyarrow as pa

from .core.errors import InputError
from .dependencies import DistinctRows, distinct_rows

# Exports smaller than this (all together) are read in-process: starting a Python that imports
# pyarrow costs about 0.3 s of CPU, and below about 25,000 VMs (100 rows each) the inventory is
# read before the child is done, so it saves little (the tests pay nothing). None: never start one.
CHILD_FROM_BYTES: int | None = 256 * 1024 * 1024


class DependencyReader:
    """The distinct rows of each dependency export, in order; `with` it so a child is always ended.

    With the child, an export that is not readable raises the same InputError, at the same point
    (when its rows are asked for), as reading it in-process would.
    """

    def __init__(self, paths: list[Path], child_from_bytes: int | None = None):
        self.paths = list(paths)
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
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
        """End the child, if one is still running (an inventory error, an interrupt, or done)."""
        conn, process, self._conn, self._process = self._conn, self._process, None, None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                process.terminate()
            process.join()

    def _start(self) -> None:
        # spawn, not fork: the parent may already run Arrow's threads, and spawn is what Windows has.
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=([str(p) for p in self.paths], sender),
                                  name="hyperdock-dependencies", daemon=True)
        try:
            process.start()
        except OSError:
            receiver.close()
            return  # no child: the exports are read in-process
        finally:
            sender.close()
        self._conn, self._process = receiver, process

    def _received(self) -> DistinctRows | None:
        """Return the child's next export, raise its InputError, or None (read this one in-process)
        when there is no child or it stopped without an answer."""
        if self._conn is None:
            return None
        try:
            message = self._conn.recv()
            if message[0] == "rows":
                table = pa.ipc.open_stream(pa.py_buffer(self._conn.recv_bytes())).read_all()
                return DistinctRows(message[1], message[2], table)
            if message[0] == "error":
                self.close()
                raise InputError(*message[1:])
        except (EOFError, OSError):
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


def _child(paths: list[str], conn: Connection) -> None:
    """The child process: each export's distinct rows as Arrow IPC, in order, up to the first
    InputError (sent as its parts); anything else ends it with ("failed",)."""
    # One core is the parent's, busy with the inventory: Arrow's threads take the others (a second
    # thread on a 2-core machine only slowed the parent down).
    pa.set_cpu_count(max(1, (os.cpu_count() or 2) - 1))
    try:
        for path in paths:
            try:
                distinct = distinct_rows(Path(path))
            except InputError as exc:
                conn.send(("error", exc.where, exc.message, exc.field))
                return
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, distinct.table.schema) as writer:
                writer.write_table(distinct.table)
            del distinct.table
            conn.send(("rows", distinct.path, distinct.rows))
            conn.send_bytes(sink.getvalue())
    except BaseException:  # noqa: BLE001 - the parent reads the export itself and meets the same
        try:
            conn.send(("failed",))
        except OSError:
            pass
    finally:
        conn.close()
