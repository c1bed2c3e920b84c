"""Reading real PowerShell output: encodings, bare objects, integer enums, /Date()/ and typed fields.

Every helper takes the file and the field path so that a bad value raises one `InputError` that
names both. Property names are matched case-insensitively, as PowerShell itself does.
"""

from __future__ import annotations

import codecs
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import yaml

from .errors import InputError

try:  # the C loader is ten times faster on large YAML inventories
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _YamlLoader = yaml.SafeLoader


def sniff_encoding(head: bytes) -> tuple[str, int]:
    """Return (codec, BOM length) for a file written by PowerShell, from its first bytes.

    UTF-8 with or without BOM, UTF-16 LE/BE with BOM (Windows PowerShell 5.1's `>` writes UTF-16
    LE); a BOM-less UTF-16 file is recognised by the NUL byte of its first ASCII character.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", len(codecs.BOM_UTF8)
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    if len(head) >= 2 and head[0] != 0 and head[1] == 0:
        return "utf-16-le", 0
    if len(head) >= 2 and head[0] == 0 and head[1] != 0:
        return "utf-16-be", 0
    return "utf-8", 0


def decode_bytes(raw: bytes, where: str) -> str:
    """Return the text of a whole file in any encoding `sniff_encoding` recognises."""
    encoding, bom = sniff_encoding(raw[:4])
    try:
        return raw[bom:].decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(where, f"not valid {encoding.upper()} text at byte {exc.start + bom}") from None


def open_text(path: Path) -> TextIO:
    """Open a file for streaming text reads (CSV), past its BOM; raise InputError if unreadable."""
    try:
        with path.open("rb") as probe:
            head = probe.read(4)
        encoding, bom = sniff_encoding(head)
        stream = path.open("r", encoding=encoding, newline="")
    except OSError as exc:
        raise InputError(str(path), f"cannot read file: {exc.strerror}") from None
    if bom:
        stream.read(1)  # the BOM decodes to one U+FEFF character
    return stream


def load_document(path: Path) -> Any:
    """Return the parsed JSON or YAML document in `path`; raise InputError if it is neither."""
    where = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(where, f"cannot read file: {exc.strerror}") from None
    text = decode_bytes(raw, where)
    if not text.strip():
        raise InputError(where, "file is empty; expected a JSON or YAML document")
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}:{exc.lineno}", f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    try:
        return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader variant
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise InputError(f"{where}{line}", f"not valid JSON or YAML: {problem}") from None


_LOWER_MAPS: dict[tuple, dict[str, str]] = {}


class Record:
    """A JSON object read with case-insensitive keys, remembering where it sits for messages."""

    __slots__ = ("data", "where", "path", "_lower")

    def __init__(self, data: Any, where: str, path: str):
        if not isinstance(data, dict):
            raise InputError(where, f"expected an object, got {type_name(data)}", path or None)
        self.data = data
        self.where = where
        self.path = path
        self._lower: dict[str, str] | None = None

    def _key(self, name: str) -> str | None:
        if name in self.data:
            return name
        if self._lower is None:
            # Objects of one inventory share their key sets: build each lower-case map once.
            keys = tuple(self.data)
            self._lower = _LOWER_MAPS.get(keys)
            if self._lower is None:
                if len(_LOWER_MAPS) > 4096:
                    _LOWER_MAPS.clear()
                self._lower = _LOWER_MAPS[keys] = {str(k).lower(): k for k in keys}
        return self._lower.get(name.lower())

    def raw(self, name: str) -> Any:
        key = self._key(name)
        return None if key is None else self.data[key]

    def field(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, message: str) -> InputError:
        return InputError(self.where, message, self.field(name))

    def required(self, name: str) -> Any:
        value = self.raw(name)
        if value is None or value == "":
            raise self.fail(name, "required field is missing")
        return value

    def string(self, name: str, required: bool = False, default: str = "") -> str:
        value = self.required(name) if required else self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(name, f"expected a string, got {type_name(value)}")
        return str(value)

    def integer(self, name: str, required: bool = False, minimum: int | None = None) -> int | None:
        value = self.required(name) if required else self.raw(name)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"expected an integer, got {type_name(value)}")
        if minimum is not None and value < minimum:
            raise self.fail(name, f"expected an integer >= {minimum}, got {value}")
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.fail(name, f"expected true or false, got {type_name(value)}")

    def enum(self, name: str, names_by_value: dict[int, str], default: str = "") -> str:
        """Return an enum as its name; accept the name (any case) or the integer ConvertTo-Json writes."""
        value = self.raw(name)
        if value is None or value == "":
            return default
        canonical = {v.lower(): v for v in names_by_value.values()}
        if isinstance(value, int) and not isinstance(value, bool):
            if value in names_by_value:
                return names_by_value[value]
        elif isinstance(value, str):
            if value.lower() in canonical:
                return canonical[value.lower()]
            if value.strip().isdigit() and int(value) in names_by_value:
                return names_by_value[int(value)]
        allowed = ", ".join(f"{n} ({v})" for v, n in sorted(names_by_value.items()))
        raise self.fail(name, f"unknown value {value!r}; expected one of {allowed}")

    def records(self, name: str) -> list["Record"] | None:
        """Return a list of objects; a bare object (ConvertTo-Json's one-element list) counts as one."""
        value = self.raw(name)
        if value is None:
            return None
        items = as_list(value)
        if items is None:
            raise self.fail(name, f"expected a list of objects, got {type_name(value)}")
        return [Record(item, self.where, f"{self.field(name)}[{i}]") for i, item in enumerate(items)]

    def strings(self, name: str) -> list[str] | None:
        value = self.raw(name)
        if value is None:
            return None
        items = as_list(value)
        if items is None:
            items = [value]
        out = []
        for i, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                raise InputError(self.where, f"expected a string, got {type_name(item)}", f"{self.field(name)}[{i}]")
            out.append(str(item))
        return out


def as_list(value: Any) -> list[Any] | None:
    """Return `value` as a list: a list stays, an object becomes a one-element list, else None."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    return None


def type_name(value: Any) -> str:
    """Return the JSON name of a Python value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def parse_timestamp(value: Any, where: str, field: str) -> str:
    """Return an ISO 8601 UTC timestamp from ISO text or PowerShell's `/Date(ms)/`."""
    if isinstance(value, datetime):  # YAML parses unquoted timestamps itself
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str):
        match = _MS_DATE.fullmatch(value.strip())
        if match:
            moment = datetime.fromtimestamp(int(match.group(1)) / 1000, tz=timezone.utc)
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
            return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    raise InputError(where, f"expected an ISO 8601 date or /Date(ms)/, got {type_name(value)}", field)
