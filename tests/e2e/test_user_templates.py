"""End to end: each user template, compiled from an intent, trading on the simulator.

One simulator and one node per test, the strategy added the way ``jarvis intent --run`` adds it:
through the node's controller (NautilusTrader's own ``Controller`` here; the regime controller
offers the same ``create``/``add`` path). Truth comes from the simulator's engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from nautilus_trader.config import ImportableControllerConfig
from nautilus_trader.config import ImportableExecAlgorithmConfig
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
from adapters.hyperliquid.signing import address_from_private_key
from intents.compiler import UserProfile
from intents.compiler import compile_intent
from intents.parser import parse_intent
from intents.plan import Plan
from intents.venue import snapshot_from_meta_and_ctxs
from jarvis.intent_cli import TWAP_ALGORITHM
from jarvis.testkit import build_sim_node
from jarvis.testkit import data_client_config
from jarvis.testkit import file_logging
from jarvis.testkit import fresh_rate_limiter
from jarvis.testkit import run_node
from jarvis.testkit import sim_node_config
from jarvis.testkit import venue_info
from jarvis.testkit import venue_open_orders
from jarvis.testkit import venue_position
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread

KEY = "0x" + "6e" * 32
KEY_ENV = "JARVIS_TEST_HL_KEY_TEMPLATES"
ADDRESS = address_from_private_key(KEY).lower()
ETH = InstrumentId.from_str("ETH-USD-PERP.HYPERLIQUID")
NT_CONTROLLER = ImportableControllerConfig(
    controller_path="nautilus_trader.trading.controller:Controller",
    config_path="nautilus_trader.live.config:ControllerConfig",
    config={},
)
REGIME_CONTROLLER = ImportableControllerConfig(
    controller_path="controllers.regime:RegimeController",
    config_path="controllers.regime:RegimeControllerConfig",
    config={},
)


@pytest.fixture(autouse=True)
def key_in_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(KEY_ENV, KEY)
    with fresh_rate_limiter():
        yield


def plan_for(sim: SimThread, text: str, user: UserProfile | None = None) -> Plan:
    """Parse and compile ``text`` on the simulator's own metadata."""
    payload = venue_info(sim, {"type": "metaAndAssetCtxs"})
    snapshot = snapshot_from_meta_and_ctxs(payload, source="sim", taken_at_ms=0)
    return compile_intent(parse_intent(text), snapshot, user or UserProfile(), now_ms=0)


def mark_of(sim: SimThread) -> Decimal:
    payload = venue_info(sim, {"type": "metaAndAssetCtxs"})
    return Decimal(payload[1][0]["markPx"])


def build(
    sim: SimThread,
    log_dir: Path,
    name: str,
    controller: ImportableControllerConfig = NT_CONTROLLER,
) -> TradingNode:
    """A node with the Hyperliquid clients, NautilusTrader's controller and the TWAP algorithm."""
    base = sim_node_config(
        data_client_config(
            sim.base_url,
            ("ETH",),
            health=HyperliquidFeedHealthConfig(gate_enabled=False, loosen=("gate_enabled",)),
        ),
        exec_client=HyperliquidExecClientConfig(
            http_url=sim.base_url,
            coins=("ETH",),
            private_key_env=KEY_ENV,
            account_refresh_interval_secs=0.5,
            dead_man_switch_secs=0.0,
            dead_man_switch_required=False,
            watchdog_interval_secs=0.5,
        ),
        logging=file_logging(log_dir, name, level_file="INFO"),
        exec_engine=LiveExecEngineConfig(
            reconciliation=True, reconciliation_startup_delay_secs=0.5
        ),
    )
    config = msgspec.structs.replace(
        base,
        controller=controller,
        exec_algorithms=[ImportableExecAlgorithmConfig(**TWAP_ALGORITHM)],
    )
    return build_sim_node(config)


def start_through_controller(node: TradingNode, config: ImportableStrategyConfig) -> Any:
    controller: Any = node.kernel._controller  # type: ignore[attr-defined]
    controller.create_strategy_from_config(config, start=True)
    tag = config.config["order_id_tag"]
    (strategy,) = [s for s in node.trader.strategies() if s.id.value.endswith(f"-{tag}")]
    return strategy


def leverage_of(sim: SimThread) -> dict[str, Any] | None:
    state = venue_info(sim, {"type": "clearinghouseState", "user": ADDRESS})
    for item in state["assetPositions"]:
        if item["position"]["coin"] == "ETH":
            return item["position"]["leverage"]
    return None


def test_direct_buy_sets_leverage_then_buys_protects_with_a_stop_and_closes_on_stop(
    tmp_path: Path,
) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=21)) as sim:
        sim.fund(ADDRESS, 100_000)
        stop = (mark_of(sim) * Decimal("0.9")).quantize(Decimal(1))
        plan = plan_for(sim, f"long $100 ETH 3x isolated stop {stop}", UserProfile(max_leverage=5))
        node = build(sim, tmp_path, "direct")
        seen: dict[str, Any] = {}

        async def trade() -> None:
            strategy: Strategy = start_through_controller(node, plan.strategy_config)
            await wait_for(
                lambda: any(
                    o.get("triggerPx") or o.get("isTrigger")
                    for o in venue_info(sim, {"type": "frontendOpenOrders", "user": ADDRESS})
                ),
                20,
                "the protective stop resting at the venue",
            )
            seen["position"] = venue_position(sim, ADDRESS, "ETH")
            seen["leverage"] = leverage_of(sim)
            seen["open"] = venue_info(sim, {"type": "frontendOpenOrders", "user": ADDRESS})
            seen["strategy"] = strategy

        run_node(node, trade)
        after_position = venue_position(sim, ADDRESS, "ETH")
        after_open = venue_open_orders(sim, ADDRESS)
    assert seen["leverage"] == {"type": "isolated", "value": 3} or seen["leverage"]["value"] == 3
    assert seen["leverage"]["type"] == "isolated"
    assert seen["position"] > 0
    assert seen["position"] * stop < 100  # about $100 bought
    (stop_order,) = seen["open"]
    assert Decimal(stop_order["triggerPx"]) == stop
    assert stop_order["reduceOnly"] is True
    assert after_position == 0  # closed on stop, with its protection
    assert after_open == []


def test_twap_executes_in_equal_children_each_over_the_venue_minimum(tmp_path: Path) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=22)) as sim:
        sim.fund(ADDRESS, 100_000)
        plan = plan_for(sim, "TWAP buy $45 ETH over 6s every 2s")
        node = build(sim, tmp_path, "twap")

        async def trade() -> None:
            start_through_controller(node, plan.strategy_config)
            await wait_for(
                lambda: (
                    len({f["oid"] for f in venue_info(sim, {"type": "userFills", "user": ADDRESS})})
                    >= 3
                ),
                30,
                "three TWAP children filled",
            )

        run_node(node, trade)
        fills = venue_info(sim, {"type": "userFills", "user": ADDRESS})
    by_oid: dict[int, Decimal] = {}
    sizes: dict[int, Decimal] = {}
    for fill in fills:
        by_oid[fill["oid"]] = by_oid.get(fill["oid"], Decimal(0)) + Decimal(fill["sz"]) * Decimal(
            fill["px"]
        )
        sizes[fill["oid"]] = sizes.get(fill["oid"], Decimal(0)) + Decimal(fill["sz"])
    assert plan.strategy_config.config["slices"] == 3
    assert len(by_oid) == 3
    assert len(set(sizes.values())) == 1  # equal children, no tiny remainder child
    assert all(value >= 10 for value in by_oid.values())


def test_price_limit_fill_on_one_leg_cancels_the_other(tmp_path: Path) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=23)) as sim:
        sim.fund(ADDRESS, 100_000)
        mark = mark_of(sim)
        buy = (mark * Decimal("0.99")).quantize(Decimal(1))
        sell = (mark * Decimal("1.2")).quantize(Decimal(1))
        plan = plan_for(sim, f"buy 0.01 ETH at {buy} / sell at {sell}")
        node = build(sim, tmp_path, "legs")

        async def trade() -> None:
            start_through_controller(node, plan.strategy_config)
            await wait_for(lambda: len(venue_open_orders(sim, ADDRESS)) == 2, 20, "both legs")
            sim.set_oracle("ETH", float(mark * Decimal("0.97")))
            await wait_for(
                lambda: venue_position(sim, ADDRESS, "ETH") == Decimal("0.01"), 20, "the buy fill"
            )
            await wait_for(lambda: venue_open_orders(sim, ADDRESS) == [], 20, "the sell cancelled")

        run_node(node, trade)
        position = venue_position(sim, ADDRESS, "ETH")
    assert position == Decimal("0.01")  # kept: PriceLimit does not close on stop


def test_price_limit_time_limit_cancels_the_resting_leg(tmp_path: Path) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=24)) as sim:
        sim.fund(ADDRESS, 100_000)
        buy = (mark_of(sim) * Decimal("0.9")).quantize(Decimal(1))
        plan = plan_for(sim, f"buy 0.01 ETH if it drops to {buy}, cancel after 3s")
        node = build(sim, tmp_path, "expiry")
        seen: dict[str, Any] = {}

        async def trade() -> None:
            strategy = start_through_controller(node, plan.strategy_config)
            await wait_for(lambda: len(venue_open_orders(sim, ADDRESS)) == 1, 20, "the leg")
            await wait_for(lambda: venue_open_orders(sim, ADDRESS) == [], 20, "the time limit")
            seen["why"] = strategy.saved.legs["BUY"].why

        run_node(node, trade)
    assert seen["why"] == "cancelled: time limit"


def test_dca_holds_back_while_halted_and_resumes_once_active(tmp_path: Path) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=25)) as sim:
        sim.fund(ADDRESS, 100_000)
        plan = plan_for(sim, "DCA $15 each into ETH every 1s, 3 times")
        node = build(sim, tmp_path, "dca")
        seen: dict[str, Any] = {}

        async def trade() -> None:
            dca = start_through_controller(node, plan.strategy_config)
            await wait_for(lambda: dca.progress.done >= 1, 20, "the first buy")
            node.kernel.risk_engine.set_trading_state(TradingState.HALTED)
            await wait_for(lambda: dca.progress.in_flight is None, 10, "no order in flight")
            seen["orders_at_halt"] = len(node.kernel.cache.orders(strategy_id=dca.id))
            await wait_for(lambda: dca.held_back >= 2, 20, "two turns held back")
            seen["orders_while_halted"] = len(node.kernel.cache.orders(strategy_id=dca.id))
            node.kernel.risk_engine.set_trading_state(TradingState.ACTIVE)
            await wait_for(lambda: dca.progress.done >= 3, 20, "the last buys once active")

        run_node(node, trade)
        oids = {f["oid"] for f in venue_info(sim, {"type": "userFills", "user": ADDRESS})}
    assert seen["orders_while_halted"] == seen["orders_at_halt"]
    assert len(oids) == 3


def test_ema_cross_enters_on_the_cross_with_an_atr_stop_and_closes_on_stop(
    tmp_path: Path,
) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=26, scenario="trend", speed=4.0)) as sim:
        sim.fund(ADDRESS, 100_000)
        plan = plan_for(sim, "EMA cross ETH 2/4 size 0.01 ETH atr(3) stop 3x")
        # One-second bars built in the node from trades, so the test is not minutes long.
        config = msgspec.structs.replace(
            plan.strategy_config,
            config={
                **plan.strategy_config.config,
                "bar_type": "ETH-USD-PERP.HYPERLIQUID-1-SECOND-LAST-INTERNAL",
                "request_bars": False,
            },
        )
        node = build(sim, tmp_path, "ema")
        seen: dict[str, Any] = {}

        def stop_resting() -> list[dict[str, Any]]:
            orders = venue_info(sim, {"type": "frontendOpenOrders", "user": ADDRESS})
            return [o for o in orders if o.get("isTrigger")]

        async def trade() -> None:
            strategy = start_through_controller(node, config)
            await wait_for(lambda: len(stop_resting()) == 1, 60, "an entry and its ATR stop")
            seen["position"] = venue_position(sim, ADDRESS, "ETH")
            seen["stop"] = stop_resting()[0]
            seen["atr"] = Decimal(str(strategy.atr.value))

        run_node(node, trade)
        after = venue_position(sim, ADDRESS, "ETH")
        open_after = venue_open_orders(sim, ADDRESS)
    assert abs(seen["position"]) == Decimal("0.01")
    assert seen["stop"]["reduceOnly"] is True
    assert seen["atr"] > 0
    assert after == 0
    assert open_after == []


def test_template_gated_on_a_regime_holds_back_until_the_regime_controller_enables_it(
    tmp_path: Path,
) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=27)) as sim:
        sim.fund(ADDRESS, 100_000)
        gated = plan_for(sim, "buy 0.01 ETH only in sideways")
        free = plan_for(sim, "buy 0.02 ETH")
        node = build(sim, tmp_path, "gated", controller=REGIME_CONTROLLER)
        seen: dict[str, Any] = {}

        async def trade() -> None:
            controller: Any = node.kernel._controller  # type: ignore[attr-defined]
            held = controller.add_strategy_from_config(gated.strategy_config)
            controller.add_strategy_from_config(free.strategy_config)
            await wait_for(lambda: held.held_back >= 1, 20, "the gated order held back")
            await wait_for(
                lambda: venue_position(sim, ADDRESS, "ETH") == Decimal("0.02"), 20, "the free buy"
            )
            seen["gated_orders"] = len(node.kernel.cache.orders(strategy_id=held.id))
            # The controller opens the gate (as on a SIDEWAYS regime): the held order goes out.
            controller._gate(controller._managed[held.id.value], True, "test: SIDEWAYS", 0)
            await wait_for(
                lambda: venue_position(sim, ADDRESS, "ETH") == Decimal("0.03"), 20, "the gated buy"
            )

        run_node(node, trade)
    # No MarketState reaches this node: ETH's regime stays DISABLED, so the gate stays shut
    # until it is opened by hand.
    assert seen["gated_orders"] == 0


def test_price_limit_leg_is_cancelled_when_the_price_moves_away_by_the_set_percent(
    tmp_path: Path,
) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=28)) as sim:
        sim.fund(ADDRESS, 100_000)
        mark = mark_of(sim)
        buy = (mark * Decimal("0.95")).quantize(Decimal(1))
        plan = plan_for(sim, f"buy 0.01 ETH at {buy}, cancel if price moves 8% away")
        node = build(sim, tmp_path, "away")
        seen: dict[str, Any] = {}

        async def trade() -> None:
            strategy = start_through_controller(node, plan.strategy_config)
            await wait_for(lambda: len(venue_open_orders(sim, ADDRESS)) == 1, 20, "the leg")
            seen["kept_while_near"] = not strategy.saved.legs["BUY"].finished
            sim.set_oracle("ETH", float(mark * Decimal("1.05")))  # 10.5 % above the leg
            await wait_for(lambda: venue_open_orders(sim, ADDRESS) == [], 20, "the cancel")
            seen["why"] = strategy.saved.legs["BUY"].why

        run_node(node, trade)
    assert seen["kept_while_near"]
    assert seen["why"].startswith("cancelled: mid ")
    assert "(limit 8%)" in seen["why"]


def test_twap_stopped_midway_cancels_its_primary_order(tmp_path: Path) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=29)) as sim:
        sim.fund(ADDRESS, 100_000)
        plan = plan_for(sim, "TWAP buy $60 ETH over 60s every 20s")
        node = build(sim, tmp_path, "twap-stop")
        seen: dict[str, Any] = {}

        async def first_child() -> None:
            strategy = start_through_controller(node, plan.strategy_config)
            seen["strategy"] = strategy
            await wait_for(
                lambda: len(venue_info(sim, {"type": "userFills", "user": ADDRESS})) >= 1,
                20,
                "the first child",
            )

        def after_stop() -> None:
            orders = node.kernel.cache.orders(strategy_id=seen["strategy"].id)
            primaries = [o for o in orders if o.exec_spawn_id == o.client_order_id]
            seen["primary_status"] = [o.status_string() for o in primaries]

        run_node(node, first_child, after_stop=after_stop)
        oids = {f["oid"] for f in venue_info(sim, {"type": "userFills", "user": ADDRESS})}
    assert plan.strategy_config.config["slices"] == 3
    assert seen["primary_status"] == ["CANCELED"]
    assert len(oids) == 1


def test_dca_skips_turns_above_its_price_ceiling_and_buys_once_below(tmp_path: Path) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=30)) as sim:
        sim.fund(ADDRESS, 100_000)
        mark = mark_of(sim)
        ceiling = (mark * Decimal("0.9")).quantize(Decimal(1))
        plan = plan_for(sim, f"DCA $15 each into ETH every 1s, 2 times max price {ceiling}")
        node = build(sim, tmp_path, "ceiling")
        seen: dict[str, Any] = {}

        async def trade() -> None:
            dca = start_through_controller(node, plan.strategy_config)
            await wait_for(lambda: dca.skipped_turns >= 2, 20, "two turns skipped")
            seen["orders_above"] = len(node.kernel.cache.orders(strategy_id=dca.id))
            sim.set_oracle("ETH", float(mark * Decimal("0.85")))
            await wait_for(lambda: dca.progress.done >= 2, 20, "two buys below the ceiling")

        run_node(node, trade)
        fills = venue_info(sim, {"type": "userFills", "user": ADDRESS})
    assert seen["orders_above"] == 0
    assert len({f["oid"] for f in fills}) == 2
    assert all(Decimal(f["px"]) <= ceiling for f in fills)
