"""OnPremContainerHost: an existing Windows Server made a container host over SSH.

Three remote commands, in order (pulumi-practices.md §5.4): install the features, reboot when
Windows asks for it, then wait for the host to come back (`dial_error_limit=-1`), verify the
features and install the runtime, network and base images. Every command is sent as
`powershell -EncodedCommand`, so it runs the same whatever the OpenSSH default shell is and no
quoting layer can be broken. Credentials are secrets; the host key is pinned when given.
"""


from typing import Any, Mapping, Optional, Sequence, TypedDict

import pulumi
from pulumi_command import remote

from .host_setup import (
    DOCKER_VERSION, encoded_command, host_setup_for, install_features_script, reboot_script, runtime_script,
)
from .validation import HostConfigError, validate_image_builds, validate_isolation

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
    nat_subnet: Optional[str]
    """Private subnet of the Docker nat network."""


def onprem_host_scripts(args: OnPremContainerHostArgs) -> tuple[str, str, str]:
    """Validate `args`; return the install-features, reboot and runtime scripts."""
    isolation = args.get("isolation", "process")
    validate_isolation(isolation)
    host_os = args.get("host_os", "ltsc2025")
    setup = host_setup_for(host_os, isolation, args)
    validate_image_builds(isolation, host_os, args.get("workload_image_os", []))
    if not args.get("address"):
        raise HostConfigError("address: the host's name or IP address is required")
    if args.get("password") is None and args.get("private_key") is None:
        raise HostConfigError("password or private_key: one credential for the SSH connection is required")
    return install_features_script(setup), reboot_script(), runtime_script(setup)


class OnPremContainerHost(pulumi.ComponentResource):
    address: pulumi.Output[str]
    """Where the host is reached."""
    ready: pulumi.Output[str]
    """Output of the final setup step; depend on it before running workloads."""
    connection: pulumi.Output[Mapping[str, Any]]
    """SSH connection for workloads on this host (secret)."""

    def __init__(self, name: str, args: OnPremContainerHostArgs, opts: Optional[pulumi.ResourceOptions] = None):
        features, reboot, runtime = onprem_host_scripts(args)  # validates before anything is registered
        isolation = args.get("isolation", "process")
        docker_version = args.get("docker_version") or DOCKER_VERSION

        host_os = args.get("host_os", "ltsc2025")
        super().__init__("hyperdock:index:OnPremContainerHost", name, {"hostOs": host_os, "isolation": isolation}, opts)
        connection: dict = {"host": args["address"], "port": args.get("port", 22), "user": args.get("user", "Administrator"),
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

        self.install = remote.Command(
            f"{name}-install-features", connection=connection, create=encoded_command(features),
            triggers=[isolation], opts=pulumi.ResourceOptions(parent=self))
        # The reboot command returns before the host goes down (shutdown /t 5); it reruns when
        # the feature set changes.
        self.reboot = remote.Command(
            f"{name}-reboot", connection=connection,
            create=encoded_command(reboot),
            triggers=[self.install.stdout], opts=pulumi.ResourceOptions(parent=self, depends_on=[self.install]))
        # Dial until the host is back: -1 = no limit, within the custom timeout.
        waiting = dict(connection, dial_error_limit=-1)
        self.runtime = remote.Command(
            f"{name}-runtime", connection=waiting, create=encoded_command(runtime),
            triggers=[self.reboot.stdout, docker_version],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.reboot],
                                        custom_timeouts=pulumi.CustomTimeouts(create=f"{REBOOT_WAIT_SECONDS}s")))

        self.address = pulumi.Output.from_input(args["address"])
        self.ready = self.runtime.stdout
        self.connection = pulumi.Output.secret(waiting)
        self.register_outputs({"address": self.address, "ready": self.ready})

