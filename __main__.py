"""hyperdock's Pulumi program: Windows Server container hosts and the workloads on them.

Everything is validated before the first resource is registered: the stack configuration
(migrate/contract/stack_config.py, which declares every key), the stack plan (components/stack.py),
then every host's and workload's settings.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pulumi
from pulumi_azure_native import network, resources

from components.azure_host import AzureContainerHost, azure_host_settings, management_rules
from components.onprem_host import OnPremContainerHost, onprem_host_scripts
from components.registry import ContainerRegistry, acr_pull, registry_settings
from components.kubernetes_stack import deploy_kubernetes, kubernetes_settings
from components.stack import plan_stack, refuse_gmsa_without_domain
from components.validation import validate_management_cidrs
from components.workload import ContainerWorkload, workload_definition
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
azure_args, onprem_args = {}, {}
for spec in stack_plan.hosts:
    if spec.platform == "azure":
        azure_args[spec.name] = {
            **common, "location": config["location"], "vm_size": spec.vm_size, "image_sku": config["imageSku"],
            # Process-isolation hosts always get Trusted Launch; Hyper-V hosts leave securityType out
            # unless TrustedLaunch is asked for (components/validation.py).
            "isolation": spec.isolation,
            "security_type": (config["securityType"] or None) if spec.isolation != "process" else None,
            "encryption_at_host": config["encryptionAtHost"],
            "management_cidrs": config["managementCidrs"], "public_ip": config["publicIp"],
            "admin_username": config["adminUsername"], "workload_image_os": list(spec.image_os),
        }
        if config["adminPassword"] is not None:
            azure_args[spec.name]["admin_password"] = secret("adminPassword")
    else:
        onprem_args[spec.name] = {
            **common, "address": spec.address, "user": config["onpremUser"],
            "host_os": config["onpremHostOs"], "isolation": spec.isolation,
            "host_key": spec.host_key, "workload_image_os": list(spec.image_os),
            "password": secret("onpremPassword"), "private_key": secret("onpremPrivateKey"),
        }
        onprem_args[spec.name] = {k: v for k, v in onprem_args[spec.name].items() if v is not None}

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
    if registry.auth == "password" or (onprem_args and registry.auth_for("onprem") == "password"):
        if config["registryPassword"] is None:
            raise StackConfigError("hyperdock:registryPassword: password login to the registry needs it (as a secret)")
    if onprem_args and registry.auth_for("onprem") == "none-available":
        raise StackConfigError("hyperdock:registryUsername: on-premises hosts have no managed identity; give "
                               "registryUsername and registryPassword (e.g. an ACR token) for them")
    if azure_args and registry.auth == "managed-identity" and not (create_registry or config["registryResourceId"]):
        pulumi.log.warn("hyperdock:registryResourceId is not set: Azure hosts pull with their managed identity, so grant "
                        "them AcrPull on the registry yourself (or set createRegistry or registryResourceId)")
elif create_registry:
    registry = registry_settings(config["registry"], create_acr=True)

# platform aks/kubernetes: the cluster and the Kubernetes workloads, validated here too.
kubernetes_stack = kubernetes_settings(config, Path(__file__).resolve().parent, secrets)

# Validate every host and workload before registering anything.
for name, args in azure_args.items():
    azure_host_settings(args)
for name, args in onprem_args.items():
    onprem_host_scripts(args)
def registry_login(platform: str) -> dict:
    """The registry arguments of a workload on a host of `platform`."""
    if registry is None:
        return {}
    auth = registry.auth_for(platform)
    login = {"registry_server": registry.server, "registry_auth": auth, "registry_username": registry.username}
    if auth == "password":
        login["registry_password"] = secret("registryPassword")
    return login


for w in stack_plan.workloads:
    target = {"connection": {}} if w.host in onprem_args else {"azure_vm": {}}
    workload_definition(w.name, {"container_name": w.name, "image": w.image, "isolation": w.isolation, "ports": w.ports,
                                 "secrets": {n: "" for n in w.secret_names}, "credential_spec": w.credential_spec, **target,
                                 **registry_login("onprem" if w.host in onprem_args else "azure")})

hosts = {}
if azure_args:
    # One resource group, NSG and VNet for all Azure hosts of the stack.
    group = resources.ResourceGroup("hyperdock-rg", location=config["location"], tags={"managed-by": "hyperdock"})
    nsg = network.NetworkSecurityGroup(
        "hyperdock-nsg", resource_group_name=group.name, location=config["location"],
        security_rules=management_rules(validate_management_cidrs(config["managementCidrs"])),
        tags={"managed-by": "hyperdock"})
    vnet = network.VirtualNetwork(
        "hyperdock-vnet", resource_group_name=group.name, location=config["location"],
        address_space={"address_prefixes": ["10.20.0.0/16"]},
        subnets=[{"name": "hosts", "address_prefix": "10.20.0.0/20", "network_security_group": {"id": nsg.id}}],
        tags={"managed-by": "hyperdock"})
    subnet_id = vnet.subnets.apply(lambda subnets: subnets[0].id if hasattr(subnets[0], "id") else subnets[0]["id"])
registry_id = config["registryResourceId"] or None
if create_registry:
    if not azure_args:
        raise StackConfigError("hyperdock:createRegistry: the registry goes into the Azure hosts' resource group; "
                               "there are no Azure hosts")
    acr = ContainerRegistry("hyperdock-registry", {"registry_name": registry.acr_name, "resource_group_name": group.name,
                                                   "location": config["location"], "sku": config["registrySku"]})
    registry_id = acr.registry_id
pulls = {}
for name, args in azure_args.items():
    hosts[name] = AzureContainerHost(name, {**args, "resource_group_name": group.name, "subnet_id": subnet_id,
                                            "network_security_group_id": nsg.id})
    if registry is not None and registry.auth == "managed-identity" and registry_id is not None:
        pulls[name] = acr_pull(f"{name}-acr-pull", registry_id, hosts[name].principal_id)
for name, args in onprem_args.items():
    hosts[name] = OnPremContainerHost(name, args)

for w in stack_plan.workloads:
    host = hosts[w.host]
    if isinstance(host, AzureContainerHost):
        target = {"azure_vm": {"resource_group_name": host.resource_group_name, "vm_name": host.vm_name,
                               "location": config["location"]}}
    else:
        target = {"connection": host.connection}
    # The last host step (after the restart, with the runtime ready), and the host's AcrPull grant.
    depends = [host.runtime] + ([pulls[w.host]] if w.host in pulls else [])
    platform = "azure" if isinstance(host, AzureContainerHost) else "onprem"
    ContainerWorkload(w.name, {
        "container_name": w.name, "image": w.image, "isolation": w.isolation, "ports": list(w.ports),
        "secrets": {n: pulumi.Output.secret(secrets[w.name][n]) for n in w.secret_names},
        "credential_spec": w.credential_spec, "host": w.host, "image_os": w.image_os, "tenant": w.tenant,
        "zone": w.zone, "restart_policy": w.restart_policy, "volumes": dict(w.volumes), **target,
        **registry_login(platform),
    }, opts=pulumi.ResourceOptions(depends_on=depends))

pulumi.export("hosts", {name: (h.private_ip if isinstance(h, AzureContainerHost) else h.address) for name, h in hosts.items()})
pulumi.export("workloads", sorted(w.name for w in stack_plan.workloads))
if kubernetes_stack is not None:
    deploy_kubernetes(kubernetes_stack, config, secrets)
