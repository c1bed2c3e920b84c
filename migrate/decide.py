"""Per-workload decisions: findings → fit level → target (vm, process, hyperv) → base image.

An estate repeats a few shapes of workload, so `decide_all` works each out once: the facts once per
distinct inputs key (`facts.inputs_key`: what `derive` reads), the rules once per distinct facts
signature, and a workload whose key was seen before costs a dict lookup and its Decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .contract.model import Fit, Isolation, Target
from .facts import EstateFacts, WorkloadFacts, account_prefixes, derive, inputs_key, machine_names
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
    # VM.tag's normalising, once per distinct value: an estate repeats a few tenants and zones.
    tenants = frozenset(filter(None, (t.strip().lower() for t in {vm.tags.get("tenant", "") for vm in estate.vms})))
    zones = frozenset(filter(None, (z.strip().lower() for z in {vm.tags.get("zone", "") for vm in estate.vms})))
    return EstateFacts(tenants=tenants, zones=zones, host_os=host_os, tenancy=tenancy)


def evaluate(facts: WorkloadFacts, rules: list[Rule] = RULES) -> list[tuple[Rule, str]]:
    """Return (rule, message) for every rule that fires on the workload, in rule order."""
    fired = []
    for r in rules:
        message = r.check(facts)
        if message:
            fired.append((r, message))
    return fired


@dataclass(frozen=True, slots=True)
class _Outcome:
    """A Decision but its VM, shared by the workloads with one inputs key; `findings` go before the
    reader's extra findings, `tail` after them."""

    fit: Fit
    target: Target
    image_os: str | None
    base_image: ImageChoice | None
    confidence: str
    findings: tuple[Finding, ...]
    tail: tuple[Finding, ...]
    facts: WorkloadFacts | None
    prefixes: frozenset[str] = frozenset()  # facts.account_prefixes: reused only on machines named none of these


def decide(vm: VM, estate: EstateFacts, extra_findings: list[Finding] = ()) -> Decision:
    """Return the decision for one workload: its fit, target, image and the findings behind them."""
    o = _outcome(derive(vm, estate), evaluate)
    return Decision(vm, o.fit, o.target, o.image_os, o.base_image, o.confidence,
                    [*o.findings, *extra_findings, *o.tail], o.facts)


class Decider:
    """Decides the workloads of one estate: facts derived once per inputs key, rules evaluated once per
    facts signature (WorkloadFacts' `==` and hash: workloads that look alike to every rule)."""

    def __init__(self, estate: EstateFacts):
        self.estate = estate
        self.outcomes: dict[tuple, _Outcome] = {}  # by facts.inputs_key
        self.fired: dict[WorkloadFacts, tuple[tuple[Rule, str], ...]] = {}  # by signature

    def decide_all(self, vms: list[VM], extra: dict[str, list[Finding]]) -> dict[str, Decision]:
        """Return each VM's decision by VMId, `extra[VMId]` findings after the rules' own."""
        outcomes, decisions = self.outcomes, {}
        for vm in vms:
            key = inputs_key(vm)
            o = outcomes.get(key)
            if o is None or (o.prefixes and not o.prefixes.isdisjoint(machine_names(vm))):
                o = self._outcome(vm, key)
            decisions[vm.vm_id] = Decision(vm, o.fit, o.target, o.image_os, o.base_image, o.confidence,
                                           [*o.findings, *extra.get(vm.vm_id, ()), *o.tail], o.facts)
        return decisions

    def _outcome(self, vm: VM, key: tuple) -> _Outcome:
        """Return the workload's outcome, kept for its inputs key unless it depends on the machine's names."""
        prefixes = account_prefixes(vm)
        outcome = _outcome(derive(vm, self.estate), self._evaluate, prefixes)
        # An account `THISVM\\user` is local to this VM: facts that depend on that hold for it alone.
        if not prefixes or prefixes.isdisjoint(machine_names(vm)):
            self.outcomes[key] = outcome
        return outcome

    def _evaluate(self, facts: WorkloadFacts) -> tuple[tuple[Rule, str], ...]:
        fired = self.fired.get(facts)
        if fired is None:
            fired = self.fired[facts] = tuple(evaluate(facts))
        return fired


def decide_all(vms: list[VM], estate: EstateFacts, extra: dict[str, list[Finding]]) -> dict[str, Decision]:
    """Return each VM's decision by VMId (`Decider.decide_all`)."""
    return Decider(estate).decide_all(vms, extra)


def _outcome(facts: WorkloadFacts, evaluate_rules, prefixes: frozenset[str] = frozenset()) -> _Outcome:
    """Return what the facts decide: the rules' findings (`evaluate_rules(facts)`), fit, target and image."""
    fired = evaluate_rules(facts)
    findings = tuple(Finding(r.id, r.severity, m, r.remediation) for r, m in fired)
    fit = _fit(fired, facts)
    confidence = _confidence(facts)
    if fit in (Fit.NOT_READY, Fit.UNKNOWN):
        return _Outcome(fit, Target.VM, None, None, confidence, findings, (), None, prefixes)
    isolation_rules = [r.id for r, _ in fired if r.isolation == Isolation.HYPERV]
    target = Target.HYPERV if isolation_rules else Target.PROCESS
    tail = ()
    if target == Target.PROCESS:
        tail = (Finding(
            "iso.process", "info",
            f"process isolation: {facts.image_os} image on {facts.estate.host_os} hosts, one tenant and zone per host",
            "None: process isolation is the denser choice.",
        ),)
    return _Outcome(fit, target, facts.image_os, _base_image(facts), confidence, findings, tail, facts, prefixes)


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
