"""Writing results all-or-nothing: every file goes to a temporary name first, then is renamed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import orjson


def to_json(document: object) -> bytes:
    """Return the canonical JSON hyperdock writes: UTF-8, indented by two, newline-terminated.

    orjson because the stdlib encoder falls back to pure Python when indenting: 20x slower on a
    50k-VM plan. Bytes, so a 160 MB plan is not decoded and encoded again on its way to disk.
    """
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def write_files(out_dir: Path, files: dict[str, str | bytes]) -> None:
    """Write every file of `files` (relative path → text or UTF-8 bytes) under `out_dir`, atomically per file.

    All contents are rendered before this is called, so a bad input never leaves half a result.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for relative, text in sorted(files.items()):
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(text if isinstance(text, bytes) else text.encode("utf-8"))
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
