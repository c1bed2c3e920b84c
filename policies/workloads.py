"""Policies on container workloads: isolation that fits the host, images from allowed registries.

Facts: migrate/core/windows.py (R1, R4: process isolation needs a fitting build) and Microsoft Learn
"Container security" (the kernel is no boundary between hostile tenants: process isolation only on
hosts of one tenant and zone).
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel, PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy, Severity,
    StackValidationArgs, StackValidationPolicy,
)

from migrate.contract.model import Isolation
from migrate.core.windows import OS_BUILDS, process_isolation_possible

from .common import WORKLOAD, is_host, plain

DEFAULT_REGISTRIES = ["mcr.microsoft.com"]


def process_isolation_problems(hosts: dict[str, dict], workloads: list[dict]) -> list[tuple[str, str]]:
    """Return (workload, message) for each process-isolated workload that must not be.

    `hosts`: name → {"hostOs"}; `workloads`: {"name", "host", "imageOs", "isolation", "tenant", "zone"}.
    """
    problems = []
    by_host: dict[str, list[dict]] = {}
    for w in workloads:
        by_host.setdefault(w.get("host", ""), []).append(w)
    for w in workloads:
        if w.get("isolation") != Isolation.PROCESS:
            continue
        host = hosts.get(w.get("host", ""))
        host_os, image_os = (host or {}).get("hostOs"), w.get("imageOs")
        if host_os in OS_BUILDS and image_os in OS_BUILDS and not process_isolation_possible(OS_BUILDS[host_os], OS_BUILDS[image_os]):
            problems.append((w["name"], f"its {image_os} image cannot run process-isolated on a {host_os} host"))
        neighbours = {(n.get("tenant", ""), n.get("zone", "")) for n in by_host.get(w.get("host", ""), [])}
        if len(neighbours) > 1:
            others = sorted(f"{t or '-'}/{z or '-'}" for t, z in neighbours if (t, z) != (w.get("tenant", ""), w.get("zone", "")))
            problems.append((w["name"], f"it shares host {w.get('host')} with other tenants or zones ({', '.join(others)}); "
                                        "the kernel is no boundary between them"))
    return problems


def _process_isolation(args: StackValidationArgs, report) -> None:
    hosts = {r.name: plain(r.props) for r in args.resources if is_host(r.resource_type, plain(r.props))}
    workloads = [dict(plain(r.props), name=r.name, urn=r.urn) for r in args.resources if r.resource_type == WORKLOAD]
    urns = {w["name"]: w["urn"] for w in workloads}
    for name, message in process_isolation_problems(hosts, workloads):
        report(f"{name} runs with process isolation, but {message}", urns[name])


process_isolation = StackValidationPolicy(
    name="hyperdock-workload-process-isolation",
    description="Process isolation only where the image build fits the host build and the host serves one tenant "
                "and trust zone; Hyper-V isolation otherwise.",
    validate=_process_isolation,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Run the workload with Hyper-V isolation, or place it on hosts of its own tenant and zone "
                      "with a matching OS (hyperdock assess and generate do both).",
)


def registry_allowed(image: str, allowed: list[str]) -> bool:
    """True when `image` comes from one of `allowed` (registry hosts or registry/path prefixes)."""
    return any(image == entry or image.startswith(entry.rstrip("/") + "/") for entry in allowed)


# Kubernetes objects that run pods (pulumi-kubernetes types): where their pod spec sits.
POD_TEMPLATES = {"kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
                 "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
                 "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec")}


def _images(args: ResourceValidationArgs) -> list[str]:
    """Return the images a ContainerWorkload or a pod-running Kubernetes object uses."""
    props = plain(args.props)
    if args.resource_type == WORKLOAD:
        return [str(props.get("image") or "")]
    pod = props
    for key in POD_TEMPLATES.get(args.resource_type, ("-",)):
        pod = pod.get(key) if isinstance(pod, dict) else None
    if not isinstance(pod, dict):
        return []
    return [str(c.get("image") or "") for c in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]]


def _allowed_registries(args: ResourceValidationArgs, report) -> None:
    allowed = DEFAULT_REGISTRIES + list(args.get_config().get("allowedRegistries", []))
    for image in _images(args):
        if image and not registry_allowed(image, allowed):
            report(f"image {image} is not from an allowed registry ({', '.join(allowed)})")


allowed_registries = ResourceValidationPolicy(
    name="hyperdock-workload-allowed-registries",
    description="Container images come only from mcr.microsoft.com and the registries the config allows.",
    validate=_allowed_registries,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Push the image to an approved registry, or add the registry to allowedRegistries.",
    config_schema=PolicyConfigSchema(properties={
        "allowedRegistries": {"type": "array", "items": {"type": "string"}, "default": [],
                              "description": "Registries (host or host/path) allowed besides mcr.microsoft.com."}}),
)

POLICIES = [process_isolation, allowed_registries]
