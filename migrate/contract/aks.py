"""Which container workloads of a plan run on AKS, on which image OS, and which stay on hyperdock's hosts.

One rule for `hyperdock generate --platform aks` (aks.yaml, the retargeted Dockerfiles and
manifests) and the Pulumi program (contract/kubernetes_plan.py), so both place a workload the
same way. The facts behind it are in generate/aks.py's docstring (what AKS can run, and why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .model import Finding, Plan, Target, Workload

# Image tag family → AKS osSKU of the pool that runs it. Windows2025 joins when the SDK's OSSKU
# enum offers it (tests/test_aks_plan.py checks this table against the installed SDK).
AKS_OS_SKUS = {"ltsc2022": "Windows2022"}
# Images of these families are rebuilt on the target family's tag to run on AKS.
RETARGET = {"ltsc2025": "ltsc2022"}


@dataclass(slots=True)
class AksPlacement:
    """Where each container workload goes when the platform is AKS."""

    on_aks: dict[str, str] = field(default_factory=dict)        # label → image OS on the node pool
    on_hosts: dict[str, str] = field(default_factory=dict)      # label → why it stays on hyperdock hosts


def placement(workload: Workload) -> tuple[str | None, str | None]:
    """Return (image OS on AKS, None) for a workload AKS can run, or (None, why it stays on hosts)."""
    if workload.target is Target.HYPERV:
        return None, "Hyper-V isolation: AKS runs process-isolated containers only"
    image_os = RETARGET.get(workload.image_os, workload.image_os)
    if image_os not in AKS_OS_SKUS:
        return None, (f"{workload.image_os} image: AKS has no node pool for it "
                      "(Windows Server 2019 pools retired 2026-03-01); rebuild it on ltsc2022 to move it")
    return image_os, None


def retarget_image(image: str, from_os: str, to_os: str) -> str:
    """Return `image` with its tag's OS family `from_os` replaced by `to_os` (e.g. …-ltsc2025 → …-ltsc2022)."""
    name, _, tag = image.rpartition(":")
    new_tag = re.sub(rf"(^|-){re.escape(from_os)}\Z", rf"\g<1>{to_os}", tag)
    if not name or new_tag == tag:
        raise ValueError(f"{image}: its tag does not end in {from_os}")
    return f"{name}:{new_tag}"


def retargeted(workload: Workload, image_os: str) -> Workload:
    """Return a copy of `workload` built for `image_os` (base image and imageOS), with a finding saying so."""
    if workload.image_os == image_os:
        return workload
    return replace(
        workload, base_image=retarget_image(workload.base_image, workload.image_os, image_os), image_os=image_os,
        findings=(*workload.findings, Finding(
            "aks.retarget", "info",
            f"retargeted from {workload.image_os} to {image_os}: AKS runs {AKS_OS_SKUS[image_os]} node pools",
            f"Test the application on {image_os}; move it back to {workload.image_os} when AKS offers that build.")))


def aks_placement(plan: Plan, labels: dict[str, str]) -> AksPlacement:
    """Return which container workloads of `plan` run on AKS (and on which image OS) and which stay on hosts."""
    result = AksPlacement()
    for w in plan.containers:
        image_os, reason = placement(w)
        if image_os:
            result.on_aks[labels[w.vm_id]] = image_os
        else:
            result.on_hosts[labels[w.vm_id]] = reason
    return result


def plan_for_aks(plan: Plan, labels: dict[str, str], where: AksPlacement) -> Plan:
    """Return `plan` with the workloads that go to AKS retargeted to their node pools' build."""
    return plan.with_workloads(retargeted(w, where.on_aks[labels[w.vm_id]]) if labels[w.vm_id] in where.on_aks else w
                               for w in plan.workloads)
