"""The bad-input corpus as a table: how many cases end clean, in a traceback, with partial output or hung.

Usage: python benchmarks/bad_input_corpus.py [--list]

Runs every case of tests/bad_input_corpus.py in-process (hyperdock's main() with captured stderr)
in a scratch folder, and prints the table per command, the total time and, with --list (or when
any case is not clean), one line per case that is not.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bad_input_corpus import CASES, run_case  # noqa: E402

CATEGORIES = ("clean", "traceback", "partial", "hang", "accepted", "other")


def main() -> int:
    started = time.perf_counter()
    counts: dict[str, Counter] = {}
    failures = []
    slowest = (0.0, "")
    with tempfile.TemporaryDirectory() as scratch:
        for i, case in enumerate(CASES):
            t = time.perf_counter()
            outcome = run_case(case, Path(scratch) / f"case{i:03d}")
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
