"""The registry workloads pull from: an optional private Azure Container Registry, and how hosts log in.

A reusable piece (the AKS deployment can take the same `RegistrySettings` and `ContainerRegistry`):
- `registry_settings` (pure) reads `registry` (`server/path`, e.g. myregistry.azurecr.io/hyperdock)
  and the auth mode, and refuses a registry without a host name: a bare `hyperdock/x` would be
  Docker Hub, so nothing is pulled from a public registry by accident.
- `ContainerRegistry`: an ACR with the admin user off and anonymous pull off (private: every pull
  authenticates). Network isolation (private endpoint, public network access off) needs the
  Premium SKU and a private DNS zone: not done here.
- `acr_pull`: the AcrPull role for a host's managed identity on the registry.
- `login_lines` (pure): the PowerShell a workload runs before it pulls. Managed identity: an Entra
  token from the instance metadata service, exchanged at the registry's `/oauth2/exchange` for a
  refresh token that `docker login` takes with the user 00000000-0000-0000-0000-000000000000
  (Azure/acr docs `AAD-OAuth.md`, the flow `az acr login` uses). Password: `docker login
  --password-stdin`, the password a secret (Run Command protected parameter, or secret SSH stdin).
  Not tried against a real registry here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional, TypedDict

import pulumi
from pulumi_azure_native import authorization, containerregistry

from migrate.contract.stack_config import (
    DEFAULTS, REGISTRY_AUTH_MODES, REGISTRY_SKUS, registry_problem, registry_username_problem,
)
from migrate.core.azure import ACR_PULL_ROLE_ID, default_tags, resource_id_problem
from migrate.core.errors import RegistryConfigError
from migrate.core.powershell import ps_quote

from .sdk_aliases import leaving_out_api_version_aliases

ACR_SUFFIX = ".azurecr.io"
_ACR_NAME = re.compile(r"[a-z0-9]{5,50}")
IMDS_TOKEN = ("http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"
              "&resource=https://management.azure.com/")
ACR_TOKEN_USER = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    server: str                 # login server, e.g. myregistry.azurecr.io
    path: str                   # repository prefix, e.g. hyperdock
    auth: str                   # managed-identity | password | none (for Azure hosts)
    username: str = ""          # for password auth (and on-premises hosts)

    @property
    def is_acr(self) -> bool:
        return self.server.endswith(ACR_SUFFIX)

    @property
    def acr_name(self) -> str:
        return self.server.removesuffix(ACR_SUFFIX)

    def auth_for(self, managed_identity: bool) -> str:
        """Return how hosts log in, given whether they have a managed identity (HostPlatform.managed_identity)."""
        if not managed_identity and self.auth == "managed-identity":
            return "password" if self.username else "none-available"
        return self.auth


def registry_settings(registry: str, auth: str = "", username: str = "", create_acr: bool = False) -> RegistrySettings:
    """Validate the registry settings; return them. `auth` "" picks managed identity for an ACR, else password."""
    problem = registry_problem(registry)
    if problem:
        raise RegistryConfigError(f"registry: {problem}")
    server, _, path = registry.strip().rstrip("/").partition("/")
    auth = auth or ("managed-identity" if server.endswith(ACR_SUFFIX) else "password")
    if auth not in REGISTRY_AUTH_MODES:
        raise RegistryConfigError(f"registryAuth: expected one of {', '.join(REGISTRY_AUTH_MODES)}, got {auth!r}")
    if auth == "managed-identity" and not server.endswith(ACR_SUFFIX):
        raise RegistryConfigError(f"registryAuth: managed identity logs in to Azure Container Registry only "
                                  f"(*{ACR_SUFFIX}), not {server}")
    problem = registry_username_problem(username) if username else None
    if problem:
        raise RegistryConfigError(f"registryUsername: {problem}")
    if auth == "password" and not username:
        raise RegistryConfigError("registryUsername: password login needs a user name (and registryPassword, as a secret)")
    settings = RegistrySettings(server, path, auth, username)
    if create_acr and (not settings.is_acr or not _ACR_NAME.fullmatch(settings.acr_name)):
        raise RegistryConfigError(f"registry: creating a registry needs <name>{ACR_SUFFIX} with a name of 5-50 "
                                  f"lower-case letters and digits, got {server!r}")
    return settings


def login_lines(server: str, auth: str, username: str = "", password_expr: str = "") -> list[str]:
    """Return the PowerShell that logs Docker in to `server` before a pull; `password_expr` is a
    PowerShell expression holding the password (a parameter or a quoted literal)."""
    if auth == "none":
        return []
    lines = [f"$registry = {ps_quote(server)}"]
    if auth == "managed-identity":
        lines += [
            f"$token = Invoke-RestMethod -Headers @{{ Metadata = 'true' }} -Uri {ps_quote(IMDS_TOKEN)}",
            "$form = @{ grant_type = 'access_token'; service = $registry; access_token = $token.access_token }",
            "$exchange = Invoke-RestMethod -Method Post -Uri ('https://{0}/oauth2/exchange' -f $registry) "
            "-ContentType 'application/x-www-form-urlencoded' -Body $form",
            "$secretText = $exchange.refresh_token",
            f"$user = {ps_quote(ACR_TOKEN_USER)}",
        ]
    elif auth == "password":
        lines += [f"$secretText = {password_expr}", f"$user = {ps_quote(username)}"]
    else:
        raise RegistryConfigError(f"registryAuth: no way to log in to {server} ({auth})")
    return lines + [
        "$secretText | & docker login $registry --username $user --password-stdin",
        "if ($LASTEXITCODE -ne 0) { throw ('docker login to {0} failed' -f $registry) }",
        "Remove-Variable -Name secretText",
    ]


def acr_pull_role_definition(registry_id: str) -> str:
    """Return the AcrPull role definition ID in the subscription of a registry's resource ID."""
    problem = resource_id_problem(registry_id)
    if problem:
        raise RegistryConfigError(f"registry id {problem}")
    return f"/subscriptions/{registry_id.split('/')[2]}/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL_ROLE_ID}"


def acr_pull(name: str, registry_id: pulumi.Input[str], principal_id: pulumi.Input[str],
             opts: Optional[pulumi.ResourceOptions] = None) -> authorization.RoleAssignment:
    """Grant a managed identity AcrPull on a registry (the scope is the registry only)."""
    return authorization.RoleAssignment(
        name, principal_id=principal_id, principal_type="ServicePrincipal", scope=registry_id,
        role_definition_id=pulumi.Output.from_input(registry_id).apply(acr_pull_role_definition),
        opts=leaving_out_api_version_aliases(opts))  # one per host: 9 SDK aliases each otherwise (sdk_aliases.py)


class ContainerRegistryArgs(TypedDict, total=False):
    registry_name: str
    """ACR name (5-50 lower-case letters and digits): the first label of <name>.azurecr.io."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the registry."""
    location: pulumi.Input[str]
    """Azure region."""
    sku: str
    """Basic, Standard or Premium; Standard by default."""
    tags: pulumi.Input[Mapping[str, str]]
    """Tags of the registry."""


class ContainerRegistry(pulumi.ComponentResource):
    registry_id: pulumi.Output[str]
    """Resource ID of the registry (the scope of AcrPull assignments)."""
    login_server: pulumi.Output[str]
    """Login server, <name>.azurecr.io."""

    def __init__(self, name: str, args: ContainerRegistryArgs, opts: Optional[pulumi.ResourceOptions] = None):
        registry_name = args.get("registry_name", "")
        if not _ACR_NAME.fullmatch(registry_name):
            raise RegistryConfigError(f"registry_name: {registry_name!r} must be 5-50 lower-case letters and digits")
        sku = args.get("sku", DEFAULTS["registrySku"])
        if sku not in REGISTRY_SKUS:
            raise RegistryConfigError(f"sku: expected Basic, Standard or Premium, got {sku!r}")
        super().__init__("hyperdock:index:ContainerRegistry", name, {}, leaving_out_api_version_aliases(opts))
        self.registry = containerregistry.Registry(
            f"{name}-acr", registry_name=registry_name, resource_group_name=args["resource_group_name"],
            location=args.get("location"), sku={"name": sku},
            admin_user_enabled=False, anonymous_pull_enabled=False,  # private: every pull authenticates
            tags=args.get("tags", default_tags()), opts=pulumi.ResourceOptions(parent=self))
        self.registry_id = self.registry.id
        self.login_server = self.registry.login_server
        self.register_outputs({"registryId": self.registry_id, "loginServer": self.login_server})
