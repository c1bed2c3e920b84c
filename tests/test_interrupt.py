"""A run killed while it writes leaves the previous result whole and no temporary files.

The run is a real `hyperdock assess --generate` process. It is advanced in 2 ms slices between
SIGSTOPs, so the test sees it frozen inside its write phase (its temporary folder exists) and
signals it there: no race with how fast the machine is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, inventory, vm, write_json
from migrate.cli import main


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _previous_result(tmp_path: Path) -> Path:
    small = write_json(tmp_path / "small.json", inventory(vm("OLD01", ip="10.0.0.1"), vm("OLD02", ip="10.0.0.2")))
    out = tmp_path / "out"
    assert main(["assess", str(small), "--out", str(out), "--generate", "--quiet"]) == 0
    (out / "containers" / "old01" / "app.dll").write_bytes(b"the user's")
    return out


def _stopped(pid: int) -> bool:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return fields[0] in ("T", "t")


def _freeze_mid_write(process: subprocess.Popen, staging: Path) -> None:
    """Run `process` in short slices until it is frozen with `staging` present; raise if it never was."""
    while process.poll() is None:
        os.kill(process.pid, signal.SIGSTOP)
        while process.poll() is None and not _stopped(process.pid):
            time.sleep(0.0002)
        if staging.exists():
            return
        os.kill(process.pid, signal.SIGCONT)
        time.sleep(0.002)
    raise AssertionError(f"the run ended (exit {process.returncode}) before it was seen writing")


def _finish(process: subprocess.Popen) -> None:
    """Never leave a stopped process behind a failed assertion."""
    if process.poll() is None:
        process.kill()
        process.communicate(timeout=60)


def _start_big_run(tmp_path: Path, out: Path) -> subprocess.Popen:
    big = write_json(tmp_path / "big.json", inventory(*(vm(f"APP{i:03d}", ip=f"10.1.{i}.1") for i in range(150))))
    return subprocess.Popen([sys.executable, "-m", "migrate", "assess", str(big), "--out", str(out), "--generate", "--quiet"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_write_keeps_the_previous_result(tmp_path, signum):
    out = _previous_result(tmp_path)
    before = _tree(out)
    process = _start_big_run(tmp_path, out)
    try:
        _freeze_mid_write(process, tmp_path / f".out.hyperdock-{process.pid}.new")
        assert _tree(out) == before  # frozen mid-write: nothing of the new result is in place yet
        os.kill(process.pid, signum)
        os.kill(process.pid, signal.SIGCONT)
        _, stderr = process.communicate(timeout=60)
    finally:
        _finish(process)
    assert process.returncode == 130
    assert stderr.count("\n") == 1 and "interrupted" in stderr and "Traceback" not in stderr
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.json", "out", "small.json"]


def test_sigkill_mid_write_keeps_the_previous_result_and_the_next_run_cleans_up(tmp_path):
    out = _previous_result(tmp_path)
    before = _tree(out)
    process = _start_big_run(tmp_path, out)
    staging = tmp_path / f".out.hyperdock-{process.pid}.new"
    try:
        _freeze_mid_write(process, staging)
    finally:
        _finish(process)
    assert _tree(out) == before
    assert staging.exists()  # SIGKILL cannot be caught: the half-written folder stays beside it
    small = tmp_path / "small.json"
    assert main(["assess", str(small), "--out", str(out), "--generate", "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.json", "out", "small.json"]
    assert (out / "containers" / "old01" / "app.dll").read_bytes() == b"the user's"
