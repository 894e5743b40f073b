"""
A live node finds the simulator's stop hunter from the trade prints' addresses.

A TradingNode with the Hyperliquid data client, a ``MarketStateBuilder`` for BTC (its OI_DROP
marks the cascade) and the ``WalletTrackerActor`` runs against the stepped ``cascade`` with the
hunter on (seed 13). The test steps the venue 44 s (five times faster than wall time, as the
determinism test does; the builder's event windows are shortened in config to match), waits
until the node is quiet, then compares what the tracker published with the hunter's
ground-truth file: flagged SHORT only after the cascade's OI_DROP, cleared once it is flat, no
other address flagged; the state builder carries the flag into MarketState.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId

from actors.market_state import MARKET_STATE_DATA_TYPE
from actors.market_state import MarketState
from actors.state_builder import MarketStateBuilder
from actors.state_builder import MarketStateBuilderConfig
from actors.structural_events import STRUCTURAL_EVENT_DATA_TYPE
from actors.structural_events import StructuralEvent
from actors.structural_events import StructuralEventThresholds
from actors.wallets.actor import WalletTrackerActor
from actors.wallets.actor import WalletTrackerConfig
from actors.wallets.data import MANIPULATOR_STATE_DATA_TYPE
from actors.wallets.data import WALLET_BEHAVIOUR_DATA_TYPE
from actors.wallets.data import ManipulatorState
from actors.wallets.data import WalletBehaviour
from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
from common.nautilus import custom_data_topic
from jarvis.testkit import build_sim_node
from jarvis.testkit import data_client_config
from jarvis.testkit import run_node
from jarvis.testkit import sim_node_config
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread

BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
CLIENT_ID = ClientId("HYPERLIQUID")
SEED = 13
STEP_MS = 250
STEPS = 176  # 44 s of venue time
WALL_SECS_PER_STEP = 0.05
QUIET_SECS = 0.5
# Local receive time runs 5x faster than venue time: the OI drop window is 1 s of it.
THRESHOLDS = StructuralEventThresholds(
    oi_drop_pct=5.0,
    oi_drop_window_secs=1.0,
    oi_surge_window_secs=1.0,
    absorption_window_secs=1.0,
    funding_window_secs=1.0,
    thinning_baseline_window_secs=1.5,
    rearm_secs=1.0,
)


class WalletSinkConfig(ActorConfig, frozen=True):
    """Nothing to configure."""


class WalletSink(Actor):
    """Keeps what the tracker and the builder publish, in order."""

    def __init__(self) -> None:
        super().__init__(WalletSinkConfig())
        self.behaviours: list[WalletBehaviour] = []
        self.states: list[ManipulatorState] = []
        self.events: list[StructuralEvent] = []
        self.market: list[MarketState] = []

    def on_start(self) -> None:
        bus = self.msgbus
        bus.subscribe(custom_data_topic(WALLET_BEHAVIOUR_DATA_TYPE), self.behaviours.append)
        bus.subscribe(custom_data_topic(MANIPULATOR_STATE_DATA_TYPE), self.states.append)
        bus.subscribe(custom_data_topic(STRUCTURAL_EVENT_DATA_TYPE), self.events.append)
        bus.subscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self.market.append)


async def _wait_until_quiet(tracker: WalletTrackerActor, node: TradingNode) -> None:
    engine = node.kernel.data_engine
    last = -1
    quiet_since = time.monotonic()
    deadline = quiet_since + 60.0
    while True:
        handled = tracker.tracker.trades
        if handled != last or engine.data_qsize() > 0:  # type: ignore[attr-defined]
            last = handled
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_SECS:
            return
        assert time.monotonic() < deadline, "the node never went quiet"
        await asyncio.sleep(0.02)


def test_the_live_node_flags_the_hunter_short_from_the_oi_drop_until_it_is_flat(
    tmp_path: Path,
) -> None:
    truth_path = tmp_path / "truth.jsonl"
    sim_config = SimConfig(
        coins=("BTC",),
        scenario="cascade",
        seed=SEED,
        stepped=True,
        step_ms=STEP_MS,
        ground_truth_path=str(truth_path),
    )
    with SimThread(sim_config) as sim:
        client_config = data_client_config(
            sim.base_url,
            ("BTC",),
            ws_ping_interval_secs=50.0,
            health=HyperliquidFeedHealthConfig(
                stale_l2book_secs=30.0,
                stale_asset_ctx_secs=30.0,
                loosen=("stale_l2book_secs", "stale_asset_ctx_secs"),
            ),
        )
        node = build_sim_node(sim_node_config(client_config))
        builder = MarketStateBuilder(
            MarketStateBuilderConfig(instrument_id=BTC, client_id=CLIENT_ID, thresholds=THRESHOLDS)
        )
        tracker = WalletTrackerActor(
            WalletTrackerConfig(
                component_id="WalletTracker",
                instrument_ids=[BTC],
                client_id=CLIENT_ID,
                heartbeat_interval_ms=200,
            )
        )
        sink = WalletSink()
        for actor in (builder, tracker, sink):
            node.trader.add_actor(actor)

        async def session() -> None:
            loop = asyncio.get_running_loop()
            await wait_for(lambda: builder.messages_handled > 0, 30, "the first BTC data")
            start = loop.time()
            for n in range(1, STEPS + 1):
                await loop.run_in_executor(None, sim.step, 1)
                delay = start + n * WALL_SECS_PER_STEP - loop.time()
                await asyncio.sleep(max(delay, 0.0))
            await _wait_until_quiet(tracker, node)
            await asyncio.sleep(0)  # let the last heartbeat publish

        run_node(node, session, timeout_secs=180)

    records = [json.loads(line) for line in truth_path.read_text().splitlines()]
    hunter = records[0]["address"]
    assert records[-1]["position_after"] == 0.0
    drops = [e for e in sink.events if e.kind == "OI_DROP"]
    assert drops, "no OI_DROP: the cascade was never signalled"
    flagged = [s for s in sink.states if s.is_manipulator_active]
    assert flagged, "the hunter was never flagged"
    assert {s.address for s in flagged} == {hunter}
    assert {s.manipulator_direction for s in flagged} == {"SHORT"}
    assert min(s.ts_init for s in flagged) >= drops[0].ts_init
    assert not sink.states[-1].is_manipulator_active  # flat again: cleared
    assert {b.behaviour for b in sink.behaviours if b.address == hunter} >= {
        "PRE_CASCADE_ENTRY",
        "CASCADE_EXIT",
    }
    carried = [m for m in sink.market if m.is_manipulator_active == 1.0]
    assert carried and all(m.manipulator_direction == -1.0 for m in carried)
