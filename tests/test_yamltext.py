"""YAML text: LibYAML writes the bytes PyYAML's pure-Python emitter writes, hostile strings included."""

from __future__ import annotations

import random

import pytest
import yaml

from migrate.generate.yamltext import _PlainDumper as PythonDumper  # the pure-Python path
from migrate.generate.yamltext import dump_yaml, dump_yaml_all


def python_yaml(document) -> str:
    return yaml.dump(document, Dumper=PythonDumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)


# Pieces of inventory values: YAML indicators, words YAML 1.1 reads as other types, line breaks,
# characters the two emitters escape differently (NEL, U+2028, BOM, outside the BMP, NUL).
PIECES = list("ab c:#-'\"\\{}[],&*!|>%@`?=~.0123456789\n\t\r") + [
    "yes", "No", "null", "~", ".inf", "0x1f", "1e3", "- ", ": ", " #", "word ", "é", "日", "Ω",
    "\x85", "\u2028", "\u2029", "\ufeff", "\U0001F600", "\x00", "\x7f", "\u00a0"]


def hostile_string(rnd: random.Random) -> str:
    return "".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, rnd.choice([8, 40, 160]))))


def document(rnd: random.Random) -> dict:
    text = hostile_string(rnd)
    key = text[:rnd.choice([10, 60, 61, 130])] or "empty"
    return {"name": text, "port": rnd.randint(-5, 70000), "share": rnd.random() * 10 ** rnd.randint(-20, 20),
            "flag": rnd.random() < 0.5, "none": None, "empty": {}, "nothing": [],
            "list": [text, {"inner": text}], key: {"deep": {key: [text, 1.5, False]}}}


@pytest.mark.parametrize("seed", range(4))
def test_random_documents_are_written_as_pure_python_pyyaml_writes_them(seed):
    rnd = random.Random(seed)
    for _ in range(500):
        doc = document(rnd)
        assert dump_yaml(doc) == python_yaml(doc)
        assert dump_yaml_all([doc, doc]) == yaml.dump_all([doc, doc], Dumper=PythonDumper, sort_keys=False,
                                                          allow_unicode=True, width=100)


def test_hostile_values_round_trip():
    doc = {"tenant": "a\x85b\u2028c\u2029d\re", "note": "line\nbreak\ttab", "emoji": "\U0001F600", "yes": "yes", "k" * 70: "long key"}
    assert yaml.safe_load(dump_yaml(doc)) == doc


def test_repeated_objects_are_written_in_full():
    shared = {"key": "os", "value": "windows"}
    text = dump_yaml({"a": [shared], "b": [shared]})
    assert "&" not in text and "*" not in text
    assert text.count("value: windows") == 2


def test_unknown_types_are_refused_as_before():
    with pytest.raises(yaml.representer.RepresenterError):
        dump_yaml({"object": object()})
