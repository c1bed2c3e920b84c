"""Required tags on the Azure resources of a stack."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy, Severity

from migrate.core.azure import MANAGED_BY_TAG

from .common import plain

TAGGED_TYPES = {
    "azure-native:resources:ResourceGroup", "azure-native:network:NetworkSecurityGroup",
    "azure-native:network:VirtualNetwork", "azure-native:network:NetworkInterface",
    "azure-native:network:PublicIPAddress", "azure-native:compute:VirtualMachine",
}
DEFAULT_REQUIRED = [MANAGED_BY_TAG]


def _required_tags(args: ResourceValidationArgs, report) -> None:
    if args.resource_type not in TAGGED_TYPES:
        return
    tags = plain(args.props.get("tags")) or {}
    missing = [t for t in args.get_config().get("requiredTags", DEFAULT_REQUIRED) if t not in tags]
    if missing:
        report(f"missing tags: {', '.join(missing)}")


required_tags = ResourceValidationPolicy(
    name="hyperdock-azure-required-tags",
    description="Azure resources carry the tags the organisation requires (config requiredTags).",
    validate=_required_tags,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.LOW,
    remediation_steps="Add the tags to the component's tags argument.",
    config_schema=PolicyConfigSchema(properties={
        "requiredTags": {"type": "array", "items": {"type": "string"}, "default": DEFAULT_REQUIRED,
                         "description": "Tag names every Azure resource must have."}}),
)

POLICIES = [required_tags]
