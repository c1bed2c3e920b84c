"""Native commands whose stderr is redirected while `$ErrorActionPreference` is 'Stop'.

In Windows PowerShell 5.1 (what Run Command, the SSH runner and the images' `powershell` run) a
redirected stderr line of a native program becomes an ErrorRecord, and under 'Stop' the first one is
a terminating NativeCommandError: `& docker rm -f x 2>&1` dies when x does not exist
(PowerShell/PowerShell#4002 and #3996; PowerShell 7.1+ changed this, 5.1 did not:
MicrosoftDocs/PowerShell-Docs#6466). Every script hyperdock writes or runs is checked for it.
"""

from __future__ import annotations

import re

from conftest import ROOT
from powershell_ast import nodes, parse
from psref import dockerfile_powershell
from test_psref import SAMPLE, generated, workload_scripts

from components.host_setup import (
    DomainJoin, HostSetup, domain_join_script, features_script, reboot_script, runtime_script,
)
from components.workload import ContainerDefinition, remove_script, run_script

_STDERR_REDIRECT = re.compile(r"(?<![\w$])(?:2|\*)>")
_PREFERENCE = re.compile(r"\$ErrorActionPreference\s*=\s*'(\w+)'", re.IGNORECASE)


def _is_cmdlet(name: str) -> bool:
    """Verb-Noun names are cmdlets (their errors follow -ErrorAction); anything else may be a native program."""
    return re.fullmatch(r"[A-Za-z]+-[A-Za-z0-9]+", name) is not None


def stderr_under_stop(script: str, stop: bool = False) -> list[str]:
    """Return 'line N: text' for each native command with redirected stderr while the preference is Stop.

    `stop` is the preference the script starts with (a Dockerfile SHELL that sets it). The
    preference is followed in document order, which is how generated scripts set it.
    """
    changes = sorted((m.start(), m.group(1).lower() == "stop") for m in _PREFERENCE.finditer(script))
    offsets = [0]
    for line in script.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line.encode("utf-8")))
    found = []
    for command in nodes(parse(script).root_node, "command"):
        name = command.child_by_field_name("command_name") or command.child_by_field_name("command_name_expr")
        text = command.text.decode("utf-8")
        if name is not None and _is_cmdlet(name.text.decode("utf-8")):
            continue
        if not _STDERR_REDIRECT.search(text):
            continue
        start = offsets[command.start_point[0]] + command.start_point[1]
        current = stop
        for position, value in changes:
            if position < start:
                current = value
        if current:
            found.append(f"line {command.start_point[0] + 1}: {text.strip()}")
    return found


def test_checker_finds_the_pattern_and_leaves_the_scoped_form():
    stopped = "$ErrorActionPreference = 'Stop'\n& docker rm -f $name 2>&1 | Out-Null\n"
    assert stderr_under_stop(stopped) == ["line 2: & docker rm -f $name 2>&1"]
    assert stderr_under_stop("& docker pull x 2>$null\n", stop=True) == ["line 1: & docker pull x 2>$null"]
    scoped = ("$ErrorActionPreference = 'Stop'\n$ErrorActionPreference = 'Continue'\n"
              "& docker rm -f $name 2>&1 | Out-Null\n$ErrorActionPreference = 'Stop'\n")
    assert stderr_under_stop(scoped) == []
    assert stderr_under_stop("$ErrorActionPreference = 'Stop'\nGet-Item x 2>$null\n") == []


def test_workload_run_script_survives_a_missing_container():
    definition = ContainerDefinition(name="web01", image="registry.contoso.com/web01:wave-1", isolation="process",
                                     ports=(80,), secret_names=("SHOPDB",))
    logged_in = [ContainerDefinition(name="web01", image="contoso.azurecr.io/web01:wave-1", isolation="process",
                                     registry_server="contoso.azurecr.io", registry_auth=auth, registry_username="puller")
                 for auth in ("managed-identity", "password")]
    scripts = [run_script(definition), run_script(definition, {"SHOPDB": "x"}), remove_script(definition)]
    scripts += [run_script(d) for d in logged_in] + [run_script(d, {}, "pw") for d in logged_in]
    for script in scripts:
        assert "docker rm -f" in script or "docker rm --force" in script
        assert stderr_under_stop(script) == []
        # Still stops on everything else: the preference is back to Stop before `docker run`.
        if "docker @arguments" in script:
            before_run = script.split("& docker @arguments")[0]
            assert _PREFERENCE.findall(before_run)[-1].lower() == "stop"


def test_host_setup_scripts():
    setups = [HostSetup(), HostSetup(host_os="ltsc2022", hyperv=True, nested=True, docker_sha256="a" * 64,
                                     compose_sha256="b" * 64, nat_subnet="172.30.0.0/16")]
    scripts = [reboot_script("abc"), domain_join_script(DomainJoin("contoso.local", "CONTOSO\\joiner")),
               domain_join_script(DomainJoin("contoso.local", "CONTOSO\\joiner", "OU=Hosts,DC=contoso,DC=local"), "pw")]
    for setup in setups:
        scripts += [features_script(setup), runtime_script(setup)]
    assert [p for s in scripts for p in stderr_under_stop(s)] == []


def test_collector():
    text = (ROOT / "migrate" / "collect" / "Get-HyperdockInventory.ps1").read_text(encoding="utf-8-sig")
    assert stderr_under_stop(text) == []


def test_sample_estate_scripts_and_images(tmp_path):
    plan, files = generated(SAMPLE, "ltsc2025", tmp_path)
    found = []
    for path, text in sorted(files.items()):
        if path.endswith("/Dockerfile"):
            for script in dockerfile_powershell(text)[1]:
                # The SHELL hyperdock writes sets the preference to Stop before each RUN line.
                found += [f"{path}: {p}" for p in stderr_under_stop(script, stop=True)]
        elif path.endswith(".ps1"):
            found += [f"{path}: {p}" for p in stderr_under_stop(text)]
    found += [p for s in workload_scripts(plan, files, tmp_path) for p in stderr_under_stop(s)]
    assert found == []
