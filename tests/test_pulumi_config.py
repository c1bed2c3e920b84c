"""Pulumi.yaml's typed config against the rules the Pulumi CLI applies before the program runs.

The rules are Pulumi's own (pulumi/pulumi, Apache-2.0), restated here:
- pkg/workspace/config.go mergeConfig: a key namespaced by the project, declared without `default` or
  `value` and not set in the stack is missing ("Stack '<stack>' is missing configuration values ...");
  a declared key with a default that the stack does not set gets the default (in plain text);
  a stack value of a typed key is checked by validateStackConfigValue: `secret: true` needs an
  encrypted (secure) value ("must be encrypted as it's secret"), and the type must match.
- sdk/go/common/workspace/project.go Project.Validate: an array type needs `items`; a default must be
  of the declared type; ValidateConfigValue: boolean accepts true/false or "true"/"false", integer
  accepts whole numbers or strings that parse as one.
"""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import ROOT
from migrate.contract.stack_config import StackConfig, aks_private_cluster
from migrate.core.errors import StackConfigError


def valid_value(type_name: str, items: dict | None, value) -> bool:
    """Pulumi's ValidateConfigValue."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return True
        return isinstance(value, str) and value.lstrip("+-").isdigit()
    if type_name == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or items is None:
        return False
    return all(valid_value(items["type"], items.get("items"), item) for item in value)


def pulumi_merge_errors(project: dict, stack: dict) -> list[str]:
    """The errors `pulumi preview` would stop with for this Pulumi.yaml and Pulumi.<stack>.yaml `config:`."""
    name = project["name"]
    errors, missing = [], []
    for key, spec in sorted((project.get("config") or {}).items()):
        namespaced = ":" not in key or key.startswith(f"{name}:")
        full = key if ":" in key else f"{name}:{key}"
        if namespaced and spec.get("type") == "array" and "items" not in spec:
            errors.append(f"{key}: an array needs items")
        if namespaced and "type" in spec and "default" in spec and not valid_value(spec["type"], spec.get("items"), spec["default"]):
            errors.append(f"{key}: default is not of type {spec['type']}")
        if full not in stack:
            if "default" not in spec and "value" not in spec and namespaced:
                missing.append(key)
            continue
        value = stack[full]
        secure = isinstance(value, dict) and set(value) == {"secure"}
        if "type" in spec:
            if spec.get("secret") and not secure:
                errors.append(f"{key}: must be encrypted as it's secret")
            if not secure and not valid_value(spec["type"], spec.get("items"), value):
                errors.append(f"{key}: must be of type {spec['type']}")
    if missing:
        errors.append("missing configuration values " + ", ".join(missing))
    return errors


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def test_the_merge_rule_flags_what_pulumi_flags():
    project = {"name": "hyperdock", "config": {
        "hyperdock:a": {"type": "string"}, "hyperdock:b": {"type": "boolean", "default": "yes"},
        "hyperdock:c": {"type": "string", "secret": True, "default": ""}, "aws:region": {"value": "x"}}}
    assert pulumi_merge_errors(project, {"hyperdock:c": "plain"}) == [
        "hyperdock:b: default is not of type boolean", "hyperdock:c: must be encrypted as it's secret",
        "missing configuration values hyperdock:a"]
    assert pulumi_merge_errors(project, {"hyperdock:a": "x", "hyperdock:c": {"secure": "v1:abc"}}) == [
        "hyperdock:b: default is not of type boolean"]


def test_example_stack_passes_pulumis_merge_rule():
    """What the README says to do (copy Pulumi.example.yaml, set secrets with --secret) gets past
    Pulumi's own config check: every declared key without a default is set by the example stack."""
    assert pulumi_merge_errors(load("Pulumi.yaml"), load("Pulumi.example.yaml")["config"]) == []


def test_an_empty_stack_passes_pulumis_merge_rule():
    """Nothing is required of every stack (every key migrate/contract/stack_config.py declares has a default)."""
    assert pulumi_merge_errors(load("Pulumi.yaml"), {}) == []


@pytest.mark.parametrize("value, ranges, expected", [
    ("", [], True), ("", ["203.0.113.0/24"], False), ("true", ["203.0.113.0/24"], True), ("false", [], False),
    ("False", ["203.0.113.0/24"], False),
])
def test_aks_private_cluster_default_depends_on_ranges(value, ranges, expected):
    stack = StackConfig.from_values({"aksPrivateCluster": value, "aksAuthorizedIpRanges": ranges})
    assert aks_private_cluster(stack) is expected


def test_aks_private_cluster_refuses_other_values():
    with pytest.raises(StackConfigError, match=r"hyperdock:aksPrivateCluster: expected true, false or empty, got 'yes'"):
        StackConfig.from_values({"aksPrivateCluster": "yes"})


def test_example_stack_values_match_their_declared_types():
    """The example stack's plain values also match their declared types (as `pulumi preview` checks)."""
    project = load("Pulumi.yaml")
    for key, value in load("Pulumi.example.yaml")["config"].items():
        spec = project["config"].get(key)
        assert spec is not None, f"{key} is not declared in Pulumi.yaml"
        assert valid_value(spec["type"], spec.get("items"), value), (key, json.dumps(value))
