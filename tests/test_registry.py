"""The registry piece: settings, the private ACR, AcrPull, and the login before each pull."""

from __future__ import annotations

import pulumi
import pytest
from google.protobuf import json_format

import pulumi_mocks
import sdk_inputs
from components.registry import ContainerRegistry, acr_pull, acr_pull_role_definition, login_lines, registry_settings
from components.workload import ContainerDefinition, run_script
from migrate.core.azure import ACR_PULL_ROLE_ID
from migrate.core.errors import RegistryConfigError
from psref import problems


@pytest.fixture
def monitor():
    mon = pulumi_mocks.start()
    yield mon
    pulumi_mocks.stop()


def test_settings_pick_managed_identity_for_acr_and_password_elsewhere():
    acr = registry_settings("myregistry.azurecr.io/hyperdock")
    assert (acr.server, acr.path, acr.auth, acr.acr_name) == ("myregistry.azurecr.io", "hyperdock", "managed-identity", "myregistry")
    assert acr.auth_for(True) == "managed-identity" and acr.auth_for(False) == "none-available"
    assert registry_settings("myregistry.azurecr.io", username="token1").auth_for(False) == "password"
    other = registry_settings("registry.corp.example:5000/apps", username="puller")
    assert (other.server, other.auth) == ("registry.corp.example:5000", "password")


@pytest.mark.parametrize("registry, kw, message", [
    ("hyperdock", {}, "Docker Hub"),                     # a bare name is Docker Hub
    ("someone/hyperdock", {}, "Docker Hub"),
    ("registry.corp.example/apps", {}, "registryUsername"),
    ("registry.corp.example/apps", {"auth": "managed-identity"}, "Azure Container Registry only"),
    ("myregistry.azurecr.io/x", {"auth": "token"}, "registryAuth"),
    ("my.azurecr.io/x", {"create_acr": True}, "5-50"),
    ("registry.corp.example/x", {"create_acr": True, "username": "u"}, "azurecr.io"),
    ("myregistry.azurecr.io/Bad Path", {}, "repository path"),
])
def test_bad_settings_are_refused(registry, kw, message):
    with pytest.raises(RegistryConfigError, match=message):
        registry_settings(registry, **kw)


def test_acr_pull_role_is_scoped_to_the_registrys_subscription():
    role = acr_pull_role_definition("/subscriptions/abc/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r")
    assert role == f"/subscriptions/abc/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL_ROLE_ID}"
    with pytest.raises(RegistryConfigError):
        acr_pull_role_definition("not-an-id")


@pulumi.runtime.test
def test_private_acr_and_acr_pull(monitor):
    registry = ContainerRegistry("reg", {"registry_name": "myregistry", "resource_group_name": "rg", "location": "westeurope"})
    grant = acr_pull("host-acr-pull", registry.registry_id, "00000000-0000-0000-0000-00000000abcd")

    def check(_):
        (acr,) = monitor.by_type("azure-native:containerregistry:Registry")
        body = json_format.MessageToDict(acr.object)
        assert body["adminUserEnabled"] is False and body["anonymousPullEnabled"] is False
        assert body["sku"] == {"name": "Standard"} and body["registryName"] == "myregistry"
        (role,) = monitor.by_type("azure-native:authorization:RoleAssignment")
        role_body = json_format.MessageToDict(role.object)
        assert role_body["roleDefinitionId"].endswith(f"/roleDefinitions/{ACR_PULL_ROLE_ID}")
        assert role_body["scope"].endswith("/reg-acr") and role_body["principalType"] == "ServicePrincipal"
        for request in (acr, role):
            assert sdk_inputs.check(request.type, json_format.MessageToDict(request.object)) == []

    return pulumi.Output.all(registry.urn, grant.urn).apply(check)


@pytest.mark.parametrize("host_os", ["ltsc2019", "ltsc2022", "ltsc2025"])
def test_login_scripts_pass_the_powershell_reference(host_os):
    from psref import reference_set_for_host

    for auth, username in (("managed-identity", ""), ("password", "puller")):
        definition = ContainerDefinition(name="web01", image="myacr01.azurecr.io/hd/web01:wave-5", isolation="process",
                                         registry_server="myacr01.azurecr.io", registry_auth=auth, registry_username=username)
        for script in (run_script(definition), run_script(definition, {}, "p@ss'w\n`$x")):
            assert problems(script, reference_set_for_host(host_os)) == []


def test_no_login_lines_without_auth():
    assert login_lines("reg.example", "none") == []
