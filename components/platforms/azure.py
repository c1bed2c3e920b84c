"""Azure: Windows Server VMs as container hosts (components/azure_host.py), workloads through Run Command.

Capacity: a size of migrate.core.azure's table; a Hyper-V pool notes when the size cannot nest
virtualization. All Azure hosts of a stack share one resource group, NSG and VNet; hosts pull from
Azure Container Registry with their managed identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from migrate.contract.model import Isolation, Platform
from migrate.core.azure import (AZURE_SIZES, RUN_COMMAND_TIMEOUT_SECONDS, HostSize, default_tags,
                                hyperv_size_problem)
from migrate.core.errors import InputError, StackConfigError

from .base import HostPlatform, HostSpec, SizeOptions


@dataclass(frozen=True)
class AzureNetwork:
    """What the stack's Azure hosts share: one resource group, NSG and subnet."""

    resource_group: Any
    network_security_group: Any
    subnet_id: Any


class AzurePlatform(HostPlatform):
    platform = Platform.AZURE
    hosts_title = "Azure hosts"
    managed_identity = True
    workload_target = "azure_vm"

    def host_size(self, options: SizeOptions) -> HostSize:
        if options.host_size not in AZURE_SIZES:
            raise InputError("--host-size", f"unknown size {options.host_size!r}; expected one of {', '.join(AZURE_SIZES)}")
        return AZURE_SIZES[options.host_size]

    def pool_notes(self, isolation: Isolation, size: HostSize) -> list[str]:
        problem = hyperv_size_problem(size.name) if isolation == Isolation.HYPERV else None
        return [f"Hyper-V isolation cannot run here: {problem}"] if problem else []

    def configured_hosts(self, config: Mapping[str, Any]) -> list[HostSpec]:
        return [HostSpec(name=f"azure-host-{i:02d}", platform=self.platform, isolation=config["isolation"],
                         vm_size=config["vmSize"]) for i in range(1, config["azureHostCount"] + 1)]

    def check_plan(self, config: Mapping[str, Any], host_os: str) -> None:
        from ..validation import host_os_of_sku   # here: generate never needs the host validators

        sku_os = host_os_of_sku(config["imageSku"])   # a known SKU: the stack config checked it
        if sku_os != host_os:
            raise StackConfigError(f"hyperdock:imageSku: gives {sku_os} hosts, but the plan was made for {host_os}")

    def planned_host(self, config: Mapping[str, Any], name: str, isolation: str, host_size: HostSize,
                     image_os: tuple[str, ...], index: int, count: int) -> HostSpec:
        return HostSpec(name, self.platform, isolation, vm_size=host_size.name, image_os=image_os)

    def host_args(self, spec: HostSpec, config: Mapping[str, Any], common: Mapping[str, Any],
                  secret: Callable[[str], Any]) -> dict:
        args = {
            **common, "location": config["location"], "vm_size": spec.vm_size, "image_sku": config["imageSku"],
            # Process-isolation hosts always get Trusted Launch; Hyper-V hosts leave securityType out
            # unless TrustedLaunch is asked for (components/validation.py).
            "isolation": spec.isolation,
            "security_type": (config["securityType"] or None) if spec.isolation != Isolation.PROCESS else None,
            "encryption_at_host": config["encryptionAtHost"],
            "management_cidrs": config["managementCidrs"], "public_ip": config["publicIp"],
            "admin_username": config["adminUsername"], "workload_image_os": list(spec.image_os),
        }
        if config["adminPassword"] is not None:
            args["admin_password"] = secret("adminPassword")
        return args

    def validate_host(self, args: Mapping[str, Any]) -> None:
        from ..azure_host import azure_host_settings

        azure_host_settings(args)

    def create_shared(self, config: Mapping[str, Any]) -> AzureNetwork:
        from pulumi_azure_native import network, resources

        from ..azure_host import management_rules
        from ..sdk_aliases import leaving_out_api_version_aliases
        from ..validation import validate_management_cidrs

        location = config["location"]
        opts = leaving_out_api_version_aliases()  # as the components' resources (components/sdk_aliases.py)
        group = resources.ResourceGroup("hyperdock-rg", location=location, tags=default_tags(), opts=opts)
        nsg = network.NetworkSecurityGroup(
            "hyperdock-nsg", resource_group_name=group.name, location=location,
            security_rules=management_rules(validate_management_cidrs(config["managementCidrs"])),
            tags=default_tags(), opts=opts)
        vnet = network.VirtualNetwork(
            "hyperdock-vnet", resource_group_name=group.name, location=location,
            address_space={"address_prefixes": ["10.20.0.0/16"]},
            subnets=[{"name": "hosts", "address_prefix": "10.20.0.0/20", "network_security_group": {"id": nsg.id}}],
            tags=default_tags(), opts=opts)
        subnet_id = vnet.subnets.apply(lambda subnets: subnets[0].id if hasattr(subnets[0], "id") else subnets[0]["id"])
        return AzureNetwork(group, nsg, subnet_id)

    def host_component(self) -> type:
        from ..azure_host import AzureContainerHost

        return AzureContainerHost

    def create_host(self, name: str, args: Mapping[str, Any], shared: AzureNetwork) -> Any:
        return self.host_component()(name, {**args, "resource_group_name": shared.resource_group.name,
                                         "subnet_id": shared.subnet_id,
                                         "network_security_group_id": shared.network_security_group.id})

    def host_address(self, host: Any) -> Any:
        return host.private_ip

    def target_of(self, host: Any, config: Mapping[str, Any]) -> dict:
        return {"resource_group_name": host.resource_group_name, "vm_name": host.vm_name, "location": config["location"]}

    def run_workload(self, name: str, definition: Any, secrets: Mapping[str, Any], registry_password: Any,
                     target: Mapping[str, Any], parent: Any) -> Any:
        """A managed Run Command holding the script; secrets and the registry password go as protected parameters."""
        import pulumi
        from pulumi_azure_native import compute

        from ..workload import run_script

        registry_parameter = [] if registry_password is None else [
            {"name": "RegistryPassword", "value": pulumi.Output.secret(registry_password)}]
        return compute.VirtualMachineRunCommandByVirtualMachine(
            f"{name}-run", resource_group_name=target["resource_group_name"], vm_name=target["vm_name"],
            location=target["location"], run_command_name=f"hyperdock-{definition.name}-{definition.digest()}"[:80],
            source={"script": run_script(definition)},
            protected_parameters=[{"name": f"S_{key}", "value": pulumi.Output.secret(value)}
                                  for key, value in sorted(secrets.items())] + registry_parameter,
            treat_failure_as_deployment_failure=True, timeout_in_seconds=RUN_COMMAND_TIMEOUT_SECONDS,
            opts=pulumi.ResourceOptions(parent=parent, delete_before_replace=True))
