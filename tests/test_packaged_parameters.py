"""Parameters `hyperdock package` finds in the configs (package.json, `inPlan: false`) reach compose's env
file, the Kubernetes Secret and env, start.ps1 and the Pulumi workloads (review finding)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from components.stack import plan_stack
from migrate.contract.stack_config import StackConfig
from migrate.cli import main
from migrate.core.errors import InputError
from migrate.contract.packaged import read_packaged
from test_package import make_extraction, out, package, template  # noqa: F401 (fixtures)

LEGACY01 = "6139ad94-84e0-506f-867b-6a80231adf08"
CONFIG = b"""<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <appSettings><add key="PaymentGatewayApiKey" value="Planted-Secret-9" /></appSettings>
  <system.web><machineKey validationKey="0123456789ABCDEF0123456789ABCDEF" decryptionKey="FEDCBA9876543210" /></system.web>
</configuration>
"""
NEW = ["MACHINEKEY_DECRYPTIONKEY", "MACHINEKEY_VALIDATIONKEY", "PAYMENTGATEWAYAPIKEY"]


def _compose_service(folder: Path, label: str) -> dict:
    for path in sorted((folder / "compose").glob("*.yaml")):
        services = yaml.safe_load(path.read_text(encoding="utf-8"))["services"]
        if label in services:
            return services[label]
    raise AssertionError(label)


def test_packaged_parameters_reach_compose_k8s_start_and_pulumi(out, tmp_path, capsys):  # noqa: F811
    content = tmp_path / "extract"
    make_extraction(content, LEGACY01, {"intranet": ("C:\\inetpub\\intranet", {"web.config": CONFIG})})
    assert "env_file" not in _compose_service(out, "legacy01")  # the plan has no parameter for legacy01
    code, err = package(out, content, capsys=capsys)
    assert code == 0, err
    assert [p.variable for p in read_packaged(out)[LEGACY01]] == NEW
    assert main(["generate", str(out)]) == 0
    assert _compose_service(out, "legacy01")["env_file"] == ["../secrets/legacy01.env"]
    objects = list(yaml.safe_load_all((out / "k8s" / "legacy01.yaml").read_text(encoding="utf-8")))
    secret = next(o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == "legacy01-parameters")
    assert sorted(secret["stringData"]) == NEW
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert [e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]] == NEW
    start = (out / "containers" / "legacy01" / "start.ps1").read_text(encoding="utf-8")
    assert "$parameters = @('MACHINEKEY_DECRYPTIONKEY', 'MACHINEKEY_VALIDATIONKEY', 'PAYMENTGATEWAYAPIKEY')" in start
    # The packaged content survives generate, and no value reached any file.
    assert b"${MACHINEKEY_VALIDATIONKEY}" in (out / "containers" / "legacy01" / "content" / "intranet" / "web.config").read_bytes()
    assert not [p for p in out.rglob("*") if p.is_file() and b"Planted-Secret-9" in p.read_bytes()]
    stack = plan_stack(StackConfig.from_values({"plan": "out", "registry": "registry.contoso.com/apps",
                        "onpremHosts": [f"192.0.2.{i}" for i in range(1, 40)]}), out.parent)
    assert next(w for w in stack.workloads if w.name == "legacy01").secret_names == tuple(NEW)


def test_a_foreign_package_json_is_one_line(tmp_path):
    (tmp_path / "package.json").write_text('{"schema": "other@1", "workloads": []}', encoding="utf-8")
    with pytest.raises(InputError, match="schema: expected 'hyperdock/package@1'"):
        read_packaged(tmp_path)
    (tmp_path / "package.json").write_text('{"schema": "hyperdock/package@1", "workloads": [{}]}', encoding="utf-8")
    with pytest.raises(InputError, match="not a package.json hyperdock can read"):
        read_packaged(tmp_path)
