"""Reading real PowerShell output: bare objects, integer enums, /Date()/ and typed fields.

Files are opened and parsed by `migrate.core.documents`. Every helper takes the file and the field path so that a bad value raises one `InputError` that
names both. Property names are matched case-insensitively, as PowerShell itself does.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from .core.documents import MAX_INTEGER, checked_text, type_name
from .core.errors import InputError

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
        return checked_text(value, self.where, self.field(name))

    def integer(self, name: str, required: bool = False, minimum: int | None = None,
                maximum: int = MAX_INTEGER) -> int | None:
        value = self.required(name) if required else self.raw(name)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer() and abs(value) <= maximum:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"expected an integer, got {type_name(value)}")
        if minimum is not None and value < minimum:
            raise self.fail(name, f"expected an integer >= {minimum}, got {value}")
        if value > maximum:
            raise self.fail(name, f"expected an integer <= {maximum}, got {type_name(value)}")
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
            digits = value.strip()
            if 0 < len(digits) <= 6 and digits.isascii() and digits.isdigit() and int(digits) in names_by_value:
                return names_by_value[int(digits)]
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
        return [checked_text(item, self.where, f"{self.field(name)}[{i}]") for i, item in enumerate(items)]


def name_problem(name: str) -> str | None:
    """Return why `name` cannot name a server, or None: blank, or `NaN` (what a spreadsheet tool
    writes for an empty cell, which would become a workload called "nan")."""
    if not name.strip():
        return "required value is missing"
    if name.strip().lower() in ("nan", "#n/a"):
        return f"{name.strip()!r} is not a server name (an empty cell written out by a spreadsheet tool?)"
    return None


def as_list(value: Any) -> list[Any] | None:
    """Return `value` as a list: a list stays, an object becomes a one-element list, else None."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    return None


_MS_DATE = re.compile(r"/Date\((-?\d{1,18})([+-]\d{4})?\)/")


def parse_timestamp(value: Any, where: str, field: str) -> str:
    """Return an ISO 8601 UTC timestamp from ISO text or PowerShell's `/Date(ms)/`."""
    try:
        moment = _moment(value)
        if moment is not None:
            moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
            return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):
        raise InputError(where, f"date {str(value)[:40]!r} is out of range (years 1-9999)", field) from None
    raise InputError(where, f"expected an ISO 8601 date or /Date(ms)/, got {type_name(value)}", field)


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):  # YAML parses unquoted timestamps itself
        return value
    if not isinstance(value, str) or len(value) > 64:
        return None
    match = _MS_DATE.fullmatch(value.strip())
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=timezone.utc)
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
