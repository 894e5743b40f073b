"""
Replay validation of the regime controller on a simulator recording.

One live session (module fixture): a TradingNode with the Hyperliquid data client (recording
on), a ``MarketStateBuilder`` for BTC and the ``RegimeController`` runs against the simulator's
``trend`` scenario until the controller has entered EXPANSION (windows and confirmation times
shortened through config). The recording is then:

* replayed twice (two independent ``load_recording`` passes through the live frame handler),
  each run twice in a BacktestEngine: the four regime-change sequences (SHA-256 over every
  field, timestamps included) are identical and contain EXPANSION;
* cut at each decision: running only up to a decision's own ``ts_init`` (no data, no timer
  later) reproduces exactly the decisions up to and including it -- no decision depends on
  anything stamped after it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from nautilus_trader.config import ImportableActorConfig
from nautilus_trader.config import ImportableControllerConfig
from nautilus_trader.model.identifiers import InstrumentId

from adapters.hyperliquid.config import HyperliquidRecorderConfig
from backtests.recording import load_recording
from backtests.regime import regime_changes_hash
from backtests.regime import regime_timeline
from controllers.protocol import Regime
from controllers.regime import RegimeController
from jarvis.cli import main
from jarvis.testkit import build_sim_node
from jarvis.testkit import data_client_config
from jarvis.testkit import run_node
from jarvis.testkit import sim_node_config
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread

BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
BUILDER: dict[str, Any] = {"windows_secs": [1.0, 5.0, 10.0, 20.0]}
CONTROLLER: dict[str, Any] = {"enter_confirm_secs": 3.0, "exit_confirm_secs": 2.0}


@dataclass(frozen=True)
class LiveSession:
    recording: Path
    live_changes: list[str]


@pytest.fixture(scope="module")
def live_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSession]:
    recording = tmp_path_factory.mktemp("regime_replay") / "recording"
    with SimThread(SimConfig(scenario="trend", seed=7, coins=("BTC",))) as sim:
        client = data_client_config(
            sim.base_url,
            ("BTC",),
            recorder=HyperliquidRecorderConfig(directory=str(recording)),
        )
        config = msgspec.structs.replace(
            sim_node_config(client),
            actors=[
                ImportableActorConfig(
                    actor_path="actors.state_builder:MarketStateBuilder",
                    config_path="actors.state_builder:MarketStateBuilderConfig",
                    config={"instrument_id": str(BTC), **BUILDER},
                ),
            ],
            controller=ImportableControllerConfig(
                controller_path="controllers.regime:RegimeController",
                config_path="controllers.regime:RegimeControllerConfig",
                config={"instrument_ids": [str(BTC)], **CONTROLLER},
            ),
        )
        node = build_sim_node(config)
        controller: RegimeController = node.kernel._controller  # type: ignore[assignment]

        async def until_expansion() -> list[str]:
            await wait_for(
                lambda: controller.regime(BTC) is Regime.EXPANSION,
                90,
                "EXPANSION on trend",
            )
            handled = controller.states_handled
            await wait_for(lambda: controller.states_handled >= handled + 3, 30, "3 more states")
            return [f"{d.previous.value}->{d.regime.value}" for d in controller.decisions]

        live = run_node(node, until_expansion, timeout_secs=150)
    yield LiveSession(recording=recording, live_changes=live)


def test_two_replays_each_run_twice_in_a_backtest_engine_give_identical_regime_changes(
    live_session: LiveSession,
) -> None:
    # Arrange: two independent replays of the raw frames.
    replays = [load_recording(live_session.recording) for _ in range(2)]

    # Act: each run twice.
    runs = [
        regime_timeline(replay, builder=BUILDER, controller=CONTROLLER)
        for replay in replays
        for _ in range(2)
    ]

    # Assert
    hashes = {regime_changes_hash(run.changes) for run in runs}
    assert len(hashes) == 1, hashes
    regimes = [c.regime for c in runs[0].changes]
    assert "EXPANSION" in regimes, regimes
    assert live_session.live_changes[0] == "DISABLED->EXPANSION"


def test_no_decision_depends_on_data_stamped_after_it(live_session: LiveSession) -> None:
    # Arrange
    replay = load_recording(live_session.recording)
    full = regime_timeline(replay, builder=BUILDER, controller=CONTROLLER).changes
    assert full, "the recording must hold at least one decision"

    # Act / Assert: each decision is reproduced, exactly, by a run that ends at its own time.
    for k, change in enumerate(full):
        cut = regime_timeline(
            replay,
            builder=BUILDER,
            controller=CONTROLLER,
            end_ns=change.ts_init,
        ).changes
        assert regime_changes_hash(cut) == regime_changes_hash(full[: k + 1]), k
        assert all(c.ts_init <= change.ts_init for c in cut)


def test_jarvis_regime_prints_one_json_line_per_change(
    live_session: LiveSession,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Arrange: the same overrides, from a TOML file as a user would give them.
    overrides = tmp_path / "short.toml"
    overrides.write_text(
        "[builder]\nwindows_secs = [1.0, 5.0, 10.0, 20.0]\n"
        "[controller]\nenter_confirm_secs = 3.0\nexit_confirm_secs = 2.0\n",
    )
    expected = regime_timeline(
        load_recording(live_session.recording),
        builder=BUILDER,
        controller=CONTROLLER,
    ).changes

    # Act
    code = main(
        ["regime", "--recording", str(live_session.recording), "--config", str(overrides)],
    )

    # Assert
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    parsed = [json.loads(line) for line in lines]
    assert [(p["instrument_id"], p["previous"], p["regime"], p["ts_ns"]) for p in parsed] == [
        (str(c.instrument_id), c.previous, c.regime, c.ts_init) for c in expected
    ]
    assert parsed[0]["inputs"].startswith("EXPANSION[")
