"""Parity (issue 14): a live node on the simulator and ``jarvis backtest`` of its own recording
make the same regime changes, gates, strategy transitions and orders.

One live minute of the ``quiet`` scenario on BTC and ETH with config/sim_backtest_schedule.toml
(Geometry, Kinematics and Cascade per coin, the risk guard, execution on the simulator): the
controller settles in SIDEWAYS after its 30 s window and 10 s confirmation, enables the sideways
strategies, and Geometry arms at a range edge. The recording is converted to a catalog and
backtested with the same file; the two decision logs are compared as sequences per instrument and
strategy (jarvis.parity says why stamps and the last seconds are not compared).
"""

from __future__ import annotations

from pathlib import Path

from backtests.decisions import load_decision_digest
from backtests.decisions import read_decision_log
from config.loading import CONFIG_DIR
from jarvis.parity import run_live_parity


def test_a_live_run_and_the_backtest_of_its_recording_decide_the_same(tmp_path: Path) -> None:
    run = run_live_parity(
        CONFIG_DIR / "sim_backtest_schedule.toml",
        tmp_path,
        scenario="quiet",
        coins=("BTC", "ETH"),
        duration_secs=60.0,
    )
    comparison = run.comparison
    assert comparison["same"] == {
        "regime_changes": True,
        "gates": True,
        "strategy_states": True,
        "orders": True,
    }, comparison["first_difference"]
    # The same as parity hashes, over what was compared (the recording less its last seconds).
    assert comparison["sequence_sha256"]["a"] == comparison["sequence_sha256"]["b"]
    assert comparison["counts"]["strategy_states"][1] > 0
    live = read_decision_log(run.live_run)
    regimes = {(r["instrument_id"], r["regime"]) for r in live if r["kind"] == "RegimeChange"}
    assert ("BTC-USD-PERP.HYPERLIQUID", "SIDEWAYS") in regimes, regimes
    transitions = [s for s in live if s["kind"] == "StrategyState" and s["previous"] != s["state"]]
    assert transitions, "the live minute must have moved a strategy"
    for run_dir in (run.live_run, run.backtest_run):
        assert load_decision_digest(run_dir)["input_audit"]["violations"] == 0
