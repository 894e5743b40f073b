"""End-to-end: a TradingNode with the Hyperliquid data and execution clients against the simulator.

One node session (module fixture ``session``) drives every core flow in order and records what
the strategy saw and what the venue holds; each test asserts one behaviour on that record.
Truth comes from the simulator's engine (read on its loop thread) or from what the harness asked
for, never from the client under test. The node logs to a file that the tests scan (the signing
key must never appear in it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderEvent
from nautilus_trader.model.events import OrderModifyRejected
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.events import OrderUpdated
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import Order

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
from adapters.hyperliquid.numbers import cloid_from_client_order_id
from adapters.hyperliquid.numbers import to_wire
from adapters.hyperliquid.schemas.exchange import LimitOrderType
from adapters.hyperliquid.schemas.exchange import OrderAction
from adapters.hyperliquid.schemas.exchange import OrderTypeWire
from adapters.hyperliquid.schemas.exchange import OrderWire
from adapters.hyperliquid.schemas.exchange import action_to_wire
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
from jarvis.testkit import read_logs
from jarvis.testkit import run_node
from jarvis.testkit import sim_admin_async
from jarvis.testkit import sim_node_config
from jarvis.testkit import venue_info
from jarvis.testkit import venue_open_orders
from jarvis.testkit import venue_position
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread
from simulator.latency import latency_profile

KEY = "0x" + "5a" * 32
KEY_ENV = "JARVIS_TEST_HL_KEY"
ADDRESS = address_from_private_key(KEY)
TAKER_KEY = "0x" + "6b" * 32
BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
ETH = InstrumentId.from_str("ETH-USD-PERP.HYPERLIQUID")


# --- harness ---------------------------------------------------------------------------------


def post_outside_order(base_url: str, key: str, wire: OrderWire) -> Any:
    """Place an order from outside the node (another process with the same or another key)."""
    action = action_to_wire(OrderAction(orders=[wire], grouping="na"))
    return post_signed_action(base_url, key, action)


def build_node(base_url: str, log_dir: Path) -> tuple[TradingNode, Driver]:
    """A node with the Hyperliquid data and execution clients and a `Driver` strategy."""
    config = sim_node_config(
        data_client_config(
            base_url,
            ("BTC", "ETH"),
            health=HyperliquidFeedHealthConfig(gate_enabled=False, loosen=("gate_enabled",)),
        ),
        # Short timers; the key from the environment.
        exec_client=HyperliquidExecClientConfig(
            http_url=base_url,
            coins=("BTC", "ETH"),
            private_key_env=KEY_ENV,
            leverage={"BTC": 10},
            account_refresh_interval_secs=1.0,
            inflight_timeout_secs=1.0,
            watchdog_interval_secs=0.5,
            dead_man_switch_secs=0.0,
            dead_man_switch_required=False,
            reconnect_initial_backoff_secs=0.1,
            reconnect_max_backoff_secs=0.5,
            http_timeout_secs=2.0,
        ),
        logging=file_logging(log_dir, "session", level_file="DEBUG"),
        exec_engine=LiveExecEngineConfig(
            reconciliation=True,
            reconciliation_startup_delay_secs=0.5,
            inflight_check_threshold_ms=60_000,
        ),
    )
    node = build_sim_node(config)
    driver = Driver(DriverConfig(strategy_id="DRIVER-001", instrument_id=BTC))
    node.trader.add_strategy(driver)
    return node, driver


# --- the main session ------------------------------------------------------------------------


@dataclass
class Session:
    """Everything the main-session tests assert on."""

    orders: dict[str, Order] = field(default_factory=dict)
    events: list[OrderEvent] = field(default_factory=list)
    venue: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    log_text: str = ""
    driver: Driver | None = None


@pytest.fixture(scope="module")
def key_in_env() -> Iterator[None]:
    """The signing key in the environment, as in production (never in a config)."""
    with pytest.MonkeyPatch.context() as patch, fresh_rate_limiter():
        patch.setenv(KEY_ENV, KEY)
        yield


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, key_in_env: None) -> Iterator[Session]:
    """Run the main scenario once (module notes)."""
    log_dir = tmp_path_factory.mktemp("exec_node_logs")
    result = Session()
    # The order races (fill vs modify, cancel vs modify, resync) run at mainnet-like latency.
    sim_config = SimConfig(coins=("BTC", "ETH"), seed=5, latency=latency_profile("mainnet-like"))
    with SimThread(sim_config) as sim:
        fund_test_account(sim, ADDRESS, 1_000_000)
        sim.fund(address_from_private_key(TAKER_KEY), 1_000_000)
        node, driver = build_node(sim.base_url, log_dir)
        result.driver = driver
        cache = node.kernel.cache
        base_url = sim.base_url
        loop = node.get_event_loop()
        assert loop is not None

        async def call_admin(path: str, body: dict[str, Any] | None = None) -> Any:
            answer = await sim_admin_async(base_url, path, body)
            if path == "fault/clear":  # clearing resumes the market: keep it paused
                await sim_admin_async(base_url, "fault/pause-market")
            return answer

        async def scenario() -> None:
            client = hyperliquid_exec_client(node)
            inst = cache.instrument(BTC)
            assert inst is not None
            qty = inst.make_qty(Decimal("0.01"))
            factory = driver.order_factory

            def quote() -> tuple[Decimal, Decimal]:
                tick = cache.quote_tick(BTC)
                assert tick is not None
                return tick.bid_price.as_decimal(), tick.ask_price.as_decimal()

            def price(value: Decimal) -> Any:
                return inst.make_price(value.quantize(Decimal(1)))

            def submit(key: str, order: Order) -> Order:
                result.orders[key] = order
                driver.submit_order(order)
                return order

            async def settled(*orders: Order, timeout: float = 5.0) -> None:
                await wait_for(
                    lambda: all(
                        o.status not in (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED)
                        and o.status != OrderStatus.PENDING_UPDATE
                        for o in orders
                    ),
                    timeout,
                    f"{[o.client_order_id.value for o in orders]} to settle",
                )

            await call_admin("fault/pause-market")  # only our orders move the book from here
            bid, ask = quote()
            # 1) Every order type.
            resting = submit(
                "limit_gtc", factory.limit(BTC, OrderSide.BUY, qty, price(bid * Decimal("0.97")))
            )
            market = submit("market", factory.market(BTC, OrderSide.BUY, qty))
            ioc = submit(
                "limit_ioc",
                factory.limit(
                    BTC,
                    OrderSide.BUY,
                    qty,
                    price(ask * Decimal("1.002")),
                    time_in_force=TimeInForce.IOC,
                ),
            )
            await settled(resting, market, ioc)
            await wait_for(lambda: market.is_closed and ioc.is_closed, 5, "market fills")
            bid, ask = quote()
            stop_market = submit(
                "stop_market",
                factory.stop_market(
                    BTC,
                    OrderSide.SELL,
                    qty,
                    price(bid * Decimal("0.9")),
                    trigger_type=TriggerType.MARK_PRICE,
                ),
            )
            stop_limit = submit(
                "stop_limit",
                factory.stop_limit(
                    BTC,
                    OrderSide.SELL,
                    qty,
                    price(bid * Decimal("0.89")),
                    price(bid * Decimal("0.9")),
                ),
            )
            mit = submit(
                "mit",
                factory.market_if_touched(BTC, OrderSide.SELL, qty, price(ask * Decimal("1.1"))),
            )
            lit = submit(
                "lit",
                factory.limit_if_touched(
                    BTC,
                    OrderSide.SELL,
                    qty,
                    price(ask * Decimal("1.11")),
                    price(ask * Decimal("1.1")),
                ),
            )
            post_only_ok = submit(
                "post_only_ok",
                factory.limit(
                    BTC, OrderSide.SELL, qty, price(ask * Decimal("1.05")), post_only=True
                ),
            )
            await settled(stop_market, stop_limit, mit, lit, post_only_ok)
            # 2) Denials (no request) and venue rejections (with the venue's text).
            submit(
                "fok",
                factory.limit(
                    BTC,
                    OrderSide.BUY,
                    qty,
                    price(bid * Decimal("0.9")),
                    time_in_force=TimeInForce.FOK,
                ),
            )
            submit(
                "tiny",
                factory.limit(
                    BTC,
                    OrderSide.BUY,
                    inst.make_qty(Decimal("0.0001")),
                    price(bid * Decimal("0.9")),
                ),
            )
            bid, ask = quote()
            rejects = [
                submit(
                    "post_only_cross",
                    factory.limit(
                        BTC, OrderSide.BUY, qty, price(ask * Decimal("1.001")), post_only=True
                    ),
                ),
                submit(
                    "reduce_only",
                    factory.limit(
                        BTC, OrderSide.BUY, qty, price(bid * Decimal("0.95")), reduce_only=True
                    ),
                ),
                submit(
                    "ioc_no_match",
                    factory.limit(
                        BTC,
                        OrderSide.BUY,
                        qty,
                        price(bid * Decimal("0.95")),
                        time_in_force=TimeInForce.IOC,
                    ),
                ),
                submit(
                    "no_margin",
                    factory.limit(
                        BTC,
                        OrderSide.BUY,
                        inst.make_qty(Decimal("500")),
                        price(bid * Decimal("0.95")),
                    ),
                ),
            ]
            await settled(*rejects)
            # 3) Rate limited: the venue answers 429 once.
            await call_admin("fault/http-error", {"status": 429, "path": "exchange", "count": 1})
            limited = submit(
                "rate_limited", factory.limit(BTC, OrderSide.BUY, qty, price(bid * Decimal("0.9")))
            )
            await settled(limited)
            result.notes["limiter_429"] = client.http_client.limiter.metrics.rate_limited
            limiter = client.http_client.limiter
            await wait_for(  # the 429 pause is over once a request went through again
                lambda: limiter.metrics.backoff_secs == 0.0, 10, "the 429 backoff to pass"
            )
            # 4) Transport failures: a 500 (not applied) and a lost answer (applied).
            await call_admin("fault/http-error", {"status": 500, "path": "exchange", "count": 1})
            lost_500 = submit(
                "lost_500", factory.limit(BTC, OrderSide.BUY, qty, price(bid * Decimal("0.9")))
            )
            await settled(lost_500, timeout=8)
            await call_admin("fault/delay", {"ms": 2_500, "target": "http"})
            slow = submit(
                "slow_answer", factory.limit(BTC, OrderSide.BUY, qty, price(bid * Decimal("0.9")))
            )
            slow_cloid = cloid_from_client_order_id(slow.client_order_id)
            await wait_for(  # the venue placed it: its answer is now held by the delay
                lambda: (
                    venue_info(sim, {"type": "orderStatus", "user": ADDRESS, "oid": slow_cloid})[
                        "status"
                    ]
                    == "order"
                ),
                10,
                "the slow order at the venue",
            )
            await call_admin("fault/clear")
            await settled(slow, timeout=10)
            # 5) Order lists: bracket (normalTpsl), position TP/SL pair (positionTpsl), plain (na).
            bid, ask = quote()
            bracket = factory.bracket(
                BTC,
                OrderSide.BUY,
                qty,
                entry_order_type=OrderType.MARKET,
                sl_trigger_price=price(bid * Decimal("0.9")),
                tp_price=price(ask * Decimal("1.1")),
            )
            for i, order in enumerate(bracket.orders):
                result.orders[f"bracket_{i}"] = order
            driver.submit_order_list(bracket)
            entry = bracket.orders[0]
            await wait_for(lambda: entry.is_closed, 5, "the bracket entry to fill")
            await settled(*bracket.orders[1:], timeout=5)
            plain = factory.create_list(
                [
                    factory.limit(BTC, OrderSide.BUY, qty, price(bid * Decimal("0.96"))),
                    factory.limit(BTC, OrderSide.SELL, qty, price(ask * Decimal("1.04"))),
                ]
            )
            for i, order in enumerate(plain.orders):
                result.orders[f"plain_{i}"] = order
            driver.submit_order_list(plain)
            await settled(*plain.orders)
            result.venue["after_lists"] = venue_open_orders(sim, ADDRESS)
            # 6) Modify: price of a resting order; modify while partly filled; after a fill;
            #    cancel during a modify.
            bid, ask = quote()
            driver.modify_order(resting, price=price(bid * Decimal("0.96")))
            await wait_for(lambda: bool(driver.events_of(resting, OrderUpdated)), 5, "update")
            result.notes["resting_oid_after_modify"] = resting.venue_order_id.value
            result.venue["after_modify"] = venue_open_orders(sim, ADDRESS)
            levels = venue_info(sim, {"type": "l2Book", "coin": "BTC"})["levels"]
            inside = Decimal(levels[0][0]["px"]) + 1
            assert inside < Decimal(levels[1][0]["px"]), "no room inside the spread"
            partial = submit("partial", factory.limit(BTC, OrderSide.BUY, qty, price(inside)))
            await settled(partial)
            seller = OrderWire(
                a=0,
                b=False,
                p=to_wire(inside),
                s="0.004",
                r=False,
                t=OrderTypeWire(limit=LimitOrderType(tif="Ioc")),
            )
            answer = await loop.run_in_executor(
                None, post_outside_order, base_url, TAKER_KEY, seller
            )
            assert "filled" in json.dumps(answer), answer
            await wait_for(lambda: partial.filled_qty.as_decimal() > 0, 5, "a partial fill")
            result.notes["partial_filled_before"] = partial.filled_qty.as_decimal()
            driver.modify_order(partial, price=price(bid * Decimal("0.95")))
            await wait_for(lambda: bool(driver.events_of(partial, OrderUpdated)), 5, "update 2")
            await settled(partial)
            result.venue["partial_open"] = [
                o
                for o in venue_open_orders(sim, ADDRESS)
                if o["oid"] == int(partial.venue_order_id.value)
            ]
            bid, ask = quote()
            levels = venue_info(sim, {"type": "l2Book", "coin": "BTC"})["levels"]
            inside = Decimal(levels[0][0]["px"]) + 1
            just_filled = submit(
                "just_filled", factory.limit(BTC, OrderSide.BUY, qty, price(inside))
            )
            await settled(just_filled)
            # The venue fills it while the stream lags; the node modifies the order it
            # still believes open.
            await call_admin("fault/stall", {"channel": "user"})
            await call_admin("fault/stall", {"channel": "orderUpdates"})
            seller = OrderWire(
                a=0,
                b=False,
                p=to_wire(inside),
                s="0.01",
                r=False,
                t=OrderTypeWire(limit=LimitOrderType(tif="Ioc")),
            )
            await loop.run_in_executor(None, post_outside_order, base_url, TAKER_KEY, seller)
            driver.modify_order(just_filled, price=price(bid * Decimal("0.9")))
            await wait_for(
                lambda: bool(driver.events_of(just_filled, OrderModifyRejected)),
                5,
                "the modify of a filled order to be rejected",
            )
            await call_admin("fault/clear")
            await wait_for(lambda: just_filled.is_closed, 5, "the fill behind the rejection")
            racing = submit(
                "racing", factory.limit(BTC, OrderSide.BUY, qty, price(bid * Decimal("0.95")))
            )
            await settled(racing)
            driver.modify_order(racing, price=price(bid * Decimal("0.94")))
            driver.cancel_order(racing)
            await wait_for(lambda: racing.is_closed, 5, "the racing cancel")
            racing_query = {
                "type": "orderStatus",
                "user": ADDRESS,
                "oid": cloid_from_client_order_id(racing.client_order_id),
            }
            await wait_for(  # both legs of the modify/cancel race have ended at the venue
                lambda: venue_info(sim, racing_query)["order"]["status"] != "open",
                5,
                "the racing order final at the venue",
            )
            result.venue["racing"] = venue_info(sim, racing_query)
            # 7) A fill whose stream message is dropped: recovered from the venue.
            await call_admin("fault/skip", {"channel": "user", "count": 1})
            dropped = submit(
                "dropped_fill",
                factory.limit(BTC, OrderSide.BUY, qty, price(ask * Decimal("1.002"))),
            )
            await wait_for(lambda: dropped.is_closed, 8, "the dropped fill to be recovered")
            result.notes["dropped_fill_counters"] = client.counters.resync_fills
            # 8) Reconnect resync: the streams miss a fill of a resting order, then reconnect.
            bid, ask = quote()
            target = submit("resync", factory.limit(BTC, OrderSide.SELL, qty, price(ask)))
            await settled(target)
            await call_admin("fault/stall", {"channel": "user"})
            await call_admin("fault/stall", {"channel": "orderUpdates"})
            best_ask = venue_info(sim, {"type": "l2Book", "coin": "BTC"})["levels"][1][0]
            taker = OrderWire(
                a=0,
                b=True,
                p=to_wire(Decimal(best_ask["px"])),
                s=best_ask["sz"],
                r=False,
                t=OrderTypeWire(limit=LimitOrderType(tif="Ioc")),
            )
            result.notes["taker"] = await loop.run_in_executor(
                None, post_outside_order, base_url, TAKER_KEY, taker
            )
            resync_fills = client.counters.resync_fills
            resyncs = client.counters.resyncs
            await call_admin("fault/clear")
            await call_admin("fault/drop-ws")
            await wait_for(lambda: client.counters.resyncs > resyncs, 10, "a resync")
            await wait_for(lambda: target.is_closed, 5, "the missed fill")
            result.notes["resync_fills_gained"] = client.counters.resync_fills - resync_fills
            # 9) Cancel all, including an order placed outside this node.
            bid, ask = quote()
            outside = OrderWire(
                a=0,
                b=True,
                p=str(int(bid * Decimal("0.9"))),
                s="0.01",
                r=False,
                t=OrderTypeWire(limit=LimitOrderType(tif="Gtc")),
            )
            result.notes["outside"] = await loop.run_in_executor(
                None, post_outside_order, base_url, KEY, outside
            )
            result.venue["before_cancel_all"] = venue_open_orders(sim, ADDRESS)
            driver.cancel_all_orders(BTC)
            await wait_for(
                lambda: not [o for o in venue_open_orders(sim, ADDRESS) if o["coin"] == "BTC"],
                5,
                "no BTC orders on the venue",
            )
            cancelled_keys = ("stop_market", "mit", "post_only_ok", "limit_gtc")
            await wait_for(
                lambda: all(result.orders[k].is_closed for k in cancelled_keys),
                5,
                "the cancelled orders closed in the cache",
            )
            result.venue["after_cancel_all"] = venue_open_orders(sim, ADDRESS)
            result.venue["position_btc"] = venue_position(sim, ADDRESS, "BTC")
            result.notes["counters"] = client.counters
            cloids = {
                cloid_from_client_order_id(o.client_order_id)
                for o in cache.orders()
                if not o.client_order_id.value.startswith("HL-")
            }
            result.venue["own_fills"] = [
                f
                for f in venue_info(sim, {"type": "userFills", "user": ADDRESS})
                if f.get("cloid") in cloids
            ]
            result.notes["account"] = cache.account_for_venue(BTC.venue)
            result.notes["positions"] = cache.positions_open(instrument_id=BTC)

        run_node(node, scenario, quotes_of=BTC, stop_grace_secs=0.1)
        result.events = list(driver.events)
    # NautilusTrader's logger is process-wide: the first node of the pytest process decides
    # where every later node logs, so scan every node log under the pytest base directory.
    result.log_text = read_logs(tmp_path_factory.getbasetemp(), "*.log")
    yield result


# --- main-session tests ----------------------------------------------------------------------


def _reason(session: Session, key: str) -> str:
    order = session.orders[key]
    rejected = [e for e in session.events if e.client_order_id == order.client_order_id]
    reasons = [e.reason for e in rejected if isinstance(e, (OrderRejected, OrderDenied))]
    assert reasons, f"{key}: no rejection or denial among {rejected}"
    return str(reasons[-1])


def test_resting_limit_is_accepted_with_the_venue_oid(session: Session) -> None:
    order = session.orders["limit_gtc"]
    venue = {o["oid"] for o in session.venue["after_modify"]}
    assert order.venue_order_id is not None
    assert int(session.notes["resting_oid_after_modify"]) in venue


def test_market_and_ioc_orders_fill_with_fees(session: Session) -> None:
    for key in ("market", "limit_ioc"):
        order = session.orders[key]
        assert order.status == OrderStatus.FILLED, key
        assert order.filled_qty == order.quantity
        fills = [e for e in session.events if e.client_order_id == order.client_order_id]
        commissions = [e.commission.as_decimal() for e in fills if hasattr(e, "commission")]
        assert commissions and all(c > 0 for c in commissions), key


def test_trigger_and_post_only_orders_rest_on_the_venue(session: Session) -> None:
    for key in ("stop_market", "stop_limit", "mit", "lit", "post_only_ok"):
        order = session.orders[key]
        assert order.venue_order_id is not None, key
        assert order.status in (OrderStatus.ACCEPTED, OrderStatus.CANCELED), key


def test_unsupported_orders_are_denied_with_advice(session: Session) -> None:
    assert session.orders["fok"].status == OrderStatus.DENIED
    assert "use IOC" in _reason(session, "fok")
    assert session.orders["tiny"].status == OrderStatus.DENIED
    assert _reason(session, "tiny").startswith("MIN_VALUE: Order must have minimum value of $10.")


@pytest.mark.parametrize(
    ("key", "code", "venue_text"),
    [
        ("post_only_cross", "POST_ONLY_WOULD_CROSS", "Post only order would have immediately"),
        ("reduce_only", "REDUCE_ONLY", "Reduce only order would increase position."),
        ("ioc_no_match", "IOC_NO_MATCH", "Order could not immediately match"),
        ("no_margin", "INSUFFICIENT_MARGIN", "Insufficient margin to place order."),
        ("rate_limited", "RATE_LIMITED", "429"),
    ],
)
def test_each_rejection_carries_the_code_and_the_venue_text(
    session: Session, key: str, code: str, venue_text: str
) -> None:
    assert session.orders[key].status == OrderStatus.REJECTED
    reason = _reason(session, key)
    assert reason.startswith(f"{code}: ")
    assert venue_text in reason


def test_post_only_rejection_is_flagged_as_post_only(session: Session) -> None:
    order = session.orders["post_only_cross"]
    (event,) = [
        e
        for e in session.events
        if isinstance(e, OrderRejected) and e.client_order_id == order.client_order_id
    ]
    assert event.due_post_only


def test_a_429_is_counted_by_the_shared_limiter(session: Session) -> None:
    assert session.notes["limiter_429"] >= 1


def test_transport_failure_is_resolved_by_asking_the_venue(session: Session) -> None:
    lost = session.orders["lost_500"]
    assert lost.status == OrderStatus.REJECTED
    assert _reason(session, "lost_500").startswith("TRANSPORT")
    slow = session.orders["slow_answer"]
    assert slow.status in (OrderStatus.ACCEPTED, OrderStatus.CANCELED)
    assert slow.venue_order_id is not None
    assert session.notes["counters"].transport_failures >= 2


def test_bracket_entry_fills_and_its_take_profit_and_stop_loss_go_live(session: Session) -> None:
    entry, *children = (session.orders[f"bracket_{i}"] for i in range(3))
    assert entry.status == OrderStatus.FILLED
    for child in children:
        assert child.venue_order_id is not None
        assert child.status in (OrderStatus.ACCEPTED, OrderStatus.CANCELED)


def test_plain_order_list_is_sent_as_independent_orders(session: Session) -> None:
    oids = {o["oid"] for o in session.venue["after_lists"]}
    for key in ("plain_0", "plain_1"):
        order = session.orders[key]
        assert order.venue_order_id is not None
        assert int(order.venue_order_id.value) in oids


def test_modify_tracks_the_new_venue_oid(session: Session) -> None:
    order = session.orders["limit_gtc"]
    (updated,) = [
        e
        for e in session.events
        if isinstance(e, OrderUpdated) and e.client_order_id == order.client_order_id
    ]
    assert updated.venue_order_id.value == session.notes["resting_oid_after_modify"]
    venue = {o["oid"]: o for o in session.venue["after_modify"]}
    assert Decimal(venue[int(updated.venue_order_id.value)]["limitPx"]) == updated.price


def test_modify_while_partly_filled_keeps_the_fills_and_rests_the_remainder(
    session: Session,
) -> None:
    order = session.orders["partial"]
    filled = session.notes["partial_filled_before"]
    assert 0 < filled < order.quantity.as_decimal()
    (venue_order,) = session.venue["partial_open"]
    assert Decimal(venue_order["sz"]) == order.quantity.as_decimal() - filled
    assert order.filled_qty.as_decimal() == filled


def test_modify_of_an_order_that_just_filled_is_rejected_and_it_stays_filled(
    session: Session,
) -> None:
    order = session.orders["just_filled"]
    assert order.status == OrderStatus.FILLED
    rejected = [
        e
        for e in session.events
        if isinstance(e, OrderModifyRejected) and e.client_order_id == order.client_order_id
    ]
    assert rejected and "Cannot modify canceled or filled order" in rejected[0].reason


def test_cancel_during_modify_leaves_nothing_open(session: Session) -> None:
    order = session.orders["racing"]
    assert order.status == OrderStatus.CANCELED
    venue = session.venue["racing"]
    assert venue["status"] == "order"
    assert venue["order"]["status"] == "canceled"


def test_a_dropped_fill_message_is_recovered_from_the_venue(session: Session) -> None:
    order = session.orders["dropped_fill"]
    assert order.status == OrderStatus.FILLED
    assert session.notes["dropped_fill_counters"] >= 1


def test_reconnect_resync_emits_the_missed_fill(session: Session) -> None:
    order = session.orders["resync"]
    assert session.notes["resync_fills_gained"] >= 1  # applied by the resync, not the stream
    assert order.status == OrderStatus.FILLED
    assert session.notes["counters"].resyncs >= 1


def test_cancel_all_cancels_orders_placed_outside_the_node(session: Session) -> None:
    outside = session.notes["outside"]["response"]["data"]["statuses"][0]["resting"]["oid"]
    assert outside in {o["oid"] for o in session.venue["before_cancel_all"]}
    assert not [o for o in session.venue["after_cancel_all"] if o["coin"] == "BTC"]
    for key in ("stop_market", "mit", "post_only_ok", "limit_gtc"):
        assert session.orders[key].status == OrderStatus.CANCELED, key


def test_position_and_account_match_the_venue(session: Session) -> None:
    positions = session.notes["positions"]
    net = sum((p.signed_decimal_qty() for p in positions), Decimal(0))
    assert net == session.venue["position_btc"]
    account = session.notes["account"]
    assert account is not None
    assert account.balance_total().as_decimal() > 0


def test_fills_are_never_applied_twice(session: Session) -> None:
    # The adapter's own count of the OrderFilled events it emitted (before NautilusTrader's
    # de-duplication could hide one) equals the venue's fills of the node's orders, although
    # the session offered fills twice (the dropped-fill lookup and the reconnect resync
    # replay fills already applied).
    counters = session.notes["counters"]
    own_fills = session.venue["own_fills"]
    assert own_fills
    assert counters.duplicate_fills >= 1
    assert counters.fills == len(own_fills)
    trade_ids = [e.trade_id for e in session.events if hasattr(e, "trade_id")]
    assert len(trade_ids) == len(set(trade_ids)) == len(own_fills)


def test_the_signing_key_never_reaches_the_log(session: Session) -> None:
    # The execution client's own warnings (rejections, lookups) are in the scanned log.
    assert "ExecClient-HYPERLIQUID" in session.log_text
    assert KEY[2:] not in session.log_text.lower()
