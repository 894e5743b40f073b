"""
The risk guard in a real BacktestEngine: every cap, the modes, the breaker and the cooldown.

Each test scripts a strategy (one action per quote tick) and reads the exact ``OrderDenied``
reason a user sees. The guard is installed on the engine's RiskEngine endpoint exactly as in a
live node, so these tests also prove that orders cannot get around it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy

from strategies import control
from strategies.risk_guard import GuardMode
from strategies.risk_guard import RiskGuard
from strategies.risk_guard import RiskGuardConfig
from strategies.risk_guard import install_risk_guard

BTC = TestInstrumentProvider.btcusdt_perp_binance()
START_NS = 1_704_067_200_000_000_000  # 2024-01-01 00:00:00 UTC
BID = 50_000.0
ASK = 50_001.0

Step = Callable[["Scripted"], None]


class Scripted(Strategy):
    """Runs one scripted action per quote tick; keeps every order event."""

    def __init__(self, name: str, steps: list[Step]) -> None:
        super().__init__(StrategyConfig(strategy_id="S", order_id_tag=name.split("-")[1]))
        self.steps = list(steps)
        self.events: list[Any] = []

    def on_start(self) -> None:
        self.subscribe_quote_ticks(BTC.id)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        if self.steps:
            self.steps.pop(0)(self)

    def on_order_event(self, event: Any) -> None:
        self.events.append(event)

    def denials(self) -> list[str]:
        return [e.reason for e in self.events if isinstance(e, OrderDenied)]

    def fills(self) -> list[OrderFilled]:
        return [e for e in self.events if isinstance(e, OrderFilled)]

    # actions
    def limit(self, side: OrderSide, qty: str, price: float, **kw: Any) -> None:
        order = self.order_factory.limit(
            BTC.id, side, Quantity.from_str(qty), Price(price, 1), **kw
        )
        self.submit_order(order)

    def market(self, side: OrderSide, qty: str, **kw: Any) -> None:
        self.submit_order(self.order_factory.market(BTC.id, side, Quantity.from_str(qty), **kw))


def buy_limit(qty: str, price: float = ASK, **kw: Any) -> Step:
    return lambda s: s.limit(OrderSide.BUY, qty, price, **kw)


def market(side: OrderSide, qty: str, **kw: Any) -> Step:
    return lambda s: s.market(side, qty, **kw)


def idle(_: Scripted) -> None:
    return None


def run(
    scripts: dict[str, list[Step]],
    config: RiskGuardConfig,
    ticks: int = 30,
    between: Callable[[BacktestEngine], None] | None = None,
) -> tuple[BacktestEngine, RiskGuard, dict[str, Scripted]]:
    engine = BacktestEngine(
        BacktestEngineConfig(trader_id="GUARD-001", logging=LoggingConfig(bypass_logging=True))
    )
    engine.add_venue(
        Venue("BINANCE"),
        OmsType.NETTING,
        AccountType.MARGIN,
        starting_balances=[Money(1_000_000, USDT)],
        base_currency=USDT,
    )
    engine.add_instrument(BTC)
    engine.add_data(
        [
            QuoteTick(
                BTC.id,
                Price(BID, 1),
                Price(ASK, 1),
                Quantity.from_str("100.000"),
                Quantity.from_str("100.000"),
                START_NS + i * 1_000_000_000,
                START_NS + i * 1_000_000_000,
            )
            for i in range(ticks)
        ]
    )
    strategies = {name: Scripted(name, steps) for name, steps in scripts.items()}
    for strategy in strategies.values():
        engine.add_strategy(strategy)
    guard = install_risk_guard(engine.kernel, config)
    if between is not None:
        between(engine)
    engine.run()
    return engine, guard, strategies


CFG = RiskGuardConfig(
    min_order_notional_usd=100.0,
    max_order_notional_usd=20_000.0,
    max_intent_notional_usd=30_000.0,
    max_daily_notional_usd_per_strategy=60_000.0,
    max_daily_notional_usd=80_000.0,
    failure_cooldown_secs=5.0,
    max_consecutive_rejections=3,
)


def test_order_below_min_notional_is_denied_with_the_cap_in_the_reason() -> None:
    _, _, s = run({"S-A": [buy_limit("0.001")]}, CFG)
    assert s["S-A"].denials() == [
        "RiskGuard: order notional 50.00 USD is below min_order_notional_usd 100.00 USD"
    ]


def test_order_at_min_notional_passes() -> None:
    _, _, s = run({"S-A": [buy_limit("0.002", 50_000.0)]}, CFG)
    assert s["S-A"].denials() == []


def test_order_above_max_notional_is_denied() -> None:
    _, _, s = run({"S-A": [buy_limit("0.500")]}, CFG)
    assert s["S-A"].denials() == [
        "RiskGuard: order notional 25,000.50 USD is above max_order_notional_usd 20,000.00 USD"
    ]


def test_market_order_is_valued_at_the_opposite_quote() -> None:
    _, _, s = run({"S-A": [market(OrderSide.SELL, "0.401")]}, CFG)
    assert s["S-A"].denials() == [
        "RiskGuard: order notional 20,050.00 USD is above max_order_notional_usd 20,000.00 USD"
    ]


def test_orders_of_one_intent_share_the_intent_cap() -> None:
    steps = [buy_limit("0.300", tags=["intent:A"]), buy_limit("0.300", tags=["intent:A"])]
    _, _, s = run({"S-A": steps}, CFG)
    assert s["S-A"].denials() == [
        "RiskGuard: intent A would reach 30,000.60 USD, above max_intent_notional_usd 30,000.00 USD"
    ]
    assert len(s["S-A"].fills()) == 1


def test_daily_cap_per_strategy() -> None:
    steps = [buy_limit("0.300")] * 4
    _, _, s = run({"S-A": steps}, CFG)
    assert s["S-A"].denials() == [
        "RiskGuard: S-A would trade 60,001.20 USD today, above "
        "max_daily_notional_usd_per_strategy 60,000.00 USD"
    ]


def test_daily_cap_for_the_account_counts_every_strategy() -> None:
    _, _, s = run({"S-A": [buy_limit("0.300")] * 3, "S-B": [buy_limit("0.300")] * 3}, CFG)
    assert s["S-A"].denials() == []
    assert s["S-B"].denials() == [
        "RiskGuard: the account would trade 90,001.80 USD today, above max_daily_notional_usd "
        "80,000.00 USD"
    ]


def test_instrument_not_in_allowlist_is_denied() -> None:
    cfg = RiskGuardConfig(allowed_instruments=["ETHUSDT-PERP.BINANCE"])
    _, _, s = run({"S-A": [buy_limit("0.010")]}, cfg)
    assert s["S-A"].denials() == [
        "RiskGuard: BTCUSDT-PERP.BINANCE is not in allowed_instruments (ETHUSDT-PERP.BINANCE)"
    ]


def test_close_only_refuses_opening_from_flat() -> None:
    def go_close_only(engine: BacktestEngine) -> None:
        control.reduce_only(engine.kernel, "test")

    _, _, s = run({"S-A": [buy_limit("0.010")]}, CFG, between=go_close_only)
    assert s["S-A"].denials() == [
        "RiskGuard: close-only mode: BUY 0.010 BTCUSDT-PERP.BINANCE would open or increase "
        "exposure (net position 0)"
    ]


def test_close_only_lets_a_position_shrink_but_not_grow() -> None:
    def close_only(s: Scripted) -> None:
        control.reduce_only(s._kernel_for_test, "test")  # type: ignore[attr-defined]

    steps = [
        buy_limit("0.010"),
        close_only,
        buy_limit("0.010"),
        market(OrderSide.SELL, "0.004"),
        market(OrderSide.SELL, "0.010"),
    ]
    engine, guard, s = run({"S-A": steps}, CFG, between=_expose_kernel)
    assert s["S-A"].denials() == [
        "RiskGuard: close-only mode: BUY 0.010 BTCUSDT-PERP.BINANCE would open or increase "
        "exposure (net position 0.010)",
        "RiskGuard: close-only mode: SELL 0.010 BTCUSDT-PERP.BINANCE would open or increase "
        "exposure (net position 0.006)",
    ]
    assert [str(f.last_qty) for f in s["S-A"].fills()] == ["0.010", "0.004"]
    assert engine.kernel.risk_engine.trading_state == TradingState.REDUCING
    assert guard.mode == GuardMode.REDUCE_ONLY


def test_a_reducing_node_refuses_opening_from_flat_whoever_set_it() -> None:
    """The feed-health gate (or the dead-man hold, or a hand-over timeout) sets only the
    RiskEngine to REDUCING, not the guard's mode: NautilusTrader alone would let a flat account
    open there; the guard refuses it, and lets the position shrink, then opening again once the
    node is ACTIVE."""

    def engine_state(state: TradingState) -> Step:
        return lambda s: s._kernel_for_test.risk_engine.set_trading_state(state)  # type: ignore[attr-defined]

    steps = [
        buy_limit("0.010"),
        engine_state(TradingState.REDUCING),
        buy_limit("0.010"),
        market(OrderSide.SELL, "0.004"),
        market(OrderSide.SELL, "0.010"),
        engine_state(TradingState.ACTIVE),
        buy_limit("0.010"),
    ]

    _, guard, s = run({"S-A": steps}, CFG, between=_expose_kernel)
    assert s["S-A"].denials() == [
        "RiskGuard: the node is REDUCING (close-only): BUY 0.010 BTCUSDT-PERP.BINANCE would open "
        "or increase exposure (net position 0.010); the log says why the node went REDUCING",
        "RiskGuard: the node is REDUCING (close-only): SELL 0.010 BTCUSDT-PERP.BINANCE would open "
        "or increase exposure (net position 0.006); the log says why the node went REDUCING",
    ]
    assert [str(f.last_qty) for f in s["S-A"].fills()] == ["0.010", "0.004", "0.010"]
    assert guard.mode == GuardMode.ACTIVE


def test_a_reducing_node_refuses_a_first_order_from_flat() -> None:
    def reducing(engine: BacktestEngine) -> None:
        engine.kernel.risk_engine.set_trading_state(TradingState.REDUCING)

    _, _, s = run({"S-A": [market(OrderSide.BUY, "0.010")]}, CFG, between=reducing)
    assert s["S-A"].denials() == [
        "RiskGuard: the node is REDUCING (close-only): BUY 0.010 BTCUSDT-PERP.BINANCE would open "
        "or increase exposure (net position 0); the log says why the node went REDUCING"
    ]
    assert s["S-A"].fills() == []


def _expose_kernel(engine: BacktestEngine) -> None:
    for strategy in engine.kernel.trader.strategies():
        strategy._kernel_for_test = engine.kernel  # type: ignore[attr-defined]


def test_halt_refuses_even_closing_orders_but_flatten_closes() -> None:
    def halt(s: Scripted) -> None:
        control.halt(s._kernel_for_test, "test")  # type: ignore[attr-defined]

    def flatten(s: Scripted) -> None:
        control.flatten(s._kernel_for_test, "test")  # type: ignore[attr-defined]

    steps = [
        buy_limit("0.010"),
        halt,
        market(OrderSide.SELL, "0.010", reduce_only=True),
        flatten,
        idle,
        idle,
    ]
    engine, guard, s = run({"S-A": steps}, CFG, between=_expose_kernel)
    assert s["S-A"].denials() == [
        "RiskGuard: trading is HALTED by the operator: no order is sent (cancels still are)"
    ]
    assert [str(f.last_qty) for f in s["S-A"].fills()] == ["0.010", "0.010"]
    assert engine.kernel.portfolio.is_flat(BTC.id)
    # Back to HALTED once flat.
    assert engine.kernel.risk_engine.trading_state == TradingState.HALTED
    assert guard.mode == GuardMode.HALTED


def post_only_crossing(s: Scripted) -> None:
    """A post-only buy at the ask: the venue rejects it (it would take liquidity)."""
    s.limit(OrderSide.BUY, "0.010", ASK, post_only=True)


def test_cooldown_after_a_rejection_refuses_opening_orders_of_that_strategy_only() -> None:
    _, _, s = run(
        {"S-A": [post_only_crossing, buy_limit("0.010")], "S-B": [idle, buy_limit("0.010")]},
        CFG,
    )
    rejected = [e for e in s["S-A"].events if isinstance(e, OrderRejected)]
    assert len(rejected) == 1
    assert s["S-A"].denials() == [
        "RiskGuard: S-A is cooling down after a failure until 00:00:05 UTC "
        f"(failure_cooldown_secs=5): {rejected[0].reason}"
    ]
    assert s["S-B"].denials() == []


def test_cooldown_ends_after_failure_cooldown_secs() -> None:
    steps = [post_only_crossing, idle, idle, idle, idle, idle, buy_limit("0.010")]
    _, _, s = run({"S-A": steps}, CFG)
    assert s["S-A"].denials() == []
    assert len(s["S-A"].fills()) == 1


def test_circuit_breaker_trips_to_reducing_after_n_consecutive_rejections() -> None:
    cfg = RiskGuardConfig(failure_cooldown_secs=0.0, max_consecutive_rejections=3)
    steps = [post_only_crossing] * 3 + [buy_limit("0.010")]
    engine, guard, s = run({"S-A": steps}, cfg)
    assert len([e for e in s["S-A"].events if isinstance(e, OrderRejected)]) == 3
    assert guard.mode == GuardMode.REDUCE_ONLY
    assert engine.kernel.risk_engine.trading_state == TradingState.REDUCING
    assert s["S-A"].denials() == [
        "RiskGuard: close-only mode: BUY 0.010 BTCUSDT-PERP.BINANCE would open or increase "
        "exposure (net position 0)"
    ]


def test_an_accepted_order_resets_the_consecutive_rejection_count() -> None:
    cfg = RiskGuardConfig(failure_cooldown_secs=0.0, max_consecutive_rejections=3)
    steps = [post_only_crossing, post_only_crossing, buy_limit("0.010"), post_only_crossing]
    _, guard, _ = run({"S-A": steps}, cfg)
    assert guard.mode == GuardMode.ACTIVE
    assert guard.consecutive_rejections == 1


def test_dry_run_passes_with_a_simulated_venue_client() -> None:
    _, _guard, s = run({"S-A": [buy_limit("0.010")]}, RiskGuardConfig(dry_run=True))
    assert s["S-A"].denials() == []
    assert len(s["S-A"].fills()) == 1


def test_guard_sits_on_the_risk_engine_endpoint() -> None:
    engine, guard, _ = run({}, CFG, ticks=1)
    assert guard.installed
    with pytest.raises(RuntimeError, match="already installed"):
        guard.install(engine.kernel.risk_engine)


def test_config_refuses_max_below_min() -> None:
    with pytest.raises(ValueError, match="max_order_notional_usd"):
        RiskGuardConfig(min_order_notional_usd=100.0, max_order_notional_usd=50.0)


def test_config_refuses_a_malformed_instrument_id() -> None:
    with pytest.raises(ValueError, match="allowed_instruments: 'BTC' is not an instrument id"):
        RiskGuardConfig(allowed_instruments=["BTC"])


def test_dry_run_refuses_every_order_when_a_live_venue_client_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from nautilus_trader.common.component import TestClock
    from nautilus_trader.common.factories import OrderFactory
    from nautilus_trader.live.node import TradingNode
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.identifiers import StrategyId
    from nautilus_trader.model.identifiers import TraderId

    from jarvis.node import load_for_run
    from jarvis.node import register_exec_client_factories

    monkeypatch.setenv("HYPERLIQUID_SIM_PRIVATE_KEY", "0x" + "7c" * 32)
    loaded = load_for_run("config/sim_trading.toml")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = TradingNode(config=loaded.node, loop=loop)
    try:
        register_exec_client_factories(node, loaded.node)
        node.build()  # clients built, nothing connects
        guard = install_risk_guard(node.kernel, RiskGuardConfig(dry_run=True))
        factory = OrderFactory(TraderId("JARVIS-SIM"), StrategyId("S-1"), TestClock())
        order = factory.market(
            InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID"), OrderSide.BUY, Quantity.from_str("1")
        )
        assert guard.check(order) == (
            "dry_run is on but execution client(s) HYPERLIQUID (HyperliquidExecutionClient) "
            "would send to a real venue; run with the paper execution client (jarvis node "
            "--dry-run)"
        )
    finally:
        node.dispose()
        loop.close()
        asyncio.set_event_loop(None)


def test_execution_algorithm_child_orders_pass_the_guard_too() -> None:
    from nautilus_trader.examples.algorithms.twap import TWAPExecAlgorithm
    from nautilus_trader.model.identifiers import ExecAlgorithmId

    def twap(s: Scripted) -> None:
        order = s.order_factory.market(
            BTC.id,
            OrderSide.BUY,
            Quantity.from_str("0.400"),
            exec_algorithm_id=ExecAlgorithmId("TWAP"),
            exec_algorithm_params={"horizon_secs": 4.0, "interval_secs": 1.0},
        )
        s.submit_order(order)

    def add_twap(engine: BacktestEngine) -> None:
        engine.add_exec_algorithm(TWAPExecAlgorithm())

    cfg = RiskGuardConfig(allowed_instruments=["ETHUSDT-PERP.BINANCE"])
    _, guard, s = run({"S-A": [twap]}, cfg, between=add_twap)
    # The algorithm's first child is refused by the guard (the algorithm sends its children to
    # RiskEngine.execute, where the guard sits); nothing fills.
    denied = [d for d in guard.denials if "allowed_instruments" in d]
    assert denied
    assert denied[0] == (
        "RiskGuard: BTCUSDT-PERP.BINANCE is not in allowed_instruments (ETHUSDT-PERP.BINANCE)"
    )
    assert s["S-A"].fills() == []
