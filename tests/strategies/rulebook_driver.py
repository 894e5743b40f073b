"""Run one rulebook strategy in a real BacktestEngine against the scripted ``Driver`` of
``test_geometry_strategy`` (it plays the state builder and the controller, one step per quote
tick, one tick per second), with the risk guard installed."""

from __future__ import annotations

from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money

from strategies.risk_guard import RiskGuardConfig
from strategies.risk_guard import install_risk_guard
from strategies.rulebook import RulebookStrategy
from tests.strategies.test_geometry_strategy import BTC
from tests.strategies.test_geometry_strategy import Driver
from tests.strategies.test_geometry_strategy import Step
from tests.strategies.test_geometry_strategy import quotes

__all__ = ["BTC", "Driver", "Step", "base_config", "moves", "reasons", "run_strategy"]


def run_strategy(
    strategy: RulebookStrategy,
    steps: dict[int, Step],
    prices: list[tuple[float, float]],
    grant: bool | None = True,
) -> tuple[BacktestEngine, Driver]:
    """Run ``strategy`` over one quote per price pair, the driver's step ``i`` at tick ``i``."""
    engine = BacktestEngine(
        BacktestEngineConfig(trader_id="RULE-001", logging=LoggingConfig(bypass_logging=True))
    )
    engine.add_venue(
        Venue("BINANCE"),
        OmsType.NETTING,
        AccountType.MARGIN,
        starting_balances=[Money(1_000_000, USDT)],
        base_currency=USDT,
    )
    engine.add_instrument(BTC)
    engine.add_data(quotes(prices))
    driver = Driver(steps, grant)
    engine.add_actor(driver)
    engine.add_strategy(strategy)
    install_risk_guard(engine.kernel, RiskGuardConfig())
    engine.run()
    return engine, driver


def moves(strategy: RulebookStrategy) -> list[tuple[str, str]]:
    """(from, to) of every transition the strategy made."""
    return [(a, b) for a, b, _ in strategy.transitions]


def reasons(strategy: RulebookStrategy) -> list[str]:
    """The reason of every transition."""
    return [r for _, _, r in strategy.transitions]


def base_config(**values: Any) -> dict[str, Any]:
    """Common config values of the tests (short timeouts)."""
    out: dict[str, Any] = {
        "instrument_id": BTC.id,
        "size_pct_equity": 1.0,
        "max_hold_secs": 30.0,
        "cooldown_secs": 3.0,
    }
    out.update(values)
    return out
