"""Run the whole test suite: the unit/integration tests in one pytest process and each
end-to-end file in its own process, ``JARVIS_TEST_JOBS`` groups at a time (default 3).

Why separate processes: NautilusTrader's logger is process-global and initialised once, by the
first kernel built. End-to-end tests start real TradingNodes and inspect their log files, so each
needs to be the first kernel of its interpreter. Why several at a time: the end-to-end files spend
most of their time waiting on the simulator's clock, not on a core, so other groups use the
machine's other core. Each group's output is printed whole when it ends, with its duration; the
last line is one combined summary.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
E2E_DIR = REPO / "tests" / "e2e"
# The longest end-to-end files (about 90-200 s each) start first, so the run does not end with one
# long file alone on a core while the others sit idle (longest-first packing keeps the suite
# short). A file missing here just runs later; the order never changes what is tested.
LONG_FIRST = (
    "test_node_cli.py",
    "test_soak.py",
    "test_geometry_killed_while_entered.py",
    "test_handover_on_simulator.py",
    "test_cascade_on_simulator.py",
    "test_cascade_exits_on_simulator.py",
    "test_regime_on_simulator.py",
    "test_geometry_on_simulator.py",
    "test_live_backtest_parity.py",
    "test_geometry_invalidations_on_simulator.py",
    "test_intent_run.py",
)
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped)")


_PRINT_LOCK = threading.Lock()


def _run(args: list[str]) -> tuple[int, dict[str, int]]:
    """Run pytest with args, print its whole output when it ends, return its exit code and final
    counts."""
    # Each group gets its own temporary root: pytest prunes old numbered folders under the shared
    # default root, which would delete a concurrent run's node logs mid-test.
    basetemp = tempfile.mkdtemp(prefix="jarvis-tests-")
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--basetemp", basetemp, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    last_summary = ""
    for line in proc.stdout.splitlines():
        if COUNT.search(line) and (" in " in line or line.startswith("=")):
            last_summary = line
    with _PRINT_LOCK:
        sys.stdout.write(f"== {' '.join(args)} (exit {proc.returncode}, {elapsed:.0f} s)\n")
        sys.stdout.write(proc.stdout)
        sys.stdout.flush()
    counts: dict[str, int] = {}
    for number, word in COUNT.findall(last_summary):
        key = "errors" if word.startswith("error") else word
        counts[key] = counts.get(key, 0) + int(number)
    return proc.returncode, counts


def main() -> int:
    """Run every group; fail if any group failed or ran no test."""
    groups = [["--ignore", str(E2E_DIR.relative_to(REPO))]]
    e2e = sorted(E2E_DIR.glob("test_*.py"))
    e2e.sort(key=lambda p: LONG_FIRST.index(p.name) if p.name in LONG_FIRST else len(LONG_FIRST))
    groups += [[str(path.relative_to(REPO))] for path in e2e]
    totals: dict[str, int] = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failed_groups: list[str] = []
    jobs = max(1, int(os.environ.get("JARVIS_TEST_JOBS", "3")))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = list(pool.map(_run, groups))
    for args, (code, counts) in zip(groups, outcomes, strict=True):
        for key, value in counts.items():
            totals[key] += value
        if code != 0 or not counts.get("passed"):
            failed_groups.append(" ".join(args))
    if failed_groups:
        print("failed groups: " + "; ".join(failed_groups))
    failed = totals["failed"] + totals["errors"]
    line = f"{totals['passed']} passed, {failed} failed"
    if totals["skipped"]:
        line += f", {totals['skipped']} skipped"
    print(line)
    return 1 if failed_groups or failed else 0


if __name__ == "__main__":
    sys.exit(main())
