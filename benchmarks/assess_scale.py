"""How `hyperdock assess` scales: estates of 1k, 10k and 50k VMs with 100 dependency rows per VM.

The estates are shaped like a real one: applications of ~20 VMs, each VM with ~5 partners in
its application and ~3 shared hubs (one hub per ~500 VMs), every pair repeated across 6-hour time
slots, so rows collapse to a few unique edges per VM. Each size runs in a fresh process, whose wall
time, stage times and peak RSS are printed beside the time to merely read the CSV.

    python benchmarks/assess_scale.py                 # 1000, 10000, 50000
    python benchmarks/assess_scale.py --sizes 1000 5000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROWS_PER_VM = 100
APP_SIZE = 20
PARTNERS = 5
HUBS_PER_VM = 3
VMS_PER_HUB = 500
GIB = 1024 ** 3

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from migrate.assess import Options, Progress, assess_into
progress = Progress(enabled=False)
# As the CLI runs it: plan.json and report.md streamed to the folder as they are serialized.
assess_into(Path(sys.argv[4]), [Path(sys.argv[2])], [Path(sys.argv[3])], Options(), progress)
maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
import orjson
plan = orjson.loads((Path(sys.argv[4]) / "plan.json").read_bytes())  # after the peak was taken
print(json.dumps({"timings": progress.timings, "maxrss_kib": maxrss,
                  "waves": len(plan["waves"]), "groups": len(plan["moveGroups"])}))
"""


def vm_name(i: int) -> str:
    return f"VM{i:06d}"


def vm_ip(i: int) -> str:
    return f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}"


def write_estate(n: int, folder: Path, seed: int = 7) -> tuple[Path, Path]:
    """Write an inventory of `n` VMs and a dependency CSV of `n * 100` rows; return both paths."""
    rnd = random.Random(seed)
    hubs = list(range(0, n, VMS_PER_HUB))
    vms = []
    for i in range(n):
        app = i // APP_SIZE
        env = "dev" if app % 5 == 0 else "prod"
        vms.append({
            "Name": vm_name(i), "VMId": f"00000000-0000-0000-0000-{i:012d}", "State": "Running",
            "ProcessorCount": rnd.choice([2, 4, 8]), "MemoryStartup": rnd.choice([4, 8, 16]) * GIB,
            "Tags": {"app": f"app{app:05d}", "env": env, "criticality": "high" if app % 7 == 0 else "medium"},
            "NetworkAdapters": [{"Name": "nic", "IPAddresses": [vm_ip(i)]}],
            "HardDrives": [{"Path": f"C:\\VMs\\{vm_name(i)}.vhdx"}],
            "Guest": {
                "OSName": "Windows Server 2019 Datacenter", "OSVersion": "10.0.17763",
                "Features": ["Web-Server", "Web-Asp-Net45"] if i % 3 == 0 else ["NET-Framework-45-Core"],
                "Services": [], "Drivers": [], "Software": [], "DotNetFrameworkRelease": 528040,
                "IISSites": [{"Name": "Site", "Bindings": ["http/*:80:"], "PhysicalPath": "C:\\inetpub\\site", "ApplicationPool": "P"}] if i % 3 == 0 else [],
                "AppPools": [{"Name": "P", "ManagedRuntimeVersion": "v4.0"}] if i % 3 == 0 else [],
                "Listeners": [{"LocalAddress": "0.0.0.0", "LocalPort": 80 if i % 3 == 0 else 8080, "ProcessName": "app"}],
                "Connections": [], "ConnectionStrings": [], "ScheduledTasks": [],
            },
        })
    inventory = {"schema": "hyperdock/inventory@1", "collectedAt": "2026-11-20T10:00:00Z",
                 "hosts": [{"ComputerName": f"HV{h:03d}", "OSVersion": "10.0.17763", "vms": vms[h * 1000:(h + 1) * 1000]}
                           for h in range((n + 999) // 1000)]}
    inv_path = folder / f"estate-{n}.json"
    inv_path.write_text(json.dumps(inventory), encoding="utf-8")

    csv_path = folder / f"deps-{n}.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["Timeslot", "Source server name", "Source IP", "Source application", "Source process",
                         "Destination server name", "Destination IP", "Destination application", "Destination process",
                         "Destination port"])
        for i in range(n):
            app = i // APP_SIZE
            first, last = app * APP_SIZE, min(n, (app + 1) * APP_SIZE)
            partners = rnd.sample(range(first, last), min(PARTNERS, last - first))
            targets = [p for p in partners if p != i] + rnd.sample(hubs, min(HUBS_PER_VM, len(hubs)))
            for row in range(ROWS_PER_VM):
                t = targets[row % len(targets)]
                slot = f"2026-11-{1 + row // 24:02d} {(row % 4) * 6:02d}:00"
                writer.writerow([slot, f"{vm_name(i).lower()}.corp.local", vm_ip(i), f"app{app}", "app.exe",
                                 f"{vm_name(t).lower()}.corp.local", vm_ip(t), "", "svc.exe", 443 if t in hubs else 8080])
    return inv_path, csv_path


def bare_read_seconds(csv_path: Path) -> tuple[float, float]:
    """Seconds to merely read the CSV: with the csv module, and with Arrow (the floor README's Benchmarks section compares with)."""
    import pyarrow.csv

    started = time.perf_counter()
    with csv_path.open(encoding="utf-8", newline="") as stream:
        for _ in csv.reader(stream):
            pass
    middle = time.perf_counter()
    pyarrow.csv.read_csv(csv_path)
    return middle - started, time.perf_counter() - middle


def measure(n: int, folder: Path) -> dict:
    inv, deps = write_estate(n, folder)
    read = bare_read_seconds(deps)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(inv), str(deps), str(folder / f"out-{n}")],
                            capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    child = json.loads(result.stdout)
    return {"vms": n, "rows": n * ROWS_PER_VM, "csv_mb": deps.stat().st_size / 1e6, "csv_read_s": read[0], "arrow_read_s": read[1],
            "wall_s": wall, "peak_mib": child["maxrss_kib"] / 1024, "timings": child["timings"],
            "waves": child["waves"], "groups": child["groups"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    args = parser.parse_args()
    print(f"{'VMs':>7} {'rows':>10} {'CSV MB':>7} {'csv read':>9} {'arrow read':>10} {'assess wall':>11} {'peak RSS':>9}  "
          "stages (read, dependencies, rules, graph, plan, write)")
    with tempfile.TemporaryDirectory(prefix="hyperdock-bench-") as tmp:
        for n in args.sizes:
            r = measure(n, Path(tmp))
            stages = ", ".join(f"{r['timings'].get(k, 0):.1f}" for k in ("read", "dependencies", "rules", "graph", "plan", "write"))
            print(f"{r['vms']:>7} {r['rows']:>10} {r['csv_mb']:>7.0f} {r['csv_read_s']:>8.1f}s {r['arrow_read_s']:>9.1f}s {r['wall_s']:>10.1f}s "
                  f"{r['peak_mib']:>7.0f}MiB  {stages}  ({r['groups']} move groups, {r['waves']} waves)", flush=True)
            for leftover in Path(tmp).iterdir():
                if leftover.is_file():
                    os.remove(leftover)


if __name__ == "__main__":
    main()
