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
            if isinstance(key, str) and len(key) > _KEY_LIMIT:
                raise _NotAlike
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


def dump_yaml_all(documents: list) -> str:
    """Return `documents` as a YAML stream, in block style, keys in their order, no aliases."""
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
