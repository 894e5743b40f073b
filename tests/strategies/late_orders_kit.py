"""A backtest in which one order's acknowledgement comes late, for the late-cancel tests.

Live, an order a strategy submitted stays INITIALIZED in the cache until its ``OrderSubmitted``
comes back through the execution engine's queue. ``HeldSubmit`` makes that window deterministic
in a backtest: it holds one ``SubmitOrder`` between the RiskEngine and the ExecutionEngine (the
bus endpoint both use) until ``release``, exactly what a slow acknowledgement looks like to the
strategy.
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
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.objects import Money

from adapters.hyperliquid.providers import HYPERLIQUID_VENUE
from strategies.templates.price_limit import PriceLimit
from strategies.templates.price_limit import PriceLimitConfig
from tests.backtests.scripted import BTC
from tests.backtests.scripted import instrument
from tests.backtests.scripted import steady_quotes

T0 = 1_767_225_600_000_000_000  # 2026-01-01
STOP_AT = T0 + 1_000_000_000
RELEASE_AT = T0 + 2_000_000_000


class At(Actor):
    """Runs each callback at its time (the engine's clock), as a controller or a user would."""

    def __init__(self, plan: list[tuple[int, Callable[[], None]]]) -> None:
        super().__init__()
        self._plan = plan

    def on_start(self) -> None:
        for index, (ts, action) in enumerate(self._plan):
            self.clock.set_time_alert_ns(f"at-{index}", ts, lambda _e, a=action: a())


class HeldSubmit:
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

    def reject(self, reason: str, ts_ns: int) -> None:
        """The venue rejects the held order: its client reports it submitted, then rejected."""
        assert self.held is not None, "nothing was held"
        command, self.held = self.held, None
        (client,) = self._exec.get_clients_for_orders([command.order])
        ids = (command.strategy_id, command.instrument_id, command.order.client_order_id)
        client.generate_order_submitted(*ids, ts_ns)
        client.generate_order_rejected(*ids, reason, ts_ns)


def backtest_engine(*, venue_checks_reduce_only: bool = True) -> BacktestEngine:
    """A venue with 10,000 USDC and BTC quoted 100.0 / 100.5 every 100 ms for 4 s.

    ``venue_checks_reduce_only=False``: the venue rests a reduce-only order whatever the
    strategy's position, as Hyperliquid does while the account holds one on the coin.
    """
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
    engine.add_venue(
        HYPERLIQUID_VENUE,
        OmsType.NETTING,
        AccountType.MARGIN,
        [Money(10_000, USDC)],
        use_reduce_only=venue_checks_reduce_only,
    )
    engine.add_instrument(instrument())
    engine.add_data(steady_quotes(T0, 40))
    return engine


def run_with_plan(engine: BacktestEngine, plan: list[tuple[int, Callable[[], None]]]) -> None:
    """Run ``engine`` with each callback of ``plan`` called at its time."""
    engine.add_actor(At(plan))
    engine.run()


def resting_buy(price: str, quantity: str, tag: str) -> PriceLimit:
    """A PriceLimit that rests one BTC buy at ``price`` (below the 100.0 bid, so it stays)."""
    return PriceLimit(
        PriceLimitConfig(
            instrument_id=BTC,
            buy_price=Decimal(price),
            buy_quantity=Decimal(quantity),
            order_id_tag=tag,
        )
    )
