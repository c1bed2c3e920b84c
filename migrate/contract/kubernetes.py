"""Kubernetes objects of a planned workload: a Deployment and Service, pinned to Windows nodes of its build.

Built here once for both users of them: `hyperdock generate` writes them to k8s/<label>.yaml, and
the Pulumi program (contract/kubernetes_plan.py) deploys the same objects on AKS or a cluster of
your own, pinned to their node pools (`pin_to_pool`) and given probes (`with_probes`).

Kubernetes and AKS support process isolation only (kubernetes.io "Windows containers in Kubernetes";
Azure/AKS#1792). A `hyperv`
workload gets manifests only with the experimental option, which adds RuntimeClass
`runhcs-wcow-hypervisor` (containerd >= 1.7, exercised only by an opt-in upstream e2e test).
"""

from __future__ import annotations

from migrate.core.windows import OS_BUILDS

from .layout import task_program
from .model import Container, Target, Workload
from .names import TLS_DIR, data_mount, data_volume_name, gmsa_account, parameters_secret, tls_secret
from .schedule import batch_objects

HYPERV_RUNTIME_CLASS = "runhcs-wcow-hypervisor"
NAMESPACE = "hyperdock"
CLUSTER_SCOPED = {"ClusterRole", "RuntimeClass", "GMSACredentialSpec", "Namespace"}
WINDOWS_TOLERATION = {"key": "os", "operator": "Equal", "value": "windows", "effect": "NoSchedule"}


def namespace() -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}


def runtime_class() -> dict:
    return {
        "apiVersion": "node.k8s.io/v1",
        "kind": "RuntimeClass",
        "metadata": {"name": HYPERV_RUNTIME_CLASS},
        "handler": HYPERV_RUNTIME_CLASS,
        "scheduling": {"nodeSelector": {"kubernetes.io/os": "windows", "kubernetes.io/arch": "amd64"},
                       "tolerations": [WINDOWS_TOLERATION]},
    }


def manifests(workload: Workload, label: str, registry: str) -> list[dict]:
    """Return the Kubernetes objects for one container workload, in apply order."""
    container = workload.container
    selector = {"app.kubernetes.io/name": label}
    labels = {**selector, "app.kubernetes.io/part-of": "hyperdock", "hyperdock.io/wave": str(workload.wave)}
    objects: list[dict] = []
    env = []
    if container.parameters:
        keys = container.parameter_variables()
        objects.append({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": parameters_secret(label), "labels": labels,
                         "annotations": {"hyperdock.io/note": "values are not in the inventory: set them before applying"}},
            "type": "Opaque",
            "stringData": {key: "" for key in keys},
        })
        env = [{"name": key, "valueFrom": {"secretKeyRef": {"name": parameters_secret(label), "key": key}}} for key in keys]
    pod: dict = {
        "os": {"name": "windows"},
        "nodeSelector": {"kubernetes.io/os": "windows",
                         "node.kubernetes.io/windows-build": f"10.0.{OS_BUILDS[workload.image_os]}"},
        "tolerations": [WINDOWS_TOLERATION],
        "containers": [{
            "name": label,
            "image": workload.image_reference(registry, label),
            "ports": [{"containerPort": p, "protocol": "TCP"} for p in container.ports],
            "resources": _resources(workload),
        }],
    }
    if env:
        pod["containers"][0]["env"] = env
    if workload.target is Target.HYPERV:
        pod["runtimeClassName"] = HYPERV_RUNTIME_CLASS
    if container.https_bindings():
        objects.append(_tls_secret(label, labels))
        pod.setdefault("volumes", []).append({"name": "tls", "secret": {"secretName": tls_secret(label)}})
        pod["containers"][0].setdefault("volumeMounts", []).append({"name": "tls", "mountPath": TLS_DIR, "readOnly": True})
    if container.gmsa:
        objects.append(gmsa_credential_spec_resource(label, container))
        objects.extend(_gmsa_rbac(label, labels))
        pod["serviceAccountName"] = label
        pod["securityContext"] = {"windowsOptions": {"gmsaCredentialSpecName": label}}
    if container.data_drives:
        pod.setdefault("volumes", [])
        pod["containers"][0].setdefault("volumeMounts", [])
        for drive in container.data_drives:
            claim = data_volume_name(label, drive)
            objects.append({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim, "labels": labels,
                             "annotations": {"hyperdock.io/note": f"drive {drive}: of the VM; size it from the VM's disk"}},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
            })
            pod["volumes"].append({"name": f"data-{drive.lower()}", "persistentVolumeClaim": {"claimName": claim}})
            pod["containers"][0]["volumeMounts"].append({"name": f"data-{drive.lower()}", "mountPath": data_mount(drive)})
    if container.is_batch:
        # Scheduled work runs as CronJobs/Jobs (schedule.py), never as a Deployment restarting it.
        objects.extend(batch_objects(workload, label, labels, pod, [task_program(t) for t in container.scheduled_tasks]))
        return _namespaced(objects)
    objects.append({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": label, "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": selector},
                 "template": {"metadata": {"labels": labels}, "spec": pod}},
    })
    if container.ports:
        objects.append({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": label, "labels": labels},
            "spec": {"type": "ClusterIP", "selector": selector,
                     "ports": [{"name": f"tcp-{p}", "port": p, "targetPort": p, "protocol": "TCP"} for p in container.ports]},
        })
    return _namespaced(objects)


def _namespaced(objects: list[dict]) -> list[dict]:
    """Return `objects` with the namespace set on every namespaced one (after its name)."""
    for obj in objects:
        if obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"] = {"name": obj["metadata"]["name"], "namespace": NAMESPACE,
                               **{k: v for k, v in obj["metadata"].items() if k != "name"}}
    return objects


def _resources(workload: Workload) -> dict:
    resources = workload.resources
    memory = resources.memory_used_mib
    requests = {}
    if resources.cpus:
        requests["cpu"] = str(resources.cpus)
    if memory:
        requests["memory"] = f"{memory}Mi"
    return {"requests": requests, "limits": dict(requests)} if requests else {}


def _tls_secret(label: str, labels: dict) -> dict:
    """The HTTPS certificate start.ps1 imports at start: mounted as a folder, never in the image."""
    return {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": tls_secret(label), "labels": labels,
                     "annotations": {"hyperdock.io/note": "put the site's PFX (base64) in tls.pfx and its password in password"}},
        "type": "Opaque",
        "data": {"tls.pfx": ""},
        "stringData": {"password": ""},
    }


def gmsa_credential_spec_resource(label: str, container: Container) -> dict:
    """Return the Kubernetes GMSACredentialSpec for a workload (windows.k8s.io/v1).

    Sid and Guid come from `New-CredentialSpec` output; they are marked, never invented.
    """
    account = gmsa_account(label)
    domain = container.domain or "example.local"
    netbios = container.netbios_domain or domain.split(".")[0].upper()
    return {
        "apiVersion": "windows.k8s.io/v1",
        "kind": "GMSACredentialSpec",
        "metadata": {"name": label},
        "credspec": {
            "ActiveDirectoryConfig": {"GroupManagedServiceAccounts": [
                {"Name": account, "Scope": domain}, {"Name": account, "Scope": netbios}]},
            "CmsPlugins": ["ActiveDirectory"],
            "DomainJoinConfig": {
                "DnsName": domain, "DnsTreeName": domain, "MachineAccountName": account, "NetBiosName": netbios,
                "Guid": "REPLACE-with-Guid-from-New-CredentialSpec", "Sid": "REPLACE-with-Sid-from-New-CredentialSpec",
            },
        },
    }


def _gmsa_rbac(label: str, labels: dict) -> list[dict]:
    """The gMSA admission webhook lets a pod use a credential spec only through this `use` grant."""
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": label, "labels": labels}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": f"{label}-gmsa-user", "labels": labels},
         "rules": [{"apiGroups": ["windows.k8s.io"], "resources": ["gmsacredentialspecs"], "verbs": ["use"],
                    "resourceNames": [label]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": f"{label}-gmsa-user", "labels": labels},
         "subjects": [{"kind": "ServiceAccount", "name": label, "namespace": NAMESPACE}],
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"{label}-gmsa-user"}},
    ]


POOL_LABEL = "hyperdock.io/pool"


def pool_of(aks: dict) -> dict[str, str]:
    """Return {workload label: pool name} from an aks.yaml document."""
    return {label: pool["name"] for pool in aks["pools"] for label in pool["workloads"]}


def pool_taint(pool: str) -> str:
    """Return the taint that keeps other tenants' pods off `pool` (AKS `nodeTaints` syntax)."""
    return f"{POOL_LABEL}={pool}:NoSchedule"


def pin_to_pool(objects: list[dict], pool: str) -> list[dict]:
    """Add the pool's node selector and toleration to every pod template in `objects` (in place); return them."""
    for obj in objects:
        template = (obj.get("spec") or {}).get("template")
        if obj["kind"] == "CronJob":
            template = obj["spec"]["jobTemplate"]["spec"]["template"]
        if template:
            spec = template["spec"]
            spec["nodeSelector"] = {**spec.get("nodeSelector", {}), POOL_LABEL: pool}
            spec["tolerations"] = [*spec.get("tolerations", []),
                                   {"key": POOL_LABEL, "operator": "Equal", "value": pool, "effect": "NoSchedule"}]
    return objects


def with_probes(objects: list[dict]) -> list[dict]:
    """Give each Deployment's container TCP readiness and liveness probes on its first port (in place); return them.

    A TCP probe checks only that the port listens: the inventory knows ports, not health URLs, and an
    httpGet probe counts only 200-399 as healthy, so a Web API's 404 at `/` or a site's 403 would
    restart a working pod. Same rule as the images' HEALTHCHECK: the app answers, whatever it says.
    Windows containers start slowly (Server Core images, IIS warm-up), hence the long initial delay.
    """
    for obj in objects:
        if obj["kind"] != "Deployment":
            continue
        container = obj["spec"]["template"]["spec"]["containers"][0]
        ports = container.get("ports") or []
        if ports:
            check = {"tcpSocket": {"port": ports[0]["containerPort"]}}
            container["readinessProbe"] = {**check, "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3}
            container["livenessProbe"] = {**check, "initialDelaySeconds": 120, "periodSeconds": 20, "failureThreshold": 3}
    return objects
