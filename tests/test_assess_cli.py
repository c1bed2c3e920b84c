"""`hyperdock assess` end to end on the sample estate: contract, determinism, report."""

from __future__ import annotations

import copy

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT, run_cli

EXAMPLES = ROOT / "examples" / "estate"
PLAN_SCHEMA = json.loads((ROOT / "migrate" / "schemas" / "plan.schema.json").read_text(encoding="utf-8"))
INVENTORY_SCHEMA = json.loads((ROOT / "migrate" / "schemas" / "inventory.schema.json").read_text(encoding="utf-8"))
SAMPLE = ["examples/estate/hv01.yaml", "examples/estate/hv02.json", "--dependencies", "examples/estate/dependencies.csv"]


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "out"
    result = run_cli("assess", *SAMPLE, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "hyperdock: read 30 VMs on 2 hosts" in result.stderr  # progress on stderr
    return out


@pytest.fixture(scope="module")
def plan(sample_run) -> dict:
    return json.loads((sample_run / "plan.json").read_text(encoding="utf-8"))


def test_plan_matches_its_schema(plan):
    jsonschema.validate(plan, PLAN_SCHEMA)
    assert plan["schema"] == "hyperdock/plan@1"


def test_sample_inventory_matches_inventory_schema():
    import yaml
    jsonschema.validate(yaml.safe_load((EXAMPLES / "hv01.yaml").read_text(encoding="utf-8")), INVENTORY_SCHEMA)
    jsonschema.validate(json.loads((EXAMPLES / "hv02.json").read_text(encoding="utf-8-sig")), INVENTORY_SCHEMA)


def test_workloads_sorted_and_decided(plan):
    names = [w["name"] for w in plan["workloads"]]
    assert names == sorted(names, key=str.lower)
    by = {w["name"]: w for w in plan["workloads"]}
    assert len(by) >= 25 and len({w["host"] for w in plan["workloads"]}) >= 2
    assert by["DC01"]["target"] == "vm" and "block.domain-controller" in by["DC01"]["rules"]
    assert by["SQL01"]["target"] == "vm" and "block.database-engine" in by["SQL01"]["rules"]
    assert by["RDS01"]["target"] == "vm" and "block.remote-desktop" in by["RDS01"]["rules"]
    assert by["FS01"]["target"] == "vm" and "block.file-server" in by["FS01"]["rules"]
    assert by["ARCHIVE01"]["fit"] == "unknown"
    assert by["WEB01"]["target"] == "process"
    assert by["WEB01"]["baseImage"] == "mcr.microsoft.com/dotnet/framework/aspnet:4.8.1-windowsservercore-ltsc2025"
    assert by["DMZ-FAB-WEB01"]["target"] == "hyperv"  # internet-facing among several tenants
    assert by["DMZ-NW-API01"]["target"] == "hyperv"   # trust=untrusted
    assert by["DMZ-NW-WEB01"]["baseImage"].endswith("ltsc2019")  # osPin, older than the host
    assert set(plan["sharedInfrastructure"]) == {"DC01", "DC02", "FS01"}


def test_waves_keep_the_conditions(plan):
    by = {w["name"]: w for w in plan["workloads"]}
    for w in plan["workloads"]:
        if w["wave"] is None:
            continue
        for dep in w["dependsOn"]:
            target = by[dep["name"]]
            if target["wave"] is not None:
                assert target["wave"] <= w["wave"], (w["name"], dep["name"])
    for wave in plan["waves"]:
        envs = {by[n]["tags"].get("env", "prod") in ("dev", "test") for n in wave["workloads"]}
        assert len(envs) == 1, wave
    assert all(by[n]["tags"].get("criticality") != "high" for n in plan["waves"][0]["workloads"])
    apps = {}
    for w in plan["workloads"]:
        if w["wave"] and "app" in w["tags"]:
            apps.setdefault((w["tags"]["app"], w["tags"].get("env")), set()).add(w["wave"])
    assert all(len(waves) == 1 for waves in apps.values()), apps


def test_report_has_tables_findings_and_mermaid(sample_run, plan):
    report = (sample_run / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# hyperdock assessment")
    for wave in plan["waves"]:
        assert f"### Wave {wave['wave']} ({wave['environment']})" in report
    assert "```mermaid\nflowchart LR" in report
    assert "`block.domain-controller`" in report
    assert "| container, process isolation |" in report


def test_report_draws_a_line_per_group_member_even_when_names_repeat(plan):
    # VMs may share a name (assess warns); the diagram keeps a node line per member, in member order,
    # as it always has, so a faster renderer cannot silently change report.md.
    from migrate.report import report_chunks
    plan = copy.deepcopy(plan)
    group = next(g for g in plan["moveGroups"] if 2 < len(g["workloads"]) <= 12)
    first, second = group["workloads"][:2]
    group["workloads"][1] = first
    for workload in plan["workloads"]:
        if workload["name"] == second:
            workload["name"] = first
    report = "".join(report_chunks(plan))
    diagram = report.split(f"### {group['id']}:", 1)[1].split("```mermaid\n", 1)[1].split("```", 1)[0]
    nodes = [line for line in diagram.splitlines() if line.startswith("  n") and "-->" not in line]
    assert len(nodes) == len(group["workloads"])
    assert nodes[0] == nodes[1] and nodes[0].startswith("  n1[")


def test_report_says_where_data_drives_are_mounted_and_that_they_start_empty(plan):
    from migrate.contract.names import data_mount, data_volume_name
    from migrate.report import report_chunks
    report = "".join(report_chunks(plan))
    sections = {part.split(":", 1)[0]: part for part in report.split("\n### ")[1:]}
    with_drives = [w for w in plan["workloads"] if (w.get("container") or {}).get("dataDrives")]
    assert [w["name"] for w in with_drives] == ["ORDERSVC01"]  # the sample's app on D:
    assert f"`D:` at `{data_mount('D')}`" in sections["ORDERSVC01"] and "is empty" in sections["ORDERSVC01"]
    assert sum("Data drives:" in text for text in sections.values()) == 1
    # What the report says is what compose mounts (the golden compose files of the same sample).
    compose = "".join(f.read_text(encoding="utf-8") for f in (ROOT / "tests/golden/sample/compose").glob("*.yaml"))
    assert f"- {data_volume_name('ordersvc01', 'D')}:{data_mount('D')}" in compose


def test_same_input_gives_identical_files(tmp_path, sample_run):
    # Copied inputs in another folder: only the inputs' names differ, and they are relative here.
    result = run_cli("assess", *SAMPLE, "--out", str(tmp_path / "again"), "--quiet")
    assert result.returncode == 0, result.stderr
    for name in ("plan.json", "report.md"):
        assert (tmp_path / "again" / name).read_bytes() == (sample_run / name).read_bytes()


def test_order_of_input_files_does_not_change_decisions(tmp_path, plan):
    result = run_cli("assess", "examples/estate/hv02.json", "examples/estate/hv01.yaml", "--dependencies",
                     "examples/estate/dependencies.csv", "--out", str(tmp_path / "swapped"), "--quiet")
    assert result.returncode == 0, result.stderr
    swapped = json.loads((tmp_path / "swapped" / "plan.json").read_text(encoding="utf-8"))
    assert swapped["workloads"] == plan["workloads"]
    assert swapped["waves"] == plan["waves"]


def test_console_script_is_installed():
    script = shutil.which("hyperdock", path=str(Path(__import__("sys").executable).parent))
    assert script, "pip install -e . should put hyperdock on the venv's PATH"


def test_host_os_option_changes_images(tmp_path):
    result = run_cli("assess", *SAMPLE, "--host-os", "ltsc2019", "--out", str(tmp_path / "o"), "--quiet")
    assert result.returncode == 0, result.stderr
    plan = json.loads((tmp_path / "o" / "plan.json").read_text(encoding="utf-8"))
    images = {w["baseImage"] for w in plan["workloads"] if w["baseImage"]}
    assert images and all("ltsc2025" not in i and "ltsc2022" not in i for i in images)
