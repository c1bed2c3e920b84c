"""Writing results all-or-nothing, and the JSON text hyperdock writes.

A result folder is written whole into a temporary sibling folder, then swapped in with two renames,
so an interrupted or failed run leaves the previous result as it was. A manifest in the folder
lists the files hyperdock wrote: the next run replaces exactly those and carries everything else
(the operator's application content, secrets) over into the new result. Files are created with
mode 0666 and directories 0777, less the umask, as any other tool's output. The files themselves
are created by `file_writer`; the folder's bookkeeping and the swap are `result_folder`'s.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import orjson

from .core.errors import InputError
from .file_writer import SPAWN_AFTER, Content, TreeWriter, create_file
from .interrupts import interrupts_deferred
from .result_folder import (MANIFEST, MANIFEST_HEADER, check_conflicts, os_error, read_manifest,
                            remove_stale_temporaries, swap, temporary_name)

__all__ = ["MANIFEST", "Content", "cyclic_gc_paused", "json_chunks", "json_text", "to_json", "tree_writer",
           "write_file", "write_tree"]


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
    previous = read_manifest(out_dir) if out_dir.is_dir() else set()
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(out_dir.parent, exc) from None
    remove_stale_temporaries(out_dir.parent, out_dir.name)
    staging = out_dir.parent / temporary_name(out_dir.name, "new")
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
        check_conflicts(out_dir, tree.written, previous)
        create_file(staging / MANIFEST, MANIFEST_HEADER + "".join(f"{r}\n" for r in sorted(tree.written)))
        with interrupts_deferred():
            swap(out_dir, staging, previous, tree.written)
    finally:
        if tree is not None:
            tree.stop()
        shutil.rmtree(staging, ignore_errors=True)


def write_file(path: Path, content: Content) -> None:
    """Write one file all-or-nothing: a temporary sibling, then a rename over `path`."""
    path = Path(os.path.abspath(path))
    if path.is_dir():
        raise InputError(str(path), "is a folder; --out needs a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(path.parent, exc) from None
    remove_stale_temporaries(path.parent, path.name)
    temporary = path.parent / temporary_name(path.name, "new")
    try:
        temporary.unlink(missing_ok=True)
        create_file(temporary, content)
        with interrupts_deferred():
            os.replace(temporary, path)
    except OSError as exc:
        raise os_error(path, exc) from None
    finally:
        temporary.unlink(missing_ok=True)
