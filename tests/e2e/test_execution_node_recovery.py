"""End-to-end recovery: restarts, the dead-man switch and a liquidation cascade.

Each test runs its own TradingNode(s) against its own simulator; truth comes from the simulator's
engine. The harness is ``jarvis.testkit``'s.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis
from nautilus_trader.cache.config import CacheConfig
from nautilus_trader.common.config import DatabaseConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TraderId

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
from jarvis.testkit import fund_test_account
from jarvis.testkit import hyperliquid_exec_client
from jarvis.testkit import post_signed_action
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
TAKER_KEY = "0x" + "9e" * 32
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
    base_url: str,
    log_dir: Path,
    name: str,
    *,
    claims: bool = False,
    trader_id: str | None = None,
    cache: CacheConfig | None = None,
    **exec_overrides: Any,
) -> tuple[TradingNode, Driver]:
    """A node with the Hyperliquid clients and a `Driver` strategy."""
    exec_values: dict[str, Any] = {
        "http_url": base_url,
        "coins": ("BTC",),
        "private_key_env": KEY_ENV,
        "account_refresh_interval_secs": 0.5,
        "dead_man_switch_secs": 0.0,
        "dead_man_switch_required": False,
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
    if trader_id is not None:
        config = msgspec.structs.replace(config, trader_id=TraderId(trader_id), cache=cache)
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
        fund_test_account(sim, ADDRESS, 100_000)
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
                kcache = node.kernel.cache
                await wait_for(  # reconciliation brought back the position and both orders
                    lambda: (
                        len(kcache.orders_open(instrument_id=BTC)) == len(venue_open)
                        and bool(kcache.positions_open(instrument_id=BTC))
                    ),
                    10,
                    "the reconciled orders and position",
                )
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
        fund_test_account(sim, ADDRESS, 100_000)
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
            await wait_for(lambda: client.dead_man.refreshes >= 2, 10, "the switch pushed forward")
            placed["cloid"] = cloid_from_client_order_id(order.client_order_id)
            placed["refreshes"] = hyperliquid_exec_client(node).dead_man.refreshes

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
        fund_test_account(sim, ADDRESS, 2_000)
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


def test_node_restarted_from_a_redis_cache_keeps_tracking_its_own_resting_orders(
    tmp_path: Path,
) -> None:
    """The cache comes back from a real Redis: the execution client tracks the open orders
    again under their own client order ids, and a fill after the restart lands on them."""
    trader_id = f"JARVIS-{uuid.uuid4().hex[:10].upper()}"
    redis_client = redis.Redis(host="127.0.0.1", port=6379)
    cache = CacheConfig(
        database=DatabaseConfig(type="redis", host="127.0.0.1", port=6379),
        buffer_interval_ms=None,
    )
    try:
        with SimThread(SimConfig(coins=("BTC",), seed=8)) as sim:
            fund_test_account(sim, ADDRESS, 100_000)
            sim.fund(address_from_private_key(TAKER_KEY), 100_000)
            admin_pause(sim)
            node, driver = build_node(
                sim.base_url, tmp_path, "redis_first", trader_id=trader_id, cache=cache
            )
            placed: dict[str, Any] = {}

            async def rest_two() -> None:
                kcache = node.kernel.cache
                inst = kcache.instrument(BTC)
                quote = kcache.quote_tick(BTC)
                assert inst is not None and quote is not None
                levels = venue_info(sim, {"type": "l2Book", "coin": "BTC"})["levels"]
                inside = Decimal(levels[0][0]["px"]) + 1  # best bid: only a taker reaches it
                assert inside < Decimal(levels[1][0]["px"]), "no room inside the spread"
                qty = inst.make_qty(Decimal("0.01"))
                orders = []
                for px in (inside, (inside * Decimal("0.95")).quantize(Decimal(1))):
                    price = inst.make_price(px)
                    order = driver.order_factory.limit(BTC, OrderSide.BUY, qty, price)
                    driver.submit_order(order)
                    orders.append(order)
                await wait_for(
                    lambda: all(o.status == OrderStatus.ACCEPTED for o in orders),
                    5,
                    "two resting orders",
                )
                placed["orders"] = {o.client_order_id: o.venue_order_id for o in orders}
                placed["prices"] = {o.client_order_id: o.price.as_decimal() for o in orders}

            run_node(node, rest_two, quotes_of=BTC)
            seen: dict[str, Any] = {}
            node, _ = build_node(
                sim.base_url, tmp_path, "redis_second", trader_id=trader_id, cache=cache
            )

            async def fill_one() -> None:
                client = hyperliquid_exec_client(node)
                kcache = node.kernel.cache
                await wait_for(
                    lambda: all(
                        client.tracked_orders.get(coid) is not None for coid in placed["orders"]
                    ),
                    10,
                    "the cached open orders tracked again",
                )
                seen["tracked"] = {
                    coid: client.tracked_orders.get(coid).oid  # type: ignore[union-attr]
                    for coid in placed["orders"]
                }
                target, price = max(placed["prices"].items(), key=lambda item: item[1])
                taker = {"a": 0, "b": False, "p": str(price), "s": "0.01", "r": False}
                taker["t"] = {"limit": {"tif": "Ioc"}}
                action = {"type": "order", "orders": [taker], "grouping": "na"}
                await asyncio.get_running_loop().run_in_executor(
                    None, post_signed_action, sim.base_url, TAKER_KEY, action
                )
                await wait_for(
                    lambda: (order := kcache.order(target)) is not None and order.is_closed,
                    10,
                    "the fill after the restart",
                )
                seen["target"] = kcache.order(target)
                seen["external_fills"] = client.counters.external_fills
                seen["external_orders"] = [
                    o.client_order_id.value
                    for o in kcache.orders()
                    if o.client_order_id.value.startswith("HL-")
                ]

            run_node(node, fill_one, quotes_of=BTC)
    finally:
        keys = list(redis_client.scan_iter(match=f"trader-{trader_id}*"))
        if keys:
            redis_client.delete(*keys)
        redis_client.close()

    assert seen["tracked"] == {coid: int(voi.value) for coid, voi in placed["orders"].items()}
    target = seen["target"]
    assert target.status == OrderStatus.FILLED
    assert target.filled_qty.as_decimal() == Decimal("0.01")
    assert seen["external_fills"] == 0
    assert seen["external_orders"] == []  # nothing came back under an HL- id
