"""Network policies: nothing is reachable from the internet unless allowed, management only from private ranges.

They judge every public IP, NIC, NSG and standalone security rule of the stack (hand-written ones
too); config onlyHyperdockComponents narrows them to resources inside hyperdock's host components.
Facts (management ports, internet sources, private ranges) come from migrate/core/azure.py.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy, Severity

from migrate.core.azure import MANAGEMENT_PORTS, is_internet_source, is_private_source

from .common import AZURE_HOST, NIC, NSG, PUBLIC_IP, SCOPE_SCHEMA, SECURITY_RULE, in_scope, plain


def _no_public_ip(args: ResourceValidationArgs, report) -> None:
    if args.get_config().get("allowPublicIp", False) or not in_scope(args, AZURE_HOST):
        return
    if args.resource_type == PUBLIC_IP:
        report("a public IP address in the stack; container hosts are reached privately")
    if args.resource_type == NIC:
        for config in plain(args.props.get("ipConfigurations")) or []:
            if isinstance(config, dict) and config.get("publicIPAddress"):
                report("a network interface with a public IP address")


no_public_ip = ResourceValidationPolicy(
    name="hyperdock-azure-vm-no-public-ip",
    description="No public IP address (resource or NIC configuration) unless the policy config allows one.",
    validate=_no_public_ip,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Remove publicIp from the host (reach it over a VPN, Bastion or private link), or set "
                      "allowPublicIp in the policy config for an accepted exception.",
    config_schema=PolicyConfigSchema(properties={**SCOPE_SCHEMA,
        "allowPublicIp": {"type": "boolean", "default": False, "description": "Accept public IPs."}}),
)


def _ports(rule: dict) -> set[int]:
    ranges = list(rule.get("destinationPortRanges") or []) + [rule.get("destinationPortRange") or ""]
    found = set()
    for text in ranges:
        text = str(text).strip()
        if text == "*":
            return set(MANAGEMENT_PORTS)
        low, _, high = text.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            found |= {p for p in MANAGEMENT_PORTS if int(low) <= p <= int(high or low)}
    return found


def _sources(rule: dict) -> list[str]:
    values = list(rule.get("sourceAddressPrefixes") or []) + [rule.get("sourceAddressPrefix") or ""]
    return sorted({str(v).strip() for v in values if str(v).strip()})


def management_exposure(rule: dict) -> str | None:
    """Return what is wrong with one security rule (NSG-embedded or standalone), or None.

    An inbound Allow rule that reaches RDP, WinRM or SSH must come only from private ranges
    (RFC 1918, unique local, the VirtualNetwork tag): the internet and any public range are refused.
    """
    if not isinstance(rule, dict) or rule.get("access") != "Allow" or rule.get("direction") != "Inbound":
        return None
    exposed = _ports(rule)
    if not exposed:
        return None
    names = ", ".join(f"{MANAGEMENT_PORTS[p]} ({p})" for p in sorted(exposed))
    internet = [s for s in _sources(rule) if is_internet_source(s)]
    if internet:
        return f"rule {rule.get('name', '?')} admits {names} from the internet ({', '.join(internet)})"
    public = [s for s in _sources(rule) if not is_private_source(s)]
    if public:
        return f"rule {rule.get('name', '?')} admits {names} from ranges that are not private ({', '.join(public)})"
    return None


def _no_internet_management(args: ResourceValidationArgs, report) -> None:
    if not in_scope(args, AZURE_HOST):
        return
    if args.resource_type == NSG:
        rules = plain(args.props.get("securityRules")) or []
    elif args.resource_type == SECURITY_RULE:
        rules = [dict(plain(args.props), name=args.props.get("securityRuleName") or args.name)]
    else:
        return
    for rule in rules:
        problem = management_exposure(rule)
        if problem:
            report(problem)


no_internet_management = ResourceValidationPolicy(
    name="hyperdock-azure-nsg-no-internet-management",
    description="No NSG rule or standalone security rule admits RDP, WinRM or SSH from the internet or from any "
                "range that is not private (RFC 1918 / unique local).",
    validate=_no_internet_management,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Name your private administration ranges in hyperdock:managementCidrs, or use Azure Bastion.",
    config_schema=PolicyConfigSchema(properties=SCOPE_SCHEMA),
)

POLICIES = [no_public_ip, no_internet_management]
