"""HEALTHCHECK: a server that answers is alive, whatever the status (review finding: `curl -f`
marked a Web API's 404 at `/`, or an IIS site's 403 without a default document, unhealthy forever)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from migrate.contract.kubernetes import with_probes
from migrate.generate.dockerfile import render_dockerfile
from migrate.contract.plan_io import plan_from_document

ROOT = Path(__file__).resolve().parent.parent
PLAN = plan_from_document(json.loads((ROOT / "examples" / "plan" / "plan.json").read_text(encoding="utf-8")))
GOLDEN = ROOT / "tests" / "golden" / "sample" / "containers"


def _probe(dockerfile: str) -> list[str] | None:
    line = next(x for x in dockerfile.splitlines() if x.startswith("HEALTHCHECK"))
    return json.loads(line.split(" CMD ", 1)[1]) if " CMD " in line else None


def test_no_http_probe_fails_on_an_http_status():
    probes = [_probe(p.read_text(encoding="utf-8")) for p in sorted(GOLDEN.glob("*/Dockerfile"))]
    curls = [p for p in probes if p and p[0] == "curl.exe"]
    assert len(curls) >= 5
    for command in curls:
        flags = [a for a in command if a.startswith("-") and not a.startswith("--")]
        assert not any("f" in flag for flag in flags), command  # -f turns 4xx/5xx into failure
        assert "--max-time" in command  # but nothing answering in time still fails


def test_nano_and_iis_images_share_the_rule():
    api01 = next(w for w in PLAN.workloads if w.name == "API01")
    web01 = next(w for w in PLAN.workloads if w.name == "WEB01")
    nano, iis = _probe(render_dockerfile(api01, "api01")[0]), _probe(render_dockerfile(web01, "web01")[0])
    assert nano[:-1] == ["curl.exe", "-sS", "-o", "NUL", "--max-time", "5"] and nano[-1].startswith("http://localhost:")
    assert iis[:6] == nano[:6]


def test_kubernetes_probes_do_not_judge_the_status():
    objects = list(yaml.safe_load_all((ROOT / "tests" / "golden" / "sample" / "k8s" / "api01.yaml").read_text(encoding="utf-8")))
    for obj in with_probes(objects):
        if obj["kind"] == "Deployment":
            container = obj["spec"]["template"]["spec"]["containers"][0]
            for probe in ("readinessProbe", "livenessProbe"):
                assert "httpGet" not in container[probe] and "tcpSocket" in container[probe]
