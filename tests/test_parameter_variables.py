"""The variable a parameter travels as is the one the app reads, on every path (finding: .NET apps
read `ConnectionStrings:<name>` only from `ConnectionStrings__<name>`)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from components.stack import plan_stack
from migrate.contract.stack_config import StackConfig
from components.workload import ContainerDefinition, run_script
from migrate.generate.files import generate
from migrate.contract.model import Workload
from migrate.contract.names import parameter_variable
from migrate.contract.plan_io import plan_from_document
from migrate.generate.startup import start_script

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = json.loads((ROOT / "examples" / "plan" / "plan.json").read_text(encoding="utf-8"))
PLAN = plan_from_document(DOCUMENT)


def _workload(name: str) -> Workload:
    return next(w for w in PLAN.workloads if w.name == name)


def test_json_connection_string_is_read_as_section__key():
    assert parameter_variable("ShopDb", "C:\\apps\\shopapi\\appsettings.json") == "ConnectionStrings__ShopDb"
    assert parameter_variable("ShopDb", "C:\\inetpub\\webshop\\web.config") == "SHOPDB"
    assert parameter_variable("PAYMENTGATEWAY_API_KEY", "") == "PAYMENTGATEWAY_API_KEY"
    assert parameter_variable("ShopDb", "C:\\apps\\shopapi\\appsettings.json", "SHOP_DB") == "SHOP_DB"


def test_dotnet_workload_gets_connectionstrings_variable_everywhere(tmp_path):
    files, _ = generate(PLAN)
    api = _workload("API01")
    assert api.container.parameter_variables() == ["ConnectionStrings__ShopDb"]
    objects = list(yaml.safe_load_all(files["k8s/api01.yaml"]))
    secret = next(o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == "api01-parameters")
    assert list(secret["stringData"]) == ["ConnectionStrings__ShopDb"]
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [(e["name"], e["valueFrom"]["secretKeyRef"]["key"]) for e in env] == [("ConnectionStrings__ShopDb",) * 2]
    (tmp_path / "plan").mkdir()
    (tmp_path / "plan" / "plan.json").write_text(json.dumps(DOCUMENT), encoding="utf-8")
    (tmp_path / "plan" / "hosts.yaml").write_text(files["hosts.yaml"], encoding="utf-8")
    stack = plan_stack(StackConfig.from_values({"plan": "plan", "registry": "registry.contoso.com/apps",
                        "onpremHosts": [f"192.0.2.{i}" for i in range(1, 40)]}), tmp_path)
    spec = next(w for w in stack.workloads if w.name == "api01")
    assert spec.secret_names == ("ConnectionStrings__ShopDb",)
    script = run_script(ContainerDefinition(name=spec.name, image=spec.image, isolation=spec.isolation,
                                            secret_names=spec.secret_names), {"ConnectionStrings__ShopDb": "Server=x"})
    assert "'--env', 'ConnectionStrings__ShopDb'" in script and "SHOPDB" not in script


def test_iis_workload_keeps_its_name_and_start_copies_only_framework_names():
    assert _workload("WEB01").container.parameter_variables() == ["SHOPDB"]
    container = _workload("API01").container
    script = start_script(container, "api01", None, ["svc"])
    assert "'ConnectionStrings__ShopDb'" in script
    assert "$values['ShopDb']" not in script  # .NET reads the section variable; no copy under another name
