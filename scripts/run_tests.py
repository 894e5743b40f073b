"""Run the whole test suite: the unit/integration tests in one pytest process, then each
end-to-end file in its own process.

Why separate processes: NautilusTrader's logger is process-global and initialised once, by the
first kernel built. End-to-end tests start real TradingNodes and inspect their log files, so each
needs to be the first kernel of its interpreter. The last line is one combined summary.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
E2E_DIR = REPO / "tests" / "e2e"
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped)")


def _run(args: list[str]) -> tuple[int, dict[str, int]]:
    """Run pytest with args, streaming its output, and return its exit code and final counts."""
    # Each group gets its own temporary root: pytest prunes old numbered folders under the shared
    # default root, which would delete a concurrent run's node logs mid-test.
    basetemp = tempfile.mkdtemp(prefix="jarvis-tests-")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--basetemp", basetemp, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    last_summary = ""
    for line in proc.stdout:
        sys.stdout.write(line)
        if COUNT.search(line) and (" in " in line or line.startswith("=")):
            last_summary = line
    code = proc.wait()
    counts: dict[str, int] = {}
    for number, word in COUNT.findall(last_summary):
        key = "errors" if word.startswith("error") else word
        counts[key] = counts.get(key, 0) + int(number)
    return code, counts


def main() -> int:
    """Run every group; fail if any group failed or ran no test."""
    groups = [["--ignore", str(E2E_DIR.relative_to(REPO))]]
    groups += [[str(path.relative_to(REPO))] for path in sorted(E2E_DIR.glob("test_*.py"))]
    totals: dict[str, int] = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failed_groups: list[str] = []
    for args in groups:
        code, counts = _run(args)
        for key, value in counts.items():
            totals[key] += value
        if code != 0:
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
