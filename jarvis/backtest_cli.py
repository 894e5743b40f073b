"""`jarvis catalog`, `jarvis backtest` and `jarvis report`: recorded days to reports.

Imported by `jarvis --help`, so nothing heavy at module level.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Final

__all__ = ["add_cli_commands"]

EXIT_FAILED: Final[int] = 1
EXIT_BAD_INPUT: Final[int] = 2

EPILOG = """\
examples:
  jarvis catalog --recording tests/resources/recordings/trend --catalog catalogs/trend
  jarvis backtest --catalog catalogs/trend --config config/sim.toml --run-dir runs/trend
  jarvis report --run runs/trend          # -> runs/trend/report/tearsheet.html
"""


def add_cli_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `catalog`, `backtest` and `report`."""
    p_catalog = subparsers.add_parser(
        "catalog",
        help="convert a recording into a ParquetDataCatalog (once)",
        description="Replay a recording through the live frame handler and write a "
        "ParquetDataCatalog. Does nothing when the catalog is already complete for this input; "
        "rebuilds a catalog left incomplete.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_catalog.add_argument("--recording", required=True, help="recording folder or file")
    p_catalog.add_argument("--catalog", required=True, help="catalog folder (created)")
    p_catalog.set_defaults(handler=_cmd_catalog)

    p_backtest = subparsers.add_parser(
        "backtest",
        help="run a node config's strategies, actors and controller over a catalog",
        description="Run a BacktestNode with the components of a node config file over a "
        "catalog, book funding, and write the run directory and its reports.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_backtest.add_argument("--catalog", required=True, help="a catalog from `jarvis catalog`")
    p_backtest.add_argument("--config", required=True, help="node config, e.g. config/sim.toml")
    p_backtest.add_argument("--start", help="ISO time (UTC); default: the catalog's start")
    p_backtest.add_argument("--end", help="ISO time (UTC); default: the catalog's end")
    p_backtest.add_argument(
        "--run-dir", help="run directory (default: runs/backtest-<catalog folder name>)"
    )
    p_backtest.add_argument("--starting-usdc", type=float, default=100_000.0)
    p_backtest.add_argument("--latency-ms", type=float, default=50.0)
    p_backtest.add_argument("--no-progress", action="store_true", help="no progress bar")
    p_backtest.set_defaults(handler=_cmd_backtest)

    p_report = subparsers.add_parser(
        "report",
        help="build the reports and the tearsheet of a finished run directory",
        description="Read a run directory (a backtest's, or a live node's run with --run-dir) "
        "and write report/summary.json, report/summary.txt and report/tearsheet.html.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_report.add_argument("--run", required=True, help="run directory")
    p_report.add_argument("--out", help="report folder (default: <run>/report)")
    p_report.set_defaults(handler=_cmd_report)


def _fail(command: str, message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"jarvis {command}: {message}", file=sys.stderr, flush=True)
    return code


def _cmd_catalog(args: argparse.Namespace) -> int:
    from backtests.catalog import build_catalog

    try:
        result = build_catalog(args.recording, args.catalog)
    except (ValueError, OSError) as exc:
        return _fail("catalog", str(exc))
    if result.skipped:
        print(f"jarvis catalog: {result.path} is complete for this recording; nothing to do")
    else:
        counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
        print(
            f"jarvis catalog: wrote {result.path} in {result.seconds:.2f} s "
            f"({result.mb_per_sec:.2f} MB/s of recording): {counts}"
        )
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    from backtests.decisions import load_decision_digest
    from backtests.reports import build_report
    from backtests.run import BacktestSettings
    from backtests.run import run_backtest
    from config.loading import ConfigError
    from config.loading import load_node_config

    run_dir = args.run_dir or str(Path("runs") / f"backtest-{Path(args.catalog).name}")
    try:
        loaded = load_node_config(args.config)
        settings = BacktestSettings(
            catalog=args.catalog,
            run_dir=run_dir,
            start=args.start,
            end=args.end,
            starting_usdc=args.starting_usdc,
            latency_ms=args.latency_ms,
            progress=not args.no_progress,
        )
    except (ConfigError, ValueError) as exc:
        return _fail("backtest", str(exc))
    print(f"jarvis backtest: fill model: {_note('fill_model')}", flush=True)
    print(f"jarvis backtest: latency model: {settings.latency_note}", flush=True)
    try:
        outcome = run_backtest(loaded, settings)
        report, tearsheet = build_report(outcome.run_dir)
    except (ValueError, OSError) as exc:
        return _fail("backtest", str(exc), EXIT_FAILED)
    summary = report.summary()
    print(
        f"jarvis backtest: {outcome.events} events in {outcome.wall_secs:.2f} s; "
        f"realized PnL {summary['realized_pnl']} (funding {summary['funding_pnl']}, "
        f"fees {summary['fees']}); orders {summary['orders']}, fills {summary['fills']}"
    )
    decisions = load_decision_digest(outcome.run_dir)
    counts = ", ".join(f"{k} {v}" for k, v in decisions["counts"].items()) or "none"
    print(
        f"jarvis backtest: decisions ({counts}); decisions_sha256 {decisions['decisions_sha256']}, "
        f"orders_sha256 {decisions['orders_sha256']}; input audit: "
        f"{decisions['input_audit']['violations']} decision(s) on later data"
    )
    print(f"jarvis backtest: run directory {outcome.run_dir}; tearsheet {tearsheet}")
    return 0


def _note(name: str) -> str:
    from backtests.run import FILL_MODEL_NOTE

    return FILL_MODEL_NOTE if name == "fill_model" else ""


def _cmd_report(args: argparse.Namespace) -> int:
    from backtests.reports import build_report

    try:
        report, tearsheet = build_report(args.run, args.out)
    except (ValueError, OSError) as exc:
        return _fail("report", str(exc))
    print(json.dumps(report.summary(), indent=1, sort_keys=True))
    print(f"jarvis report: tearsheet {tearsheet}")
    return 0
