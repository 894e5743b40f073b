"""Stopping a template cancels its own orders only, and follows those that answer after the stop.

Live, an order a template submitted stays INITIALIZED in the cache until its ``OrderSubmitted``
comes back through the execution engine's queue; a stop in that window found nothing to cancel
and the venue kept the order (CI: a protective stop left resting after DirectBuy closed its
position on stop). ``tests.strategies.late_orders_kit`` makes that window deterministic.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

from strategies.templates.direct_buy import DirectBuy
from strategies.templates.direct_buy import DirectBuyConfig
from strategies.templates.ema_cross import EMACrossTemplate
from strategies.templates.ema_cross import EMACrossTemplateConfig
from tests.backtests.scripted import BTC
from tests.strategies.late_orders_kit import RELEASE_AT
from tests.strategies.late_orders_kit import STOP_AT
from tests.strategies.late_orders_kit import T0
from tests.strategies.late_orders_kit import HeldSubmit
from tests.strategies.late_orders_kit import backtest_engine
from tests.strategies.late_orders_kit import resting_buy
from tests.strategies.late_orders_kit import run_with_plan


def _open_orders(engine: BacktestEngine, strategy: Strategy) -> list[Any]:
    return engine.cache.orders_open(strategy_id=strategy.id)


def _net(engine: BacktestEngine, strategy: Strategy) -> Decimal:
    return sum(
        (p.signed_decimal_qty() for p in engine.cache.positions(strategy_id=strategy.id)),
        Decimal(0),
    )


def _only_the_other_buy_rests(open_orders: list[Any]) -> None:
    assert [(o.price, o.quantity) for o in open_orders] == [
        (Price.from_str("98.0"), Quantity.from_str("0.200"))
    ]


def test_stopping_one_template_leaves_another_templates_orders_on_the_same_coin() -> None:
    engine = backtest_engine()
    first = resting_buy("99.0", "0.1", "T1")
    second = resting_buy("98.0", "0.2", "T2")
    engine.add_strategy(first)
    engine.add_strategy(second)
    seen: dict[str, Any] = {}

    def look() -> None:  # before the end of the run stops every strategy
        seen["first"] = [o.status for o in engine.cache.orders(strategy_id=first.id)]
        seen["second_open"] = _open_orders(engine, second)

    try:
        run_with_plan(engine, [(STOP_AT, first.stop), (RELEASE_AT, look)])
    finally:
        engine.dispose()

    assert seen["first"] == [OrderStatus.CANCELED]
    _only_the_other_buy_rests(seen["second_open"])


def test_stopping_ema_cross_leaves_another_templates_orders_on_the_same_coin() -> None:
    # NautilusTrader's EMACross example stops with CancelAllOrders, which the venue applies to
    # every order on the coin: the other template's resting buy went with it.
    engine = backtest_engine()
    ema = EMACrossTemplate(
        EMACrossTemplateConfig(
            instrument_id=BTC, bar_type=BarType.from_str(f"{BTC}-1-MINUTE-LAST-EXTERNAL"),
            trade_size=Decimal("0.1"), request_bars=False, order_id_tag="E1",
        )
    )  # fmt: skip
    other = resting_buy("98.0", "0.2", "T2")
    engine.add_strategy(ema)
    engine.add_strategy(other)
    seen: dict[str, Any] = {}

    def ema_order() -> None:  # an order of EMACross resting when it stops
        ema.submit_order(
            ema.order_factory.limit(BTC, OrderSide.BUY, Quantity.from_str("0.100"),
                                    Price.from_str("97.0"))
        )  # fmt: skip

    def look() -> None:
        seen["ema"] = [o.status for o in engine.cache.orders(strategy_id=ema.id)]
        seen["other_open"] = _open_orders(engine, other)

    try:
        run_with_plan(
            engine, [(T0 + 500_000_000, ema_order), (STOP_AT, ema.stop), (RELEASE_AT, look)]
        )
    finally:
        engine.dispose()

    assert seen["ema"] == [OrderStatus.CANCELED]
    _only_the_other_buy_rests(seen["other_open"])


def test_an_entry_acknowledged_after_the_stop_is_cancelled() -> None:
    engine = backtest_engine()
    buy = DirectBuy(
        DirectBuyConfig(
            instrument_id=BTC, quantity=Decimal("0.1"), order_kind="LIMIT_GTC",
            limit_price=Decimal("90"), order_id_tag="T1",
        )
    )  # fmt: skip
    engine.add_strategy(buy)
    held = HeldSubmit(engine, lambda c: c.order.order_type == OrderType.LIMIT)
    try:
        run_with_plan(engine, [(STOP_AT, buy.stop), (RELEASE_AT, held.release)])
        orders = engine.cache.orders(strategy_id=buy.id)
        following = buy.stop_sweep.following
    finally:
        engine.dispose()

    (entry,) = orders
    # It reached the venue after the stop (accepted there), and was cancelled then.
    assert entry.venue_order_id is not None
    assert entry.status == OrderStatus.CANCELED
    assert following == frozenset()


def test_a_protective_stop_acknowledged_after_the_stop_is_kept_with_the_position() -> None:
    # The template keeps its position (no close on stop), so it keeps the stop-loss protecting
    # it, even one still on its way to the venue when the template stopped.
    engine = backtest_engine()
    buy = DirectBuy(
        DirectBuyConfig(
            instrument_id=BTC, quantity=Decimal("0.1"), stop_price=Decimal("95"),
            order_id_tag="T1",
        )
    )  # fmt: skip
    engine.add_strategy(buy)
    held = HeldSubmit(engine, lambda c: c.order.order_type == OrderType.STOP_MARKET)
    try:
        run_with_plan(engine, [(STOP_AT, buy.stop), (RELEASE_AT, held.release)])
        open_orders = _open_orders(engine, buy)
        net = _net(engine, buy)
        following = buy.stop_sweep.following
    finally:
        engine.dispose()

    (stop,) = open_orders
    assert stop.order_type == OrderType.STOP_MARKET and stop.is_reduce_only
    assert stop.status == OrderStatus.ACCEPTED
    assert stop.quantity == Quantity.from_str("0.100")
    assert net == Decimal("0.1")
    assert following == frozenset()


def test_a_resting_protective_stop_stays_when_the_position_is_kept_and_goes_when_closed() -> None:
    seen: dict[bool, Any] = {}
    for close_on_stop in (False, True):
        engine = backtest_engine()
        buy = DirectBuy(
            DirectBuyConfig(
                instrument_id=BTC, quantity=Decimal("0.1"), stop_price=Decimal("95"),
                close_on_stop=close_on_stop, order_id_tag="T1",
            )
        )  # fmt: skip
        engine.add_strategy(buy)
        try:
            run_with_plan(engine, [(STOP_AT, buy.stop), (RELEASE_AT, lambda: None)])
            stops = [
                o
                for o in engine.cache.orders(strategy_id=buy.id)
                if o.order_type == OrderType.STOP_MARKET
            ]
            seen[close_on_stop] = ([o.status for o in stops], _net(engine, buy))
        finally:
            engine.dispose()

    assert seen[False] == ([OrderStatus.ACCEPTED], Decimal("0.1"))
    assert seen[True] == ([OrderStatus.CANCELED], Decimal(0))


def test_an_entry_filled_after_the_stop_is_closed_again_when_the_template_closes_on_stop() -> None:
    engine = backtest_engine()
    buy = DirectBuy(
        DirectBuyConfig(
            instrument_id=BTC, quantity=Decimal("0.1"), close_on_stop=True, order_id_tag="T1",
        )
    )  # fmt: skip
    engine.add_strategy(buy)
    held = HeldSubmit(engine, lambda c: c.order.order_type == OrderType.MARKET)
    try:
        run_with_plan(engine, [(STOP_AT, buy.stop), (RELEASE_AT, held.release)])
        orders = engine.cache.orders(strategy_id=buy.id)
        net = _net(engine, buy)
    finally:
        engine.dispose()

    entry, close = orders
    assert entry.status == OrderStatus.FILLED  # it filled after the stop ...
    assert not entry.is_reduce_only
    assert close.is_reduce_only and close.status == OrderStatus.FILLED  # ... and was closed
    assert close.quantity == entry.filled_qty
    assert net == 0


def test_an_entry_filled_after_the_stop_is_kept_when_the_template_keeps_its_position() -> None:
    engine = backtest_engine()
    buy = DirectBuy(DirectBuyConfig(instrument_id=BTC, quantity=Decimal("0.1"), order_id_tag="T1"))
    engine.add_strategy(buy)
    held = HeldSubmit(engine, lambda c: c.order.order_type == OrderType.MARKET)
    try:
        run_with_plan(engine, [(STOP_AT, buy.stop), (RELEASE_AT, held.release)])
        orders = engine.cache.orders(strategy_id=buy.id)
        net = _net(engine, buy)
    finally:
        engine.dispose()

    assert [o.status for o in orders] == [OrderStatus.FILLED]
    assert net == Decimal("0.1")
