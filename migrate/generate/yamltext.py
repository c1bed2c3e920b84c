"""YAML text for generated files: PyYAML's safe representation, written by LibYAML when it can.

PyYAML's pure-Python representer and emitter took most of `generate`'s time at 50k VMs. Here the
documents (plain dicts, lists, strings, numbers) become YAML nodes in one pass and LibYAML's
emitter (`CSafeDumper`) writes them; the bytes are those PyYAML's Python emitter writes. A
differential test over random documents found the two emitters differ only on strings holding
control characters (tab, newline, NEL, U+2028/2029), characters outside the BMP or other
non-printable ones, and on mapping keys too long for a simple key: a document with any of those
(rare, hostile inventory values) is written by the Python emitter, so the output never depends on
which emitter wrote it.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache

import yaml
from yaml.events import (DocumentEndEvent, DocumentStartEvent, MappingEndEvent, MappingStartEvent, ScalarEvent,
                         SequenceEndEvent, SequenceStartEvent)
from yaml.nodes import ScalarNode

_STR, _INT, _BOOL, _NULL = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:bool",
                            "tag:yaml.org,2002:null")
_FLOAT = "tag:yaml.org,2002:float"
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
# Longest mapping key sent to LibYAML: PyYAML writes a key longer than 128 characters (quoted) as an
# explicit `? key`, LibYAML does not; 60 characters stay under that even with every quote doubled.
_KEY_LIMIT = 60
_OPTIONS = {"sort_keys": False, "default_flow_style": False, "allow_unicode": True, "width": 100}


class _PlainDumper(yaml.SafeDumper):
    """Writes every repeated value in full: anchors and aliases confuse readers of manifests."""

    def ignore_aliases(self, data) -> bool:
        return True


# Line breaks a YAML reader folds into spaces or takes as the end of a line (YAML 1.1 §5.4 counts
# NEL, LS and PS as breaks) when PyYAML writes them raw; double quotes escape them (\N, \L, \P, \r).
_BREAKS = frozenset("\r\x85\u2028\u2029")


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if not data.isascii() or "\r" in data:
        if any(c in _BREAKS for c in data):
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return dumper.represent_str(data)


_PlainDumper.add_representer(str, _represent_str)
_FLOATS = _PlainDumper(None)  # its represent_float only: PyYAML's own spelling of floats
_ANALYZER = _PlainDumper(None, allow_unicode=True)  # its analyze_scalar, as the emitter with _OPTIONS analyzes


@lru_cache(maxsize=1 << 16)
def _scalar(tag: str, value: str) -> ScalarEvent:
    """Return the event for one scalar, as the serializer makes it: implicit where reading back
    gives the same tag (plain, then quoted). Events are copied by LibYAML, so one serves every use."""
    plain = yaml.resolver.Resolver.resolve(_FLOATS, ScalarNode, value, (True, False)) == tag
    return ScalarEvent(None, tag, (plain, tag == _STR), value)


_MAPPING_START = MappingStartEvent(None, _MAP, True, flow_style=False)
_SEQUENCE_START = SequenceStartEvent(None, _SEQ, True, flow_style=False)
_MAPPING_END, _SEQUENCE_END = MappingEndEvent(), SequenceEndEvent()
_DOCUMENT_START, _DOCUMENT_END = DocumentStartEvent(explicit=False), DocumentEndEvent(explicit=False)


class _NotAlike(Exception):
    """The document holds something the two emitters write differently."""


def _emit(emit, data: object) -> None:
    """Emit the events SafeDumper's representer and serializer make of `data` (no aliases, block style)."""
    if isinstance(data, str):
        if not data.isprintable() or (not data.isascii() and max(data) > "\uffff"):
            raise _NotAlike
        emit(_scalar(_STR, data))
    elif isinstance(data, dict):
        emit(_MAPPING_START)
        for key, value in data.items():
            if isinstance(key, str) and (len(key) > _KEY_LIMIT or not key):
                raise _NotAlike  # PyYAML writes these as `? key` (not a simple key), LibYAML does not
            _emit(emit, key)
            _emit(emit, value)
        emit(_MAPPING_END)
    elif isinstance(data, list):
        emit(_SEQUENCE_START)
        for item in data:
            _emit(emit, item)
        emit(_SEQUENCE_END)
    elif data is None:
        emit(_scalar(_NULL, "null"))
    elif data is True or data is False:
        emit(_scalar(_BOOL, "true" if data else "false"))
    elif type(data) is int:
        emit(_scalar(_INT, str(data)))
    elif type(data) is float:
        emit(_scalar(_FLOAT, _FLOATS.represent_float(data).value))
    else:
        raise _NotAlike  # anything else: PyYAML's representer decides (or refuses) as it always did


# Block-style text written straight from the documents. A scalar's spelling (plain or single-quoted)
# depends only on its value and on whether it is a key, so it is worked out once per distinct value
# with PyYAML's own analysis and resolver; a value with spaces is folded at the width exactly as
# PyYAML's write_plain and write_single_quoted fold it. Anything this does not cover (see _NotAlike,
# double quotes, keys that are not short strings, a document that is not a non-empty mapping or
# sequence) goes through the emitters instead; a differential test holds the three to the same bytes.
_WIDTH = 100
_CACHE_LIMIT = 1 << 17
_HEADS: dict[int, dict] = {}
_DASHES: dict[int, str] = {}  # indent → a sequence item's line start
# value → its spelling unfolded; single-quoted exactly when it starts with a quote (a plain scalar
# never does: `'` first is an indicator).
_VALUES: dict[str, str] = {}


# Strings PyYAML's analyze_scalar finds free of indicators, spaces, breaks and special characters
# (no indicator or `...` first, `:` never last, no `#`, `,`, `?`, brackets or braces): plain unless the
# resolver reads them as another type, then single-quoted (they hold no quote). Most values
# hyperdock writes (names, image references, paths, versions) are such; the analysis, a Python loop
# over every character, took a third of the YAML time at 50k VMs.
_IMPLICIT = _PlainDumper.yaml_implicit_resolvers  # first character → the patterns that may read another type
_SIMPLE = re.compile(r"(?!\.\.\.)[A-Za-z0-9_./\\][A-Za-z0-9_./\\-]*(?::[A-Za-z0-9_./\\-]+)*")


def _spelling(value: str, key: bool) -> tuple[str, bool]:
    """Return (text, quoted) for a string scalar as PyYAML's emitter chooses its style; raise _NotAlike
    for double quotes or what the emitters write differently."""
    if _SIMPLE.fullmatch(value) and not (key and len(value) > _KEY_LIMIT):
        # The resolver tries its patterns by first character: most names start with one it has none for.
        if (value[0] not in _IMPLICIT and None not in _IMPLICIT) \
                or yaml.resolver.Resolver.resolve(_FLOATS, ScalarNode, value, (True, False)) == _STR:
            return value, False
        return "'" + value + "'", True
    return _analyzed_spelling(value, key)


def _analyzed_spelling(value: str, key: bool) -> tuple[str, bool]:
    """`_spelling` for any string, through PyYAML's own analysis of it."""
    if not value.isprintable() or (not value.isascii() and max(value) > "\uffff") or (key and len(value) > _KEY_LIMIT):
        raise _NotAlike
    analysis = _ANALYZER.analyze_scalar(value)
    if key and (analysis.empty or analysis.multiline):
        raise _NotAlike  # not a simple key
    if _scalar(_STR, value).implicit[0] and analysis.allow_block_plain:
        return value, False
    if analysis.allow_single_quoted and not analysis.multiline:
        return "'" + value.replace("'", "''") + "'", True
    raise _NotAlike


def _heads(indent: int) -> dict:
    """Return the cache of keys at `indent`: key → (its line up to ": ", the same up to ":", the
    longest value that fits after it unfolded)."""
    heads = _HEADS.get(indent)
    if heads is None:
        heads = _HEADS[indent] = {}
    return heads


def _head(heads: dict, key: object, indent: int) -> tuple[str, str, int]:
    if not isinstance(key, str):
        raise _NotAlike
    if len(heads) > _CACHE_LIMIT:
        heads.clear()
    text = _spelling(key, True)[0]
    start = "\n" + " " * indent + text + ":"
    heads[key] = known = (start + " ", start, _WIDTH - indent - len(text) - 2)
    return known


def _spelled(value: str) -> str:
    if len(_VALUES) > _CACHE_LIMIT:
        _VALUES.clear()
    known = _VALUES[value] = _spelling(value, False)[0]
    return known


def _value_text(value: object, column: int, indent: int) -> str:
    """Return a scalar value as written from `column` (lines folded onto `indent`)."""
    if isinstance(value, str):
        text = _VALUES.get(value) or _spelled(value)
        if column + len(text) > _WIDTH and " " in value:
            return _fold(value, text[0] == "'", column, indent)
        return text
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    if type(value) is float:
        text = _FLOATS.represent_float(value).value
        if _scalar(_FLOAT, text).implicit[0] and _ANALYZER.analyze_scalar(text).allow_block_plain:
            return text
    raise _NotAlike


def _fold(text: str, quoted: bool, column: int, indent: int) -> str:
    """Return `text` written from `column` as PyYAML's write_plain / write_single_quoted (split=True)
    write it: a single space past the width becomes a line break and `indent` spaces."""
    out = []
    if quoted:
        out.append("'")
        column += 1
    spaces = False
    start = end = 0
    size = len(text)
    while end <= size:
        ch = text[end] if end < size else None
        if spaces:
            if ch != " ":
                if start + 1 == end and column > _WIDTH and (not quoted or (start != 0 and end != size)):
                    out.append("\n" + " " * indent)
                    column = indent
                else:
                    out.append(text[start:end])
                    column += end - start
                start = end
        elif ch is None or ch == " " or (quoted and ch == "'"):
            if start < end:
                out.append(text[start:end])
                column += end - start
                start = end
        if quoted and ch == "'":
            out.append("''")
            column += 2
            start = end + 1
        if ch is not None:
            spaces = ch == " "
        end += 1
    if quoted:
        out.append("'")
    return "".join(out)


def _block_mapping(out: list, data: dict, indent: int, inline: bool) -> None:
    """Append a non-empty mapping whose keys start at `indent`; `inline`: the first key follows "- "."""
    heads = _HEADS.get(indent) or _heads(indent)
    append = out.append
    # The most frequent cases first, with as few operations each as possible: this loop runs for
    # every line of every file.
    for key, value in data.items():
        line, opener, room = heads.get(key) or _head(heads, key, indent)
        if inline:
            line, opener = line[indent + 1:], opener[indent + 1:]
            inline = False
        kind = type(value)
        if kind is str:
            text = _VALUES.get(value) or _spelled(value)
            if len(text) > room and " " in value:
                text = _fold(value, text[0] == "'", _WIDTH - room, indent + 2)
            append(line + text)
        elif kind is dict:
            if value:
                append(opener)
                _block_mapping(out, value, indent + 2, False)
            else:
                append(line + "{}")
        elif kind is list:
            if value:
                append(opener)
                _block_sequence(out, value, indent, False)  # PyYAML's indentless sequence in a mapping
            else:
                append(line + "[]")
        elif kind is int:
            append(line + str(value))
        else:
            append(line + _value_text(value, _WIDTH - room, indent + 2))


def _block_sequence(out: list, data: list, indent: int, inline: bool) -> None:
    """Append a non-empty sequence whose dashes are at `indent`; `inline`: the first item follows "- "."""
    line = _DASHES.get(indent) or _DASHES.setdefault(indent, "\n" + " " * indent + "- ")
    for item in data:
        if inline:
            head = "- "
            inline = False
        else:
            head = line
        if type(item) is dict or type(item) is list:
            if not item:
                out.append(head + ("{}" if type(item) is dict else "[]"))
            elif type(item) is dict:
                out.append(head)
                _block_mapping(out, item, indent + 2, True)
            else:
                out.append(head)
                _block_sequence(out, item, indent + 2, True)
        elif type(item) is str:
            text = _VALUES.get(item) or _spelled(item)
            if indent + 2 + len(text) > _WIDTH and " " in item:
                text = _fold(item, text[0] == "'", indent + 2, indent + 2)
            out.append(head + text)
        else:
            out.append(head + _value_text(item, indent + 2, indent + 2))


def _block_text(documents: list) -> str:
    """Return the YAML stream PyYAML writes for `documents`, for the documents this module writes itself."""
    out: list[str] = []
    for document in documents:
        if out:
            out.append("\n---")
        if type(document) is dict and document:
            _block_mapping(out, document, 0, False)
        elif type(document) is list and document:
            _block_sequence(out, document, 0, False)
        else:
            raise _NotAlike
    out.append("\n")
    out[0] = out[0][1:]  # every line is written with the line break before it; the first has none
    return "".join(out)


def dump_yaml_all(documents: list) -> str:
    """Return `documents` as a YAML stream, in block style, keys in their order, no aliases."""
    try:
        return _block_text(documents)
    except _NotAlike:
        pass
    return _emitted(documents)


def _emitted(documents: list) -> str:
    """Return `documents` as dump_yaml_all does, through LibYAML or, where the two differ, PyYAML's emitter."""
    stream = io.StringIO()
    emitter = yaml.CSafeDumper(stream, **_OPTIONS)
    try:
        emitter.open()
        for document in documents:
            emitter.emit(_DOCUMENT_START)
            _emit(emitter.emit, document)
            emitter.emit(_DOCUMENT_END)
        emitter.close()
    except _NotAlike:
        return yaml.dump_all(documents, Dumper=_PlainDumper, **_OPTIONS)
    finally:
        emitter.dispose()
    return stream.getvalue()


def dump_yaml(document: object) -> str:
    """Return one document as YAML (as `dump_yaml_all([document])`)."""
    return dump_yaml_all([document])
