"""`hyperdock generate`: golden files for the sample, linters and schemas, determinism, links."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from conftest import DATA, run_cli
from migrate.generate.files import generate
from migrate.contract.names import parameter_variable
from migrate.contract.plan_io import plan_from_document, schema

GOLDEN = Path(__file__).resolve().parent / "golden" / "sample"
SAMPLE = ["examples/estate/hv01.yaml", "examples/estate/hv02.json", "--dependencies", "examples/estate/dependencies.csv"]
COMPOSE_SCHEMA = json.loads((DATA / "compose_spec.json").read_text(encoding="utf-8"))
KUBERNETES_VERSION = "1.32.0"
HADOLINT = shutil.which("hadolint") or str(Path(os.sys.executable).parent / "hadolint")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generate") / "out"
    result = run_cli("assess", *SAMPLE, "--out", str(out), "--generate", "--quiet")
    assert result.returncode == 0, result.stderr
    return out


def generated_files(folder: Path) -> dict[str, bytes]:
    """Every file of a result but plan.json (examples/plan holds the sample's: test_program) and the manifest."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in ("plan.json", ".hyperdock-manifest")}


def test_golden_files(sample):
    """The sample's definitions and report.md as reviewed; UPDATE_GOLDEN=1 rewrites them after a deliberate change."""
    actual = generated_files(sample)
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, content in actual.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(content)
    expected = generated_files(GOLDEN)
    assert sorted(actual) == sorted(expected)
    for name in expected:
        assert actual[name] == expected[name], name


def test_generate_from_plan_dir_matches_assess_generate(sample, tmp_path):
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    shutil.copy(sample / "plan.json", plan_dir / "plan.json")
    result = run_cli("generate", str(plan_dir))
    assert result.returncode == 0, result.stderr
    assert generated_files(plan_dir) == generated_files(sample)  # report.md included


def test_every_dockerfile_passes_hadolint(sample):
    dockerfiles = sorted(sample.glob("containers/*/Dockerfile"))
    assert len(dockerfiles) == 18
    result = subprocess.run([HADOLINT, "--no-color", *map(str, dockerfiles)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfiles_carry_the_plan(sample):
    plan = json.loads((sample / "plan.json").read_text(encoding="utf-8"))
    for w in plan["workloads"]:
        folder = sample / "containers" / w["name"].lower()
        if w["target"] == "vm":
            assert not folder.exists()
            continue
        text = (folder / "Dockerfile").read_text(encoding="utf-8")
        assert f"FROM {w['baseImage']}\n" in text
        assert "HEALTHCHECK" in text and "ENTRYPOINT" in text
        if w["container"]["ports"]:
            assert "EXPOSE " + " ".join(map(str, w["container"]["ports"])) in text
        if "nanoserver" not in w["baseImage"]:
            assert 'SHELL ["powershell"' in text
        for param in w["container"]["parameters"]:
            assert parameter_variable(param["name"], param.get("file")) in text  # named as a runtime parameter, no value


def compose_files(folder: Path) -> dict[str, dict]:
    return {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("compose/*.yaml"))}


def test_gmsa_credential_spec_file_and_script(sample):
    spec = json.loads((sample / "containers" / "orderweb01" / "orderweb01_credspec.json").read_text(encoding="utf-8"))
    assert spec["CmsPlugins"] == ["ActiveDirectory"]
    assert spec["DomainJoinConfig"]["DnsName"] == "contoso.local" and spec["DomainJoinConfig"]["NetBiosName"] == "CONTOSO"
    assert spec["DomainJoinConfig"]["Sid"].startswith("REPLACE-")  # never invented
    script = (sample / "containers" / "orderweb01" / "gmsa.ps1").read_text(encoding="utf-8")
    assert "New-CredentialSpec -AccountName $account -Path (Join-Path -Path $PSScriptRoot -ChildPath 'orderweb01_credspec.json')" in script
    assert not (sample / "containers" / "web01" / "gmsa.ps1").exists()  # no domain identity there


def test_compose_per_host_is_valid_and_carries_isolation(sample):
    documents = compose_files(sample)
    hosts = yaml.safe_load((sample / "hosts.yaml").read_text(encoding="utf-8"))
    assert set(documents) == {h["name"] for p in hosts["pools"] for h in p["hosts"]}
    plan = json.loads((sample / "plan.json").read_text(encoding="utf-8"))
    containers = {w["name"].lower(): w for w in plan["workloads"] if w["target"] != "vm"}
    services = {}
    for host, document in documents.items():
        jsonschema.Draft201909Validator(COMPOSE_SCHEMA).validate(document)
        planned = next(h["workloads"] for p in hosts["pools"] for h in p["hosts"] if h["name"] == host)
        assert sorted(document["services"]) == sorted(planned)
        for service in document["services"].values():
            assert set(service.get("depends_on", [])) <= set(document["services"])  # within the host
        services.update(document["services"])
    assert set(services) == set(containers)
    for name, service in services.items():
        assert service["isolation"] == containers[name]["target"]
        assert "ports" not in service  # nothing published on the hosts by default
        assert service["build"] == {"context": f"../containers/{name}"}
    assert services["orderweb01"]["credential_spec"] == {"file": "orderweb01_credspec.json"}
    web_host = next(d for d in documents.values() if "web01" in d["services"])
    assert services["web01"].get("depends_on", []) == sorted({"api01", "mon01"} & set(web_host["services"]))
    # Parameters from an env file, not compose secrets: Windows cannot bind-mount a single file.
    assert services["web01"]["env_file"] == ["../secrets/web01.env"] and "secrets" not in web_host
    assert services["ordersvc01"]["volumes"] == ["ordersvc01-data-d:C:\\hyperdock\\D"]


def test_kubernetes_manifests_validate(sample):
    documents = [d for f in sorted(sample.glob("k8s/*.yaml"))
                 for d in yaml.safe_load_all(f.read_text(encoding="utf-8")) if d]
    kinds = {d["kind"] for d in documents}
    assert {"Deployment", "Service", "Secret", "Namespace", "GMSACredentialSpec", "ClusterRole", "RoleBinding"} <= kinds
    for d in documents:
        if d["kind"] == "GMSACredentialSpec":  # a CRD: no upstream schema
            assert d["apiVersion"] == "windows.k8s.io/v1"
            assert set(d["credspec"]) == {"ActiveDirectoryConfig", "CmsPlugins", "DomainJoinConfig"}
            continue
        kubernetes_validate.validate(d, KUBERNETES_VERSION, strict=True)
    for d in documents:
        if d["kind"] == "Deployment":
            pod = d["spec"]["template"]["spec"]
            assert pod["os"] == {"name": "windows"}
            assert pod["nodeSelector"]["kubernetes.io/os"] == "windows"
            assert pod["nodeSelector"]["node.kubernetes.io/windows-build"] in ("10.0.26100", "10.0.20348", "10.0.17763")
            assert "runtimeClassName" not in pod  # hyperv needs the experimental option
    orders = next(d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == "orderweb01")
    assert orders["spec"]["template"]["spec"]["securityContext"]["windowsOptions"]["gmsaCredentialSpecName"] == "orderweb01"


def test_hyperv_workloads_flagged_not_silently_downgraded(sample, tmp_path):
    report = (sample / "report.md").read_text(encoding="utf-8")
    assert "Kubernetes and AKS do not support Hyper-V isolation" in report and "`dmz-nw-api01`" in report
    assert not (sample / "k8s" / "dmz-nw-api01.yaml").exists()
    plan = json.loads((sample / "plan.json").read_text(encoding="utf-8"))
    files, index = generate(plan_from_document(plan), __import__("migrate.generate.files", fromlist=["GenerateOptions"]).GenerateOptions(experimental_k8s_hyperv=True))
    assert index.kubernetes_skipped == []
    runtime = yaml.safe_load(files["k8s/runtimeclass-hyperv.yaml"])
    kubernetes_validate.validate(runtime, KUBERNETES_VERSION, strict=True)
    deployment = next(d for d in yaml.safe_load_all(files["k8s/dmz-nw-api01.yaml"]) if d["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["runtimeClassName"] == "runhcs-wcow-hypervisor"


def test_hosts_yaml_matches_schema_and_separates_tenants(sample):
    hosts = yaml.safe_load((sample / "hosts.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(hosts, schema("hosts"))
    plan = json.loads((sample / "plan.json").read_text(encoding="utf-8"))
    by_label = {w["name"].lower(): w for w in plan["workloads"]}
    placed = [name for pool in hosts["pools"] for host in pool["hosts"] for name in host["workloads"]]
    assert sorted(placed) == sorted(n for n, w in by_label.items() if w["target"] != "vm")
    for pool in hosts["pools"]:
        for host in pool["hosts"]:
            members = [by_label[n] for n in host["workloads"]]
            assert {w["target"] for w in members} == {pool["isolation"]}
            if pool["isolation"] == "process":
                assert len({(w["tags"].get("tenant"), w["tags"].get("zone")) for w in members}) == 1
    assert hosts["summary"]["hosts"] <= 1.1 * hosts["summary"]["lowerBound"]


def test_report_links_generated_files(sample):
    report = (sample / "report.md").read_text(encoding="utf-8")
    assert "[hosts.yaml](hosts.yaml)" in report and "`compose/`" in report
    assert "[compose/process-contoso-internal-02.yaml](compose/process-contoso-internal-02.yaml)" in report
    assert "[Dockerfile](containers/web01/Dockerfile)" in report
    assert "[k8s/web01.yaml](k8s/web01.yaml)" in report


def test_generate_is_deterministic(sample, tmp_path):
    result = run_cli("assess", *SAMPLE, "--out", str(tmp_path / "again"), "--generate", "--quiet")
    assert result.returncode == 0
    assert generated_files(tmp_path / "again") == generated_files(sample)


def test_generate_rejects_a_broken_plan(tmp_path):
    (tmp_path / "plan.json").write_text(json.dumps({"schema": "hyperdock/plan@1", "hostOS": "ltsc2025"}), encoding="utf-8")
    result = run_cli("generate", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "plan.json" in result.stderr and "required property" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_onprem_needs_a_host_size(tmp_path, sample):
    result = run_cli("generate", str(sample), "--platform", "onprem", "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "--host-vcpus" in result.stderr


@pytest.mark.parametrize("break_it", [
    lambda p: p["workloads"][0].update(target="container"),
    lambda p: p["workloads"][0]["container"].update(ports=["80"]),
    lambda p: p.update(hostBuild="10.0"),
    lambda p: p["workloads"][3].pop("vmId"),
])
def test_broken_plan_gives_the_full_validators_message(sample, tmp_path, break_it):
    plan = json.loads((sample / "plan.json").read_text(encoding="utf-8"))
    break_it(plan)
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    expected = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema("plan")).iter_errors(plan)).message
    result = run_cli("generate", str(tmp_path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert expected in result.stderr

