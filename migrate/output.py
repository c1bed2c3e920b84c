"""Writing results all-or-nothing: every file goes to a temporary name first, then is renamed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import orjson


def to_json(document: object) -> str:
    """Return the canonical JSON text hyperdock writes: indented by two, UTF-8, newline-terminated.

    orjson because the stdlib encoder falls back to pure Python when indenting: 20x slower on a
    50k-VM plan.
    """
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"


def write_files(out_dir: Path, files: dict[str, str]) -> None:
    """Write every file of `files` (relative path → text) under `out_dir`, atomically per file.

    All contents are rendered before this is called, so a bad input never leaves half a result.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for relative, text in sorted(files.items()):
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
