"""End-to-end recovery: restarts, the dead-man switch and a liquidation cascade.

Each test runs its own TradingNode(s) against its own simulator; truth comes from the simulator's
engine. (The harness is small and repeated from ``test_execution_node.py`` on purpose: pytest
runs test modules in importlib mode, so they cannot share helpers without a conftest.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

from adapters.hyperliquid import rate_limit
from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
from adapters.hyperliquid.execution import HyperliquidExecutionClient
from adapters.hyperliquid.factories import HyperliquidLiveDataClientFactory
from adapters.hyperliquid.factories import HyperliquidLiveExecClientFactory
from adapters.hyperliquid.numbers import cloid_from_client_order_id
from adapters.hyperliquid.signing import address_from_private_key
from adapters.hyperliquid.sim.app import SimConfig
from adapters.hyperliquid.sim.app import SimThread

KEY = "0x" + "7c" * 32
KEY_ENV = "JARVIS_TEST_HL_KEY_RECOVERY"
ADDRESS = address_from_private_key(KEY)
BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")


class Driver(Strategy):
    """A strategy the harness drives by hand."""

    def on_start(self) -> None:
        """Book and quotes of BTC: MARKET orders are priced from them."""
        self.subscribe_order_book_deltas(BTC, book_type=BookType.L2_MBP)
        self.subscribe_quote_ticks(BTC)

    def on_stop(self) -> None:
        """Orders and positions stay: the tests read what is left."""


@pytest.fixture(autouse=True)
def key_in_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The signing key in the environment, as in production; a fresh process rate limiter
    (the REST budget is shared process-wide, and earlier tests spent it against other
    simulators)."""
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setattr(rate_limit, "_SHARED", None)
    yield


async def wait_for(predicate: Callable[[], bool], timeout_secs: float, what: str) -> None:
    """Poll until `predicate` holds (fails the test with `what` on timeout)."""
    deadline = time.monotonic() + timeout_secs
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_secs} s waiting for {what}")
        await asyncio.sleep(0.02)


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
    config = TradingNodeConfig(
        trader_id="JARVIS-001",
        logging=LoggingConfig(
            log_level="ERROR",
            log_level_file="INFO",
            log_directory=str(log_dir),
            log_file_name=name,
            log_colors=False,
        ),
        exec_engine=LiveExecEngineConfig(
            reconciliation=True, reconciliation_startup_delay_secs=0.5
        ),
        data_clients={
            "HYPERLIQUID": HyperliquidDataClientConfig(
                http_url=base_url,
                coins=("BTC",),
                instrument_refresh_interval_secs=0,
                status_log_interval_secs=0,
                health=HyperliquidFeedHealthConfig(gate_enabled=False),
            )
        },
        exec_clients={"HYPERLIQUID": HyperliquidExecClientConfig(**exec_values)},
        timeout_connection=15.0,
        timeout_reconciliation=5.0,
        timeout_portfolio=2.0,
        timeout_disconnection=2.0,
        timeout_post_stop=0.2,
        timeout_shutdown=1.0,
    )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = TradingNode(config=config, loop=loop)
    node.add_data_client_factory("HYPERLIQUID", HyperliquidLiveDataClientFactory)
    node.add_exec_client_factory("HYPERLIQUID", HyperliquidLiveExecClientFactory)
    node.build()
    driver = Driver(
        StrategyConfig(
            strategy_id="DRIVER-001", external_order_claims=[str(BTC)] if claims else None
        )
    )
    node.trader.add_strategy(driver)
    return node, driver


def run_node[T](node: TradingNode, scenario: Callable[[], Awaitable[T]]) -> T:
    """Start the node, run `scenario` once trading, then stop and dispose the node."""
    loop = node.get_event_loop()
    assert loop is not None

    async def main() -> T:
        runner = loop.create_task(node.run_async())
        try:
            await wait_for(lambda: node.kernel.trader.is_running, 30, "the node to run")
            await wait_for(lambda: node.kernel.cache.quote_tick(BTC) is not None, 10, "quotes")
            return await scenario()
        finally:
            await node.stop_async()
            await asyncio.sleep(0.1)
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

    try:
        return loop.run_until_complete(main())
    finally:
        node.dispose()
        asyncio.set_event_loop(None)


def exec_client(node: TradingNode) -> HyperliquidExecutionClient:
    """The node's Hyperliquid execution client."""
    (client_id,) = node.kernel.exec_engine.registered_clients
    client = node.kernel.exec_engine._clients[client_id]
    assert isinstance(client, HyperliquidExecutionClient)
    return client


def venue(sim: SimThread, body: dict[str, Any]) -> Any:
    """An /info answer straight from the engine."""
    assert sim.server is not None
    server_venue = sim.server.venue
    return sim.call(lambda: server_venue.info(body))


def venue_szi(sim: SimThread) -> Decimal:
    """The venue's signed BTC position."""
    state = venue(sim, {"type": "clearinghouseState", "user": ADDRESS})
    for item in state["assetPositions"]:
        if item["position"]["coin"] == "BTC":
            return Decimal(item["position"]["szi"])
    return Decimal(0)


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

        run_node(node, trade)
        venue_open = sorted(o["oid"] for o in venue(sim, {"type": "openOrders", "user": ADDRESS}))
        snapshots = []
        for name in ("second", "third"):
            node, _ = build_node(sim.base_url, tmp_path, name)

            async def observe(node: TradingNode = node) -> dict[str, Any]:
                await asyncio.sleep(1.0)
                return snapshot(node)

            snapshots.append(run_node(node, observe))
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
            client = exec_client(node)
            await wait_for(
                lambda: client.counters.dead_man_refreshes >= 2, 10, "the switch pushed forward"
            )
            placed["cloid"] = cloid_from_client_order_id(order.client_order_id)
            placed["refreshes"] = exec_client(node).counters.dead_man_refreshes

        run_node(node, rest_an_order)
        # The node is gone: nobody refreshes the switch any more.
        assert sim.server is not None
        engine = sim.server.venue.engine
        assert sim.call(lambda: engine.scheduled.get(ADDRESS.lower())) is not None
        before = venue(sim, {"type": "orderStatus", "user": ADDRESS, "oid": placed["cloid"]})
        sim.jump(7_000)
        after = venue(sim, {"type": "orderStatus", "user": ADDRESS, "oid": placed["cloid"]})
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
            seen["counters"] = exec_client(node).counters

        run_node(node, get_liquidated)
        state = venue(sim, {"type": "clearinghouseState", "user": ADDRESS})
    assert seen["entry_szi"] == Decimal("0.25")
    assert seen["driver_positions"] == []
    assert seen["counters"].external_fills >= 1
    assert seen["balance"] == Decimal(state["marginSummary"]["accountValue"])


def admin_pause(sim: SimThread) -> None:
    """Freeze the background market (only the tests' orders move the book)."""
    assert sim.server is not None
    faults = sim.server.venue.faults
    sim.call(lambda: setattr(faults, "market_paused", True))
