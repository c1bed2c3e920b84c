"""The typed plan contract: plan@1 and hosts@1 read and written back byte for byte, enums equal to the
schemas' vocabularies, and every naming rule answering the way generated files use it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from migrate.contract import names
from migrate.contract.model import Fit, Isolation, Platform, Target
from migrate.contract.plan_io import (hosts_document, plan_document, plan_from_document, read_hosts, read_plan,
                                      read_plan_document, schema)
from migrate.core.errors import InputError
from migrate.generate.yamltext import dump_yaml
from migrate.output import to_json

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "plan"
HOSTS_HEADER = "# Capacity plan: read by the Pulumi program (hyperdock:plan config). Schema: hyperdock/hosts@1.\n"


def test_plan_json_reads_and_writes_back_byte_identical():
    plan = read_plan(EXAMPLE / "plan.json")
    assert to_json(plan_document(plan)) == (EXAMPLE / "plan.json").read_bytes()
    assert any(w.container and w.container.scheduled_tasks for w in plan.workloads)  # triggers went both ways


def test_hosts_yaml_reads_and_writes_back_byte_identical():
    hosts = read_hosts(EXAMPLE / "hosts.yaml")
    assert HOSTS_HEADER + dump_yaml(hosts_document(hosts)) == (EXAMPLE / "hosts.yaml").read_text(encoding="utf-8")
    assert hosts.host_count == sum(p.host_count for p in hosts.pools) > 0


def test_enums_are_the_schemas_vocabularies():
    plan, hosts = schema("plan"), schema("hosts")
    workload = plan["$defs"]["workload"]["properties"]
    assert [t.value for t in Target] == workload["target"]["enum"]
    assert [f.value for f in Fit] == workload["fit"]["enum"]
    assert [i.value for i in Isolation] == hosts["properties"]["pools"]["items"]["properties"]["isolation"]["enum"]
    assert [p.value for p in Platform] == hosts["properties"]["platform"]["enum"]
    assert Target("hyperv") is Target.HYPERV and f"{Isolation.PROCESS}" == "process"


def test_labels_and_derived_names_follow_the_generated_files():
    plan = read_plan(EXAMPLE / "plan.json")
    web = next(w for w in plan.workloads if w.name == "WEB01")
    label = plan.label(web)
    assert label == "web01" and web.isolation is Isolation.PROCESS and web.is_container
    assert web.image_reference("registry.contoso.com/apps", label) == f"registry.contoso.com/apps/web01:wave-{web.wave}"
    assert names.credential_spec_file(label) == "web01_credspec.json"
    assert names.data_volume_name(label, "D") == "web01-data-d"
    assert names.hosts_pool_name("process", "fabrikam-inc", "dmz") == "process-fabrikam-inc-dmz"
    # "Fabrikam Inc" is another tenant than "fabrikam-inc" to the rules (VM.tag), so another name (11e).
    assert names.hosts_pool_name("process", "Fabrikam Inc", "dmz") == names.hosts_pool_name("process", "fabrikam inc ", "dmz") \
        != "process-fabrikam-inc-dmz"
    assert names.tenant_namespace(None) == "hd-shared" and names.tenant_network("") == "tenant-default"
    vm = next(w for w in plan.workloads if w.target is Target.VM)
    assert vm.isolation is None and vm.container is None and not vm.is_container


def test_batch_rule_is_the_containers():
    plan = read_plan(EXAMPLE / "plan.json")
    batch = [plan.label(w) for w in plan.containers if w.container.is_batch]
    assert batch == ["batch01"]


def _write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "plan.json"
    path.write_bytes(json.dumps(document).encode("utf-8"))
    return path


@pytest.mark.parametrize("key", ["gmsa", "ports", "parameters"])
def test_a_container_without_what_assess_writes_is_named(tmp_path, key):
    document = read_plan_document(EXAMPLE / "plan.json")
    index = next(i for i, w in enumerate(document["workloads"]) if w["target"] == "process")
    broken = copy.deepcopy(document)
    del broken["workloads"][index]["container"][key]
    with pytest.raises(InputError) as caught:
        read_plan(_write(tmp_path, broken))
    assert caught.value.field == f"workloads[{index}].container.{key}"
    assert "re-run `hyperdock assess`" in str(caught.value) and "\n" not in str(caught.value)


def test_a_vm_workload_needs_only_what_the_schema_requires():
    document = read_plan_document(EXAMPLE / "plan.json")
    vm = next(w for w in document["workloads"] if w["target"] == "vm")
    for key in ("tags", "resources", "dependsOn", "imageOS", "container"):
        vm.pop(key, None)
    plan = plan_from_document(document)
    assert next(w for w in plan.workloads if w.vm_id == vm["vmId"]).tags == {}


def test_equal_parts_of_workloads_are_read_once_and_unequal_ones_stay_apart():
    document = read_plan_document(EXAMPLE / "plan.json")
    first = next(w for w in document["workloads"] if w["target"] != "vm")
    twins = [copy.deepcopy(first) | {"vmId": f"twin-{i}", "name": f"twin{i}"} for i in range(3)]
    twins[1]["resources"]["cpus"] = float(twins[1]["resources"]["cpus"] or 1)  # 2 and 2.0: equal in Python, not in JSON
    twins[2]["container"]["ports"] = twins[2]["container"]["ports"] + [65000]
    document["workloads"] += twins
    plan = plan_from_document(document)
    a, b, c = plan.workloads[-3:]
    assert a.container is b.container and a.findings is b.findings  # one object, built once
    assert c.container != a.container and c.container.ports[-1] == 65000
    assert type(b.resources.cpus) is float and type(a.resources.cpus) is int
    assert to_json(plan_document(plan)) == to_json(document)  # and every value as it was read


def test_hosts_document_of_a_capacity_plan_passes_its_schema():
    import jsonschema

    document = hosts_document(read_hosts(EXAMPLE / "hosts.yaml"))
    jsonschema.validate(yaml.safe_load(dump_yaml(document)), schema("hosts"))
