"""
On the simulator: ``quiet`` settles in SIDEWAYS and ``trend`` in EXPANSION after warm-up.

A TradingNode with the Hyperliquid data client, a ``MarketStateBuilder`` for BTC and the
``RegimeController`` runs against the simulator. Only config is shortened, never code: the
builder's windows (``windows_secs``: the "15 min" window is 20 s, the "1 h" one 40 s) and the
controller's confirmation times (enter 5 s, exit 3 s). Thresholds are the specification's
defaults. The test polls the controller until it has decided, then waits for 15 more
MarketStates (an observable count, not a sleep) and checks the regime held. Two protocol-speaking
test strategies, one per side, show the gates live: only the scenario's side is enabled.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from nautilus_trader.config import ImportableActorConfig
from nautilus_trader.config import ImportableControllerConfig
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.model.identifiers import InstrumentId

from controllers.protocol import Regime
from controllers.regime import RegimeController
from jarvis.testkit import build_sim_node
from jarvis.testkit import data_client_config
from jarvis.testkit import run_node
from jarvis.testkit import sim_node_config
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread

BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
WINDOWS_SECS = [1.0, 5.0, 20.0, 40.0]
DECIDE_DEADLINE_SECS = 120.0
HOLD_STATES = 15


def _strategy(tag: str, side: str) -> dict[str, Any]:
    return {
        "strategy": ImportableStrategyConfig(
            strategy_path="tests.controllers.protocol_strategy:ProtocolStrategy",
            config_path="tests.controllers.protocol_strategy:ProtocolStrategyConfig",
            config={"order_id_tag": tag, "instrument_id": str(BTC)},
        ),
        "side": side,
    }


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [("quiet", Regime.SIDEWAYS), ("trend", Regime.EXPANSION)],
)
def test_scenario_settles_in_its_regime_after_warm_up(scenario: str, expected: Regime) -> None:
    with SimThread(SimConfig(scenario=scenario, seed=7, coins=("BTC",))) as sim:
        config = sim_node_config(data_client_config(sim.base_url, ("BTC",)))
        config = msgspec.structs.replace(
            config,
            actors=[
                ImportableActorConfig(
                    actor_path="actors.state_builder:MarketStateBuilder",
                    config_path="actors.state_builder:MarketStateBuilderConfig",
                    config={
                        "component_id": "MarketStateBuilder-BTC",
                        "instrument_id": str(BTC),
                        "windows_secs": WINDOWS_SECS,
                    },
                ),
            ],
            controller=ImportableControllerConfig(
                controller_path="controllers.regime:RegimeController",
                config_path="controllers.regime:RegimeControllerConfig",
                config={
                    "instrument_ids": [str(BTC)],
                    "enter_confirm_secs": 5.0,
                    "exit_confirm_secs": 3.0,
                    "strategies": [_strategy("001", "SIDEWAYS"), _strategy("002", "EXPANSION")],
                },
            ),
        )
        node = build_sim_node(config)
        controller: RegimeController = node.kernel._controller  # type: ignore[assignment]

        async def scenario_run() -> tuple[list[str], Regime, dict[str, str]]:
            await wait_for(
                lambda: controller.regime(BTC) is not Regime.DISABLED,
                DECIDE_DEADLINE_SECS,
                f"a regime for BTC on {scenario}",
            )
            handled = controller.states_handled
            await wait_for(
                lambda: controller.states_handled >= handled + HOLD_STATES,
                60,
                f"{HOLD_STATES} more MarketStates",
            )
            changes = [f"{d.previous.value}->{d.regime.value}" for d in controller.decisions]
            statuses = {
                s.id.value: s.status.value  # type: ignore[attr-defined]
                for s in node.kernel.trader.strategies()
            }
            return changes, controller.regime(BTC), statuses

        changes, final, statuses = run_node(
            node,
            scenario_run,
            timeout_secs=DECIDE_DEADLINE_SECS + 90,
        )

    # Assert: the first regime ever entered is the scenario's, and it held; only that side's
    # strategy was enabled (it scans), the other stayed DISABLED.
    assert changes == [f"DISABLED->{expected.value}"], changes
    assert final is expected
    enabled = "ProtocolStrategy-001" if expected is Regime.SIDEWAYS else "ProtocolStrategy-002"
    assert statuses == {
        "ProtocolStrategy-001": "SCANNING" if enabled.endswith("1") else "DISABLED",
        "ProtocolStrategy-002": "SCANNING" if enabled.endswith("2") else "DISABLED",
    }
