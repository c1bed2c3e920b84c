"""__main__.py with `platform: aks` and `platform: kubernetes` under mocks, from a plan generated for AKS."""

from __future__ import annotations

import base64
import json
from collections import Counter
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from google.protobuf import json_format

import pulumi_mocks
from conftest import run_cli
from migrate.contract.kubernetes_plan import in_namespace, plan_kubernetes
from migrate.contract.names import tenant_namespace
from components.kubernetes_workloads import namespace_objects
from migrate.contract.stack_config import StackConfig
from migrate.core.errors import StackConfigError
from test_program import run_program

SAMPLE = ["examples/estate/hv01.yaml", "examples/estate/hv02.json", "--dependencies", "examples/estate/dependencies.csv"]
SECRET_SIG = "4dabf18193072939515e22adb298388d"
REGISTRY = "myregistry.azurecr.io/hyperdock"
KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\nusers: [{name: me, user: {token: byo-cluster-token}}]\n"
POD_KINDS = ("Deployment", "Job", "CronJob")


@pytest.fixture(scope="module")
def aks_plan_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("aksplan") / "plan"
    result = run_cli("assess", *SAMPLE, "--out", str(out), "--generate", "--platform", "aks", "--quiet")
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture
def monitor():
    mon = pulumi_mocks.start(project="hyperdock", stack="aks")
    yield mon
    pulumi_mocks.stop()


def all_secrets(plan_dir: Path) -> dict:
    """A value for every Secret key and parameter of the plan's workloads, each unique."""
    plan = plan_kubernetes(StackConfig.from_values({"plan": str(plan_dir), "registry": REGISTRY}))
    secrets = {w.label: {k: base64.b64encode(f"value-{w.label}-{k}".encode()).decode() if k in w.binary_keys
                         else f"value-{w.label}-{k}" for keys in w.secret_keys.values() for k in keys} for w in plan.workloads}
    hosts = yaml.safe_load((plan_dir / "hosts.yaml").read_text(encoding="utf-8"))
    document = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    by_name = {w["name"].lower(): w for w in document["workloads"]}
    for pool in hosts["pools"]:
        for host in pool["hosts"]:
            for label in host["workloads"]:
                for p in by_name[label]["container"]["parameters"]:
                    secrets.setdefault(label, {})[p["name"].upper()] = f"value-{label}"
    return secrets


def config_for(plan_dir: Path, platform: str, **extra) -> dict:
    return {"hyperdock:plan": str(plan_dir), "hyperdock:registry": REGISTRY, "hyperdock:platform": platform,
            "hyperdock:securityType": "TrustedLaunch", "hyperdock:managementCidrs": ["10.0.0.0/24"],
            "hyperdock:workloadSecrets": json.dumps(all_secrets(plan_dir)), **extra}


def bodies(monitor, type_token: str) -> list[dict]:
    return [json_format.MessageToDict(r.object) for r in monitor.by_type(type_token)]


def pod_spec(kind: str, body: dict) -> dict:
    return body["spec"]["jobTemplate"]["spec"]["template"]["spec"] if kind == "CronJob" else body["spec"]["template"]["spec"]


def test_aks_stack_registers_cluster_pools_and_workloads_on_matching_pools(monitor, aks_plan_dir):
    run_program(config_for(aks_plan_dir, "aks"), ["hyperdock:workloadSecrets"])
    aks = yaml.safe_load((aks_plan_dir / "aks.yaml").read_text(encoding="utf-8"))
    counts = Counter(r.type for r in monitor.requests)
    assert counts["azure-native:containerservice:ManagedCluster"] == 1
    pools = {b["agentPoolName"]: b for b in bodies(monitor, "azure-native:containerservice:AgentPool")}
    assert sorted(pools) == sorted(p["name"] for p in aks["pools"])
    builds = {}
    for planned in aks["pools"]:
        pool = pools[planned["name"]]
        assert pool["osType"] == "Windows" and pool["osSKU"] == planned["osSku"]
        assert (pool["count"], pool["minCount"], pool["maxCount"]) == (planned["nodeCount"], planned["minCount"], planned["maxCount"])
        assert pool["vmSize"] == aks["nodeSize"]["name"] and pool["maxPods"] == aks["maxPods"]
        builds[planned["name"]] = planned["windowsBuild"]
    # Every pod-running object lands on a pool of its build, in its tenant's namespace.
    placed = set()
    for kind in POD_KINDS:
        for body in bodies(monitor, f"kubernetes:{'apps' if kind == 'Deployment' else 'batch'}/v1:{kind}"):
            spec = pod_spec(kind, body)
            pool = spec["nodeSelector"]["hyperdock.io/pool"]
            assert spec["nodeSelector"]["node.kubernetes.io/windows-build"] == builds[pool]
            assert {"key": "hyperdock.io/pool", "operator": "Equal", "value": pool, "effect": "NoSchedule"} in spec["tolerations"]
            assert "runtimeClassName" not in spec
            label = body["metadata"]["labels"]["app.kubernetes.io/name"]
            planned = next(p for p in aks["pools"] if label in p["workloads"])
            assert planned["name"] == pool and body["metadata"]["namespace"] == tenant_namespace(planned["tenant"])
            placed.add(label)
    assert placed == {label for p in aks["pools"] for label in p["workloads"]}
    # Hyper-V workloads: never on Kubernetes, on hyperdock's hosts instead.
    hyperv = {s["workload"] for s in aks["stayOnHosts"]}
    assert hyperv and not hyperv & placed
    assert {r.name for r in monitor.by_type("hyperdock:index:ContainerWorkload")} == hyperv
    # Probes on every Deployment that listens.
    for body in bodies(monitor, "kubernetes:apps/v1:Deployment"):
        container = body["spec"]["template"]["spec"]["containers"][0]
        if container.get("ports"):
            assert container["readinessProbe"]["tcpSocket"]["port"] == container["ports"][0]["containerPort"]
            assert "livenessProbe" in container
    # gMSA: the cluster enables it and the credential specs and their RBAC are deployed.
    (cluster,) = bodies(monitor, "azure-native:containerservice:ManagedCluster")
    assert cluster["windowsProfile"]["gmsaProfile"] == {"enabled": True}
    assert counts["kubernetes:windows.k8s.io/v1:GMSACredentialSpec"] >= 1
    for binding in bodies(monitor, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"):
        assert binding["subjects"][0]["namespace"] == binding["metadata"]["namespace"]


def test_secrets_stay_secret(monitor, aks_plan_dir):
    run_program(config_for(aks_plan_dir, "aks"), ["hyperdock:workloadSecrets"])
    secrets = monitor.by_type("kubernetes:core/v1:Secret")
    assert secrets
    for request in secrets:
        body = json_format.MessageToDict(request.object)
        assert "stringData" in body or "data" in body
        for field in ("stringData", "data"):
            if field in body:
                assert SECRET_SIG in body[field]  # the whole map is a secret
        assert "value-" not in json.dumps({k: v for k, v in body.items() if k not in ("stringData", "data")})
    (provider,) = [json_format.MessageToDict(r.object) for r in monitor.requests if r.type == "pulumi:providers:kubernetes"]
    assert SECRET_SIG in provider["kubeconfig"]


def test_waves_select_what_is_deployed(monitor, aks_plan_dir):
    run_program(config_for(aks_plan_dir, "aks", **{"hyperdock:waves": [1]}), ["hyperdock:workloadSecrets"])
    plan = json.loads((aks_plan_dir / "plan.json").read_text(encoding="utf-8"))
    wave1 = {w["name"].lower() for w in plan["workloads"] if w["wave"] == 1 and w["target"] == "process"}
    labels = {json_format.MessageToDict(r.object)["metadata"]["labels"]["app.kubernetes.io/name"]
              for r in monitor.requests if r.type in ("kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:CronJob",
                                                      "kubernetes:batch/v1:Job")}
    assert labels == wave1
    # The pools and namespaces stay: the next wave only adds workloads.
    assert len(monitor.by_type("azure-native:containerservice:AgentPool")) == 2
    assert len(monitor.by_type("kubernetes:core/v1:Namespace")) == 2


def test_bring_your_own_cluster(monitor, aks_plan_dir):
    run_program(config_for(aks_plan_dir, "kubernetes", **{"hyperdock:kubeconfig": KUBECONFIG}),
                ["hyperdock:workloadSecrets", "hyperdock:kubeconfig"])
    assert not monitor.by_type("azure-native:containerservice:ManagedCluster")
    assert not monitor.by_type("hyperdock:index:AksWindowsCluster")
    (provider,) = [json_format.MessageToDict(r.object) for r in monitor.requests if r.type == "pulumi:providers:kubernetes"]
    assert SECRET_SIG in provider["kubeconfig"]
    aks = yaml.safe_load((aks_plan_dir / "aks.yaml").read_text(encoding="utf-8"))
    deployed = {b["metadata"]["name"] for b in bodies(monitor, "kubernetes:apps/v1:Deployment")}
    assert deployed and deployed <= {label for p in aks["pools"] for label in p["workloads"]}


@pytest.mark.parametrize("change, message", [
    ({"hyperdock:platform": "swarm"}, "hyperdock:platform"),
    ({"hyperdock:waves": ["one"]}, "hyperdock:waves"),
    ({"hyperdock:workloadSecrets": json.dumps({})}, "workloadSecrets"),
    ({"hyperdock:workloadSecrets": json.dumps({"web01": {"SHOPDB": "x", "password": "p", "tls.pfx": "not base64!"}})},
     r"web01: tls.pfx \(expected base64\)"),
    ({"hyperdock:aksPrivateCluster": False}, "authorized_ip_ranges"),
])
def test_bad_kubernetes_config_fails_before_any_resource(monitor, aks_plan_dir, change, message):
    with pytest.raises(StackConfigError, match=message):
        run_program(dict(config_for(aks_plan_dir, "aks"), **change), ["hyperdock:workloadSecrets"])
    assert [r.type for r in monitor.requests if r.type != "pulumi:pulumi:Stack"] == []


def test_byo_without_kubeconfig_is_refused(monitor, aks_plan_dir):
    with pytest.raises(StackConfigError, match="hyperdock:kubeconfig"):
        run_program(config_for(aks_plan_dir, "kubernetes"), ["hyperdock:workloadSecrets"])


def test_deployed_objects_validate(aks_plan_dir):
    plan = plan_kubernetes(StackConfig.from_values({"plan": str(aks_plan_dir), "registry": REGISTRY}))
    documents = [o for w in plan.workloads for o in w.objects] + [o for ns in plan.namespaces for o in namespace_objects(ns)]
    for d in documents:
        if d["kind"] != "GMSACredentialSpec":  # a CRD: no upstream schema
            kubernetes_validate.validate(d, "1.32.0", strict=True)
    assert in_namespace([{"kind": "RoleBinding", "metadata": {"name": "x"}, "subjects": [{"kind": "ServiceAccount", "name": "x",
                                                                                          "namespace": "hyperdock"}]}],
                        "hd-t")[0]["subjects"][0]["namespace"] == "hd-t"


def test_offline_policy_check_passes_an_aks_stack(aks_plan_dir, tmp_path):
    stack = tmp_path / "Pulumi.aks.yaml"
    stack.write_text(yaml.safe_dump({"config": {
        "hyperdock:plan": str(aks_plan_dir), "hyperdock:registry": REGISTRY, "hyperdock:platform": "aks",
        "hyperdock:securityType": "TrustedLaunch", "hyperdock:managementCidrs": ["10.0.0.0/24"]}}), encoding="utf-8")
    result = run_cli("policy", "check", "--stack-file", str(stack))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no violations" in result.stdout


def test_a_tampered_aks_plan_cannot_put_hyperv_on_kubernetes(aks_plan_dir, tmp_path):
    import shutil

    folder = tmp_path / "plan"
    shutil.copytree(aks_plan_dir, folder)
    aks = yaml.safe_load((folder / "aks.yaml").read_text(encoding="utf-8"))
    hyperv = aks["stayOnHosts"][0]["workload"]
    aks["pools"][0]["workloads"].append(hyperv)
    (folder / "aks.yaml").write_text(yaml.safe_dump(aks), encoding="utf-8")
    with pytest.raises(StackConfigError, match=f"{hyperv}.*process-isolated"):
        plan_kubernetes(StackConfig.from_values({"plan": str(folder), "registry": REGISTRY}))
    aks["pools"][0]["osSku"] = "Windows2025"
    (folder / "aks.yaml").write_text(yaml.safe_dump(aks), encoding="utf-8")
    with pytest.raises(StackConfigError, match="aks.yaml"):
        plan_kubernetes(StackConfig.from_values({"plan": str(folder), "registry": REGISTRY}))
