"""Compose files, one per host of the capacity plan: a service per workload, with its isolation.

Ports are exposed on the container network only: nothing is published on the hosts (and so to the
internet) unless an operator adds it. Parameters come from an environment file per workload,
`secrets/<name>.env`, that the operator provides; their values never appear here. Not compose
`secrets:` with `file:`: those are single-file bind mounts at /run/secrets, and Windows containers
cannot bind-mount a single file, so the container fails to start (docker/docs#25541,
docker/compose#10817). The applications read parameters from the environment anyway
(ConfigurationBuilders), as they do under the Pulumi program.
"""

from __future__ import annotations

from ..contract.model import Workload
from ..contract.names import TLS_DIR, credential_spec_file, data_mount, data_volume_name, tenant_network


def compose_document(workloads: list[Workload], labels: dict[str, str], registry: str) -> dict:
    """Return the compose document for `workloads` (container targets only); `labels` by vmId."""
    by_id = {w.vm_id: w for w in workloads}
    networks: dict[str, dict] = {}
    volumes: dict[str, dict] = {}
    services: dict[str, dict] = {}
    for w in workloads:
        label = labels[w.vm_id]
        container = w.container
        network = tenant_network(w.tenant)
        service: dict = {
            "build": {"context": f"../containers/{label}"},
            "image": w.image_reference(registry, label),
            "isolation": w.target.value,
            # Scheduled work runs once per `up` (schedule it with `docker compose run --rm`), never forever.
            "restart": "no" if container.is_batch else "unless-stopped",
            "labels": {"io.hyperdock.vm-id": w.vm_id, "io.hyperdock.wave": str(w.wave),
                       "io.hyperdock.move-group": w.move_group or ""},
        }
        if container.ports:
            service["expose"] = [str(p) for p in container.ports]
        dependencies = sorted({labels[d.vm_id] for d in w.depends_on if d.vm_id in by_id})
        if dependencies:
            service["depends_on"] = dependencies
        attached = {network} | {tenant_network(by_id[d.vm_id].tenant) for d in w.depends_on if d.vm_id in by_id}
        service["networks"] = sorted(attached)
        for name in attached:
            networks[name] = {"driver": "nat"}
        if container.parameters:
            # NAME=value lines, NAME from Container.parameter_variables; see the module docstring for why not secrets:.
            service["env_file"] = [f"../secrets/{label}.env"]
        if container.data_drives:
            service["volumes"] = []
            for drive in container.data_drives:
                volume = data_volume_name(label, drive)
                volumes[volume] = {}
                service["volumes"].append(f"{volume}:{data_mount(drive)}")
        if container.https_bindings():
            # start.ps1 imports tls.pfx (and its password file) from this folder; a directory, not a
            # single file: Windows containers cannot bind-mount a single file.
            service.setdefault("volumes", []).append(
                {"type": "bind", "source": f"../secrets/{label}/tls", "target": TLS_DIR, "read_only": True})
        if container.gmsa:
            service["credential_spec"] = {"file": credential_spec_file(label)}
        services[label] = service
    document: dict = {"services": dict(sorted(services.items()))}
    if networks:
        document["networks"] = dict(sorted(networks.items()))
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
