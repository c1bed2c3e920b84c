"""An extraction that arrives as a zip archive, unpacked without trusting it.

Every member name is checked as the manifest's paths are (extraction.check_relative: no `..`,
no absolute or drive path, no stream, no device name, no two names Windows would see as one);
symbolic-link and encrypted members are refused; the bytes actually unpacked are counted, so a
member that claims to be small but expands without end (a zip bomb) stops at the limit. Members
are written as new regular files only, never through an existing path. Backslashes in member
names (written by some Windows zip tools) are read as separators before the checks.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

from ..core.errors import InputError
from .extraction import MANIFEST, check_relative

_CHUNK = 1 << 20


def is_archive(path: Path) -> bool:
    """True when `path` is a file that is a zip archive."""
    return path.is_file() and zipfile.is_zipfile(path)


def unpack(archive: Path, into: Path, max_bytes: int) -> Path:
    """Unpack `archive` into the empty folder `into`; return the folder that holds `<vmId>/manifest.json`.

    Raises InputError (naming the archive and member) for anything unsafe or over `max_bytes`.
    """
    where = str(archive)
    try:
        bundle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(where, f"not a readable zip archive: {exc}") from None
    seen: set[str] = set()
    total = 0
    with bundle:
        for info in bundle.infolist():
            name = info.filename.replace("\\", "/")
            member = f"member {info.filename!r}"
            if stat.S_ISLNK(info.external_attr >> 16):
                raise InputError(where, "is a symbolic link; refused", member)
            if info.flag_bits & 0x1:
                raise InputError(where, "is encrypted; refused", member)
            relative = name.rstrip("/")
            check_relative(relative, where, member)
            if relative.lower() in seen:
                raise InputError(where, "appears twice (names compare case-insensitively on Windows)", member)
            seen.add(relative.lower())
            target = into.joinpath(*relative.split("/"))
            try:
                if name.endswith("/"):
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(info) as source, open(target, "xb") as sink:
                    while chunk := source.read(_CHUNK):
                        total += len(chunk)
                        if total > max_bytes:
                            raise InputError(where, f"unpacks to more than {max_bytes} bytes (--max-archive-mib); refused",
                                             member)
                        sink.write(chunk)
            except (zipfile.BadZipFile, EOFError, NotImplementedError) as exc:
                raise InputError(where, f"cannot be unpacked: {exc}", member) from None
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                raise InputError(where, "is listed both as a file and as a folder", member) from None
    return _root(into)


def _root(into: Path) -> Path:
    """The unpacked folder itself, or its only sub-folder when the archive wraps the extraction in one."""
    if any(into.glob(f"*/{MANIFEST}")):
        return into
    entries = list(into.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and any(entries[0].glob(f"*/{MANIFEST}")):
        return entries[0]
    return into
