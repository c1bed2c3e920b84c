"""The host setup scripts: they parse, do each step, and keep every configured value a literal."""

from __future__ import annotations

import base64
import json
import re

import pytest

from migrate.core.errors import SetupError
from migrate.core.powershell import ps_quote
from powershell_ast import command_names, parse
from components.host_setup import (
    CMD_LIMIT, COMPOSE_VERSION, DOCKER_VERSION, NAT_WAIT_SECONDS, NAT_WAIT_TRIES, READY_MARKER, REBOOT_MARKER, STDIN_RUNNER, DomainJoin, HostSetup,
    daemon_json, default_base_images, domain_join_script, encoded_command, features_script,
    prepare_script, reboot_script, remote_invocation, runtime_script,
)

SETUPS = [HostSetup(), HostSetup(hyperv=True, host_os="ltsc2022", nat_subnet="172.30.0.0/16", docker_sha256="ab" * 32),
          HostSetup(hyperv=True, nested=True, compose_sha256="cd" * 32),
          HostSetup(host_os="ltsc2019", base_images=("mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2019",))]
JOIN = DomainJoin("contoso.local", "CONTOSO\\joiner", "OU=Container Hosts,DC=contoso,DC=local")


def scripts_of(setup: HostSetup) -> list[str]:
    return [features_script(setup), reboot_script("abc"), runtime_script(setup), domain_join_script(JOIN),
            domain_join_script(JOIN, "p'w`$x\n"), prepare_script(setup), prepare_script(setup, JOIN)]


@pytest.mark.parametrize("setup", SETUPS)
def test_every_script_parses(setup):
    for script in scripts_of(setup):
        assert not parse(script).root_node.has_error, script


def test_runtime_waits_for_the_restart_then_does_every_step_in_order():
    script = runtime_script(HostSetup(hyperv=True, nat_subnet="172.30.0.0/16"))
    called = command_names(parse(script).root_node)
    order = ["Get-CimInstance", "Remove-Item", "Get-WindowsFeature", "Expand-Archive", "Move-Item", "Start-Service"]
    positions = [called.index(c) for c in order]
    assert positions == sorted(positions)
    # The wait: a restart was requested, so the boot time must differ from the one recorded.
    assert script.index(REBOOT_MARKER) < script.index("LastBootUpTime") < script.index("has not restarted yet")
    assert f"$version = '{DOCKER_VERSION}'" in script
    assert "docker pull $image" in script and "'mcr.microsoft.com/windows/servercore:ltsc2025'" in script
    assert READY_MARKER in script


def test_features_record_the_boot_time_only_when_a_restart_is_needed():
    script = features_script(HostSetup(hyperv=True))
    assert "@('Containers', 'Hyper-V')" in script
    assert re.search(r"if \(\$restartNeeded\) \{\n    Set-Content -LiteralPath '[^']*reboot-requested' -Value \(\[string\] "
                     r"\(Get-CimInstance -ClassName Win32_OperatingSystem\)\.LastBootUpTime", script)


def test_nested_azure_vm_enables_hyperv_as_an_optional_feature():
    setup = HostSetup(hyperv=True, nested=True)
    features = features_script(setup)
    assert "@('Containers')" in features and "'Hyper-V'" not in features
    assert "Enable-WindowsOptionalFeature -Online -FeatureName 'Microsoft-Hyper-V' -All -NoRestart" in features
    assert "Get-WindowsOptionalFeature -Online -FeatureName 'Microsoft-Hyper-V'" in runtime_script(setup)


def test_process_only_host_skips_hyperv():
    assert "Hyper-V" not in features_script(HostSetup()) + runtime_script(HostSetup())


def test_reboot_only_while_requested_since_the_last_boot():
    script = reboot_script("abc123")
    assert script.startswith("# after steps abc123\n")  # reruns when the steps before it change
    assert script.index("-ne $boot") < script.index("shutdown.exe /r /t 10")
    assert reboot_script("a") != reboot_script("b")


def test_compose_plugin_pinned_into_cli_plugins_with_optional_checksum():
    script = runtime_script(HostSetup(compose_sha256="cd" * 32))
    assert f"$composeVersion = '{COMPOSE_VERSION}'" in script
    assert "'https://github.com/docker/compose/releases/download/v{0}/docker-compose-windows-x86_64.exe'" in script
    assert "-ChildPath 'Docker\\cli-plugins'" in script and "'docker-compose.exe'" in script
    assert ("CD" * 32) in script and "composeSha256" in script
    assert "composeSha256" not in runtime_script(HostSetup())
    assert "& docker compose version" in script


def test_daemon_json_is_serialized():
    assert json.loads(daemon_json(HostSetup(nat_subnet="172.30.0.0/16"))) == {"fixed-cidr": "172.30.0.0/16"}
    assert daemon_json(HostSetup()) == "{}"
    script = runtime_script(HostSetup(nat_subnet="172.30.0.0/16"))
    assert f"$daemonJson = {ps_quote(daemon_json(HostSetup(nat_subnet='172.30.0.0/16')))}" in script  # Base64: double quotes


def test_idempotent_guards():
    script = runtime_script(HostSetup())
    assert "$current -notmatch [regex]::Escape($version)" in script  # Docker only when not that version
    assert "if ($installedCompose -ne $composeVersion)" in script  # compose only when not that version
    assert "$changed = -not (Test-Path -LiteralPath $daemonFile)" in script  # config only when different
    assert "InstallState -ne 'Installed'" in features_script(HostSetup())  # features only when missing


def test_checksum_verified_when_given():
    script = runtime_script(HostSetup(docker_sha256="ab" * 32))
    assert "Get-FileHash -Algorithm SHA256" in script and ("AB" * 32) in script
    assert "Get-FileHash" not in runtime_script(HostSetup())


def test_domain_join_keeps_the_password_a_parameter_or_a_literal():
    script = domain_join_script(JOIN)
    assert script.startswith("param([string] $JoinPassword)\n")
    assert "ConvertTo-SecureString -String $JoinPassword -AsPlainText -Force" in script
    assert "$joinArgs['OUPath'] = 'OU=Container Hosts,DC=contoso,DC=local'" in script
    assert "Add-Computer @joinArgs" in script and "Restart" not in script.split("Add-Computer")[1].split("\n")[0]
    inline = domain_join_script(JOIN, "p'w`$x\n")
    assert "param(" not in inline and "JoinPassword" not in inline
    assert "p'w" not in inline  # not plain printable: carried as Base64 by ps_quote
    assert REBOOT_MARKER in inline


def test_prepare_is_features_then_join_then_the_restart_as_its_last_act():
    setup = HostSetup(hyperv=True, nested=True)
    script = prepare_script(setup, JOIN)
    assert script.startswith("param([string] $JoinPassword)\n")  # Run Command passes it as -JoinPassword
    called = command_names(parse(script).root_node)
    order = ["Install-WindowsFeature", "Enable-WindowsOptionalFeature", "Add-Computer", "Set-Content", "shutdown.exe"]
    positions = [called.index(c) for c in order]
    assert positions == sorted(positions) and called[-1] == "Write-Output"
    # One $restartNeeded for both: the join does not reset what the features asked for.
    assert script.count("$restartNeeded = $false") == 1
    assert script.index("-ne $boot") < script.index("shutdown.exe /r /t 10")
    # The same blocks as the separate steps the SSH host runs.
    assert features_script(setup).split("$stateDir")[0] in script
    assert reboot_script().split("$marker")[1] in script
    without = prepare_script(setup)
    assert "param(" not in without and "Add-Computer" not in without and "shutdown.exe /r /t 10" in without


@pytest.mark.parametrize("join, message", [
    (DomainJoin("contoso", "CONTOSO\\j"), "domain"),
    (DomainJoin("contoso.local'; Remove-Item C:\\", "CONTOSO\\j"), "domain"),
    (DomainJoin("contoso.local", "joiner"), "domainUser"),
    (DomainJoin("contoso.local", "CONTOSO\\j", "Hosts"), "domainOuPath"),
])
def test_bad_domain_join_is_refused(join, message):
    with pytest.raises(SetupError, match=message):
        domain_join_script(join)
    with pytest.raises(SetupError, match=message):
        prepare_script(HostSetup(), join)


def test_long_or_secret_scripts_go_through_stdin():
    short = "Write-Output 'hi'\n"
    assert remote_invocation(short) == (encoded_command(short), None)
    long_script = runtime_script(HostSetup(hyperv=True, docker_sha256="ab" * 32, compose_sha256="cd" * 32))
    assert len(encoded_command(long_script)) > CMD_LIMIT  # why it matters: cmd.exe would cut it
    command, stdin = remote_invocation(long_script)
    assert command == STDIN_RUNNER and stdin == long_script and len(command) <= CMD_LIMIT
    assert remote_invocation(short, secret=True) == (STDIN_RUNNER, short)
    runner = base64.b64decode(STDIN_RUNNER.rsplit(" ", 1)[1]).decode("utf-16-le")
    assert "[Console]::In.ReadToEnd()" in runner and "Invoke-Expression -Command $text" in runner


def test_default_images_match_host_build():
    assert default_base_images("ltsc2022") == ("mcr.microsoft.com/windows/servercore:ltsc2022",
                                                "mcr.microsoft.com/windows/nanoserver:ltsc2022")
    assert default_base_images("ltsc2019")[1].endswith(":1809")


@pytest.mark.parametrize("setup, message", [
    (HostSetup(docker_version="latest"), "dockerVersion"),
    (HostSetup(docker_version="27.5.1'; Remove-Item C:\\"), "dockerVersion"),
    (HostSetup(docker_sha256="xyz"), "dockerSha256"),
    (HostSetup(compose_version="v2"), "composeVersion"),
    (HostSetup(compose_sha256="xyz"), "composeSha256"),
    (HostSetup(nat_subnet="10.0.0.1/8"), "natSubnet"),
    (HostSetup(nat_subnet='172.30.0.0/16", "hosts": ["tcp://0.0.0.0:2375"]'), "natSubnet"),
    (HostSetup(nat_subnet="1.2.3.0/24"), "natSubnet"),
    (HostSetup(base_images=("mcr.microsoft.com/windows/servercore:latest",)), "baseImages"),
    (HostSetup(base_images=("evil.example/x:1",)), "baseImages"),
    (HostSetup(host_os="ltsc2016"), "hostOs"),
])
def test_bad_settings_are_refused(setup, message):
    with pytest.raises(SetupError, match=message):
        runtime_script(setup)


def test_encoded_command_round_trips():
    script = "Write-Output 'a \"b\" $c'\n"
    command = encoded_command(script)
    assert command.startswith("powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ")
    assert base64.b64decode(command.rsplit(" ", 1)[1]).decode("utf-16-le") == script


def test_nat_network_is_awaited_a_bounded_time_after_docker_starts():
    """dockerd can report Running before its nat network exists (first start): the check retries, bounded."""
    script = runtime_script(HostSetup())
    loop = re.search(r"for \(\$try = 1; \$try -le (\d+); \$try\+\+\) \{\n(.*?)\n\}\n", script, re.S)
    assert loop and int(loop.group(1)) == NAT_WAIT_TRIES > 1
    body = loop.group(2)
    assert script.index("Start-Service -Name 'docker'") < loop.start()
    assert body.index("& docker network inspect nat") < body.index("break") < body.index("throw") < body.index("Start-Sleep")
    assert f"Start-Sleep -Seconds {NAT_WAIT_SECONDS}" in body
    assert script.count("docker network inspect nat") == 1
    assert not parse(script).root_node.has_error
