"""The PowerShell that makes a Windows Server a container host. Pure: no Pulumi resources here.

Steps (Microsoft Learn "Windows container requirements" and "Prepare Windows operating system
containers": the Containers feature, Hyper-V for Hyper-V isolation, a restart, a runtime), each its
own script so the components can sequence them:
1. `features_script`: the `Containers` feature, plus Hyper-V for Hyper-V isolation. On Azure
   nested-virtualization VMs Hyper-V is enabled with `Enable-WindowsOptionalFeature -Online
   -FeatureName Microsoft-Hyper-V -All`: `Install-WindowsFeature Hyper-V` is reported to fail its
   prerequisite check there (Virtualization-Documentation#1975, [I]). When Windows wants a
   restart, the script records the current last boot time in REBOOT_MARKER.
2. `domain_join_script` (optional): `Add-Computer` with a credential; records the same marker.
3. `reboot_script`: restarts the host only while the marker holds the current boot time.
4. `runtime_script`: first the wait: if the marker exists, the last boot time must differ from
   it (the host went down and came back), else it fails; then the features are verified and the
   runtime, compose plugin, network and base images installed, and READY_MARKER written.
`prepare_script` is steps 1-3 as one script: Azure runs it as one Run Command (each Run Command
costs the azure-native SDK 18 alias URNs per `pulumi up`); SSH hosts run the steps apart.

Runtime: Docker CE (Moby) static binaries, pinned. Chosen over containerd + nerdctl because
everything hyperdock generates speaks Docker: `docker run --isolation=process|hyperv`,
compose's `isolation:` and `credential_spec:` (gMSA) work with it as documented (docker/cli's
`container_run.md`, the Compose specification's services page, Microsoft Learn "Create gMSAs for
Windows containers"); Microsoft's own install-docker-ce.ps1 (microsoft/Windows-Containers
`helpful_tools/Install-DockerCE/`) registers it the same way (`dockerd --register-service`).
Kubernetes nodes use containerd (>= 1.7 for Hyper-V isolated pods) from their own distribution;
hyperdock's hosts are not Kubernetes nodes.

Docker Compose: the static Docker zip holds docker.exe and dockerd.exe only (docs.docker.com
engine/install/binaries), so the compose plugin is installed too: the pinned
`docker-compose-windows-x86_64.exe` release of docker/compose, optionally checked against a
SHA-256, into `%ProgramFiles%\\Docker\\cli-plugins` (one of the docker CLI's system plugin folders
on Windows, docker/cli `cli-plugins/manager/manager_windows.go`).

Every step is idempotent, so it can run again on the next `pulumi up`. Every value that comes
from configuration is quoted with `ps_quote`; daemon.json is written by a JSON serializer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field

from migrate.contract.model import Isolation
from migrate.contract.stack_config import (
    COMPOSE_VERSION, DEFAULTS, DOCKER_VERSION, compose_version_problem, docker_version_problem, domain_problem,
    domain_user_problem, nat_subnet_problem, ou_path_problem, sha256_problem,
)
from migrate.core.errors import SetupError
from migrate.core.powershell import ps_list, ps_quote
from migrate.core.windows import OS_BUILDS

DOCKER_URL = "https://download.docker.com/win/static/stable/x86_64/docker-{version}.zip"
# docker/compose release asset names: docker-compose-windows-x86_64.exe under releases/download/v<version>/
COMPOSE_URL = "https://github.com/docker/compose/releases/download/v{version}/docker-compose-windows-x86_64.exe"
STATE_DIR = "C:\\ProgramData\\hyperdock"
READY_MARKER = STATE_DIR + "\\host-ready"
REBOOT_MARKER = STATE_DIR + "\\reboot-requested"
# cmd.exe's command-line limit, the shell Win32-OpenSSH runs commands in by default (its DefaultShell, unless
# HKLM\SOFTWARE\OpenSSH\DefaultShell names another: PowerShell/Win32-OpenSSH issues #800, #936).
CMD_LIMIT = 8191
# The Run Command protected parameter carrying the domain join password (passed as -JoinPassword).
JOIN_PASSWORD_PARAM = "param([string] $JoinPassword)"

_IMAGE = re.compile(r"mcr\.microsoft\.com/[a-z0-9._/-]+:[A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class HostSetup:
    host_os: str = DEFAULTS["onpremHostOs"]
    hyperv: bool = False
    nested: bool = False                # an Azure VM: Hyper-V through Enable-WindowsOptionalFeature
    docker_version: str = DOCKER_VERSION
    docker_sha256: str | None = None
    compose_version: str = COMPOSE_VERSION
    compose_sha256: str | None = None
    nat_subnet: str | None = None
    base_images: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class DomainJoin:
    """An Active Directory domain to join (gMSA needs a domain-joined host); the password stays a secret."""

    domain: str
    user: str                           # DOMAIN\user or user@domain, allowed to join computers
    ou_path: str | None = None


def host_setup_for(host_os: str, isolation: str, args, nested: bool = False) -> HostSetup:
    """Return the setup a host component's args ask for (docker_*, compose_*, nat_subnet)."""
    return HostSetup(host_os=host_os, hyperv=isolation != Isolation.PROCESS, nested=nested,
                     docker_version=args.get("docker_version") or DOCKER_VERSION,
                     docker_sha256=args.get("docker_sha256"),
                     compose_version=args.get("compose_version") or COMPOSE_VERSION,
                     compose_sha256=args.get("compose_sha256"), nat_subnet=args.get("nat_subnet"))


def domain_join_for(args) -> DomainJoin | None:
    """Return the domain join a host component's args ask for (domain, domain_user, domain_ou_path), or None."""
    if not args.get("domain"):
        return None
    join = DomainJoin(args["domain"], args.get("domain_user") or "", args.get("domain_ou_path") or None)
    validate_domain_join(join)
    if args.get("domain_password") is None:
        raise SetupError("domainPassword: joining a domain needs the join account's password, as a secret")
    return join


def default_base_images(host_os: str) -> tuple[str, ...]:
    """Return the base images matching a host build: Server Core and Nano Server of that LTSC."""
    nano = "1809" if host_os == "ltsc2019" else host_os
    return (f"mcr.microsoft.com/windows/servercore:{host_os}", f"mcr.microsoft.com/windows/nanoserver:{nano}")


def validate_setup(setup: HostSetup) -> None:
    """Raise SetupError for settings that would produce a broken or unsafe host."""
    if setup.host_os not in OS_BUILDS or setup.host_os == "ltsc2016":
        raise SetupError(f"hostOs: {setup.host_os!r} is not a supported host OS; expected ltsc2025, ltsc2022 or ltsc2019")
    checks = (("dockerVersion", setup.docker_version, docker_version_problem),
              ("dockerSha256", setup.docker_sha256, sha256_problem),
              ("composeVersion", setup.compose_version, compose_version_problem),
              ("composeSha256", setup.compose_sha256, sha256_problem),
              ("natSubnet", setup.nat_subnet, nat_subnet_problem))
    for name, value, problem_of in checks:
        problem = None if value is None else problem_of(value)
        if problem:
            raise SetupError(f"{name}: {problem}")
    for image in setup.base_images:
        if not _IMAGE.fullmatch(image) or image.endswith(":latest"):
            raise SetupError(f"baseImages: {image!r} must be an mcr.microsoft.com image pinned to a tag (no latest)")


def validate_domain_join(join: DomainJoin) -> None:
    """Raise SetupError for a domain, account or OU that cannot be right."""
    for name, value, problem_of in (("domain", join.domain, domain_problem), ("domainUser", join.user, domain_user_problem),
                                    ("domainOuPath", join.ou_path, ou_path_problem)):
        problem = None if value is None else problem_of(value)
        if problem:
            raise SetupError(f"{name}: {problem}")


def host_features(hyperv: bool) -> list[str]:
    """Return the Windows features a container host needs (see the module docstring): Hyper-V only for Hyper-V isolation."""
    return ["Containers", "Hyper-V"] if hyperv else ["Containers"]


_BOOT_TIME = "[string] (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().Ticks"


def _installed_by_feature_cmdlets(setup: HostSetup) -> list[str]:
    """The features Install-WindowsFeature handles: all of them, except Hyper-V on a nested VM."""
    return [f for f in host_features(setup.hyperv) if not (setup.nested and f == "Hyper-V")]


def features_block(setup: HostSetup) -> list[str]:
    """Install the features; leave `$restartNeeded` telling whether Windows wants a reboot."""
    lines = [
        f"$features = @({ps_list(_installed_by_feature_cmdlets(setup))})",
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
    if setup.hyperv and setup.nested:
        # Virtualization-Documentation#1975: on Azure nested VMs the optional-feature route works.
        lines += [
            "$hyperv = Get-WindowsOptionalFeature -Online -FeatureName 'Microsoft-Hyper-V'",
            "if ($hyperv.State -ne 'Enabled') {",
            "    $enabled = Enable-WindowsOptionalFeature -Online -FeatureName 'Microsoft-Hyper-V' -All -NoRestart",
            "    if ($enabled.RestartNeeded -or $hyperv.State -eq 'EnablePending') { $restartNeeded = $true }",
            "}",
        ]
    return lines


def request_reboot_block() -> list[str]:
    """When `$restartNeeded`, record the current last boot time: the reboot and wait steps compare against it."""
    return [
        f"$stateDir = {ps_quote(STATE_DIR)}",
        "New-Item -ItemType Directory -Force -Path $stateDir | Out-Null",
        "if ($restartNeeded) {",
        f"    Set-Content -LiteralPath {ps_quote(REBOOT_MARKER)} -Value ({_BOOT_TIME}) -Encoding ASCII",
        "}",
        "Write-Output ('RestartNeeded={0}' -f $restartNeeded)",
    ]


def verify_block(setup: HostSetup) -> list[str]:
    """Fail unless every feature is installed (after the reboot)."""
    lines = [
        f"foreach ($feature in @({ps_list(_installed_by_feature_cmdlets(setup))})) {{",
        "    $state = (Get-WindowsFeature -Name $feature).InstallState",
        "    if ($state -ne 'Installed') { throw ('feature {0} is {1}, expected Installed' -f $feature, $state) }",
        "}",
    ]
    if setup.hyperv and setup.nested:
        lines += [
            "$state = (Get-WindowsOptionalFeature -Online -FeatureName 'Microsoft-Hyper-V').State",
            "if ([string] $state -ne 'Enabled') { throw ('Microsoft-Hyper-V is {0}, expected Enabled' -f $state) }",
        ]
    return lines


def wait_block() -> list[str]:
    """After a requested reboot, the last boot time must have changed: the host went down and came back."""
    return [
        f"$marker = {ps_quote(REBOOT_MARKER)}",
        "if (Test-Path -LiteralPath $marker) {",
        "    $before = (Get-Content -LiteralPath $marker -Raw).Trim()",
        f"    $boot = {_BOOT_TIME}",
        "    if ($boot -eq $before) {",
        "        throw 'the host has not restarted yet (its last boot time is unchanged); run pulumi up again once it has'",
        "    }",
        "    Remove-Item -LiteralPath $marker",
        "    Write-Output 'restarted'",
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


def compose_block(setup: HostSetup) -> list[str]:
    """Install the pinned Docker Compose plugin into the CLI's system plugin folder; skip it when present."""
    lines = [
        f"$composeVersion = {ps_quote(setup.compose_version)}",
        "$pluginDir = Join-Path -Path $env:ProgramFiles -ChildPath 'Docker\\cli-plugins'",
        "$compose = Join-Path -Path $pluginDir -ChildPath 'docker-compose.exe'",
        "$installedCompose = ''",
        "if (Test-Path -LiteralPath $compose) { $installedCompose = ([string] (& $compose version --short)).Trim().TrimStart('v') }",
        "if ($installedCompose -ne $composeVersion) {",
        "    New-Item -ItemType Directory -Force -Path $pluginDir | Out-Null",
        "    $download = Join-Path -Path $env:TEMP -ChildPath 'docker-compose.exe'",
        f"    Invoke-WebRequest -UseBasicParsing -Uri ({ps_quote(COMPOSE_URL.replace('{version}', '{0}'))} -f $composeVersion) -OutFile $download",
    ]
    if setup.compose_sha256:
        lines += [
            f"    if ((Get-FileHash -Algorithm SHA256 -LiteralPath $download).Hash -ne {ps_quote(setup.compose_sha256.upper())}) {{",
            "        throw 'the Docker Compose download does not match composeSha256'",
            "    }",
        ]
    lines += [
        "    Move-Item -LiteralPath $download -Destination $compose -Force",
        "}",
    ]
    return lines


def daemon_json(setup: HostSetup) -> str:
    """Return daemon.json's text, built by a JSON serializer (no value can add keys)."""
    config = {"fixed-cidr": setup.nat_subnet} if setup.nat_subnet else {}
    return json.dumps(config, sort_keys=True)


NAT_WAIT_TRIES, NAT_WAIT_SECONDS = 30, 2   # up to a minute for dockerd's first start


def network_block(setup: HostSetup) -> list[str]:
    """Configure the `nat` network Docker creates at start (its subnet, when one is given)."""
    return [
        "$configDir = Join-Path -Path $env:ProgramData -ChildPath 'docker\\config'",
        "New-Item -ItemType Directory -Force -Path $configDir | Out-Null",
        f"$daemonJson = {ps_quote(daemon_json(setup))}",
        "$daemonFile = Join-Path -Path $configDir -ChildPath 'daemon.json'",
        "$changed = -not (Test-Path -LiteralPath $daemonFile) -or (Get-Content -LiteralPath $daemonFile -Raw) -ne $daemonJson",
        "if ($changed) { Set-Content -LiteralPath $daemonFile -Value $daemonJson -NoNewline -Encoding ASCII }",
        "if ($changed -and (Get-Service -Name 'docker').Status -eq 'Running') { Restart-Service -Name 'docker' }",
        "Start-Service -Name 'docker'",
        # dockerd reports Running before its API and HNS `nat` network are ready on a first start, so
        # the first inspect can fail; wait for it, bounded. Not observed here (no Windows) [U].
        f"for ($try = 1; $try -le {NAT_WAIT_TRIES}; $try++) {{",
        "    & docker network inspect nat | Out-Null",
        "    if ($LASTEXITCODE -eq 0) { break }",
        f"    if ($try -eq {NAT_WAIT_TRIES}) {{ throw 'the nat network is missing after {NAT_WAIT_TRIES * NAT_WAIT_SECONDS} seconds' }}",
        f"    Start-Sleep -Seconds {NAT_WAIT_SECONDS}",
        "}",
        "& docker compose version",
        "if ($LASTEXITCODE -ne 0) { throw 'docker compose is not available' }",
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


def features_script(setup: HostSetup) -> str:
    """Step 1: install the features; record the boot time when a restart is needed."""
    validate_setup(setup)
    return _script(features_block(setup), request_reboot_block())


def domain_join_block(join: DomainJoin, password_expression: str) -> list[str]:
    """Join the domain unless joined, with the password `password_expression` evaluates to; then
    `$restartNeeded` is true. Leaves `$restartNeeded` as it was when already joined."""
    join_args = ["    $joinArgs = @{ DomainName = $domain; Credential = $credential; Force = $true }"]
    if join.ou_path:
        join_args.append(f"    $joinArgs['OUPath'] = {ps_quote(join.ou_path)}")
    return [
        f"$domain = {ps_quote(join.domain)}",
        "if ((Get-CimInstance -ClassName Win32_ComputerSystem).Domain -ne $domain) {",
        f"    $secure = ConvertTo-SecureString -String {password_expression} -AsPlainText -Force",
        f"    $credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList {ps_quote(join.user)}, $secure",
        *join_args,
        "    Add-Computer @joinArgs",
        "    $restartNeeded = $true",
        "}",
    ]


def domain_join_script(join: DomainJoin, password: str | None = None) -> str:
    """Step 2 (optional): join the domain unless joined; record the boot time for the restart.

    With `password` it is written into the script (the caller keeps the script secret, e.g. SSH
    stdin marked secret); without, it is the script parameter `-JoinPassword` (Run Command's
    protected parameters).
    """
    validate_domain_join(join)
    head = [] if password is not None else [JOIN_PASSWORD_PARAM]
    value = ps_quote(password) if password is not None else "$JoinPassword"
    body = domain_join_block(join, value)
    return "\n".join(head) + ("\n" if head else "") + _script([body[0], "$restartNeeded = $false", *body[1:]],
                                                              request_reboot_block())


def steps_digest(*scripts: str) -> str:
    """A short hash of the steps before the restart: the restart step reruns whenever it changes."""
    return hashlib.sha256("\0".join(scripts).encode("utf-8")).hexdigest()[:12]


def restart_block() -> list[str]:
    """Restart in a few seconds, detached so the step returns first; only while a restart was
    requested since the last boot (the marker holds the current boot time)."""
    return [
        f"$marker = {ps_quote(REBOOT_MARKER)}",
        f"$boot = {_BOOT_TIME}",
        "if (-not (Test-Path -LiteralPath $marker) -or (Get-Content -LiteralPath $marker -Raw).Trim() -ne $boot) {",
        "    Write-Output 'no restart needed'",
        "    return",
        "}",
        "& shutdown.exe /r /t 10 /c 'hyperdock: container host features or domain join need a restart'",
        "Write-Output ('restarting; last boot {0}' -f $boot)",
    ]


def reboot_script(after: str = "") -> str:
    """Step 3: restart in a few seconds, detached so the command returns first; only while a restart
    was requested since the last boot, so running it again is harmless. `after` (steps_digest of
    the steps before) changes the script, so Run Command and SSH run it again when they change."""
    return (f"# after steps {after}\n" if after else "") + _script(restart_block())


def prepare_script(setup: HostSetup, join: DomainJoin | None = None) -> str:
    """Steps 1-3 as one script, for a host where each step costs a resource (Azure Run Commands):
    the features, the domain join when `join` is given (password: the script parameter
    `-JoinPassword`, a Run Command protected parameter), then the restart when either asked for one.

    The restart stays the script's last act and is detached (`shutdown /t 10`), so the script ends
    before the host goes down. The work after the restart (runtime_script) stays a separate Run
    Command: Run Command never runs a script again once it has started, even when it restarts the
    machine (Microsoft's Azure VM runtime team, devblogs.microsoft.com/azure-vm-runtime "When will
    CustomScript extension re-execute my script?", 2024, which contrasts it with the Custom Script
    extension), so nothing after a restart inside one script would ever run; and its managed
    documentation sequences Run Commands by dependsOn. Not observed here [U]: that the agent reports
    the script's end before the host goes down 10 s later (else it reports it after the boot).
    """
    validate_setup(setup)
    blocks = [features_block(setup)]
    head = ""
    if join is not None:
        validate_domain_join(join)
        head = JOIN_PASSWORD_PARAM + "\n"
        blocks.append(domain_join_block(join, "$JoinPassword"))
    return head + _script(*blocks, request_reboot_block(), restart_block())


def runtime_script(setup: HostSetup) -> str:
    """Step 4: wait for the restart, verify the features, then runtime, compose, network, images, marker."""
    validate_setup(setup)
    finish = [f"New-Item -ItemType Directory -Force -Path {ps_quote(STATE_DIR)} | Out-Null",
              f"Set-Content -LiteralPath {ps_quote(READY_MARKER)} -Value {ps_quote(setup.docker_version)}"]
    return _script(wait_block(), verify_block(setup), docker_block(setup), compose_block(setup), network_block(setup),
                   prepull_block(setup), finish)


def encoded_command(script: str) -> str:
    """Return a command line that runs `script` in Windows PowerShell whatever the SSH default shell.

    -EncodedCommand takes Base64 of UTF-16LE, so no character of the script meets cmd.exe's or
    OpenSSH's quoting.
    """
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return f"powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand {encoded}"


# Reads the whole script from standard input and runs it: for scripts too long for a command line,
# and for scripts holding secrets (stdin is not visible in a process list). pulumi-command sends
# `stdin` and then closes it, so ReadToEnd returns; not tried on a Windows host here [I].
STDIN_RUNNER = encoded_command(
    "$ErrorActionPreference = 'Stop'\n"
    "$text = [Console]::In.ReadToEnd()\n"
    "Invoke-Expression -Command $text\n")


def remote_invocation(script: str, secret: bool = False) -> tuple[str, str | None]:
    """Return (command line, stdin) that run `script` over SSH.

    The script goes on the command line as -EncodedCommand while that stays within cmd.exe's
    8,191 characters; longer scripts, and scripts holding secrets, go through stdin to a short
    runner instead.
    """
    command = encoded_command(script)
    if secret or len(command) > CMD_LIMIT:
        return STDIN_RUNNER, script
    return command, None
