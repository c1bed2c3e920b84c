"""An estate with the cases that broke real `docker build`/`docker run` (issue 9), and what it generates.

tests/data/windows-estate.json: two IIS sites on port 80 (one `*:80:`, one by host name), a
host-name HTTPS site, a CLR 2.0 site, a WCF net.tcp site, a .NET 8 service, a VM whose work is
scheduled tasks and a print server. Each artifact is read as the Windows engineer who runs
`docker build` and `kubectl apply` would read it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from conftest import DATA, run_cli
from powershell_ast import command_names, nodes, parse
from plan_fixtures import typed_trigger, typed_workload
from psref import dockerfile_powershell, dockerfile_problems, problems
from migrate.contract.schedule import cron_schedule

ESTATE = DATA / "windows-estate.json"
COMPOSE_SCHEMA = json.loads((DATA / "compose_spec.json").read_text(encoding="utf-8"))
HADOLINT = shutil.which("hadolint") or str(Path(__import__("sys").executable).parent / "hadolint")
# Feature names as Get-WindowsFeature writes them (tests/data/windows-features.json, see SOURCES.md).
FEATURE_NAMES = {f["Name"] for f in json.loads((DATA / "windows-features.json").read_text(encoding="utf-8-sig"))}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("windows") / "out"
    result = run_cli("assess", str(ESTATE), "--host-os", "ltsc2022", "--out", str(folder), "--generate", "--quiet")
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def plan(out) -> dict:
    return {w["name"]: w for w in json.loads((out / "plan.json").read_text(encoding="utf-8"))["workloads"]}


def dockerfile(out: Path, label: str) -> str:
    return (out / "containers" / label / "Dockerfile").read_text(encoding="utf-8")


def run_script(text: str) -> str:
    """The PowerShell of the Dockerfile's first RUN, continuation backticks removed."""
    run = text.split("\nRUN ", 1)[1].split("\n")
    body = []
    for line in run:
        body.append(line.removesuffix("`").strip())
        if not line.endswith("`"):
            break
    return "\n".join(body)


def arguments(script: str, command: str) -> list[dict[str, str]]:
    """Every call of `command` in a script as {parameter: the text after it}."""
    calls = []
    for node in nodes(parse(script).root_node, "command"):
        name = node.child_by_field_name("command_name")
        if name is None or name.text.decode() != command:
            continue
        parts = [c.text.decode() for c in node.child_by_field_name("command_elements").children
                 if c.type not in ("command_argument_sep",)]
        call, key = {}, None
        for part in parts:
            if part.startswith("-") and not part[1:].isdigit():
                key = part[1:]
                call[key] = ""
            elif key is not None:
                call[key] = part
                key = None
        calls.append(call)
    return calls


def test_every_dockerfile_passes_hadolint(out):
    files = sorted(out.glob("containers/*/Dockerfile"))
    assert [f.parent.name for f in files] == ["jobs", "legacyrpt", "net8svc", "shop", "sites80", "wcf"]
    result = subprocess.run([HADOLINT, "--no-color", *map(str, files)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_command_and_parameter_is_documented(out):
    """Dockerfiles and start scripts against Microsoft's cmdlet reference for the image's Windows version."""
    found, checked = [], 0
    for path in sorted(out.glob("containers/*/Dockerfile")):
        text = path.read_text(encoding="utf-8")
        found += [f"{path.parent.name}: {p}" for p in dockerfile_problems(text)]
        reference_set, scripts = dockerfile_powershell(text)
        checked += len(scripts)
        for script in ("start.ps1", "configure-config.ps1"):
            if (path.parent / script).exists():
                found += [f"{path.parent.name}/{script}: {p}" for p in problems((path.parent / script).read_bytes(), reference_set)]
                checked += 1
    assert found == []
    assert checked == 14  # 7 RUN scripts, 4 start scripts, 3 config scripts


def test_two_port_80_sites_start_beside_each_other(out):
    text = dockerfile(out, "sites80")
    script = run_script(text)
    assert not parse(script).root_node.has_error
    names = command_names(parse(script).root_node)
    # Default Web Site of the aspnet image goes before any site is created.
    assert names.index("Remove-Website") < names.index("New-Website")
    sites = arguments(script, "New-Website")
    assert [s["Name"] for s in sites] == ["'Default Web Site'", "'Blog'"]
    assert [s["Id"] for s in sites] == ["1", "2"]  # explicit: with no site left IIS cannot pick one
    bindings = arguments(script, "New-WebBinding")
    tuples = [(b["Protocol"], b["IPAddress"], b["Port"], b.get("HostHeader", "")) for b in bindings]
    assert tuples == [("'http'", "'*'", "80", ""), ("'http'", "'*'", "80", "'blog.contoso.local'")]
    assert len(set(tuples)) == len(tuples)
    assert "-BindingInformation" not in text


def test_every_new_webbinding_uses_its_real_parameters(out):
    # WebAdministration's New-WebBinding: -Name -Protocol -Port -IPAddress -HostHeader -SslFlags -Force
    # (MicrosoftDocs/windows-powershell-docs, winserver2025-ps/WebAdministration/New-WebBinding.md).
    real = {"Name", "Protocol", "Port", "IPAddress", "HostHeader", "SslFlags", "Force"}
    seen = 0
    for path in out.glob("containers/*/Dockerfile"):
        text = path.read_text(encoding="utf-8")
        if "\nRUN " not in text:
            continue
        for call in arguments(run_script(text), "New-WebBinding"):
            assert set(call) <= real, (path, call)
            seen += 1
    assert seen == 5


def test_https_by_host_name_uses_sni_and_a_certificate_from_a_secret(out):
    text = dockerfile(out, "shop")
    [binding] = arguments(run_script(text), "New-WebBinding")
    assert binding == {"Name": "'Shop'", "Protocol": "'https'", "Port": "443", "IPAddress": "'*'",
                       "HostHeader": "'shop.contoso.com'", "SslFlags": "1"}
    health = json.loads(text.split("HEALTHCHECK --interval=30s --timeout=10s CMD ", 1)[1].split("\n", 1)[0])
    assert health[0] == "curl.exe" and health[-1] == "https://shop.contoso.com:443/"
    assert health[health.index("--resolve") + 1] == "shop.contoso.com:443:127.0.0.1"
    start = (out / "containers" / "shop" / "start.ps1").read_text(encoding="utf-8")
    assert not parse(start).root_node.has_error
    [imported] = [c for c in arguments(start, "Import-PfxCertificate") if "Password" in c]
    assert imported["CertStoreLocation"] == "'Cert:\\LocalMachine\\My'"
    assert "AddSslCertificate($certificate.Thumbprint, 'My')" in start
    assert ".pfx" not in text.replace("tls.pfx for HTTPS", "")  # no certificate is copied into the image
    manifests = list(yaml.safe_load_all((out / "k8s" / "shop.yaml").read_text(encoding="utf-8")))
    secret = next(m for m in manifests if m["kind"] == "Secret" and m["metadata"]["name"] == "shop-tls")
    assert secret["data"] == {"tls.pfx": ""} and secret["stringData"] == {"password": ""}
    pod = next(m for m in manifests if m["kind"] == "Deployment")["spec"]["template"]["spec"]
    assert {"name": "tls", "mountPath": "C:\\hyperdock\\tls", "readOnly": True} in pod["containers"][0]["volumeMounts"]


def test_clr2_site_gets_netfx3_on_a_supported_image(out, plan):
    assert plan["LEGACYRPT"]["baseImage"] == "mcr.microsoft.com/dotnet/framework/aspnet:4.8.1-windowsservercore-ltsc2022"
    script = run_script(dockerfile(out, "legacyrpt"))
    assert script.splitlines()[0].rstrip(";") == "dism.exe /Online /NoRestart /Add-Capability /CapabilityName:NetFx3"
    features = [c["Name"] for c in arguments(script, "Install-WindowsFeature")]
    assert features == ["'Web-Asp-Net'"]  # NET-Framework-Core would fail on Server Core without a source
    assert "-Name managedRuntimeVersion -Value 'v2.0'" in script
    # ConfigurationBuilders need .NET Framework 4.7.1+: nothing wires a CLR 2.0 app's web.config.
    assert not (out / "containers" / "legacyrpt" / "configure-config.ps1").exists()


def test_wcf_net_tcp_gets_activation_and_enabled_protocols(out):
    text = dockerfile(out, "wcf")
    script = run_script(text)
    [install] = arguments(script, "Install-WindowsFeature")
    installed = [n.strip(" '") for n in install["Name"].split(",")]
    assert "NET-WCF-TCP-Activation45" in installed and "Containers" not in installed
    assert set(installed) <= FEATURE_NAMES
    assert "bindingInformation = '808:*'" in script and "protocol = 'net.tcp'" in script
    assert "-Name applicationDefaults.enabledProtocols -Value 'http,net.tcp'" in script
    assert "EXPOSE 80 808\n" in text


def test_host_only_features_never_reach_an_image(out):
    for path in out.glob("containers/*/Dockerfile"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "Install-WindowsFeature" in line:
                assert "'Containers'" not in line and "'Hyper-V'" not in line, path


def test_dotnet8_service_listens_on_its_old_port_and_is_flagged(out, plan):
    text = dockerfile(out, "net8svc")
    assert "ENV ASPNETCORE_HTTP_PORTS=5000\n" in text and "EXPOSE 5000\n" in text
    assert '"http://localhost:5000/"' in text
    finding = next(f for f in plan["NET8SVC"]["findings"] if f["rule"] == "cond.dotnet-end-of-support")
    assert "2026-11-10" in finding["message"] and ".NET 10" in finding["remediation"]


def test_iis_images_log_through_logmonitor_and_start_with_the_pool(out):
    for label, pool in (("sites80", "DefaultAppPool"), ("shop", "ShopPool"), ("wcf", "OrdersPool")):
        text = dockerfile(out, label)
        entry = json.loads(text.rsplit("ENTRYPOINT ", 1)[1])
        assert entry[0] == "C:\\LogMonitor\\LogMonitor.exe" and entry[-1] == "C:\\hyperdock\\start.ps1"
        assert "releases/download/v2.1.3/LogMonitor.exe C:/LogMonitor/LogMonitor.exe" in text
        config = json.loads((out / "containers" / label / "LogMonitorConfig.json").read_text(encoding="utf-8"))
        kinds = [s["type"] for s in config["LogConfig"]["sources"]]
        assert kinds == ["EventLog", "File", "ETW"]
        etw = config["LogConfig"]["sources"][2]["providers"]
        assert {p["providerName"] for p in etw} == {"IIS: WWW Server", "Microsoft-Windows-IIS-Logging"}
        start = (out / "containers" / label / "start.ps1").read_text(encoding="utf-8")
        assert start.rstrip().endswith(f"& 'C:\\ServiceMonitor.exe' 'w3svc' '{pool}'\nexit $LASTEXITCODE")
    # The blog's pool is not ServiceMonitor's: start.ps1 gives it the parameters itself.
    start = (out / "containers" / "sites80" / "start.ps1").read_text(encoding="utf-8")
    assert "foreach ($pool in @('BlogPool'))" in start and "$parameters = @('BLOGDB')" in start
    # The blog's web.config is wired to the environment at build time (the plan's BLOGDB is read from it);
    # the other site's is listed only to get the builder if `hyperdock package` rewrote it.
    configure = (out / "containers" / "sites80" / "configure-config.ps1").read_text(encoding="utf-8")
    assert "$configs = @('C:\\inetpub\\blog\\web.config', 'C:\\inetpub\\wwwroot\\web.config')" in configure
    assert ("$assemblies = @('C:\\inetpub\\blog\\bin\\Microsoft.Configuration.ConfigurationBuilders.Environment.dll', "
            "'C:\\inetpub\\wwwroot\\bin\\Microsoft.Configuration.ConfigurationBuilders.Environment.dll')" in configure)
    assert "$wire = @($true, $false)" in configure
    # The builder comes from the pinned packages; an app's own .Base of another version stops the build.
    assert "'C:\\hyperdock\\nuget\\microsoft.configuration.configurationbuilders.environment.3.0.0.nupkg'" in configure
    assert "if ($version -ne '3.0.0.0') {" in configure
    assert "$builder.SetAttribute('mode', 'Strict')" in configure
    assert "RUN powershell.exe -NoProfile -ExecutionPolicy Bypass -File 'C:\\hyperdock\\configure-config.ps1'" in dockerfile(out, "sites80")
    readme = (out / "containers" / "sites80" / "content" / "blog" / "README.txt").read_text(encoding="utf-8")
    assert "Microsoft.Configuration.ConfigurationBuilders.EnvironmentConfigBuilder" in readme


def test_scheduled_task_vm_becomes_cronjobs_not_a_deployment(out):
    documents = [d for d in yaml.safe_load_all((out / "k8s" / "jobs.yaml").read_text(encoding="utf-8")) if d]
    assert {d["kind"] for d in documents} == {"CronJob", "Job"}
    for d in documents:
        kubernetes_validate.validate(d, "1.32.0", strict=True)
    crons = {d["metadata"]["annotations"]["hyperdock.io/task"]: d for d in documents if d["kind"] == "CronJob"}
    assert crons["NightlyExport"]["spec"]["schedule"] == "0 2 * * *"
    assert crons["QueueSweep"]["spec"]["schedule"] == "*/15 * * * 1,5"
    assert all(not c["spec"]["suspend"] and c["spec"]["concurrencyPolicy"] == "Forbid" for c in crons.values())
    pod = crons["QueueSweep"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "OnFailure" and pod["containers"][0]["command"] == ["C:\\jobs\\sweep\\sweep.exe"]
    [boot] = [d for d in documents if d["kind"] == "Job"]
    assert boot["metadata"]["annotations"]["hyperdock.io/task"] == "WarmUp" and boot["spec"]["suspend"] is False
    compose = yaml.safe_load(next(out.glob("compose/*.yaml")).read_text(encoding="utf-8"))
    jsonschema.Draft201909Validator(COMPOSE_SCHEMA).validate(compose)
    assert compose["services"]["jobs"]["restart"] == "no"
    assert compose["services"]["shop"]["restart"] == "unless-stopped"


def test_print_server_stays_a_vm(out, plan):
    assert plan["PRINTSRV"]["target"] == "vm" and "block.print-server-role" in plan["PRINTSRV"]["rules"]
    assert not (out / "containers" / "printsrv").exists()


def test_start_scripts_parse_and_call_known_commands(out):
    allowed = {"Join-Path", "Test-Path", "Get-Content", "Write-Output", "ConvertTo-SecureString", "Import-PfxCertificate",
               "Import-Module", "Get-WebBinding", "Remove-WebConfigurationProperty", "Add-WebConfigurationProperty",
               "ForEach-Object", "New-ItemProperty", "Out-Null", "Start-Service",
               # filling config tokens no builder fills (startup._fill_config_tokens)
               "Get-ChildItem", "Where-Object", "Select-String", "New-Item", "Copy-Item", "New-Object"}
    scripts = sorted(out.glob("containers/*/start.ps1"))
    assert [s.parent.name for s in scripts] == ["legacyrpt", "shop", "sites80", "wcf"]
    for script in scripts:
        tree = parse(script.read_bytes())
        assert not tree.root_node.has_error, script
        assert set(command_names(tree.root_node)) - {"'C:\\ServiceMonitor.exe'"} <= allowed, script


@pytest.mark.parametrize("trigger, schedule, noted", [
    ({"type": "Daily", "startBoundary": "2024-01-01T02:05:00"}, "5 2 * * *", False),
    ({"type": "Daily", "startBoundary": "2024-01-01T02:05:00", "daysInterval": 3}, "5 2 */3 * *", True),
    ({"type": "Weekly", "startBoundary": "2024-01-01T23:00:00", "daysOfWeek": ["Sunday", "Saturday"]}, "0 23 * * 0,6", False),
    ({"type": "Weekly", "startBoundary": "2024-01-01T23:00:00", "daysOfWeek": ["Monday"], "weeksInterval": 2}, "0 23 * * 1", True),
    ({"type": "Daily", "startBoundary": "2024-01-01T00:10:00", "repetitionInterval": "PT15M"}, "10-59/15 * * * *", True),
    ({"type": "Daily", "startBoundary": "2024-01-01T01:00:00", "repetitionInterval": "PT6H"}, "0 1-23/6 * * *", True),
    ({"type": "Weekly", "startBoundary": "2024-01-03T08:00:00"}, "0 8 * * 3", False),  # 2024-01-03 was a Wednesday
    ({"type": "Boot"}, None, False),
    ({"type": "Other"}, None, False),
])
def test_cron_schedule_from_triggers(trigger, schedule, noted):
    result, notes = cron_schedule(typed_trigger(trigger))
    assert result == schedule
    assert bool(notes) == noted


def test_a_bad_trigger_is_one_line_and_exit_2(tmp_path):
    estate = json.loads(ESTATE.read_text(encoding="utf-8"))
    jobs = next(v for v in estate["hosts"][0]["vms"] if v["Name"] == "JOBS")
    jobs["Guest"]["ScheduledTasks"][0]["Triggers"][0]["Type"] = "Hourly"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(estate), encoding="utf-8")
    result = run_cli("assess", str(path), "--out", str(tmp_path / "out"), "--quiet")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Triggers[0].Type" in result.stderr and "Hourly" in result.stderr
    assert not (tmp_path / "out").exists()


def test_dotnet8_service_on_server_core_gets_its_port_through_the_service_environment():
    """An image's ENV reaches the entry point only: a service gets ASPNETCORE_HTTP_PORTS from start.ps1."""
    from migrate.generate.dockerfile import render_dockerfile

    workload = {"target": "process", "wave": 1, "imageOS": "ltsc2022",
                "baseImage": "mcr.microsoft.com/dotnet/aspnet:8.0-windowsservercore-ltsc2022",
                "container": {"windowsFeatures": ["MSMQ-Server"], "ports": [5000], "iisSites": [], "appPools": [],
                              "services": [{"name": "Pricing", "pathName": "C:\\apps\\p\\Pricing.exe"}],
                              "scheduledTasks": [], "parameters": [{"name": "PricingDb"}], "dataDrives": [], "gmsa": False}}
    text, files = render_dockerfile(typed_workload({"name": "Pricing", **workload}), "pricing")
    # The .NET (Core) aspnet image has no IIS and no ServiceMonitor: it is downloaded.
    assert "ADD https://github.com/microsoft/IIS.ServiceMonitor/releases/download/v2.0.1.10/ServiceMonitor.exe" in text
    assert "Install-WindowsFeature -Name 'MSMQ-Server'" in text
    start = files["start.ps1"]
    assert "$values['ASPNETCORE_HTTP_PORTS'] = '5000'" in start
    assert start.index("ASPNETCORE_HTTP_PORTS") < start.index("New-ItemProperty")
    assert problems(start, "ws2022") == []


def test_connection_strings_with_other_spellings_reach_the_config_under_their_own_name():
    from migrate.generate.startup import start_script

    container = {"parameters": [{"name": "Shop.Db"}, {"name": "Orders"}], "iisSites": [{"name": "S", "bindings": [], "applicationPool": "P"}]}
    script = start_script(typed_workload({"name": "s", "container": container}).container, "s", "P", [])
    assert "$parameters = @('ORDERS', 'SHOP_DB')" in script
    assert ("if ($values.Contains('SHOP_DB')) { $values['Shop.Db'] = $values['SHOP_DB']; "
            "[Environment]::SetEnvironmentVariable('Shop.Db', $values['SHOP_DB']) }") in script
    assert "$values['Orders']" not in script  # Windows matches ORDERS without case
    assert problems(script, "ws2022") == []


def test_bindings_on_the_vm_address_move_to_all_addresses():
    from migrate.generate.dockerfile import render_dockerfile

    sites = [{"name": "A", "bindings": ["http/10.0.0.5:80:www.contoso.com", "http/10.0.0.5:8080:"], "physicalPath": "C:\\a",
              "applicationPool": "P", "applications": []},
             {"name": "B", "bindings": ["http/*:8080:", "http/[fe80::1]:81:"], "physicalPath": "C:\\b", "applicationPool": "P",
              "applications": []}]
    workload = {"target": "process", "wave": 1, "imageOS": "ltsc2022",
                "baseImage": "mcr.microsoft.com/dotnet/framework/aspnet:4.8.1-windowsservercore-ltsc2022",
                "container": {"windowsFeatures": [], "ports": [80, 81, 8080], "iisSites": sites, "appPools": [],
                              "services": [], "scheduledTasks": [], "parameters": [], "dataDrives": [], "gmsa": False}}
    text, _ = render_dockerfile(typed_workload({"name": "a", **workload}), "a")
    calls = [(c["Name"], c["IPAddress"], c["Port"], c.get("HostHeader", "")) for c in arguments(run_script(text), "New-WebBinding")]
    assert calls == [("'A'", "'*'", "80", "'www.contoso.com'"),
                     ("'A'", "'10.0.0.5'", "8080", ""),  # '*:8080:' is B's: IP-based hosting cannot share one container
                     ("'B'", "'*'", "8080", ""), ("'B'", "'*'", "81", "")]
    assert '"-H", "Host:www.contoso.com", "http://localhost:80/"' in text


def test_trigger_as_the_collector_writes_an_unset_interval_and_start(tmp_path):
    """`[int]` of an unset interval is 0 and StartBoundary may be null: both read as absent."""
    from conftest import guest, inventory, vm, write_json
    from migrate.inventory import read_estate

    data = guest(ScheduledTasks=[{"TaskName": "T", "Execute": "C:\\t.exe", "Triggers": {
        "Type": "Daily", "StartBoundary": None, "DaysInterval": 0, "DaysOfWeek": "Monday", "RepetitionInterval": "PT1H"}}])
    (a,) = read_estate([write_json(tmp_path / "inv.json", inventory(vm("A", guest_data=data)))]).vms
    (trigger,) = a.guest.scheduled_tasks[0].triggers
    assert (trigger.type, trigger.start_boundary, trigger.days_interval, trigger.days_of_week) == ("Daily", "", None, ["Monday"])
    assert cron_schedule(typed_trigger({"type": "Daily", "repetitionInterval": trigger.repetition_interval}))[0] == "0 * * * *"
