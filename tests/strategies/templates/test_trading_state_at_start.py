"""A template started while the node is already REDUCING (the feeds still stale at start-up,
say) saw no ``TradingStateChanged``: it must read the node's state from the risk guard's cache
entry, hold its order back, and send it once the node is ACTIVE -- never have it denied."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Quantity

from adapters.hyperliquid.providers import HYPERLIQUID_VENUE
from strategies.risk_guard import RiskGuardConfig
from strategies.risk_guard import install_risk_guard
from strategies.templates.base import TemplateStrategy
from strategies.templates.direct_buy import DirectBuy
from strategies.templates.direct_buy import DirectBuyConfig
from strategies.templates.price_limit import PriceLimit
from strategies.templates.price_limit import PriceLimitConfig
from tests.backtests.scripted import BTC
from tests.backtests.scripted import instrument
from tests.backtests.scripted import steady_quotes

T0 = 1_767_225_600_000_000_000  # 2026-01-01
ACTIVE_AT = T0 + 5_000_000_000


class _Activate(Actor):
    """Sets the RiskEngine ACTIVE at ``ACTIVE_AT``, as the feed-health gate does."""

    def __init__(self, set_state: Any) -> None:
        super().__init__()
        self._set_state = set_state

    def on_start(self) -> None:
        self.clock.set_time_alert_ns("active", ACTIVE_AT, lambda _: self._set_state())


def _recording(cls: type[TemplateStrategy], config: Any) -> Any:
    """``cls`` that also keeps every order event it sees."""

    class Recording(cls):  # type: ignore[valid-type,misc]
        def __init__(self, config: Any) -> None:
            super().__init__(config)
            self.events: list[Any] = []

        def on_order_event(self, event: Any) -> None:
            self.events.append(event)
            super().on_order_event(event)

    return Recording(config)


CASES = {
    # a market buy on the first quote it may send on
    "DirectBuy": (DirectBuy, DirectBuyConfig(instrument_id=BTC, quantity=Decimal("0.1"),
                                            order_id_tag="T1")),
    # a resting buy below the market (placed, never filled here)
    "PriceLimit": (PriceLimit, PriceLimitConfig(instrument_id=BTC, buy_price=Decimal("99.0"),
                                               buy_quantity=Decimal("0.1"), order_id_tag="T1")),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_template_started_while_reducing_holds_its_order_until_active(name: str) -> None:
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
    engine.add_venue(HYPERLIQUID_VENUE, OmsType.NETTING, AccountType.MARGIN, [Money(10_000, USDC)])
    engine.add_instrument(instrument())
    engine.add_data(steady_quotes(T0, 100))
    risk = engine.kernel.risk_engine
    engine.add_actor(_Activate(lambda: risk.set_trading_state(TradingState.ACTIVE)))
    buy = _recording(*CASES[name])
    engine.add_strategy(buy)
    install_risk_guard(engine.kernel, RiskGuardConfig(min_order_notional_usd=1.0))
    risk.set_trading_state(TradingState.REDUCING)  # before the run, as the gate at start-up
    try:
        engine.run()
        orders = engine.cache.orders()
    finally:
        engine.dispose()

    assert not [e for e in buy.events if isinstance(e, OrderDenied)], buy.events
    assert buy.held_back >= 40  # one per quote for 5 s, at 10 quotes a second
    assert len(orders) == 1, orders
    assert orders[0].ts_init >= ACTIVE_AT
    assert orders[0].quantity == Quantity.from_str("0.100")
    if name == "DirectBuy":
        assert orders[0].filled_qty == orders[0].quantity  # the market buy filled
    else:
        assert orders[0].venue_order_id is not None  # the venue took the resting buy
