"""OnPremContainerHost: an existing Windows Server made a container host over SSH.

Remote commands in order (scripts in host_setup; `dial_error_limit` exists for hosts that restart,
pulumi/pulumi-command PR #180): install the features,
join the domain when asked (`Add-Computer` with a secret credential), restart when either asked
for it, pause on the Pulumi machine (reboot_pause), then dial until the host answers
(`dial_error_limit=-1`), check that its last boot time changed, verify the features and install
the runtime, compose plugin, network and base images. Commands go as `powershell
-EncodedCommand`, so they run the same whatever the OpenSSH default shell is and no quoting layer
can be broken; a script too long for cmd.exe's 8,191 characters, or one holding a secret, goes
through stdin instead. Credentials are secrets; the host key is pinned when given.
"""


from typing import Any, Mapping, Optional, Sequence, TypedDict

import pulumi
from pulumi_command import remote

from migrate.contract.stack_config import DEFAULTS
from migrate.core.errors import HostConfigError

from .host_setup import (
    DOCKER_VERSION, STDIN_RUNNER, domain_join_for, domain_join_script, features_script, host_setup_for, reboot_script,
    remote_invocation, runtime_script, steps_digest,
)
from .reboot_pause import reboot_pause
from .validation import validate_image_builds, validate_isolation

REBOOT_WAIT_SECONDS = 20 * 60


class OnPremContainerHostArgs(TypedDict, total=False):
    address: pulumi.Input[str]
    """Host name or IP address the SSH server listens on."""
    port: pulumi.Input[int]
    """SSH port; 22 by default."""
    user: pulumi.Input[str]
    """Account with administrator rights on the host."""
    password: pulumi.Input[str]
    """Password of that account (secret); or use private_key."""
    private_key: pulumi.Input[str]
    """SSH private key (secret)."""
    host_key: pulumi.Input[str]
    """The host's public SSH key; without it the host is not authenticated."""
    host_os: str
    """ltsc2025, ltsc2022 or ltsc2019: the OS the host runs."""
    isolation: str
    """process, hyperv or both: the Hyper-V role is installed for hyperv and both."""
    workload_image_os: Sequence[str]
    """Image OS families the workloads use, checked against the host build."""
    docker_version: str
    """Pinned Docker CE version."""
    docker_sha256: Optional[str]
    """SHA-256 of the Docker zip, verified when given."""
    compose_version: str
    """Pinned Docker Compose plugin version."""
    compose_sha256: Optional[str]
    """SHA-256 of the Docker Compose plugin, verified when given."""
    nat_subnet: Optional[str]
    """Private subnet of the Docker nat network."""
    domain: Optional[str]
    """Active Directory domain to join (gMSA needs a domain-joined host); none by default."""
    domain_user: Optional[str]
    """Account allowed to join computers, DOMAIN\\user or user@domain."""
    domain_password: pulumi.Input[str]
    """Password of domain_user (secret); reaches the host only through the secret stdin."""
    domain_ou_path: Optional[str]
    """Organizational unit for the computer account."""


def onprem_host_scripts(args: OnPremContainerHostArgs) -> tuple[str, str, str]:
    """Validate `args`; return the features, reboot and runtime scripts (the domain join is built apart: it holds a secret)."""
    isolation = args.get("isolation", DEFAULTS["isolation"])
    validate_isolation(isolation)
    host_os = args.get("host_os", DEFAULTS["onpremHostOs"])
    setup = host_setup_for(host_os, isolation, args)
    validate_image_builds(isolation, host_os, args.get("workload_image_os", []))
    if not args.get("address"):
        raise HostConfigError("address: the host's name or IP address is required")
    if args.get("password") is None and args.get("private_key") is None:
        raise HostConfigError("password or private_key: one credential for the SSH connection is required")
    domain_join_for(args)
    features = features_script(setup)
    return features, reboot_script(steps_digest(features, _join_key(args))), runtime_script(setup)


def _join_key(args: OnPremContainerHostArgs) -> str:
    """What of the domain join may change the restart step (never the password)."""
    return "|".join(str(args.get(k) or "") for k in ("domain", "domain_user", "domain_ou_path"))


def _command(name: str, connection, script, parent, after: list, secret: bool = False, **extra) -> remote.Command:
    """A remote command running `script`: on the command line, or through stdin when long or `secret`."""
    # The connection carries the SSH credentials: keep it encrypted in the state (policies/onprem.py).
    options = dict(parent=parent, depends_on=after, additional_secret_outputs=["connection"], **extra.pop("opts", {}))
    if secret:
        command, stdin = STDIN_RUNNER, pulumi.Output.secret(script)
        options["additional_secret_outputs"] = ["connection", "stdin"]
    else:
        command, stdin = remote_invocation(script)
    return remote.Command(name, connection=connection, create=command, stdin=stdin,
                          opts=pulumi.ResourceOptions(**options), **extra)


class OnPremContainerHost(pulumi.ComponentResource):
    address: pulumi.Output[str]
    """Where the host is reached."""
    ready: pulumi.Output[str]
    """Output of the final setup step; depend on it before running workloads."""
    connection: pulumi.Output[Mapping[str, Any]]
    """SSH connection for workloads on this host (secret)."""

    def __init__(self, name: str, args: OnPremContainerHostArgs, opts: Optional[pulumi.ResourceOptions] = None):
        features, reboot, runtime = onprem_host_scripts(args)  # validates before anything is registered
        isolation = args.get("isolation", DEFAULTS["isolation"])
        docker_version = args.get("docker_version") or DOCKER_VERSION

        host_os = args.get("host_os", DEFAULTS["onpremHostOs"])
        super().__init__("hyperdock:index:OnPremContainerHost", name, {"hostOs": host_os, "isolation": isolation}, opts)
        connection: dict = {"host": args["address"], "port": args.get("port", 22), "user": args.get("user", DEFAULTS["onpremUser"]),
                            "per_dial_timeout": 30}
        if args.get("password") is not None:
            connection["password"] = pulumi.Output.secret(args["password"])
        if args.get("private_key") is not None:
            connection["private_key"] = pulumi.Output.secret(args["private_key"])
        if args.get("host_key") is not None:
            connection["host_key"] = args["host_key"]
        else:
            pulumi.log.warn(f"{name}: no host_key given, so the SSH server is not authenticated; pin it in production",
                            resource=self)

        self.install = _command(f"{name}-install-features", connection, features, self, [], triggers=[isolation])
        before_reboot = self.install
        join = domain_join_for(args)
        if join is not None:
            script = pulumi.Output.secret(args["domain_password"]).apply(lambda pw: domain_join_script(join, pw))
            before_reboot = _command(f"{name}-domain-join", connection, script, self, [self.install], secret=True,
                                     logging=remote.Logging.STDERR)
        # The reboot command returns before the host goes down (shutdown /t 10); its script embeds a
        # digest of the steps before it, so it runs again when they change.
        self.reboot = _command(f"{name}-reboot", connection, reboot, self, [before_reboot])
        pause = reboot_pause(f"{name}-reboot-pause", self, self.reboot, [reboot])
        # Dial until the host is back: -1 = no limit, within the custom timeout.
        waiting = dict(connection, dial_error_limit=-1)
        self.runtime = _command(
            f"{name}-runtime", waiting, runtime, self, [pause], triggers=[docker_version],
            opts={"custom_timeouts": pulumi.CustomTimeouts(create=f"{REBOOT_WAIT_SECONDS}s")})

        self.address = pulumi.Output.from_input(args["address"])
        self.ready = self.runtime.stdout
        self.connection = pulumi.Output.secret(waiting)
        self.register_outputs({"address": self.address, "ready": self.ready})

