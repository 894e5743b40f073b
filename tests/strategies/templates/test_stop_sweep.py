"""Stopping a template cancels its own orders only, and follows those that answer after the stop.

Live, an order a template submitted stays INITIALIZED in the cache until its ``OrderSubmitted``
comes back through the execution engine's queue; a stop in that window found nothing to cancel
and the venue kept the order (CI: a protective stop left resting after DirectBuy closed its
position on stop). Here the window is made deterministic in a backtest: the ``SubmitOrder`` of
one order is held between the RiskEngine and the ExecutionEngine (the bus endpoint both use)
and released after the stop, exactly what a slow acknowledgement looks like to the strategy.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import LoggingConfig
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

from adapters.hyperliquid.providers import HYPERLIQUID_VENUE
from strategies.templates.direct_buy import DirectBuy
from strategies.templates.direct_buy import DirectBuyConfig
from strategies.templates.price_limit import PriceLimit
from strategies.templates.price_limit import PriceLimitConfig
from tests.backtests.scripted import BTC
from tests.backtests.scripted import instrument

T0 = 1_767_225_600_000_000_000  # 2026-01-01
STOP_AT = T0 + 1_000_000_000
RELEASE_AT = T0 + 2_000_000_000


class _At(Actor):
    """Runs each callback at its time (the engine's clock), as a controller or a user would."""

    def __init__(self, plan: list[tuple[int, Callable[[], None]]]) -> None:
        super().__init__()
        self._plan = plan

    def on_start(self) -> None:
        for index, (ts, action) in enumerate(self._plan):
            self.clock.set_time_alert_ns(f"at-{index}", ts, lambda _e, a=action: a())


class _HeldSubmit:
    """Holds the first ``SubmitOrder`` matching ``hold`` on its way to the ExecutionEngine."""

    def __init__(self, engine: BacktestEngine, hold: Callable[[SubmitOrder], bool]) -> None:
        self._exec = engine.kernel.exec_engine
        self._bus = engine.kernel.msgbus
        self._hold = hold
        self.held: SubmitOrder | None = None
        self._done = False
        self._bus.deregister("ExecEngine.execute", self._exec.execute)
        self._bus.register("ExecEngine.execute", self._route)

    def _route(self, command: Any) -> None:
        if not self._done and isinstance(command, SubmitOrder) and self._hold(command):
            self.held, self._done = command, True
            return
        self._exec.execute(command)

    def release(self) -> None:
        assert self.held is not None, "nothing was held"
        command, self.held = self.held, None
        self._exec.execute(command)


def _engine() -> BacktestEngine:
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
    engine.add_venue(HYPERLIQUID_VENUE, OmsType.NETTING, AccountType.MARGIN, [Money(10_000, USDC)])
    engine.add_instrument(instrument())
    engine.add_data(
        [
            QuoteTick(
                BTC,
                Price.from_str("100.0"),
                Price.from_str("100.5"),
                Quantity.from_str("5.000"),
                Quantity.from_str("5.000"),
                T0 + k * 100_000_000,
                T0 + k * 100_000_000,
            )
            for k in range(40)
        ]
    )
    return engine


def _run(engine: BacktestEngine, plan: list[tuple[int, Callable[[], None]]]) -> None:
    engine.add_actor(_At(plan))
    engine.run()


def _open_orders(engine: BacktestEngine, strategy: Strategy) -> list[Any]:
    return engine.cache.orders_open(strategy_id=strategy.id)


def _net(engine: BacktestEngine, strategy: Strategy) -> Decimal:
    return sum(
        (p.signed_decimal_qty() for p in engine.cache.positions(strategy_id=strategy.id)),
        Decimal(0),
    )


def test_stopping_one_template_leaves_another_templates_orders_on_the_same_coin() -> None:
    engine = _engine()
    first = PriceLimit(
        PriceLimitConfig(
            instrument_id=BTC, buy_price=Decimal("99.0"), buy_quantity=Decimal("0.1"),
            order_id_tag="T1",
        )
    )  # fmt: skip
    second = PriceLimit(
        PriceLimitConfig(
            instrument_id=BTC, buy_price=Decimal("98.0"), buy_quantity=Decimal("0.2"),
            order_id_tag="T2",
        )
    )  # fmt: skip
    engine.add_strategy(first)
    engine.add_strategy(second)
    seen: dict[str, Any] = {}

    def look() -> None:  # before the end of the run stops every strategy
        seen["first"] = [o.status for o in engine.cache.orders(strategy_id=first.id)]
        seen["second_open"] = _open_orders(engine, second)

    try:
        _run(engine, [(STOP_AT, first.stop), (RELEASE_AT, look)])
    finally:
        engine.dispose()

    assert seen["first"] == [OrderStatus.CANCELED]
    assert [(o.price, o.quantity) for o in seen["second_open"]] == [
        (Price.from_str("98.0"), Quantity.from_str("0.200"))
    ]


def test_a_protective_stop_acknowledged_after_the_stop_is_cancelled() -> None:
    # The position is kept (no close on stop) so that NautilusTrader's venue accepts the
    # reduce-only stop when it arrives (it rejects one for a flat position; Hyperliquid and our
    # simulator take it, which is how CI saw one left resting).
    engine = _engine()
    buy = DirectBuy(
        DirectBuyConfig(
            instrument_id=BTC, quantity=Decimal("0.1"), stop_price=Decimal("95"),
            order_id_tag="T1",
        )
    )  # fmt: skip
    engine.add_strategy(buy)
    held = _HeldSubmit(engine, lambda c: c.order.order_type == OrderType.STOP_MARKET)
    try:
        _run(engine, [(STOP_AT, buy.stop), (RELEASE_AT, held.release)])
        stops = [o for o in engine.cache.orders(strategy_id=buy.id) if o.is_reduce_only]
        open_orders = _open_orders(engine, buy)
        net = _net(engine, buy)
        following = buy.stop_sweep.following
    finally:
        engine.dispose()

    stop_orders = [o for o in stops if o.order_type == OrderType.STOP_MARKET]
    assert len(stop_orders) == 1
    # It reached the venue after the stop (accepted there), and was cancelled then.
    assert stop_orders[0].venue_order_id is not None
    assert stop_orders[0].status == OrderStatus.CANCELED
    assert open_orders == []
    assert net == Decimal("0.1")  # kept: the template does not close on stop
    assert following == frozenset()


def test_an_entry_filled_after_the_stop_is_closed_again_when_the_template_closes_on_stop() -> None:
    engine = _engine()
    buy = DirectBuy(
        DirectBuyConfig(
            instrument_id=BTC, quantity=Decimal("0.1"), close_on_stop=True, order_id_tag="T1",
        )
    )  # fmt: skip
    engine.add_strategy(buy)
    held = _HeldSubmit(engine, lambda c: c.order.order_type == OrderType.MARKET)
    try:
        _run(engine, [(STOP_AT, buy.stop), (RELEASE_AT, held.release)])
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
    engine = _engine()
    buy = DirectBuy(DirectBuyConfig(instrument_id=BTC, quantity=Decimal("0.1"), order_id_tag="T1"))
    engine.add_strategy(buy)
    held = _HeldSubmit(engine, lambda c: c.order.order_type == OrderType.MARKET)
    try:
        _run(engine, [(STOP_AT, buy.stop), (RELEASE_AT, held.release)])
        orders = engine.cache.orders(strategy_id=buy.id)
        net = _net(engine, buy)
    finally:
        engine.dispose()

    assert [o.status for o in orders] == [OrderStatus.FILLED]
    assert net == Decimal("0.1")
