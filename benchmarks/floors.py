"""Each step of hyperdock beside its floor, in one run: time, ratio to the floor, peak memory.

| step | floor |
|---|---|
| `hyperdock assess` of an estate (assess_scale.py's estate shape, 100 dependency rows per VM) | `pyarrow.csv.read_csv` of the same dependency CSV |
| `hyperdock generate` from that plan | writing the same files with the same bytes (plain open/write, one process) |
| the Pulumi program with N Azure hosts, under mocks (registration, imports excluded) | the same harness registering the same number of resources as children of empty components |

Every step runs in a fresh process; wall times include interpreter start and imports for both
the step and its floor, except the program's (registration only, as pulumi_hosts.py). Peak
memory is the larger of the process's maximum RSS (from wait4) and the largest sum of the RSS of
the process and its descendants seen by sampling /proc every 20 ms (assess reads a big
dependency CSV in a child process, which wait4's figure would leave out; Linux only).

    python benchmarks/floors.py                   # 50000 VMs, 100 hosts
    python benchmarks/floors.py --vms 1000 10000 50000 --hosts 10 100
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from assess_scale import write_estate  # noqa: E402

ARROW = "import sys, pyarrow.csv; pyarrow.csv.read_csv(sys.argv[1])"

WRITE_FLOOR = r"""
import json, os, sys, time
source, target = sys.argv[1], sys.argv[2]
files = []
for folder, _, names in os.walk(source):
    for name in names:
        if name == ".hyperdock-manifest":
            continue
        path = os.path.join(folder, name)
        with open(path, "rb") as stream:
            files.append((os.path.relpath(path, source), stream.read()))
started = time.perf_counter()
made = set()
for relative, data in files:
    folder = os.path.dirname(relative)
    if folder not in made:
        os.makedirs(os.path.join(target, folder), exist_ok=True)
        made.add(folder)
    with open(os.path.join(target, relative), "wb") as stream:
        stream.write(data)
print(json.dumps({"seconds": time.perf_counter() - started, "files": len(files)}))
"""

PROGRAM = r"""
import json, runpy, sys, time
root, count, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path.insert(0, root); sys.path.insert(0, root + "/tests")
import pulumi
import pulumi_mocks
import pulumi_random
from pulumi_azure_native import compute, network, resources
from pulumi_command import local, remote
# Imports outside the timing: azure-native loads a module on first attribute access, not at import.
compute.VirtualMachine, network.NetworkInterface, resources.ResourceGroup
monitor = pulumi_mocks.start()
started = time.perf_counter()

class Empty(pulumi.ComponentResource):
    def __init__(self, name, children):
        super().__init__("hyperdock:index:Empty", name, {}, None)
        for i in range(children):
            pulumi.CustomResource("hyperdock:test:Nothing", f"{name}-{i}", {}, pulumi.ResourceOptions(parent=self))
        self.register_outputs({})

@pulumi.runtime.test
def program():
    if mode == "floor":
        per_host = int(sys.argv[4])
        for i in range(count):
            Empty(f"host-{i:03d}", per_host)
        return
    pulumi.runtime.set_all_config({"hyperdock:azureHostCount": str(count), "hyperdock:managementCidrs": '["10.0.0.0/24"]'})
    runpy.run_path(root + "/__main__.py", run_name="__pulumi__")

program()
print(json.dumps({"seconds": time.perf_counter() - started, "resources": len(monitor.requests)}))
"""


def tree_rss_kib(pid: int) -> int:
    """Return the resident memory of `pid` and all its descendants, in KiB (0 for what is gone)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):
            continue  # exited while being read
    return total


def run_measured(command: list[str], cwd: Path = ROOT) -> tuple[float, float, str]:
    """Run `command`; return (wall seconds, its peak RSS in MiB: wait4's or the sampled process
    tree's, whichever is larger; its stdout). Raise if it fails."""
    started = time.perf_counter()
    with open(os.devnull, "w") as null, tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=null, text=True)
        tree_peak, done = [0], threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                tree_peak[0] = max(tree_peak[0], tree_rss_kib(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise RuntimeError(f"{' '.join(command[:5])}… exited {process.returncode}")
        out.seek(0)
        return wall, max(usage.ru_maxrss, tree_peak[0]) / 1024, out.read()


def row(step: str, seconds: float, peak: float, floor_name: str, floor_seconds: float, floor_peak: float) -> str:
    return (f"{step:<34} {seconds:>8.1f}s {peak:>8.0f}MiB   {floor_name:<40} {floor_seconds:>7.1f}s "
            f"{floor_peak:>7.0f}MiB   {seconds / floor_seconds:>5.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, nargs="+", default=[50000])
    parser.add_argument("--hosts", type=int, nargs="+", default=[100])
    args = parser.parse_args()
    python = sys.executable
    print(f"{'step':<34} {'time':>9} {'peak':>11}   {'floor':<40} {'time':>8} {'peak':>10}   ratio", flush=True)
    with tempfile.TemporaryDirectory(prefix="hyperdock-floors-") as tmp:
        folder = Path(tmp)
        for n in args.vms:
            inventory, deps = write_estate(n, folder)
            arrow = run_measured([python, "-c", ARROW, str(deps)])
            plan_dir = folder / f"plan-{n}"
            assess = run_measured([python, "-m", "migrate", "assess", str(inventory), "--dependencies", str(deps),
                                   "--out", str(plan_dir), "--quiet"])
            print(row(f"assess {n} VMs ({n * 100 // 1000}k rows)", assess[0], assess[1], "Arrow read of the CSV",
                      arrow[0], arrow[1]), flush=True)
            out = folder / f"gen-{n}"
            generate = run_measured([python, "-m", "migrate", "generate", str(plan_dir), "--out", str(out)])
            files = sum(len(names) for _, _, names in os.walk(out)) - 1
            floor_dir = folder / f"floor-{n}"
            write = run_measured([python, "-c", WRITE_FLOOR, str(out), str(floor_dir)])
            written = json.loads(write[2])
            print(row(f"generate {n} VMs ({files} files)", generate[0], generate[1],
                      f"write {written['files']} files, same bytes", written["seconds"], write[1]), flush=True)
            for leftover in (plan_dir, out, floor_dir):
                shutil.rmtree(leftover, ignore_errors=True)
            for leftover in (inventory, deps):
                leftover.unlink()
    for hosts in args.hosts:
        program = run_measured([python, "-c", PROGRAM, str(ROOT), str(hosts), "program"])
        measured = json.loads(program[2].strip().splitlines()[-1])
        per_host = max(1, round((measured["resources"] - 1) / hosts) - 1)
        floor = run_measured([python, "-c", PROGRAM, str(ROOT), str(hosts), "floor", str(per_host)])
        empty = json.loads(floor[2].strip().splitlines()[-1])
        print(row(f"program {hosts} hosts ({measured['resources']} res.)", measured["seconds"], program[1],
                  f"{empty['resources']} resources in empty components", empty["seconds"], floor[1]), flush=True)


if __name__ == "__main__":
    main()
