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

from functools import lru_cache

from ..contract.model import Workload
from ..contract.names import TLS_DIR, credential_spec_file, data_mount, data_volume_name, tenant_network


def compose_document(workloads: list[Workload], labels: dict[str, str], registry: str) -> dict:
    """Return the compose document for `workloads` (container targets only); `labels` by vmId.

    Every string value goes through `_escaped` as it is set; keys are names hyperdock derives and
    stay as they are.
    """
    by_id = {w.vm_id: w for w in workloads}
    networks: set[str] = set()
    volumes: set[str] = set()
    services: dict[str, dict] = {}
    for w in workloads:
        label = labels[w.vm_id]
        container = w.container
        service: dict = {
            "build": {"context": _escaped(f"../containers/{label}")},
            "image": _escaped(w.image_reference(registry, label)),
            "isolation": _escaped(w.target.value),
            # Scheduled work runs once per `up` (schedule it with `docker compose run --rm`), never forever.
            "restart": "no" if container.is_batch else "unless-stopped",
            "labels": {"io.hyperdock.vm-id": _escaped(w.vm_id), "io.hyperdock.wave": str(w.wave),
                       "io.hyperdock.move-group": _escaped(w.move_group or "")},
        }
        if container.ports:
            service["expose"] = [str(p) for p in container.ports]
        peers = [by_id[d.vm_id] for d in w.depends_on if d.vm_id in by_id]
        if peers:
            service["depends_on"] = [_escaped(name) for name in sorted({labels[p.vm_id] for p in peers})]
        attached = {_network(p.tenant) for p in (w, *peers)}
        service["networks"] = [_escaped(name) for name in sorted(attached)]
        networks |= attached
        if container.parameters:
            # NAME=value lines, NAME from Container.parameter_variables; see the module docstring for why not secrets:.
            service["env_file"] = [_escaped(f"../secrets/{label}.env")]
        if container.data_drives:
            service["volumes"] = []
            for drive in container.data_drives:
                volume = data_volume_name(label, drive)
                volumes.add(volume)
                service["volumes"].append(_escaped(f"{volume}:{data_mount(drive)}"))
        if container.https_bindings():
            # start.ps1 imports tls.pfx (and its password file) from this folder; a directory, not a
            # single file: Windows containers cannot bind-mount a single file.
            service.setdefault("volumes", []).append(
                {"type": "bind", "source": _escaped(f"../secrets/{label}/tls"), "target": _escaped(TLS_DIR), "read_only": True})
        if container.gmsa:
            service["credential_spec"] = {"file": _escaped(credential_spec_file(label))}
        services[label] = service
    document: dict = {"services": dict(sorted(services.items()))}
    if networks:
        document["networks"] = {name: {"driver": "nat"} for name in sorted(networks)}
    if volumes:
        document["volumes"] = {name: {} for name in sorted(volumes)}
    return document


def _escaped(text: str) -> str:
    """Return `text` with every `$` doubled: Compose interpolates `${...}` anywhere, and no value
    hyperdock writes (a VMId, a path from the inventory) is meant as a variable."""
    return text.replace("$", "$$")


# A tenant's network, worked out once per tenant rather than once per workload and peer.
_network = lru_cache(maxsize=4096)(tenant_network)
