"""How long the Pulumi program takes to register a 2,000-workload plan on AKS, under mocks.

Writes assess_scale.py's estate (2,000 VMs by default; no dependency export, which only changes
waves), runs `hyperdock assess --generate --platform aks` on it, then runs `__main__.py` with
`platform: aks` in a fresh process under mocks and prints the registration time (imports excluded),
the resources registered and the pools planned.

    python benchmarks/pulumi_aks.py              # 2000
    python benchmarks/pulumi_aks.py --sizes 500 2000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from assess_scale import write_estate  # noqa: E402

CHILD = r"""
import json, runpy, sys, time
root, plan = sys.argv[1], sys.argv[2]
sys.path.insert(0, root); sys.path.insert(0, root + "/tests")
import pulumi
import pulumi_mocks
import pulumi_kubernetes  # noqa: F401  (imports outside the timing)
from pulumi_azure_native import compute, containerservice, network, resources  # noqa: F401
monitor = pulumi_mocks.start()
started = time.perf_counter()

@pulumi.runtime.test
def program():
    pulumi.runtime.set_all_config({"hyperdock:plan": plan, "hyperdock:registry": "myregistry.azurecr.io/hyperdock",
                                   "hyperdock:platform": "aks", "hyperdock:securityType": "TrustedLaunch",
                                   "hyperdock:workloadSecrets": "{}"}, ["hyperdock:workloadSecrets"])
    runpy.run_path(root + "/__main__.py", run_name="__pulumi__")

program()
kinds = [r.type for r in monitor.requests]
print(json.dumps({"seconds": time.perf_counter() - started, "resources": len(kinds),
                  "kubernetes": sum(t.startswith("kubernetes:") for t in kinds),
                  "deployments": kinds.count("kubernetes:apps/v1:Deployment")}))
"""


def measure(n: int, folder: Path) -> dict:
    inventory, _ = write_estate(n, folder)
    plan_dir = folder / f"plan-{n}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "migrate", "assess", str(inventory), "--out", str(plan_dir), "--generate",
                    "--platform", "aks", "--quiet"], cwd=ROOT, check=True, capture_output=True, text=True)
    generate_s = time.perf_counter() - started
    aks = yaml.safe_load((plan_dir / "aks.yaml").read_text(encoding="utf-8"))
    result = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(plan_dir)], capture_output=True, text=True, check=True)
    child = json.loads(result.stdout.strip().splitlines()[-1])
    return {"vms": n, "generate_s": generate_s, "on_aks": aks["summary"]["workloadsOnAks"],
            "on_hosts": aks["summary"]["workloadsOnHosts"], "nodes": aks["summary"]["windowsNodes"],
            "pools": len(aks["pools"]), **child}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000])
    args = parser.parse_args()
    print(f"{'VMs':>6} {'on AKS':>7} {'on hosts':>8} {'pools':>6} {'nodes':>6} {'assess+generate':>16} "
          f"{'resources':>10} {'k8s objects':>12} {'register':>9}")
    with tempfile.TemporaryDirectory(prefix="hyperdock-aks-bench-") as tmp:
        for n in args.sizes:
            r = measure(n, Path(tmp))
            print(f"{r['vms']:>6} {r['on_aks']:>7} {r['on_hosts']:>8} {r['pools']:>6} {r['nodes']:>6} {r['generate_s']:>15.1f}s "
                  f"{r['resources']:>10} {r['kubernetes']:>12} {r['seconds']:>8.1f}s", flush=True)


if __name__ == "__main__":
    main()
