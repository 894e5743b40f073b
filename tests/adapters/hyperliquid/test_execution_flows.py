"""The execution client's flows directly against the simulator: fill handling, the restart
path, modify, cancels and reconciliation reports.

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
from nautilus_trader.execution.messages import CancelAllOrders
from nautilus_trader.execution.messages import CancelOrder
from nautilus_trader.execution.messages import GenerateFillReports
from nautilus_trader.execution.messages import GenerateOrderStatusReports
from nautilus_trader.execution.messages import GeneratePositionStatusReports
from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderSubmitted
from nautilus_trader.model.events import OrderUpdated
from nautilus_trader.model.identifiers import ClientOrderId
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


# --- modify, cancel, cancel all, reconciliation reports ------------------------------------------


async def started(sim: SimServer) -> Harness:
    """A connected client on a paused market (only these tests' orders move the book)."""
    sim.fund(ADDRESS, 100_000)
    sim.venue.faults.apply(FaultKind.PAUSE_MARKET, {})
    harness = Harness(sim.base_url, LiveClock(), Cache())
    await harness.client._connect()
    await wait_for(lambda: user_streams_subscribed(sim), 10, "the user streams subscribed")
    return harness


async def rest(harness: Harness, sim: SimServer, factor: str) -> Order:
    """A BUY resting at ``factor`` x the best bid, accepted."""
    instrument = harness.cache.instrument(BTC)
    assert instrument is not None
    px = (best(sim, 0) * Decimal(factor)).quantize(Decimal(1))
    order = harness.factory.limit(
        BTC, OrderSide.BUY, instrument.make_qty(Decimal("0.01")), instrument.make_price(px)
    )
    await harness.submit(order)
    await wait_for(lambda: bool(harness.of(OrderAccepted, order)), 10, "the acceptance")
    accepted = harness.of(OrderAccepted, order)[0]
    for event in [*harness.of(OrderSubmitted, order), accepted]:
        order.apply(event)  # as the engine would
    return order


def venue_open(sim: SimServer) -> dict[int, dict[str, Any]]:
    return {o["oid"]: o for o in sim.venue.info({"type": "openOrders", "user": ADDRESS})}


async def test_modify_binds_the_new_venue_oid_and_remembers_the_old_leg() -> None:
    async with SimServer(SimConfig(coins=("BTC",), seed=13)) as sim:
        harness = await started(sim)
        order = await rest(harness, sim, "0.95")
        old_oid = int(order.venue_order_id.value)
        new_px = harness.cache.instrument(BTC).make_price(  # type: ignore[union-attr]
            order.price.as_decimal() - 10
        )
        await harness.client._modify_order(
            ModifyOrder(
                trader_id=TRADER,
                strategy_id=order.strategy_id,
                instrument_id=BTC,
                client_order_id=order.client_order_id,
                venue_order_id=order.venue_order_id,
                quantity=None,
                price=new_px,
                trigger_price=None,
                command_id=UUID4(),
                ts_init=harness.clock.timestamp_ns(),
            )
        )
        await wait_for(lambda: bool(harness.of(OrderUpdated, order)), 10, "the update")
        (updated,) = harness.of(OrderUpdated, order)
        tracked = harness.client.tracked_orders.get(order.client_order_id)
        on_venue = venue_open(sim)
        await harness.client._disconnect()

    new_oid = int(updated.venue_order_id.value)
    assert new_oid != old_oid
    assert set(on_venue) == {new_oid}
    assert Decimal(on_venue[new_oid]["limitPx"]) == new_px.as_decimal() == updated.price
    assert tracked is not None and tracked.state == TrackingState.ACCEPTED
    assert tracked.oid == new_oid and old_oid in tracked.old_oids
    assert harness.of(OrderCanceled, order) == []  # the old leg's cancel is not the order's


async def test_cancel_and_cancel_all_end_every_order_including_one_placed_elsewhere() -> None:
    async with SimServer(SimConfig(coins=("BTC",), seed=14)) as sim:
        harness = await started(sim)
        first = await rest(harness, sim, "0.95")
        second = await rest(harness, sim, "0.94")
        outside = place_with_key(sim, KEY, (best(sim, 0) * Decimal("0.93")).quantize(Decimal(1)))
        await harness.client._cancel_order(
            CancelOrder(
                trader_id=TRADER,
                strategy_id=first.strategy_id,
                instrument_id=BTC,
                client_order_id=first.client_order_id,
                venue_order_id=first.venue_order_id,
                command_id=UUID4(),
                ts_init=harness.clock.timestamp_ns(),
            )
        )
        after_cancel = set(venue_open(sim))
        await harness.client._cancel_all_orders(
            CancelAllOrders(
                trader_id=TRADER,
                strategy_id=second.strategy_id,
                instrument_id=BTC,
                order_side=OrderSide.NO_ORDER_SIDE,
                command_id=UUID4(),
                ts_init=harness.clock.timestamp_ns(),
            )
        )
        after_all = venue_open(sim)
        states = [harness.client.tracked_orders.get(o.client_order_id) for o in (first, second)]
        await harness.client._disconnect()

    assert after_cancel == {int(second.venue_order_id.value), outside}
    assert after_all == {}
    assert len(harness.of(OrderCanceled, first)) == 1
    assert len(harness.of(OrderCanceled, second)) == 1
    assert all(t is not None and t.closed for t in states)


async def test_reconciliation_reports_name_own_orders_by_their_ids_and_others_hl_oid() -> None:
    async with SimServer(SimConfig(coins=("BTC",), seed=15)) as sim:
        harness = await started(sim)
        instrument = harness.cache.instrument(BTC)
        assert instrument is not None
        resting = await rest(harness, sim, "0.95")
        taker = harness.factory.limit(
            BTC,
            OrderSide.BUY,
            instrument.make_qty(Decimal("0.01")),
            instrument.make_price(best(sim, 1) * Decimal("1.01")),
            time_in_force=TimeInForce.IOC,
        )
        await harness.submit(taker)
        await wait_for(lambda: bool(harness.of(OrderFilled, taker)), 10, "the fill")
        outside = place_with_key(sim, KEY, (best(sim, 0) * Decimal("0.9")).quantize(Decimal(1)))
        now = harness.clock.timestamp_ns()
        client = harness.client
        orders = await client.generate_order_status_reports(
            GenerateOrderStatusReports(
                instrument_id=None,
                start=None,
                end=None,
                open_only=False,
                command_id=UUID4(),
                ts_init=now,
            )
        )
        fills = await client.generate_fill_reports(
            GenerateFillReports(
                instrument_id=None,
                venue_order_id=None,
                start=None,
                end=None,
                command_id=UUID4(),
                ts_init=now,
            )
        )
        positions = await client.generate_position_status_reports(
            GeneratePositionStatusReports(
                instrument_id=BTC, start=None, end=None, command_id=UUID4(), ts_init=now
            )
        )
        await client._disconnect()

    by_oid = {int(r.venue_order_id.value): r for r in orders}
    assert by_oid[int(resting.venue_order_id.value)].client_order_id == resting.client_order_id
    assert by_oid[outside].client_order_id == ClientOrderId(f"HL-{outside}")
    filled = [r for r in orders if r.client_order_id == taker.client_order_id]
    assert [r.order_status for r in filled] == [OrderStatus.FILLED]
    assert [f.client_order_id for f in fills] == [taker.client_order_id]
    assert [p.signed_decimal_qty for p in positions] == [Decimal("0.01")]


def place_with_key(sim: SimServer, key: str, px: Decimal) -> int:
    """A BUY resting at ``px`` placed outside the client (no cloid), straight into the venue."""
    signer = HyperliquidSigner(key, is_mainnet=False)
    limit = {"limit": {"tif": "Gtc"}}
    order = {"a": 0, "b": True, "p": str(px), "s": "0.01", "r": False, "t": limit}
    action = {"type": "order", "orders": [order], "grouping": "na"}
    nonce = time.time_ns() // 1_000_000 + 17  # clear of the client's own nonces
    body = {
        "action": action,
        "nonce": nonce,
        "signature": signer.sign_l1_action(action, nonce),
        "vaultAddress": None,
    }
    answer = sim.venue.exchange(body)
    (status,) = answer["response"]["data"]["statuses"]
    return int(status["resting"]["oid"])
