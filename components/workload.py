"""ContainerWorkload: one container definition running on a host with its planned isolation.

The host's platform starts it (components/platforms): on an Azure host a managed Run Command
(secrets as protected parameters); on an on-premises host SSH, the script (with its secrets) sent as
secret stdin to a short runner, so no secret is on a command line and no length limit applies.
Either way the script waits for the host's ready marker, removes the previous container of that
name and starts the new one with `docker run --isolation=...`. Secret values reach the container as
environment variables named on the command line but valued in the script's environment, so they
never appear in a process list.
The resource is replaced whenever the definition changes.
"""


import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence, TypedDict

import pulumi

from migrate.contract.model import Isolation
from migrate.core.errors import WorkloadConfigError
from migrate.core.powershell import ps_list, ps_quote

from .host_setup import READY_MARKER
from .platforms import PLATFORMS, platform_of_target
from .registry import login_lines
from .sdk_aliases import leaving_out_api_version_aliases

RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Docker volume names: moby daemon/names RestrictedNameChars, `[a-zA-Z0-9][a-zA-Z0-9_.-]` then `+`. The
# destination is a folder of C: and not C:\ itself: moby's Windows mount parser refuses `c:` and `c:\`.
_VOLUME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]+")
_VOLUME_TARGET = re.compile(r"C:\\[A-Za-z0-9 ._-]+(\\[A-Za-z0-9 ._-]+)*")
# A registry host (with a dot, or localhost) is required: a bare `name:tag` would pull from Docker Hub.
_IMAGE = re.compile(r"(localhost|[a-z0-9-]+(\.[a-z0-9-]+)+)(:\d+)?/[a-z0-9._/-]+:[A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class ContainerDefinition:
    name: str
    image: str
    isolation: str
    ports: tuple[int, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    secret_names: tuple[str, ...] = ()
    restart_policy: str = "unless-stopped"
    credential_spec: Optional[str] = None
    registry_server: Optional[str] = None   # logged in to before the pull (components/registry.py)
    registry_auth: str = "none"             # managed-identity | password | none
    registry_username: str = ""
    volumes: tuple[tuple[str, str], ...] = ()  # (named volume, container folder), sorted

    def digest(self) -> str:
        """A short hash of everything but secret values: it changes when the definition does."""
        fields = [self.name, self.image, self.isolation, self.ports, self.environment, self.secret_names,
                  self.restart_policy, self.credential_spec, self.registry_server, self.registry_auth,
                  self.registry_username]
        if self.volumes:  # only then: a definition without volumes keeps the digest it had before they existed
            fields.append(self.volumes)
        data = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()[:10]


def validate_definition(d: ContainerDefinition) -> None:
    if not _LABEL.fullmatch(d.name):
        raise WorkloadConfigError(f"name: {d.name!r} is not a DNS-1123 label")
    if not _IMAGE.fullmatch(d.image) or d.image.endswith(":latest"):
        raise WorkloadConfigError(f"image: {d.image!r} must name its registry host and a tag other than latest "
                                  "(a bare name would pull from Docker Hub)")
    if d.registry_server and not d.image.startswith((d.registry_server + "/", "mcr.microsoft.com/")):
        raise WorkloadConfigError(f"image: {d.image!r} is not from the registry the host logs in to ({d.registry_server})")
    if d.registry_auth not in ("managed-identity", "password", "none"):
        raise WorkloadConfigError(f"registry_auth: expected managed-identity, password or none, got {d.registry_auth!r}")
    if d.isolation not in tuple(Isolation):
        raise WorkloadConfigError(f"isolation: expected process or hyperv, got {d.isolation!r}")
    if d.restart_policy not in RESTART_POLICIES:
        raise WorkloadConfigError(f"restart_policy: expected one of {', '.join(RESTART_POLICIES)}")
    for port in d.ports:
        if not isinstance(port, int) or not 0 < port < 65536:
            raise WorkloadConfigError(f"ports: {port!r} is not a port number")
    for key in [k for k, _ in d.environment] + list(d.secret_names):
        if not _ENV.fullmatch(key):
            raise WorkloadConfigError(f"environment: {key!r} is not a variable name")
    for volume, target in d.volumes:
        if not _VOLUME.fullmatch(volume):
            raise WorkloadConfigError(f"volumes: {volume!r} is not a docker volume name")
        if not _VOLUME_TARGET.fullmatch(target):
            raise WorkloadConfigError(f"volumes: {target!r} must be a folder of C: (not C:\\ itself)")
    if d.credential_spec is not None and not re.fullmatch(r"[A-Za-z0-9._-]+\.json", d.credential_spec):
        raise WorkloadConfigError(f"credential_spec: {d.credential_spec!r} must be a file name ending in .json")


def run_script(d: ContainerDefinition, secrets: Mapping[str, str] | None = None,
               registry_password: str | None = None) -> str:
    """Return the PowerShell that logs in to the registry and (re)starts the container.

    With `secrets` their values (and `registry_password`) are written into the script (the caller
    keeps it secret); without, they are script parameters `-S_<NAME>` and `-RegistryPassword`
    (Run Command's protected parameters).
    """
    validate_definition(d)
    lines = []
    inline = secrets is not None
    parameters = [] if inline else [f"[string] $S_{n}" for n in d.secret_names]
    if not inline and d.registry_server and d.registry_auth == "password":
        parameters.append("[string] $RegistryPassword")
    if parameters:
        lines.append("param(" + ", ".join(parameters) + ")")
    lines += [
        "$ErrorActionPreference = 'Stop'",
        "$deadline = (Get-Date).AddMinutes(30)",
        f"while (-not (Test-Path -LiteralPath {ps_quote(READY_MARKER)})) {{",
        "    if ((Get-Date) -gt $deadline) { throw 'the container host did not become ready in 30 minutes' }",
        "    Start-Sleep -Seconds 15",
        "}",
        "$env:Path = $env:Path + ';' + (Join-Path -Path $env:ProgramFiles -ChildPath 'docker')",
    ]
    if d.registry_server:
        password = ps_quote(registry_password or "") if inline else "$RegistryPassword"
        lines += login_lines(d.registry_server, d.registry_auth, d.registry_username, password)
    if d.credential_spec:
        lines += credential_spec_check(d.credential_spec)
    lines += [
        f"$name = {ps_quote(d.name)}",
        # Windows PowerShell 5.1 turns a redirected stderr line into a terminating error under Stop
        # (PowerShell/PowerShell#4002), and `docker rm -f` writes one when there is no container yet.
        "$ErrorActionPreference = 'Continue'",
        "& docker rm -f $name 2>&1 | Out-Null",
        "$ErrorActionPreference = 'Stop'",
    ]
    for key in d.secret_names:
        value = ps_quote(secrets[key]) if secrets is not None else f"$S_{key}"
        lines.append(f"$env:{key} = {value}")
    arguments = ["run", "--detach", "--name", d.name, f"--isolation={d.isolation}", f"--restart={d.restart_policy}"]
    for port in d.ports:
        arguments += ["--publish", f"{port}:{port}"]
    for key, value in d.environment:
        arguments += ["--env", f"{key}={value}"]
    for key in d.secret_names:
        arguments += ["--env", key]  # value from this script's environment, not the command line
    for volume, target in d.volumes:
        # A named volume outlives `docker rm -f` (only anonymous volumes go with -v), so the VM's data
        # drive survives every replacement of the container; docker creates it on first use.
        arguments += ["--volume", f"{volume}:{target}"]
    if d.credential_spec:
        arguments += ["--security-opt", f"credentialspec=file://{d.credential_spec}"]
    arguments.append(d.image)
    lines += [
        f"$arguments = @({ps_list(arguments)})",
        "& docker @arguments",
        "if ($LASTEXITCODE -ne 0) { throw ('docker run of {0} failed' -f $name) }",
    ]
    return "\n".join(lines) + "\n"


# Docker reads `credentialspec=file://<name>` from CredentialSpecs under its root directory,
# %ProgramData%\docker unless daemon.json moves it (host_setup.py does not): Microsoft's CredentialSpec
# module (Virtualization-Documentation ServiceAccounts/CredentialSpec.psm1, GetCredSpecRoot) writes
# New-CredentialSpec's output there for that reason.
CREDENTIAL_SPECS = "docker\\CredentialSpecs"


def credential_spec_check(file: str) -> list[str]:
    """Stop, before the running container is removed, when the gMSA credential spec is not on the host.

    The spec cannot be written here: its domain SID and GUID come only from `New-CredentialSpec`
    run against the domain (generated gmsa.ps1), which hyperdock does not do on the hosts.
    """
    return [
        f"$credentialSpec = Join-Path -Path $env:ProgramData -ChildPath {ps_quote(CREDENTIAL_SPECS + chr(92) + file)}",
        "if (-not (Test-Path -LiteralPath $credentialSpec)) {",
        "    throw ('gMSA credential spec missing: ' + $credentialSpec + ' (run the workload''s gmsa.ps1 as a domain "
        "administrator and copy the file it writes there)')",
        "}",
    ]


def remove_script(d: ContainerDefinition) -> str:
    return "\n".join([
        "$env:Path = $env:Path + ';' + (Join-Path -Path $env:ProgramFiles -ChildPath 'docker')",
        f"& docker rm -f {ps_quote(d.name)} 2>&1 | Out-Null",
        "exit 0",
    ]) + "\n"


class AzureVmTarget(TypedDict):
    resource_group_name: pulumi.Input[str]
    """Resource group of the host VM."""
    vm_name: pulumi.Input[str]
    """Name of the host VM."""
    location: pulumi.Input[str]
    """Region of the host VM."""


class ContainerWorkloadArgs(TypedDict, total=False):
    container_name: str
    """DNS-1123 name of the container (the generated workload name)."""
    image: str
    """Image reference with a tag other than latest."""
    isolation: str
    """process or hyperv, as the plan decided."""
    ports: Sequence[int]
    """Ports published on the host (reachable only as the host's NSG or firewall allows)."""
    environment: Mapping[str, str]
    """Plain environment variables."""
    secrets: Mapping[str, pulumi.Input[str]]
    """Environment variables whose values are secrets (connection strings and the like)."""
    restart_policy: str
    """Docker restart policy; unless-stopped by default."""
    volumes: Mapping[str, str]
    """Named docker volumes and the container folder each is mounted at (a VM's data drive: C:\\hyperdock\\D)."""
    credential_spec: Optional[str]
    """gMSA credential spec file name in the host's CredentialSpecs folder."""
    connection: pulumi.Input[Mapping[str, Any]]
    """SSH connection of an on-premises host (OnPremContainerHost.connection)."""
    host: str
    """Name of the host component it runs on (for policies: isolation must fit that host)."""
    image_os: str
    """LTSC family of the image (ltsc2022, ...), from the plan."""
    tenant: str
    """Tenant the workload belongs to, from the plan's tags."""
    zone: str
    """Trust zone of the workload, from the plan's tags."""
    azure_vm: AzureVmTarget
    """The Azure VM of an AzureContainerHost."""
    registry_server: Optional[str]
    """Registry host logged in to before the pull (e.g. myregistry.azurecr.io); the image must come from it."""
    registry_auth: str
    """managed-identity (Azure hosts, ACR), password, or none."""
    registry_username: str
    """User for password login."""
    registry_password: pulumi.Input[str]
    """Password for password login (secret)."""


def workload_definition(name: str, args: ContainerWorkloadArgs) -> ContainerDefinition:
    """Validate `args`; return the container definition they describe."""
    definition = ContainerDefinition(
        name=args.get("container_name", name), image=args.get("image", ""),
        isolation=args.get("isolation", Isolation.PROCESS), ports=tuple(args.get("ports", ())),
        environment=tuple(sorted(dict(args.get("environment", {})).items())),
        secret_names=tuple(sorted(args.get("secrets", {}))), restart_policy=args.get("restart_policy", "unless-stopped"),
        credential_spec=args.get("credential_spec"), registry_server=args.get("registry_server") or None,
        registry_auth=args.get("registry_auth", "none") if args.get("registry_server") else "none",
        registry_username=args.get("registry_username", ""),
        volumes=tuple(sorted(dict(args.get("volumes", {})).items())))
    validate_definition(definition)
    if definition.registry_auth == "password" and args.get("registry_password") is None:
        raise WorkloadConfigError("registry_password: password login needs the password, as a secret")
    platform = platform_of_target(args)
    if platform is None:
        raise WorkloadConfigError("host: give exactly one of " + " or ".join(
            f"{p.workload_target} ({p.hosts_title})" for p in PLATFORMS.values()))
    if definition.registry_auth == "managed-identity" and not platform.managed_identity:
        raise WorkloadConfigError(f"registry_auth: {platform.hosts_title} have no managed identity; use password login")
    return definition


class ContainerWorkload(pulumi.ComponentResource):
    definition_digest: pulumi.Output[str]
    """Hash of the definition; a new value means the container was replaced."""

    def __init__(self, name: str, args: ContainerWorkloadArgs, opts: Optional[pulumi.ResourceOptions] = None):
        definition = workload_definition(name, args)  # validates before anything is registered
        secret_inputs = dict(args.get("secrets", {}))

        # The facts CrossGuard needs (policies/workloads.py) are the component's inputs; no secrets.
        facts = {"host": args.get("host", ""), "image": definition.image, "imageOs": args.get("image_os", ""),
                 "isolation": definition.isolation, "tenant": args.get("tenant", ""), "zone": args.get("zone", "")}
        # Its Run Command leaves out the SDK's API-version aliases (sdk_aliases.py).
        opts = leaving_out_api_version_aliases(opts)
        super().__init__("hyperdock:index:ContainerWorkload", name, facts, opts)
        digest = definition.digest()
        password = args.get("registry_password") if definition.registry_auth == "password" else None
        # The host's platform (components/platforms) starts the container: Run Command, SSH, ...
        platform = platform_of_target(args)
        self.run = platform.run_workload(name, definition, secret_inputs, password, args[platform.workload_target], self)
        self.definition_digest = pulumi.Output.from_input(digest)
        self.register_outputs({"definitionDigest": self.definition_digest})
