"""A template stopped and started again (NautilusTrader resumes it) picks up where it stopped.

The sidecar's start of a stopped strategy resumes it. A stop pauses a template: it cancels what
rests, and the next start goes on from there, never repeating what was done: DirectBuy does not
buy twice, DCA goes on with its count, PriceLimit rests again the legs its stop withdrew, and
TWAP sends what its algorithm had not sliced yet, in slices of the same size.
"""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.examples.algorithms.twap import TWAPExecAlgorithm
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.objects import Price
from nautilus_trader.trading.strategy import Strategy

from strategies.templates.dca import DCA
from strategies.templates.dca import DCAConfig
from strategies.templates.direct_buy import DirectBuy
from strategies.templates.direct_buy import DirectBuyConfig
from strategies.templates.twap import TWAPTemplate
from strategies.templates.twap import TWAPTemplateConfig
from tests.backtests.scripted import BTC
from tests.strategies.late_orders_kit import T0
from tests.strategies.late_orders_kit import backtest_engine
from tests.strategies.late_orders_kit import resting_buy
from tests.strategies.late_orders_kit import run_with_plan

SECOND = 1_000_000_000


def _orders(engine: BacktestEngine, strategy: Strategy) -> list[tuple[OrderStatus, str, str]]:
    return [
        (o.status, str(o.quantity), str(o.filled_qty))
        for o in engine.cache.orders(strategy_id=strategy.id)
    ]


def _filled(engine: BacktestEngine, strategy: Strategy) -> Decimal:
    return sum(
        (o.filled_qty.as_decimal() for o in engine.cache.orders(strategy_id=strategy.id)),
        Decimal(0),
    )


def _twap(engine: BacktestEngine) -> TWAPTemplate:
    engine.add_exec_algorithm(TWAPExecAlgorithm())
    # 0.4 BTC at ~100 in 4 slices: 3 slices of 0.133 (each worth the venue minimum), 1 s apart.
    twap = TWAPTemplate(
        TWAPTemplateConfig(
            instrument_id=BTC, quantity=Decimal("0.4"), slices=4, interval_secs=1,
            horizon_secs=4, order_id_tag="T1",
        )
    )  # fmt: skip
    engine.add_strategy(twap)
    return twap


def test_a_twap_started_again_sends_what_was_not_sliced_in_slices_of_the_same_size() -> None:
    engine = backtest_engine()
    twap = _twap(engine)
    seen: dict[str, object] = {}

    def look_stopped() -> None:
        seen["stopped"] = _orders(engine, twap)

    def look_running() -> None:
        seen["state"] = twap.state.name

    try:
        run_with_plan(
            engine,
            [
                (T0 + 1_500_000_000, twap.stop),  # two slices out of three sent and filled
                (T0 + 1_600_000_000, look_stopped),
                (T0 + 1_800_000_000, twap.resume),
                (T0 + 1_900_000_000, look_running),
            ],
        )
        orders = engine.cache.orders(strategy_id=twap.id)
        filled = _filled(engine, twap)
    finally:
        engine.dispose()

    assert seen["stopped"] == [
        (OrderStatus.CANCELED, "0.133", "0.000"),  # the primary: what was not sliced yet
        (OrderStatus.FILLED, "0.133", "0.133"),
        (OrderStatus.FILLED, "0.133", "0.133"),
    ]
    assert seen["state"] == "RUNNING"
    # After the restart: one more primary of 0.133 (one slice, sent as the last slice is).
    assert [(o.status, str(o.quantity)) for o in orders[3:]] == [(OrderStatus.FILLED, "0.133")]
    assert filled == Decimal("0.399")  # what the TWAP buys without the stop


def test_a_twap_finished_before_the_stop_sends_nothing_when_started_again() -> None:
    engine = backtest_engine()
    twap = _twap(engine)
    try:
        run_with_plan(engine, [(T0 + 3 * SECOND, twap.stop), (T0 + 3_200_000_000, twap.resume)])
        orders = _orders(engine, twap)
        filled = _filled(engine, twap)
    finally:
        engine.dispose()

    assert len(orders) == 3  # the primary (sent as the last slice) and two children
    assert filled == Decimal("0.399")


def test_a_price_limit_leg_withdrawn_by_the_stop_rests_again_when_started_again() -> None:
    engine = backtest_engine()
    limit = resting_buy("98.0", "0.2", "T1")
    engine.add_strategy(limit)
    seen: dict[str, object] = {}

    def look_stopped() -> None:
        seen["stopped"] = _orders(engine, limit)

    def look_again() -> None:
        seen["again"] = [(o.status, o.price) for o in engine.cache.orders(strategy_id=limit.id)]
        leg = limit.saved.legs["BUY"]
        seen["leg"] = (leg.finished, leg.withdrawn)

    try:
        run_with_plan(
            engine,
            [
                (T0 + SECOND, limit.stop),
                (T0 + 1_500_000_000, look_stopped),
                (T0 + 2 * SECOND, limit.resume),
                (T0 + 3 * SECOND, look_again),
            ],
        )
    finally:
        engine.dispose()

    assert seen["stopped"] == [(OrderStatus.CANCELED, "0.200", "0.000")]
    assert seen["again"] == [
        (OrderStatus.CANCELED, Price.from_str("98.0")),
        (OrderStatus.ACCEPTED, Price.from_str("98.0")),
    ]
    assert seen["leg"] == (False, False)  # neither finished nor withdrawn: resting again


def test_a_direct_buy_started_again_does_not_buy_twice() -> None:
    engine = backtest_engine()
    buy = DirectBuy(DirectBuyConfig(instrument_id=BTC, quantity=Decimal("0.1"), order_id_tag="T1"))
    engine.add_strategy(buy)
    seen: dict[str, object] = {}

    def look() -> None:
        seen["state"] = buy.state.name

    try:
        run_with_plan(
            engine,
            [(T0 + SECOND, buy.stop), (T0 + 2 * SECOND, buy.resume), (T0 + 3 * SECOND, look)],
        )
        orders = _orders(engine, buy)
    finally:
        engine.dispose()

    assert seen["state"] == "RUNNING"
    assert orders == [(OrderStatus.FILLED, "0.100", "0.100")]  # the one buy, as before the stop


def test_a_dca_started_again_goes_on_with_its_count_and_buys_no_more() -> None:
    engine = backtest_engine()
    dca = DCA(
        DCAConfig(
            instrument_id=BTC, order_notional_usd=Decimal(11), order_count=3, interval_secs=1,
            order_id_tag="T1",
        )
    )  # fmt: skip
    engine.add_strategy(dca)
    seen: dict[str, object] = {}

    def look_stopped() -> None:
        seen["done_at_stop"] = dca.progress.done

    try:
        run_with_plan(
            engine,
            [
                (T0 + 1_500_000_000, dca.stop),  # after two buys (at ~0.1 s and ~1.1 s)
                (T0 + 1_600_000_000, look_stopped),
                (T0 + 2 * SECOND, dca.resume),
            ],
        )
        orders = _orders(engine, dca)
        done = dca.progress.done
    finally:
        engine.dispose()

    assert seen["done_at_stop"] == 2
    assert done == 3
    assert [status for status, _, _ in orders] == [OrderStatus.FILLED] * 3  # three, not four
