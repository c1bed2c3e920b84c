"""KubernetesWorkloads: hyperdock's generated Kubernetes objects, deployed through pulumi-kubernetes.

One provider built from the cluster's kubeconfig (a secret: AksWindowsCluster's, or your own
cluster's); a namespace per tenant whose NetworkPolicy admits traffic only from the same namespace;
every object of kubernetes_plan.py registered as its typed pulumi-kubernetes resource; Secret values
from the stack's secrets, never from files (the provider also keeps Secret data secret in state).
"""

from __future__ import annotations

import re
from typing import Mapping, Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes import _utilities as k8s_utilities

from migrate.contract.kubernetes_plan import KubeWorkload

KINDS = {
    "Namespace": k8s.core.v1.Namespace, "Secret": k8s.core.v1.Secret, "Service": k8s.core.v1.Service,
    "ServiceAccount": k8s.core.v1.ServiceAccount, "PersistentVolumeClaim": k8s.core.v1.PersistentVolumeClaim,
    "Deployment": k8s.apps.v1.Deployment, "CronJob": k8s.batch.v1.CronJob, "Job": k8s.batch.v1.Job,
    "NetworkPolicy": k8s.networking.v1.NetworkPolicy,
    "ClusterRole": k8s.rbac.v1.ClusterRole, "RoleBinding": k8s.rbac.v1.RoleBinding,
}


def namespace_objects(namespace: str) -> list[dict]:
    """Return a tenant's Namespace and the NetworkPolicy that admits ingress only from its own pods."""
    return [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": namespace, "labels": {"app.kubernetes.io/part-of": "hyperdock"}}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "tenant-isolation", "namespace": namespace},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]}},
    ]


class GMSACredentialSpec(pulumi.CustomResource):
    """windows.k8s.io/v1 GMSACredentialSpec: a CRD whose content is the top-level `credspec`, which
    apiextensions.CustomResource (spec only) cannot carry."""

    def __init__(self, name: str, metadata: dict, credspec: dict, opts: Optional[pulumi.ResourceOptions] = None):
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(version=k8s_utilities.get_version()))
        super().__init__("kubernetes:windows.k8s.io/v1:GMSACredentialSpec", name,
                         {"apiVersion": "windows.k8s.io/v1", "kind": "GMSACredentialSpec",
                          "metadata": metadata, "credspec": credspec}, opts)


class KubernetesWorkloadsArgs(TypedDict, total=False):
    kubeconfig: pulumi.Input[str]
    """Kubeconfig of the cluster, as a secret."""
    namespaces: Sequence[str]
    """Tenant namespaces to create, each with its isolation NetworkPolicy."""
    workloads: Sequence[KubeWorkload]
    """The workloads of the selected waves, from kubernetes_plan.plan_kubernetes."""
    secrets: Mapping[str, Mapping[str, pulumi.Input[str]]]
    """Values of the workloads' Secrets: {workload: {key: secret value}}."""


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


class KubernetesWorkloads(pulumi.ComponentResource):
    provider: k8s.Provider
    """The Kubernetes provider every object is created through."""

    def __init__(self, name: str, args: KubernetesWorkloadsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        secrets = args.get("secrets", {})
        for w in args.get("workloads", []):
            missing = [key for keys in w.secret_keys.values() for key in keys if key not in secrets.get(w.label, {})]
            if missing:
                raise ValueError(f"secrets: {w.label} needs {', '.join(missing)}")
        super().__init__("hyperdock:index:KubernetesWorkloads", name, {}, opts)
        self.provider = k8s.Provider(f"{name}-provider", kubeconfig=pulumi.Output.secret(args["kubeconfig"]),
                                     opts=pulumi.ResourceOptions(parent=self))
        on_cluster = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.namespaces = {}
        for namespace in args.get("namespaces", []):
            ns, policy = namespace_objects(namespace)
            self.namespaces[namespace] = self._register(name, ns, {}, on_cluster)
            self._register(name, policy, {}, pulumi.ResourceOptions.merge(
                on_cluster, pulumi.ResourceOptions(depends_on=[self.namespaces[namespace]])))
        self.resources: dict[str, list[pulumi.CustomResource]] = {}
        for w in args.get("workloads", []):
            depends = [self.namespaces[w.namespace]] if w.namespace in self.namespaces else []
            placed = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=depends))
            self.resources[w.label] = [self._register(name, obj, secrets.get(w.label, {}), placed) for obj in w.objects]
        self.register_outputs({"namespaces": sorted(self.namespaces),
                               "workloads": sorted(self.resources)})

    def _register(self, name: str, obj: dict, secrets: Mapping[str, pulumi.Input[str]],
                  opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
        metadata = obj["metadata"]
        resource_name = f"{name}-{metadata.get('namespace', 'cluster')}-{metadata['name']}"
        if obj["kind"] == "GMSACredentialSpec":
            return GMSACredentialSpec(resource_name, metadata, obj["credspec"], opts=opts)
        fields = {_snake(k): v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        if obj["kind"] == "Secret":
            # Values from the stack's secrets; the generated object only names the keys.
            for key in ("string_data", "data"):
                if key in fields:
                    fields[key] = {k: pulumi.Output.secret(secrets[k]) for k in fields[key]}
        return KINDS[obj["kind"]](resource_name, **fields, opts=opts)
