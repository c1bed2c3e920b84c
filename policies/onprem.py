"""Policies on SSH connections (every remote command of the stack, unless config onlyHyperdockComponents
narrows them to OnPremContainerHost): hosts are authenticated, credentials are secrets."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy, Severity

from .common import ONPREM_HOST, REMOTE_COMMAND, SCOPE_SCHEMA, in_scope, plain


def _host_key_pinned(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != REMOTE_COMMAND or not in_scope(args, ONPREM_HOST):
        return
    connection = plain(args.props.get("connection")) or {}
    if not connection.get("hostKey"):
        report("the SSH connection does not pin the host key, so any machine answering at that address is trusted")


host_key_pinned = ResourceValidationPolicy(
    name="hyperdock-onprem-ssh-host-key-pinned",
    description="SSH connections to on-premises container hosts pin the host's public key.",
    validate=_host_key_pinned,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Set hyperdock:onpremHostKeys (ssh-keyscan output, checked out of band).",
    config_schema=PolicyConfigSchema(properties=SCOPE_SCHEMA),
)


def _credentials_secret(args: ResourceValidationArgs, report) -> None:
    # Secretness reaches `validate` only as additionalSecretOutputs (see azure_vm._password_secret).
    if args.resource_type != REMOTE_COMMAND or not in_scope(args, ONPREM_HOST):
        return
    connection = plain(args.props.get("connection")) or {}
    fields = [f for f in ("password", "privateKey", "privateKeyPassword") if connection.get(f)]
    if fields and "connection" not in (args.opts.additional_secret_outputs or []):
        report(f"connection ({', '.join(fields)}) is not a secret output, so the credentials are stored in plain text")


ssh_credentials_secret = ResourceValidationPolicy(
    name="hyperdock-ssh-credentials-secret",
    description="SSH passwords and private keys are Pulumi secrets.",
    validate=_credentials_secret,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Set them with `pulumi config set --secret` and read them with config.get_secret.",
    config_schema=PolicyConfigSchema(properties=SCOPE_SCHEMA),
)

POLICIES = [host_key_pinned, ssh_credentials_secret]
