"""The paper execution client's Hyperliquid rules: margin of notional / leverage capped at the
venue's maximum, venue fees on fills that walk the book, and a clear rejection (never a fill
against nothing) for an instrument whose book has not arrived."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.events import OrderSubmitted
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.portfolio.portfolio import Portfolio
from nautilus_trader.test_kit.stubs.execution import TestExecStubs

from adapters.hyperliquid.paper import HyperliquidMarginModel
from adapters.hyperliquid.paper import HyperliquidPaperExecClientConfig
from adapters.hyperliquid.paper import HyperliquidPaperExecClientFactory
from adapters.hyperliquid.paper import HyperliquidPaperExecutionClient
from adapters.hyperliquid.paper import effective_leverage
from adapters.hyperliquid.providers import parse_perp_instruments
from adapters.hyperliquid.schemas.info import decode_info_response
from jarvis.testkit import VENUE_CAPTURES

FIXTURES = VENUE_CAPTURES
TRADER_ID = TraderId("JARVIS-PAPER")
STRATEGY_ID = StrategyId("S-001")


@pytest.fixture(scope="module")
def btc() -> CryptoPerpetual:
    """BTC as the data client builds it from the venue's recorded ``meta`` (maxLeverage 50)."""
    meta = decode_info_response("meta", (FIXTURES / "info_meta.json").read_bytes())
    (instrument,) = parse_perp_instruments(meta, 0, coins=["BTC"])
    assert instrument.info["maxLeverage"] == 50
    return instrument


def test_margin_is_notional_over_leverage(btc: CryptoPerpetual) -> None:
    model = HyperliquidMarginModel()
    qty = Quantity.from_str("0.50000")
    px = Price.from_str("80000.0")

    init = model.calculate_margin_init(btc, qty, px, Decimal(10))
    maint = model.calculate_margin_maint(btc, PositionSide.LONG, qty, px, Decimal(10))

    assert init.as_decimal() == Decimal(4000)
    assert maint.as_decimal() == Decimal(4000)  # the venue's marginUsed for the position
    assert init.currency.code == "USDC"


def test_leverage_above_the_venue_maximum_is_capped(btc: CryptoPerpetual) -> None:
    model = HyperliquidMarginModel()

    margin = model.calculate_margin_init(
        btc, Quantity.from_str("1.00000"), Price.from_str("50000.0"), Decimal(100)
    )

    assert effective_leverage(btc, Decimal(100)) == Decimal(50)
    assert effective_leverage(btc, Decimal(3)) == Decimal(3)
    assert margin.as_decimal() == Decimal(1000)


class _Harness:
    """The paper client on real NautilusTrader components; events it emits are collected."""

    def __init__(self, instrument: CryptoPerpetual) -> None:
        self.loop = asyncio.new_event_loop()
        self.clock = LiveClock()
        self.msgbus = MessageBus(trader_id=TRADER_ID, clock=self.clock)
        self.cache = Cache(database=None)
        self.portfolio = Portfolio(msgbus=self.msgbus, cache=self.cache, clock=self.clock)
        self.events: list[Any] = []
        self.msgbus.register(endpoint="ExecEngine.process", handler=self.events.append)
        self.instrument = instrument
        self.cache.add_instrument(instrument)
        self.client = HyperliquidPaperExecClientFactory.create(
            loop=self.loop,
            name="HYPERLIQUID",
            config=HyperliquidPaperExecClientConfig(leverages={"BTC": 10}),
            msgbus=self.msgbus,
            cache=self.cache,
            clock=self.clock,
            portfolio=self.portfolio,
        )
        self.client.connect()

    def submit_market_buy(self, qty: str, params: dict[str, Any] | None = None) -> SubmitOrder:
        order = TestExecStubs.market_order(
            instrument=self.instrument, order_side=OrderSide.BUY, quantity=Quantity.from_str(qty)
        )
        self.cache.add_order(order)
        command = SubmitOrder(
            trader_id=TRADER_ID,
            strategy_id=order.strategy_id,
            order=order,
            command_id=UUID4(),
            ts_init=self.clock.timestamp_ns(),
            params=params,
        )
        self.client.submit_order(command)
        return command

    def publish_book(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        iid = self.instrument.id
        ts = self.clock.timestamp_ns()
        deltas = [OrderBookDelta.clear(iid, 0, ts, ts)]
        for side, levels in ((OrderSide.BUY, bids), (OrderSide.SELL, asks)):
            for px, sz in levels:
                order = BookOrder(side, Price.from_str(px), Quantity.from_str(sz), 0)
                deltas.append(OrderBookDelta(iid, BookAction.ADD, order, 0, 0, ts, ts))
        topic = f"data.book.deltas.{iid.venue}.{iid.symbol}"
        self.msgbus.publish(topic=topic, msg=OrderBookDeltas(iid, deltas))

    def close(self) -> None:
        self.client.disconnect()
        self.loop.close()


@pytest.fixture
def harness(btc: CryptoPerpetual) -> Iterator[_Harness]:
    """A connected paper client with BTC listed and no book yet."""
    h = _Harness(btc)
    yield h
    h.close()


def test_client_is_the_paper_usdc_margin_account(harness: _Harness) -> None:
    client = harness.client
    account = harness.cache.account_for_venue(client.venue)

    assert isinstance(client, HyperliquidPaperExecutionClient)
    assert account is not None
    assert account.id.value == "HYPERLIQUID-PAPER"
    assert account.is_margin_account
    assert account.base_currency.code == "USDC"
    assert account.balance_total().as_decimal() == Decimal(10_000)


def test_order_without_book_is_rejected_with_a_reason_saying_what_to_do(
    harness: _Harness,
) -> None:
    command = harness.submit_market_buy("0.10000")

    submitted, rejected = harness.events
    assert isinstance(submitted, OrderSubmitted)
    assert isinstance(rejected, OrderRejected)
    assert rejected.client_order_id == command.order.client_order_id
    assert "none has arrived for BTC-USD-PERP.HYPERLIQUID" in rejected.reason
    assert "subscribe_order_book_deltas" in rejected.reason


def test_market_order_walks_the_published_book_and_pays_the_taker_fee(
    harness: _Harness,
) -> None:
    harness.publish_book(
        bids=[("79990.0", "1.00000")], asks=[("80000.0", "0.05000"), ("80010.0", "1.00000")]
    )

    harness.submit_market_buy("0.08000")

    fills = [e for e in harness.events if isinstance(e, OrderFilled)]
    assert [(f.last_px.as_decimal(), f.last_qty.as_decimal()) for f in fills] == [
        (Decimal("80000.0"), Decimal("0.05")),
        (Decimal("80010.0"), Decimal("0.03")),
    ]
    assert all(f.liquidity_side == LiquiditySide.TAKER for f in fills)
    # Base-tier taker fee, 0.045 %, of each fill's notional.
    assert [f.commission.as_decimal() for f in fills] == [Decimal("1.8"), Decimal("1.080135")]
    assert all(f.account_id.value == "HYPERLIQUID-PAPER" for f in fills)


def test_an_order_asking_for_a_leverage_sets_it_on_the_paper_account_for_its_coin(
    harness: _Harness,
) -> None:
    harness.publish_book(bids=[("79990.0", "1.00000")], asks=[("80000.0", "1.00000")])
    account = harness.cache.account_for_venue(harness.client.venue)
    assert account is not None
    before = account.leverage(harness.instrument.id)

    harness.submit_market_buy("0.01000", params={"leverage": 5, "margin_mode": "cross"})

    assert before == Decimal(10)  # the configured leverage
    assert account.leverage(harness.instrument.id) == Decimal(5)  # sticky, as on the venue
    assert [type(e) for e in harness.events if isinstance(e, OrderFilled)] == [OrderFilled]


def test_an_order_asking_for_more_than_the_coins_maximum_leverage_is_rejected_saying_why(
    harness: _Harness,
) -> None:
    harness.publish_book(bids=[("79990.0", "1.00000")], asks=[("80000.0", "1.00000")])
    account = harness.cache.account_for_venue(harness.client.venue)
    assert account is not None

    command = harness.submit_market_buy("0.01000", params={"leverage": 60})

    submitted, rejected = harness.events
    assert isinstance(submitted, OrderSubmitted)
    assert isinstance(rejected, OrderRejected)
    assert rejected.client_order_id == command.order.client_order_id
    assert "leverage 60x refused" in rejected.reason and "1x to 50x" in rejected.reason
    assert account.leverage(harness.instrument.id) == Decimal(10)  # unchanged
