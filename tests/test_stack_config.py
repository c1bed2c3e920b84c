"""The stack configuration's owner (migrate/contract/stack_config.py) against Pulumi.yaml, the README,
the program that reads it, and the values a user can give."""

from __future__ import annotations

import ast
import json
import os
import re

import pytest
import yaml

from conftest import ROOT
from migrate.contract.stack_config import DEFAULTS, KEY, KEYS, OPTIONAL_SECRETS, StackConfig, read_stack_config
from migrate.core.errors import StackConfigError

README_BEGIN = "<!-- stack-config table: generated from migrate/contract/stack_config.py (UPDATE_GOLDEN=1 pytest tests/test_stack_config.py) -->"
README_END = "<!-- end of stack-config table -->"


def project() -> dict:
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))


def test_pulumi_yaml_declares_exactly_the_owners_plain_keys():
    """Every plain key: declared with the owner's type, items, default and description; no other key;
    no secret (Pulumi would make a secret without default required, and a default would be plain text)."""
    declared = project()["config"]
    assert sorted(declared) == sorted(k.full_name for k in KEYS if not k.secret)
    for key in KEYS:
        if key.secret:
            continue
        spec = declared[key.full_name]
        assert spec["type"] == key.type, key.name
        assert spec.get("items") == ({"type": key.items} if key.items else None), key.name
        assert "default" in spec and spec["default"] == key.default and type(spec["default"]) is type(key.default), key.name
        assert spec["description"] == key.description, key.name
        assert "secret" not in spec and "value" not in spec, key.name


def test_pulumi_yaml_comment_block_lists_each_optional_secret():
    comments = [line for line in (ROOT / "Pulumi.yaml").read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    listed = {m.group(1): m.group(2) for line in comments if (m := re.match(r"#\s+hyperdock:(\w+)\s+(.+)$", line))}
    assert listed == {name: KEY[name].description for name in OPTIONAL_SECRETS}


def readme_table() -> str:
    """The README's table of stack keys, rendered from KEYS."""
    def default(key):
        return "secret, not set" if key.secret else f"`{json.dumps(key.default)}`"

    def escaped(text):
        return text.replace("|", "\\|")

    def kind(key):
        return "secret" if key.secret else f"{key.type} of {key.items}s" if key.items else key.type

    rows = [f"| `hyperdock:{k.name}` | {kind(k)} | {default(k)} | {escaped(k.description)} |" for k in KEYS]
    return "\n".join([README_BEGIN, "", "| Key | Type | Default | Description |", "|---|---|---|---|", *rows, "",
                      README_END])


def test_readme_table_is_the_owners():
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    assert text.count(README_BEGIN) == 1 and text.count(README_END) == 1
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text[:start] + readme_table() + text[end:], encoding="utf-8")
        text = path.read_text(encoding="utf-8")
        end = text.index(README_END) + len(README_END)
    assert text[start:end] == readme_table(), "README's stack-config table drifted: UPDATE_GOLDEN=1 rewrites it"


# The owner's readers of more than one key's raw value.
READERS = {"workload_secrets": {"workloadSecrets"}, "aks_private_cluster": {"aksPrivateCluster", "aksAuthorizedIpRanges"}}


def _reads(source: str) -> set[str]:
    """Names read from the stack config: `config["<name>"]`, `secret("<name>")` and the owner's READERS."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            names |= READERS.get(called, set())
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "config" \
                and isinstance(node.slice, ast.Constant):
            names.add(node.slice.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "secret" and node.args \
                and isinstance(node.args[0], ast.Constant):
            names.add(node.args[0].value)
    return names


PROGRAM = [ROOT / "__main__.py", *sorted((ROOT / "components").rglob("*.py")), *sorted((ROOT / "policies").rglob("*.py")),
           ROOT / "migrate" / "contract" / "kubernetes_plan.py"]   # the program's Kubernetes plan, in the contract


def test_the_program_reads_every_key_and_only_through_the_owner():
    sources = {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in PROGRAM}
    read = set().union(*(_reads(s) for s in sources.values()))
    assert read == set(KEY), sorted(read ^ set(KEY))
    for name, source in sources.items():
        assert not re.search(r"pulumi\.Config\(|\.get_(?:int|bool|object|secret)\(|require_secret\(", source), name


# Defaults that once stood in several files: each literal now lives in the owner alone.
SPREAD_DEFAULTS = ("vmSize", "location", "imageSku", "dockerVersion", "composeVersion", "onpremUser")


@pytest.mark.parametrize("path", PROGRAM, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_stack_default_is_repeated_in_the_program(path):
    """No literal of these defaults outside the owner, but as a key of a fact table (validation.py's
    IMAGE_SKUS holds every SKU)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    table_keys = {id(k) for n in ast.walk(tree) if isinstance(n, ast.Dict) for k in n.keys}
    constants = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and id(n) not in table_keys}
    assert not constants & {DEFAULTS[k] for k in SPREAD_DEFAULTS}


def raw(values: dict, secrets=()) -> StackConfig:
    """Read `values` (full key → the string Pulumi passes) with `secrets` set as secrets."""
    return read_stack_config(values.get, lambda key: key in secrets)


def test_unset_keys_get_their_defaults_and_secrets_none():
    stack = raw({})
    assert {k: stack[k] for k in DEFAULTS} == dict(DEFAULTS)
    assert all(stack[name] is None for name in OPTIONAL_SECRETS)
    with pytest.raises(KeyError):
        stack["vmsize"]


def test_values_are_parsed_as_pulumi_config_does():
    stack = raw({"hyperdock:azureHostCount": "3", "hyperdock:publicIp": "True", "hyperdock:encryptionAtHost": "false",
                 "hyperdock:managementCidrs": '["10.0.0.0/24"]', "hyperdock:waves": "[2, 1]", "hyperdock:vmSize": ""})
    assert (stack["azureHostCount"], stack["publicIp"], stack["encryptionAtHost"]) == (3, True, False)
    assert stack["managementCidrs"] == ["10.0.0.0/24"] and stack["waves"] == [2, 1]
    assert stack["vmSize"] == DEFAULTS["vmSize"]   # empty is the default, as `config.get(...) or default` had it


@pytest.mark.parametrize("values, message", [
    ({"hyperdock:azureHostCount": "two"}, "hyperdock:azureHostCount: expected a whole number, got 'two'"),
    ({"hyperdock:azureHostCount": "-1"}, "hyperdock:azureHostCount: expected 0 or more"),
    ({"hyperdock:publicIp": "yes"}, "hyperdock:publicIp: expected true or false, got 'yes'"),
    ({"hyperdock:managementCidrs": "10.0.0.0/24"}, "hyperdock:managementCidrs: expected a list of strings"),
    ({"hyperdock:onpremHosts": "[1]"}, "hyperdock:onpremHosts: expected a list of strings"),
    ({"hyperdock:waves": "[0]"}, r"hyperdock:waves: expected a list of wave numbers, e\.g\. \[1, 2\]"),
    ({"hyperdock:waves": '["1"]'}, r"hyperdock:waves: expected a list of wave numbers"),
    ({"hyperdock:waves": "[true]"}, r"hyperdock:waves: expected a list of wave numbers"),
    ({"hyperdock:platform": "mars"}, "hyperdock:platform: expected one of hosts, aks, kubernetes, got 'mars'"),
    ({"hyperdock:isolation": "gvisor"}, "hyperdock:isolation: expected one of process, hyperv, both, got 'gvisor'"),
    ({"hyperdock:registryAuth": "token"}, "hyperdock:registryAuth: expected one of managed-identity, password, none"),
    ({"hyperdock:registrySku": "Free"}, "hyperdock:registrySku: expected one of Basic, Standard, Premium, got 'Free'"),
    ({"hyperdock:onpremHostOs": "ltsc2016"}, "hyperdock:onpremHostOs: expected one of ltsc2025, ltsc2022, ltsc2019"),
    ({"hyperdock:aksPrivateCluster": "yes"}, "hyperdock:aksPrivateCluster: expected true, false or empty, got 'yes'"),
    ({"hyperdock:imageSku": "2019-datacenter"}, "hyperdock:imageSku: '2019-datacenter' is not a Windows Server 2022/2025"),
    ({"hyperdock:adminUsername": "Administrator"}, "hyperdock:adminUsername: 'Administrator' is reserved or invalid"),
    ({"hyperdock:managementCidrs": '["10.0.0.0/8", "203.0.113.0/24"]'},
     "hyperdock:managementCidrs: '203.0.113.0/24' is not a private range"),
    ({"hyperdock:securityType": "ConfidentialVM"}, "hyperdock:securityType: expected TrustedLaunch or empty"),
    ({"hyperdock:dockerVersion": "latest"}, "hyperdock:dockerVersion: expected a version like 27.5.1, got 'latest'"),
    ({"hyperdock:composeSha256": "zz"}, "hyperdock:composeSha256: expected 64 hexadecimal characters"),
    ({"hyperdock:natSubnet": "8.8.8.0/24"}, "hyperdock:natSubnet: 8.8.8.0/24 is not a private range"),
    ({"hyperdock:domain": "contoso"}, "hyperdock:domain: 'contoso' is not a DNS domain name"),
    ({"hyperdock:domainOuPath": "Hosts"}, "hyperdock:domainOuPath: expected a distinguished name"),
    ({"hyperdock:registry": "hyperdock/web"}, "hyperdock:registry: 'hyperdock/web' must start with a registry host name"),
    ({"hyperdock:registry": "myregistry.azurecr.io/Apps"}, "hyperdock:registry: 'Apps' is not a repository path"),
    ({"hyperdock:registryUsername": "a b"}, "hyperdock:registryUsername: 'a b' is not a user name"),
    ({"hyperdock:registryResourceId": "myregistry"}, "hyperdock:registryResourceId: 'myregistry' is not an Azure resource ID"),
    ({"hyperdock:aksRegistryId": "subscriptions/x"}, "hyperdock:aksRegistryId: 'subscriptions/x' is not an Azure resource ID"),
    ({"hyperdock:aksAuthorizedIpRanges": '["203.0.113.0/24", "0.0.0.0/1"]'},
     r"hyperdock:aksAuthorizedIpRanges: 0.0.0.0/1 opens the API server to a share of the internet"),
    ({"hyperdock:aksAuthorizedIpRanges": '["203.0.113.1/24"]'}, "hyperdock:aksAuthorizedIpRanges: '203.0.113.1/24' is not a CIDR"),
    ({"hyperdock:aksGmsaDnsServer": "dc01"}, "hyperdock:aksGmsaDnsServer: 'dc01' is not an IP address"),
    ({"hyperdock:managementCidrs": '["*"]'}, "hyperdock:managementCidrs: '\\*' would open RDP/WinRM/SSH to the internet"),
])
def test_bad_values_are_one_line_naming_the_key(values, message):
    with pytest.raises(StackConfigError, match=message) as error:
        raw(values)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", OPTIONAL_SECRETS)
def test_a_secret_in_plain_text_is_refused_before_anything_else(name):
    values = {f"hyperdock:{name}": "x", "hyperdock:azureHostCount": "two"}
    with pytest.raises(StackConfigError, match=f"hyperdock:{name}: set it as a secret"):
        raw(values)


def test_secrets_are_read_but_never_shown():
    stack = raw({"hyperdock:domainPassword": "pa55", "hyperdock:workloadSecrets": '{"web01": {"DB": "s3cret"}}'},
                secrets=("hyperdock:domainPassword", "hyperdock:workloadSecrets"))
    assert stack["domainPassword"] == "pa55" and stack.workload_secrets() == {"web01": {"DB": "s3cret"}}
    assert "pa55" not in repr(stack) and "s3cret" not in repr(stack)
    assert raw({}).workload_secrets() == {}


@pytest.mark.parametrize("value", ["not json", "[]", '{"web01": "x"}'])
def test_workload_secrets_must_be_an_object_of_objects(value):
    with pytest.raises(StackConfigError, match="hyperdock:workloadSecrets: expected a JSON object of objects"):
        raw({"hyperdock:workloadSecrets": value}, secrets=("hyperdock:workloadSecrets",))


def test_from_values_takes_a_stack_files_typed_values():
    stack = StackConfig.from_values({"azureHostCount": 2, "publicIp": True, "onpremHosts": ["10.0.0.5"], "plan": "p"})
    assert (stack["azureHostCount"], stack["publicIp"], stack["onpremHosts"], stack["plan"]) == (2, True, ["10.0.0.5"], "p")


def test_the_example_stack_reads_alike_in_the_program_and_in_policy_check(tmp_path):
    """Pulumi.example.yaml is valid for the owner, and policy check's reading of a stack file (the strings
    the engine would pass) gives the configuration the typed values give."""
    from policies.check import load_stack_config

    example = yaml.safe_load((ROOT / "Pulumi.example.yaml").read_text(encoding="utf-8"))["config"]
    typed = StackConfig.from_values({k.removeprefix("hyperdock:"): v for k, v in example.items()})
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text(yaml.safe_dump({"config": dict(example, **{"hyperdock:waves": [2], "hyperdock:publicIp": True})}),
                    encoding="utf-8")
    values, secret_keys = load_stack_config(path)
    engine = read_stack_config(values.get, lambda key: key in secret_keys)
    assert dict(engine) == dict(typed, waves=[2], publicIp=True)
    assert typed["managementCidrs"] == ["10.0.0.0/24"] and typed["createRegistry"] is True
