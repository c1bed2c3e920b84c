"""The pack's rules over generated files: compose files, Kubernetes manifests, Dockerfiles and scripts.

The same rules as the stack policies, where the files can show them: process isolation where
tenants mix, images from registries not allowed, and secret-looking literals in environment values,
Dockerfiles (an image layer keeps them) and scripts (migrate/core/secrets.py says what looks secret).
"""

from __future__ import annotations

from pathlib import Path

from migrate.contract.model import Isolation
from migrate.core.errors import InputError
from migrate.core.secrets import find_secrets, secret_setting
from migrate.core.documents import load_document, load_documents, type_name

from .common import Violation
from .workloads import DEFAULT_REGISTRIES, registry_allowed

# Generated files that run or build: a literal secret there ends up in an image layer or a host's disk.
SCANNED = ("containers/*/Dockerfile", "containers/**/*.ps1", "containers/**/*.cmd", "containers/**/*.bat", "**/*.sh")
PROCESS_ISOLATION = "hyperdock-workload-process-isolation"
REGISTRIES = "hyperdock-workload-allowed-registries"
SECRETS = "hyperdock-artifacts-no-secret-literals"


def check_artifacts(folder: Path, allowed_registries: list[str]) -> list[Violation]:
    """Return the violations in `folder`'s compose.yaml, compose/*.yaml and k8s/*.yaml."""
    allowed = DEFAULT_REGISTRIES + list(allowed_registries)
    violations: list[Violation] = []
    for compose_path in sorted([*folder.glob("compose.yaml"), *folder.glob("compose/*.yaml")]):
        document = load_document(compose_path) if compose_path.read_bytes().strip() else {}
        _expect_mapping(document, compose_path, "")
        services = document.get("services") or {}
        _expect_mapping(services, compose_path, "services")
        for name, service in services.items():
            _expect_mapping(service, compose_path, f"services.{name}")
        violations += _compose(document, allowed, str(compose_path.relative_to(folder)))
    for manifest in sorted((folder / "k8s").glob("*.yaml")):
        for document in load_documents(manifest):
            if isinstance(document, dict):
                violations += _kubernetes(document, manifest.name, allowed)
    for path in sorted({p for pattern in SCANNED for p in folder.glob(pattern) if p.is_file()}):
        violations += _file(path, str(path.relative_to(folder)))
    return sorted(violations, key=lambda v: (v.resource_type, v.resource_name, v.policy, v.message))


def _expect_mapping(value, path: Path, field: str) -> None:
    if not isinstance(value, dict):
        raise InputError(str(path), f"expected a mapping, got {type_name(value)}", field or None)


def _file(path: Path, shown: str) -> list[Violation]:
    """One violation per line of a Dockerfile or script that holds a secret-looking literal (never the value)."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        for kind in find_secrets(line):
            found.append(Violation(SECRETS, "mandatory", f"line {number} holds a secret-looking {kind} literal; "
                                   "pass it as a runtime parameter", "file", shown))
    return found


def _compose(document: dict, allowed: list[str], file: str) -> list[Violation]:
    services = document.get("services") or {}
    found = []
    # One compose project runs on one host: tenant networks say who shares it.
    tenants = {n for s in services.values() for n in (s.get("networks") or []) if str(n).startswith("tenant-")}
    for name, service in sorted(services.items()):
        where = (f"{file} service", name)
        if service.get("isolation", Isolation.PROCESS) in (Isolation.PROCESS, "default") and len(tenants) > 1:
            found.append(Violation(PROCESS_ISOLATION, "mandatory",
                                   f"process isolation on a host shared by {len(tenants)} tenants ({', '.join(sorted(tenants))})",
                                   *where))
        image = str(service.get("image") or "")
        if image and "build" not in service and not registry_allowed(image, allowed):
            found.append(Violation(REGISTRIES, "mandatory", f"image {image} is not from an allowed registry", *where))
        if "build" in service and image and not registry_allowed(image, allowed):
            found.append(Violation(REGISTRIES, "mandatory", f"image {image} would be pushed to a registry not allowed", *where))
        environment = service.get("environment") or {}
        items = environment.items() if isinstance(environment, dict) else (e.partition("=")[::2] for e in environment)
        for key, value in items:
            if value is not None and secret_setting(str(key), value):
                found.append(Violation(SECRETS, "mandatory", f"environment {key} holds a secret-looking literal; use secrets", *where))
    return found


def _kubernetes(document: dict, file: str, allowed: list[str]) -> list[Violation]:
    kind = document.get("kind", "?")
    where = (f"{file} {kind}", (document.get("metadata") or {}).get("name", "?"))
    found = []
    if kind == "ConfigMap":
        for key, value in (document.get("data") or {}).items():
            if secret_setting(str(key), value):
                found.append(Violation(SECRETS, "mandatory", f"data {key} holds a secret-looking literal; use a Secret", *where))
    spec = document.get("spec") or {}
    if kind == "CronJob":  # batch/v1 CronJobSpec: the pod template sits under jobTemplate.spec
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    for container in pod.get("containers") or []:
        image = str(container.get("image") or "")
        if image and not registry_allowed(image, allowed):
            found.append(Violation(REGISTRIES, "mandatory", f"image {image} is not from an allowed registry", *where))
        for variable in container.get("env") or []:
            value = variable.get("value")
            if value is not None and secret_setting(str(variable.get("name")), value):
                found.append(Violation(SECRETS, "mandatory",
                                       f"env {variable.get('name')} holds a secret-looking literal; use secretKeyRef", *where))
    return found
