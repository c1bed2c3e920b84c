"""`policy check --artifacts` looks into CronJobs too: their pod template is one level deeper
(spec.jobTemplate.spec.template.spec, Kubernetes batch/v1 CronJobSpec)."""

from __future__ import annotations

import yaml

from conftest import run_cli
from policies.artifacts import check_artifacts


def test_cronjob_image_and_secret_literal(tmp_path):
    (tmp_path / "k8s").mkdir()
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
               "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                   "restartPolicy": "OnFailure",
                   "containers": [{"name": "nightly", "image": "docker.io/someone/export:1",
                                   "env": [{"name": "API_KEY", "value": "api_key=abc123"}]}]}}}}}}
    (tmp_path / "k8s" / "nightly.yaml").write_text(yaml.safe_dump(cronjob), encoding="utf-8")
    found = {(v.policy, v.resource_type, v.resource_name) for v in check_artifacts(tmp_path, [])}
    assert found == {("hyperdock-workload-allowed-registries", "nightly.yaml CronJob", "nightly"),
                     ("hyperdock-artifacts-no-secret-literals", "nightly.yaml CronJob", "nightly")}


def test_sample_cronjobs_are_checked(tmp_path):
    out = tmp_path / "out"
    result = run_cli("assess", "examples/estate/hv01.yaml", "examples/estate/hv02.json", "--out", str(out),
                     "--generate", "--quiet")
    assert result.returncode == 0, result.stderr
    flagged = {v.resource_name for v in check_artifacts(out, []) if v.resource_type.endswith("CronJob")}
    assert flagged == {"batch01-nightlyexport", "batch01-reconcile"}
