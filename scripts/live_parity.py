"""Live vs backtest parity on one recording (issue 14): prints one JSON line.

A live ``TradingNode`` from ``config/sim_backtest_schedule.toml`` trades on the local simulator
running the regime schedule (a throwaway key funded with the backtest's starting balance), with
the recorder on and ``--run-dir``; its recording is then converted to a catalog and backtested
with the same file (``jarvis backtest``). Both run directories hold a decision log
(``backtests.decisions``); ``backtests.decisions.compare_decision_logs`` compares them.

    .venv/bin/python scripts/live_parity.py                       # the whole schedule, ~7 min
    .venv/bin/python scripts/live_parity.py --schedule quiet:60,trend:90 --duration-secs 150

What is expected to differ, and why (documented, not hidden):

* time stamps: live decisions are stamped by the wall clock when the node handled the data, a
  backtest's by the recorded receive time of the data that triggered them; the timer-driven
  ``MarketState`` publications (every second) fall at other phases. The comparison is therefore
  of the *sequences* (what changed from what to what, in which order), not of the stamps;
* fills: the live venue's matching versus the backtest's fill model (``FILL_MODEL_NOTE``); what
  follows a fill (exit by stop or target, timings) can then differ too, and the first such
  divergence is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "sim_backtest_schedule.toml"
SCHEDULE = "quiet:90,trend:120,cascade:60,quiet:120"
STARTING_USDC = 100_000.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedule", default=SCHEDULE)
    parser.add_argument("--duration-secs", type=float, default=395.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args(argv)

    from adapters.hyperliquid.signing import address_from_private_key
    from backtests.catalog import build_catalog
    from backtests.decisions import compare_decision_logs
    from backtests.run import BacktestSettings
    from backtests.run import run_backtest
    from config.loading import load_node_config
    from config.loading import parse_node_config
    from config.loading import read_config_file
    from jarvis.node import NodeOverrides
    from jarvis.node import apply_overrides
    from jarvis.node import run_node
    from simulator.app import SimConfig
    from simulator.app import SimThread

    out = args.out or Path(tempfile.mkdtemp(prefix="jarvis-parity-"))
    recording, live_run, catalog, backtest_run = (
        out / "recording",
        out / "live",
        out / "catalog",
        out / "backtest",
    )
    variable = "HYPERLIQUID_SIM_PRIVATE_KEY"
    key = "0x" + secrets.token_hex(32)
    os.environ[variable] = key  # this process only; never printed
    sim = SimThread(
        SimConfig(port=0, scenario=args.schedule, seed=args.seed, coins=("BTC", "ETH"))
    ).start()
    try:
        sim.fund(address_from_private_key(key), STARTING_USDC)
        raw = read_config_file(CONFIG)
        apply_overrides(
            raw,
            NodeOverrides(
                http_url=sim.base_url,
                record_directory=str(recording),
                run_directory=str(live_run),
            ),
        )
        result = run_node(parse_node_config(raw, source=str(CONFIG)), args.duration_secs)
    finally:
        sim.stop()
    if result.start_failure is not None:
        raise SystemExit(f"live node did not start: {result.start_failure}")
    build_catalog(recording, catalog)
    run_backtest(
        load_node_config(CONFIG),
        BacktestSettings(
            catalog=str(catalog),
            run_dir=str(backtest_run),
            starting_usdc=STARTING_USDC,
            progress=False,
        ),
    )
    comparison = compare_decision_logs(live_run, backtest_run)
    print(json.dumps({"out": str(out), "schedule": args.schedule, **comparison}), flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
