"""Estates generated here, independently of examples/, checked against the reference's rules.

Each seed builds a different estate; the invariants below are the rules of migrate/core/windows.py
(compatibility), the blocker rules (rules.py) and Azure Migrate's wave conditions (README's
`hyperdock assess` section), stated once and checked on every workload.
"""

from __future__ import annotations

import random

import pytest

from conftest import guest, inventory, vm, write_json
from migrate.assess import Options, assess
from migrate.core.windows import OS_BUILDS, hyperv_isolation_possible, process_isolation_possible
from migrate.waves import environment_class

BLOCKING_FEATURES = ["AD-Domain-Services", "DHCP", "RDS-RD-Server", "Hyper-V", "UpdateServices"]
OPTIONAL_FEATURES = ["Web-Server", "Web-Asp-Net45", "MSMQ-Server", "Print-Server", "NET-Framework-45-Core", "Web-Windows-Auth"]
OS_CHOICES = [("Windows Server 2019 Datacenter", "10.0.17763"), ("Windows Server 2022 Standard", "10.0.20348"),
              ("Windows Server 2016 Standard", "10.0.14393"), ("Windows Server 2012 R2 Standard", "6.3.9600"),
              ("Ubuntu 20.04", "5.4.0")]


def random_estate(seed: int, size: int = 60) -> list[dict]:
    rnd = random.Random(seed)
    names = [f"VM{seed}-{i:03d}" for i in range(size)]
    ips = {n: f"10.{seed % 200}.{i // 200}.{i % 200 + 1}" for i, n in enumerate(names)}
    apps = [f"app{k}" for k in range(size // 6)]
    records = []
    for name in names:
        tags = {"env": rnd.choice(["prod", "prod", "dev", "test", ""]),
                "tenant": rnd.choice(["t1", "t1", "t2"]),
                "zone": rnd.choice(["internal", "internal", "dmz"])}
        if rnd.random() < 0.7:
            tags["app"] = rnd.choice(apps)
        if rnd.random() < 0.2:
            tags["criticality"] = "high"
        if rnd.random() < 0.1:
            tags["trust"] = "untrusted"
        if rnd.random() < 0.1:
            tags["exposure"] = "internet"
        if rnd.random() < 0.15:
            tags["osPin"] = rnd.choice(["ltsc2019", "ltsc2022", "ltsc2025"])
        if rnd.random() < 0.1:
            records.append(vm(name, ip=ips[name], tags=tags, guest_data=None))
            continue
        os_name, os_version = rnd.choice(OS_CHOICES)
        features = rnd.sample(OPTIONAL_FEATURES, rnd.randint(0, 3))
        if rnd.random() < 0.1:
            features.append(rnd.choice(BLOCKING_FEATURES))
        services = []
        if rnd.random() < 0.1:
            services.append({"Name": "MSSQLSERVER", "PathName": "C:\\Program Files\\sqlservr.exe"})
        if rnd.random() < 0.3:
            services.append({"Name": "AppSvc", "StartMode": "Auto", "PathName": "C:\\apps\\svc.exe", "StartName": rnd.choice(["LocalSystem", "CORP\\svc"])})
        drivers = [{"Name": "filt", "ServiceType": "Kernel Driver"}] if rnd.random() < 0.05 else []
        partners = rnd.sample(names, 3)
        connections = [{"RemoteAddress": ips[p], "RemotePort": rnd.choice([80, 443, 1433, 8080]), "ProcessName": "app"}
                       for p in partners if p != name]
        records.append(vm(name, ip=ips[name], tags=tags, guest_data=guest(
            OSName=os_name, OSVersion=os_version, Features=features, Services=services, Drivers=drivers,
            Connections=connections)))
    return records


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("host_os, tenancy", [("ltsc2025", "dedicated"), ("ltsc2022", "shared"), ("ltsc2019", "dedicated")])
def test_random_estate_obeys_the_rules(seed, host_os, tenancy, tmp_path):
    records = random_estate(seed)
    path = write_json(tmp_path / "estate.json", inventory(*records))
    plan = assess([path], [], Options(host_os=host_os, tenancy=tenancy, max_wave_size=15))
    by_name = {r["Name"]: r for r in records}
    host_build = OS_BUILDS[host_os]
    tenants = {r["Tags"].get("tenant") for r in records}
    zones = {r["Tags"].get("zone") for r in records}
    workloads = {w["name"]: w for w in plan["workloads"]}
    assert len(workloads) == len(records)

    for w in plan["workloads"]:
        record = by_name[w["name"]]
        g = record.get("Guest")
        tags = record["Tags"]
        pinned_too_new = OS_BUILDS[tags.get("osPin", host_os)] > host_build
        if g is None:
            assert (w["fit"], w["target"]) == ("not-ready" if pinned_too_new else "unknown", "vm")
            continue
        blocked = (set(g["Features"]) & {*BLOCKING_FEATURES, "Print-Server"} or g["Drivers"] or "Ubuntu" in g["OSName"]
                   or any(s["Name"] == "MSSQLSERVER" for s in g["Services"]) or pinned_too_new)
        if blocked:
            assert (w["fit"], w["target"]) == ("not-ready", "vm"), w["name"]
            assert w["baseImage"] is None and w["wave"] is None
            continue
        assert w["target"] in ("process", "hyperv"), w["name"]
        image_os = tags.get("osPin", host_os)
        image_build = OS_BUILDS[image_os]
        assert w["imageOS"] == image_os
        assert image_os in w["baseImage"] or (image_os == "ltsc2019" and "1809" in w["baseImage"])
        assert hyperv_isolation_possible(host_build, image_build)
        must_hyperv = (tags.get("trust") == "untrusted"
                       or not process_isolation_possible(host_build, image_build)
                       or (tenancy == "shared" and (len(tenants) > 1 or len(zones) > 1))
                       or ((tags.get("exposure") == "internet" or tags.get("zone") == "dmz") and len(tenants) > 1))
        assert w["target"] == ("hyperv" if must_hyperv else "process"), (w["name"], w["rules"])
        assert w["wave"] is not None

    for w in plan["workloads"]:
        for dep in w["dependsOn"]:
            target = workloads[dep["name"]]
            if w["wave"] and target["wave"]:
                assert target["wave"] <= w["wave"]
    for wave in plan["waves"]:
        classes = {environment_class(by_name[n]["Tags"].get("env", "")) for n in wave["workloads"]}
        if wave["environment"] == "mixed":
            assert classes == {"production", "non-production"} and "cycle or chatty pair" in wave["notes"][0]
        else:
            assert classes == {wave["environment"]}
    app_waves: dict = {}
    for w in plan["workloads"]:
        app = by_name[w["name"]]["Tags"].get("app")
        if app and w["wave"]:
            app_waves.setdefault((app, environment_class(by_name[w["name"]]["Tags"].get("env", ""))), set()).add(w["wave"])
    assert all(len(v) == 1 for v in app_waves.values())
    for name in plan["sharedInfrastructure"]:
        assert workloads[name]["wave"] is None and workloads[name]["moveGroup"] is None


@pytest.mark.parametrize("seed", range(3))
def test_random_estate_generates_valid_definitions(seed, tmp_path):
    """Plans written independently of the sample go through generate and the same checks."""
    import json
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import jsonschema
    import kubernetes_validate
    import yaml

    from conftest import DATA
    from migrate.generate.files import GenerateOptions, generate
    from migrate.contract.plan_io import plan_from_document, schema

    path = write_json(tmp_path / "estate.json", inventory(*random_estate(100 + seed)))
    plan = assess([path], [], Options(host_os="ltsc2025"))
    jsonschema.validate(plan, schema("plan"))
    files, index = generate(plan_from_document(plan), GenerateOptions(experimental_k8s_hyperv=True))
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    dockerfiles = sorted(tmp_path.glob("containers/*/Dockerfile"))
    assert len(dockerfiles) == sum(w["target"] != "vm" for w in plan["workloads"])
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    lint = subprocess.run([hadolint, "--no-color", *map(str, dockerfiles)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    compose_schema = json.loads((DATA / "compose_spec.json").read_text(encoding="utf-8"))
    for name, text in files.items():
        if name.startswith("compose/"):
            jsonschema.Draft201909Validator(compose_schema).validate(yaml.safe_load(text))
    jsonschema.validate(yaml.safe_load(files["hosts.yaml"]), schema("hosts"))
    for name, text in files.items():
        if name.startswith("k8s/"):
            for document in yaml.safe_load_all(text):
                if document and document["kind"] != "GMSACredentialSpec":
                    kubernetes_validate.validate(document, "1.32.0", strict=True)
