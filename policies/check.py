"""`hyperdock policy check`: the policy pack without the Pulumi CLI or cloud credentials.

Runs `__main__.py` under Pulumi mocks with a stack's configuration, captures every registered
resource with its parent and dependencies, and sends them through the pack's real analyzer
(pulumi_policy's servicer, in-process): `Analyze` per resource, `AnalyzeStack` once. Violations are
printed grouped by resource, as `pulumi preview` does; exit 1 on a mandatory one.

Where it differs from `pulumi preview --policy-pack policies`:
- properties are the program's inputs; the engine would send them after the provider's Check, with
  provider defaults filled in, so a policy relying on a default sees it missing here;
- secret stack config cannot be decrypted: placeholders stand in (secrets are never needed to
  judge a policy, only their secretness);
- no resource is read from Azure or the hosts: only what the program declares is checked.
"""

from __future__ import annotations

import argparse
import base64
import json
import runpy
import sys
from pathlib import Path

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer  # private API: pulumi_policy 1.21.0's policy.py

from migrate.contract.stack_config import read_stack_config
from migrate.core.cli import OneLineParser
from migrate.core.documents import checked_text, load_document, type_name
from migrate.core.errors import InputError, SettingsError

from . import capture
from .artifacts import check_artifacts
from .common import Violation
from .pack import PACK_NAME, PACK_VERSION, POLICIES

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "[secret]"
DEFAULT_CONFIG = ROOT / "policies" / "config.json"


def load_stack_config(path: Path) -> tuple[dict[str, str], list[str]]:
    """Return (config values as the engine passes them, secret keys) from a Pulumi.<stack>.yaml.

    Raises InputError (one line naming the file and key) for a file that is not a stack config.
    """
    document = load_document(path) if path.is_file() or not path.exists() else _not_a_file(path)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise InputError(str(path), f"expected a mapping with a `config:` key, got {type_name(document)}")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise InputError(str(path), f"expected a mapping of key: value, got {type_name(config)}", "config")
    values, secret_keys = {}, []
    for key, value in config.items():
        if not isinstance(key, str):
            raise InputError(str(path), f"expected a string key, got {type_name(key)}", "config")
        if isinstance(value, dict) and "secure" in value:
            values[key], secret_keys = PLACEHOLDER, secret_keys + [key]
        elif isinstance(value, (dict, list, bool, int, float)):
            try:
                values[key] = json.dumps(value, allow_nan=False)
            except (ValueError, TypeError) as exc:
                raise InputError(str(path), f"not a value Pulumi config can hold: {exc}", f"config.{key}") from None
        else:
            values[key] = checked_text(value, str(path), f"config.{key}") if value is not None else ""
    return values, secret_keys


def _not_a_file(path: Path):
    raise InputError(str(path), "is not a file; expected a Pulumi.<stack>.yaml")


def load_policy_config(path: Path | None) -> dict:
    """Return the policy config (pulumi preview's --policy-pack-config format), checked; {} for none."""
    if path is None:
        return {}
    document = load_document(path) if path.is_file() or not path.exists() else _not_a_file(path)
    where = str(path)
    if not isinstance(document, dict):
        raise InputError(where, f"expected a JSON object of policy names, got {type_name(document)}")
    for name, entry in document.items():
        level = entry if isinstance(entry, str) else entry.get("enforcementLevel", "mandatory") if isinstance(entry, dict) else None
        if level not in _LEVELS:
            raise InputError(where, f"expected one of {', '.join(_LEVELS)} (or an object with enforcementLevel)", str(name))
    registries = document.get("hyperdock-workload-allowed-registries", {})
    allowed = registries.get("allowedRegistries", []) if isinstance(registries, dict) else None
    if not isinstance(allowed, list) or not all(isinstance(r, str) for r in allowed):
        raise InputError(where, "expected a list of registry names", "hyperdock-workload-allowed-registries.allowedRegistries")
    return document


def _placeholder_workload_secrets(values: dict[str, str]) -> dict[str, str]:
    """Fill workloadSecrets with placeholders for every parameter the plan's workloads need."""
    from migrate.contract.plan_io import placed_secret_names

    # The stack's own workloadSecrets (its placeholder, when encrypted) are merged in below, not read.
    settings = read_stack_config(lambda key: None if key == "hyperdock:workloadSecrets" else values.get(key),
                                 lambda key: True)
    try:
        secrets = json.loads(values.get("hyperdock:workloadSecrets", "{}"))
    except json.JSONDecodeError:
        secrets = {}
    if not isinstance(secrets, dict):
        secrets = {}
    for label, names in (placed_secret_names(ROOT / settings["plan"]) if settings["plan"] else {}).items():
        for name in names:
            secrets.setdefault(label, {}).setdefault(name, PLACEHOLDER)
    if settings["platform"] in ("aks", "kubernetes"):
        from migrate.contract.kubernetes_plan import plan_kubernetes

        for kube in plan_kubernetes(settings, ROOT).workloads:
            for keys in kube.secret_keys.values():
                for key in keys:
                    value = base64.b64encode(PLACEHOLDER.encode()).decode() if key in kube.binary_keys else PLACEHOLDER
                    secrets.setdefault(kube.label, {}).setdefault(key, value)
    return dict(values, **{"hyperdock:workloadSecrets": json.dumps(secrets)})


def capture_program(values: dict[str, str], secret_keys: list[str], stack: str = "check") -> capture.RecordingMonitor:
    """Run __main__.py under mocks with this config; return the monitor holding every registration."""
    monitor = capture.start(project="hyperdock", stack=stack)
    try:
        @pulumi.runtime.test
        def program():
            pulumi.runtime.set_all_config(values, secret_keys)
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__pulumi__")

        program()
    finally:
        capture.stop()
    return monitor


_LEVELS = {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY, "disabled": analyzer_pb2.DISABLED,
           "remediate": analyzer_pb2.REMEDIATE}


def _configure_request(policy_config: dict) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """The request the CLI sends for --policy-pack-config: per policy, a level and properties.

    Accepts the CLI's file format: {"all": "advisory", "<policy>": "disabled" | {"enforcementLevel": …, …}}.
    """
    default = policy_config.get("all", "mandatory")
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for policy in POLICIES:
        entry = policy_config.get(policy.name, {})
        level = entry if isinstance(entry, str) else entry.get("enforcementLevel", default)
        properties = struct_pb2.Struct()
        if isinstance(entry, dict):
            try:
                properties.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
            except (ValueError, TypeError) as exc:
                raise InputError("--config", f"properties that a policy cannot take: {exc}", policy.name) from None
        request.policyConfig[policy.name].CopyFrom(
            analyzer_pb2.PolicyConfig(enforcementLevel=_LEVELS[level], properties=properties))
    return request


def _options(request) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=request.protect, ignoreChanges=list(request.ignoreChanges), deleteBeforeReplace=request.deleteBeforeReplace,
        additionalSecretOutputs=list(request.additionalSecretOutputs))


def analyze(monitor: capture.RecordingMonitor, policy_config: dict | None = None) -> list[Violation]:
    """Send the captured resources through the pack's analyzer; return its violations."""
    servicer = _PolicyAnalyzerServicer(PACK_NAME, PACK_VERSION, POLICIES, EnforcementLevel.MANDATORY)
    servicer.Configure(_configure_request(policy_config or {}), None)
    names = {}
    resources = []
    for urn, request in zip(monitor.urns, monitor.requests):
        if request.type == "pulumi:pulumi:Stack":
            continue
        names[urn] = (request.type, request.name)
        resources.append(analyzer_pb2.AnalyzerResource(
            type=request.type, properties=request.object, urn=urn, name=request.name, options=_options(request),
            parent=request.parent, dependencies=list(request.dependencies)))
    diagnostics = []
    for resource in resources:
        response = servicer.Analyze(analyzer_pb2.AnalyzeRequest(
            type=resource.type, properties=resource.properties, urn=resource.urn, name=resource.name,
            options=resource.options), None)
        diagnostics.extend((d, resource.urn) for d in response.diagnostics)
    stack = servicer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), None)
    diagnostics.extend((d, d.urn) for d in stack.diagnostics)
    violations = []
    for diagnostic, urn in diagnostics:
        kind, name = names.get(diagnostic.urn or urn, ("stack", ""))
        level = "mandatory" if diagnostic.enforcementLevel == analyzer_pb2.MANDATORY else "advisory"
        # The analyzer prefixes what `report_violation` said with the policy's description.
        message = diagnostic.message.strip()
        if diagnostic.description and message.startswith(diagnostic.description):
            message = message[len(diagnostic.description):].strip() or diagnostic.description
        violations.append(Violation(diagnostic.policyName, level, message, kind, name))
    return sorted(violations, key=lambda v: (v.resource_type, v.resource_name, v.policy, v.message))


def render(violations: list[Violation], title: str) -> str:
    """Violations grouped by resource, in the shape of `pulumi preview`'s Policies section."""
    mark = "❌" if any(v.level == "mandatory" for v in violations) else "✅"
    lines = ["Policies:", f"    {mark} {title}"]
    if not violations:
        lines.append("        no violations")
    current = None
    for v in violations:
        if (v.resource_type, v.resource_name) != current:
            current = (v.resource_type, v.resource_name)
            lines.append(f"        {v.resource_type} ({v.resource_name}):" if v.resource_name else f"        {v.resource_type}:")
        first, *rest = v.message.splitlines() or [""]
        lines.append(f"            [{v.level}]  {v.policy}  {first}")
        lines.extend(f"                {line}" for line in rest)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="hyperdock policy check", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="example", help="stack whose Pulumi.<stack>.yaml to check (default: example)")
    parser.add_argument("--stack-file", type=Path, help="a stack config file to check instead")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None,
                        help="policy config JSON, as for pulumi preview --policy-pack-config (default: policies/config.json)")
    parser.add_argument("--artifacts", type=Path, help="check generated compose and Kubernetes files in DIR instead")
    parser.add_argument("--allow-registry", action="append", default=[], help="registry allowed besides mcr.microsoft.com")
    args = parser.parse_args(argv)
    policy_config = load_policy_config(args.config)
    if args.artifacts:
        if not args.artifacts.is_dir():
            raise InputError(str(args.artifacts), "is not a folder; expected the folder `hyperdock generate` wrote")
        allowed = args.allow_registry + list(policy_config.get("hyperdock-workload-allowed-registries", {}).get("allowedRegistries", []))
        violations = check_artifacts(args.artifacts, allowed)
        sys.stdout.write(render(violations, f"{PACK_NAME}@v{PACK_VERSION} (artifacts: {args.artifacts})"))
        return 1 if any(v.level == "mandatory" for v in violations) else 0
    stack_file = args.stack_file or ROOT / f"Pulumi.{args.stack}.yaml"
    values, secret_keys = load_stack_config(stack_file)
    registries = policy_config.setdefault("hyperdock-workload-allowed-registries", {})
    registries["allowedRegistries"] = list(registries.get("allowedRegistries", [])) + args.allow_registry
    try:
        values = _placeholder_workload_secrets(values)
        secret_keys = sorted(set(secret_keys) | {"hyperdock:workloadSecrets"})
        if values.get("hyperdock:domain") and "hyperdock:domainPassword" not in values:
            # Set with --secret at deploy time (Pulumi.example.yaml says so), like workloadSecrets.
            values["hyperdock:domainPassword"] = PLACEHOLDER
            secret_keys.append("hyperdock:domainPassword")
        monitor = capture_program(values, secret_keys, stack=stack_file.stem.removeprefix("Pulumi."))
    except SettingsError as exc:  # the program's own validation, before any resource: one line, as the CLI promises
        raise InputError(str(stack_file), str(exc)) from None
    violations = analyze(monitor, policy_config)
    sys.stdout.write(render(violations, f"{PACK_NAME}@v{PACK_VERSION} (offline: {stack_file.name})"))
    return 1 if any(v.level == "mandatory" for v in violations) else 0


if __name__ == "__main__":
    sys.exit(main())
