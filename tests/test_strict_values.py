"""Names, escaping and strict values: what bad input must not get through silently."""

from __future__ import annotations

import hashlib
import json

import yaml

from conftest import guest, inventory, run_cli, vm, vm_id, write_json
from migrate.generate.files import dump_yaml
from migrate.contract.names import unique_labels
from migrate.report import _cell, _code
from migrate.core.documents import binding_problem, parse_port


def test_labels_stay_unique_when_a_suffix_meets_a_real_name():
    suffix = hashlib.sha256(b"id-a").hexdigest()[:6]
    labels = unique_labels([("id-a", "web01"), ("id-b", "WEB01"), ("id-c", f"web01-{suffix}"), ("id-d", "db")])
    assert len(set(labels.values())) == 4
    assert labels["id-d"] == "db"
    assert unique_labels([("id-c", f"web01-{suffix}"), ("id-d", "db"), ("id-b", "WEB01"), ("id-a", "web01")]) == labels


def test_generated_hosts_list_each_label_once(tmp_path):
    suffix = hashlib.sha256(vm_id("web01").encode()).hexdigest()[:6]
    machines = [vm("web01", ip="10.0.0.1"), vm("WEB01", ip="10.0.0.2", VMId=vm_id("WEB01-upper")),
                vm(f"web01-{suffix}", ip="10.0.0.3")]
    path = write_json(tmp_path / "inv.json", inventory(*machines))
    result = run_cli("assess", str(path), "--out", str(tmp_path / "out"), "--generate", "--quiet")
    assert result.returncode == 0, result.stderr
    hosts = yaml.safe_load((tmp_path / "out" / "hosts.yaml").read_text(encoding="utf-8"))
    placed = [label for pool in hosts["pools"] for host in pool["hosts"] for label in host["workloads"]]
    assert len(placed) == len(set(placed)) == 3
    assert len(list((tmp_path / "out" / "containers").iterdir())) == 3


def test_compose_values_never_interpolate():
    from plan_fixtures import typed_plan
    from migrate.generate.compose import compose_document

    plan = typed_plan([{"name": "a", "vmId": "${HOME}$x", "container": {"ports": [80]}}])
    document = compose_document(plan.workloads, plan.labels, "registry.invalid/x")
    assert document["services"]["a"]["labels"]["io.hyperdock.vm-id"] == "$${HOME}$$x"


def test_compose_documents_double_every_dollar_of_inventory_values():
    from plan_fixtures import typed_plan
    from migrate.generate.compose import compose_document

    plan = typed_plan([
        {"name": "web", "vmId": "${HOME}-web", "moveGroup": "mg-$x", "tenant": "t$", "container": {
            "ports": [80], "dataDrives": ["D"], "parameters": [{"name": "P", "file": "C:\\app\\web.config"}]}},
        {"name": "db", "vmId": "$db", "moveGroup": "mg-$x", "dependsOn": [{"vmId": "${HOME}-web", "name": "web", "ports": [80], "connections": 1}]}])
    document = compose_document(plan.workloads, plan.labels, "registry.invalid/x")

    def strings(value):
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return [value] if isinstance(value, str) else []

    values = strings(document)
    assert {"$${HOME}-web", "$$db", "mg-$$x"} <= set(values)
    assert all("$" not in v.replace("$$", "") for v in values)


def test_yaml_line_breaks_round_trip():
    for text in ("a\x85b", "x\u2028y", "p\u2029q", "c\rd", "plain", "caf\u00e9"):
        assert yaml.safe_load(dump_yaml({"k": text}))["k"] == text


def test_markdown_values_stay_on_their_line():
    for text in ("a\rb", "a\u2028# heading", "a\x85b", "a\nb|c"):
        assert len(("x " + _cell(text)).splitlines()) == 1
        assert "|" not in _cell(text).replace("\\|", "")
    assert _cell("a`b") == "a\\`b"
    assert _code("a``b") == "```a``b```"
    assert _code("`x") == "`` `x ``"


def test_ports_are_ascii_digits_in_range():
    assert [parse_port(t) for t in ("443", "1", "65535")] == [443, 1, 65535]
    assert [parse_port(t) for t in ("4_4_3", "\u0664\u0664\u0663", "0", "65536", "70000", " 443", "+443", "\u00b2", "")] == [None] * 9
    assert binding_problem("http/*:80:") is None and binding_problem("https/[::1]:443:h") is None
    assert binding_problem("net.tcp/808:*") is None
    assert "not a port" in binding_problem("http/*:4_4_3:")


def test_duplicate_vmid_choice_does_not_depend_on_argument_order(tmp_path):
    a = vm("APP01", ip="10.0.0.1", Notes="copy a")
    b = vm("APP01", ip="10.0.0.1", Notes="copy b", ProcessorCount=8)
    first = write_json(tmp_path / "a.json", inventory(a, host="HVA"))
    second = write_json(tmp_path / "b.json", inventory(b, host="HVB"))
    plans = []
    for order, out in (((first, second), "o1"), ((second, first), "o2")):
        result = run_cli("assess", *map(str, order), "--out", str(tmp_path / out), "--quiet")
        assert result.returncode == 0, result.stderr
        plans.append(json.loads((tmp_path / out / "plan.json").read_text(encoding="utf-8")))
    assert [w["host"] for w in plans[0]["workloads"]] == [w["host"] for w in plans[1]["workloads"]]
    assert [w["resources"] for w in plans[0]["workloads"]] == [w["resources"] for w in plans[1]["workloads"]]


def test_hostile_names_stay_inert_in_compose_and_report(tmp_path):
    from migrate.cli import main

    web = vm("WEB\u2028# injected\rheading", ip="10.0.0.1", VMId="${HOME}-web",
             tags={"app": "shop`x`\u0085", "tenant": "t"})
    path = write_json(tmp_path / "inv.json", inventory(web, vm("APP02", ip="10.0.0.2")))
    assert main(["assess", str(path), "--out", str(tmp_path / "out"), "--generate", "--quiet"]) == 0
    composed = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in (tmp_path / "out" / "compose").glob("*.yaml")]
    vm_ids = [s["labels"]["io.hyperdock.vm-id"] for doc in composed for s in doc["services"].values()]
    assert "$${home}-web" in vm_ids  # Compose reads `$$` as one literal `$`
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert not any(line.startswith("# injected") or line.startswith("heading") for line in report.splitlines())
    assert not any(c in report for c in "\r\u2028\u0085")


def test_long_notes_and_versions_are_read_in_linear_time(tmp_path):
    """400 KB of Notes and of OSVersion digits: the quadratic regexes took hours on this; the
    alarm is a hang guard, not a timing."""
    import signal

    from migrate.cli import main

    machine = vm("APP01", ip="10.0.0.1", Notes="a" * 400_000 + " app=shop",
                 guest_data=guest(OSVersion="1" * 400_000, DotNetRuntimes=["Microsoft.NETCore.App " + "9" * 400_000]))
    path = write_json(tmp_path / "inv.json", inventory(machine, host_version="2" * 400_000))

    def hang(signum, frame):
        raise AssertionError("assess did not finish: a regex went quadratic")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)
    try:
        assert main(["assess", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    plan = json.loads((tmp_path / "out" / "plan.json").read_text(encoding="utf-8"))
    assert plan["workloads"][0]["tags"]["app"] == "shop"
