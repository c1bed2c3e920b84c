"""The host setup scripts: they parse, do each step, and keep every configured value a literal."""

from __future__ import annotations

import base64

import pytest

from migrate.generate.powershell import ps_quote
from powershell_ast import command_names, parse
from components.host_setup import (
    DOCKER_VERSION, READY_MARKER, HostSetup, SetupError, default_base_images, encoded_command,
    install_features_script, reboot_script, runtime_script, setup_script,
)

SETUPS = [HostSetup(), HostSetup(hyperv=True, host_os="ltsc2022", nat_subnet="172.30.0.0/16", docker_sha256="ab" * 32),
          HostSetup(host_os="ltsc2019", base_images=("mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2019",))]


@pytest.mark.parametrize("setup", SETUPS)
def test_every_script_parses(setup):
    for script in (setup_script(setup), install_features_script(setup), reboot_script(), runtime_script(setup)):
        tree = parse(script)
        assert not tree.root_node.has_error, script


def test_setup_script_does_every_step_in_order():
    script = setup_script(HostSetup(hyperv=True, nat_subnet="172.30.0.0/16"))
    called = command_names(parse(script).root_node)
    order = ["Install-WindowsFeature", "Register-ScheduledTask", "Expand-Archive", "Start-Service",
             "Unregister-ScheduledTask"]
    positions = [called.index(c) for c in order]
    assert positions == sorted(positions)
    assert "@('Containers', 'Hyper-V')" in script
    assert f"$version = '{DOCKER_VERSION}'" in script
    assert ps_quote('{"fixed-cidr": "172.30.0.0/16"}') in script  # Base64: it holds double quotes
    assert "docker pull $image" in script and "'mcr.microsoft.com/windows/servercore:ltsc2025'" in script
    assert READY_MARKER in script
    assert "shutdown.exe /r /t 15" in script  # reboot after the Run Command has reported


def test_process_only_host_skips_hyperv():
    assert "'Hyper-V'" not in setup_script(HostSetup())


def test_idempotent_guards():
    script = setup_script(HostSetup())
    assert "InstallState -ne 'Installed'" in script  # features only when missing
    assert "$current -notmatch [regex]::Escape($version)" in script  # Docker only when not that version
    assert "$changed = -not (Test-Path -LiteralPath $daemonFile)" in script  # config only when different
    assert "Unregister-ScheduledTask" in script and "-ErrorAction SilentlyContinue" in script


def test_checksum_verified_when_given():
    script = setup_script(HostSetup(docker_sha256="ab" * 32))
    assert "Get-FileHash -Algorithm SHA256" in script and ("AB" * 32) in script
    assert "Get-FileHash" not in setup_script(HostSetup())


def test_reboot_only_when_pending():
    script = reboot_script()
    assert script.index("InstallPending") < script.index("shutdown.exe")


def test_default_images_match_host_build():
    assert default_base_images("ltsc2022") == ("mcr.microsoft.com/windows/servercore:ltsc2022",
                                                "mcr.microsoft.com/windows/nanoserver:ltsc2022")
    assert default_base_images("ltsc2019")[1].endswith(":1809")


@pytest.mark.parametrize("setup, message", [
    (HostSetup(docker_version="latest"), "dockerVersion"),
    (HostSetup(docker_version="27.5.1'; Remove-Item C:\\"), "dockerVersion"),
    (HostSetup(docker_sha256="xyz"), "dockerSha256"),
    (HostSetup(nat_subnet="10.0.0.1/8"), "natSubnet"),
    (HostSetup(nat_subnet="1.2.3.0/24"), "natSubnet"),
    (HostSetup(base_images=("mcr.microsoft.com/windows/servercore:latest",)), "baseImages"),
    (HostSetup(base_images=("evil.example/x:1",)), "baseImages"),
    (HostSetup(host_os="ltsc2016"), "hostOs"),
])
def test_bad_settings_are_refused(setup, message):
    with pytest.raises(SetupError, match=message):
        setup_script(setup)


def test_encoded_command_round_trips():
    script = "Write-Output 'a \"b\" $c'\n"
    command = encoded_command(script)
    assert command.startswith("powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ")
    assert base64.b64decode(command.rsplit(" ", 1)[1]).decode("utf-16-le") == script
