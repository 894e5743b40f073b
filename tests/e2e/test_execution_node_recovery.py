"""End-to-end recovery: restarts, the dead-man switch and a liquidation cascade.

Each test runs its own TradingNode(s) against its own simulator; truth comes from the simulator's
engine. The harness is ``jarvis.testkit``'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import InstrumentId

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
from adapters.hyperliquid.numbers import cloid_from_client_order_id
from adapters.hyperliquid.signing import address_from_private_key
from jarvis.testkit import Driver
from jarvis.testkit import DriverConfig
from jarvis.testkit import build_sim_node
from jarvis.testkit import data_client_config
from jarvis.testkit import file_logging
from jarvis.testkit import fresh_rate_limiter
from jarvis.testkit import hyperliquid_exec_client
from jarvis.testkit import run_node
from jarvis.testkit import sim_node_config
from jarvis.testkit import venue_info
from jarvis.testkit import venue_position
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread

KEY = "0x" + "7c" * 32
KEY_ENV = "JARVIS_TEST_HL_KEY_RECOVERY"
ADDRESS = address_from_private_key(KEY)
BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")


@pytest.fixture(autouse=True)
def key_in_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The signing key in the environment, as in production; a fresh process rate limiter
    (the REST budget is shared process-wide, and earlier tests spent it against other
    simulators)."""
    monkeypatch.setenv(KEY_ENV, KEY)
    with fresh_rate_limiter():
        yield


def build_node(
    base_url: str, log_dir: Path, name: str, *, claims: bool = False, **exec_overrides: Any
) -> tuple[TradingNode, Driver]:
    """A node with the Hyperliquid clients and a `Driver` strategy."""
    exec_values: dict[str, Any] = {
        "http_url": base_url,
        "coins": ("BTC",),
        "private_key_env": KEY_ENV,
        "account_refresh_interval_secs": 0.5,
        "dead_man_switch_secs": 0.0,
        "watchdog_interval_secs": 0.5,
    }
    exec_values.update(exec_overrides)
    config = sim_node_config(
        data_client_config(
            base_url,
            ("BTC",),
            health=HyperliquidFeedHealthConfig(gate_enabled=False, loosen=("gate_enabled",)),
        ),
        exec_client=HyperliquidExecClientConfig(**exec_values),
        logging=file_logging(log_dir, name, level_file="INFO"),
        exec_engine=LiveExecEngineConfig(
            reconciliation=True, reconciliation_startup_delay_secs=0.5
        ),
    )
    node = build_sim_node(config)
    claimed = [str(BTC)] if claims else None
    driver = Driver(
        DriverConfig(strategy_id="DRIVER-001", instrument_id=BTC, external_order_claims=claimed)
    )
    node.trader.add_strategy(driver)
    return node, driver


def venue_szi(sim: SimThread) -> Decimal:
    """The venue's signed BTC position."""
    return venue_position(sim, ADDRESS, "BTC")


def snapshot(node: TradingNode) -> dict[str, Any]:
    """What reconciliation put into the cache, in a comparable form."""
    cache = node.kernel.cache
    orders = sorted(
        (
            o.client_order_id.value,
            o.status_string(),
            o.venue_order_id.value if o.venue_order_id else None,
            str(o.quantity),
            str(o.filled_qty),
            str(o.price) if o.has_price else None,
        )
        for o in cache.orders(instrument_id=BTC)
    )
    net = sum((p.signed_decimal_qty() for p in cache.positions_open(instrument_id=BTC)), Decimal(0))
    return {"orders": orders, "net": net}


def test_restarted_node_reconciles_open_orders_and_position_the_same_way_twice(
    tmp_path: Path,
) -> None:
    with SimThread(SimConfig(coins=("BTC",), seed=3)) as sim:
        sim.fund(ADDRESS, 100_000)
        admin_pause(sim)
        node, driver = build_node(sim.base_url, tmp_path, "first")

        async def trade() -> None:
            cache = node.kernel.cache
            inst = cache.instrument(BTC)
            quote = cache.quote_tick(BTC)
            assert inst is not None and quote is not None
            bid = quote.bid_price.as_decimal()
            qty = inst.make_qty(Decimal("0.01"))
            market = driver.order_factory.market(BTC, OrderSide.BUY, inst.make_qty(Decimal("0.02")))
            driver.submit_order(market)
            for factor in ("0.95", "0.96"):
                price = inst.make_price((bid * Decimal(factor)).quantize(Decimal(1)))
                driver.submit_order(driver.order_factory.limit(BTC, OrderSide.BUY, qty, price))
            await wait_for(
                lambda: market.is_closed and len(cache.orders_open(instrument_id=BTC)) == 2,
                5,
                "a position and two resting orders",
            )

        run_node(node, trade, quotes_of=BTC)
        venue_open = sorted(
            o["oid"] for o in venue_info(sim, {"type": "openOrders", "user": ADDRESS})
        )
        snapshots = []
        for name in ("second", "third"):
            node, _ = build_node(sim.base_url, tmp_path, name)

            async def observe(node: TradingNode = node) -> dict[str, Any]:
                await asyncio.sleep(1.0)
                return snapshot(node)

            snapshots.append(run_node(node, observe, quotes_of=BTC))
        szi = venue_szi(sim)
    first, second = snapshots
    assert first == second
    open_oids = sorted(
        int(oid) for _, status, oid, *_ in first["orders"] if status == "ACCEPTED" and oid
    )
    assert open_oids == venue_open
    assert first["net"] == szi == Decimal("0.02")


def test_dead_man_switch_cancels_orders_after_the_node_is_gone(tmp_path: Path) -> None:
    with SimThread(SimConfig(coins=("BTC",), seed=4)) as sim:
        sim.fund(ADDRESS, 100_000)
        node, driver = build_node(
            sim.base_url, tmp_path, "deadman", dead_man_switch_secs=6.0, dead_man_refresh_secs=1.0
        )
        placed: dict[str, Any] = {}

        async def rest_an_order() -> None:
            cache = node.kernel.cache
            inst = cache.instrument(BTC)
            quote = cache.quote_tick(BTC)
            assert inst is not None and quote is not None
            price = inst.make_price((quote.bid_price.as_decimal() * Decimal("0.9")).quantize(1))
            order = driver.order_factory.limit(BTC, OrderSide.BUY, inst.make_qty("0.01"), price)
            driver.submit_order(order)
            await wait_for(lambda: order.status == OrderStatus.ACCEPTED, 5, "the order to rest")
            client = hyperliquid_exec_client(node)
            await wait_for(
                lambda: client.counters.dead_man_refreshes >= 2, 10, "the switch pushed forward"
            )
            placed["cloid"] = cloid_from_client_order_id(order.client_order_id)
            placed["refreshes"] = hyperliquid_exec_client(node).counters.dead_man_refreshes

        run_node(node, rest_an_order, quotes_of=BTC)
        # The node is gone: nobody refreshes the switch any more.
        assert sim.server is not None
        engine = sim.server.venue.engine
        assert sim.call(lambda: engine.scheduled.get(ADDRESS.lower())) is not None
        before = venue_info(sim, {"type": "orderStatus", "user": ADDRESS, "oid": placed["cloid"]})
        sim.jump(7_000)
        after = venue_info(sim, {"type": "orderStatus", "user": ADDRESS, "oid": placed["cloid"]})
    assert placed["refreshes"] >= 2
    assert before["order"]["status"] == "open"
    assert after["order"]["status"] == "scheduledCancel"


def test_liquidation_in_a_cascade_leaves_positions_and_balances_consistent(
    tmp_path: Path,
) -> None:
    config = SimConfig(coins=("BTC",), scenario="cascade", seed=9, speed=2.0)
    with SimThread(config) as sim:
        sim.fund(ADDRESS, 2_000)
        node, driver = build_node(
            sim.base_url, tmp_path, "cascade", claims=True, leverage={"BTC": 20}
        )
        seen: dict[str, Any] = {}

        async def get_liquidated() -> None:
            cache = node.kernel.cache
            inst = cache.instrument(BTC)
            assert inst is not None
            order = driver.order_factory.market(BTC, OrderSide.BUY, inst.make_qty("0.25"))
            driver.submit_order(order)
            await wait_for(lambda: order.status == OrderStatus.FILLED, 5, "the leveraged buy")
            seen["entry_szi"] = venue_szi(sim)
            await wait_for(lambda: venue_szi(sim) == 0, 30, "the venue to liquidate the account")

            def net() -> Decimal:
                positions = cache.positions_open(instrument_id=BTC)
                return sum((p.signed_decimal_qty() for p in positions), Decimal(0))

            await wait_for(lambda: net() == 0, 10, "the node to see the position closed")
            await asyncio.sleep(1.5)  # an account refresh after the liquidation
            account = cache.account_for_venue(BTC.venue)
            assert account is not None
            seen["balance"] = account.balance_total().as_decimal()
            seen["driver_positions"] = cache.positions_open(strategy_id=driver.id)
            seen["counters"] = hyperliquid_exec_client(node).counters

        run_node(node, get_liquidated, quotes_of=BTC)
        state = venue_info(sim, {"type": "clearinghouseState", "user": ADDRESS})
    assert seen["entry_szi"] == Decimal("0.25")
    assert seen["driver_positions"] == []
    assert seen["counters"].external_fills >= 1
    assert seen["balance"] == Decimal(state["marginSummary"]["accountValue"])


def admin_pause(sim: SimThread) -> None:
    """Freeze the background market (only the tests' orders move the book)."""
    assert sim.server is not None
    faults = sim.server.venue.faults
    sim.call(lambda: setattr(faults, "market_paused", True))
