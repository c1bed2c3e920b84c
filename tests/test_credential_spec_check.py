"""gMSA workloads on hosts: the credential spec docker reads from the host's CredentialSpecs folder is
checked before anything changes (review finding: nothing puts it there, docker run fails late)."""

from __future__ import annotations

from components.workload import ContainerDefinition, run_script
from powershell_ast import parse



def _script(credential_spec: str | None) -> str:
    return run_script(ContainerDefinition(name="web01", image="registry.example/apps/web01:wave-1", isolation="process",
                                          credential_spec=credential_spec))


def test_missing_credential_spec_stops_before_the_running_container_is_removed():
    script = _script("web01_credspec.json")
    assert not parse(script.encode("utf-8")).root_node.has_error
    check = script.index("$credentialSpec = Join-Path -Path $env:ProgramData -ChildPath 'docker\\CredentialSpecs\\web01_credspec.json'")
    stop = script.index("if (-not (Test-Path -LiteralPath $credentialSpec)) {\n    throw ('gMSA credential spec missing: '")
    assert check < stop < script.index("& docker rm -f $name") < script.index("& docker @arguments")
    assert "'credentialspec=file://web01_credspec.json'" in script


def test_no_gmsa_no_check():
    assert "CredentialSpecs" not in _script(None)
