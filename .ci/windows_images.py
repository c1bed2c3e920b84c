"""Build and start generated containers on a Windows host with Docker (.github/workflows/windows-images.yml).

    python .ci/windows_images.py OUT_DIR --host-os ltsc2022 [--tls DIR] [--timeout 600]

OUT_DIR is what `hyperdock assess --generate` wrote. For every container workload whose image is
for this host's build (process isolation needs the same build): a minimal test page in each
content placeholder, then `docker build`. IIS workloads, whose healthcheck asks the site, are also
started (with the test certificate in --tls mounted where start.ps1 looks for it) and must report
`healthy`. Service and batch images are only built: their programs are not in the inventory.
Prints one line per step; exits 1 if any step failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from migrate.contract.names import unique_labels  # noqa: E402

TEST_PAGE = "<!doctype html><title>hyperdock</title><p>hyperdock test page</p>\n"
TLS_TARGET = "C:\\hyperdock\\tls"


@dataclass(frozen=True, slots=True)
class Image:
    label: str
    folder: Path
    start: bool  # an IIS workload: run it and wait for its healthcheck


def images_for(out: Path, host_os: str) -> list[Image]:
    """Return the container workloads of `out`'s plan whose image is for `host_os`, by label."""
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    labels = unique_labels([(w["vmId"], w["name"]) for w in plan["workloads"]])
    found = []
    for w in plan["workloads"]:
        if w["target"] == "vm" or w["imageOS"] != host_os:
            continue
        container = w["container"]
        start = bool(container["iisSites"]) and not container["services"] and "nanoserver" not in w["baseImage"]
        found.append(Image(labels[w["vmId"]], out / "containers" / labels[w["vmId"]], start))
    return sorted(found, key=lambda i: i.label)


def fill_placeholders(image: Image) -> None:
    """Put the test page into every content placeholder folder (default document index.html)."""
    for readme in sorted(image.folder.glob("content/*/README.txt")):
        (readme.parent / "index.html").write_text(TEST_PAGE, encoding="utf-8")


def build_command(image: Image) -> list[str]:
    return ["docker", "build", "--tag", f"hyperdock-check/{image.label}", str(image.folder)]


def run_command(image: Image, tls: Path | None) -> list[str]:
    command = ["docker", "run", "--detach", "--name", f"check-{image.label}", "--isolation", "process"]
    if tls is not None:
        command += ["--volume", f"{tls}:{TLS_TARGET}:ro"]
    return command + [f"hyperdock-check/{image.label}"]


def wait_healthy(name: str, timeout: float, run=subprocess.run, sleep=time.sleep) -> str:
    """Return the container's last health status: `healthy`, `unhealthy`, or what it was at the timeout."""
    deadline = time.monotonic() + timeout
    status = "starting"
    while time.monotonic() < deadline:
        result = run(["docker", "inspect", "--format", "{{.State.Health.Status}}", name], capture_output=True, text=True)
        status = result.stdout.strip() or "unknown"
        if status in ("healthy", "unhealthy"):
            return status
        sleep(10)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--host-os", required=True, choices=["ltsc2019", "ltsc2022", "ltsc2025"])
    parser.add_argument("--tls", type=Path, help="folder with tls.pfx and password, mounted at " + TLS_TARGET)
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for each healthcheck")
    args = parser.parse_args(argv)
    images = images_for(args.out, args.host_os)
    if not images:
        print(f"no container workload of the plan is for {args.host_os}")
        return 1
    failed = []
    for image in images:
        fill_placeholders(image)
        if subprocess.run(build_command(image)).returncode != 0:
            failed.append(f"{image.label}: docker build failed")
            continue
        print(f"{image.label}: built")
        if not image.start:
            continue
        if subprocess.run(run_command(image, args.tls)).returncode != 0:
            failed.append(f"{image.label}: docker run failed")
            continue
        status = wait_healthy(f"check-{image.label}", args.timeout)
        print(f"{image.label}: {status}")
        if status != "healthy":
            subprocess.run(["docker", "logs", f"check-{image.label}"])
            failed.append(f"{image.label}: healthcheck says {status}")
        subprocess.run(["docker", "rm", "--force", f"check-{image.label}"], capture_output=True)
    for line in failed:
        print(f"FAILED {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
