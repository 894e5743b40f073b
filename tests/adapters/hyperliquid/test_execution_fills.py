"""The execution client's fill handling and its restart path, directly against the simulator.

Events are caught where the execution engine would receive them (the ``ExecEngine.process``
endpoint), before NautilusTrader's own de-duplication could hide a duplicate: what is asserted
is the adapter's guarantee. Truth comes from the simulator's engine.
"""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from typing import Any

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderSubmitted
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.orders import Order

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.execution import HyperliquidExecutionClient
from adapters.hyperliquid.factories import build_exec_client
from adapters.hyperliquid.order_tracking import TrackingState
from adapters.hyperliquid.signing import HyperliquidSigner
from adapters.hyperliquid.signing import address_from_private_key
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimServer
from simulator.faults import FaultKind

KEY = "0x" + "f1" * 32
ADDRESS = address_from_private_key(KEY)
TAKER_KEY = "0x" + "f2" * 32
TRADER = TraderId("TEST-001")
BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")


class Harness:
    """A client outside a node with its events caught at the execution engine's endpoint."""

    def __init__(self, base_url: str, clock: LiveClock, cache: Cache) -> None:
        self.clock = clock
        self.cache = cache
        self.events: list[Any] = []
        msgbus = MessageBus(TRADER, clock)
        msgbus.register(endpoint="ExecEngine.process", handler=self.events.append)
        msgbus.register(endpoint="Portfolio.update_account", handler=lambda _: None)
        config = HyperliquidExecClientConfig(
            http_url=base_url,
            coins=("BTC",),
            dead_man_switch_secs=0,
            dead_man_switch_required=False,
            account_refresh_interval_secs=0,
        )
        self.client: HyperliquidExecutionClient = build_exec_client(
            asyncio.get_running_loop(), msgbus, cache, clock, config, private_key=KEY
        )
        self.factory = OrderFactory(TRADER, StrategyId("S-001"), clock)

    async def submit(self, order: Order) -> None:
        self.cache.add_order(order)
        command = SubmitOrder(
            trader_id=TRADER,
            strategy_id=order.strategy_id,
            order=order,
            command_id=UUID4(),
            ts_init=self.clock.timestamp_ns(),
        )
        await self.client._submit_order(command)

    def of(self, cls: type, order: Order) -> list[Any]:
        return [
            e
            for e in self.events
            if isinstance(e, cls) and getattr(e, "client_order_id", None) == order.client_order_id
        ]


def user_streams_subscribed(sim: SimServer) -> bool:
    """The venue serves one socket, subscribed to the account's two user streams."""
    connections = list(sim.venue.hub.connections.values())
    return len(connections) == 1 and len(connections[0].subs) == 2


def best(sim: SimServer, side: int) -> Decimal:
    """Best bid (0) or ask (1) of BTC at the venue."""
    book = sim.venue.info({"type": "l2Book", "coin": "BTC"})
    return Decimal(book["levels"][side][0]["px"])


def take(sim: SimServer, is_buy: bool, px: Decimal, sz: str) -> None:
    """An IOC of another account, straight into the venue (the loop is the simulator's)."""
    signer = HyperliquidSigner(TAKER_KEY, is_mainnet=False)
    order = {"a": 0, "b": is_buy, "p": str(px), "s": sz, "r": False, "t": {"limit": {"tif": "Ioc"}}}
    action = {"type": "order", "orders": [order], "grouping": "na"}
    nonce = time.time_ns() // 1_000_000
    body = {
        "action": action,
        "nonce": nonce,
        "signature": signer.sign_l1_action(action, nonce),
        "vaultAddress": None,
    }
    answer = sim.venue.exchange(body)
    assert "filled" in json.dumps(answer), answer


async def test_a_duplicated_fill_frame_and_a_resync_replay_give_exactly_one_order_filled() -> None:
    async with SimServer(SimConfig(coins=("BTC",), seed=9)) as sim:
        sim.fund(ADDRESS, 100_000)
        harness = Harness(sim.base_url, LiveClock(), Cache())
        client = harness.client
        await client._connect()
        instrument = harness.cache.instrument(BTC)
        assert instrument is not None
        order = harness.factory.limit(
            BTC,
            OrderSide.BUY,
            instrument.make_qty(Decimal("0.01")),
            instrument.make_price(best(sim, 1) * Decimal("1.01")),
            time_in_force=TimeInForce.IOC,
        )
        await harness.submit(order)
        await wait_for(lambda: bool(harness.of(OrderFilled, order)), 10, "the fill")
        fills = sim.venue.info({"type": "userFills", "user": ADDRESS})
        # The same fill frame again, as the stream may deliver it after a reconnect.
        frame = json.dumps({"channel": "user", "data": {"fills": fills}}).encode()
        client._on_frame(frame, 1, 0, "conn-2", "user")
        await client.resync()  # fetches every fill since the last one seen: a replay
        filled = harness.of(OrderFilled, order)
        duplicates = client.counters.duplicate_fills
        await client._disconnect()

    assert len(fills) >= 1
    assert len(filled) == len(fills)
    assert len({e.trade_id for e in filled}) == len(filled)
    assert sum(e.last_qty.as_decimal() for e in filled) == Decimal("0.01")
    assert duplicates >= 2 * len(fills)  # the frame and the replay were both offered


async def test_a_restarted_client_tracks_the_cached_open_order_and_applies_its_fill() -> None:
    async with SimServer(SimConfig(coins=("BTC",), seed=10)) as sim:
        sim.fund(ADDRESS, 100_000)
        sim.fund(address_from_private_key(TAKER_KEY), 100_000)
        clock = LiveClock()
        sim.venue.faults.apply(FaultKind.PAUSE_MARKET, {})  # only our orders move the book
        first = Harness(sim.base_url, clock, Cache())
        await first.client._connect()
        instrument = first.cache.instrument(BTC)
        assert instrument is not None
        px = best(sim, 0) + 1  # the best bid: the taker below reaches this order only
        assert px < best(sim, 1)
        order = first.factory.limit(
            BTC, OrderSide.BUY, instrument.make_qty(Decimal("0.01")), instrument.make_price(px)
        )
        await first.submit(order)
        await wait_for(lambda: bool(first.of(OrderAccepted, order)), 10, "the acceptance")
        await first.client._disconnect()
        # The restart: a new cache holding the order as the engine left it (what a
        # Redis-backed cache brings back), a new client.
        for event in first.of(OrderSubmitted, order) + first.of(OrderAccepted, order):
            order.apply(event)
        second = Harness(sim.base_url, clock, Cache())
        second.cache.add_order(order)
        await second.client._connect()
        tracked = second.client.tracked_orders.get(order.client_order_id)
        state = None if tracked is None else (tracked.state, tracked.oid)
        await wait_for(lambda: user_streams_subscribed(sim), 10, "the user streams subscribed")
        take(sim, False, px, "0.01")  # another account sells into the resting order
        await wait_for(lambda: bool(second.of(OrderFilled, order)), 10, "the fill after restart")
        filled = second.of(OrderFilled, order)
        externals = second.client.counters.external_fills
        await second.client._disconnect()

    assert state == (TrackingState.ACCEPTED, int(order.venue_order_id.value))
    assert [e.last_qty.as_decimal() for e in filled] == [Decimal("0.01")]
    assert filled[0].venue_order_id == order.venue_order_id
    assert externals == 0  # recognised as the node's own order, not an external one
