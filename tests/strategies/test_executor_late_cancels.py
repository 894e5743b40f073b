"""The intent executor cancels a protective order that reaches the venue after the position it
protected is gone (``strategies.late_cancels``).

The live window -- an order sent whose ``OrderSubmitted`` has not come back yet, so the cache
still says INITIALIZED -- is made deterministic here: the target's ``SubmitOrder`` is held
between the RiskEngine and the ExecutionEngine while the executor exits, then released. The
venue rests reduce-only orders whatever the strategy's position (NautilusTrader's would reject
the released sell against the flat strategy; Hyperliquid rests it while the account holds a
position on the coin, another strategy's included).
"""

from __future__ import annotations

from typing import Any

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.events import PositionEvent
from nautilus_trader.trading.strategy import Strategy

from strategies.executor import ExecutorPhase
from strategies.executor import IntentExecutor
from strategies.intents import Direction
from strategies.intents import Intent
from strategies.intents import IntentOutcome
from tests.backtests.scripted import BTC
from tests.strategies.late_orders_kit import RELEASE_AT
from tests.strategies.late_orders_kit import STOP_AT
from tests.strategies.late_orders_kit import HeldSubmit
from tests.strategies.late_orders_kit import backtest_engine
from tests.strategies.late_orders_kit import run_with_plan


class _Host(Strategy):
    """The smallest strategy on the executor: one long intent on the first quote."""

    def __init__(self) -> None:
        super().__init__(StrategyConfig(order_id_tag="H1"))
        self.executor: IntentExecutor | None = None
        self.outcomes: list[IntentOutcome] = []

    def on_start(self) -> None:
        instrument = self.cache.instrument(BTC)
        self.executor = IntentExecutor(
            self, instrument, self.outcomes.append, exit_retry_delay_secs=0.0
        )
        self.subscribe_quote_ticks(BTC)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        assert self.executor is not None
        if self.executor.plan is None:
            intent = Intent(Direction.LONG, 1.0, 95.0, 110.0, 100.25, "test entry")
            self.executor.submit(intent)

    def on_order_event(self, event: Any) -> None:
        assert self.executor is not None
        self.executor.on_order_event(event)

    def on_event(self, event: Any) -> None:
        if isinstance(event, PositionEvent) and self.executor is not None:
            self.executor.on_position_event(event)


def test_a_target_acknowledged_after_the_exit_is_cancelled() -> None:
    engine = backtest_engine(venue_checks_reduce_only=False)
    host = _Host()
    engine.add_strategy(host)
    held = HeldSubmit(engine, lambda c: c.order.order_type == OrderType.MARKET_IF_TOUCHED)
    seen: dict[str, Any] = {}

    def exit_now() -> None:
        assert host.executor is not None
        assert held.held is not None  # the target is on its way, not acknowledged
        host.executor.emergency_exit("test: exit while the target is on its way")

    def look() -> None:  # before the end of the run stops every strategy
        assert host.executor is not None
        seen["phase"] = host.executor.phase
        seen["orders"] = {
            o.order_type: o for o in engine.cache.orders(strategy_id=host.id) if o.is_reduce_only
        }
        seen["open"] = engine.cache.orders_open(strategy_id=host.id)
        seen["following"] = host.executor.late_cancels.following

    try:
        run_with_plan(
            engine,
            [(STOP_AT, exit_now), (RELEASE_AT, held.release), (RELEASE_AT + 500_000_000, look)],
        )
    finally:
        engine.dispose()

    assert seen["phase"] == ExecutorPhase.IDLE  # exited: flat
    target = seen["orders"][OrderType.MARKET_IF_TOUCHED]
    assert target.venue_order_id is not None  # the venue took it, after the exit ...
    assert target.status == OrderStatus.CANCELED  # ... and it was cancelled then
    assert seen["orders"][OrderType.STOP_MARKET].status == OrderStatus.CANCELED
    assert seen["open"] == []
    assert seen["following"] == frozenset()
