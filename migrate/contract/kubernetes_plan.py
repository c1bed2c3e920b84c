"""Stack configuration → what to deploy on Kubernetes (AKS or a cluster of your own). Pure.

Reads the `plan` folder `hyperdock generate --platform aks` wrote: aks.yaml decides the node pools
and which workloads run on them; plan.json the workloads, retargeted to their pools' build the same
way `generate` does (contract/aks.py). Every object comes from contract/kubernetes.py, as generate's
k8s/*.yaml do, pinned to its pool, given probes, and moved into its tenant's namespace. It lives in
the contract, not with the components, because policy check reads the same plan for its secrets. Hyper-V isolated workloads
are never here: aks.yaml lists them under `stayOnHosts` and hosts.yaml places them.
"""

from __future__ import annotations

import base64
import binascii
import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from migrate.core.errors import StackConfigError

from .aks import aks_placement, plan_for_aks
from .kubernetes import CLUSTER_SCOPED, manifests, pin_to_pool, with_probes
from .model import Isolation, Target
from .names import tenant_namespace
from .plan_io import read_capacity_document, read_stack_plan
from .stack_config import StackConfig


@dataclass(slots=True)
class KubeWorkload:
    label: str
    namespace: str
    pool: str
    wave: int
    isolation: Isolation
    objects: list[dict]
    secret_keys: dict[str, list[str]]       # Secret object name → keys whose values come from stack secrets
    binary_keys: set[str] = field(default_factory=set)     # keys of Secret `data`: base64 values


@dataclass(slots=True)
class KubernetesPlan:
    pools: list[dict] = field(default_factory=list)             # aks.yaml pools
    max_pods: int = 30
    node_size: str = ""
    system_pool: dict = field(default_factory=dict)
    namespaces: list[str] = field(default_factory=list)
    workloads: list[KubeWorkload] = field(default_factory=list)
    gmsa: bool = False
    stay_on_hosts: list[dict] = field(default_factory=list)


def plan_kubernetes(config: StackConfig, project_dir: Path = Path(".")) -> KubernetesPlan:
    """Return the pools, namespaces and objects to deploy; raise StackConfigError naming the key."""
    if not config["plan"]:
        raise StackConfigError("hyperdock:plan: platform aks/kubernetes deploys a plan; run `hyperdock generate --platform aks`")
    registry = config["registry"].rstrip("/")
    if not registry:
        raise StackConfigError("hyperdock:registry: name the registry the workload images are pushed to")
    folder = project_dir / config["plan"]
    plan = read_stack_plan(folder)
    aks = read_capacity_document(folder, "aks.yaml", "aks", "hyperdock generate --platform aks")
    waves = set(config["waves"]) or None   # empty: every wave
    labels = plan.labels
    retargeted = plan_for_aks(plan, labels, aks_placement(plan, labels))
    by_label = {labels[w.vm_id]: w for w in retargeted.workloads}
    result = KubernetesPlan(pools=aks["pools"], max_pods=aks["maxPods"], node_size=aks["nodeSize"]["name"],
                            system_pool=aks["systemPool"],
                            stay_on_hosts=aks["stayOnHosts"])
    namespaces = set()
    for pool in aks["pools"]:
        namespace = tenant_namespace(pool["tenant"])
        namespaces.add(namespace)
        for label in pool["workloads"]:
            w = by_label.get(label)
            if w is None or w.target is not Target.PROCESS:
                raise StackConfigError(f"hyperdock:plan: aks.yaml places {label!r}, which plan.json does not run process-isolated")
            if w.image_os != pool["imageOS"]:
                raise StackConfigError(f"hyperdock:plan: {label} is {w.image_os} but pool {pool['name']} runs {pool['imageOS']}")
            result.gmsa |= bool(w.container.gmsa)
            if waves is not None and w.wave not in waves:
                continue
            objects = in_namespace(with_probes(pin_to_pool(manifests(w, label, registry), pool["name"])), namespace)
            secrets = {o["metadata"]["name"]: sorted({*(o.get("stringData") or {}), *(o.get("data") or {})})
                       for o in objects if o["kind"] == "Secret"}
            binary = {k for o in objects if o["kind"] == "Secret" for k in (o.get("data") or {})}
            result.workloads.append(KubeWorkload(label, namespace, pool["name"], w.wave, w.isolation, objects, secrets, binary))
    result.namespaces = sorted(namespaces)
    result.workloads.sort(key=lambda k: (k.wave, k.label))
    return result


def in_namespace(objects: list[dict], namespace: str) -> list[dict]:
    """Return copies of `objects` with every namespaced object, and RoleBinding subject, in `namespace`."""
    moved = []
    for obj in objects:
        obj = copy.deepcopy(obj)
        if obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = namespace
        for subject in obj.get("subjects", []):
            if subject.get("kind") == "ServiceAccount":
                subject["namespace"] = namespace
        moved.append(obj)
    return moved


def missing_secrets(plan: KubernetesPlan, secrets: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Return '<workload>: KEY' for every Secret value the stack's workloadSecrets do not give, or give
    unusable (a `data` value, such as a certificate, must be base64)."""
    problems = []
    for w in plan.workloads:
        for keys in w.secret_keys.values():
            for key in keys:
                value = secrets.get(w.label, {}).get(key)
                if not isinstance(value, str):
                    problems.append(f"{w.label}: {key}")
                elif key in w.binary_keys and not _is_base64(value):
                    problems.append(f"{w.label}: {key} (expected base64)")
    return problems


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return bool(value)
