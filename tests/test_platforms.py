"""Host platforms are plug-ins (components/platforms): every Platform value has one module implementing
HostPlatform, and generate, the stack plan and ContainerWorkload consult the registry, not platform names."""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys

import pulumi
import pytest
import yaml

import pulumi_mocks
from conftest import ROOT
from components.platforms import PLATFORMS, HostPlatform, HostSpec, SizeOptions, host_platform
from components.platforms.onprem import OnPremPlatform
from components.workload import ContainerWorkload, ContainerWorkloadArgs
from migrate.contract.model import Isolation, Platform
from migrate.core.azure import HostSize

from plan_fixtures import typed_plan


def test_every_platform_value_has_a_registered_module():
    assert set(PLATFORMS) == set(Platform)
    for value, platform in PLATFORMS.items():
        assert isinstance(platform, HostPlatform) and platform.platform is value
        # An abstract method left out would have made the class impossible to instantiate.
        assert not inspect.isabstract(type(platform))
        assert platform.workload_target in ContainerWorkloadArgs.__annotations__
        assert platform.hosts_title and isinstance(platform.managed_identity, bool)
    assert len({p.workload_target for p in PLATFORMS.values()}) == len(PLATFORMS)


def test_hosts_schema_and_generate_option_offer_the_registered_platforms():
    schema = json.loads((ROOT / "migrate" / "schemas" / "hosts.schema.json").read_text(encoding="utf-8"))
    assert schema["properties"]["platform"]["enum"] == [p.value for p in PLATFORMS]
    from migrate.commands.generate import add_generate_options

    parser = argparse.ArgumentParser()
    add_generate_options(parser)
    choices = next(a.choices for a in parser._actions if a.dest == "platform")
    assert [c for c in choices if c != "aks"] == [p.value for p in PLATFORMS]


def test_capacity_half_loads_no_pulumi():
    # `hyperdock generate` plans capacity through the registry; neither it nor the registry loads Pulumi.
    code = ("import sys; from components.platforms import PLATFORMS; from migrate.commands.generate import generate_settings; "
            "import migrate.generate.files; print(sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


class FakePlatform(OnPremPlatform):
    """Stands in for a new platform: everything consumers do with it must come from here."""

    hosts_title = "fake hosts"
    workload_target = "connection"
    runs: list = []

    def host_size(self, options: SizeOptions) -> HostSize:
        return HostSize("fake-size", 7, 7 * 1024, True)

    def pool_notes(self, isolation: Isolation, size: HostSize) -> list[str]:
        return [f"fake note for {isolation} on {size.name}"]

    def planned_host(self, config, name, isolation, host_size, image_os, index, count) -> HostSpec:
        return HostSpec(name, self.platform, isolation, address=f"fake-{index}-of-{count}", image_os=image_os)

    def run_workload(self, name, definition, secrets, registry_password, target, parent):
        self.runs.append((name, definition.name, target))
        return pulumi.CustomResource("fake:index:Run", f"{name}-run", {"target": target},
                                     opts=pulumi.ResourceOptions(parent=parent))


@pytest.fixture
def fake(monkeypatch):
    platform = FakePlatform()
    platform.runs = []
    monkeypatch.setitem(PLATFORMS, Platform.ONPREM, platform)
    return platform


def test_generate_plans_capacity_with_the_registered_platform(fake):
    from migrate.commands.generate import add_generate_options, generate_settings
    from migrate.generate.capacity import capacity_plan

    parser = argparse.ArgumentParser()
    add_generate_options(parser)
    options = generate_settings(parser.parse_args(["--platform", "onprem"]))   # no --host-vcpus: the fake needs none
    assert options.capacity.size.name == "fake-size" and host_platform("onprem") is fake
    plan = typed_plan([{"name": "web01", "target": "hyperv"}])
    hosts = capacity_plan(plan, plan.labels, options.capacity)
    assert hosts.platform is Platform.ONPREM
    assert hosts.pools[0].notes == ("fake note for hyperv on fake-size",)


def test_the_stack_plan_builds_hosts_yaml_hosts_with_the_registered_platform(fake, tmp_path):
    from components.stack import plan_stack
    from migrate.contract.stack_config import StackConfig

    (tmp_path / "plan.json").write_bytes((ROOT / "examples" / "plan" / "plan.json").read_bytes())
    hosts = yaml.safe_load((ROOT / "examples" / "plan" / "hosts.yaml").read_text(encoding="utf-8"))
    hosts["platform"] = "onprem"
    (tmp_path / "hosts.yaml").write_text(yaml.safe_dump(hosts), encoding="utf-8")
    stack = plan_stack(StackConfig.from_values({"plan": str(tmp_path), "registry": "myacr.azurecr.io/hd"}), tmp_path)
    count = sum(len(p["hosts"]) for p in hosts["pools"])
    assert [h.address for h in stack.hosts] == [f"fake-{i}-of-{count}" for i in range(count)]
    assert {h.platform for h in stack.hosts} == {Platform.ONPREM}


@pytest.fixture
def monitor():
    mon = pulumi_mocks.start()
    yield mon
    pulumi_mocks.stop()


@pulumi.runtime.test
def test_a_workload_runs_through_its_platform_runner(fake, monitor):
    workload = ContainerWorkload("api01", {"image": "reg.example/hd/api01:wave-5", "connection": {"host": "h"}})

    def check(_):
        assert fake.runs == [("api01", "api01", {"host": "h"})]
        assert [r.type for r in monitor.requests if r.type.startswith("fake:")] == ["fake:index:Run"]
        assert not [r for r in monitor.requests if r.type == "command:remote:Command"]

    return pulumi.Output.all(workload.urn, workload.run.urn).apply(check)


def test_each_platform_serves_a_documented_host_component():
    from pulumi.provider.experimental.analyzer import Analyzer

    classes = [p.host_component() for p in PLATFORMS.values()]
    assert all(issubclass(c, pulumi.ComponentResource) for c in classes)
    components = Analyzer("hyperdock").analyze(classes)["component_definitions"]
    assert set(components) == {c.__name__ for c in classes}
    for component in components.values():
        assert all(prop.description for prop in component.inputs.values()), component.name
