"""`hyperdock package`: build contexts filled from an extraction, and hostile extractions refused."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import DATA, ROOT, run_cli
from migrate.cli import main
from migrate.generate import configbuilders
from migrate.generate.files import generate
from migrate.contract.model import Plan
from migrate.output import write_tree
from migrate.package.parts import content_parts
from migrate.contract.plan_io import read_plan

PLAN = ROOT / "examples" / "plan" / "plan.json"
EXAMPLE = ROOT / "examples" / "extract"
WEB01 = "043ac095-8ae0-5ada-974f-ac224fb3f52d"
WEB02 = "384f42d1-8f9e-5f9d-a005-233de00f634b"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The sample plan's generated folder (plan.json, containers/...), as `assess --generate` leaves it."""
    out = tmp_path_factory.mktemp("package") / "out"
    files, _ = generate(read_plan(PLAN))
    write_tree(out, files)
    shutil.copy(PLAN, out / "plan.json")
    return out


@pytest.fixture
def out(template, tmp_path) -> Path:
    shutil.copytree(template, tmp_path / "out")
    return tmp_path / "out"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def make_extraction(root: Path, vm_id: str, parts: dict[str, tuple[str, dict[str, bytes]]]) -> dict:
    """Write DIR/<vmId>/<folder>/<files> and a manifest that matches them; return the manifest."""
    manifest = {"schema": "hyperdock/extract@1", "vmId": vm_id, "parts": []}
    for folder, (source, files) in parts.items():
        for path, data in files.items():
            target = root / vm_id / folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        manifest["parts"].append({"source": source, "folder": folder, "files": [
            {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()} for path, data in files.items()]})
    write_manifest(root, vm_id, manifest)
    return manifest


def write_manifest(root: Path, vm_id: str, manifest: dict) -> None:
    (root / vm_id).mkdir(parents=True, exist_ok=True)
    (root / vm_id / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


WEB_CONFIG = (b'<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <connectionStrings>\n'
              b'    <add name="ShopDb" connectionString="Server=sql01;User ID=web;Password=Planted-Secret-1" />\n'
              b'  </connectionStrings>\n</configuration>\n')


def web02_extraction(root: Path, **extra: bytes) -> dict:
    files = {"web.config": WEB_CONFIG, "Default.aspx": b"<h1>shop</h1>\n", **extra}
    return make_extraction(root, WEB02, {"webshop": ("C:\\inetpub\\webshop", files)})


def package(out: Path, content: Path, *options: str, capsys=None) -> tuple[int, str]:
    code = main(["package", str(out), "--content", str(content), *options])
    err = capsys.readouterr().err if capsys else ""
    return code, err


# --- the sample estate -------------------------------------------------------------------------

def test_every_iis_workload_of_the_sample_gets_its_content_and_no_secret(out, capsys):
    secrets = set()
    for manifest in EXAMPLE.glob("*/manifest.json"):
        for config in manifest.parent.rglob("web.config"):
            text = config.read_text(encoding="utf-8")
            secrets |= set(re.findall(r'(?:connectionString|validationKey|decryptionKey)="([^"]+)"', text))
            secrets |= set(re.findall(r'key="PaymentGatewayApiKey" value="([^"]+)"', text))
    assert len(secrets) > 20
    code, err = package(out, EXAMPLE, capsys=capsys)
    assert code == 0, err
    plan = read_plan(PLAN)
    report = {w["vmId"]: w for w in json.loads((out / "package.json").read_text())["workloads"]}
    iis = [w for w in plan.containers if w.container.iis_sites]
    assert len(iis) >= 9
    for w in iis:
        context = out / "containers" / report[w.vm_id]["label"]
        for part in content_parts(w):
            folder = context / "content" / part.folder
            assert (folder / "Default.aspx").is_file(), folder
            assert not (folder / "README.txt").exists()
            config = (folder / "web.config").read_text(encoding="utf-8")
            if part.kind == "site" and (part.runtime or "").startswith("v2"):
                # CLR 2.0 has no configuration builders: placeholders only, and a finding.
                assert "configBuilders" not in config and "${PAYMENTGATEWAYAPIKEY}" in config
                assert any("CLR 2.0" in f for f in report[w.vm_id]["findings"])
            elif part.kind == "site":
                assert "configBuilders=\"HyperdockEnvironment\"" in config
        assert (context / ".dockerignore").is_file()
        assert report[w.vm_id]["layerBytes"] > 0 and not report[w.vm_id]["notExtracted"]
        # The plan's connection-string parameters are the variables the config reads.
        wanted = {p.name.upper() for p in w.container.parameters}
        assert wanted <= {p["env"] for p in report[w.vm_id]["parameters"] if p["inPlan"]}
    everything = b"".join(snapshot(out).values()) + err.encode()
    for secret in secrets:
        assert secret.encode() not in everything, secret


def ps_array(script: str, name: str) -> list[str]:
    """The items of `$name = @(...)` in a generated script (single-quoted strings or $true/$false)."""
    line = next(x for x in script.splitlines() if x.startswith(f"${name} = @("))
    return [a or b for a, b in re.findall(r"'((?:[^']|'')*)'|(\$true|\$false)", line[len(name) + 5:-1])]


def test_packaged_iis_workloads_bring_the_builder_into_their_bin_folder(out, capsys):
    """Every config `package` rewrote gets ConfigurationBuilders from the image build, in its app's bin."""
    assert package(out, EXAMPLE, capsys=capsys)[0] == 0
    assembly = "Microsoft.Configuration.ConfigurationBuilders.Environment"
    # The layout aspnet/MicrosoftConfigurationBuilders' .nuproj files give the packages (lib\Net471).
    layout = [f"lib/Net471/{package_id}.dll" for package_id in configbuilders.PACKAGES] + [
        f"lib/Net471/{configbuilders.PACKAGES[1]}.xml", "content/Net471/web.config.install.xdt"]
    checked = 0
    for context in sorted((out / "containers").iterdir()):
        rewritten = [c for c in context.glob("content/*/web.config") if "HyperdockEnvironment" in c.read_text(encoding="utf-8")]
        if not rewritten:
            continue
        dockerfile = (context / "Dockerfile").read_text(encoding="utf-8")
        script = (context / "configure-config.ps1").read_text(encoding="utf-8")
        copies = dict(re.findall(r'^COPY \["(content/[^"]+)/", "([^"]+)/"\]$', dockerfile, re.M))
        configs, assemblies, wire = ps_array(script, "configs"), ps_array(script, "assemblies"), ps_array(script, "wire")
        for config in rewritten:
            # The builder the rewritten config names is the assembly the script adds to bin.
            assert f'type="{configbuilders.BUILDER_TYPE}"' in config.read_text(encoding="utf-8")
            assert configbuilders.BUILDER_TYPE.endswith(", " + assembly) and configbuilders.ASSEMBLY == assembly + ".dll"
            image = copies[config.parent.relative_to(context).as_posix()].replace("/", "\\")
            i = configs.index(image + "\\web.config")
            assert assemblies[i] == f"{image}\\bin\\{assembly}.dll", context.name
            checked += 1
        assert len(configs) == len(assemblies) == len(wire)
        # Both pinned packages are downloaded to the files the script opens, after the content and
        # before the script runs; the script takes their lib/net471 assemblies, not the rest.
        packages = ps_array(script, "packages")
        adds = re.findall(r"^ADD (https://api\.nuget\.org/v3-flatcontainer/\S+) C:/hyperdock/nuget/(\S+)$", dockerfile, re.M)
        assert [f"C:\\hyperdock\\nuget\\{name}" for _, name in adds] == packages and len(packages) == 2
        for (url, name), package_id in zip(adds, configbuilders.PACKAGES):
            assert url == f"https://api.nuget.org/v3-flatcontainer/{package_id.lower()}/3.0.0/{package_id.lower()}.3.0.0.nupkg"
            assert url.endswith("/" + name)
        lines = dockerfile.splitlines()
        last_content = max(i for i, x in enumerate(lines) if x.startswith('COPY ["content/'))
        run = next(i for i, x in enumerate(lines) if "configure-config.ps1'" in x and x.startswith("RUN "))
        assert last_content < min(i for i, x in enumerate(lines) if x.startswith("ADD https://api.nuget.org")) < run
        pattern = re.search(r"-notlike '([^']+)'", script).group(1)
        taken = [entry for entry in layout if fnmatch.fnmatch(entry.lower(), pattern.lower())]  # -like ignores case
        assert taken == layout[:2]
        assert "if (Test-Path -LiteralPath $target) { continue }" in script  # the app's own copy wins
    assert checked >= 8


def assert_parts_are_copy_sources(plan: Plan, folder: Path) -> None:
    for w in plan.containers:
        label = plan.label(w)
        dockerfile = (folder / "containers" / label / "Dockerfile").read_text()
        sources = set(re.findall(r'^COPY \["(content/[^"]+/)"', dockerfile, re.MULTILINE))
        assert {f"content/{p.folder}/" for p in content_parts(w)} == sources, label


def test_every_content_part_is_a_copy_source_of_the_dockerfile(template):
    assert_parts_are_copy_sources(read_plan(PLAN), template)


def test_content_parts_match_the_dockerfiles_of_the_windows_test_estate(tmp_path):
    out = tmp_path / "out"
    result = run_cli("assess", str(DATA / "windows-estate.json"), "--host-os", "ltsc2022", "--out", str(out),
                     "--generate", "--quiet")
    assert result.returncode == 0, result.stderr
    assert_parts_are_copy_sources(read_plan(out / "plan.json"), out)


def test_extractions_of_vms_that_stay_vms_are_reported_unused(out, tmp_path, capsys):
    content = tmp_path / "extract"
    web02_extraction(content)
    make_extraction(content, "076ddb82-addc-5c83-b2f6-3108fbd472fd", {"printportal": ("C:\\inetpub\\printportal", {"a.txt": b"a"})})
    code, err = package(out, content, capsys=capsys)
    assert code == 0 and "1 extraction(s) of VMs that are not container workloads" in err
    assert json.loads((out / "package.json").read_text())["unusedExtractions"] == ["076ddb82-addc-5c83-b2f6-3108fbd472fd"]


def test_package_is_deterministic_and_repeatable(out, tmp_path, capsys):
    content = tmp_path / "extract"
    web02_extraction(content)
    assert package(out, content, capsys=capsys)[0] == 0
    first = snapshot(out)
    assert package(out, content, capsys=capsys)[0] == 0
    assert snapshot(out) == first


def test_left_out_files_are_reported_with_their_reason(out, tmp_path, capsys):
    content = tmp_path / "extract"
    web02_extraction(content, **{"App_Data/site.pfx": b"PFX", "logs/today.log": b"log", "bin/trace.log": b"x",
                                 "Views/Logs/Index.cshtml": b"@model x", "big.bin": b"x" * (2 * 1024 * 1024)})
    (content / WEB02 / "webshop" / "stray.txt").write_bytes(b"not listed")
    code, err = package(out, content, "--max-file-mib", "1", capsys=capsys)
    assert code == 0, err
    (report,) = [w for w in json.loads((out / "package.json").read_text())["workloads"] if w["vmId"] == WEB02]
    reasons = {e["path"]: e["reason"] for e in report["leftOut"]}
    assert set(reasons) == {"content/webshop/App_Data/site.pfx", "content/webshop/logs/today.log",
                            "content/webshop/bin/trace.log", "content/webshop/big.bin", "content/webshop/stray.txt"}
    assert "never in an image" in reasons["content/webshop/App_Data/site.pfx"]
    assert "over the limit" in reasons["content/webshop/big.bin"] and reasons["content/webshop/stray.txt"] == "not in the manifest"
    built = out / "containers" / "web02" / "content" / "webshop"
    assert (built / "Views" / "Logs" / "Index.cshtml").is_file()   # an MVC folder named Logs is code
    assert not (built / "App_Data" / "site.pfx").exists() and not (built / "big.bin").exists()
    assert "**/*.pfx" in (out / "containers" / "web02" / ".dockerignore").read_text()
    assert report["layerBytes"] == sum(p.stat().st_size for p in built.rglob("*") if p.is_file())


def test_a_huge_sparse_file_is_left_out_without_being_read(out, tmp_path, capsys):
    content = tmp_path / "extract"
    manifest = web02_extraction(content)
    huge = content / WEB02 / "webshop" / "backup.bak"
    with open(huge, "wb") as stream:
        stream.truncate(64 * 1024 ** 3)  # sparse: 64 GiB that take no disk
    manifest["parts"][0]["files"].append({"path": "backup.bak", "size": 64 * 1024 ** 3, "sha256": "0" * 64})
    write_manifest(content, WEB02, manifest)
    code, err = package(out, content, capsys=capsys)
    assert code == 0, err
    assert "backup.bak" in (out / "package.json").read_text()


def test_secrets_not_in_the_plan_are_named_as_findings(out, tmp_path, capsys):
    content = tmp_path / "extract"
    config = WEB_CONFIG.replace(b"</configuration>", b'<appSettings><add key="MapsApiKey" value="Planted-Secret-2" /></appSettings></configuration>')
    web02_extraction(content, **{"web.config": config})
    assert package(out, content, capsys=capsys)[0] == 0
    text = (out / "package.json").read_text()
    assert "MAPSAPIKEY is not a parameter of the plan" in text and "Planted-Secret" not in text


# --- hostile extractions -----------------------------------------------------------------------

def _entry(manifest: dict, path: str) -> dict:
    return next(f for f in manifest["parts"][0]["files"] if f["path"] == path)


def rename_in_manifest(new: str):
    def change(content: Path, manifest: dict) -> None:
        _entry(manifest, "Default.aspx")["path"] = new
    return change


def symlink_file(content: Path, manifest: dict) -> None:
    target = content / WEB02 / "webshop" / "Default.aspx"
    target.unlink()
    target.symlink_to("/etc/hostname")


def symlink_folder(content: Path, manifest: dict) -> None:
    (content / "elsewhere").mkdir()
    (content / "elsewhere" / "Default.aspx").write_bytes(b"<h1>shop</h1>\n")
    shutil.rmtree(content / WEB02 / "webshop")
    (content / WEB02 / "webshop").symlink_to(content / "elsewhere", target_is_directory=True)


def symlink_vm(content: Path, manifest: dict) -> None:
    os.rename(content / WEB02, content / "real")
    (content / WEB02).symlink_to(content / "real", target_is_directory=True)


def unlisted_link(content: Path, manifest: dict) -> None:
    (content / WEB02 / "webshop" / "escape").symlink_to("/", target_is_directory=True)


def hard_link(content: Path, manifest: dict) -> None:
    os.link(content / WEB02 / "webshop" / "Default.aspx", content / "outside.aspx")


def grow(content: Path, manifest: dict) -> None:
    (content / WEB02 / "webshop" / "Default.aspx").write_bytes(b"<h1>shop</h1>\n<script>evil</script>\n")


def tamper(content: Path, manifest: dict) -> None:
    (content / WEB02 / "webshop" / "Default.aspx").write_bytes(b"<h1>SHOP</h1>\n")


def missing(content: Path, manifest: dict) -> None:
    (content / WEB02 / "webshop" / "Default.aspx").unlink()


def twice_by_case(content: Path, manifest: dict) -> None:
    manifest["parts"][0]["files"].append(dict(_entry(manifest, "web.config"), path="WEB.CONFIG"))


def file_and_folder(content: Path, manifest: dict) -> None:
    manifest["parts"][0]["files"].append(dict(_entry(manifest, "web.config"), path="Default.aspx/x"))


def folder_escape(content: Path, manifest: dict) -> None:
    manifest["parts"][0]["folder"] = ".."


def xxe_config(content: Path, manifest: dict) -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><configuration>&x;</configuration>'
    (content / WEB02 / "webshop" / "web.config").write_bytes(data)
    _entry(manifest, "web.config").update(size=len(data), sha256=hashlib.sha256(data).hexdigest())


def wrong_vm(content: Path, manifest: dict) -> None:
    manifest["vmId"] = WEB01


def wrong_schema(content: Path, manifest: dict) -> None:
    del manifest["parts"][0]["files"][0]["sha256"]


HOSTILE = {
    "zip-slip": (rename_in_manifest("../../../containers/web01/Dockerfile"), "'..' segment"),
    "absolute": (rename_in_manifest("/etc/cron.d/x"), "absolute"),
    "drive": (rename_in_manifest("C:/Windows/System32/x.dll"), "absolute"),
    "backslash": (rename_in_manifest("..\\..\\evil.aspx"), "backslash"),
    "stream": (rename_in_manifest("web.config:secret"), "colon"),
    "device": (rename_in_manifest("bin/CON.txt"), "device"),
    "trailing-dot": (rename_in_manifest("web.config."), "dot or space"),
    "symlink-file": (symlink_file, "is a link"),
    "symlink-folder": (symlink_folder, "is a link"),
    "symlink-vm": (symlink_vm, "is a link"),
    "unlisted-link": (unlisted_link, "is a link"),
    "hard-link": (hard_link, "hard link"),
    "size-differs": (grow, "the manifest says"),
    "hash-differs": (tamper, "SHA-256 differs"),
    "missing": (missing, "missing"),
    "case-duplicate": (twice_by_case, "appears twice"),
    "file-and-folder": (file_and_folder, "both as a file and as a folder"),
    "folder-escape": (folder_escape, "'..' segment"),
    "xxe": (xxe_config, "DTDForbidden"),
    "vm-mismatch": (wrong_vm, "does not match"),
    "schema": (wrong_schema, "'sha256' is a required property"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_extraction_is_refused_with_one_line_and_nothing_changes(case, out, tmp_path, capsys):
    change, expected = HOSTILE[case]
    content = tmp_path / "extract"
    make_extraction(content, WEB01, {"webshop": ("C:\\inetpub\\webshop", {"Default.aspx": b"<h1>ok</h1>\n"})})
    manifest = web02_extraction(content)
    change(content, manifest)
    write_manifest(content, WEB02, manifest)
    before = snapshot(out)
    code, err = package(out, content, capsys=capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("hyperdock: error: ") and expected in err, err
    assert "Traceback" not in err and "Planted-Secret" not in err
    assert snapshot(out) == before   # web01, packaged before web02 was read, is untouched too
    assert not list(out.rglob(".hyperdock-package.*"))


def test_layer_over_the_limit_is_refused(out, tmp_path, capsys):
    content = tmp_path / "extract"
    web02_extraction(content, **{"big.bin": b"x" * (2 * 1024 * 1024)})
    before = snapshot(out)
    code, err = package(out, content, "--max-layer-mib", "1", capsys=capsys)
    assert code == 2 and "over the limit" in err and snapshot(out) == before


def test_without_generate_first_it_says_so(tmp_path, capsys):
    (tmp_path / "plan").mkdir()
    shutil.copy(PLAN, tmp_path / "plan" / "plan.json")
    web02_extraction(tmp_path / "extract")
    code, err = package(tmp_path / "plan", tmp_path / "extract", capsys=capsys)
    assert code == 2 and "run `hyperdock generate` first" in err


def test_cli_refusal_is_one_line_without_traceback(out, tmp_path):
    content = tmp_path / "extract"
    manifest = web02_extraction(content)
    _entry(manifest, "Default.aspx")["path"] = "../escape.aspx"
    write_manifest(content, WEB02, manifest)
    result = run_cli("package", str(out), "--content", str(content))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "manifest.json: parts[0].files[1].path" in result.stderr


def test_generate_again_keeps_the_packaged_content(out, tmp_path, capsys):
    content = tmp_path / "extract"
    web02_extraction(content)
    assert package(out, content, capsys=capsys)[0] == 0
    packaged = out / "containers" / "web02" / "content" / "webshop" / "web.config"
    rewritten = packaged.read_bytes()
    assert main(["generate", str(out)]) == 0, capsys.readouterr().err
    assert packaged.read_bytes() == rewritten
    assert (out / "package.json").is_file()
    # The placeholder generate wrote again stays out of the image.
    assert (packaged.parent / "README.txt").is_file()
    assert "content/webshop/README.txt" in (out / "containers" / "web02" / ".dockerignore").read_text().splitlines()


def test_secrets_in_section_files_and_other_configuration_never_reach_the_context(out, tmp_path, capsys):
    content = tmp_path / "extract"
    config = (b'<?xml version="1.0"?>\n<configuration>\n  <connectionStrings configSource="ConnectionStrings.config" />\n'
              b'</configuration>\n')
    web02_extraction(content, **{
        "web.config": config,
        "ConnectionStrings.config": b'<connectionStrings><add name="ShopDb" connectionString="Password=Planted-Secret-5" /></connectionStrings>',
        "NLog.config": b'<nlog><targets><target type="Database" connectionString="Server=db;Password=Planted-Secret-6" /></targets></nlog>',
        "appsettings.json": b'{"Smtp": {"Password": "Planted-Secret-7", "Host": "mail"}}',
        "Web.Release.config": b'<configuration><connectionStrings><add name="ShopDb" connectionString="Pwd=Planted-Secret-8" /></connectionStrings></configuration>',
        "Scripts/site.js": b"var x = 1;\n",
    })
    code, err = package(out, content, capsys=capsys)
    assert code == 0, err
    built = out / "containers" / "web02" / "content" / "webshop"
    assert b"${SHOPDB}" in (built / "web.config").read_bytes()
    assert json.loads((built / "appsettings.json").read_text()) == {"Smtp": {"Password": "", "Host": "mail"}}
    assert (built / "Scripts" / "site.js").is_file() and not (built / "Web.Release.config").exists()
    (report,) = [w for w in json.loads((out / "package.json").read_text())["workloads"] if w["vmId"] == WEB02]
    reasons = {e["path"]: e["reason"] for e in report["leftOut"]}
    assert reasons["content/webshop/ConnectionStrings.config"].startswith("inlined into content/webshop/web.config")
    assert "secret-looking" in reasons["content/webshop/NLog.config"] and "secret-looking" in reasons["content/webshop/Web.Release.config"]
    assert "Smtp__Password" in {p["env"] for p in report["parameters"]}
    for secret in (b"Planted-Secret-5", b"Planted-Secret-6", b"Planted-Secret-7", b"Planted-Secret-8"):
        assert secret not in b"".join(snapshot(out).values()), secret


# --- an extraction as a zip archive ------------------------------------------------------------

def zip_of(folder: Path, archive: Path, extra: dict[str, bytes] | None = None, links: dict[str, str] | None = None,
           prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                bundle.write(path, prefix + path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            bundle.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            bundle.writestr(info, target)
    return archive


def test_a_zip_of_the_sample_extraction_packages_like_the_folder(out, tmp_path, capsys):
    archive = zip_of(EXAMPLE, tmp_path / "extract.zip", prefix="extract/")
    code, err = package(out, archive, capsys=capsys)
    assert code == 0, err
    report = json.loads((out / "package.json").read_text())
    assert report["content"] == "extract.zip"
    assert (out / "containers" / "web01" / "content" / "webshop-api" / "Default.aspx").is_file()
    assert not list(out.glob(".hyperdock-extract-*"))


ZIP_HOSTILE = {
    "zip-slip": ({"../../outside.txt": b"x"}, None, "'..' segment"),
    "zip-slip-backslash": ({"..\\..\\outside.txt": b"x"}, None, "'..' segment"),
    "absolute": ({"/etc/cron.d/x": b"x"}, None, "absolute"),
    "drive": ({"C:/Windows/x.dll": b"x"}, None, "absolute"),
    "symlink": (None, {f"{WEB02}/webshop/link": "/etc/passwd"}, "symbolic link"),
    "case-duplicate": ({f"{WEB02}/WEBSHOP/Default.aspx": b"x"}, None, "appears twice"),
}


@pytest.mark.parametrize("case", sorted(ZIP_HOSTILE))
def test_hostile_zip_is_refused_with_one_line(case, out, tmp_path, capsys):
    extra, links, expected = ZIP_HOSTILE[case]
    web02_extraction(tmp_path / "extract")
    archive = zip_of(tmp_path / "extract", tmp_path / "hostile.zip", extra, links)
    before = snapshot(out)
    code, err = package(out, archive, capsys=capsys)
    assert code == 2 and err.count("\n") == 1 and expected in err and "hostile.zip" in err, err
    assert snapshot(out) == before and not (tmp_path / "outside.txt").exists()


def test_zip_bomb_stops_at_the_limit(out, tmp_path, capsys):
    web02_extraction(tmp_path / "extract")
    archive = zip_of(tmp_path / "extract", tmp_path / "bomb.zip", {f"{WEB02}/webshop/zeros.bin": bytes(8 * 1024 * 1024)})
    assert archive.stat().st_size < 200_000
    before = snapshot(out)
    code, err = package(out, archive, "--max-archive-mib", "4", capsys=capsys)
    assert code == 2 and "unpacks to more than" in err and snapshot(out) == before


def test_errors_inside_a_zip_name_the_archive(out, tmp_path, capsys):
    manifest = web02_extraction(tmp_path / "extract")
    manifest["parts"][0]["files"][0]["sha256"] = "0" * 64
    write_manifest(tmp_path / "extract", WEB02, manifest)
    archive = zip_of(tmp_path / "extract", tmp_path / "tampered.zip")
    code, err = package(out, archive, capsys=capsys)
    assert code == 2 and f"tampered.zip!/{WEB02}/manifest.json" in err and "SHA-256 differs" in err, err


def test_configuration_text_too_large_to_check(out, tmp_path, capsys):
    content = tmp_path / "extract"
    web02_extraction(content, **{"data/big.json": b" " * (17 * 1024 * 1024) + b"{}"})
    assert package(out, content, capsys=capsys)[0] == 0
    (report,) = [w for w in json.loads((out / "package.json").read_text())["workloads"] if w["vmId"] == WEB02]
    assert "too large to check for secrets" in {e["path"]: e["reason"] for e in report["leftOut"]}["content/webshop/data/big.json"]
    web02_extraction(content, **{"web.config": b"<configuration>" + b" " * (17 * 1024 * 1024) + b"</configuration>"})
    code, err = package(out, content, capsys=capsys)
    assert code == 2 and "too large for a configuration file" in err
