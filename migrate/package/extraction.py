"""Reading an extraction folder (hyperdock/extract@1) without trusting it.

`DIR/<vmId>/manifest.json` lists every file of every part with its size and SHA-256; the files are
under `DIR/<vmId>/<folder>/<path>`. The folder may come from a guest that is not trusted, so every
path is checked before it is used: relative, forward slashes, no `.`/`..`, no drive, no `:` (an
NTFS stream), no name Windows would change or treat as a device, no two names that Windows would
see as one, and nothing on the way that is a link, junction or reparse point. Each file is opened
without following links and hashed while it is copied, so what lands in a build context is exactly
what the manifest says.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema

from ..contract.plan_io import schema
from ..core.errors import InputError

EXTRACT_SCHEMA_ID = "hyperdock/extract@1"
MANIFEST = "manifest.json"
_DEVICE = re.compile(r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?", re.IGNORECASE | re.DOTALL)
_FORBIDDEN = re.compile(r'[\x00-\x1f<>:"\\|?*]')
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ManifestFile:
    path: str
    size: int
    sha256: str


@dataclass(slots=True)
class Part:
    """One extracted folder of a VM: its guest path, its folder under DIR/<vmId>/ and its files."""

    source: str
    folder: str
    files: list[ManifestFile]
    skipped: list[dict] = field(default_factory=list)
    kind: str | None = None


@dataclass(slots=True)
class Extraction:
    vm_id: str
    root: Path          # DIR/<vmId>
    where: str          # the manifest's path, for messages
    parts: list[Part]


def check_relative(path: str, where: str, field_name: str) -> None:
    """Raise InputError unless `path` is a plain relative path that stays inside its folder on Windows and POSIX."""
    def refuse(why: str):
        raise InputError(where, f"{path!r} {why}; refused (it could write outside the build context)", field_name)

    if not path or path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        refuse("is empty or absolute")
    if _FORBIDDEN.search(path):
        refuse("holds a backslash, a colon, a control or a reserved character")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            refuse("has an empty, '.' or '..' segment")
        if segment != segment.rstrip(" ."):
            refuse("has a name ending in a dot or space, which Windows silently changes")
        if _DEVICE.fullmatch(segment):
            refuse("names a Windows device")


def read_extraction(content_dir: Path, vm_id: str) -> Extraction | None:
    """Return the extraction of `vm_id` under `content_dir`, None when it has none; InputError when it is unsafe."""
    root = content_dir / vm_id
    if not os.path.lexists(root):
        return None
    _refuse_link(root, str(root))
    where = str(root / MANIFEST)
    _refuse_link(root / MANIFEST, where)
    try:
        text = (root / MANIFEST).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(where, f"cannot read the manifest: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(where, "not UTF-8 text") from None
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.lineno}", f"not valid JSON: {exc.msg}") from None
    if not isinstance(manifest, dict) or manifest.get("schema") != EXTRACT_SCHEMA_ID:
        raise InputError(where, f"expected schema {EXTRACT_SCHEMA_ID!r}", "schema")
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema("extract")).iter_errors(manifest))
    if error is not None:
        field_name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        raise InputError(where, error.message, field_name or None)
    if manifest["vmId"].lower() != vm_id.lower():
        raise InputError(where, f"vmId {manifest['vmId']!r} does not match its folder {vm_id!r}", "vmId")
    parts = []
    folders: set[str] = set()
    for i, raw in enumerate(manifest["parts"]):
        folder = raw["folder"]
        check_relative(folder, where, f"parts[{i}].folder")
        if folder.lower() in folders:
            raise InputError(where, f"folder {folder!r} appears twice", f"parts[{i}].folder")
        folders.add(folder.lower())
        seen: set[str] = set()
        prefixes = {f["path"].lower().rsplit("/", k)[0] for f in raw["files"] for k in range(1, f["path"].count("/") + 1)}
        files = []
        for j, entry in enumerate(raw["files"]):
            check_relative(entry["path"], where, f"parts[{i}].files[{j}].path")
            key = entry["path"].lower()
            if key in seen:  # Windows would write both to one file: the later one would win
                raise InputError(where, f"{entry['path']!r} appears twice (names compare case-insensitively on Windows)",
                                 f"parts[{i}].files[{j}].path")
            seen.add(key)
            if key in prefixes:
                raise InputError(where, f"{entry['path']!r} is listed both as a file and as a folder", f"parts[{i}].files[{j}].path")
            files.append(ManifestFile(entry["path"], entry["size"], entry["sha256"].lower()))
        parts.append(Part(raw["source"], folder, files, list(raw.get("skipped", [])), raw.get("kind")))
    return Extraction(vm_id, root, where, parts)


def _refuse_link(path: Path, where: str) -> os.stat_result:
    """Return lstat(path); raise InputError if it is a symbolic link, junction or other reparse point."""
    info = os.lstat(path)
    reparse = getattr(info, "st_file_attributes", 0) & getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0)
    if stat.S_ISLNK(info.st_mode) or reparse or (hasattr(Path, "is_junction") and path.is_junction()):
        raise InputError(where, "is a link (symbolic link, junction or reparse point); refused")
    return info


def unlisted_files(extraction: Extraction, part: Part) -> list[str]:
    """Return files under the part's folder that the manifest does not list; InputError on any link in it."""
    base = extraction.root / part.folder
    listed = {f.path.lower() for f in part.files}  # Windows matches names case-insensitively
    extra = []
    if not os.path.lexists(base):
        return extra
    _refuse_link(base, f"{extraction.where}: {part.folder}")
    stack = [(base, "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                relative = prefix + entry.name
                _refuse_link(Path(entry.path), f"{extraction.root / part.folder}/{relative}")
                if entry.is_dir(follow_symlinks=False):
                    stack.append((Path(entry.path), relative + "/"))
                elif relative.lower() not in listed:
                    extra.append(relative)
    return sorted(extra)


def copy_verified(extraction: Extraction, part: Part, item: ManifestFile, target: Path | None) -> bytes | None:
    """Copy one listed file to `target` (or return its bytes when target is None), checking size and SHA-256.

    Every folder on the way and the file itself are checked not to be links; the file is opened
    without following a link (where the OS allows). InputError on any difference.
    """
    where = f"{extraction.where}: {part.folder}/{item.path}"
    current = extraction.root / part.folder
    _refuse_link(current, where)
    for segment in item.path.split("/"):
        current = current / segment
        if not os.path.lexists(current):
            raise InputError(where, "is listed in the manifest but missing")
        info = _refuse_link(current, where)
    if not stat.S_ISREG(info.st_mode):
        raise InputError(where, "is not a regular file")
    if info.st_nlink > 1:
        raise InputError(where, "is a hard link; refused")
    if info.st_size != item.size:
        raise InputError(where, f"has {info.st_size} bytes, the manifest says {item.size}")
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(current, flags)
    with os.fdopen(descriptor, "rb") as source, (open(target, "xb") if target else _Null()) as sink:
        remaining = item.size + 1  # one byte more than promised shows a file that grew
        while remaining > 0 and (chunk := source.read(min(_CHUNK, remaining))):
            remaining -= len(chunk)
            digest.update(chunk)
            if target is None:
                chunks.append(chunk)
            else:
                sink.write(chunk)
    if remaining != 1:
        raise InputError(where, f"changed while it was read (the manifest says {item.size} bytes)")
    if digest.hexdigest() != item.sha256:
        raise InputError(where, "SHA-256 differs from the manifest")
    return b"".join(chunks) if target is None else None


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None
