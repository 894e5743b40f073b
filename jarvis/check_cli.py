"""``jarvis check smoke|alerts|acceptance``: operator checks with exit codes 0 pass / 2 fail.

Imported by ``jarvis --help``: the checks module is imported inside the handler.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Final

__all__ = ["add_cli_commands"]

EXIT_PASS: Final[int] = 0
EXIT_FAIL: Final[int] = 2

EPILOG = """\
examples:
  jarvis node --config config/sim_trading.toml --metrics-port 9464 &
  jarvis check smoke --metrics http://127.0.0.1:9464/metrics
  jarvis check smoke --sidecar http://127.0.0.1:8700          # jarvis serve: node + sidecar
  jarvis check alerts --metrics http://127.0.0.1:9464/metrics --window 5m
  jarvis check acceptance --sidecar http://127.0.0.1:8700 --window 30m --report accept.md

A window is watched from now on (two scrapes); --window 0 judges the totals since the node
started. Exit 0 when every item passes, 2 when one fails (each item is printed with why).
"""


def add_cli_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``jarvis check``."""
    p = subparsers.add_parser(
        "check",
        help="operator checks over a node's metrics (exit 0 pass, 2 fail)",
        description="smoke: feed fresh, state fresh, node and sidecar reachable. alerts: reject "
        "rate, p95 submit latency, stale streams, circuit breaker, budgets. acceptance: what the "
        "node did over a window, as a Markdown report with pass/fail against thresholds.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("which", choices=("smoke", "alerts", "acceptance"))
    p.add_argument("--metrics", help="the node's metrics URL (default: SIDECAR/metrics)")
    p.add_argument("--sidecar", help="the sidecar's base URL, e.g. http://127.0.0.1:8700")
    p.add_argument(
        "--window", type=_duration, default=None,
        help="observe this long (90s, 30m, 2h; 0: totals since start); default 0 for alerts, "
        "30m for acceptance",
    )  # fmt: skip
    p.add_argument("--report", help="acceptance: write the Markdown report here")
    p.add_argument("--timeout-secs", type=float, default=5.0, help="per HTTP request")
    p.add_argument("--max-state-age-secs", type=float, default=10.0)
    p.add_argument("--max-reject-rate", type=float, default=0.2, help="0..1")
    p.add_argument("--max-p95-submit-secs", type=float, default=2.0)
    p.add_argument("--max-budget-used", type=float, default=0.8, help="daily notional, 0..1")
    p.add_argument("--max-rate-limited", type=int, default=0, help="HTTP 429s in the window")
    p.add_argument("--min-acks", type=int, default=1, help="acceptance")
    p.add_argument("--max-errors", type=int, default=10, help="acceptance")
    p.set_defaults(handler=_cmd_check)


def _duration(text: str) -> float:
    from jarvis.checks import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cmd_check(args: argparse.Namespace) -> int:
    from jarvis.checks import Thresholds
    from jarvis.checks import acceptance
    from jarvis.checks import alerts
    from jarvis.checks import smoke

    metrics = args.metrics
    if metrics is None:
        if args.sidecar is None:
            print("jarvis check: give --metrics URL (the node's) or --sidecar URL",
                  file=sys.stderr)  # fmt: skip
            return EXIT_FAIL
        metrics = args.sidecar.rstrip("/") + "/metrics"
    limits = Thresholds(
        max_state_age_secs=args.max_state_age_secs,
        max_reject_rate=args.max_reject_rate,
        max_p95_submit_secs=args.max_p95_submit_secs,
        max_budget_used=args.max_budget_used,
        max_rate_limited=args.max_rate_limited,
        min_acks=args.min_acks,
        max_errors=args.max_errors,
    )
    if args.which == "smoke":
        result = smoke(metrics, args.sidecar, limits, args.timeout_secs)
    elif args.which == "alerts":
        window = 0.0 if args.window is None else args.window
        result = alerts(metrics, window, limits, args.timeout_secs)
    else:
        window = 1800.0 if args.window is None else args.window
        run = acceptance(metrics, window, limits, args.timeout_secs)
        result = run.result
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        path = Path(args.report or f"acceptance-{stamp}.md")
        path.write_text(run.report)
        print(f"jarvis check acceptance: report in {path}", flush=True)
    for item in result.items:
        print(item.line(), flush=True)
    verdict = "PASS" if result.passed else "FAIL"
    print(f"jarvis check {args.which}: {verdict}", flush=True)
    return EXIT_PASS if result.passed else EXIT_FAIL
