"""
Geometry on the shared runtime in a real BacktestEngine: gates, grants, the intent executor,
protective orders at the venue, every exit path and the timeouts.

A ``Driver`` actor plays the state builder and the controller: on each quote tick (one per
second) it runs one scripted step, which publishes hand-built ``MarketState`` /
``StructuralEvent`` / ``RegimeChange`` / ``StrategyGate`` data on the bus topics the real
publishers use, and answers grant requests on ``GRANT_ENDPOINT`` as told.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from actors.market_state import MARKET_STATE_DATA_TYPE
from actors.market_state import MarketState
from actors.structural_events import STRUCTURAL_EVENT_DATA_TYPE
from actors.structural_events import StructuralEvent
from actors.wallets.data import MANIPULATOR_STATE_DATA_TYPE
from actors.wallets.data import new_manipulator_state
from actors.wallets.manipulator_filter import ManipulatorFilterConfig
from common.nautilus import custom_data_topic
from controllers.protocol import GRANT_ENDPOINT
from controllers.protocol import REGIME_CHANGE_DATA_TYPE
from controllers.protocol import STRATEGY_GATE_DATA_TYPE
from controllers.protocol import STRATEGY_STATE_DATA_TYPE
from controllers.protocol import GrantRequest
from controllers.protocol import Regime
from controllers.protocol import StrategyState
from controllers.protocol import StrategyStatus
from controllers.protocol import new_regime_change
from controllers.protocol import new_strategy_gate
from strategies.geometry import Geometry
from strategies.geometry import GeometryConfig
from strategies.risk_guard import RiskGuardConfig
from strategies.risk_guard import install_risk_guard
from tests.strategies.late_orders_kit import HeldSubmit

BTC = TestInstrumentProvider.btcusdt_perp_binance()
START_NS = 1_704_067_200_000_000_000
SEC = 1_000_000_000
LOW = 50_000.0
HIGH = 50_500.0
S = StrategyStatus

Step = Callable[["Driver"], None]


class DriverConfig(ActorConfig, frozen=True):
    """Nothing to configure."""


class Driver(Actor):
    """Plays the state builder and the controller, one scripted step per quote tick."""

    def __init__(self, steps: dict[int, Step], grant: bool | None = True) -> None:
        super().__init__(DriverConfig(component_id="Driver"))
        self.steps = steps
        self.grant = grant
        self.tick = -1
        self.reports: list[StrategyState] = []
        self.grants: list[GrantRequest] = []

    def on_start(self) -> None:
        self.subscribe_quote_ticks(BTC.id)
        if self.grant is not None:
            self.msgbus.register(GRANT_ENDPOINT, self._grant)
        self.msgbus.subscribe(custom_data_topic(STRATEGY_STATE_DATA_TYPE), self.reports.append)

    def _grant(self, request: GrantRequest) -> None:
        self.grants.append(request)
        request.granted = self.grant
        request.reason = "test grant" if self.grant else "held by another strategy"

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.tick += 1
        step = self.steps.get(self.tick)
        if step is not None:
            step(self)

    # what the steps publish
    def now(self) -> int:
        return self.clock.timestamp_ns()

    def state(self, age_ns: int = 0, **fields: Any) -> None:
        values: dict[str, Any] = {
            "mid": 50_050.0,
            "mid_high_15m": HIGH,
            "mid_low_15m": LOW,
            "bid_thinning_ratio": 0.9,
            "ask_thinning_ratio": 0.9,
            "depth_asymmetry_20bps": 0.0,
        }
        values.update(fields)
        now = self.now()
        ctor: Any = MarketState
        ms: MarketState = ctor(
            ts_event=now, ts_init=now, instrument_id=BTC.id, input_ts_ns=now - age_ns, **values
        )
        self.publish_data(MARKET_STATE_DATA_TYPE, ms)

    def event(self, kind: str, value: float = 0.0, side: str = "") -> None:
        now = self.now()
        ctor: Any = StructuralEvent
        ev = ctor(
            ts_event=now,
            ts_init=now,
            kind=kind,
            instrument_id=BTC.id,
            value=value,
            side=side,
            window_secs=10.0,
        )
        self.publish_data(STRUCTURAL_EVENT_DATA_TYPE, ev)

    def gate(self, action: str, strategy_id: str = "Geometry-G") -> None:
        now = self.now()
        gate = new_strategy_gate(strategy_id, BTC.id, action == "ENABLE", action, "test", now, now)
        self.publish_data(STRATEGY_GATE_DATA_TYPE, gate)

    def regime(self, new: Regime) -> None:
        now = self.now()
        change = new_regime_change(BTC.id, Regime.SIDEWAYS, new, "test", "", now, now)
        self.publish_data(REGIME_CHANGE_DATA_TYPE, change)


def enable(d: Driver) -> None:
    d.gate("ENABLE")


def at_low_edge(d: Driver) -> None:
    d.state(mid=50_050.0)


def absorption(d: Driver) -> None:
    d.event("ABSORPTION", -300_000.0)


def quotes(prices: list[tuple[float, float]]) -> list[QuoteTick]:
    return [
        QuoteTick(
            BTC.id,
            Price(bid, 1),
            Price(ask, 1),
            Quantity.from_str("100.000"),
            Quantity.from_str("100.000"),
            START_NS + i * SEC,
            START_NS + i * SEC,
        )
        for i, (bid, ask) in enumerate(prices)
    ]


NEAR_LOW = (50_049.9, 50_050.1)
AT_TARGET = (50_300.0, 50_300.2)
BELOW_STOP = (49_900.0, 49_900.2)


def run(
    steps: dict[int, Step],
    prices: list[tuple[float, float]],
    grant: bool | None = True,
    strategy_cls: type[Geometry] = Geometry,
    before_run: Callable[[BacktestEngine], None] | None = None,
    **cfg: Any,
) -> tuple[BacktestEngine, Geometry, Driver]:
    engine = BacktestEngine(
        BacktestEngineConfig(trader_id="GEOM-001", logging=LoggingConfig(bypass_logging=True))
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
    values: dict[str, Any] = {
        "instrument_id": BTC.id,
        "strategy_id": "Geometry",
        "order_id_tag": "G",
        "size_pct_equity": 1.0,
        "arm_timeout_secs": 5.0,
        "max_hold_secs": 30.0,
        "cooldown_secs": 3.0,
    }
    values.update(cfg)
    strategy = strategy_cls(GeometryConfig(**values))
    engine.add_strategy(strategy)
    install_risk_guard(engine.kernel, RiskGuardConfig())
    if before_run is not None:
        before_run(engine)
    engine.run()
    return engine, strategy, driver


def moves(strategy: Geometry) -> list[tuple[str, str]]:
    return [(a, b) for a, b, _ in strategy.transitions]


def reasons(strategy: Geometry) -> list[str]:
    return [r for _, _, r in strategy.transitions]


ENTRY: dict[int, Step] = {0: enable, 1: at_low_edge, 2: absorption}


def test_enable_gate_starts_scanning_and_ignores_other_strategies_gates() -> None:
    _, g, _ = run({0: lambda d: d.gate("ENABLE", "Other-X"), 1: enable}, [NEAR_LOW] * 3)
    assert moves(g) == [("DISABLED", "SCANNING")]


def test_full_trade_through_the_target() -> None:
    prices = [NEAR_LOW] * 5 + [AT_TARGET] * 3 + [NEAR_LOW] * 5
    steps = {**ENTRY, 10: at_low_edge}
    engine, g, driver = run(steps, prices)
    assert moves(g) == [
        ("DISABLED", "SCANNING"),
        ("SCANNING", "ARMED"),
        ("ARMED", "ENTERED"),
        ("ENTERED", "EXITED"),
        ("EXITED", "COOLDOWN"),
        ("COOLDOWN", "SCANNING"),
    ]
    assert reasons(g)[3] == "flat: target"
    assert engine.kernel.portfolio.is_flat(BTC.id)
    assert engine.kernel.cache.orders_open() == []
    # Every transition was published as StrategyState, with the frozen levels while ARMED.
    published = [(r.previous, r.state) for r in driver.reports if r.previous != r.state]
    assert published == moves(g)
    armed = next(r for r in driver.reports if r.state == "ARMED")
    assert armed.stop_price == 49_950.0 and armed.target_price == 50_250.0
    assert [r.strategy_id for r in driver.grants] == ["Geometry-G"]


def test_protective_stop_and_target_rest_at_the_venue_while_entered() -> None:
    engine, g, _ = run(ENTRY, [NEAR_LOW] * 6)
    assert g.state == S.ENTERED
    open_orders = engine.kernel.cache.orders_open(instrument_id=BTC.id)
    kinds = sorted((o.order_type, o.is_reduce_only, str(o.quantity)) for o in open_orders)
    assert kinds == [
        (OrderType.STOP_MARKET, True, "0.199"),
        (OrderType.MARKET_IF_TOUCHED, True, "0.199"),
    ]
    stop = next(o for o in open_orders if o.order_type == OrderType.STOP_MARKET)
    assert stop.trigger_price == Price(49_950.0, 1)
    assert str(engine.kernel.portfolio.net_position(BTC.id)) == "0.199"


def test_exit_through_the_stop() -> None:
    prices = [NEAR_LOW] * 5 + [BELOW_STOP] * 3
    engine, g, _ = run(ENTRY, prices)
    assert moves(g)[-2:] == [("ENTERED", "EXITED"), ("EXITED", "COOLDOWN")]
    assert reasons(g)[3] == "flat: stop"
    assert engine.kernel.portfolio.is_flat(BTC.id)
    assert engine.kernel.cache.orders_open() == []


def test_oi_surge_while_entered_closes_at_market_without_waiting_for_the_stop() -> None:
    steps = {**ENTRY, 5: lambda d: d.event("OI_SURGE", 3.0)}
    engine, g, _ = run(steps, [NEAR_LOW] * 8)
    assert moves(g)[-2:] == [("ENTERED", "EXITED"), ("EXITED", "COOLDOWN")]
    assert reasons(g)[3].startswith("flat: invalidated: OI_SURGE +3.00%")
    assert engine.kernel.portfolio.is_flat(BTC.id)
    assert engine.kernel.cache.orders_open() == []


def test_defended_side_thinning_while_entered_closes() -> None:
    steps = {**ENTRY, 5: lambda d: d.event("DEPTH_THINNING", 0.4, "BID")}
    _, g, _ = run(steps, [NEAR_LOW] * 8)
    assert reasons(g)[3].startswith("flat: invalidated: DEPTH_THINNING of the defended bid")


def test_other_side_thinning_while_entered_does_nothing() -> None:
    steps = {**ENTRY, 5: lambda d: d.event("DEPTH_THINNING", 0.4, "ASK")}
    _, g, _ = run(steps, [NEAR_LOW] * 8)
    assert g.state == S.ENTERED


def test_mid_beyond_the_frozen_edge_while_entered_closes() -> None:
    steps = {**ENTRY, 5: lambda d: d.state(mid=49_940.0, mid_low_15m=49_900.0)}
    _, g, _ = run(steps, [NEAR_LOW] * 8)
    assert reasons(g)[3].startswith("flat: invalidated: mid 49940 below the frozen low 50000")


def test_regime_leaving_sideways_while_entered_closes() -> None:
    steps = {**ENTRY, 5: lambda d: d.regime(Regime.DISABLED)}
    _, g, _ = run(steps, [NEAR_LOW] * 8)
    assert reasons(g)[3] == "flat: invalidated: regime SIDEWAYS->DISABLED"


def test_time_stop_after_max_hold_secs() -> None:
    steps = {**ENTRY, **{i: at_low_edge for i in range(4, 12)}}
    _, g, _ = run(steps, [NEAR_LOW] * 12, max_hold_secs=5.0)
    assert reasons(g)[3].startswith("flat: invalidated: time stop: max_hold_secs 5 passed")


def test_regime_leaving_sideways_while_armed_goes_back_to_scanning() -> None:
    steps = {0: enable, 1: at_low_edge, 2: lambda d: d.regime(Regime.EXPANSION)}
    engine, g, _ = run(steps, [NEAR_LOW] * 4)
    assert moves(g)[-1] == ("ARMED", "SCANNING")
    assert reasons(g)[-1] == "invalidated: regime SIDEWAYS->EXPANSION"
    assert engine.kernel.cache.orders() == []


class _HeldEntry:
    """Holds the market entry's SubmitOrder (its acknowledgement is late), then lets it through
    (``release``) or has the venue's client reject it (``reject``)."""

    def __init__(self) -> None:
        self.held: HeldSubmit | None = None

    def install(self, engine: BacktestEngine) -> None:
        self.held = HeldSubmit(engine, lambda c: c.order.order_type == OrderType.MARKET)

    def release(self, _d: Driver) -> None:
        assert self.held is not None
        self.held.release()  # fails if nothing is held: the entry must still be on its way

    def reject(self, d: Driver) -> None:
        assert self.held is not None
        self.held.reject("test: the venue rejects the entry", d.now())


def test_an_invalidation_while_the_entry_is_on_its_way_closes_what_it_fills() -> None:
    entry = _HeldEntry()
    steps = {**ENTRY, 3: lambda d: d.event("OI_SURGE", 2.5), 4: entry.release}
    engine, g, _ = run(steps, [NEAR_LOW] * 8, before_run=entry.install)
    assert moves(g)[1:5] == [
        ("SCANNING", "ARMED"),
        ("ARMED", "ENTERED"),
        ("ENTERED", "EXITED"),
        ("EXITED", "COOLDOWN"),
    ]
    assert reasons(g)[3].startswith("flat: invalidated: OI_SURGE +2.50%"), reasons(g)
    assert engine.kernel.portfolio.is_flat(BTC.id)
    assert engine.kernel.cache.orders_open() == []
    # Closed at market by the strategy (a reduce-only IOC limit); no stop or target was sent.
    order_types = sorted(o.order_type.name for o in engine.kernel.cache.orders())
    assert order_types == ["LIMIT", "MARKET"], order_types
    # While the invalidated entry was on its way the strategy stayed ARMED, never SCANNING.
    assert ("ARMED", "SCANNING") not in moves(g)


def test_the_arm_timeout_does_not_end_a_setup_whose_entry_is_on_its_way() -> None:
    entry = _HeldEntry()
    # Armed at tick 1 (arm_timeout_secs 5), the entry sent at tick 2 and held until tick 9.
    steps = {**ENTRY, **{i: at_low_edge for i in range(3, 9)}, 9: entry.release}
    engine, g, _ = run(steps, [NEAR_LOW] * 11, before_run=entry.install)
    assert moves(g)[1:3] == [("SCANNING", "ARMED"), ("ARMED", "ENTERED")], g.transitions
    assert g.state == S.ENTERED
    assert len(engine.kernel.cache.orders_open(instrument_id=BTC.id)) == 2  # its stop and target


def test_a_rejected_entry_after_an_invalidation_goes_back_to_scanning_saying_both() -> None:
    entry = _HeldEntry()
    steps = {**ENTRY, 3: lambda d: d.event("OI_SURGE", 2.5), 4: entry.reject}
    engine, g, _ = run(steps, [NEAR_LOW] * 6, before_run=entry.install)
    assert moves(g)[-1] == ("ARMED", "SCANNING")
    reason = reasons(g)[-1]
    assert reason.startswith("invalidated: OI_SURGE +2.50%"), reason
    assert reason.endswith("; entry rejected: entry not filled: test: the venue rejects the entry")
    assert engine.kernel.portfolio.is_flat(BTC.id)
    assert engine.kernel.cache.orders_open() == []


def test_an_invalidation_ended_by_a_rejection_and_a_disable_does_not_close_the_next_trade() -> None:
    entry = _HeldEntry()
    steps = {
        **ENTRY,  # the first entry, held
        3: lambda d: d.event("OI_SURGE", 2.5),  # invalidated while on its way
        4: lambda d: d.gate("DISABLE"),
        5: entry.reject,  # -> DISABLED
        # After the risk guard's 30 s cooldown that follows a rejection:
        36: enable,
        37: at_low_edge,
        38: absorption,  # the second entry fills, and nothing invalidates it
    }
    engine, g, _ = run(steps, [NEAR_LOW] * 42, before_run=entry.install)
    assert ("ARMED", "DISABLED") in moves(g)
    assert moves(g)[-1] == ("ARMED", "ENTERED"), g.transitions
    assert g.state == S.ENTERED
    assert len(engine.kernel.cache.orders_open(instrument_id=BTC.id)) == 2  # its stop and target


def test_oi_surge_while_armed_goes_back_to_scanning() -> None:
    steps = {0: enable, 1: at_low_edge, 2: lambda d: d.event("OI_SURGE", 2.5)}
    _, g, _ = run(steps, [NEAR_LOW] * 4)
    assert moves(g)[-1] == ("ARMED", "SCANNING")


def test_levels_stay_frozen_while_the_rolling_low_falls() -> None:
    steps = {0: enable, 1: at_low_edge, 2: lambda d: d.state(mid=49_980.0, mid_low_15m=49_950.0)}
    _, g, _ = run(steps, [NEAR_LOW] * 4)
    assert g.state == S.ARMED
    assert g.levels.stop == 49_950.0  # still 10 bps below the FROZEN low of 50,000


def test_arm_timeout_returns_to_scanning() -> None:
    steps = {0: enable, 1: at_low_edge, **{i: lambda d: d.state(mid=50_200.0) for i in range(2, 9)}}
    _, g, _ = run(steps, [NEAR_LOW] * 9)
    assert moves(g)[-1] == ("ARMED", "SCANNING")
    assert reasons(g)[-1] == "arm_timeout_secs 5 passed without an entry trigger"


def test_no_entry_trigger_on_the_undefended_side() -> None:
    steps = {0: enable, 1: at_low_edge, 2: lambda d: d.event("ABSORPTION", 300_000.0)}
    engine, g, _ = run(steps, [NEAR_LOW] * 4)
    assert g.state == S.ARMED
    assert engine.kernel.cache.orders() == []


def test_refused_grant_keeps_scanning() -> None:
    _, g, driver = run({0: enable, 1: at_low_edge}, [NEAR_LOW] * 3, grant=False)
    assert g.state == S.SCANNING
    assert len(driver.grants) == 1


def test_no_controller_means_no_grant() -> None:
    _, g, _ = run({0: enable, 1: at_low_edge}, [NEAR_LOW] * 3, grant=None)
    assert g.state == S.SCANNING


def test_disable_while_armed_goes_straight_to_disabled() -> None:
    steps = {0: enable, 1: at_low_edge, 2: lambda d: d.gate("DISABLE")}
    _, g, driver = run(steps, [NEAR_LOW] * 4)
    assert moves(g)[-1] == ("ARMED", "DISABLED")
    assert driver.reports[-1].state == "DISABLED" and driver.reports[-1].flat


def test_disable_while_entered_closes_first_then_reports_disabled() -> None:
    steps = {**ENTRY, 5: lambda d: d.gate("DISABLE")}
    engine, g, driver = run(steps, [NEAR_LOW] * 8)
    assert moves(g)[-1] == ("ENTERED", "DISABLED")
    assert engine.kernel.portfolio.is_flat(BTC.id)
    assert engine.kernel.cache.orders_open() == []
    final = driver.reports[-1]
    assert (final.state, final.flat) == ("DISABLED", True)
    # Nothing reported DISABLED while the position was still open.
    assert all(r.state != "DISABLED" for r in driver.reports if not r.flat)


def test_forced_reset_while_entered_ends_flat_and_disabled() -> None:
    steps = {**ENTRY, 5: lambda d: d.gate("RESET")}
    engine, g, _ = run(steps, [NEAR_LOW] * 8)
    assert g.state == S.DISABLED
    assert reasons(g)[-1] == "forced reset: controller: test"
    assert engine.kernel.portfolio.is_flat(BTC.id)


def test_stale_state_disables() -> None:
    steps = {0: enable, 1: lambda d: d.state(age_ns=3 * SEC)}
    _, g, _ = run(steps, [NEAR_LOW] * 3)
    assert moves(g)[-1] == ("SCANNING", "DISABLED")
    assert reasons(g)[-1] == "stale state: newest input 3000 ms old > max_state_age_ms 2000"


class Broken(Geometry):
    def scan(self, state: MarketState) -> Any:
        raise RuntimeError("boom")


def test_strategy_exception_disables() -> None:
    _, g, _ = run({0: enable, 1: at_low_edge}, [NEAR_LOW] * 3, strategy_cls=Broken)
    assert moves(g)[-1] == ("SCANNING", "DISABLED")
    assert reasons(g)[-1] == "strategy exception: RuntimeError: boom"


def test_entry_refused_by_the_venue_rules_goes_back_to_scanning() -> None:
    # 0.0001 % of 1,000,000 USDT = 1 USD: below one size step.
    _, g, _ = run(ENTRY, [NEAR_LOW] * 4, size_pct_equity=0.0001)
    assert moves(g)[-1] == ("ARMED", "SCANNING")
    assert reasons(g)[-1].startswith("entry refused: 0.0001% of equity")


def test_entry_denied_by_the_risk_guard_goes_back_to_scanning() -> None:
    # 20 % of equity = 200,000 USD > the guard's default max_order_notional_usd (100,000).
    _, g, _ = run(ENTRY, [NEAR_LOW] * 4, size_pct_equity=20.0)
    assert moves(g)[-1] == ("ARMED", "SCANNING")
    assert "max_order_notional_usd" in reasons(g)[-1]


def test_save_and_load_round_trip() -> None:
    _, g, _ = run(ENTRY, [NEAR_LOW] * 6)
    saved = g.on_save()
    fresh = Geometry(GeometryConfig(instrument_id=BTC.id))
    fresh.on_load(saved)
    assert fresh._restored is not None
    assert fresh._restored["state"] == "ENTERED"
    assert fresh._restored["levels"]["stop"] == 49_950.0


def test_entry_is_checked_against_the_live_quote_not_the_decision_mid() -> None:
    # ARMED at the low edge; by the trigger the ask is already above the frozen target.
    prices = [NEAR_LOW, NEAR_LOW, AT_TARGET, AT_TARGET]
    engine, g, _ = run(ENTRY, prices)
    assert moves(g)[-1] == ("ARMED", "SCANNING")
    assert reasons(g)[-1] == (
        "entry refused: a LONG needs stop < reference < target; got stop 49950, reference "
        "50300.2, target 50250"
    )
    assert engine.kernel.cache.orders() == []


def test_restarted_while_entered_resumes_entered_with_its_levels() -> None:
    engine, g, driver = run(ENTRY, [NEAR_LOW] * 6)
    assert g.state == S.ENTERED
    saved = g.on_save()
    # What a restart does to the strategy: a fresh component, its saved state loaded, started
    # against a cache that (after reconciliation) still holds the position.
    g.reset()
    assert g.state == S.DISABLED
    g.load(saved)
    g.start()
    assert g.state == S.ENTERED
    assert (g.levels.stop, g.levels.target) == (49_950.0, 50_250.0)
    report = driver.reports[-1]
    assert (report.previous, report.state) == ("ENTERED", "ENTERED")
    assert report.reason == "restarted while ENTERED: venue stop and target still protect"
    assert str(engine.kernel.portfolio.net_position(BTC.id)) == "0.199"
    # The executor manages the resting stop and target again.
    assert g.executor is not None
    assert g.executor.phase.value == "PROTECTED"
    stop = next(
        o for o in engine.kernel.cache.orders_open() if o.order_type == OrderType.STOP_MARKET
    )
    assert g.executor._stop == stop.client_order_id


def test_restarted_in_any_other_state_waits_disabled_for_the_gate() -> None:
    _, g, driver = run({0: enable, 1: at_low_edge}, [NEAR_LOW] * 3)
    assert g.state == S.ARMED
    saved = g.on_save()
    g.reset()
    g.load(saved)
    g.start()
    assert g.state == S.DISABLED
    assert driver.reports[-1].reason == "restarted (was ARMED)"


# -- the manipulator filter (wallet tracker) --------------------------------------------------


def manipulator(active: bool, direction: str = "NONE") -> Step:
    def publish(d: Driver) -> None:
        state = new_manipulator_state(
            d.now(),
            instrument_id=BTC.id,
            is_manipulator_active=active,
            manipulator_direction=direction,
            address="0xhunter" if active else "",
            position_usd=-600_000.0 if direction == "SHORT" else 0.0,
            behaviours="PRE_CASCADE_ENTRY" if active else "",
        )
        d.publish_data(MANIPULATOR_STATE_DATA_TYPE, state)

    return publish


def with_manipulator(active: bool, direction: str = "NONE") -> dict[int, Step]:
    report = manipulator(active, direction)

    def edge_with_report(d: Driver) -> None:
        report(d)
        at_low_edge(d)

    return {0: enable, 1: edge_with_report}


FILTER_ON: dict[str, Any] = {"manipulator_filter": ManipulatorFilterConfig(enabled=True)}


def test_filter_on_keeps_a_long_setup_scanning_while_a_short_manipulator_is_active() -> None:
    _, g, driver = run(with_manipulator(True, "SHORT"), [NEAR_LOW] * 3, **FILTER_ON)

    assert g.state == S.SCANNING
    assert driver.grants == []  # not even asked for the instrument


def test_filter_off_by_default_arms_the_same_setup_despite_the_manipulator() -> None:
    _, g, _ = run(with_manipulator(True, "SHORT"), [NEAR_LOW] * 3)

    assert moves(g)[-1] == ("SCANNING", "ARMED")


def test_filter_on_arms_when_no_manipulator_is_active_or_it_is_long_too() -> None:
    _, quiet, _ = run(with_manipulator(False), [NEAR_LOW] * 3, **FILTER_ON)
    _, along, _ = run(with_manipulator(True, "LONG"), [NEAR_LOW] * 3, **FILTER_ON)

    assert moves(quiet)[-1] == ("SCANNING", "ARMED")
    assert moves(along)[-1] == ("SCANNING", "ARMED")


def test_filter_on_without_any_manipulator_report_fails_closed() -> None:
    _, g, driver = run({0: enable, 1: at_low_edge}, [NEAR_LOW] * 3, **FILTER_ON)

    assert g.state == S.SCANNING
    assert driver.grants == []


def _exit_orders(engine: BacktestEngine) -> list[Any]:
    return [o for o in engine.kernel.cache.orders() if o.tags and "exit" in o.tags]


def test_regime_change_then_disable_gate_while_entered_sends_one_close_order() -> None:
    # The controller publishes the RegimeChange (an invalidation: close at market) and then the
    # DISABLE gate in the same instant: the second must join the running exit, not start another.
    def regime_then_gate(d: Driver) -> None:
        d.regime(Regime.DISABLED)
        d.gate("DISABLE")

    engine, g, driver = run({**ENTRY, 5: regime_then_gate}, [NEAR_LOW] * 8)
    assert len(_exit_orders(engine)) == 1
    assert moves(g)[-1] == ("ENTERED", "DISABLED")
    assert engine.kernel.portfolio.is_flat(BTC.id)
    assert (driver.reports[-1].state, driver.reports[-1].flat) == ("DISABLED", True)


def test_disable_gate_then_invalidation_while_entered_sends_one_close_order() -> None:
    def gate_then_surge(d: Driver) -> None:
        d.gate("DISABLE")
        d.event("OI_SURGE", 2.5)

    engine, g, _ = run({**ENTRY, 5: gate_then_surge}, [NEAR_LOW] * 8)
    assert len(_exit_orders(engine)) == 1
    assert moves(g)[-1] == ("ENTERED", "DISABLED")
    assert engine.kernel.portfolio.is_flat(BTC.id)
