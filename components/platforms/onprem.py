"""On-premises: existing Windows Servers made container hosts over SSH (components/onprem_host.py).

Capacity: the size `generate` is told (--host-vcpus, --host-memory-gib). The stack config gives one
address per host (`onpremHosts`, in hosts.yaml's order); workloads start through an SSH remote
command. The hosts have no managed identity, so they log in to a registry with a password.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from migrate.contract.model import Platform
from migrate.core.azure import HostSize
from migrate.core.errors import InputError, StackConfigError

from .base import HostPlatform, HostSpec, SizeOptions


class OnPremPlatform(HostPlatform):
    platform = Platform.ONPREM
    hosts_title = "on-premises hosts"
    managed_identity = False
    workload_target = "connection"

    def host_size(self, options: SizeOptions) -> HostSize:
        if not (options.host_vcpus and options.host_memory_gib):
            raise InputError("--platform onprem", "needs --host-vcpus and --host-memory-gib (the size of your hosts)")
        return HostSize(Platform.ONPREM.value, options.host_vcpus, options.host_memory_gib * 1024, True)

    def configured_hosts(self, config: Mapping[str, Any]) -> list[HostSpec]:
        keys = config["onpremHostKeys"]
        return [HostSpec(name=f"onprem-host-{i:02d}", platform=self.platform, isolation=config["isolation"],
                         address=address, host_key=keys[i - 1] if i <= len(keys) else None)
                for i, address in enumerate(config["onpremHosts"], start=1)]

    def planned_host(self, config: Mapping[str, Any], name: str, isolation: str, host_size: HostSize,
                     image_os: tuple[str, ...], index: int, count: int) -> HostSpec:
        addresses, keys = config["onpremHosts"], config["onpremHostKeys"]
        if index >= len(addresses):
            raise StackConfigError(f"hyperdock:onpremHosts: hosts.yaml plans {count} "
                                   f"hosts but only {len(addresses)} addresses are configured")
        return HostSpec(name, self.platform, isolation, address=addresses[index],
                        host_key=keys[index] if index < len(keys) else None, image_os=image_os)

    def host_args(self, spec: HostSpec, config: Mapping[str, Any], common: Mapping[str, Any],
                  secret: Callable[[str], Any]) -> dict:
        args = {
            **common, "address": spec.address, "user": config["onpremUser"],
            "host_os": config["onpremHostOs"], "isolation": spec.isolation,
            "host_key": spec.host_key, "workload_image_os": list(spec.image_os),
            "password": secret("onpremPassword"), "private_key": secret("onpremPrivateKey"),
        }
        return {k: v for k, v in args.items() if v is not None}

    def validate_host(self, args: Mapping[str, Any]) -> None:
        from ..onprem_host import onprem_host_scripts

        onprem_host_scripts(args)

    def host_component(self) -> type:
        from ..onprem_host import OnPremContainerHost

        return OnPremContainerHost

    def create_host(self, name: str, args: Mapping[str, Any], shared: Any) -> Any:
        return self.host_component()(name, args)

    def host_address(self, host: Any) -> Any:
        return host.address

    def target_of(self, host: Any, config: Mapping[str, Any]) -> Any:
        return host.connection

    def run_workload(self, name: str, definition: Any, secrets: Mapping[str, Any], registry_password: Any,
                     target: Any, parent: Any) -> Any:
        """An SSH remote command: the script, its secrets written in, goes as secret stdin to a short runner,
        so no secret is on a command line and no length limit applies."""
        import pulumi
        from pulumi_command import remote

        from ..host_setup import STDIN_RUNNER, encoded_command
        from ..workload import remove_script, run_script

        names = sorted(secrets)
        script = pulumi.Output.all(registry_password, *[secrets[k] for k in names]).apply(
            lambda values: run_script(definition, dict(zip(names, values[1:])), values[0]))
        return remote.Command(
            f"{name}-run", connection=target, create=STDIN_RUNNER, stdin=pulumi.Output.secret(script),
            delete=encoded_command(remove_script(definition)), triggers=[definition.digest()],
            logging=remote.Logging.NONE,  # stdout could echo what the container printed
            opts=pulumi.ResourceOptions(parent=parent, delete_before_replace=True,
                                        additional_secret_outputs=["connection", "stdin"]))
