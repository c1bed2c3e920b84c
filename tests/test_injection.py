"""Hostile inventory values never break out of their string in generated files."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from powershell_ast import command_names, parse
from conftest import DATA, guest, inventory, run_cli, vm, write_json
from migrate.contract.names import dns_label, unique_labels
from migrate.core.powershell import ps_quote

HOSTILE = [
    "shop'; Remove-Item -Recurse C:\\ ; '",
    "$(Invoke-Expression 'calc.exe')",
    "back`tick`$(whoami)",
    "two\nlines\r\nRUN del /s C:\\",
    "caf\u00e9 \u2018smart\u2019 \u540d\u524d",
    '"; Start-Process cmd; "',
    "--%",
    '100% "sure" %PATH%',
    "trailing newline\n",
    "${HOME}$x $env:PATH",
]
DNS_1123 = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
INSTRUCTIONS = {"FROM", "LABEL", "SHELL", "RUN", "COPY", "ADD", "ENV", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT"}


def hostile_vm(i: int, value: str) -> dict:
    site = {"Name": value, "Bindings": ["http/*:80:" + value.replace("\n", "")], "PhysicalPath": "C:\\inetpub\\" + value,
            "ApplicationPool": value, "WindowsAuthentication": True,
            "Applications": [{"Path": "/" + value, "PhysicalPath": "C:\\apps\\" + value, "ApplicationPool": value}]}
    return vm(value + f"-{i}" if i else value, ip=f"10.9.0.{i + 1}", tags={"app": value, "tenant": "t"}, guest_data=guest(
        FullyQualifiedDomainName=f"h{i}.corp.local",
        Features=["Web-Server", "Web-Asp-Net45"],
        IISSites=[site],
        AppPools=[{"Name": value, "ManagedRuntimeVersion": "v4.0", "IdentityType": "SpecificUser", "UserName": "CORP\\" + value}],
        Services=[{"Name": value, "DisplayName": value, "StartMode": "Auto", "PathName": f'"C:\\apps\\{value}\\svc.exe" -x',
                   "StartName": "CORP\\" + value}],
        ConnectionStrings=[{"File": "C:\\inetpub\\web.config", "Name": value}],
        ScheduledTasks=[{"TaskName": value, "Execute": "C:\\t\\" + value + ".exe", "RunAs": "CORP\\" + value}],
    ))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    path = write_json(folder / "inv.json", inventory(*(hostile_vm(i, v) for i, v in enumerate(HOSTILE))))
    out = folder / "out"
    result = run_cli("assess", str(path), "--out", str(out), "--generate", "--quiet", "--experimental-k8s-hyperv")
    assert result.returncode == 0, result.stderr
    return out


def literal_values(node) -> list[str]:
    """Every string a PowerShell parse tree holds: verbatim literals and Base64 literals decoded."""
    values = []
    if node.type == "string_literal":
        text = node.text.decode("utf-8")
        if text.startswith("'"):
            values.append(text[1:-1].replace("''", "'"))
    for child in node.children:
        values.extend(literal_values(child))
    return values


def decoded(values: list[str]) -> set[str]:
    out = set(values)
    for v in values:
        try:
            out.add(base64.b64decode(v, validate=True).decode("utf-8"))
        except ValueError:
            pass
    return out


def dockerfile_instructions(text: str) -> list[str]:
    """Logical instructions of a Dockerfile with `# escape=`` `: continuation lines joined."""
    instructions, current = [], ""
    for line in text.splitlines()[1:]:
        if not current and line.startswith("#"):
            continue
        current += line[:-1] + "\n" if line.endswith("`") else line
        if not line.endswith("`"):
            instructions.append(current)
            current = ""
    return instructions


@pytest.mark.parametrize("value", HOSTILE)
def test_ps_quote_is_one_literal(value):
    tree = parse(f"Write-Output {ps_quote(value)}".encode("utf-8"))
    assert not tree.root_node.has_error
    assert command_names(tree.root_node) == ["Write-Output"]
    assert value in decoded(literal_values(tree.root_node))


def test_names_are_dns_labels_and_unique(generated):
    validator = jsonschema.Draft201909Validator(json.loads((DATA / "compose_spec.json").read_text(encoding="utf-8")))
    names = []
    for path in generated.glob("compose/*.yaml"):
        compose = yaml.safe_load(path.read_text(encoding="utf-8"))
        validator.validate(compose)
        names += list(compose["services"])
    assert len(names) == len(set(names)) == len(HOSTILE)
    assert all(DNS_1123.match(n) for n in names), names


def test_every_run_instruction_keeps_values_as_literals(generated):
    allowed = {"Import-Module", "Test-Path", "New-WebAppPool", "Out-Null", "Set-ItemProperty", "New-Item", "New-Website",
               "Get-WebBinding", "Remove-WebBinding", "New-WebBinding", "New-WebApplication", "Set-WebConfigurationProperty",
               "Install-WindowsFeature", "New-Service", "Remove-Website", "powershell.exe"}
    seen: set[str] = set()
    dockerfiles = sorted(generated.glob("containers/*/Dockerfile"))
    assert len(dockerfiles) == len(HOSTILE)
    for dockerfile in dockerfiles:
        for instruction in dockerfile_instructions(dockerfile.read_text(encoding="utf-8")):
            keyword = instruction.split(" ", 1)[0]
            assert keyword in INSTRUCTIONS, (dockerfile, instruction[:80])
            if keyword != "RUN":
                continue
            tree = parse(instruction[4:].encode("utf-8"))
            assert not tree.root_node.has_error, instruction
            assert set(command_names(tree.root_node)) <= allowed, command_names(tree.root_node)
            seen |= decoded(literal_values(tree.root_node))
    for value in HOSTILE:
        assert value in seen, value  # the site/pool/service name arrived whole, as one literal


def test_gmsa_scripts_parse_and_hold_values_as_literals(generated):
    scripts = sorted(generated.glob("containers/*/gmsa.ps1"))
    assert len(scripts) == len(HOSTILE)
    for script in scripts:
        tree = parse(script.read_bytes())
        assert not tree.root_node.has_error, script
        assert set(command_names(tree.root_node)) <= {"Get-ADServiceAccount", "Out-Null", "New-ADServiceAccount",
                                                      "New-CredentialSpec", "Join-Path", "Get-Module",
                                                      "Install-Module"}


def test_hadolint_and_kubernetes_accept_hostile_output(generated):
    hadolint = shutil.which("hadolint") or str(Path(__import__("sys").executable).parent / "hadolint")
    result = subprocess.run([hadolint, "--no-color", *map(str, generated.glob("containers/*/Dockerfile"))],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    for manifest in generated.glob("k8s/*.yaml"):
        for document in yaml.safe_load_all(manifest.read_text(encoding="utf-8")):
            if document and document["kind"] != "GMSACredentialSpec":
                kubernetes_validate.validate(document, "1.32.0", strict=True)
                assert DNS_1123.match(document["metadata"]["name"]) or document["kind"] in ("ClusterRole", "RoleBinding")


def test_unique_labels_after_sanitising():
    labels = unique_labels([("id1", "WEB01"), ("id2", "web01"), ("id3", "Web_01"), ("id4", "APP")])
    assert len(set(labels.values())) == 4
    assert labels["id4"] == "app"
    assert all(DNS_1123.match(v) for v in labels.values())
    assert dns_label("\u540d\u524d") == "workload"
    assert len(dns_label("x" * 200)) == 63


def test_start_scripts_parse_and_hold_values_as_literals(generated):
    scripts = sorted(generated.glob("containers/*/start.ps1"))
    assert len(scripts) == len(HOSTILE)
    seen: set[str] = set()
    for script in scripts:
        tree = parse(script.read_bytes())
        assert not tree.root_node.has_error, script
        seen |= decoded(literal_values(tree.root_node))
    for value in HOSTILE:
        assert value in seen, value  # the app pool ServiceMonitor fills, as one literal
