"""The Pulumi program's Kubernetes part: `platform: aks` (AksWindowsCluster + the workloads) or
`platform: kubernetes` (your own cluster, from the `kubeconfig` secret). Called by __main__.py:
`kubernetes_settings` before any resource exists, `deploy_kubernetes` after the hosts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import pulumi

from migrate.contract.kubernetes_plan import KubernetesPlan, missing_secrets, plan_kubernetes
from migrate.contract.stack_config import StackConfig, aks_private_cluster
from migrate.core.errors import AksConfigError, StackConfigError

if TYPE_CHECKING:
    from .kubernetes_workloads import KubernetesWorkloads


@dataclass(slots=True)
class KubernetesStack:
    platform: str
    plan: KubernetesPlan
    cluster_args: dict


def kubernetes_settings(config: StackConfig, project_dir: Path,
                        secrets: Mapping[str, Mapping[str, str]]) -> KubernetesStack | None:
    """Validate the Kubernetes part of the stack; return it, or None for `platform: hosts`."""
    platform = config["platform"]
    if platform == "hosts":
        return None
    plan = plan_kubernetes(config, project_dir)
    missing = missing_secrets(plan, secrets)
    if missing:
        raise StackConfigError(f"hyperdock:workloadSecrets: missing {'; '.join(missing)}")
    cluster_args: dict = {}
    if platform == "aks":
        cluster_args = {
            "location": config["location"],
            "kubernetes_version": config["aksKubernetesVersion"] or None,
            "system_vm_size": plan.system_pool["vmSize"], "system_node_count": plan.system_pool["count"],
            "max_pods": plan.max_pods, "gmsa": plan.gmsa,
            "windows_pools": [{"name": p["name"], "os_sku": p["osSku"], "vm_size": plan.node_size,
                               "node_count": p["nodeCount"], "min_count": p["minCount"], "max_count": p["maxCount"],
                               "tenant": p["tenant"], "zone": p["zone"]} for p in plan.pools],
            "private_cluster": aks_private_cluster(config),
            "authorized_ip_ranges": config["aksAuthorizedIpRanges"],
            "admin_group_object_ids": config["aksAdminGroupObjectIds"],
            "gmsa_dns_server": config["aksGmsaDnsServer"] or None,
            "gmsa_root_domain_name": config["aksGmsaRootDomainName"] or None,
        }
        if config["aksRegistryId"]:
            cluster_args["acr_id"] = config["aksRegistryId"]
        cluster_args = {k: v for k, v in cluster_args.items() if v is not None}
        from .aks_cluster import aks_cluster_settings  # lazily, as deploy_kubernetes's imports
        try:
            aks_cluster_settings(cluster_args)
        except AksConfigError as exc:
            raise StackConfigError(f"hyperdock:aks: {exc}") from None
    elif config["kubeconfig"] is None:
        raise StackConfigError("hyperdock:kubeconfig: platform kubernetes needs the cluster's kubeconfig (set it with --secret)")
    return KubernetesStack(platform, plan, cluster_args)


def deploy_kubernetes(stack: KubernetesStack, config: StackConfig,
                      secrets: Mapping[str, Mapping[str, str]]) -> KubernetesWorkloads:
    """Register the cluster (for aks) and the workloads of the selected waves."""
    # Imported here: pulumi_kubernetes takes 0.6 s to import, and the AKS component's
    # azure-native containerservice module 0.3 s, which every program without Kubernetes (the
    # Azure and on-prem hosts) would pay.
    from .aks_cluster import AksWindowsCluster
    from .kubernetes_workloads import KubernetesWorkloads

    depends: list[pulumi.Resource] = []
    if stack.platform == "aks":
        cluster = AksWindowsCluster("hyperdock-aks", stack.cluster_args)
        kubeconfig = cluster.kubeconfig
        depends = list(cluster.pools.values())
        pulumi.export("aksCluster", cluster.cluster_name)
    else:
        kubeconfig = pulumi.Output.secret(config["kubeconfig"])
    workloads = KubernetesWorkloads("hyperdock-k8s", {
        "kubeconfig": kubeconfig, "namespaces": stack.plan.namespaces, "workloads": stack.plan.workloads,
        "secrets": {w.label: {k: pulumi.Output.secret(v) for k, v in secrets.get(w.label, {}).items()}
                    for w in stack.plan.workloads},
    }, opts=pulumi.ResourceOptions(depends_on=depends))
    pulumi.export("kubernetesWorkloads", [w.label for w in stack.plan.workloads])
    pulumi.export("stayOnHosts", [s["workload"] for s in stack.plan.stay_on_hosts])
    return workloads
