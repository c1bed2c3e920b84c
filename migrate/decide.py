"""Per-workload decisions: findings → fit level → target (vm, process, hyperv) → base image."""

from __future__ import annotations

from dataclasses import dataclass, field

from .contract.model import Fit, Isolation, Target
from .facts import EstateFacts, WorkloadFacts, derive
from .core.windows import ImageChoice, choose_base_image
from .model import VM, Estate
from .rules import FIT_ORDER, RULES, Rule


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str
    message: str
    remediation: str


@dataclass(slots=True)
class Decision:
    vm: VM
    fit: Fit
    target: Target
    image_os: str | None
    base_image: ImageChoice | None
    confidence: str  # high | medium | low
    findings: list[Finding] = field(default_factory=list)
    facts: WorkloadFacts | None = None  # what the plan writer reads; kept for container targets only


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


def decide(vm: VM, estate: EstateFacts, extra_findings: list[Finding] = (),
           results: dict[WorkloadFacts, tuple[tuple[Rule, str], ...]] | None = None) -> Decision:
    """Return the decision for one workload: its fit, target, image and the findings behind them.

    `results` caches the rules' results by the facts' signature (WorkloadFacts' `==` and hash):
    workloads that look alike to every rule are evaluated once (an estate repeats a few shapes).
    """
    facts = derive(vm, estate)
    if results is None:
        fired = evaluate(facts)
    else:
        fired = results.get(facts)
        if fired is None:
            fired = results[facts] = tuple(evaluate(facts))
    findings = [Finding(r.id, r.severity, m, r.remediation) for r, m in fired] + list(extra_findings)
    fit = _fit(fired, facts)
    confidence = _confidence(facts)
    if fit in (Fit.NOT_READY, Fit.UNKNOWN):
        return Decision(vm, fit, Target.VM, None, None, confidence, findings)
    isolation_rules = [r.id for r, _ in fired if r.isolation == Isolation.HYPERV]
    target = Target.HYPERV if isolation_rules else Target.PROCESS
    if target == Target.PROCESS:
        findings.append(Finding(
            "iso.process", "info",
            f"process isolation: {facts.image_os} image on {estate.host_os} hosts, one tenant and zone per host",
            "None: process isolation is the denser choice.",
        ))
    return Decision(vm, fit, target, facts.image_os, _base_image(facts), confidence, findings, facts)


def _fit(fired: list[tuple[Rule, str]] | tuple[tuple[Rule, str], ...], facts: WorkloadFacts) -> Fit:
    worst = Fit.READY
    for r, _ in fired:
        level = Fit.UNKNOWN if r.id == "data.no-guest" else r.fit
        if FIT_ORDER.index(level) < FIT_ORDER.index(worst):
            worst = level
    return worst


def _confidence(facts: WorkloadFacts) -> str:
    if not facts.has_guest:
        return "low"
    return "medium" if facts.missing_sections else "high"


def _base_image(facts: WorkloadFacts) -> ImageChoice:
    has_iis = facts.has_iis_sites or facts.has_feature("Web-Server")
    managed_pools = any(runtime.startswith(("v2.", "v4.")) for _, runtime in facts.app_pools)
    framework = managed_pools or facts.has_feature("Web-Asp-Net45", "Web-Asp-Net", "NET-Framework-45-ASPNET")
    if not has_iis and facts.framework_release and not facts.has_dotnet_runtimes:
        framework = facts.service_binaries  # a service on the Framework
    return choose_base_image(
        facts.image_os,
        has_iis=has_iis,
        managed_framework=framework,
        dotnet_core_major=facts.dotnet_majors[-1] if facts.dotnet_majors else None,
        needs_full_api=facts.has_feature("Print-Services", "Print-Server", "Server-Media-Foundation"),
        needs_windows_powershell=facts.pools_32bit or bool(facts.features_to_install),
    )
