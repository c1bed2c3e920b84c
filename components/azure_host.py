"""AzureContainerHost: a Windows Server container host on Azure, secure by default.

No public IP and no inbound rule from the internet unless asked; management ports (RDP, WinRM
over HTTPS, SSH) only from the private CIDRs given. Managed identity, boot diagnostics, platform
patching, encryption at host (needs the subscription feature Microsoft.Compute/EncryptionAtHost),
Trusted Launch on process-isolation hosts; Hyper-V isolation hosts (nested virtualization) leave
`securityType` out, a standard VM, unless Trusted Launch is asked for. The admin password is a Pulumi secret
(generated when not given). The host is set up by two managed Run Commands (host_setup): `prepare`
(features → optional domain join → restart when either asked for one), then, after a pause on the
Pulumi machine, `runtime`, which first checks that the last boot time changed. Workloads depend on
that last step. Stacks made before `prepare` existed: its alias takes over the old `-features` step
(replaced, since the Run Command's Azure name changes; it finds the work done and does not restart),
and the old `-domain-join` and `-reboot` Run Commands are deleted.
"""


from dataclasses import dataclass
from typing import Mapping, Optional, Sequence, TypedDict

import pulumi
import pulumi_random
from pulumi_azure_native import compute, network, resources

from .host_setup import DomainJoin, domain_join_for, host_setup_for, prepare_script, runtime_script, steps_digest
from .reboot_pause import reboot_pause
from .sdk_aliases import leaving_out_api_version_aliases
from migrate.contract.stack_config import DEFAULTS
from migrate.core.azure import HOST_MANAGEMENT_PORTS, RUN_COMMAND_TIMEOUT_SECONDS, default_tags

from .validation import (
    computer_name, host_os_of_sku, validate_admin_username, validate_encryption_at_host, validate_image_builds,
    validate_isolation, validate_management_cidrs, validate_security_type,
)


class AzureContainerHostArgs(TypedDict, total=False):
    location: pulumi.Input[str]
    """Azure region; defaults to the resource group's."""
    resource_group_name: pulumi.Input[str]
    """An existing resource group; a new one is created when omitted."""
    subnet_id: pulumi.Input[str]
    """An existing subnet; a VNet 10.20.0.0/16 with one /24 subnet is created when omitted."""
    network_security_group_id: pulumi.Input[str]
    """An existing NSG for the host's NIC (hosts of one stack can share one built from
    management_rules); one is created when omitted."""
    vm_size: str
    """Azure size, e.g. Standard_D4s_v5. Hyper-V isolation needs a nested-virtualization series."""
    image_sku: str
    """MicrosoftWindowsServer/WindowsServer SKU, e.g. 2025-datacenter-azure-edition-core."""
    isolation: str
    """process, hyperv or both: the Hyper-V role is installed for hyperv and both."""
    security_type: Optional[str]
    """TrustedLaunch, or empty: process hosts always get Trusted Launch; Hyper-V hosts leave it out
    (a standard VM) unless TrustedLaunch is named here (see validation.py)."""
    management_cidrs: Sequence[str]
    """Source ranges allowed to reach RDP, WinRM over HTTPS and SSH; none by default."""
    public_ip: bool
    """Attach a public IP (still closed to the internet unless management_cidrs say otherwise)."""
    admin_username: str
    """Local administrator name; not 'admin' or 'administrator'."""
    admin_password: pulumi.Input[str]
    """Local administrator password, as a secret; generated when omitted."""
    workload_image_os: Sequence[str]
    """Image OS families the workloads use (ltsc2019, ...), checked against the host build."""
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
    """Password of domain_user (secret); sent as a Run Command protected parameter."""
    domain_ou_path: Optional[str]
    """Organizational unit for the computer account, e.g. OU=Hosts,DC=contoso,DC=local."""
    encryption_at_host: bool
    """Encrypt temp disks and caches at the host; default true. Needs the subscription feature
    Microsoft.Compute/EncryptionAtHost registered, or VM creation fails."""
    tags: pulumi.Input[Mapping[str, str]]
    """Tags for every resource."""


def management_rules(cidrs: Sequence[str]) -> list[dict]:
    """NSG rules: management ports from each named range, and an explicit deny from the internet.

    Azure's default rules already deny inbound internet traffic; the explicit rule states the
    intent, so a rule added later with a higher number cannot be mistaken for it.
    """
    rules = [
        {"name": f"allow-management-{i}", "priority": 100 + i, "direction": "Inbound", "access": "Allow",
         "protocol": "Tcp", "source_address_prefix": cidr, "source_port_range": "*",
         "destination_address_prefix": "*",
         "destination_port_ranges": [str(port) for port in HOST_MANAGEMENT_PORTS]}
        for i, cidr in enumerate(cidrs)
    ]
    rules.append({"name": "deny-internet-inbound", "priority": 4000, "direction": "Inbound", "access": "Deny",
                  "protocol": "*", "source_address_prefix": "Internet", "source_port_range": "*",
                  "destination_address_prefix": "*", "destination_port_range": "*"})
    return rules


@dataclass(frozen=True, slots=True)
class AzureHostSettings:
    """The validated settings of one host, before any resource exists."""

    isolation: str
    vm_size: str
    image_sku: str
    host_os: str
    security_type: Optional[str]
    encryption_at_host: bool
    management_cidrs: list[str]
    admin_username: str
    prepare_script: str
    runtime_script: str
    domain_join: Optional[DomainJoin]


def azure_host_settings(args: AzureContainerHostArgs) -> AzureHostSettings:
    """Validate `args` and return the settings; raise HostConfigError/SetupError naming the setting."""
    isolation = args.get("isolation", DEFAULTS["isolation"])
    validate_isolation(isolation)
    vm_size = args.get("vm_size", DEFAULTS["vmSize"])
    sku = args.get("image_sku", DEFAULTS["imageSku"])
    host_os = host_os_of_sku(sku)
    security_type = validate_security_type(isolation, args.get("security_type"), vm_size)
    validate_image_builds(isolation, host_os, args.get("workload_image_os", []))
    cidrs = validate_management_cidrs(args.get("management_cidrs", []))
    admin_username = args.get("admin_username", DEFAULTS["adminUsername"])
    validate_admin_username(admin_username)
    setup = host_setup_for(host_os, isolation, args, nested=True)
    join = domain_join_for(args)
    encryption = validate_encryption_at_host(args.get("encryption_at_host", DEFAULTS["encryptionAtHost"]))
    return AzureHostSettings(isolation, vm_size, sku, host_os, security_type, encryption, cidrs, admin_username,
                             prepare_script(setup, join), runtime_script(setup), join)


class AzureContainerHost(pulumi.ComponentResource):
    vm_id: pulumi.Output[str]
    """Azure resource ID of the VM."""
    vm_name: pulumi.Output[str]
    """Name of the VM."""
    resource_group_name: pulumi.Output[str]
    """Resource group holding the host."""
    private_ip: pulumi.Output[str]
    """Private IP address of the host."""
    admin_password: pulumi.Output[str]
    """Administrator password (secret)."""
    principal_id: pulumi.Output[str]
    """Object ID of the VM's system-assigned managed identity."""

    def __init__(self, name: str, args: AzureContainerHostArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # Validation first: a bad setting raises before anything is registered.
        settings = azure_host_settings(args)
        isolation, vm_size, sku = settings.isolation, settings.vm_size, settings.image_sku
        security_type, cidrs, admin_username = settings.security_type, settings.management_cidrs, settings.admin_username

        # Children inherit the component's transformations: none of them carries the SDK's API-version aliases.
        opts = leaving_out_api_version_aliases(opts)
        super().__init__("hyperdock:index:AzureContainerHost", name, {"hostOs": settings.host_os, "isolation": isolation}, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.get("tags", default_tags())
        # Policies read the isolation a host is set up for from its VM.
        vm_tags = pulumi.Output.from_input(tags).apply(lambda t: {**(t or {}), "hyperdock-isolation": isolation})

        if args.get("admin_password") is not None:
            password = pulumi.Output.secret(args["admin_password"])
        else:
            # RandomPassword marks `result` secret through the engine; wrapping it keeps it secret
            # even where no engine does (mocks, other SDK paths).
            password = pulumi.Output.secret(pulumi_random.RandomPassword(
                f"{name}-admin-password", length=24, special=True, override_special="!#%*()-_=+[]{}:?",
                min_lower=1, min_upper=1, min_numeric=1, min_special=1, opts=child).result)

        if args.get("resource_group_name") is not None:
            group_name = pulumi.Output.from_input(args["resource_group_name"])
        else:
            group = resources.ResourceGroup(f"{name}-rg", location=args.get("location"), tags=tags, opts=child)
            group_name = group.name
        location = args.get("location")

        if args.get("network_security_group_id") is not None:
            nsg_id = pulumi.Output.from_input(args["network_security_group_id"])
        else:
            nsg_id = network.NetworkSecurityGroup(
                f"{name}-nsg", resource_group_name=group_name, location=location,
                security_rules=management_rules(cidrs), tags=tags, opts=child).id

        if args.get("subnet_id") is not None:
            subnet_id = pulumi.Output.from_input(args["subnet_id"])
        else:
            vnet = network.VirtualNetwork(
                f"{name}-vnet", resource_group_name=group_name, location=location,
                address_space={"address_prefixes": ["10.20.0.0/16"]},
                subnets=[{"name": "hosts", "address_prefix": "10.20.1.0/24", "network_security_group": {"id": nsg_id}}],
                tags=tags, opts=child)
            subnet_id = vnet.subnets.apply(lambda subnets: _field(subnets[0], "id") if subnets else None)

        ip_configuration = {"name": "primary", "subnet": {"id": subnet_id}, "private_ip_allocation_method": "Dynamic"}
        if args.get("public_ip", False):
            public_ip = network.PublicIPAddress(
                f"{name}-pip", resource_group_name=group_name, location=location, sku={"name": "Standard"},
                public_ip_allocation_method="Static", tags=tags, opts=child)
            ip_configuration["public_ip_address"] = {"id": public_ip.id}
        nic = network.NetworkInterface(
            f"{name}-nic", resource_group_name=group_name, location=location,
            ip_configurations=[ip_configuration], network_security_group={"id": nsg_id}, tags=tags, opts=child)

        # No securityType at all is a standard VM; "Standard" is not in the API's enum (migrate.core.azure).
        security_profile: dict = {"encryption_at_host": settings.encryption_at_host}
        if security_type == "TrustedLaunch":
            security_profile.update(security_type="TrustedLaunch",
                                    uefi_settings={"secure_boot_enabled": True, "v_tpm_enabled": True})
        self.vm = compute.VirtualMachine(
            f"{name}-vm", resource_group_name=group_name, location=location,
            hardware_profile={"vm_size": vm_size},
            identity={"type": "SystemAssigned"},
            os_profile={
                "computer_name": computer_name(name),
                "admin_username": admin_username,
                "admin_password": password,
                "windows_configuration": {
                    "provision_vm_agent": True,
                    "enable_automatic_updates": True,
                    "patch_settings": {"patch_mode": "AutomaticByPlatform", "assessment_mode": "AutomaticByPlatform"},
                },
            },
            storage_profile={
                "image_reference": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": sku,
                                    "version": "latest"},
                "os_disk": {"create_option": "FromImage", "managed_disk": {"storage_account_type": "Premium_LRS"},
                            "delete_option": "Delete"},
            },
            network_profile={"network_interfaces": [{"id": nic.id, "primary": True}]},
            security_profile=security_profile,
            diagnostics_profile={"boot_diagnostics": {"enabled": True}},  # managed storage
            tags=vm_tags,
            # The password is a secret input; this keeps the whole osProfile encrypted in state too.
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["osProfile"]))

        def run_command(step: str, script: str, after: list, aliases: Optional[list] = None,
                        **extra) -> compute.VirtualMachineRunCommandByVirtualMachine:
            return compute.VirtualMachineRunCommandByVirtualMachine(
                f"{name}-{step}", resource_group_name=group_name, vm_name=self.vm.name, location=location,
                run_command_name=f"hyperdock-{step}", source={"script": script},
                treat_failure_as_deployment_failure=True, timeout_in_seconds=RUN_COMMAND_TIMEOUT_SECONDS, tags=tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=after, aliases=aliases), **extra)

        # One Run Command before the restart (features, domain join, the restart itself) and one
        # after it: each Run Command costs the SDK 18 alias URNs per `pulumi up` (host_setup.prepare_script).
        protected = {}
        if settings.domain_join is not None:
            protected["protected_parameters"] = [
                {"name": "JoinPassword", "value": pulumi.Output.secret(args["domain_password"])}]
        self.prepare = run_command("prepare", settings.prepare_script, [self.vm],
                                   aliases=[pulumi.Alias(name=f"{name}-features")], **protected)
        pause = reboot_pause(f"{name}-reboot-pause", self, self.prepare, [steps_digest(settings.prepare_script)])
        self.runtime = run_command("runtime", settings.runtime_script, [pause])

        self.vm_id = self.vm.id
        self.vm_name = self.vm.name
        self.resource_group_name = group_name
        self.private_ip = nic.ip_configurations.apply(
            lambda configs: _field(configs[0], "private_ip_address") or "" if configs else "")
        self.admin_password = pulumi.Output.secret(password)
        self.principal_id = self.vm.identity.apply(lambda identity: _field(identity, "principal_id") or "")
        self.register_outputs({
            "vmId": self.vm_id, "vmName": self.vm_name, "resourceGroupName": self.resource_group_name,
            "privateIp": self.private_ip, "adminPassword": self.admin_password, "principalId": self.principal_id,
        })


def _field(value, name: str):
    """Read a field of an output object, whichever form it arrives in (typed output or plain dict)."""
    if value is None:
        return None
    if isinstance(value, dict) and name in value:
        return value[name]
    return getattr(value, name, None)
