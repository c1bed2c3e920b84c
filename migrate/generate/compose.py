"""Compose files, one per host of the capacity plan: a service per workload, with its isolation.

Ports are exposed on the container network only: nothing is published on the hosts (and so to the
internet) unless an operator adds it. Parameters are compose secrets read from files the operator
provides; their values never appear here.
"""

from __future__ import annotations

from .dockerfile import is_batch
from .gmsa import credential_spec_file
from .startup import TLS_DIR, https_bindings
from .names import dns_label, env_name


def compose_document(workloads: list[dict], labels: dict[str, str], registry: str) -> dict:
    """Return the compose document for `workloads` (container targets only); `labels` by vmId."""
    by_id = {w["vmId"]: w for w in workloads}
    networks: dict[str, dict] = {}
    secrets: dict[str, dict] = {}
    volumes: dict[str, dict] = {}
    services: dict[str, dict] = {}
    for w in workloads:
        label = labels[w["vmId"]]
        container = w["container"]
        network = _network(w)
        service: dict = {
            "build": {"context": f"../containers/{label}"},
            "image": f"{registry}/{label}:wave-{w['wave']}",
            "isolation": w["target"],
            # Scheduled work runs once per `up` (schedule it with `docker compose run --rm`), never forever.
            "restart": "no" if is_batch(container) else "unless-stopped",
            "labels": {"io.hyperdock.vm-id": w["vmId"], "io.hyperdock.wave": str(w["wave"]),
                       "io.hyperdock.move-group": w["moveGroup"] or ""},
        }
        if container["ports"]:
            service["expose"] = [str(p) for p in container["ports"]]
        dependencies = sorted({labels[d["vmId"]] for d in w["dependsOn"] if d["vmId"] in by_id})
        if dependencies:
            service["depends_on"] = dependencies
        attached = {network} | {_network(by_id[d["vmId"]]) for d in w["dependsOn"] if d["vmId"] in by_id}
        service["networks"] = sorted(attached)
        for name in attached:
            networks[name] = {"driver": "nat"}
        if container["parameters"]:
            names = []
            for parameter in container["parameters"]:
                secret = f"{label}-{dns_label(parameter['name'], 'param')}"
                secrets[secret] = {"file": f"../secrets/{label}/{env_name(parameter['name'])}"}
                names.append(secret)
            service["secrets"] = sorted(set(names))
        if container["dataDrives"]:
            service["volumes"] = []
            for drive in container["dataDrives"]:
                volume = f"{label}-data-{drive.lower()}"
                volumes[volume] = {}
                service["volumes"].append(f"{volume}:C:\\hyperdock\\{drive}")
        if https_bindings(container):
            # start.ps1 imports tls.pfx (and its password file) from this folder; a directory, not a
            # single file: Windows containers cannot bind-mount a single file.
            service.setdefault("volumes", []).append(
                {"type": "bind", "source": f"../secrets/{label}/tls", "target": TLS_DIR, "read_only": True})
        if container["gmsa"]:
            service["credential_spec"] = {"file": credential_spec_file(label)}
        services[label] = service
    document: dict = {"services": dict(sorted(services.items()))}
    if networks:
        document["networks"] = dict(sorted(networks.items()))
    if secrets:
        document["secrets"] = dict(sorted(secrets.items()))
    if volumes:
        document["volumes"] = dict(sorted(volumes.items()))
    return escape_interpolation(document)


def escape_interpolation(value):
    """Return `value` with every `$` in its strings doubled: Compose interpolates `${...}` anywhere,
    and no value hyperdock writes (a VMId, a path from the inventory) is meant as a variable."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, dict):
        return {k: escape_interpolation(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape_interpolation(v) for v in value]
    return value


def _network(workload: dict) -> str:
    """One network per tenant: tenants do not share a container network."""
    return f"tenant-{dns_label(workload['tags'].get('tenant', ''), 'default')}"
