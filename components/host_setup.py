"""The PowerShell that makes a Windows Server a container host. Pure: no Pulumi resources here.

Steps (windows-containers.md §6.1): the `Containers` feature, plus `Hyper-V` when Hyper-V
isolation is wanted; a reboot when Windows asks for one; the container runtime; `nat`
networking; base images that match the host build pulled ahead of the first workload.

Runtime: Docker CE (Moby) static binaries, pinned. Chosen over containerd + nerdctl because
everything hyperdock generates speaks Docker: `docker run --isolation=process|hyperv`,
compose's `isolation:` and `credential_spec:` (gMSA) work with it as documented (S22, S13);
Microsoft's own install-docker-ce.ps1 registers it the same way (`dockerd --register-service`,
S18). Kubernetes nodes use containerd (>= 1.7 for Hyper-V isolated pods) from their own
distribution; hyperdock's hosts are not Kubernetes nodes.

Every step is idempotent, so the script can run again after the reboot or on the next `pulumi up`.
Every value that comes from configuration is quoted with `ps_quote`.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass, field

from migrate.generate.powershell import ps_list, ps_quote
from migrate.images import OS_BUILDS

# Docker CE static build for Windows, pinned; change deliberately, with its SHA-256 when known.
# The version was chosen without access to download.docker.com's index here [U]: check that
# docker-<version>.zip is listed under win/static/stable/x86_64/ before the first `pulumi up`.
DOCKER_VERSION = "27.5.1"
DOCKER_URL = "https://download.docker.com/win/static/stable/x86_64/docker-{version}.zip"
STATE_DIR = "C:\\ProgramData\\hyperdock"
READY_MARKER = STATE_DIR + "\\host-ready"
TASK_NAME = "hyperdock-host-setup"

_VERSION = re.compile(r"\d+\.\d+\.\d+")
_SHA256 = re.compile(r"[0-9A-Fa-f]{64}")
_IMAGE = re.compile(r"mcr\.microsoft\.com/[a-z0-9._/-]+:[A-Za-z0-9._-]+")


class SetupError(ValueError):
    """Host setup settings that cannot produce a working host; the message says which and why."""


@dataclass(frozen=True, slots=True)
class HostSetup:
    host_os: str = "ltsc2025"
    hyperv: bool = False
    docker_version: str = DOCKER_VERSION
    docker_sha256: str | None = None
    nat_subnet: str | None = None
    base_images: tuple[str, ...] = field(default=())


def host_setup_for(host_os: str, isolation: str, args) -> HostSetup:
    """Return the setup a host component's args ask for (docker_version, docker_sha256, nat_subnet)."""
    return HostSetup(host_os=host_os, hyperv=isolation != "process",
                     docker_version=args.get("docker_version") or DOCKER_VERSION,
                     docker_sha256=args.get("docker_sha256"), nat_subnet=args.get("nat_subnet"))


def default_base_images(host_os: str) -> tuple[str, ...]:
    """Return the base images matching a host build: Server Core and Nano Server of that LTSC."""
    nano = "1809" if host_os == "ltsc2019" else host_os
    return (f"mcr.microsoft.com/windows/servercore:{host_os}", f"mcr.microsoft.com/windows/nanoserver:{nano}")


def validate_setup(setup: HostSetup) -> None:
    """Raise SetupError for settings that would produce a broken or unsafe host."""
    if setup.host_os not in OS_BUILDS or setup.host_os == "ltsc2016":
        raise SetupError(f"hostOs: {setup.host_os!r} is not a supported host OS; expected ltsc2025, ltsc2022 or ltsc2019")
    if not _VERSION.fullmatch(setup.docker_version):
        raise SetupError(f"dockerVersion: expected a version like {DOCKER_VERSION}, got {setup.docker_version!r}")
    if setup.docker_sha256 is not None and not _SHA256.fullmatch(setup.docker_sha256):
        raise SetupError("dockerSha256: expected 64 hexadecimal characters")
    if setup.nat_subnet is not None:
        try:
            network = ipaddress.ip_network(setup.nat_subnet, strict=True)
        except ValueError as exc:
            raise SetupError(f"natSubnet: {exc}") from None
        if not network.is_private:
            raise SetupError(f"natSubnet: {setup.nat_subnet} is not a private range")
    for image in setup.base_images:
        if not _IMAGE.fullmatch(image) or image.endswith(":latest"):
            raise SetupError(f"baseImages: {image!r} must be an mcr.microsoft.com image pinned to a tag (no latest)")


def host_features(hyperv: bool) -> list[str]:
    """Return the Windows features a container host needs (§6.1): Hyper-V only for Hyper-V isolation."""
    return ["Containers", "Hyper-V"] if hyperv else ["Containers"]


def features_block(hyperv: bool) -> list[str]:
    """Install the features; leave `$restartNeeded` telling whether Windows wants a reboot."""
    return [
        f"$features = @({ps_list(host_features(hyperv))})",
        "$missing = @($features | Where-Object { (Get-WindowsFeature -Name $_).InstallState -ne 'Installed' })",
        "$restartNeeded = $false",
        "if ($missing.Count -gt 0) {",
        "    $result = Install-WindowsFeature -Name $missing -IncludeManagementTools",
        "    $restartNeeded = [string] $result.RestartNeeded -ne 'No'",
        "}",
        "if (@($features | Where-Object { (Get-WindowsFeature -Name $_).InstallState -eq 'InstallPending' }).Count -gt 0) {",
        "    $restartNeeded = $true",
        "}",
    ]


def verify_block(hyperv: bool) -> list[str]:
    """Fail unless every feature reports Installed (after the reboot)."""
    return [
        f"foreach ($feature in @({ps_list(host_features(hyperv))})) {{",
        "    $state = (Get-WindowsFeature -Name $feature).InstallState",
        "    if ($state -ne 'Installed') { throw ('feature {0} is {1}, expected Installed' -f $feature, $state) }",
        "}",
    ]


def docker_block(setup: HostSetup) -> list[str]:
    """Install the pinned Docker CE, register and start the service; skip what is already there."""
    lines = [
        f"$version = {ps_quote(setup.docker_version)}",
        "$dockerHome = Join-Path -Path $env:ProgramFiles -ChildPath 'docker'",
        "$dockerd = Join-Path -Path $dockerHome -ChildPath 'dockerd.exe'",
        "$current = ''",
        "if (Test-Path -LiteralPath $dockerd) { $current = [string] (& $dockerd --version) }",
        "if ($current -notmatch [regex]::Escape($version)) {",
        "    $zip = Join-Path -Path $env:TEMP -ChildPath ('docker-{0}.zip' -f $version)",
        f"    Invoke-WebRequest -UseBasicParsing -Uri ({ps_quote(DOCKER_URL.replace('{version}', '{0}'))} -f $version) -OutFile $zip",
    ]
    if setup.docker_sha256:
        lines += [
            f"    if ((Get-FileHash -Algorithm SHA256 -LiteralPath $zip).Hash -ne {ps_quote(setup.docker_sha256.upper())}) {{",
            "        throw 'the Docker download does not match dockerSha256'",
            "    }",
        ]
    lines += [
        "    if (Get-Service -Name 'docker' -ErrorAction SilentlyContinue) {",
        "        Stop-Service -Name 'docker'",
        "        & $dockerd --unregister-service",
        "    }",
        "    Expand-Archive -LiteralPath $zip -DestinationPath $env:ProgramFiles -Force",
        "    Remove-Item -LiteralPath $zip",
        "    & $dockerd --register-service",
        "}",
        "$machinePath = [Environment]::GetEnvironmentVariable('Path', 'Machine')",
        "if (($machinePath -split ';') -notcontains $dockerHome) {",
        "    [Environment]::SetEnvironmentVariable('Path', $machinePath + ';' + $dockerHome, 'Machine')",
        "}",
        "$env:Path = $env:Path + ';' + $dockerHome",
    ]
    return lines


def network_block(setup: HostSetup) -> list[str]:
    """Configure the `nat` network Docker creates at start (its subnet, when one is given)."""
    config = {"fixed-cidr": setup.nat_subnet} if setup.nat_subnet else {}
    body = "{}" if not config else '{"fixed-cidr": "' + setup.nat_subnet + '"}'
    return [
        "$configDir = Join-Path -Path $env:ProgramData -ChildPath 'docker\\config'",
        "New-Item -ItemType Directory -Force -Path $configDir | Out-Null",
        f"$daemonJson = {ps_quote(body)}",
        "$daemonFile = Join-Path -Path $configDir -ChildPath 'daemon.json'",
        "$changed = -not (Test-Path -LiteralPath $daemonFile) -or (Get-Content -LiteralPath $daemonFile -Raw) -ne $daemonJson",
        "if ($changed) { Set-Content -LiteralPath $daemonFile -Value $daemonJson -NoNewline -Encoding ASCII }",
        "if ($changed -and (Get-Service -Name 'docker').Status -eq 'Running') { Restart-Service -Name 'docker' }",
        "Start-Service -Name 'docker'",
        "& docker network inspect nat | Out-Null",
        "if ($LASTEXITCODE -ne 0) { throw 'the nat network is missing' }",
    ]


def prepull_block(setup: HostSetup) -> list[str]:
    images = list(setup.base_images or default_base_images(setup.host_os))
    return [
        f"foreach ($image in @({ps_list(images)})) {{",
        "    & docker pull $image",
        "    if ($LASTEXITCODE -ne 0) { throw ('docker pull {0} failed' -f $image) }",
        "}",
    ]


def _script(*blocks: list[str]) -> str:
    head = ["$ErrorActionPreference = 'Stop'", "$ProgressPreference = 'SilentlyContinue'"]
    return "\n".join(head + [line for block in blocks for line in block]) + "\n"


def setup_script(setup: HostSetup) -> str:
    """Return the one-shot, reboot-aware script for hosts set up by Azure Run Command.

    If the features need a reboot it saves itself, registers a startup task that runs it again,
    reboots in 15 seconds (so the Run Command reports success first) and stops; the second run
    finishes the setup, writes the ready marker workloads wait for, and removes the task.
    """
    validate_setup(setup)
    resume = [
        f"$stateDir = {ps_quote(STATE_DIR)}",
        "New-Item -ItemType Directory -Force -Path $stateDir | Out-Null",
        "if ($restartNeeded) {",
        "    $self = Join-Path -Path $stateDir -ChildPath 'host-setup.ps1'",
        "    Set-Content -LiteralPath $self -Value $MyInvocation.MyCommand.ScriptBlock.ToString() -Encoding UTF8",
        "    $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument ('-NoProfile -ExecutionPolicy Bypass -File \"{0}\"' -f $self)",
        "    $trigger = New-ScheduledTaskTrigger -AtStartup",
        f"    Register-ScheduledTask -TaskName {ps_quote(TASK_NAME)} -Action $action -Trigger $trigger -User 'SYSTEM' -RunLevel Highest -Force | Out-Null",
        "    & shutdown.exe /r /t 15 /c 'hyperdock: container host features installed'",
        "    return",
        "}",
    ]
    finish = [
        f"Set-Content -LiteralPath {ps_quote(READY_MARKER)} -Value {ps_quote(setup.docker_version)}",
        f"Unregister-ScheduledTask -TaskName {ps_quote(TASK_NAME)} -Confirm:$false -ErrorAction SilentlyContinue",
    ]
    return _script(features_block(setup.hyperv), resume, verify_block(setup.hyperv), docker_block(setup),
                   network_block(setup), prepull_block(setup), finish)


def install_features_script(setup: HostSetup) -> str:
    """On-prem step 1: install the features; print whether a reboot is needed."""
    validate_setup(setup)
    return _script(features_block(setup.hyperv), ["Write-Output ('RestartNeeded={0}' -f $restartNeeded)"])


def reboot_script() -> str:
    """On-prem step 2: reboot in a few seconds, detached so the SSH command returns first; only
    while a feature is InstallPending, so running it again is harmless."""
    return _script([
        "if (@(Get-WindowsFeature | Where-Object { $_.InstallState -eq 'InstallPending' }).Count -eq 0) {",
        "    Write-Output 'no reboot needed'",
        "    return",
        "}",
        "& shutdown.exe /r /t 5 /c 'hyperdock: container host features installed'",
        "Write-Output 'rebooting'",
    ])


def runtime_script(setup: HostSetup) -> str:
    """On-prem step 3 (after the reboot): verify the features, then runtime, network, images, marker."""
    validate_setup(setup)
    finish = [f"New-Item -ItemType Directory -Force -Path {ps_quote(STATE_DIR)} | Out-Null",
              f"Set-Content -LiteralPath {ps_quote(READY_MARKER)} -Value {ps_quote(setup.docker_version)}"]
    return _script(verify_block(setup.hyperv), docker_block(setup), network_block(setup), prepull_block(setup), finish)


def encoded_command(script: str) -> str:
    """Return a command line that runs `script` in Windows PowerShell whatever the SSH default shell.

    -EncodedCommand takes Base64 of UTF-16LE, so no character of the script meets cmd.exe's or
    OpenSSH's quoting.
    """
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return f"powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand {encoded}"
