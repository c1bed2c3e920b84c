"""Validation patterns match whole values, and hostile values survive Docker for Windows.

Python's `$` also matches before a final newline, so `re.match(r"^x$", "x\\n")` succeeds: every
validation pattern uses fullmatch (or `\\Z`). JSON Schema patterns are searched with `re.search`
by the jsonschema library, so theirs end in `$(?!\\n)`, which means the same in ECMA 262.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT, guest, inventory, run_cli, vm, write_json
from psref import dockerfile_problems
from test_injection import HOSTILE
from components.host_setup import HostSetup, validate_setup
from components.validation import validate_admin_username
from components.workload import ContainerDefinition, validate_definition
from migrate.core.azure import series_of
from migrate.discover_azure import discover_azure
from migrate.core.errors import HostConfigError, InputError, SetupError, WorkloadConfigError
from migrate.core.powershell import ps_quote

SOURCES = [p for folder in ("migrate", "components", "policies") for p in (ROOT / folder).rglob("*.py")] + [ROOT / "__main__.py"]
RE_CALLS = {"compile", "match", "search", "fullmatch", "sub", "subn", "split", "findall", "finditer"}
HADOLINT = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")


def patterns_in(path: Path) -> list[tuple[int, str]]:
    """Return (line, pattern) of every literal pattern given to a `re` function in a source file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RE_CALLS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return found


def test_no_python_pattern_is_anchored_with_dollar():
    offenders = [f"{p.relative_to(ROOT)}:{line}: {pattern}" for p in SOURCES for line, pattern in patterns_in(p)
                 if pattern.endswith("$") and not pattern.endswith("\\$")]
    assert sum(len(patterns_in(p)) for p in SOURCES) > 20  # the scan sees the code's patterns
    assert offenders == []


def schema_patterns(node) -> list[str]:
    if isinstance(node, dict):
        own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return own + [p for value in node.values() for p in schema_patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in schema_patterns(value)]
    return []


@pytest.mark.parametrize("schema", sorted((ROOT / "migrate" / "schemas").glob("*.json")), ids=lambda p: p.name)
def test_schema_patterns_refuse_a_final_newline(schema):
    patterns = schema_patterns(json.loads(schema.read_text(encoding="utf-8")))
    for pattern in patterns:
        assert pattern.startswith("^") and pattern.endswith("$(?!\\n)"), pattern
    hosts = json.loads((ROOT / "migrate" / "schemas" / "hosts.schema.json").read_text(encoding="utf-8"))
    build = {"type": "string", "pattern": hosts["properties"]["hostBuild"]["pattern"]}
    jsonschema.validate("10.0.26100", build)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("10.0.26100\n", build)


@pytest.mark.parametrize("check", [
    lambda: validate_setup(HostSetup(docker_version="27.5.1\n")),
    lambda: validate_setup(HostSetup(docker_sha256="ab" * 32 + "\n")),
    lambda: validate_setup(HostSetup(base_images=("mcr.microsoft.com/windows/servercore:ltsc2025\n",))),
    lambda: validate_definition(ContainerDefinition(name="web\n", image="r.io/web:1", isolation="process")),
    lambda: validate_definition(ContainerDefinition(name="web", image="r.io/web:1\n", isolation="process")),
    lambda: validate_definition(ContainerDefinition(name="web", image="r.io/web:1", isolation="process",
                                                    secret_names=("DB\n",))),
    lambda: validate_definition(ContainerDefinition(name="web", image="r.io/web:1", isolation="process",
                                                    credential_spec="web.json\n")),
    lambda: validate_admin_username("hdadmin\n"),
    lambda: discover_azure("00000000-0000-0000-0000-000000000000\n", credential=None),
], ids=["docker-version", "docker-sha256", "base-image", "name", "image", "secret-name", "credential-spec",
        "admin-username", "subscription"])
def test_validators_refuse_a_final_newline(check):
    with pytest.raises((SetupError, WorkloadConfigError, HostConfigError, InputError)):
        check()


def test_the_same_values_without_newline_pass():
    validate_setup(HostSetup(docker_version="27.5.1", docker_sha256="ab" * 32,
                             base_images=("mcr.microsoft.com/windows/servercore:ltsc2025",)))
    validate_definition(ContainerDefinition(name="web", image="r.io/web:1", isolation="process",
                                            secret_names=("DB",), credential_spec="web.json"))
    validate_admin_username("hdadmin")
    assert series_of("Standard_D4s_v5") is not None and series_of("Standard_D4s_v5\n") is None


def test_registry_option_refuses_a_final_newline(tmp_path):
    result = run_cli("assess", "examples/estate/hv01.yaml", "--out", str(tmp_path / "out"), "--generate",
                     "--registry", "registry.contoso.com/apps\n")
    assert result.returncode == 2 and "--registry" in result.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", ['a"b', "line\n", "caf\u00e9", "tick`", "\u2018x\u2019"])
def test_quotes_newlines_and_non_ascii_go_as_base64(value):
    quoted = ps_quote(value)
    assert quoted.startswith("([Text.Encoding]::UTF8.GetString(") and quoted.isascii() and '"' not in quoted


def hostile_batch_and_nano_vms() -> list[dict]:
    """Scheduled-task-only VMs and .NET 8 services (Nano Server) whose names and paths are hostile."""
    records = []
    for i, value in enumerate(HOSTILE):
        records.append(vm(f"task{i}", ip=f"10.8.0.{i + 1}", guest_data=guest(
            Listeners=[], ScheduledTasks=[{"TaskName": value, "Execute": f"C:\\t\\{value}.exe", "Arguments": value,
                                           "RunAs": "CORP\\batch"}])))
        records.append(vm(f"core{i}", ip=f"10.8.1.{i + 1}", guest_data=guest(
            DotNetRuntimes=["Microsoft.NETCore.App 8.0.1"],
            Services=[{"Name": value, "StartMode": "Auto", "PathName": f'"C:\\apps\\{value}.exe" -x'}])))
    return records


@pytest.fixture(scope="module")
def hostile_out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile-quoting")
    path = write_json(folder / "inv.json", inventory(*hostile_batch_and_nano_vms()))
    result = run_cli("assess", str(path), "--out", str(folder / "out"), "--generate", "--quiet")
    assert result.returncode == 0, result.stderr
    return folder / "out"


def test_hostile_dockerfiles_lint_clean_and_keep_run_lines_plain(hostile_out):
    dockerfiles = sorted(hostile_out.glob("containers/*/Dockerfile"))
    assert len(dockerfiles) == 2 * len(HOSTILE)
    result = subprocess.run([HADOLINT, "--no-color", *map(str, dockerfiles)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    for dockerfile in dockerfiles:
        text = dockerfile.read_text(encoding="utf-8")
        assert text.isascii(), dockerfile
        assert dockerfile_problems(text) == [], dockerfile
        nano = "nanoserver" in text
        for line in text.splitlines():
            if line.startswith(("RUN ", "    ")):
                assert '"' not in line, line  # Docker for Windows would drop it
            if line.startswith(("ENTRYPOINT ", "CMD ")):
                argv = json.loads(line.split(" ", 1)[1])
                # Server Core images: each argument plain ASCII (the rest goes through PowerShell as Base64).
                assert nano or all(a.isprintable() and '"' not in a for a in argv), line
