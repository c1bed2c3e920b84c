"""Imports: Azure Migrate exports and App2Container analyses become inventories `assess` acts on."""

from __future__ import annotations

import json

import pytest

from conftest import DATA, run_cli
from migrate.assess import Options, assess
from migrate.imports import import_app2container, import_azure_migrate
from migrate.inventory import read_estate

REPORT_HEADER = ("Machine Name,Environment,Software Inventory Count,SQL Discovery Server Count,Is SQL Service Present,"
                 "Web Applications Count,Operating System,Cores,Memory (in MB),Total Disks,IP Addresses,MAC Addresses,"
                 "Total Network Adapters,Boot Type,Power Stats,First Discovery Time,Last Updated Time,Machine ID")


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def plan_for(tmp_path, inventory: dict) -> dict:
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(inventory), encoding="utf-8")
    return assess([path], [], Options())


def test_real_discovery_report_xlsx(tmp_path):
    inventory = import_azure_migrate(DATA / "AzureMigrate_Discovery_Report.xlsx")
    vms = {vm["Name"]: vm for vm in inventory["hosts"][0]["vms"]}
    assert len(vms) == 294
    assert vms["SQLAGVM09"]["Tags"] == {"env": "dev"}
    assert vms["SQLAGVM11"]["NetworkAdapters"][0]["IPAddresses"][-1] == "10.150.90.250"
    assert vms["DEVSQLVM13"]["State"] == "Off" and vms["DEVSQLVM13"]["MemoryStartup"] == 4096 * 1024 ** 2
    assert vms["ODA-Selfhost-Appliance15"]["Generation"] == 2  # EFI
    plan = plan_for(tmp_path, inventory)
    by = {w["name"]: w for w in plan["workloads"]}
    assert "block.database-engine" in by["HRSQLVM08"]["rules"]        # Is SQL Service Present = True
    assert "block.non-windows-guest" in by["Airsonic-MySQL"]["rules"]  # CentOS
    assert "cond.legacy-guest-os" in by["DEVSQLVM13"]["rules"]         # Windows Server 2012
    assert by["SQLAGVM11"]["fit"] == "unknown"                         # only the OS is known
    # The report knows a VM's OS and web-app count, never its services, software, drivers or
    # listeners: nothing in it is "ready", and the Azure Migrate appliances (web apps, nothing else
    # known) are not containers.
    assert plan["summary"]["byFit"]["ready"] == 0
    web = [w for w in plan["workloads"] if vms[w["name"]]["Guest"].get("IISSites")]
    assert web and all("data.unverified-guest" in w["rules"] for w in web if w["fit"] != "not-ready")
    appliances = [w for w in plan["workloads"] if "migrateappliance" in w["name"].lower().replace("-", "")]
    assert appliances and all(w["target"] == "vm" and w["fit"] == "unknown" for w in appliances)


def test_discovery_report_csv_with_only_required_columns(tmp_path):
    path = write(tmp_path, "report.csv", "Machine Name,Operating System,Cores,Memory (in MB)\n"
                                         "APP1,Microsoft Windows Server 2019 (64-bit),4,8192\n"
                                         "APP2,Ubuntu Linux (64-bit),-1,-1\n")
    vms = {vm["Name"]: vm for vm in import_azure_migrate(path)["hosts"][0]["vms"]}
    assert vms["APP1"]["ProcessorCount"] == 4
    assert "ProcessorCount" not in vms["APP2"] and "MemoryStartup" not in vms["APP2"]  # -1 means unknown
    estate = read_estate([write(tmp_path, "inv.json", json.dumps(import_azure_migrate(path)))])
    assert len(estate.vms) == 2


def test_server_import_csv_with_utilisation(tmp_path):
    path = write(tmp_path, "servers.csv", "Server name,Cores,Memory,OS name,OS version,IP address,Memory utilization percentage,Firmware type\n"
                                          "WEB10,2,8192,Windows Server 2022 Datacenter,10.0.20348,10.1.1.10;10.1.1.11,50,UEFI\n")
    (vm,) = import_azure_migrate(path)["hosts"][0]["vms"]
    assert vm["MemoryAssigned"] == 4096 * 1024 ** 2 and vm["Generation"] == 2
    assert vm["NetworkAdapters"][0]["IPAddresses"] == ["10.1.1.10", "10.1.1.11"]


@pytest.mark.parametrize("content, expected", [
    ("Machine Name,Operating System,Cores,Memory (in MB)\nAPP1,Windows Server 2019,two,8192\n", "report.csv:2: Cores: expected a number, got 'two'"),
    ("Machine Name,Operating System,Cores,Memory (in MB)\n,Windows Server 2019,2,8192\n", "report.csv:2: Machine Name: required value is missing"),
    ("Server name,Cores,Memory,OS name\nWEB1,2,,Windows\n", "report.csv:2: Memory: required value is missing"),
    ("Name,CPU\nx,1\n", "report.csv:1: unknown columns"),
    ("", "report.csv: no rows"),
])
def test_malformed_exports_exit_2_with_one_line(tmp_path, content, expected):
    path = write(tmp_path, "report.csv", content)
    result = run_cli("import", "azure-migrate", str(path), "--out", str(tmp_path / "out.json"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
    assert not (tmp_path / "out.json").exists()


def test_not_a_workbook(tmp_path):
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"not a zip")
    result = run_cli("import", "azure-migrate", str(path), "--out", str(tmp_path / "out.json"))
    assert result.returncode == 2 and "not a readable XLSX workbook" in result.stderr


def a2c(folder, app_id: str, info: dict) -> None:
    (folder / app_id).mkdir(parents=True)
    document = {"a2CTemplateVersion": "3.1", "containerParameters": {"containerBaseImage": ""},
                "analysisInfo": {"appId": app_id, "appServerIp": "10.2.0.5",
                                 "hostInfo": {"os": "Windows Server 2016 Datacenter", "osVersion": "10.0.14393", "arch": "x64"},
                                 **info}}
    (folder / app_id / "analysis.json").write_text(json.dumps(document), encoding="utf-8")


def test_app2container_iis_and_service_become_one_guest(tmp_path):
    a2c(tmp_path, "iis-shop-1234", {
        "appType": "IIS", "appName": "Shop", "ports": [{"localPort": 80, "protocol": "http"}],
        "features": ["Web-Server", "Web-Asp-Net45"], "appPoolName": "ShopPool", "poolIdentityType": "ApplicationPoolIdentity",
        "dotNetVersion": "4.0", "sitePhysicalPath": "C:\\inetpub\\shop", "siteUsesWindowsAuth": True,
        "discoveredWebApps": [{"webAppName": "api", "webAppPool": "ShopPool", "webAppPhysicalPath": "C:\\inetpub\\api"}]})
    a2c(tmp_path, "service-orders-99", {
        "appType": "service", "appName": "Orders", "serviceName": "OrderSvc", "serviceBinary": "C:\\apps\\orders\\svc.exe",
        "cmdline": ["-run"], "ports": [{"localPort": 8080, "protocol": "tcp"}], "features": ["MSMQ-Server"]})
    inventory = import_app2container(tmp_path)
    (vm,) = inventory["hosts"][0]["vms"]
    guest = vm["Guest"]
    assert vm["Name"] == "a2c-10-2-0-5"
    assert guest["IISSites"][0]["WindowsAuthentication"] is True
    assert guest["IISSites"][0]["Applications"][0]["Path"] == "/api"
    assert guest["Services"][0]["PathName"] == '"C:\\apps\\orders\\svc.exe" -run'
    assert sorted(l["LocalPort"] for l in guest["Listeners"]) == [80, 8080]
    plan = plan_for(tmp_path, inventory)
    (w,) = plan["workloads"]
    assert w["target"] == "process"
    assert {"cond.domain-identity", "cond.msmq", "cond.background-service"} <= set(w["rules"])


def test_app2container_bad_files(tmp_path):
    a2c(tmp_path, "bad", {"appType": "java"})
    result = run_cli("import", "app2container", str(tmp_path), "--out", str(tmp_path / "out.json"))
    assert result.returncode == 2 and "analysisInfo.appType: expected IIS or service, got 'java'" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("import", "app2container", str(empty), "--out", str(tmp_path / "out.json"))
    assert result.returncode == 2 and "no analysis.json found" in result.stderr
    (tmp_path / "bad" / "analysis.json").write_text("{broken", encoding="utf-8")
    result = run_cli("import", "app2container", str(tmp_path), "--out", str(tmp_path / "out.json"))
    assert result.returncode == 2 and "analysis.json:1: not valid JSON" in result.stderr


def test_import_cli_writes_an_inventory_assess_reads(tmp_path):
    out = tmp_path / "inv" / "azure-migrate.json"
    result = run_cli("import", "azure-migrate", str(DATA / "AzureMigrate_Discovery_Report.xlsx"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    result = run_cli("assess", str(out), "--out", str(tmp_path / "plan"), "--quiet")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "plan" / "plan.json").read_text(encoding="utf-8"))["summary"]["workloads"] == 294


# Fixtures in tests/data/app2container are written from the fields and example layouts the AWS
# App2Container User Guide documents (config-containers.html, Windows): two servers' workspaces,
# both with `appServerIp: localhost` as A2C's analyze script always writes.
A2C = DATA / "app2container"


def a2c_guests() -> dict[str, dict]:
    return {vm["Name"]: vm["Guest"] for vm in import_app2container(A2C)["hosts"][0]["vms"]}


def test_app2container_localhost_workspaces_stay_separate_servers():
    inventory = import_app2container(A2C)
    vms = inventory["hosts"][0]["vms"]
    assert [vm["Name"] for vm in vms] == ["a2c-server-a", "a2c-server-b"]
    assert len({vm["VMId"] for vm in vms}) == 2
    assert all(vm["NetworkAdapters"][0]["IPAddresses"] == [] for vm in vms)  # "localhost" is no address
    guests = a2c_guests()
    assert [s["Name"] for s in guests["a2c-server-a"]["IISSites"]] == ["Storefront"]
    assert [s["Name"] for s in guests["a2c-server-b"]["IISSites"]] == ["timesheets"]


def test_app2container_service_path_from_service_dir_and_cmdline():
    (service,) = a2c_guests()["a2c-server-a"]["Services"]
    assert service["PathName"] == '"C:\\PRICING\\pricing-main\\PricingService\\bin\\Release\\PricingService.exe" --region eu-west'


@pytest.mark.parametrize("info, expected", [
    ({"serviceBinary": "Svc.exe", "serviceDir": "C:\\S\\", "cmdline": ["C:\\S\\Svc.exe"]}, '"C:\\S\\Svc.exe"'),
    ({"serviceBinary": "Svc.exe", "serviceDir": "C:\\S", "cmdline": ["\"C:\\S\\Svc.exe\"", "-a", "two words"]},
     '"C:\\S\\Svc.exe" -a "two words"'),
    # The analyze script splits PathName at the last backslash, so arguments can stay on serviceBinary.
    ({"serviceBinary": "Svc.exe -k run", "serviceDir": "C:\\S\\"}, '"C:\\S\\Svc.exe" -k run'),
    ({"cmdline": ["D:\\apps\\x.exe", "/service"]}, '"D:\\apps\\x.exe" /service'),
])
def test_app2container_service_paths(tmp_path, info, expected):
    a2c(tmp_path, "service-x-1", {"appType": "service", "appName": "x", "serviceName": "x", **info})
    (service,) = import_app2container(tmp_path)["hosts"][0]["vms"][0]["Guest"]["Services"]
    assert service["PathName"] == expected


def test_app2container_dotnet_versions_and_spellings():
    guests = a2c_guests()
    (static,) = guests["a2c-server-a"]["AppPools"]
    (legacy,) = guests["a2c-server-b"]["AppPools"]
    assert static["ManagedRuntimeVersion"] == ""        # dotNetVersion "" = No Managed Code
    assert legacy["ManagedRuntimeVersion"] == "v2.0"    # dotnetVersion (the 3.1 example's spelling)
    assert guests["a2c-server-b"]["IISSites"][0]["WindowsAuthentication"] is True   # isSiteUsingWindowsAuth
    assert guests["a2c-server-a"]["IISSites"][0]["WindowsAuthentication"] is False  # siteUsesWindowsAuth


def test_app2container_https_port_is_an_https_binding():
    (site,) = a2c_guests()["a2c-server-a"]["IISSites"]
    assert site["Bindings"] == ["http/*:80:", "https/*:443:"]


def test_app2container_fixtures_assess(tmp_path):
    plan = plan_for(tmp_path, import_app2container(A2C))
    by = {w["name"]: w for w in plan["workloads"]}
    assert "cond.https-certificate" in by["a2c-server-a"]["rules"]
    assert "cond.legacy-dotnet" in by["a2c-server-b"]["rules"]
    assert "cond.domain-identity" in by["a2c-server-b"]["rules"]
