"""Secret-looking values in the inventory never reach an output; `policy check --artifacts` finds planted ones."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from conftest import guest, inventory, run_cli, vm, write_json
from migrate.core.secrets import find_secrets, secret_setting
from migrate.scrub import scrub
from policies.artifacts import SECRETS, check_artifacts

# Each planted value is unique, so finding it anywhere in the output is a leak.
PLANTED = {
    "service": ('"C:\\apps\\billing\\Billing.exe" -user sa -password=Hunter2-Svc-Leak', "Hunter2-Svc-Leak"),
    "connection": ('"C:\\apps\\sync\\Sync.exe" "Server=db;Database=x;User Id=sa;Password=Conn-Leak-77;"', "Conn-Leak-77"),
    "switch": ("C:\\jobs\\export.exe /pwd Zebra-Task-Leak", "Zebra-Task-Leak"),
    "url": ("C:\\jobs\\pull.exe --feed https://admin:Url-Leak-55@repo.contoso.com/feed", "Url-Leak-55"),
    "key": ('"C:\\apps\\blob\\Blob.exe" AccountKey=Key-Leak-abc+/== SharedAccessKeyName=Root', "Key-Leak-abc+/=="),
    "notes": ("app=shop password=Notes-Leak-99", "Notes-Leak-99"),
    "path": ("C:\\inetpub\\shop;token=Path-Leak-31", "Path-Leak-31"),
}


@pytest.mark.parametrize("text, kinds", [
    ("svc.exe -password=p1 -ApiKey=p2 x-api-key=p3 db.password=p4", ["password", "apikey", "api-key", "password"]),
    ("Server=db;User Id=sa;Password = \"with space\";", ["password"]),
    ("sync.exe --token abc /secret:def", ["token", "secret"]),
    ("git clone https://u:p@host/r", ["password"]),
    ("-----BEGIN RSA PRIVATE KEY-----", ["private key"]),
    # not secrets: variables, references, names that merely contain a key word
    ("$password = ConvertTo-SecureString -String $x; $passwordFile = Join-Path", []),
    ("-Password $password -Key %ORDER_KEY% token=${TOKEN}", []),
    ("SharedAccessKeyName=Root monkey=banana turkey: x keyboard=1", []),
])
def test_what_looks_secret(text, kinds):
    assert find_secrets(text) == kinds


def test_scrub_names_a_parameter_and_keeps_the_rest():
    text, names = scrub('"C:\\a\\b.exe" -user sa -password=Hunter2 -v', "Order Svc")
    assert text == '"C:\\a\\b.exe" -user sa -password=%ORDER_SVC_PASSWORD% -v' and names == ["ORDER_SVC_PASSWORD"]


def test_secret_settings():
    assert secret_setting("DB_PASSWORD", "x") and secret_setting("DB", "Server=db;Password=h")
    assert not secret_setting("DB_PASSWORD", "${DB_PASSWORD}") and not secret_setting("KEYBOARD", "x")


def planted_estate() -> list[dict]:
    services = [{"Name": f"Svc{k}", "StartMode": "Auto", "PathName": PLANTED[k][0], "StartName": "LocalSystem"}
                for k in ("service", "connection", "key")]
    tasks = [{"TaskName": f"Task{k}", "Execute": PLANTED[k][0], "RunAs": "SYSTEM"} for k in ("switch", "url")]
    site = {"Name": "Shop", "Bindings": ["http/*:80:"], "PhysicalPath": PLANTED["path"][0], "ApplicationPool": "ShopPool"}
    return [
        vm("APP01", ip="10.7.0.1", Notes=PLANTED["notes"][0], guest_data=guest(Services=services, Features=["Web-Server"],
                                                                           IISSites=[site])),
        vm("BATCH01", ip="10.7.0.2", guest_data=guest(Listeners=[], ScheduledTasks=tasks)),
    ]


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("secrets")
    path = write_json(folder / "inv.json", inventory(*planted_estate()))
    result = run_cli("assess", str(path), "--out", str(folder / "out"), "--generate", "--quiet", "--experimental-k8s-hyperv")
    assert result.returncode == 0, result.stderr
    return folder / "out"


def readable(path: Path) -> str:
    """A file's text plus every Base64 literal in it decoded (ps_quote carries odd values as Base64)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    decoded = []
    for token in re.findall(r"[A-Za-z0-9+/]{8,}={0,2}", text):
        try:
            decoded.append(base64.b64decode(token, validate=True).decode("utf-8"))
        except ValueError:
            pass
    return "\n".join([text, *decoded])


def test_no_planted_secret_reaches_any_output(out):
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"plan.json", "report.md", "hosts.yaml"} <= {p.name for p in files}
    assert any(p.name == "Dockerfile" for p in files) and any(p.suffix == ".ps1" for p in files)
    assert any(p.parent.name == "compose" for p in files) and any(p.parent.name == "k8s" for p in files)
    for path in files:
        content = readable(path)
        for _, value in PLANTED.values():
            assert value not in content, (path, value)


def test_each_secret_becomes_a_finding_and_a_parameter(out):
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    by_name = {w["name"]: w for w in plan["workloads"]}
    assert "cond.inline-secret" in {r["id"] for r in plan["rules"]}
    for name, parameters in (("APP01", {"SVCSERVICE_PASSWORD", "SVCCONNECTION_PASSWORD", "SVCKEY_ACCOUNTKEY"}),
                             ("BATCH01", {"TASKSWITCH_PWD", "TASKURL_PASSWORD"})):
        workload = by_name[name]
        (finding,) = [f for f in workload["findings"] if f["rule"] == "cond.inline-secret"]
        assert all(p in finding["message"] for p in parameters), finding
        assert parameters <= {p["name"] for p in workload["container"]["parameters"]}
    app = by_name["APP01"]
    assert "Notes" in next(f["message"] for f in app["findings"] if f["rule"] == "cond.inline-secret")
    assert app["tags"]["app"].startswith("shop")
    # Supplied at run time: a key of the Kubernetes Secret, a variable start.ps1 reads.
    assert "SVCSERVICE_PASSWORD" in (out / "k8s" / "app01.yaml").read_text(encoding="utf-8")
    assert "'SVCSERVICE_PASSWORD'" in (out / "containers" / "app01" / "start.ps1").read_text(encoding="utf-8")


def test_generated_output_passes_the_artifact_check(out):
    assert [v for v in check_artifacts(out, ["registry.invalid/hyperdock"]) if v.policy == SECRETS] == []


def test_artifact_check_finds_literals_in_dockerfiles_and_scripts(out, tmp_path):
    folder = tmp_path / "artifacts"
    (folder / "containers" / "web").mkdir(parents=True)
    (folder / "containers" / "web" / "Dockerfile").write_text(
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN setx DB 'Server=db;Password=LeakedInLayer'\n", encoding="utf-8")
    (folder / "containers" / "web" / "start.ps1").write_text("& C:\\app\\x.exe -apikey=abc123\n", encoding="utf-8")
    (folder / "containers" / "web" / "ok.ps1").write_text("$password = Get-Content -LiteralPath $file\n", encoding="utf-8")
    found = sorted((v.resource_name, v.message) for v in check_artifacts(folder, []) if v.policy == SECRETS)
    assert [name for name, _ in found] == ["containers/web/Dockerfile", "containers/web/start.ps1"]
    assert "line 2" in found[0][1] and "LeakedInLayer" not in found[0][1]
    result = run_cli("policy", "check", "--artifacts", str(folder))
    assert result.returncode != 0 and SECRETS in result.stdout and "abc123" not in result.stdout


# Texts with and without secret-looking values, matches at their very start and end included.
SCRUB_TEXTS = [text for text, _ in PLANTED.values()] + [
    "password=x", "pwd:1", "-password p", "/pwd p", "--token t", "https://u:p@h", "-----BEGIN RSA PRIVATE KEY-----",
    "key=v", "x key=v", "$password = 1", "%PWD%", "monkey=banana", "C:\\VMs\\a.vhdx", "http/*:80:", "", "k", "@",
]


@pytest.mark.parametrize("text", SCRUB_TEXTS)
def test_a_match_in_one_text_is_a_match_in_the_joined_texts(text):
    """scrub_estate searches a VM's texts joined by newlines: whatever matches alone matches there
    too, whatever its neighbours, and every prefix or suffix of a text is a text of its own."""
    from migrate.core.secrets import SECRET

    neighbours = ["", "a", "$", "@", "x-", "http://u", "password", "\\", "-"]
    for piece in {text[:i] for i in range(len(text) + 1)} | {text[i:] for i in range(len(text) + 1)}:
        if SECRET.search(piece):
            for before in neighbours:
                for after in neighbours:
                    assert SECRET.search("\n".join([before, piece, after])), (before, piece, after)


def test_each_scrubbed_field_is_still_scrubbed_among_clean_ones(tmp_path):
    """One VM per field, the secret in that field, beside VMs whose texts are clean (and cached clean)."""
    from migrate.inventory import read_estate

    secret = "svc.exe -password=Leak-1"
    fields = [
        lambda r: r.update(Notes=secret), lambda r: r["Tags"].update(owner=secret),
        lambda r: r.update(CollectionErrors=["ok", secret]), lambda r: r["HardDrives"][0].update(Path=secret),
        lambda r: r["Guest"]["Services"].append({"Name": "S", "PathName": secret}),
        lambda r: r["Guest"]["Services"].append({"Name": "S", "DisplayName": secret}),
        lambda r: r["Guest"]["Drivers"].append({"Name": "D", "PathName": secret}),
        lambda r: r["Guest"]["ScheduledTasks"].append({"TaskName": "T", "Execute": secret}),
        lambda r: r["Guest"]["IISSites"].append({"Name": "W", "PhysicalPath": secret}),
        lambda r: r["Guest"]["IISSites"].append({"Name": "W", "Bindings": ["http/*:80:", "net.tcp/" + secret]}),
        lambda r: r["Guest"]["IISSites"].append({"Name": "W", "Applications": [{"Path": "/a", "PhysicalPath": secret}]}),
        lambda r: r["Guest"]["ConnectionStrings"].append({"Name": "C", "File": secret}),
    ]
    records = []
    for i, plant in enumerate(fields):
        clean, planted = vm(f"CLEAN{i}", tags={"owner": "ops"}), vm(f"LEAK{i}", tags={"owner": "ops"})
        plant(planted)
        records += [clean, planted]
    path = write_json(tmp_path / "inv.json", inventory(*records))
    estate = read_estate([path])
    for found in estate.vms:
        assert bool(found.removed_secrets) == found.name.startswith("LEAK"), found.name
        assert "Leak-1" not in repr(found), found.name


def test_scrub_hints_cover_every_secret():
    """scrub_estate searches only texts holding one of scrub._HINTS: every key of the pattern holds
    one, every text that matches holds one; the pattern is the one the hints were derived from."""
    import hashlib
    import itertools

    from migrate.core import secrets
    from migrate.scrub import _HINTS, _may_hold_secret

    assert hashlib.sha256(secrets.SECRET.pattern.encode()).hexdigest() == (
        "8522b088f56182867d18a88b419f0dc8a9e1cf0cf0adbbffaee3a395278dc6a0"), "SECRET changed: derive scrub._HINTS again"
    for key in secrets._KEYS.split("|"):
        parts = key.split("[_-]?")
        for seps in itertools.product(["", "_", "-"], repeat=len(parts) - 1):
            word = parts[0] + "".join(s + p for s, p in zip(seps, parts[1:]))
            assert any(hint in word for hint in _HINTS), word
    texts = SCRUB_TEXTS + ["SVC.EXE -PASSWORD=X", "Api-Key: 1", "x ACCESS_TOKEN=1", "a \u212aEY=1", "pa\u017f\u017fword=1"]
    for text in texts:
        if secrets.SECRET.search(text):
            assert _may_hold_secret(text), text
