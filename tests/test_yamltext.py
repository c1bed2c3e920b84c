"""YAML text: LibYAML writes the bytes PyYAML's pure-Python emitter writes, hostile strings included."""

from __future__ import annotations

import random

import pytest
import yaml

from migrate.generate.yamltext import _PlainDumper as PythonDumper  # the pure-Python path
from migrate.generate.yamltext import _block_text, _emitted, _NotAlike, dump_yaml, dump_yaml_all


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


WORDS = ["a", "web", "C:\\inetpub", "it's", "-", "#", ":", "x:", "'q'", "true", "12", "é", "日本", "", "  ", "%", "@", "- b"]


def folding_string(rnd: random.Random) -> str:
    """Words and runs of spaces long enough to cross the 100-column width at any depth."""
    return "".join(rnd.choice(WORDS) + " " * rnd.choice([0, 1, 1, 1, 2]) for _ in range(rnd.randint(1, 45)))


def printable_string(rnd: random.Random) -> str:
    """A hostile string without what sends a document to the emitters (control, format, non-BMP characters)."""
    return "".join(c for c in hostile_string(rnd) if c.isprintable() and c <= "\uffff")


def scalar(rnd: random.Random) -> object:
    kind = rnd.randrange(9)
    if kind < 3:
        return folding_string(rnd)
    if kind < 5:
        return hostile_string(rnd) if rnd.random() < 0.05 else printable_string(rnd)
    return [None, True, rnd.randint(-10 ** 12, 10 ** 12), rnd.random() * 10 ** rnd.randint(-20, 20)][kind - 5]


def node(rnd: random.Random, depth: int) -> object:
    """A mapping or sequence nested up to `depth` levels: mappings in sequences in mappings, empty ones too."""
    kind = rnd.randrange(6) if depth else 5
    if kind == 0:
        return {}
    if kind == 1:
        return []
    if kind in (2, 3):
        keys = [rnd.choice(["name", "spec", "-x", "a b", "on", "'k'", "é", "7", ""]) + printable_string(rnd)[:rnd.choice([0, 0, 5, 70])]
                for _ in range(rnd.randint(1, 4))]
        return {key: node(rnd, depth - 1) for key in keys}
    if kind == 4:
        return [node(rnd, depth - 1) for _ in range(rnd.randint(1, 3))]
    return scalar(rnd)


@pytest.mark.parametrize("seed", range(4))
def test_nested_documents_written_directly_are_what_pyyaml_writes(seed):
    rnd = random.Random(seed)
    direct = 0
    for _ in range(200):
        documents = [node(rnd, 4) for _ in range(rnd.randint(1, 3))]
        documents = [d if isinstance(d, (dict, list)) and (d or rnd.random() < 0.1) else {"value": d} for d in documents]
        expected = yaml.dump_all(documents, Dumper=PythonDumper, sort_keys=False, default_flow_style=False,
                                 allow_unicode=True, width=100)
        assert dump_yaml_all(documents) == expected
        try:
            assert _block_text(documents) == expected
            direct += 1
        except _NotAlike:
            assert _emitted(documents) == expected
    assert direct > 80  # about half the documents take the direct path, so it is what this test checks


def test_long_values_fold_as_pyyaml_folds_them():
    sentence = "Start-Service -Name 'W3SVC'; " * 8
    document = {"spec": {"containers": [{"command": ["powershell", sentence, sentence.replace("'", "")]}]},
                "it's": [[sentence], {"k": sentence}]}
    assert "\n" in _block_text([document]).strip()
    assert _block_text([document]) == python_yaml(document)


SIMPLE_PIECES = list("aZ09_./\\-:") + ["..", "../"] + ["yes", "on", "No", "null", "true", "1e3", "0x1f", "1.5", "12", ".inf", "~",
                                       "2001-12-14", "1_000", "0o7", "=", "<<", "---", "...", "vm000001", "10.0.26100"]


@pytest.mark.parametrize("seed", range(2))
def test_plain_strings_spelled_without_the_analysis_as_with_it(seed):
    from migrate.generate.yamltext import _SIMPLE, _analyzed_spelling, _spelling

    rnd = random.Random(seed)
    shortcut = 0
    for _ in range(3000):
        value = "".join(rnd.choice(SIMPLE_PIECES) for _ in range(rnd.randint(1, rnd.choice([2, 6, 30]))))
        for key in (False, True):
            try:
                expected = _analyzed_spelling(value, key)
            except _NotAlike:
                expected = None
            try:
                assert _spelling(value, key) == expected, value
            except _NotAlike:
                assert expected is None, value
        shortcut += bool(_SIMPLE.fullmatch(value))
    assert shortcut > 1000  # the shortcut is what this test checks
