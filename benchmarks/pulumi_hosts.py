"""How long the Pulumi program takes to register 1, 10 and 100 Azure container hosts, under mocks.

Each size runs `__main__.py` in a fresh process with `hyperdock:azureHostCount=N` (half of the hosts
Hyper-V isolated would need a plan; these are process hosts), and prints the registration time,
imports excluded. A second column runs the same program with the pulumi-azure-native SDK's
per-resource API-version aliases left out (18 to 60 on each resource; the SDK turns each into a
URN in Python): it shows how much of the time is that SDK work rather than hyperdock's.

    python benchmarks/pulumi_hosts.py            # 1, 10, 100
    python benchmarks/pulumi_hosts.py --sizes 1 250
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, runpy, sys, time
root, count, strip = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "strip"
sys.path.insert(0, root); sys.path.insert(0, root + "/tests")
started = time.perf_counter()
import pulumi
import pulumi_mocks
from pulumi_azure_native import compute, network, resources  # noqa: F401  (imports outside the timing)
if strip:
    # Diagnostic only: drop the SDK's "azure-native:<module>/v2015...:<Type>" alias lists.
    merge = pulumi.ResourceOptions.merge
    def without_version_aliases(a, b):
        if b is not None and b.aliases and all(getattr(x, "type_", None) and "/v20" in x.type_ for x in b.aliases):
            b = pulumi.ResourceOptions()
        return merge(a, b)
    pulumi.ResourceOptions.merge = staticmethod(without_version_aliases)
monitor = pulumi_mocks.start()
imported = time.perf_counter()

@pulumi.runtime.test
def program():
    pulumi.runtime.set_all_config({"hyperdock:azureHostCount": str(count), "hyperdock:managementCidrs": '["10.0.0.0/24"]'})
    runpy.run_path(root + "/__main__.py", run_name="__pulumi__")

program()
print(json.dumps({"seconds": time.perf_counter() - imported, "resources": len(monitor.requests)}))
"""


def measure(count: int, strip: bool) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(count), "strip" if strip else "keep"],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args()
    print(f"{'hosts':>6} {'resources':>10} {'register':>9} {'without SDK aliases':>20}")
    for n in args.sizes:
        full, stripped = measure(n, strip=False), measure(n, strip=True)
        print(f"{n:>6} {full['resources']:>10} {full['seconds']:>8.2f}s {stripped['seconds']:>19.2f}s", flush=True)


if __name__ == "__main__":
    main()
