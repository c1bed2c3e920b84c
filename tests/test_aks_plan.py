"""`generate --platform aks`: node pools from the demand model, retargeted images, Hyper-V kept on hosts."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from pulumi_azure_native.containerservice import OSSKU

from conftest import run_cli
from migrate.core.azure import AZURE_SIZES, HostSize
from migrate.core.windows import OS_BUILDS, choose_base_image
from migrate.contract.aks import AKS_OS_SKUS, RETARGET, retarget_image
from migrate.contract.kubernetes import POOL_LABEL
from migrate.contract.names import aks_pool_name
from migrate.generate.aks import AksOptions, aks_plan, allocatable
from migrate.contract.plan_io import schema
from plan_fixtures import typed_plan

SAMPLE = ["examples/estate/hv01.yaml", "examples/estate/hv02.json", "--dependencies", "examples/estate/dependencies.csv"]
KUBERNETES_VERSION = "1.32.0"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("aks") / "out"
    result = run_cli("assess", *SAMPLE, "--out", str(out), "--generate", "--platform", "aks", "--quiet")
    assert result.returncode == 0, result.stderr
    return out


def load(folder: Path, name: str):
    return yaml.safe_load((folder / name).read_text(encoding="utf-8"))


def workload(name, cpus=2, memory=4096, target="process", image_os="ltsc2025", tenant="t1", zone="internal"):
    return {"name": name, "vmId": name, "target": target, "imageOS": image_os, "tags": {"tenant": tenant, "zone": zone},
            "baseImage": f"mcr.microsoft.com/windows/servercore:{image_os}",
            "resources": {"cpus": cpus, "memoryMiB": memory, "memoryAssignedMiB": None}}


def pod_specs(documents: list[dict]) -> list[dict]:
    """Return the pod specs of the Deployments, Jobs and CronJobs among `documents`."""
    specs = []
    for d in documents:
        if d["kind"] in ("Deployment", "Job"):
            specs.append(d["spec"]["template"]["spec"])
        elif d["kind"] == "CronJob":
            specs.append(d["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return specs


def plan_of(workloads):
    return typed_plan(workloads)


def test_os_sku_table_follows_the_installed_sdk():
    members = {m.value for m in OSSKU}
    assert set(AKS_OS_SKUS.values()) <= members
    # Windows2025 pools only where the API version in use offers them; today it does not.
    assert ("Windows2025" in members) == ("ltsc2025" in AKS_OS_SKUS)
    for target in RETARGET.values():
        assert target in AKS_OS_SKUS


def test_retargeting_gives_the_image_the_ladder_picks_for_the_target():
    """For every ladder input, the ltsc2025 image retargeted is exactly the ladder's ltsc2022 image."""
    for has_iis, framework, core, full, winps in itertools.product((False, True), (False, True), (None, 8, 9, 10),
                                                                   (False, True), (False, True)):
        kwargs = dict(has_iis=has_iis, managed_framework=framework, dotnet_core_major=core,
                      needs_full_api=full, needs_windows_powershell=winps)
        for source, target in RETARGET.items():
            assert retarget_image(choose_base_image(source, **kwargs).image, source, target) == \
                choose_base_image(target, **kwargs).image


def test_retarget_refuses_an_image_of_another_family():
    with pytest.raises(ValueError, match="ltsc2025"):
        retarget_image("mcr.microsoft.com/windows:1809", "ltsc2025", "ltsc2022")


def test_allocatable_follows_aks_reservations():
    # AKS's example: 8 GB and 30 pods reserve 20 MiB × 30 + 50 = 650 MiB; plus 100 Mi eviction and 2 GiB for Windows.
    assert allocatable(HostSize("x", 2, 8192, True), 30, AksOptions()) == (1, 8192 - 650 - 100 - 2048)
    # 4 GB and 70 pods: 25 % of memory (1024) is the smaller reservation.
    assert allocatable(HostSize("x", 4, 4096, True), 70, AksOptions())[1] == 4096 - 1024 - 100 - 2048


def test_pools_per_build_tenant_and_zone_hold_their_demand():
    workloads = [workload(f"a{i}", tenant="t1") for i in range(9)] + [workload(f"b{i}", tenant="t2") for i in range(3)]
    workloads += [workload("hv", target="hyperv"), workload("old", image_os="ltsc2019")]
    aks = aks_plan(plan_of(workloads), {w["vmId"]: w["name"] for w in workloads})
    jsonschema.validate(aks, schema("aks"))
    assert [(p["tenant"], p["osSku"]) for p in aks["pools"]] == [("t1", "Windows2022"), ("t2", "Windows2022")]
    cpu, memory = aks["allocatablePerNode"]["vcpus"], aks["allocatablePerNode"]["memoryMiB"]
    for pool in aks["pools"]:
        demand = [w for w in workloads if w["name"] in pool["workloads"]]
        assert sum(w["resources"]["cpus"] for w in demand) <= pool["nodeCount"] * cpu
        assert sum(w["resources"]["memoryMiB"] + 50 for w in demand) <= pool["nodeCount"] * memory
        assert pool["minCount"] == pool["nodeCount"] < pool["maxCount"]
        assert pool["nodeCount"] >= pool["lowerBound"]
    # D8s_v5 offers 7 vCPUs: nine 2-vCPU workloads need at least 3 nodes.
    assert aks["pools"][0]["nodeCount"] == 3
    assert {s["workload"] for s in aks["stayOnHosts"]} == {"hv", "old"}
    assert "Hyper-V" in next(s["reason"] for s in aks["stayOnHosts"] if s["workload"] == "hv")
    assert len(aks["summary"]["retargeted"]) == 12


def test_max_pods_grows_with_dense_nodes():
    tiny = [workload(f"t{i}", cpus=1, memory=128) for i in range(200)]
    big = AZURE_SIZES["Standard_D32s_v5"]
    aks = aks_plan(plan_of(tiny), {w["vmId"]: w["name"] for w in tiny}, AksOptions(node_size=big))
    per_node = max(len(p["workloads"]) / p["nodeCount"] for p in aks["pools"])
    assert aks["maxPods"] > 30 and aks["maxPods"] >= per_node + AksOptions().daemonset_pods


def test_a_group_beyond_aks_pool_limits_is_split():
    # D4s_v5 offers 3 vCPUs: 900 workloads of 3 vCPUs need 900 nodes, more than 1,000 with headroom.
    many = [workload(f"m{i}", cpus=3, memory=1024) for i in range(900)]
    aks = aks_plan(plan_of(many), {w["vmId"]: w["name"] for w in many}, AksOptions(node_size=AZURE_SIZES["Standard_D4s_v5"]))
    assert [p["nodeCount"] for p in aks["pools"]] == [800, 100]
    assert all(p["maxCount"] <= 1000 for p in aks["pools"])
    assert sorted(label for p in aks["pools"] for label in p["workloads"]) == sorted(w["name"] for w in many)
    assert len({p["name"] for p in aks["pools"]}) == 2


def test_pool_names_fit_aks_windows_limits():
    assert aks_pool_name("ltsc2022", 1) == "w22001"
    with pytest.raises(ValueError):
        aks_pool_name("ltsc2022", 1000)


def test_sample_hyperv_stays_on_hosts_and_the_rest_on_matching_pools(sample):
    aks, hosts = load(sample, "aks.yaml"), load(sample, "hosts.yaml")
    plan = json.loads((sample / "plan.json").read_text(encoding="utf-8"))
    jsonschema.validate(aks, schema("aks"))
    jsonschema.validate(hosts, schema("hosts"))
    hyperv = {w["name"].lower() for w in plan["workloads"] if w["target"] == "hyperv"}
    on_hosts = {label for pool in hosts["pools"] for host in pool["hosts"] for label in host["workloads"]}
    assert on_hosts == hyperv == {s["workload"] for s in aks["stayOnHosts"]}
    pools = {p["name"]: p for p in aks["pools"]}
    placed = [label for p in aks["pools"] for label in p["workloads"]]
    assert len(placed) == len(set(placed)) == sum(w["target"] == "process" for w in plan["workloads"])
    for label in placed:
        assert not (sample / "compose" / f"{label}.yaml").exists()
        documents = [d for d in yaml.safe_load_all((sample / "k8s" / f"{label}.yaml").read_text(encoding="utf-8")) if d]
        pods = pod_specs(documents)
        assert pods, label
        for pod in pods:
            pool = pools[pod["nodeSelector"][POOL_LABEL]]
            assert label in pool["workloads"]
            assert pod["nodeSelector"]["node.kubernetes.io/windows-build"] == pool["windowsBuild"] == \
                f"10.0.{OS_BUILDS[pool['imageOS']]}"
            assert "runtimeClassName" not in pod
        for d in documents:
            if d["kind"] != "GMSACredentialSpec":
                kubernetes_validate.validate(d, KUBERNETES_VERSION, strict=True)
        dockerfile = (sample / "containers" / label / "Dockerfile").read_text(encoding="utf-8")
        assert f"-{pool['imageOS']}" in dockerfile.split("FROM ", 1)[1].split("\n", 1)[0] or \
            f":{pool['imageOS']}" in dockerfile.split("FROM ", 1)[1].split("\n", 1)[0]
    for label in hyperv:
        assert not (sample / "k8s" / f"{label}.yaml").exists()


def test_sample_report_explains_retargeting_and_hyperv(sample):
    report = (sample / "report.md").read_text(encoding="utf-8")
    aks = load(sample, "aks.yaml")
    assert "[aks.yaml](aks.yaml)" in report and "Retargeted to ltsc2022" in report
    for stay in aks["stayOnHosts"]:
        assert f"`{stay['workload']}` (Hyper-V isolation" in report


def test_unknown_node_size_is_one_line_exit_2(tmp_path, sample):
    result = run_cli("generate", str(sample), "--platform", "aks", "--node-size", "Standard_Nope", "--out", str(tmp_path / "x"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--node-size" in result.stderr
    assert not (tmp_path / "x").exists()


def test_aks_generation_is_deterministic(sample, tmp_path):
    again = tmp_path / "again"
    result = run_cli("generate", str(sample), "--platform", "aks", "--out", str(again))
    assert result.returncode == 0, result.stderr
    for path in sorted(sample.rglob("*")):
        if path.is_file() and path.name not in ("plan.json", ".hyperdock-manifest"):  # written by assess only
            assert (again / path.relative_to(sample)).read_bytes() == path.read_bytes(), path.name


def test_experimental_hyperv_is_refused_on_aks(tmp_path, sample):
    result = run_cli("generate", str(sample), "--platform", "aks", "--experimental-k8s-hyperv", "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "Hyper-V" in result.stderr and result.stderr.count("\n") == 1


def test_readme_hosts_or_aks_table_is_true(sample, tmp_path):
    """The README's cost table for the sample comes from what generate writes today."""
    import re

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| (hosts \(`--platform azure`\)|AKS, [^|]+) \| ([^|]+) \|", readme, re.M)}
    hosts = yaml.safe_load((sample / "hosts.yaml").read_text(encoding="utf-8"))
    aks = load(sample, "aks.yaml")
    azure = tmp_path / "azure"
    assert run_cli("generate", str(sample), "--out", str(azure)).returncode == 0
    host_count = yaml.safe_load((azure / "hosts.yaml").read_text(encoding="utf-8"))["summary"]["hosts"]
    assert rows["hosts (`--platform azure`)"].startswith(f"{host_count} × `Standard_D16s_v5` hosts")
    default = rows["AKS, default `Standard_D8s_v5`"]
    assert default.startswith(f"{aks['summary']['windowsNodes']} Windows nodes (pools "
                              + " + ".join(str(p["nodeCount"]) for p in aks["pools"]) + ")")
    assert f"+ {hosts['summary']['hosts']} Hyper-V host" in default
    d16 = tmp_path / "d16"
    assert run_cli("generate", str(sample), "--platform", "aks", "--node-size", "Standard_D16s_v5", "--out", str(d16)).returncode == 0
    big = yaml.safe_load((d16 / "aks.yaml").read_text(encoding="utf-8"))
    assert rows["AKS, `--node-size Standard_D16s_v5`"].startswith(f"{big['summary']['windowsNodes']} Windows nodes")
