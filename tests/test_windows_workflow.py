"""The Windows images workflow: its shape, its PowerShell, and the script that builds and starts images."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_cli
from psref import problems

WORKFLOW = ROOT / ".github" / "workflows" / "windows-images.yml"
SPEC = importlib.util.spec_from_file_location("windows_images", ROOT / ".ci" / "windows_images.py")
windows_images = sys.modules["windows_images"] = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(windows_images)
# actions/runner-images, images/windows/Windows20xx-Readme.md: the OS build of each runner image.
RUNNER_BUILDS = {"windows-2022": "ltsc2022", "windows-2025": "ltsc2025"}


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps(workflow: dict) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


def test_runs_on_windows_runners_with_docker_for_their_own_build(workflow):
    (job,) = workflow["jobs"].values()
    matrix = job["strategy"]["matrix"]["include"]
    assert {(m["runner"], m["host_os"]) for m in matrix} == set(RUNNER_BUILDS.items())
    assert job["runs-on"] == "${{ matrix.runner }}" and job["env"]["HOST_OS"] == "${{ matrix.host_os }}"
    assert workflow["permissions"] == {"contents": "read"}
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "workflow_dispatch" in triggers


def test_actions_are_pinned_and_runs_take_no_expressions(workflow):
    uses = [s["uses"] for s in steps(workflow) if "uses" in s]
    assert uses and all(re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", u) for u in uses), uses
    assert all("${{" not in s.get("run", "") for s in steps(workflow))  # values come in as environment


def test_steps_generate_build_start_and_wait(workflow):
    runs = "\n".join(s.get("run", "") for s in steps(workflow))
    assert "--generate" in runs and "--host-os $env:HOST_OS" in runs
    assert "python .ci/windows_images.py out --host-os $env:HOST_OS --tls" in runs


@pytest.mark.parametrize("runner", sorted(RUNNER_BUILDS))
def test_workflow_powershell_is_documented(workflow, runner):
    scripts = [s["run"] for s in steps(workflow) if s.get("shell") == "powershell"]
    assert len(scripts) == 4
    reference_set = {"ltsc2022": "ws2022", "ltsc2025": "ws2025"}[RUNNER_BUILDS[runner]]
    for script in scripts:
        assert problems(script, reference_set) == [], script


@pytest.fixture(scope="module")
def sample_2022(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("windows-images") / "out"
    result = run_cli("assess", "examples/estate/hv01.yaml", "examples/estate/hv02.json", "--dependencies",
                     "examples/estate/dependencies.csv", "--host-os", "ltsc2022", "--out", str(out), "--generate", "--quiet")
    assert result.returncode == 0, result.stderr
    return out


def test_selects_the_images_of_the_runner_build_and_starts_iis_ones(sample_2022):
    images = {i.label: i for i in windows_images.images_for(sample_2022, "ltsc2022")}
    for image in images.values():
        first = (image.folder / "Dockerfile").read_text(encoding="utf-8").splitlines()
        assert any(line.startswith("FROM ") and "ltsc2022" in line for line in first), image.label
    assert "dmz-nw-web01" not in images  # pinned to ltsc2019: cannot run process-isolated here
    assert images["web01"].start and not images["api01"].start and not images["batch01"].start
    assert windows_images.images_for(sample_2022, "ltsc2025") == []


def test_placeholders_get_the_test_page_and_commands_are_docker(sample_2022, tmp_path):
    image = windows_images.images_for(sample_2022, "ltsc2022")[0]
    copy = windows_images.Image(image.label, tmp_path / image.label, image.start)
    shutil.copytree(image.folder, copy.folder)
    windows_images.fill_placeholders(copy)
    pages = list(copy.folder.glob("content/*/index.html"))
    assert pages and len(pages) == len(list(copy.folder.glob("content/*/README.txt")))
    assert windows_images.build_command(copy)[:3] == ["docker", "build", "--tag"]
    run = windows_images.run_command(copy, Path("C:/tls"))
    assert run[:2] == ["docker", "run"] and "C:/tls:C:\\hyperdock\\tls:ro" in run and run[-1] == f"hyperdock-check/{copy.label}"


def test_waits_for_healthy_and_stops_on_unhealthy():
    class Result:
        def __init__(self, stdout):
            self.stdout = stdout
    answers = iter(["starting\n", "starting\n", "healthy\n"])
    assert windows_images.wait_healthy("c", 60, run=lambda *a, **k: Result(next(answers)), sleep=lambda s: None) == "healthy"
    assert windows_images.wait_healthy("c", 60, run=lambda *a, **k: Result("unhealthy"), sleep=lambda s: None) == "unhealthy"
