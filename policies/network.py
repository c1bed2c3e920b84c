"""Network policies: nothing of a container host is reachable from the internet unless allowed."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy, Severity

from migrate.azure_facts import MANAGEMENT_PORTS, is_internet_source, is_private_source

from .common import AZURE_HOST, NIC, NSG, PUBLIC_IP, plain, under


def _no_public_ip(args: ResourceValidationArgs, report) -> None:
    if args.get_config().get("allowPublicIp", False) or not under(args.urn, AZURE_HOST):
        return
    if args.resource_type == PUBLIC_IP:
        report("a container host has a public IP address")
    if args.resource_type == NIC:
        for config in plain(args.props.get("ipConfigurations")) or []:
            if isinstance(config, dict) and config.get("publicIPAddress"):
                report("a container host's network interface has a public IP address")


no_public_ip = ResourceValidationPolicy(
    name="hyperdock-azure-vm-no-public-ip",
    description="Container hosts have no public IP address unless the policy config allows one.",
    validate=_no_public_ip,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Remove publicIp from the host (reach it over a VPN, Bastion or private link), or set "
                      "allowPublicIp in the policy config for an accepted exception.",
    config_schema=PolicyConfigSchema(properties={
        "allowPublicIp": {"type": "boolean", "default": False, "description": "Accept public IPs on container hosts."}}),
)


def _ports(rule: dict) -> set[int]:
    ranges = list(rule.get("destinationPortRanges") or []) + [rule.get("destinationPortRange") or ""]
    found = set()
    for text in ranges:
        text = str(text).strip()
        if text == "*":
            return set(MANAGEMENT_PORTS)
        low, _, high = text.partition("-")
        if low.isdigit():
            found |= {p for p in MANAGEMENT_PORTS if int(low) <= p <= int(high or low)}
    return found


def _sources(rule: dict) -> set[str]:
    values = list(rule.get("sourceAddressPrefixes") or []) + [rule.get("sourceAddressPrefix") or ""]
    return {str(v).strip().lower() for v in values if v}


def _no_internet_management(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != NSG:
        return
    for rule in plain(args.props.get("securityRules")) or []:
        if not isinstance(rule, dict) or rule.get("access") != "Allow" or rule.get("direction") != "Inbound":
            continue
        exposed = _ports(rule) if any(is_internet_source(s) for s in _sources(rule)) else set()
        if exposed:
            names = ", ".join(f"{MANAGEMENT_PORTS[p]} ({p})" for p in sorted(exposed))
            report(f"rule {rule.get('name', '?')} admits {names} from the internet")


no_internet_management = ResourceValidationPolicy(
    name="hyperdock-azure-nsg-no-internet-management",
    description="No NSG rule admits RDP, WinRM or SSH from *, 0.0.0.0/0 or Internet.",
    validate=_no_internet_management,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Name your administration ranges in hyperdock:managementCidrs, or use Azure Bastion.",
)

POLICIES = [no_public_ip, no_internet_management]
