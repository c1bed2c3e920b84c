"""hyperdock's Pulumi program: Windows Server container hosts and the workloads on them.

Everything is validated before the first resource is registered: the stack configuration
(migrate/contract/stack_config.py, which declares every key), the stack plan (components/stack.py),
then every host's and workload's settings.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pulumi

from components.platforms import PLATFORMS, HostPlatform, host_platform
from components.registry import ContainerRegistry, acr_pull, registry_settings
from components.kubernetes_stack import deploy_kubernetes, kubernetes_settings
from components.stack import plan_stack, refuse_gmsa_without_domain
from components.workload import ContainerWorkload, workload_definition
from migrate.contract.model import Platform
from migrate.contract.stack_config import read_stack_config
from migrate.core.errors import StackConfigError

# Registration keeps thousands of Outputs and futures alive until the program ends, and the cyclic
# GC's default thresholds (a collection every 700 allocations) traverse them again and again: about
# a third of the program's CPU at 100 hosts (benchmarks/pulumi_hosts.py). Acyclic objects are still
# freed at once by reference counting; only cycles wait for the rarer collections.
gc.set_threshold(10_000, 10, 10)

config = read_stack_config(pulumi.runtime.get_config, pulumi.runtime.is_config_secret)


def secret(name: str) -> pulumi.Output[str] | None:
    """The optional secret `name` as a Pulumi secret, or None when the stack does not set it."""
    return None if config[name] is None else pulumi.Output.secret(config[name])


stack_plan = plan_stack(config, Path(__file__).resolve().parent)
refuse_gmsa_without_domain(stack_plan.workloads, config["domain"])

common = {
    "docker_version": config["dockerVersion"], "docker_sha256": config["dockerSha256"] or None,
    "compose_version": config["composeVersion"], "compose_sha256": config["composeSha256"] or None,
    "nat_subnet": config["natSubnet"] or None,
}
if config["domain"]:
    common.update(domain=config["domain"], domain_user=config["domainUser"],
                  domain_ou_path=config["domainOuPath"] or None, domain_password=secret("domainPassword"))
# Each host's platform (components/platforms) turns the config into its component's arguments.
platform_of: dict[str, HostPlatform] = {spec.name: host_platform(spec.platform) for spec in stack_plan.hosts}
host_args = {spec.name: platform_of[spec.name].host_args(spec, config, common, secret) for spec in stack_plan.hosts}
in_use = [p for p in PLATFORMS.values() if p in platform_of.values()]

secrets = config.workload_secrets()
for w in stack_plan.workloads:
    missing = [n for n in w.secret_names if n not in secrets.get(w.name, {})]
    if missing:
        raise StackConfigError(f"hyperdock:workloadSecrets: {w.name} needs {', '.join(missing)}")

# gMSA needs domain-joined hosts (or a CCG plug-in, which hyperdock does not set up).
gmsa_workloads = sorted(w.name for w in stack_plan.workloads if w.credential_spec)
if gmsa_workloads and not config["domain"]:
    pulumi.log.warn(f"{', '.join(gmsa_workloads)} use gMSA, which needs domain-joined hosts: set hyperdock:domain, "
                    "domainUser and domainPassword, or join the hosts yourself before they run")

# The registry the workloads pull from (components/registry.py): how each platform's hosts log in.
registry = None
create_registry = config["createRegistry"]
if stack_plan.workloads:
    registry = registry_settings(config["registry"], config["registryAuth"], config["registryUsername"],
                                 create_acr=create_registry)
    if registry.auth == "password" or any(registry.auth_for(p.managed_identity) == "password" for p in in_use):
        if config["registryPassword"] is None:
            raise StackConfigError("hyperdock:registryPassword: password login to the registry needs it (as a secret)")
    for p in in_use:
        if registry.auth_for(p.managed_identity) == "none-available":
            raise StackConfigError(f"hyperdock:registryUsername: {p.hosts_title} have no managed identity; give "
                                   "registryUsername and registryPassword (e.g. an ACR token) for them")
    pulling = [p.hosts_title for p in in_use if p.managed_identity]
    if pulling and registry.auth == "managed-identity" and not (create_registry or config["registryResourceId"]):
        pulumi.log.warn(f"hyperdock:registryResourceId is not set: {' and '.join(pulling)} pull with their managed "
                        "identity, so grant them AcrPull on the registry yourself (or set createRegistry or registryResourceId)")
elif create_registry:
    registry = registry_settings(config["registry"], create_acr=True)

# platform aks/kubernetes: the cluster and the Kubernetes workloads, validated here too.
kubernetes_stack = kubernetes_settings(config, Path(__file__).resolve().parent, secrets)

# Validate every host and workload before registering anything.
for name, args in host_args.items():
    platform_of[name].validate_host(args)


def registry_login(platform: HostPlatform) -> dict:
    """The registry arguments of a workload on a host of `platform`."""
    if registry is None:
        return {}
    auth = registry.auth_for(platform.managed_identity)
    login = {"registry_server": registry.server, "registry_auth": auth, "registry_username": registry.username}
    if auth == "password":
        login["registry_password"] = secret("registryPassword")
    return login


for w in stack_plan.workloads:
    platform = platform_of[w.host]
    workload_definition(w.name, {"container_name": w.name, "image": w.image, "isolation": w.isolation, "ports": w.ports,
                                 "secrets": {n: "" for n in w.secret_names}, "credential_spec": w.credential_spec,
                                 platform.workload_target: {}, **registry_login(platform)})

# What the hosts of each platform share (Azure: one resource group, NSG and VNet), then the hosts.
shared = {p.platform: p.create_shared(config) for p in in_use}
registry_id = config["registryResourceId"] or None
if create_registry:
    if shared.get(Platform.AZURE) is None:
        raise StackConfigError("hyperdock:createRegistry: the registry goes into the Azure hosts' resource group; "
                               "there are no Azure hosts")
    acr = ContainerRegistry("hyperdock-registry", {"registry_name": registry.acr_name,
                                                   "resource_group_name": shared[Platform.AZURE].resource_group.name,
                                                   "location": config["location"], "sku": config["registrySku"]})
    registry_id = acr.registry_id
hosts, pulls = {}, {}
for name, args in host_args.items():
    platform = platform_of[name]
    hosts[name] = platform.create_host(name, args, shared[platform.platform])
    if (platform.managed_identity and registry is not None and registry.auth == "managed-identity"
            and registry_id is not None):
        pulls[name] = acr_pull(f"{name}-acr-pull", registry_id, hosts[name].principal_id)

for w in stack_plan.workloads:
    host, platform = hosts[w.host], platform_of[w.host]
    target = {platform.workload_target: platform.target_of(host, config)}
    # The last host step (after the restart, with the runtime ready), and the host's AcrPull grant.
    depends = [host.runtime] + ([pulls[w.host]] if w.host in pulls else [])
    ContainerWorkload(w.name, {
        "container_name": w.name, "image": w.image, "isolation": w.isolation, "ports": list(w.ports),
        "secrets": {n: pulumi.Output.secret(secrets[w.name][n]) for n in w.secret_names},
        "credential_spec": w.credential_spec, "host": w.host, "image_os": w.image_os, "tenant": w.tenant,
        "zone": w.zone, "restart_policy": w.restart_policy, "volumes": dict(w.volumes), **target,
        **registry_login(platform),
    }, opts=pulumi.ResourceOptions(depends_on=depends))

pulumi.export("hosts", {name: platform_of[name].host_address(h) for name, h in hosts.items()})
pulumi.export("workloads", sorted(w.name for w in stack_plan.workloads))
if kubernetes_stack is not None:
    deploy_kubernetes(kubernetes_stack, config, secrets)
