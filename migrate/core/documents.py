"""Reading a JSON or YAML document (or a CSV stream) written by PowerShell or a person, safely.

Encodings as PowerShell writes them (UTF-8 with or without BOM, UTF-16 with or without BOM); JSON
through orjson, YAML through PyYAML's safe loader with nesting and alias expansion bounded before
it is composed. Every failure raises one `InputError` naming the file (and line when known).
`checked_text` and `type_name` turn a parsed value into text or a name for messages; `parse_port`
and `binding_problem` check the port numbers and IIS bindings that inventories and plans both hold.
"""

from __future__ import annotations

import codecs
import math
import re
from pathlib import Path
from typing import Any, TextIO

import orjson
import yaml

from .errors import InputError

try:  # the C loader is ten times faster on large YAML inventories
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _YamlLoader = yaml.SafeLoader

# Limits checked before any work. An inventory nests about 8 levels; libyaml's composer recurses
# in C once per level and crashes the interpreter past a few tens of thousands, so the YAML nesting
# is measured before it is composed. orjson refuses JSON nested deeper than 1024 levels itself.
MAX_NESTING = 64
MAX_INTEGER = 2 ** 53  # every integer JSON readers agree on; sums of 50k such still fit in 64 bits
ALIAS_EXPANSION = 10
MIN_EXPANSION_LIMIT = 100_000
# Cheap bounds on YAML nesting: a block level needs more indentation or a compact `- `/`? ` on its
# line, a flow level an unclosed bracket. A document under all of them is shallower than
# MAX_NESTING: 2 × (indentation + 1) + compact run + flow brackets ≤ 2 × 24 + 7 + 6 < 64.
_DEEP_INDENT = re.compile(r"^[ \t]{23}", re.MULTILINE)
_COMPACT_RUN = re.compile(r"(?:[-?][ \t]+){8}")
_MAX_FLOW_OPEN = 6
# Where an alias (`*name`) could start a node; a plain `*` elsewhere (`http/*:80:`) cannot.
_ALIAS_LIKE = re.compile(r"(?:^|[\s\[{,])\*")
_SURROGATE = re.compile("[\ud800-\udfff]")


def sniff_encoding(head: bytes) -> tuple[str, int]:
    """Return (codec, BOM length) for a file written by PowerShell, from its first bytes.

    UTF-8 with or without BOM, UTF-16 LE/BE with BOM (Windows PowerShell 5.1's `>` and Out-File write
    UTF-16 LE, PowerShell 7's UTF-8 without BOM: Microsoft Learn "about_Character_Encoding"); a
    BOM-less UTF-16 file is recognised by the NUL byte of its first ASCII character.
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
    """Return the parsed JSON or YAML document in `path`; raise InputError if it is neither.

    JSON: orjson, which refuses NaN, numbers beyond a double, lone surrogates and nesting past 1024
    (orjson's README, "Deserialize").
    YAML: nesting at most MAX_NESTING, aliases only as far as they do not expand it many-fold.
    """
    where = str(path)
    text = _read_text(path, where)
    if not text.strip():
        raise InputError(where, "file is empty; expected a JSON or YAML document")
    if text.lstrip()[:1] in ("{", "["):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{where}:{exc.lineno}", f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    try:
        _check_yaml_shape(text, where)
        return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader variant
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, where, "not valid JSON or YAML") from None


def load_documents(path: Path) -> list[Any]:
    """Return every document of a YAML stream (Kubernetes manifests), with load_document's limits."""
    where = str(path)
    text = _read_text(path, where)
    try:
        _check_yaml_shape(text, where)
        return list(yaml.load_all(text, Loader=_YamlLoader))  # noqa: S506 - a SafeLoader variant
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, where, "not valid YAML") from None


def _read_text(path: Path, where: str) -> str:
    """Return the file's text (encoding sniffed by decode_bytes); InputError when it cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(where, f"cannot read file: {exc.strerror}") from None
    return decode_bytes(raw, where)


def _yaml_error(exc: yaml.YAMLError, where: str, what: str) -> InputError:
    """Return the one-line error for a YAML parse failure: `<file>:<line>: <what>: <problem>`."""
    mark = getattr(exc, "problem_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    return InputError(f"{where}{line}", f"{what}: {getattr(exc, 'problem', None) or 'syntax error'}")


def _check_yaml_shape(text: str, where: str) -> None:
    """Raise InputError for YAML nested deeper than MAX_NESTING, or whose aliases expand it too far.

    Cheap bounds on the text rule most documents out; the rest are walked as libyaml parser
    events, which it produces without recursion. Aliases are allowed (PyYAML writes them for shared
    values) as long as the document they expand to has at most ALIAS_EXPANSION times as many
    nodes as it has events, or MIN_EXPANSION_LIMIT: a 2 KB alias bomb expands a billion-fold.
    """
    flow = text.count("[") + text.count("{") - text.count("[]") - text.count("{}")
    if (flow <= _MAX_FLOW_OPEN and not _DEEP_INDENT.search(text) and not _COMPACT_RUN.search(text)
            and not _ALIAS_LIKE.search(text)):
        return
    sizes: dict[str, int] = {}  # expanded node count of each anchored node
    open_nodes: list[list] = [[0, None]]  # [expanded size so far, anchor] per open collection
    events = 0
    for event in yaml.parse(text, Loader=_YamlLoader):
        events += 1
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            open_nodes.append([1, event.anchor])
            if len(open_nodes) - 1 > MAX_NESTING:
                raise InputError(f"{where}:{event.start_mark.line + 1}", f"nested deeper than {MAX_NESTING} levels")
            continue
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            size, anchor = open_nodes.pop()
        elif isinstance(event, yaml.ScalarEvent):
            size, anchor = 1, event.anchor
        elif isinstance(event, yaml.AliasEvent):
            size, anchor = sizes.get(event.anchor, 1), None
        else:
            continue
        if anchor is not None:
            sizes[anchor] = size
        open_nodes[-1][0] += size
        if open_nodes[0][0] > max(MIN_EXPANSION_LIMIT, ALIAS_EXPANSION * events):
            raise InputError(f"{where}:{event.start_mark.line + 1}",
                             "YAML aliases expand the document too far (an alias bomb?); write the values out")


def checked_text(value: Any, where: str, field: str) -> str:
    """Return a scalar as text; raise InputError for a non-scalar, NaN/infinity or a lone surrogate."""
    if isinstance(value, str):
        if not value.isascii() and _SURROGATE.search(value):
            raise InputError(where, "expected text, got a lone UTF-16 surrogate (not a character)", field)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(where, f"expected a string, got {type_name(value)}", field)
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(where, f"expected a string, got a number ({value})", field)
    return str(value)


def type_name(value: Any) -> str:
    """Return the JSON name of a Python value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int) and abs(value) > MAX_INTEGER:
        return f"a number too large ({value.bit_length()} bits)"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


MAX_PORT = 65535


def parse_port(text: str) -> int | None:
    """Return the port in `text` (ASCII digits, 1-65535), or None: no `4_4_3`, no other scripts' digits."""
    if 0 < len(text) <= 5 and text.isascii() and text.isdigit():
        port = int(text)
        return port if 0 < port <= MAX_PORT else None
    return None


def http_binding_port_text(binding: str) -> str | None:
    """Return the port text of an HTTP(S) binding ("http/*:80:host", "https/[::1]:443:"); None for other protocols.

    Only HTTP(S) bindings carry `address:port:host`; the address may be an IPv6 one in brackets.
    """
    protocol, _, information = binding.partition("/")
    if protocol.lower() not in ("http", "https"):
        return None
    if information.startswith("["):
        _, bracket, rest = information.partition("]")
        return rest[1:].partition(":")[0] if bracket and rest.startswith(":") else ""
    return information.partition(":")[2].partition(":")[0]


def binding_problem(binding: str) -> str | None:
    """Return what is wrong with an IIS binding ("http/*:80:host", "https/[::1]:443:"), or None."""
    port = http_binding_port_text(binding)
    if port is not None and parse_port(port) is None:
        return f"port {port[:20]!r} is not a port number (ASCII digits, 1-{MAX_PORT})"
    return None


_HTTP_BINDING = re.compile(r"(\[[^\]]*\]|[^:]*):(\d+):(.*)", re.DOTALL)


def parse_binding(binding: str) -> tuple[str, str, int, str] | None:
    """Return (protocol, address, port, host) of an HTTP(S) binding "proto/ip:port:host", or None.

    The address may be a bracketed IPv6 one; the host is everything after the port.
    """
    protocol, _, information = binding.partition("/")
    match = _HTTP_BINDING.fullmatch(information)
    if protocol.lower() not in ("http", "https") or not match:
        return None
    return protocol.lower(), match.group(1) or "*", int(match.group(2)), match.group(3)
