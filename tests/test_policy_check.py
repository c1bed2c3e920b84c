"""The offline runner: the real analyzer over the program's registrations, and over generated files."""

from __future__ import annotations

import json

import pytest
import yaml
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs
from pulumi_policy.deserialize import deserialize_properties
from google.protobuf import json_format

from conftest import DATA, ROOT, run_cli
from policies import check
from policies.artifacts import check_artifacts
from policies.network import no_public_ip

INSECURE = DATA / "insecure" / "Pulumi.insecure.yaml"


def test_example_stack_has_no_mandatory_violation():
    result = run_cli("policy", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✅ hyperdock@v0.1.0 (offline: Pulumi.example.yaml)" in result.stdout
    assert "no violations" in result.stdout


def test_insecure_stack_names_each_broken_rule():
    result = run_cli("policy", "check", "--stack-file", str(INSECURE))
    assert result.returncode == 1
    broken = {line.split()[1] for line in result.stdout.splitlines() if line.strip().startswith("[mandatory]")}
    assert broken == {"hyperdock-azure-vm-no-public-ip", "hyperdock-workload-allowed-registries",
                      "hyperdock-workload-process-isolation"}
    assert "azure-native:network:PublicIPAddress (hyperv-01-pip):" in result.stdout  # grouped by resource
    assert "dmz-fab-api01 runs with process isolation, but it shares host process-contoso-internal-01" in result.stdout


def test_policy_config_downgrades_and_allows():
    config = {"all": "advisory"}
    values, secret_keys = check.load_stack_config(INSECURE)
    monitor = check.capture_program(check._placeholder_workload_secrets(values), secret_keys + ["hyperdock:workloadSecrets"])
    violations = check.analyze(monitor, config)
    assert violations and {v.level for v in violations} == {"advisory"}
    allowed = check.analyze(monitor, {"hyperdock-azure-vm-no-public-ip": {"allowPublicIp": True}})
    assert "hyperdock-azure-vm-no-public-ip" not in {v.policy for v in allowed}


def test_runner_violation_matches_validate_called_directly():
    values, secret_keys = check.load_stack_config(INSECURE)
    monitor = check.capture_program(check._placeholder_workload_secrets(values), secret_keys + ["hyperdock:workloadSecrets"])
    via_runner = [v for v in check.analyze(monitor, {}) if v.policy == no_public_ip.name and v.resource_name == "hyperv-01-pip"]
    index = next(i for i, r in enumerate(monitor.requests) if r.name == "hyperv-01-pip")
    request, urn = monitor.requests[index], monitor.urns[index]
    props = deserialize_properties(json_format.MessageToDict(request.object))
    opts = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])
    direct: list[str] = []
    no_public_ip.validate(ResourceValidationArgs(request.type, props, urn, request.name, opts, None, {}),
                          lambda message, urn=None: direct.append(message))
    assert [v.message for v in via_runner] == direct == ["a public IP address in the stack; container hosts are reached privately"]


@pytest.fixture(scope="module")
def sample_artifacts(tmp_path_factory):
    out = tmp_path_factory.mktemp("artifacts")
    result = run_cli("assess", "examples/estate/hv01.yaml", "examples/estate/hv02.json", "--out", str(out), "--generate",
                     "--quiet", "--registry", "myregistry.azurecr.io/hyperdock")
    assert result.returncode == 0, result.stderr
    return out


def test_generated_artifacts_pass_with_their_registry_allowed(sample_artifacts):
    assert check_artifacts(sample_artifacts, ["myregistry.azurecr.io/hyperdock"]) == []
    result = run_cli("policy", "check", "--artifacts", str(sample_artifacts), "--allow-registry", "myregistry.azurecr.io/hyperdock")
    assert result.returncode == 0, result.stdout


def test_generated_artifacts_fail_on_unapproved_registry(sample_artifacts):
    violations = check_artifacts(sample_artifacts, [])
    assert violations and {v.policy for v in violations} == {"hyperdock-workload-allowed-registries"}
    assert any(v.resource_type.startswith("compose/") and v.resource_type.endswith(" service") for v in violations)
    assert any(v.resource_type.endswith("Deployment") for v in violations)


def test_artifacts_with_mixed_tenants_and_secret_literals(tmp_path):
    compose = {"services": {
        "a": {"image": "mcr.microsoft.com/a:1", "isolation": "process", "networks": ["tenant-one"],
              "environment": {"DB": "Server=db;Password=hunter2"}},
        "b": {"image": "mcr.microsoft.com/b:1", "isolation": "hyperv", "networks": ["tenant-two"],
              "environment": ["LOG_LEVEL=info"]},
    }}
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(compose), encoding="utf-8")
    (tmp_path / "k8s").mkdir()
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "c"},
                  "spec": {"template": {"spec": {"containers": [
                      {"name": "c", "image": "mcr.microsoft.com/c:1", "env": [{"name": "API_KEY", "value": "api_key=abc123"}]}]}}}}
    (tmp_path / "k8s" / "c.yaml").write_text(yaml.safe_dump(deployment), encoding="utf-8")
    found = {(v.policy, v.resource_name) for v in check_artifacts(tmp_path, [])}
    assert found == {("hyperdock-workload-process-isolation", "a"), ("hyperdock-artifacts-no-secret-literals", "a"),
                     ("hyperdock-artifacts-no-secret-literals", "c")}


def test_pr_workflow_runs_tests_and_policy_checks():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pr.yml").read_text(encoding="utf-8"))
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "pytest" in runs and "hyperdock policy check" in runs
    preview = next(s for s in steps if s.get("uses", "").startswith("pulumi/actions@"))
    assert preview["with"]["command"] == "preview" and preview["with"]["policyPacks"].strip() == "policies"
    assert "PULUMI_ACCESS_TOKEN" in json.dumps(preview)


def test_a_colliding_plan_is_one_line_exit_2(tmp_path):
    stack = tmp_path / "Pulumi.collide.yaml"
    stack.write_text("config:\n  hyperdock:plan: tests/data/collide/plan\n  hyperdock:registry: myregistry.azurecr.io/hyperdock\n",
                     encoding="utf-8")
    result = run_cli("policy", "check", "--stack-file", str(stack))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "both publish port 80" in result.stderr


def test_hand_written_insecure_resources_in_the_stack_get_violations():
    """A raw VM and a standalone WinRM-from-the-internet SecurityRule, outside any hyperdock component."""
    import pulumi
    from pulumi_azure_native import compute, network

    from policies import capture

    monitor = capture.start(project="hyperdock", stack="raw")
    try:
        @pulumi.runtime.test
        def program():
            vm = compute.VirtualMachine(
                "raw-vm", resource_group_name="rg", hardware_profile={"vm_size": "Standard_D4_v3"},
                storage_profile={"image_reference": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                                                     "sku": "2016-datacenter", "version": "latest"}},
                os_profile={"computer_name": "raw", "admin_username": "azureuser", "admin_password": "Plain-Text-1!"})
            rule = network.SecurityRule(
                "winrm-from-internet", resource_group_name="rg", network_security_group_name="nsg", access="Allow",
                direction="Inbound", protocol="Tcp", priority=100, source_address_prefix="Internet",
                source_port_range="*", destination_address_prefix="*", destination_port_range="5985")
            return pulumi.Output.all(vm.urn, rule.urn)

        program()
    finally:
        capture.stop()
    violations = check.analyze(monitor, {})
    by_resource: dict[str, set[str]] = {}
    for v in violations:
        by_resource.setdefault(v.resource_name, set()).add(v.policy)
    assert {"hyperdock-azure-vm-approved-image", "hyperdock-azure-vm-managed-identity", "hyperdock-azure-vm-boot-diagnostics",
            "hyperdock-azure-vm-automatic-patching", "hyperdock-azure-vm-encryption", "hyperdock-azure-vm-trusted-launch",
            "hyperdock-azure-vm-admin-password-secret"} <= by_resource["raw-vm"]
    assert "hyperdock-azure-nsg-no-internet-management" in by_resource["winrm-from-internet"]
    message = next(v.message for v in violations if v.resource_name == "winrm-from-internet"
                   and v.policy == "hyperdock-azure-nsg-no-internet-management")
    assert "WinRM (5985) from the internet" in message
    # Narrowed to hyperdock's components, the hand-written resources are left alone.
    from policies.pack import POLICIES

    narrow = {p.name: {"onlyHyperdockComponents": True} for p in POLICIES
              if p.config_schema and "onlyHyperdockComponents" in p.config_schema.properties}
    assert not [v for v in check.analyze(monitor, narrow) if v.resource_name in ("raw-vm", "winrm-from-internet")
                and v.policy in narrow]
