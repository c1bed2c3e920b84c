"""The stack configuration's one owner: every `hyperdock:` key the Pulumi program reads.

Each key is declared once here with its type, default, whether it is a secret, the values it takes
and a one-line description. `Pulumi.yaml` stays the user-facing schema; tests/test_stack_config.py
keeps its `config:` block (and the README's table) in step with `KEYS`.

Pulumi makes every key that Pulumi.yaml declares without a `default` (or `value`) a REQUIRED key:
`pulumi preview` stops with "Stack '<stack>' is missing configuration values ..." before the program
runs (pulumi/pulumi pkg/workspace/config.go, mergeConfig: `!foundOnStack && !hasValue && !hasDefault`).
A key declared `secret: true` cannot carry a usable default either (the default is merged in as plain
text). So every plain key has a default, and the OPTIONAL secrets are not declared there: they are
listed in Pulumi.yaml's comment block and the README, and refused when set without --secret.

Reading is pure: `read_stack_config` takes the raw strings Pulumi passes the program (a JSON text for
arrays), parses each key the way pulumi.Config's getters do, fills the defaults and checks the
values, raising StackConfigError with one line naming the key, before any resource exists.
Settings that can only be judged together with others or with the plan (a size against the
isolation, the registry against its auth mode) are checked by the components' *_settings functions.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from migrate.core.errors import StackConfigError
from migrate.core.azure import (
    admin_username_problem, authorized_range_problem, image_sku_problem, management_cidr_problem, resource_id_problem,
    security_type_problem,
)
from migrate.core.windows import HOST_OS_CHOICES

from .model import Isolation

NAMESPACE = "hyperdock"
HOST_ISOLATIONS = (*(i.value for i in Isolation), "both")
STACK_PLATFORMS = ("hosts", "aks", "kubernetes")
REGISTRY_AUTH_MODES = ("managed-identity", "password", "none")
REGISTRY_SKUS = ("Basic", "Standard", "Premium")


@dataclass(frozen=True, slots=True)
class Key:
    """One `hyperdock:` key: `type` is Pulumi.yaml's (string, integer, boolean, array of `items`)."""

    name: str
    type: str
    default: Any
    description: str
    items: str | None = None
    secret: bool = False
    choices: tuple[str, ...] = ()
    expected: str = ""                       # what a wrongly typed array is told, when not "a list of <items>s"
    check: Callable[[Any], str | None] | None = None   # returns what is wrong with a parsed value, or None

    @property
    def full_name(self) -> str:
        return f"{NAMESPACE}:{self.name}"


def _positive_ints(value: list) -> str | None:
    return None if all(w >= 1 for w in value) else "expected a list of wave numbers, e.g. [1, 2]"


def _true_false_or_empty(value: str) -> str | None:
    return None if value.lower() in ("", "true", "false") else f"expected true, false or empty, got {value!r}"


def _not_negative(value: int) -> str | None:
    return None if value >= 0 else "expected 0 or more"


# Docker CE static build for Windows, pinned; change deliberately, with its SHA-256 when known.
# The version was chosen without access to download.docker.com's index here [U]: check that
# docker-<version>.zip is listed under win/static/stable/x86_64/ before the first `pulumi up`.
DOCKER_VERSION = "27.5.1"
# docker/compose release asset names: docker-compose-windows-x86_64.exe under releases/download/v<version>/
# (seen for v2.39.x in public install scripts; the release page itself was not reachable here [U]).
COMPOSE_VERSION = "2.39.4"

_VERSION = re.compile(r"\d+\.\d+\.\d+")
_SHA256 = re.compile(r"[0-9A-Fa-f]{64}")
_DOMAIN = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")


# What is wrong with one value of a host setting, or None. The components' validators raise these
# for their arguments too, so a value is judged by one rule whether it comes from a stack or not.
def docker_version_problem(value: str) -> str | None:
    return None if _VERSION.fullmatch(value) else f"expected a version like {DOCKER_VERSION}, got {value!r}"


def compose_version_problem(value: str) -> str | None:
    return None if _VERSION.fullmatch(value) else f"expected a version like {COMPOSE_VERSION}, got {value!r}"


def sha256_problem(value: str) -> str | None:
    return None if _SHA256.fullmatch(value) else "expected 64 hexadecimal characters"


def nat_subnet_problem(value: str) -> str | None:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        return str(exc)
    return None if network.is_private else f"{value} is not a private range"


def domain_problem(value: str) -> str | None:
    return None if _DOMAIN.fullmatch(value) else f"{value!r} is not a DNS domain name (e.g. contoso.local)"


def domain_user_problem(value: str) -> str | None:
    if re.fullmatch(r"[^\x00-\x1f]{1,256}", value) and ("\\" in value or "@" in value):
        return None
    return f"expected DOMAIN\\user or user@domain, got {value!r}"


def ou_path_problem(value: str) -> str | None:
    if re.fullmatch(r"(OU|CN)=[^\x00-\x1f]+", value, re.IGNORECASE):
        return None
    return f"expected a distinguished name like OU=Hosts,DC=contoso,DC=local, got {value!r}"


_REGISTRY_SERVER = re.compile(r"(localhost|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+)(:\d{1,5})?")
_REGISTRY_PATH = re.compile(r"[a-z0-9]+([._/-][a-z0-9]+)*")
_REGISTRY_USER = re.compile(r"[A-Za-z0-9._@\\-]{1,128}")


def registry_problem(value: str) -> str | None:
    """Why `value` is not `server/path` of a registry: a bare name would pull from Docker Hub."""
    server, _, path = value.strip().rstrip("/").partition("/")
    if not _REGISTRY_SERVER.fullmatch(server) or "." not in server and not server.startswith("localhost"):
        return (f"{value!r} must start with a registry host name (e.g. myregistry.azurecr.io/hyperdock); a bare name "
                "would pull from Docker Hub")
    if path and not _REGISTRY_PATH.fullmatch(path):
        return f"{path!r} is not a repository path (lower-case letters, digits, . _ - /)"
    return None


def registry_username_problem(value: str) -> str | None:
    return None if _REGISTRY_USER.fullmatch(value) else f"{value!r} is not a user name"


def ip_address_problem(value: str) -> str | None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return f"{value!r} is not an IP address"
    return None


def _each(problem_of: Callable[[str], str | None]) -> Callable[[list], str | None]:
    """A list's check: the first item's problem."""
    return lambda value: next(filter(None, map(problem_of, value)), None)


def _workload_secrets(value: str) -> str | None:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict) or not all(isinstance(v, dict) for v in parsed.values()):
        return "expected a JSON object of objects"
    return None


def _string(name, default, description, **more) -> Key:
    return Key(name, "string", default, description, **more)


def _secret(name, description, **more) -> Key:
    return Key(name, "string", None, description, secret=True, **more)


KEYS: tuple[Key, ...] = (
    _string("plan", "", "Folder holding plan.json and hosts.yaml from `hyperdock assess --generate`; when set, hosts "
            "and workloads come from it."),
    _string("registry", "", "Registry the workload images are pushed to, e.g. myregistry.azurecr.io/hyperdock (needed "
            "with plan).", check=registry_problem),
    _string("registryAuth", "", "How hosts log in to the registry before pulling - managed-identity (Azure hosts, ACR; "
            "AcrPull granted to each host), password, or none. Empty picks managed-identity for *.azurecr.io, else "
            "password. On-premises hosts always use password.", choices=REGISTRY_AUTH_MODES),
    _string("registryUsername", "", "User for password login (e.g. an ACR token name); needed by on-premises hosts.",
            check=registry_username_problem),
    Key("createRegistry", "boolean", False, "Create the registry as a private Azure Container Registry (admin user and "
        "anonymous pull off) named after the first label of hyperdock:registry, in the Azure hosts' resource group."),
    _string("registrySku", "Standard", "SKU of the created registry (Basic, Standard or Premium).", choices=REGISTRY_SKUS),
    _string("registryResourceId", "", "Resource ID of an existing ACR, for the AcrPull grants of Azure hosts that pull "
            "with their managed identity.", check=resource_id_problem),
    _string("location", "westeurope", "Azure region for Azure hosts."),
    Key("azureHostCount", "integer", 0, "Number of Azure hosts to create when no plan is given.", check=_not_negative),
    # A Dsv5 size: Generation 2, Premium storage and nested virtualization (migrate/azure_facts.py).
    _string("vmSize", "Standard_D4s_v5", "Azure size of hosts created without a plan (a plan's hosts.yaml names its own)."),
    _string("imageSku", "2025-datacenter-azure-edition-core", "MicrosoftWindowsServer/WindowsServer SKU of Azure hosts.",
            check=image_sku_problem),
    _string("isolation", Isolation.PROCESS.value, "process, hyperv or both, for hosts created without a plan.", choices=HOST_ISOLATIONS),
    _string("securityType", "", "Empty (a standard VM, securityType left out) or TrustedLaunch for Azure hosts with "
            "Hyper-V isolation (nested virtualization; Trusted Launch with it is not verified). Process-isolation hosts "
            "always use Trusted Launch. The value Standard is refused (not in the Azure API enum).",
            check=security_type_problem),
    Key("encryptionAtHost", "boolean", True, "Encryption at host on Azure hosts. Needs the subscription feature "
        "Microsoft.Compute/EncryptionAtHost registered (az feature register --namespace Microsoft.Compute --name "
        "EncryptionAtHost), or VM creation fails; hyperdock cannot check this offline. Set false only where a disk "
        "encryption set is used instead."),
    Key("managementCidrs", "array", [], "Source ranges allowed to reach RDP, WinRM over HTTPS and SSH on Azure hosts; "
        "none by default.", items="string", check=_each(management_cidr_problem)),
    Key("publicIp", "boolean", False, "Give Azure hosts a public IP (inbound still limited to managementCidrs)."),
    _string("adminUsername", "hyperdock", "Local administrator of Azure hosts.", check=admin_username_problem),
    Key("onpremHosts", "array", [], "Addresses of existing Windows Servers reached over SSH, in the order of hosts.yaml's "
        "hosts.", items="string"),
    Key("onpremHostKeys", "array", [], "SSH host keys of onpremHosts, same order; pin them in production.", items="string"),
    _string("onpremUser", "Administrator", "SSH user with administrator rights on on-premises hosts."),
    _string("onpremHostOs", "ltsc2025", "OS of the on-premises hosts (ltsc2025, ltsc2022 or ltsc2019).",
            choices=HOST_OS_CHOICES),
    _string("dockerVersion", DOCKER_VERSION, "Docker CE version installed on hosts (pinned).",
            check=docker_version_problem),
    _string("dockerSha256", "", "SHA-256 of the Docker CE zip; verified on the host when set.", check=sha256_problem),
    _string("composeVersion", COMPOSE_VERSION, "Docker Compose plugin version installed on hosts (pinned; docker/compose "
            "release docker-compose-windows-x86_64.exe into %ProgramFiles%\\Docker\\cli-plugins).",
            check=compose_version_problem),
    _string("composeSha256", "", "SHA-256 of the Docker Compose plugin; verified on the host when set.",
            check=sha256_problem),
    _string("domain", "", "Active Directory domain the hosts join (gMSA workloads need domain-joined hosts); none by "
            "default.", check=domain_problem),
    _string("domainUser", "", "Account allowed to join computers to the domain (DOMAIN\\user or user@domain).",
            check=domain_user_problem),
    _string("domainOuPath", "", "Organizational unit for the hosts' computer accounts, e.g. OU=Hosts,DC=contoso,DC=local.",
            check=ou_path_problem),
    _string("natSubnet", "", "Private subnet for Docker's nat network; Docker's default when empty.",
            check=nat_subnet_problem),
    _string("platform", "hosts", "hosts (the capacity plan's hosts only), aks (an AksWindowsCluster from the plan's "
            "aks.yaml, plus hosts for what stays on them) or kubernetes (your own cluster, from kubeconfig).",
            choices=STACK_PLATFORMS),
    Key("waves", "array", [], "Waves whose workloads are deployed on Kubernetes (platform aks or kubernetes), e.g. "
        "[1, 2]; all when empty.", items="integer", expected="a list of wave numbers, e.g. [1, 2]", check=_positive_ints),
    # A string, so that Pulumi has a default: a boolean cannot say "unset".
    _string("aksPrivateCluster", "", "true or false - private AKS API server; empty (the default) makes it private "
            "unless aksAuthorizedIpRanges are given.", check=_true_false_or_empty),
    Key("aksAuthorizedIpRanges", "array", [], "CIDRs allowed to reach a public AKS API server (with aksPrivateCluster "
        "false).", items="string", check=_each(authorized_range_problem)),
    Key("aksAdminGroupObjectIds", "array", [], "Entra ID groups that administer the AKS cluster (local accounts are "
        "disabled).", items="string"),
    _string("aksRegistryId", "", "Resource ID of the Azure Container Registry the AKS nodes pull from; the kubelet "
            "identity gets AcrPull on it.", check=resource_id_problem),
    _string("aksGmsaDnsServer", "", "IP of a DNS server of the Active Directory domain, for AKS's gMSA support when the "
            "VNet's DNS does not resolve the domain (with aksGmsaRootDomainName).", check=ip_address_problem),
    _string("aksGmsaRootDomainName", "", "Root domain name of the Active Directory domain, for AKS's gMSA support (with "
            "aksGmsaDnsServer)."),
    _string("aksKubernetesVersion", "", "Kubernetes version of the AKS cluster; AKS's default when empty."),
    # Optional secrets: read only as secrets, and reaching hosts as Run Command protected parameters
    # (Azure) or secret SSH stdin (on-premises).
    _secret("adminPassword", "local administrator password of Azure hosts; generated when not set"),
    _secret("onpremPassword", "SSH password of onpremUser (or onpremPrivateKey)"),
    _secret("onpremPrivateKey", "SSH private key of onpremUser"),
    _secret("workloadSecrets", 'JSON {"<workload>": {"<PARAMETER>": "<value>"}}: the plan\'s runtime parameters',
            check=_workload_secrets),
    _secret("domainPassword", "password of domainUser (needed with domain)"),
    _secret("registryPassword", "password for registry login (on-premises hosts, registryAuth password)"),
    _secret("kubeconfig", "kubeconfig of your own cluster with Windows nodes (platform kubernetes)"),
)
KEY: Mapping[str, Key] = {key.name: key for key in KEYS}
DEFAULTS: Mapping[str, Any] = {key.name: key.default for key in KEYS if not key.secret}
OPTIONAL_SECRETS: tuple[str, ...] = tuple(key.name for key in KEYS if key.secret)


class StackConfig(Mapping[str, Any]):
    """The validated configuration of a stack: every declared key, its default filled in.

    A secret's value is its plain text (as pulumi.Config.get_secret holds it before wrapping it), or
    None when not set; `repr` never shows it. An undeclared name raises KeyError.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        shown = {k: ("[secret]" if KEY[k].secret and v is not None else v) for k, v in self._values.items()}
        return f"StackConfig({shown!r})"

    def workload_secrets(self) -> dict[str, dict[str, str]]:
        """Return `workloadSecrets` parsed: {"<workload>": {"<PARAMETER>": "<value>"}}; {} when not set."""
        raw = self._values["workloadSecrets"]
        return json.loads(raw) if raw else {}

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> StackConfig:
        """Return the configuration of `values` (key without namespace → a YAML-typed value, as a stack
        file holds it); secrets among them are taken as set with --secret."""
        raw = {f"{NAMESPACE}:{k}": _raw(v) for k, v in values.items()}
        return read_stack_config(raw.get, lambda key: True)


def _raw(value: Any) -> str:
    """The string Pulumi passes the program for a stack value: a JSON text for anything but a string."""
    return value if isinstance(value, str) else json.dumps(value)


def read_stack_config(get_value: Callable[[str], str | None], is_secret: Callable[[str], bool]) -> StackConfig:
    """Return the stack configuration; raise StackConfigError (one line naming the key) for a bad value.

    `get_value(key)` and `is_secret(key)` take the full key, e.g. pulumi.runtime.get_config and
    pulumi.runtime.is_config_secret. Secrets are checked first: an optional secret set in plain text
    (it would sit in Pulumi.<stack>.yaml) is refused before anything else is read.
    """
    for key in KEYS:
        if key.secret and get_value(key.full_name) is not None and not is_secret(key.full_name):
            raise StackConfigError(f"{key.full_name}: set it as a secret (pulumi config set --secret {key.full_name} ...), "
                                   "not in plain text")
    return StackConfig({key.name: parse_value(key, get_value(key.full_name)) for key in KEYS})


def parse_value(key: Key, raw: str | None) -> Any:
    """Return the value of `key` from Pulumi's raw string (None or "" gives the default), checked."""
    if raw is None or raw == "":
        return key.default
    value = _typed(key, raw)
    if key.choices and value not in key.choices and not (value == "" and key.default == ""):
        raise StackConfigError(f"{key.full_name}: expected one of {', '.join(key.choices)}, got {value!r}")
    problem = key.check(value) if key.check else None
    if problem:
        raise StackConfigError(f"{key.full_name}: {problem}")
    return value


_BOOLEANS = {"true": True, "True": True, "false": False, "False": False}   # what pulumi.Config.get_bool takes


def _typed(key: Key, raw: str) -> Any:
    if key.type == "string":
        return raw
    if key.type == "boolean":
        if raw in _BOOLEANS:
            return _BOOLEANS[raw]
        raise StackConfigError(f"{key.full_name}: expected true or false, got {raw!r}")
    if key.type == "integer":
        try:
            return int(raw)
        except ValueError:
            raise StackConfigError(f"{key.full_name}: expected a whole number, got {raw!r}") from None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, list) or not all(_is_item(key.items, item) for item in value):
        expected = key.expected or f"a list of {key.items}s"
        raise StackConfigError(f"{key.full_name}: expected {expected}")
    return value


def _is_item(items: str | None, value: Any) -> bool:
    if items == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


def aks_private_cluster(stack: Mapping[str, Any]) -> bool:
    """Return whether the AKS API server is private: `aksPrivateCluster` true/false, or when empty (its
    default) private unless `aksAuthorizedIpRanges` are given."""
    value = stack["aksPrivateCluster"]
    if value == "":
        return not stack["aksAuthorizedIpRanges"]
    return value.lower() == "true"
