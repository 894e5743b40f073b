"""
Replay validation of all three strategies on a recording of a scheduled simulator run.

One live session (module fixture): a data node with the recorder on runs against the simulator
with a regime schedule (``quiet`` -> ``trend`` -> ``cascade``) until the market has reached the
schedule's last phase (polled on the simulator's own phase index, no sleeps). The recording is
then replayed twice (two independent ``load_recording`` passes), each run twice in a
BacktestEngine through the whole decision chain (state builders, regime controller, Geometry,
Kinematics and Cascade, risk guard, orders on the simulated exchange): the four hashes of the
regime changes, gates, strategy transitions and orders are identical, and the run did decide
things (both sides enabled in turn, strategies armed).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.hyperliquid.config import HyperliquidRecorderConfig
from backtests.decisions import DecisionRun
from backtests.decisions import decision_run
from backtests.decisions import decisions_hash
from backtests.recording import load_recording
from jarvis.testkit import build_sim_node
from jarvis.testkit import data_client_config
from jarvis.testkit import run_node
from jarvis.testkit import sim_node_config
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO = tomllib.loads((REPO_ROOT / "config" / "sim_demo_schedule.toml").read_text())
SCHEDULE = "quiet:60,trend:150,cascade:45"
LAST_PHASE = 2
COINS = ("BTC",)
# The demo config's windows, times and thresholds (config/sim_demo_schedule.toml).
BUILDER: dict[str, Any] = {
    "windows_secs": [1.0, 5.0, 30.0, 60.0],
    "thresholds": {"thinning_baseline_window_secs": 30.0},
}
CONTROLLER: dict[str, Any] = {
    "enter_confirm_secs": 10.0,
    "exit_confirm_secs": 20.0,
    "thresholds": {"expansion_min_abs_funding_per_hour": 0.00001},
}


def _strategies() -> list[dict[str, Any]]:
    """The demo config's three BTC strategies."""
    managed = DEMO["node"]["controller"]["config"]["strategies"]
    return [
        {"side": m["side"], "strategy": m["strategy"]}
        for m in managed
        if m["strategy"]["config"]["instrument_id"] == "BTC-USD-PERP.HYPERLIQUID"
    ]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("decisions_replay") / "recording"
    with SimThread(SimConfig(scenario=SCHEDULE, seed=11, coins=COINS)) as sim:
        client = data_client_config(
            sim.base_url, COINS, recorder=HyperliquidRecorderConfig(directory=str(folder))
        )
        node = build_sim_node(sim_node_config(client))
        assert sim.server is not None
        market = sim.server.venue.market
        assert market is not None

        async def until_last_phase_is_under_way() -> None:
            await wait_for(lambda: market.phase_index >= LAST_PHASE, 300, "the cascade phase")
            await wait_for(lambda: market.phase_ms >= 40_000, 60, "the cascade's sell-off")

        run_node(node, until_last_phase_is_under_way, timeout_secs=420)
    yield folder


def _runs(folder: Path) -> list[DecisionRun]:
    replays = [load_recording(folder) for _ in range(2)]
    return [
        decision_run(replay, _strategies(), builder=BUILDER, controller=CONTROLLER)
        for replay in replays
        for _ in range(2)
    ]


def test_two_replays_each_run_twice_give_identical_decisions_of_all_three_strategies(
    recording: Path,
) -> None:
    runs = _runs(recording)

    hashes = {decisions_hash(run) for run in runs}
    assert len(hashes) == 1, hashes
    run = runs[0]
    regimes = [c["regime"] for c in run.of("RegimeChange")]
    assert "SIDEWAYS" in regimes and "EXPANSION" in regimes, regimes
    enabled = {g["strategy_id"] for g in run.of("StrategyGate") if g["action"] == "ENABLE"}
    assert {s.split("-")[0] for s in enabled} == {"Geometry", "Kinematics", "Cascade"}
    armed = {s["strategy_id"] for s in run.of("StrategyState") if s["state"] == "ARMED"}
    assert "Cascade-CBTC" in armed, armed  # at the sell-off's OI_DROP
    cascade = [
        (s["previous"], s["state"])
        for s in run.of("StrategyState")
        if s["strategy_id"] == "Cascade-CBTC" and s["previous"] != s["state"]
    ]
    # Entered (if at all) only from ARMED, i.e. after the OI_DROP armed it.
    assert all(prev == "ARMED" for prev, state in cascade if state == "ENTERED"), cascade
