"""How long the Pulumi program takes to register 1, 10 and 100 Azure container hosts, under mocks.

Each size runs `__main__.py` in a fresh process with `hyperdock:azureHostCount=N` (process hosts:
Hyper-V isolated ones would need a plan) and prints:
- the registration time (wall, and the process's CPU time, which other load on a shared machine
  disturbs less): `__main__.py` run to the end, every registration answered. hyperdock's
  own imports are inside it; the SDKs' are not. pulumi-azure-native loads each module (compute,
  network, ...) on first attribute access, not at `import`, so the harness touches them first;
- that SDK import time, apart (what every `pulumi up` also pays, whatever hyperdock does);
- how many aliases the registrations carry: pulumi-azure-native gives each resource one per API
  version it was generated for (18 to 60), and the Pulumi SDK turns each into a URN through
  awaited Outputs in the program, about 1 ms each (components/sdk_aliases.py).

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

# The SDK modules the program registers resources from, loaded before the timing starts.
SDK_PRELOAD = r"""
import pulumi, pulumi_random
from pulumi_azure_native import compute, network, resources
from pulumi_command import local, remote
compute.VirtualMachine, network.NetworkInterface, resources.ResourceGroup  # loads each module
"""

CHILD = r"""
import json, runpy, sys, time
root, count = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, root); sys.path.insert(0, root + "/tests")
started = time.perf_counter()
exec(sys.argv[3])
sdk = time.perf_counter() - started
import pulumi_mocks
monitor = pulumi_mocks.start()
registering, cpu = time.perf_counter(), time.process_time()

@pulumi.runtime.test
def program():
    pulumi.runtime.set_all_config({"hyperdock:azureHostCount": str(count), "hyperdock:managementCidrs": '["10.0.0.0/24"]'})
    runpy.run_path(root + "/__main__.py", run_name="__pulumi__")

program()
print(json.dumps({"seconds": time.perf_counter() - registering, "cpu": time.process_time() - cpu, "sdk_imports": sdk, "resources": len(monitor.requests),
                  "aliases": sum(len(r.aliases) + len(r.aliasURNs) for r in monitor.requests)}))
"""


def measure(count: int) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(count), SDK_PRELOAD],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args()
    print(f"{'hosts':>6} {'resources':>10} {'aliases':>8} {'register':>9} {'its CPU':>8} {'SDK imports':>12}")
    for n in args.sizes:
        m = measure(n)
        print(f"{n:>6} {m['resources']:>10} {m['aliases']:>8} {m['seconds']:>8.2f}s {m['cpu']:>7.2f}s "
              f"{m['sdk_imports']:>11.2f}s", flush=True)


if __name__ == "__main__":
    main()
