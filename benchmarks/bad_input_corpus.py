"""The bad-input corpus as a table: how many cases end clean, in a traceback, with partial output or hung.

Usage: python benchmarks/bad_input_corpus.py [--isolated] [--any-message]

Runs every case of tests/bad_input_corpus.py in-process (hyperdock's main() with captured stderr)
in a scratch folder, and prints the table per command, the total time and one line per case that
is not clean. --isolated runs each case in a forked child with 2 GiB of address space, so a
segfault or a memory blow-up counts as a crash instead of ending the run (for measuring older
code); --any-message counts any one-line error as clean, whatever it names.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bad_input_corpus import CASES, HANG_SECONDS, Outcome, run_case  # noqa: E402

CATEGORIES = ("clean", "traceback", "partial", "hang", "accepted", "other")


def run_isolated(case, folder: Path, check_message: bool) -> Outcome:
    """Run one case in a forked child; a child killed by a signal or stuck past the guard is counted."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
            outcome = run_case(case, folder, check_message)
            os.write(write, json.dumps(outcome.__dict__).encode())
        finally:
            os._exit(0)
    os.close(write)
    deadline = time.monotonic() + HANG_SECONDS + 10
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read)
            return Outcome("hang", None, "")
        time.sleep(0.005)
    data = b""
    while chunk := os.read(read, 1 << 16):
        data += chunk
    os.close(read)
    if os.WIFSIGNALED(status):
        return Outcome("traceback", None, "", f"killed by {signal.Signals(os.WTERMSIG(status)).name}")
    return Outcome(**json.loads(data)) if data else Outcome("traceback", None, "", "the child died without a result")


def main() -> int:
    isolated, check_message = "--isolated" in sys.argv, "--any-message" not in sys.argv
    if isolated:  # what every child needs, loaded once before the forks
        import migrate.cli  # noqa: F401
        # the commands import their work only when run: load it here, not once per child
        import migrate.assess  # noqa: F401
        import migrate.generate.files  # noqa: F401
        import migrate.imports  # noqa: F401
        import migrate.package.build  # noqa: F401
        import migrate.contract.plan_io  # noqa: F401
        import policies.check  # noqa: F401
        from bad_input_corpus import valid_plan

        valid_plan()
    started = time.perf_counter()
    counts: dict[str, Counter] = {}
    failures = []
    slowest = (0.0, "")
    with tempfile.TemporaryDirectory() as scratch:
        for i, case in enumerate(CASES):
            t = time.perf_counter()
            folder = Path(scratch) / f"case{i:03d}"
            outcome = run_isolated(case, folder, check_message) if isolated else run_case(case, folder, check_message)
            took = time.perf_counter() - t
            slowest = max(slowest, (took, case.id))
            counts.setdefault(case.command, Counter())[outcome.category] += 1
            if outcome.category != "clean":
                failures.append((case.id, outcome))
    elapsed = time.perf_counter() - started
    total = Counter()
    print(f"| command | cases | {' | '.join(CATEGORIES)} |")
    print("|---|---:|" + "---:|" * len(CATEGORIES))
    for command, counter in counts.items():
        total.update(counter)
        print(f"| {command} | {sum(counter.values())} | " + " | ".join(str(counter[c]) for c in CATEGORIES) + " |")
    n = sum(total.values())
    print(f"| **all** | {n} | " + " | ".join(str(total[c]) for c in CATEGORIES) + " |")
    print(f"\n{total['clean']}/{n} clean ({100 * total['clean'] / n:.0f}%) in {elapsed:.1f} s; slowest case {slowest[1]} {slowest[0]:.2f} s")
    for case_id, outcome in failures:
        print(f"  {outcome.category:9} {case_id}: exit {outcome.code}: {(outcome.detail or outcome.stderr).strip()[:220]}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
