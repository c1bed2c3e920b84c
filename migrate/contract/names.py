"""Every name derived from a plan: containers, images, services, volumes, files, Kubernetes objects.

Names are made from hostile inventory names.

A name is a DNS-1123 label (lower-case a-z, 0-9 and '-', starting and ending alphanumeric, at most
63 characters), which also satisfies compose's service-name pattern. Names stay unique after
sanitising: a clash gets a short hash of the VM id.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from migrate.core.azure import WINDOWS_POOL_NAME

# The registry of image references when none is given (why .invalid: GenerateOptions.registry).
DEFAULT_REGISTRY = "registry.invalid/hyperdock"
MAX_LABEL = 63
_INVALID = re.compile(r"[^a-z0-9-]+")
_DASHES = re.compile(r"-{2,}")


def dns_label(text: str, fallback: str = "workload") -> str:
    """Return `text` as a DNS-1123 label: accents folded, anything else turned into dashes."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    label = _DASHES.sub("-", _INVALID.sub("-", folded)).strip("-")[:MAX_LABEL].strip("-")
    return label or fallback


def unique_labels(items: list[tuple[str, str]]) -> dict[str, str]:
    """Return {key: label} for (key, display name) pairs; labels are unique and stable.

    A label that several keys would share gets `-<6 hex of sha256(key)>` on each of them, so
    adding a VM never renames another one that did not clash. A suffixed label can meet another
    VM's own name (`web01`, `WEB01` and a VM named `web01-<hash>`): uniqueness is checked again
    after every round, and the labels still clashing get a longer hash, until none do.
    """
    base = {key: dns_label(name) for key, name in items}
    result = dict(base)
    for length in _SUFFIX_LENGTHS:
        holders: dict[str, list[str]] = {}
        for key, label in result.items():
            holders.setdefault(label, []).append(key)
        clashing = [key for keys in holders.values() if len(keys) > 1 for key in keys]
        if not clashing:
            return result
        for key in clashing:
            suffix = hashlib.sha256(key.encode("utf-8")).hexdigest()[:length]
            result[key] = f"{base[key][:MAX_LABEL - 1 - length].rstrip('-')}-{suffix}"
    raise ValueError("two keys share a 32-hex-digit sha256 prefix")  # distinct vmIds never do


_SUFFIX_LENGTHS = (6, 10, 16, 24, 32, 32)


def env_name(text: str) -> str:
    """Return `text` as an environment-variable name: A-Z, 0-9 and '_', not starting with a digit."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").upper()
    name = re.sub(r"[^A-Z0-9]+", "_", folded).strip("_") or "VALUE"
    return f"_{name}" if name[0].isdigit() else name


def parameter_variable(name: str, file: str | None = "", variable: str | None = None) -> str:
    """Return the environment variable an app reads a plan parameter from; every consumer (start.ps1,
    compose env file, Kubernetes Secret key and env, the Pulumi workload, package's findings) uses this name.

    `variable` is the name `hyperdock package` recorded (contract/packaged.py): the one the config reads.
    A connection string from an appsettings-style JSON file is read by .NET (Core, 5+) configuration as
    `ConnectionStrings:<name>`, which its environment provider takes from `ConnectionStrings__<name>`
    (`__` stands for `:`; keys are case-insensitive). Anything else (.NET Framework web.config/app.config,
    read through ConfigurationBuilders, or a scrubbed inline secret) is read as `env_name(name)`.
    A JSON name with characters outside A-Z, 0-9 and '_' cannot be a portable variable name: it is
    folded by `env_name`, and .NET then does not find it (the name must be changed in the app).
    """
    if variable:
        return variable
    if str(file or "").lower().endswith(".json"):
        return "ConnectionStrings__" + (name if re.fullmatch(r"[A-Za-z0-9_]+", name) else env_name(name))
    return env_name(name)


# A Windows container has one drive, C:. Docker on Windows refuses `c:` and `c:\` as a volume
# destination (moby volume/mounts windows parser, validateNotRoot), and Microsoft's examples mount
# volumes on directories of C: (Virtualization-Documentation manage-containers/persistent-storage.md,
# `docker run -v unwound:c:\data`); a whole second drive letter can be mapped, a folder of one
# cannot (Virtualization-Documentation#334). So a VM's other drive lives at a folder of C:.
DATA_MOUNT_ROOT = "C:\\hyperdock"


# Where start.ps1 finds the HTTPS certificate (tls.pfx and its password): a folder, mounted by
# compose and Kubernetes, because Windows containers cannot bind-mount a single file.
TLS_DIR = f"{DATA_MOUNT_ROOT}\\tls"


def data_mount(drive: str) -> str:
    """Return the container folder where the VM's drive `drive` (not C:) is mounted: `C:\\hyperdock\\D`."""
    return f"{DATA_MOUNT_ROOT}\\{drive.upper()}"


def data_volume_name(label: str, drive: str) -> str:
    """Return the named volume (compose volume, Kubernetes claim, docker volume) holding drive `drive`."""
    return f"{label}-data-{drive.lower()}"


def image_reference(registry: str, label: str, wave: int | None) -> str:
    """Return the image a workload runs: `<registry>/<label>:wave-<wave>` (compose, Kubernetes, the Pulumi program)."""
    return f"{registry}/{label}:wave-{wave}"


def parameters_secret(label: str) -> str:
    """Return the Kubernetes Secret holding a workload's runtime parameters."""
    return f"{label}-parameters"


def tls_secret(label: str) -> str:
    """Return the Kubernetes Secret holding a workload's HTTPS certificate."""
    return f"{label}-tls"


def credential_spec_file(label: str) -> str:
    """Return the file name of a workload's gMSA credential spec (build context, hosts' CredentialSpecs folder)."""
    return f"{label}_credspec.json"


def gmsa_account(label: str) -> str:
    """Return the gMSA name for a workload: at most 15 characters (sAMAccountName), unique per label."""
    stem = re.sub(r"[^a-z0-9]", "", label)[:8] or "hd"
    return f"{stem}-{hashlib.sha256(label.encode('utf-8')).hexdigest()[:6]}"


def boundary_label(value: str, fallback: str) -> str:
    """Return a tenant's or zone's part of a name: one label per tenant or zone the rules count.

    Rules count tenants and zones as VM.tag reads them (trimmed, lower-case), so `a_b` and `a-b` are
    two tenants; dns_label alone gives both `a-b`, and they would share a network, a namespace and a
    pool's hosts. A value dns_label changes gets 8 hex of its sha256; a plain label stays as it is.
    """
    normal = (value or "").strip().lower()
    label = dns_label(normal, fallback)
    if not normal or label == normal:
        return label
    return f"{label[:40].rstrip('-')}-{hashlib.sha256(normal.encode('utf-8')).hexdigest()[:8]}"


def tenant_network(tenant: str) -> str:
    """Return a tenant's container network: tenants do not share one."""
    return f"tenant-{boundary_label(tenant, 'default')}"


def tenant_namespace(tenant: str | None) -> str:
    """Return the Kubernetes namespace of a tenant's workloads: hd-<tenant>, or hd-shared for untagged ones."""
    return f"hd-{boundary_label(tenant, 'shared')}"[:63].rstrip("-") if tenant else "hd-shared"


def hosts_pool_name(isolation: str, tenant: str, zone: str) -> str:
    """Return the name of the hosts.yaml pool of (isolation, tenant, zone)."""
    return "-".join(p for p in (isolation, boundary_label(tenant, "") if tenant else "",
                                boundary_label(zone, "") if zone else "") if p)


def aks_pool_name(image_os: str, index: int) -> str:
    """Return the AKS name of the `index`th Windows pool of `image_os`: w<2-digit year><3-digit index>."""
    name = f"w{image_os[-2:]}{index:03d}"
    if not WINDOWS_POOL_NAME.fullmatch(name):
        raise ValueError(f"{name}: not a valid AKS Windows pool name")
    return name


def host_name(pool: str, index: int) -> str:
    """Return the name of the `index`th (from 1) host of a pool."""
    return f"{pool}-{index:02d}"


def site_label(site: str) -> str:
    """Return the content folder name of an IIS site."""
    return dns_label(site, "site")


def application_label(site: str, path: str) -> str:
    """Return the content folder name of an IIS application with its own folder."""
    return f"{site_label(site)}-{dns_label(path, 'app')}"


def service_label(service: str) -> str:
    """Return the content folder name of a Windows service."""
    return dns_label(service, "service")


def task_label(task: str) -> str:
    """Return the content folder name of a scheduled task."""
    return dns_label(task, "task")
