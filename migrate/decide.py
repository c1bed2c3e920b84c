"""Per-workload decisions: findings → fit level → target (vm, process, hyperv) → base image."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .facts import EstateFacts, WorkloadFacts, derive
from .core.windows import HOST_ONLY_FEATURES, ImageChoice, choose_base_image
from .model import VM, Estate
from .rules import FIT_ORDER, NOT_READY, READY, RULES, UNKNOWN, Rule

# Features present in every Server Core image, or irrelevant inside one; not worth installing.
_BASE_FEATURES = re.compile(
    r"(net-framework-45-(core|features)|powershell.*|wow64-support|filesandstorage-services|storage-services|"
    r"server-gui-.*|user-interfaces-infra|xps-viewer|rsat.*|.*-tools|.*mgmt.*|windows-defender.*|"
    r"system-datastore|search-service|telnet-client|windows-server-backup|fs-smb1|desktop-experience|"
    r"windows-internal-database|bitlocker.*|enhancedstorage|ad-domain-services|dns|dhcp|hyper-v|rds-.*|"
    r"remote-desktop-services|fs-fileserver|file-services)",
    re.IGNORECASE,
)
_DOTNET_CORE = re.compile(r"Microsoft\.(AspNetCore|NETCore)\.App (\d{1,9})\.")  # short: int() of 5000 digits raises


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str
    message: str
    remediation: str


@dataclass(slots=True)
class Decision:
    vm: VM
    fit: str
    target: str  # vm | process | hyperv
    image_os: str | None
    base_image: ImageChoice | None
    confidence: str  # high | medium | low
    findings: list[Finding] = field(default_factory=list)
    windows_features: list[str] = field(default_factory=list)


def estate_facts(estate: Estate, host_os: str, tenancy: str) -> EstateFacts:
    """Return the estate-wide facts (tenants and zones in use) the per-workload rules need."""
    tenants = frozenset(t for t in (vm.tag("tenant") for vm in estate.vms) if t)
    zones = frozenset(z for z in (vm.tag("zone") for vm in estate.vms) if z)
    return EstateFacts(tenants=tenants, zones=zones, host_os=host_os, tenancy=tenancy)


def evaluate(facts: WorkloadFacts, rules: list[Rule] = RULES) -> list[tuple[Rule, str]]:
    """Return (rule, message) for every rule that fires on the workload, in rule order."""
    fired = []
    for r in rules:
        message = r.check(facts)
        if message:
            fired.append((r, message))
    return fired


def decide(vm: VM, estate: EstateFacts, extra_findings: list[Finding] = ()) -> Decision:
    """Return the decision for one workload: its fit, target, image and the findings behind them."""
    facts = derive(vm, estate)
    fired = evaluate(facts)
    findings = [Finding(r.id, r.severity, m, r.remediation) for r, m in fired] + list(extra_findings)
    fit = _fit(fired, facts)
    confidence = _confidence(facts)
    if fit in (NOT_READY, UNKNOWN):
        return Decision(vm, fit, "vm", None, None, confidence, findings)
    isolation_rules = [r.id for r, _ in fired if r.isolation == "hyperv"]
    target = "hyperv" if isolation_rules else "process"
    if target == "process":
        findings.append(Finding(
            "iso.process", "info",
            f"process isolation: {facts.image_os} image on {estate.host_os} hosts, one tenant and zone per host",
            "None: process isolation is the denser choice.",
        ))
    image = _base_image(facts)
    features = _features_to_install(facts)
    return Decision(vm, fit, target, facts.image_os, image, confidence, findings, features)


def _fit(fired: list[tuple[Rule, str]], facts: WorkloadFacts) -> str:
    worst = READY
    for r, _ in fired:
        level = UNKNOWN if r.id == "data.no-guest" else r.fit
        if FIT_ORDER.index(level) < FIT_ORDER.index(worst):
            worst = level
    return worst


def _confidence(facts: WorkloadFacts) -> str:
    if facts.guest is None:
        return "low"
    return "medium" if facts.guest.missing_sections() else "high"


def _base_image(facts: WorkloadFacts) -> ImageChoice:
    guest = facts.guest
    pools = guest.app_pools or []
    has_iis = bool(guest.iis_sites) or facts.has_feature("Web-Server")
    managed_pools = any(p.managed_runtime_version.lower().startswith(("v2.", "v4.")) for p in pools)
    framework = managed_pools or facts.has_feature("Web-Asp-Net45", "Web-Asp-Net", "NET-Framework-45-ASPNET")
    if not has_iis and guest.dotnet_framework_release and not guest.dotnet_runtimes:
        framework = any(s.path_name for s in facts.app_services)  # a service on the Framework
    core_versions = sorted({int(m.group(2)) for r in guest.dotnet_runtimes or [] if (m := _DOTNET_CORE.search(r))})
    return choose_base_image(
        facts.image_os,
        has_iis=has_iis,
        managed_framework=framework,
        dotnet_core_major=core_versions[-1] if core_versions else None,
        needs_full_api=facts.has_feature("Print-Services", "Print-Server", "Server-Media-Foundation"),
        needs_windows_powershell=any(p.enable_32bit for p in pools) or bool(_features_to_install(facts)),
    )


def _features_to_install(facts: WorkloadFacts) -> list[str]:
    """Return installed guest features that a container image would not already have."""
    return sorted((f for f in facts.guest.features or []
                   if not _BASE_FEATURES.fullmatch(f) and not HOST_ONLY_FEATURES.fullmatch(f)), key=str.lower)
