"""Bad input: one line naming file and field, exit 2, no traceback, nothing under --out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import inventory, run_cli, vm, write_json

GOOD_CSV = "Source server name,Destination server name,Destination IP,Destination port\nA,B,10.0.0.2,443\n"


def _inventory_with(**changes) -> dict:
    document = inventory(vm("WEB01", ip="10.0.0.1"), vm("B", ip="10.0.0.2"))
    for dotted, value in changes.items():
        target = document
        *path, last = dotted.split("/")
        for key in path:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return document


DELETE = object()

CASES = {
    "not-json-or-yaml": ("inv.json", b"{ this is : not json", "inv.json:1", "not valid JSON"),
    "yaml-syntax": ("inv.yaml", b"schema: [unclosed\nhosts: x\n", "inv.yaml:", "not valid JSON or YAML"),
    "empty-file": ("inv.json", b"", "inv.json", "file is empty"),
    "wrong-schema": ("inv.json", _inventory_with(schema="hyperdock/inventory@9"), "schema", "expected 'hyperdock/inventory@1'"),
    "missing-hosts": ("inv.json", _inventory_with(hosts=DELETE), "hosts", "required field is missing"),
    "missing-vmid": ("inv.json", _inventory_with(**{"hosts/0/vms/0/VMId": DELETE}), "hosts[0].vms[0].VMId", "required field is missing"),
    "wrong-type": ("inv.json", _inventory_with(**{"hosts/0/vms/1/ProcessorCount": "two"}), "hosts[0].vms[1].ProcessorCount", "expected an integer"),
    "unknown-enum": ("inv.json", _inventory_with(**{"hosts/0/vms/0/State": "Exploded"}), "hosts[0].vms[0].State", "unknown value 'Exploded'"),
    "bad-generation": ("inv.json", _inventory_with(**{"hosts/0/vms/0/Generation": 3}), "hosts[0].vms[0].Generation", "expected 1 or 2"),
    "top-level-list": ("inv.json", [1, 2], "inv.json", "expected an object"),
    "bad-date": ("inv.json", _inventory_with(collectedAt="yesterday"), "collectedAt", "ISO 8601"),
    "port-out-of-range": ("inv.json", _inventory_with(**{"hosts/0/vms/0/Guest/Listeners": [{"LocalAddress": "0.0.0.0", "LocalPort": 70000}]}),
                          "Guest.Listeners[0].LocalPort", "1 to 65535"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_inventory(tmp_path, case):
    name, content, where, expected = CASES[case]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        write_json(path, content)
    out = tmp_path / "out"
    result = run_cli("assess", str(path), "--out", str(out), "--quiet")
    _assert_one_line_error(result, out, where, expected)


CSV_CASES = {
    "missing-column": ("Source server name,Destination IP,Destination port\nA,10.0.0.2,443\n", ":1", "missing column(s) 'Destination server name'"),
    "bad-port": ("Source server name,Destination server name,Destination IP,Destination port\nA,B,10.0.0.2,443\nA,B,10.0.0.2,https\n", ":3", "'https' is not a port number"),
    "short-row": ("Source server name,Destination server name,Destination IP,Destination port\nA,B\n", ":2", "expected 4 columns"),
    "empty": ("", "deps.csv", "file is empty"),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_bad_dependency_csv(tmp_path, case):
    text, where, expected = CSV_CASES[case]
    inv = write_json(tmp_path / "inv.json", _inventory_with())
    csv_path = tmp_path / "deps.csv"
    csv_path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("assess", str(inv), "--dependencies", str(csv_path), "--out", str(out), "--quiet")
    _assert_one_line_error(result, out, "deps.csv" + where if where.startswith(":") else where, expected)


def test_missing_file(tmp_path):
    out = tmp_path / "out"
    result = run_cli("assess", str(tmp_path / "nope.json"), "--out", str(out))
    _assert_one_line_error(result, out, "nope.json", "cannot read file")


def test_bad_option(tmp_path):
    result = run_cli("assess", "x.json", "--host-os", "ltsc2030", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "invalid choice" in result.stderr


def test_existing_output_is_left_alone_on_bad_input(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.json").write_text("previous", encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "nope"}), encoding="utf-8")
    result = run_cli("assess", str(bad), "--out", str(out), "--quiet")
    assert result.returncode == 2
    assert (out / "plan.json").read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in out.iterdir()) == ["plan.json"]


def _assert_one_line_error(result, out, where: str, expected: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("hyperdock: error: ")
    assert where in lines[0] and expected in lines[0], lines[0]
    assert not out.exists()


@pytest.mark.parametrize("make_out", ["file", "plan-json-folder", "unwritable"])
def test_odd_out_is_one_line_and_nothing_written(tmp_path, make_out):
    inv = write_json(tmp_path / "inv.json", _inventory_with())
    out = tmp_path / "out"
    if make_out == "file":
        out.write_text("x", encoding="utf-8")
    elif make_out == "plan-json-folder":
        (out / "plan.json").mkdir(parents=True)
    else:
        out = Path("/proc/hyperdock-out")  # /proc takes no new entries, even from root
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    result = run_cli("assess", str(inv), "--out", str(out), "--quiet", "--generate")
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(out) in result.stderr
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
