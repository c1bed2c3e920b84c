"""Every PowerShell command and parameter hyperdock writes or runs is one Microsoft documents (tests/psref.py)."""

from __future__ import annotations

import base64
import itertools
import random
from pathlib import Path

import pytest

from conftest import ROOT, guest, inventory, vm, write_json
from psref import dockerfile_powershell, dockerfile_problems, problems, reference_set_for_host
from test_independent_estates import random_estate
from test_injection import HOSTILE, hostile_vm
from components.host_setup import (
    STDIN_RUNNER, DomainJoin, HostSetup, domain_join_script, features_script, prepare_script, reboot_script, runtime_script,
)
from components.stack import plan_stack
from migrate.contract.stack_config import StackConfig
from components.workload import ContainerDefinition, remove_script, run_script
from migrate.assess import Options, assess
from migrate.discover_azure import guest_probe_script
from migrate.contract.model import Platform
from migrate.contract.plan_io import plan_from_document
from migrate.generate.capacity import CapacityOptions
from migrate.generate.files import GenerateOptions, generate
from migrate.output import to_json

SAMPLE = [ROOT / "examples/estate/hv01.yaml", ROOT / "examples/estate/hv02.json"]
COLLECTOR = ROOT / "migrate" / "collect" / "Get-HyperdockInventory.ps1"


# The checker itself: what it accepts and what it reports.

def test_planted_new_webbinding_binding_information_fails():
    script = "Import-Module WebAdministration; New-WebBinding -Name 'shop' -Protocol 'http' -BindingInformation '*:80:'"
    assert problems(script, "ws2022") == ["line 1: New-WebBinding has no parameter -BindingInformation"]


def test_real_parameters_aliases_prefixes_and_common_parameters_pass():
    script = "\n".join([
        "New-WebBinding -Name 'shop' -Protocol 'http' -IPAddress '*' -Port 80 -HostHeader 'shop.contoso.com'",
        "Get-Content -PSPath 'C:\\a.txt' -Raw -ErrorAction Stop -ev err",   # alias, common parameter and its alias
        "Get-ChildItem -Recu -Path 'C:\\'",                                 # unambiguous prefix
        "Unregister-ScheduledTask -TaskName 'x' -Confirm:$false",           # Confirm where the cmdlet has it
        "Get-Service -Name 'w3svc' | Where-Object { $_.Status -eq 'Running' } | Out-Null",
    ])
    assert problems(script, "ws2019") == []


@pytest.mark.parametrize("script, expected", [
    ("Get-Item -P 'x'", "ambiguous"),                                   # Path, PipelineVariable, LiteralPath's alias
    ("Remove-Item -LiteralPath 'a' -Path 'b'", "no parameter set"),
    ("Get-Service -Name 'x' -Confirm", "no parameter -Confirm"),       # not a ShouldProcess cmdlet
    ("Get-Item -Path 'x' -ProgressAction Stop", "no parameter -ProgressAction"),  # 7.4 only
    ("Install-WebSite -Name 'x'", "not a documented command"),
    ("New-CredentialSpec -AccountName 'a'", "not a documented command"),  # CredentialSpec not installed
    ("format.exe C:", "not a documented command"),                     # not an allowed native executable
    ("$tool = 'C:\\x\\evil.exe'\n& $tool", "allowed native executable"),
    ("& ('calc' + '.exe')", "not a documented command"),              # computed, not a literal path
    ("& { Get-Item -Bogus 'x' }", "no parameter -Bogus"),              # inside a script block run with &
])
def test_wrong_commands_and_parameters_are_reported(script, expected):
    found = problems(script, "ws2025")
    assert len(found) == 1 and expected in found[0], found


def test_gallery_module_commands_count_once_installed():
    script = "Install-Module -Name CredentialSpec -Force\nNew-CredentialSpec -AccountName 'web' -Path 'C:\\web.json'"
    assert problems(script, "ws2022") == []
    assert "no parameter -Account" not in problems(script.replace("-AccountName", "-Acc"), "ws2022")
    assert problems(script.replace("-AccountName", "-Bogus"), "ws2022") == ["line 2: New-CredentialSpec has no parameter -Bogus"]


def test_native_executables_by_name_and_through_a_variable():
    script = ("$dockerd = Join-Path -Path $env:ProgramFiles -ChildPath 'docker\\dockerd.exe'\n& $dockerd --register-service\n"
              "& docker pull 'x'\n& 'C:\\apps\\job.exe' -Run")
    assert problems(script, "ws2022") == []


def test_reference_sets_follow_the_windows_server_version():
    assert problems("Get-WindowsFeature -Name 'Web-Server'", "ws2019") == []
    assert problems("Add-VMGpuPartitionAdapter -VMName 'x'", "ws2025") == []
    assert "not a documented command in ws2019" in problems("Add-VMGpuPartitionAdapter -VMName 'x'", "ws2019")[0]


def test_exec_form_powershell_in_dockerfiles_is_checked():
    dockerfile = "\n".join([
        "# escape=`", "FROM mcr.microsoft.com/windows/servercore:ltsc2022",
        'SHELL ["powershell", "-Command"]',
        "RUN Import-Module WebAdministration; `", "    New-WebBinding -Name 'a' -Port 80",
        'HEALTHCHECK --interval=30s CMD ["powershell", "-Command", "Invoke-WebRequest -Url \'http://localhost/\'"]',
        'ENTRYPOINT ["C:\\\\ServiceMonitor.exe", "w3svc"]'])
    reference_set, scripts = dockerfile_powershell(dockerfile)
    assert reference_set == "ws2022" and len(scripts) == 2
    (problem,) = dockerfile_problems(dockerfile)
    assert "Invoke-WebRequest -Url is ambiguous" not in problem and "Invoke-WebRequest" in problem


# What hyperdock writes and runs.

def test_collector_for_every_host_version_and_powershell():
    script = COLLECTOR.read_text(encoding="utf-8")
    for reference_set in ("ws2016", "ws2019", "ws2022", "ws2025", "ws2016+7.4", "ws2025+7.4"):
        assert problems(script, reference_set) == [], reference_set


def test_guest_probe_run_by_azure_run_command():
    script = "\n".join(guest_probe_script())
    for reference_set in ("ws2016", "ws2019", "ws2022", "ws2025"):
        assert problems(script, reference_set) == [], reference_set


SETUPS = [HostSetup(host_os=host_os, hyperv=hyperv, nested=nested, docker_sha256=sha, compose_sha256=sha,
                    nat_subnet=nat, base_images=images)
          for host_os, hyperv, nested, sha, nat, images in itertools.product(
              ("ltsc2019", "ltsc2022", "ltsc2025"), (False, True), (False, True), (None, "ab" * 32),
              (None, "172.30.0.0/16"), ((), ("mcr.microsoft.com/windows/servercore:ltsc2022",)))]
JOINS = [DomainJoin("contoso.local", "CONTOSO\\joiner"), DomainJoin("contoso.local", "j@contoso.local", "OU=Hosts,DC=contoso,DC=local")]


@pytest.mark.parametrize("setup", SETUPS, ids=str)
def test_host_setup_scripts(setup):
    reference_set = reference_set_for_host(setup.host_os)
    scripts = [features_script(setup), reboot_script("abc"), runtime_script(setup),
               base64.b64decode(STDIN_RUNNER.rsplit(" ", 1)[1]).decode("utf-16-le")]
    scripts += [domain_join_script(join, password) for join in JOINS for password in (None, "p@ss'word\n`$x")]
    scripts += [prepare_script(setup, join) for join in [None, *JOINS]]
    for script in scripts:
        assert problems(script, reference_set) == []


def generated(records_or_paths, host_os: str, tmp_path: Path) -> tuple[dict, dict[str, str]]:
    """Return (plan, generated files) for an estate given as inventory records or files."""
    paths = records_or_paths
    if records_or_paths and isinstance(records_or_paths[0], dict):
        paths = [write_json(tmp_path / "estate.json", inventory(*records_or_paths))]
    plan = assess(list(paths), [], Options(host_os=host_os))
    # On-premises hosts: Azure has no Windows Server 2019 host image, and the scripts are the same.
    files, _ = generate(plan_from_document(plan), GenerateOptions(experimental_k8s_hyperv=True, capacity=CapacityOptions(platform=Platform.ONPREM)))
    return plan, files


def check_outputs(plan: dict, files: dict[str, str], tmp_path: Path) -> int:
    """Check every Dockerfile, gMSA script and workload run script; return how many scripts were checked."""
    found, checked = [], 0
    for path, text in sorted(files.items()):
        if path.endswith("/Dockerfile"):
            checked += len(dockerfile_powershell(text)[1])
            found += [f"{path}: {p}" for p in dockerfile_problems(text)]
        elif path.endswith(".ps1"):
            # gmsa.ps1 runs on a container host; other scripts in a container folder run in its image.
            dockerfile = files.get(path.rsplit("/", 1)[0] + "/Dockerfile")
            in_image = not path.endswith("/gmsa.ps1") and dockerfile is not None
            reference_set = dockerfile_powershell(dockerfile)[0] if in_image else reference_set_for_host(plan["hostOS"])
            checked += 1
            found += [f"{path}: {p}" for p in problems(text, reference_set)]
    for script in workload_scripts(plan, files, tmp_path):
        checked += 1
        found += problems(script, reference_set_for_host(plan["hostOS"]))
    assert found == []
    return checked


def workload_scripts(plan: dict, files: dict[str, str], tmp_path: Path) -> list[str]:
    """Return the run and remove scripts ContainerWorkload would send to each planned host."""
    folder = tmp_path / "plan"
    folder.mkdir(exist_ok=True)
    (folder / "plan.json").write_bytes(to_json(plan))
    (folder / "hosts.yaml").write_text(files["hosts.yaml"], encoding="utf-8")
    addresses = [f"192.0.2.{i}" for i in range(1, 255)]
    stack = plan_stack(StackConfig.from_values({"plan": "plan", "registry": "registry.contoso.com/apps", "onpremHosts": addresses}), tmp_path)
    scripts = []
    for w in stack.workloads:
        definition = ContainerDefinition(name=w.name, image=w.image, isolation=w.isolation, ports=w.ports,
                                         secret_names=w.secret_names, credential_spec=w.credential_spec,
                                         volumes=w.volumes)
        scripts += [run_script(definition), remove_script(definition),
                    run_script(definition, {k: "p@ss'word\n`$x" for k in w.secret_names})]
    # Registry login before the pull (components/registry.py), each way, on the first workload.
    first = stack.workloads[0] if stack.workloads else None
    for auth, user in (("managed-identity", ""), ("password", "puller")):
        if first is not None:
            login = ContainerDefinition(name=first.name, image="contoso.azurecr.io/apps/x:1", isolation=first.isolation,
                                        registry_server="contoso.azurecr.io", registry_auth=auth, registry_username=user)
            scripts += [run_script(login), run_script(login, {}, registry_password="p'w")]
    return scripts


@pytest.mark.parametrize("host_os", ["ltsc2025", "ltsc2022", "ltsc2019"])
def test_sample_estate_outputs(host_os, tmp_path):
    plan, files = generated(SAMPLE, host_os, tmp_path)
    assert check_outputs(plan, files, tmp_path) > 20


def iis_estate(seed: int) -> list[dict]:
    """A random estate of IIS sites (several bindings, app pools, applications), services and tasks."""
    rnd = random.Random(seed)
    records = []
    for i in range(12):
        name = f"W{seed}-{i}"
        bindings = [rnd.choice([f"http/*:{rnd.choice([80, 8080])}:", f"https/*:443:{name.lower()}.contoso.com",
                                f"http/10.0.0.{i + 1}:80:www.contoso.com", "net.tcp/808:*", "net.pipe/*"])
                    for _ in range(rnd.randint(1, 3))]
        pool = {"Name": f"pool{i}", "ManagedRuntimeVersion": rnd.choice(["v4.0", "v2.0", ""]),
                "Enable32BitAppOnWin64": rnd.random() < 0.3, "IdentityType": rnd.choice(["ApplicationPoolIdentity", "SpecificUser"]),
                "UserName": "CORP\\svc"}
        site = {"Name": f"site{i}", "Bindings": bindings, "PhysicalPath": rnd.choice(["C:\\inetpub\\s", "D:\\web\\s"]),
                "ApplicationPool": pool["Name"], "WindowsAuthentication": rnd.random() < 0.4,
                "Applications": [{"Path": "/api", "PhysicalPath": "C:\\apps\\api", "ApplicationPool": pool["Name"]}]
                if rnd.random() < 0.5 else []}
        services = [{"Name": "AppSvc", "StartMode": "Auto", "PathName": '"C:\\apps\\svc.exe" -run', "StartName": "LocalSystem"}] \
            if rnd.random() < 0.4 else []
        tasks = [{"TaskName": "nightly", "Execute": "C:\\jobs\\nightly.exe", "RunAs": "CORP\\batch"}] if rnd.random() < 0.3 else []
        features = ["Web-Server", "Web-Asp-Net45"] + rnd.sample(["Web-Windows-Auth", "NET-WCF-TCP-Activation45", "MSMQ-Server",
                                                                  "Web-Basic-Auth"], rnd.randint(0, 2))
        records.append(vm(name, ip=f"10.1.{seed}.{i + 1}", tags={"app": f"a{i % 4}", "env": rnd.choice(["prod", "dev"])},
                          guest_data=guest(OSVersion=rnd.choice(["10.0.17763", "10.0.20348"]), Features=features,
                                           IISSites=[site] if rnd.random() < 0.8 else [], AppPools=[pool],
                                           Services=services, ScheduledTasks=tasks,
                                           ConnectionStrings=[{"File": "C:\\inetpub\\s\\web.config", "Name": "Main"}])))
    return records


@pytest.mark.parametrize("seed", range(4))
def test_random_estates_outputs(seed, tmp_path):
    host_os = ("ltsc2025", "ltsc2022", "ltsc2019")[seed % 3]
    plan, files = generated(iis_estate(seed) + random_estate(seed, size=30), host_os, tmp_path)
    assert check_outputs(plan, files, tmp_path) > 10


def test_hostile_estate_outputs(tmp_path):
    plan, files = generated([hostile_vm(i, v) for i, v in enumerate(HOSTILE)], "ltsc2025", tmp_path)
    assert check_outputs(plan, files, tmp_path) > len(HOSTILE)
