"""Policies on Azure VMs, one rule each: every VM of the stack, not only hyperdock's container hosts
(config onlyHyperdockComponents narrows them to AzureContainerHost's VMs).

Facts: migrate/core/azure.py (sizes, nested virtualization, Trusted Launch, encryption at host) and
components/validation.py (marketplace images), each with its source.
"""

from __future__ import annotations

import re

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy, Severity

from migrate.contract.model import Isolation
from migrate.core.azure import hyperv_host_series, hyperv_size_problem

from .common import AZURE_HOST, SCOPE_SCHEMA, VM, dig, in_scope

DEFAULT_IMAGE_SKUS = [r"^(2019|2022|2025)-datacenter"]


def _host_vm(args: ResourceValidationArgs) -> bool:
    return args.resource_type == VM and in_scope(args, AZURE_HOST)


def _isolation(args: ResourceValidationArgs) -> str:
    return str(dig(args.props, "tags", "hyperdock-isolation") or Isolation.PROCESS.value)


def _approved_image(args: ResourceValidationArgs, report) -> None:
    if not _host_vm(args):
        return
    image = dig(args.props, "storageProfile", "imageReference") or {}
    patterns = args.get_config().get("allowedSkus", DEFAULT_IMAGE_SKUS)
    publisher, offer, sku = image.get("publisher"), image.get("offer"), image.get("sku") or ""
    if publisher != "MicrosoftWindowsServer" or offer != "WindowsServer" or not any(re.search(p, sku) for p in patterns):
        report(f"image {publisher}/{offer}/{sku or '?'} is not an approved Windows Server image "
               f"(MicrosoftWindowsServer/WindowsServer, SKU matching {', '.join(patterns)})")


approved_image = ResourceValidationPolicy(
    name="hyperdock-azure-vm-approved-image",
    description="Container hosts run Windows Server 2019 or later Datacenter from MicrosoftWindowsServer/WindowsServer.",
    validate=_approved_image,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Use a MicrosoftWindowsServer/WindowsServer SKU such as 2025-datacenter-azure-edition-core, "
                      "or add the SKU pattern to allowedSkus.",
    config_schema=PolicyConfigSchema(properties={**SCOPE_SCHEMA,
        "allowedSkus": {"type": "array", "items": {"type": "string"}, "default": DEFAULT_IMAGE_SKUS,
                        "description": "Regular expressions an image SKU must match one of."}}),
)


def _managed_identity(args: ResourceValidationArgs, report) -> None:
    if _host_vm(args) and "SystemAssigned" not in str(dig(args.props, "identity", "type") or "") \
            and not dig(args.props, "identity", "userAssignedIdentities"):
        report("the VM has no managed identity; hosts authenticate to Azure (registries, Key Vault) with one")


managed_identity = ResourceValidationPolicy(
    name="hyperdock-azure-vm-managed-identity",
    description="Container hosts have a managed identity, so no credentials are stored on them.",
    validate=_managed_identity,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps="Set identity.type to SystemAssigned (AzureContainerHost does by default).",
    config_schema=PolicyConfigSchema(properties=SCOPE_SCHEMA),
)


def _boot_diagnostics(args: ResourceValidationArgs, report) -> None:
    if _host_vm(args) and dig(args.props, "diagnosticsProfile", "bootDiagnostics", "enabled") is not True:
        report("boot diagnostics are off; a host that fails to reboot after the feature install cannot be inspected")


boot_diagnostics = ResourceValidationPolicy(
    name="hyperdock-azure-vm-boot-diagnostics",
    description="Container hosts keep boot diagnostics (managed storage).",
    validate=_boot_diagnostics,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.LOW,
    remediation_steps="Set diagnosticsProfile.bootDiagnostics.enabled to true.",
    config_schema=PolicyConfigSchema(properties=SCOPE_SCHEMA),
)


def _automatic_patching(args: ResourceValidationArgs, report) -> None:
    if not _host_vm(args):
        return
    mode = dig(args.props, "osProfile", "windowsConfiguration", "patchSettings", "patchMode")
    if mode not in ("AutomaticByPlatform", "AutomaticByOS"):
        report(f"patch mode is {mode or 'not set'}; container hosts must patch automatically")


automatic_patching = ResourceValidationPolicy(
    name="hyperdock-azure-vm-automatic-patching",
    description="Container hosts patch automatically (AutomaticByPlatform or AutomaticByOS).",
    validate=_automatic_patching,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Set osProfile.windowsConfiguration.patchSettings.patchMode to AutomaticByPlatform.",
    config_schema=PolicyConfigSchema(properties=SCOPE_SCHEMA),
)


def _encryption(args: ResourceValidationArgs, report) -> None:
    if not _host_vm(args):
        return
    at_host = dig(args.props, "securityProfile", "encryptionAtHost") is True
    disk_set = dig(args.props, "storageProfile", "osDisk", "managedDisk", "diskEncryptionSet", "id")
    if not at_host and not disk_set:
        report("neither encryption at host nor a disk encryption set protects the host's disks")


encryption = ResourceValidationPolicy(
    name="hyperdock-azure-vm-encryption",
    description="Container host disks are encrypted at host or with a disk encryption set.",
    validate=_encryption,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Set securityProfile.encryptionAtHost (register Microsoft.Compute/EncryptionAtHost) or "
                      "storageProfile.osDisk.managedDisk.diskEncryptionSet.",
    config_schema=PolicyConfigSchema(properties=SCOPE_SCHEMA),
)


def _trusted_launch(args: ResourceValidationArgs, report) -> None:
    if not _host_vm(args):
        return
    security_type = dig(args.props, "securityProfile", "securityType")
    uefi = dig(args.props, "securityProfile", "uefiSettings") or {}
    if security_type == "TrustedLaunch":
        if uefi.get("secureBootEnabled") is not True or uefi.get("vTpmEnabled") is not True:
            report("Trusted Launch without secure boot and vTPM")
        return
    if security_type == "Standard":
        report("securityType Standard is not in the Azure API's enum (TrustedLaunch, ConfidentialVM) and fails unless "
               "the subscription registered UseStandardSecurityType; leave securityType out for a standard VM")
        return
    if security_type == "ConfidentialVM":
        return
    exception = args.get_config().get("allowStandardForNestedVirtualization", True)
    if security_type is None and exception and _isolation(args) in (Isolation.HYPERV, "both"):
        return  # nested virtualization for Hyper-V isolation: Trusted Launch with it is not verified
    report("no securityType (a standard VM); hosts use Trusted Launch with secure boot and vTPM "
           "(a standard VM only on Hyper-V isolation hosts, which need nested virtualization)")


trusted_launch = ResourceValidationPolicy(
    name="hyperdock-azure-vm-trusted-launch",
    description="Container hosts use Trusted Launch with secure boot and vTPM, except Hyper-V isolation hosts, "
                "which may be standard VMs (securityType left out) for nested virtualization.",
    validate=_trusted_launch,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Set securityProfile.securityType to TrustedLaunch with uefiSettings.secureBootEnabled and "
                      "vTpmEnabled; leaving it out is accepted only for hosts tagged hyperdock-isolation=hyperv|both. "
                      "Never send Standard.",
    config_schema=PolicyConfigSchema(properties={**SCOPE_SCHEMA,
        "allowStandardForNestedVirtualization": {"type": "boolean", "default": True,
                                                 "description": "Accept standard VMs (no securityType) on Hyper-V "
                                                                "isolation hosts."}}),
)


def _nested_virtualization(args: ResourceValidationArgs, report) -> None:
    if not _host_vm(args) or _isolation(args) not in (Isolation.HYPERV, "both"):
        return
    size = dig(args.props, "hardwareProfile", "vmSize") or ""
    problem = hyperv_size_problem(size) if size else "the VM names no size"
    if problem:
        report(problem)


nested_virtualization = ResourceValidationPolicy(
    name="hyperdock-azure-vm-nested-virtualization-size",
    description="A host set up for Hyper-V isolation uses a Generation 2, Premium-storage size whose series "
                "supports nested virtualization.",
    validate=_nested_virtualization,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=f"Use a {hyperv_host_series()} size (e.g. Standard_D4s_v5); Dv3 is Generation 1 "
                      "only without Premium storage.",
    config_schema=PolicyConfigSchema(properties=SCOPE_SCHEMA),
)


def _password_secret(args: ResourceValidationArgs, report) -> None:
    # pulumi_policy hands `validate` plain values (it keeps Secret wrappers for remediation only),
    # so the secretness a policy can see is the resource's additionalSecretOutputs.
    if args.resource_type != VM or not in_scope(args, AZURE_HOST) or dig(args.props, "osProfile", "adminPassword") is None:
        return
    if "osProfile" not in (args.opts.additional_secret_outputs or []):
        report("osProfile (with adminPassword) is not a secret output, so the password is stored in plain text in "
               "the state; pass a secret and set additional_secret_outputs=['osProfile']")


admin_password_secret = ResourceValidationPolicy(
    name="hyperdock-azure-vm-admin-password-secret",
    description="VM administrator passwords are Pulumi secrets.",
    validate=_password_secret,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Pass the password as a secret (config.require_secret, pulumi_random.RandomPassword) and mark "
                      "osProfile in additional_secret_outputs, as AzureContainerHost does.",
    config_schema=PolicyConfigSchema(properties=SCOPE_SCHEMA),
)

POLICIES = [approved_image, managed_identity, boot_diagnostics, automatic_patching, encryption, trusted_launch,
            nested_virtualization, admin_password_secret]
