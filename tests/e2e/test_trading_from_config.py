"""End to end: a trading node built FROM config/sim_trading.toml against the simulator.

The shipped file is read as a user runs it (``jarvis node --config config/sim_trading.toml``):
the signing key comes from the environment variable the file names, the execution client's
factory is named by path (NautilusTrader 1.231's builder cannot use such a factory without
``jarvis.node.register_exec_client_factories``). Only the port (a free one) and the log file are
adjusted. One session (module fixture) connects, reconciles, rests a limit, fills a market order,
has a limit refused as too far from the oracle, puts a reduce-only OCO take-profit / stop-loss
pair on the position (the venue's positionTpsl), moves the oracle through the stop, and stops;
each test checks one promise on what it recorded. Truth comes from the simulator's engine, read on
its thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.enums import ContingencyType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.orders import LimitOrder
from nautilus_trader.model.orders import Order
from nautilus_trader.model.orders import StopMarketOrder

from adapters.hyperliquid.rejections import HyperliquidRejectReason
from adapters.hyperliquid.signing import address_from_private_key
from config.loading import CONFIG_DIR
from config.loading import ConfigError
from config.loading import LoadedNodeConfig
from jarvis.node import NodeOverrides
from jarvis.node import build_node
from jarvis.node import load_for_run
from jarvis.testkit import Driver
from jarvis.testkit import DriverConfig
from jarvis.testkit import file_logging
from jarvis.testkit import fresh_rate_limiter
from jarvis.testkit import fund_test_account
from jarvis.testkit import new_event_loop
from jarvis.testkit import read_logs
from jarvis.testkit import replace_node
from jarvis.testkit import run_node
from jarvis.testkit import sim_admin_async
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread

SIM_TRADING_TOML = CONFIG_DIR / "sim_trading.toml"
KEY_ENV = "HYPERLIQUID_SIM_PRIVATE_KEY"  # the variable the file names
KEY = "0x" + "7c" * 32
ADDRESS = address_from_private_key(KEY).lower()
BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
FUNDED_USDC = 1_000_000


def _loaded(base_url: str, log_dir: Path) -> LoadedNodeConfig:
    """The shipped file, pointed at the simulator's port and logging to a file."""
    loaded = load_for_run(SIM_TRADING_TOML, NodeOverrides(http_url=base_url))
    return replace_node(loaded, logging=file_logging(log_dir, level_file="DEBUG"))


@dataclass
class Session:
    """What the session saw."""

    orders: dict[str, Order] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    venue: dict[str, Any] = field(default_factory=dict)
    log_text: str = ""
    stopped_cleanly: bool = False


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """Run the trading session once (module notes)."""
    log_dir = tmp_path_factory.mktemp("sim_trading_logs")
    result = Session()
    with (
        pytest.MonkeyPatch.context() as patch,
        fresh_rate_limiter(),
        SimThread(SimConfig(seed=9)) as sim,
    ):
        patch.setenv(KEY_ENV, KEY)
        fund_test_account(sim, ADDRESS, FUNDED_USDC)
        engine = sim.server.venue.engine  # type: ignore[union-attr]
        node = build_node(_loaded(sim.base_url, log_dir), new_event_loop())
        driver = Driver(DriverConfig(strategy_id="DRIVER-001", instrument_id=BTC))
        node.trader.add_strategy(driver)
        cache = node.kernel.cache

        async def scenario() -> None:
            # The feed-health gate holds REDUCING until the needed streams are healthy.
            await wait_for(
                lambda: node.kernel.risk_engine.trading_state == TradingState.ACTIVE,
                15,
                "trading ACTIVE",
            )
            account = cache.account_for_venue(Venue("HYPERLIQUID"))
            result.notes["account_balance"] = (
                None if account is None else account.balance_total().as_decimal()
            )
            result.venue["leverage"] = sim.call(lambda: dict(engine.accounts[ADDRESS].leverage))
            instrument = cache.instrument(BTC)
            assert instrument is not None
            factory = driver.order_factory
            qty = instrument.make_qty(Decimal("0.01"))
            tick = cache.quote_tick(BTC)
            assert tick is not None
            bid = tick.bid_price.as_decimal()
            resting = factory.limit(
                BTC, OrderSide.BUY, qty, instrument.make_price(bid * Decimal("0.97"))
            )
            market = factory.market(BTC, OrderSide.BUY, qty)
            result.orders.update(resting=resting, market=market)
            driver.submit_order(resting)
            driver.submit_order(market)
            await wait_for(
                lambda: resting.status == OrderStatus.ACCEPTED and market.is_closed,
                10,
                "the limit to rest and the market order to fill",
            )
            result.venue["open_orders"] = sim.call(lambda: engine.open_orders_of(ADDRESS))
            result.notes["statuses"] = (resting.status, market.status)
            position = cache.positions_open(instrument_id=BTC)
            result.notes["position_qty"] = (
                position[0].signed_decimal_qty() if position else Decimal(0)
            )
            # A limit priced 90% under the oracle: the venue's "too far from oracle" rejection.
            far = factory.limit(
                BTC, OrderSide.BUY, qty, instrument.make_price(bid * Decimal("0.1"))
            )
            result.orders["far_from_oracle"] = far
            driver.submit_order(far)
            await wait_for(lambda: far.status == OrderStatus.REJECTED, 5, "the rejection")
            result.notes["far_events"] = driver.events_of(far)
            # Only our orders move the book from here (the stop fires on a mark we set).
            await sim_admin_async(sim.base_url, "fault/pause-market")
            driver.cancel_order(resting)
            await wait_for(lambda: resting.status == OrderStatus.CANCELED, 5, "the cancel")
            # A reduce-only OCO take-profit / stop-loss pair on the position -> positionTpsl.
            tick = cache.quote_tick(BTC)
            assert tick is not None
            bid, ask = tick.bid_price.as_decimal(), tick.ask_price.as_decimal()
            tp_id = ClientOrderId("O-OCO-TP")
            sl_id = ClientOrderId("O-OCO-SL")
            # (OrderFactory's helpers take no contingency: build the pair as NautilusTrader
            # documents OCO orders, each naming the other.)
            common: dict[str, Any] = {
                "trader_id": factory.trader_id,
                "strategy_id": factory.strategy_id,
                "instrument_id": BTC,
                "order_side": OrderSide.SELL,
                "quantity": qty,
                "init_id": UUID4(),
                "ts_init": node.kernel.clock.timestamp_ns(),
                "reduce_only": True,
                "contingency_type": ContingencyType.OCO,
            }
            take = LimitOrder(
                client_order_id=tp_id,
                price=instrument.make_price(ask * Decimal("1.05")),
                linked_order_ids=[sl_id],
                **common,
            )
            stop = StopMarketOrder(
                client_order_id=sl_id,
                trigger_price=instrument.make_price(bid * Decimal("0.95")),
                trigger_type=TriggerType.MARK_PRICE,
                linked_order_ids=[tp_id],
                **{**common, "init_id": UUID4()},
            )
            result.orders.update(oco_tp=take, oco_sl=stop)
            driver.submit_order_list(factory.create_list([take, stop]))
            await wait_for(
                lambda: take.status == OrderStatus.ACCEPTED and stop.status == OrderStatus.ACCEPTED,
                5,
                "the OCO pair to rest",
            )
            result.venue["oco_resting"] = sim.call(
                lambda: engine.info({"type": "frontendOpenOrders", "user": ADDRESS}, 0)
            )
            # The mark falls through the stop: the stop fires, the take-profit goes, flat.
            crash = float(bid * Decimal("0.9"))
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, sim.set_oracle, "BTC", crash)
            await loop.run_in_executor(None, sim.set_oracle, "BTC", crash)
            await wait_for(
                lambda: stop.is_closed and take.is_closed and not cache.positions_open(),
                10,
                "the stop to fire, the take-profit to go and the position to close",
            )
            await wait_for(  # the venue agrees: nothing of the pair rests, BTC is flat
                lambda: (
                    not sim.call(lambda: engine.open_orders_of(ADDRESS))
                    and all(
                        Decimal(p["position"]["szi"]) == 0
                        for p in sim.call(
                            lambda: engine.info({"type": "clearinghouseState", "user": ADDRESS}, 0)
                        )["assetPositions"]
                    )
                ),
                10,
                "the venue flat with no resting order",
            )
            result.venue["oco_after"] = sim.call(lambda: engine.open_orders_of(ADDRESS))
            result.venue["btc_position"] = sim.call(
                lambda: engine.info({"type": "clearinghouseState", "user": ADDRESS}, 0)
            )["assetPositions"]
            result.notes["positions_open"] = cache.positions_open(instrument_id=BTC)
            result.notes["positions_closed"] = cache.positions_closed(instrument_id=BTC)

        def stopped() -> None:
            result.stopped_cleanly = not node.kernel.trader.is_running

        run_node(node, scenario, quotes_of=BTC, after_stop=stopped)
    result.log_text = read_logs(log_dir)
    yield result


def test_node_from_the_file_connects_and_reconciles_the_funded_account(session: Session) -> None:
    assert session.notes["account_balance"] == Decimal(FUNDED_USDC)
    assert "Reconciling ExecutionMassStatus for HYPERLIQUID" in session.log_text
    assert "Reconciliation for HYPERLIQUID succeeded" in session.log_text


def test_leverage_and_margin_mode_from_the_file_are_set_on_the_venue(session: Session) -> None:
    # (is_cross, leverage) per coin, as the file says: SOL isolated, the others cross.
    assert session.venue["leverage"] == {"BTC": (True, 10), "ETH": (True, 5), "SOL": (False, 3)}


def test_limit_order_rests_and_market_order_fills(session: Session) -> None:
    resting = session.orders["resting"]
    market = session.orders["market"]

    assert market.filled_qty == Decimal("0.01")
    assert session.notes["statuses"] == (OrderStatus.ACCEPTED, OrderStatus.FILLED)
    assert resting.venue_order_id is not None
    venue_oids = {str(o["oid"]) for o in session.venue["open_orders"]}
    assert resting.venue_order_id.value in venue_oids
    assert session.notes["position_qty"] == Decimal("0.01")


def test_node_stops_cleanly(session: Session) -> None:
    assert session.stopped_cleanly


def test_the_signing_key_never_reaches_the_log(session: Session) -> None:
    assert "ExecClient-HYPERLIQUID" in session.log_text  # the client did log
    assert KEY[2:] not in session.log_text.lower()


def test_missing_key_variable_stops_the_build_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    loaded = _loaded("http://127.0.0.1:9", tmp_path)
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(ConfigError, match=KEY_ENV):
            build_node(loaded, loop)
    finally:
        loop.close()


def test_order_too_far_from_the_oracle_is_rejected_with_the_code_and_the_venue_text(
    session: Session,
) -> None:
    order = session.orders["far_from_oracle"]
    rejections = [e for e in session.notes["far_events"] if isinstance(e, OrderRejected)]

    assert order.status == OrderStatus.REJECTED
    assert len(rejections) == 1
    reason = rejections[0].reason
    assert reason.startswith(HyperliquidRejectReason.TOO_FAR_FROM_ORACLE.value)
    assert "Order price too far from oracle asset=0" in reason


def test_reduce_only_oco_pair_rests_on_the_venue_as_position_tpsl(session: Session) -> None:
    take = session.orders["oco_tp"]
    stop = session.orders["oco_sl"]
    resting = {str(o["oid"]): o for o in session.venue["oco_resting"]}

    assert take.venue_order_id is not None and stop.venue_order_id is not None
    for order in (take, stop):
        venue_order = resting[order.venue_order_id.value]
        assert venue_order["isPositionTpsl"] is True
        assert venue_order["reduceOnly"] is True
    assert resting[take.venue_order_id.value]["orderType"] == "Take Profit Limit"
    assert resting[stop.venue_order_id.value]["orderType"] == "Stop Market"


def test_oco_stop_fires_the_take_profit_is_cancelled_and_the_position_closes(
    session: Session,
) -> None:
    take = session.orders["oco_tp"]
    stop = session.orders["oco_sl"]

    assert stop.status == OrderStatus.FILLED
    assert stop.filled_qty == Decimal("0.01")
    assert take.status == OrderStatus.CANCELED
    assert session.venue["oco_after"] == []
    assert all(Decimal(p["position"]["szi"]) == 0 for p in session.venue["btc_position"])
    assert session.notes["positions_open"] == []
    (closed,) = session.notes["positions_closed"]
    assert closed.is_closed


def test_oco_events_reach_the_strategy_once_each(session: Session) -> None:
    # (kept apart from the state checks: a duplicate fill would double-close the position)
    take = session.orders["oco_tp"]
    stop = session.orders["oco_sl"]

    assert [type(e) for e in take.events].count(OrderCanceled) == 1
    assert [type(e) for e in stop.events].count(OrderFilled) >= 1
    assert sum(e.last_qty for e in stop.events if isinstance(e, OrderFilled)) == Decimal("0.01")
