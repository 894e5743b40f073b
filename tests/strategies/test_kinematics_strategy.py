"""
Kinematics on the shared runtime in a real BacktestEngine: every transition of its life (valid,
invalid, forced reset), the entry only on exhaustion, each exit path and each invalidation while
ARMED and while ENTERED, driven by hand-built MarketState / StructuralEvent / RegimeChange data.
"""

from __future__ import annotations

from typing import Any

import pytest
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType

from controllers.protocol import Regime
from controllers.protocol import StrategyStatus
from strategies.intents import Direction
from strategies.kinematics import Absorption
from strategies.kinematics import Kinematics
from strategies.kinematics import KinematicsConfig
from strategies.state_machine import InvalidStrategyTransition
from tests.strategies.rulebook_driver import BTC
from tests.strategies.rulebook_driver import Driver
from tests.strategies.rulebook_driver import Step
from tests.strategies.rulebook_driver import base_config
from tests.strategies.rulebook_driver import moves
from tests.strategies.rulebook_driver import reasons
from tests.strategies.rulebook_driver import run_strategy

S = StrategyStatus
SID = "Kinematics-K"
NEAR = (49_999.9, 50_000.1)
AT_TARGET = (49_930.0, 49_930.2)  # the short's target is 50,000 - 1.5 x 40 = 49,940
ABOVE_STOP = (50_100.0, 50_100.2)  # the short's stop is 50,000 + 8 bps = 50,040

# Aggressive buying absorbed: 200k bought vs 20k sold in 5 s, the mid moved 1 bp.
ABSORBED: dict[str, Any] = {
    "mid": 50_000.0,
    "aggr_buy_usd_5s": 200_000.0,
    "aggr_sell_usd_5s": 20_000.0,
    "mid_change_bps_5s": 1.0,
    "aggr_buy_usd_1s": 50_000.0,
    "aggr_sell_usd_1s": 0.0,
    "mid_accel_bps_s2": 0.5,
}


def absorbed(d: Driver, **fields: Any) -> None:
    d.state(**{**ABSORBED, **fields})


def exhausted(d: Driver) -> None:
    absorbed(d, mid_accel_bps_s2=-0.5)


def enable(d: Driver) -> None:
    d.gate("ENABLE", SID)


ARM: dict[int, Step] = {0: enable, 1: absorbed}
ENTRY: dict[int, Step] = {**ARM, 2: exhausted}


def run(
    steps: dict[int, Step], prices: list[tuple[float, float]], **cfg: Any
) -> tuple[Any, Kinematics, Driver]:
    values = base_config(strategy_id="Kinematics", order_id_tag="K", arm_timeout_secs=5.0)
    values.update(cfg)
    strategy = Kinematics(KinematicsConfig(**values))
    engine, driver = run_strategy(strategy, steps, prices)
    return engine, strategy, driver


def test_full_trade_short_against_absorbed_buying_through_the_target() -> None:
    prices = [NEAR] * 5 + [AT_TARGET] * 3 + [NEAR] * 5
    engine, k, driver = run({**ENTRY, 10: absorbed}, prices)
    assert moves(k) == [
        ("DISABLED", "SCANNING"),
        ("SCANNING", "ARMED"),
        ("ARMED", "ENTERED"),
        ("ENTERED", "EXITED"),
        ("EXITED", "COOLDOWN"),
        ("COOLDOWN", "SCANNING"),
    ]
    assert reasons(k)[3] == "flat: target"
    entry = next(o for o in engine.kernel.cache.orders() if "entry" in o.tags)
    assert entry.side == OrderSide.SELL
    entered = next(r for r in driver.reports if r.state == "ENTERED")
    assert entered.stop_price == pytest.approx(50_040.0)
    assert entered.target_price == pytest.approx(49_940.0)
    assert engine.kernel.portfolio.is_flat(BTC.id)
    assert engine.kernel.cache.orders_open() == []


def test_no_entry_while_the_aggression_continues() -> None:
    # Buyers keep going (accel positive, 1 s share 1.0): ARMED, no order, then the timeout.
    steps = {**ARM, **{i: absorbed for i in range(2, 8)}}
    engine, k, _ = run(steps, [NEAR] * 9)
    assert moves(k)[-1] == ("ARMED", "SCANNING")
    assert reasons(k)[-1] == "arm_timeout_secs 5 passed without an entry trigger"
    assert engine.kernel.cache.orders() == []


def test_one_second_share_fading_triggers_the_entry() -> None:
    faded = {2: lambda d: absorbed(d, aggr_buy_usd_1s=5_000.0, aggr_sell_usd_1s=5_000.0)}
    _, k, _ = run({**ARM, **faded}, [NEAR] * 5)
    assert k.state == S.ENTERED
    assert reasons(k)[-1].startswith("entry filled")


def test_stop_is_beyond_the_extreme_seen_while_armed() -> None:
    # The mid rose to 50,030 while ARMED (within the 8 bps buffer): stop 50,030 x 1.0008.
    steps = {**ARM, 2: lambda d: absorbed(d, mid=50_030.0), 3: exhausted}
    _, k, _ = run(steps, [NEAR] * 6)
    assert k.state == S.ENTERED
    assert k.levels.stop == pytest.approx(50_030.0 * 1.0008)
    assert k.levels.target == pytest.approx(50_000.0 - 1.5 * (50_030.0 * 1.0008 - 50_000.0))


def test_protective_stop_and_target_rest_at_the_venue_while_entered() -> None:
    engine, k, _ = run(ENTRY, [NEAR] * 5)
    assert k.state == S.ENTERED
    kinds = sorted(
        (o.order_type, o.side, o.is_reduce_only)
        for o in engine.kernel.cache.orders_open(instrument_id=BTC.id)
    )
    assert kinds == [
        (OrderType.STOP_MARKET, OrderSide.BUY, True),
        (OrderType.MARKET_IF_TOUCHED, OrderSide.BUY, True),
    ]


def test_exit_through_the_stop() -> None:
    engine, k, _ = run(ENTRY, [NEAR] * 5 + [ABOVE_STOP] * 3)
    assert reasons(k)[3] == "flat: stop"
    assert engine.kernel.portfolio.is_flat(BTC.id)


# --- invalidation while ENTERED: close at market now --------------------------------------------


def test_mid_through_the_absorbed_level_while_entered_closes() -> None:
    steps = {**ENTRY, 5: lambda d: absorbed(d, mid=50_041.0)}
    engine, k, _ = run(steps, [NEAR] * 8)
    assert reasons(k)[3].startswith("flat: invalidated: mid 50041 above the absorbed level 50000")
    assert engine.kernel.portfolio.is_flat(BTC.id)
    assert engine.kernel.cache.orders_open() == []


def test_mid_within_the_buffer_while_entered_stays() -> None:
    steps = {**ENTRY, 5: lambda d: absorbed(d, mid=50_039.0)}
    _, k, _ = run(steps, [NEAR] * 8)
    assert k.state == S.ENTERED


def test_oi_surge_while_entered_closes() -> None:
    steps = {**ENTRY, 5: lambda d: d.event("OI_SURGE", 5.5)}
    engine, k, _ = run(steps, [NEAR] * 8)
    assert reasons(k)[3].startswith("flat: invalidated: OI_SURGE +5.50%")
    assert engine.kernel.portfolio.is_flat(BTC.id)


def test_other_events_while_entered_do_nothing() -> None:
    steps = {**ENTRY, 5: lambda d: d.event("OI_DROP", -6.0), 6: lambda d: d.event("ABSORPTION")}
    _, k, _ = run(steps, [NEAR] * 8)
    assert k.state == S.ENTERED


def test_regime_leaving_sideways_while_entered_closes() -> None:
    steps = {**ENTRY, 5: lambda d: d.regime(Regime.EXPANSION)}
    engine, k, _ = run(steps, [NEAR] * 8)
    assert reasons(k)[3] == "flat: invalidated: regime SIDEWAYS->EXPANSION"
    assert engine.kernel.portfolio.is_flat(BTC.id)


def test_regime_staying_sideways_while_entered_does_nothing() -> None:
    steps = {**ENTRY, 5: lambda d: d.regime(Regime.SIDEWAYS)}
    _, k, _ = run(steps, [NEAR] * 8)
    assert k.state == S.ENTERED


def test_time_stop_after_max_hold_secs() -> None:
    steps = {**ENTRY, **{i: lambda d: absorbed(d, mid=50_010.0) for i in range(3, 12)}}
    _, k, _ = run(steps, [NEAR] * 12, max_hold_secs=5.0)
    assert reasons(k)[3].startswith("flat: invalidated: time stop: max_hold_secs 5 passed")


# --- invalidation while ARMED: back to SCANNING, nothing sent -----------------------------------


def test_mid_through_the_absorbed_level_while_armed_goes_back_to_scanning() -> None:
    steps = {**ARM, 2: lambda d: absorbed(d, mid=50_041.0)}
    engine, k, _ = run(steps, [NEAR] * 4)
    assert moves(k)[-1] == ("ARMED", "SCANNING")
    assert reasons(k)[-1].startswith("invalidated: mid 50041 above the absorbed level")
    assert engine.kernel.cache.orders() == []


def test_oi_surge_while_armed_goes_back_to_scanning() -> None:
    steps = {**ARM, 2: lambda d: d.event("OI_SURGE", 5.5)}
    _, k, _ = run(steps, [NEAR] * 4)
    assert moves(k)[-1] == ("ARMED", "SCANNING")


def test_regime_leaving_sideways_while_armed_goes_back_to_scanning() -> None:
    steps = {**ARM, 2: lambda d: d.regime(Regime.DISABLED)}
    _, k, _ = run(steps, [NEAR] * 4)
    assert reasons(k)[-1] == "invalidated: regime SIDEWAYS->DISABLED"


# --- the state machine on a live strategy ------------------------------------------------------


def test_invalid_transition_raises_and_changes_nothing() -> None:
    values = base_config(strategy_id="Kinematics", order_id_tag="K")
    k = Kinematics(KinematicsConfig(**values))
    seen: list[str] = []

    def jump(d: Driver) -> None:
        for target in (S.ENTERED, S.COOLDOWN, S.EXITED):
            try:
                k.transition(target, "jump")
            except InvalidStrategyTransition as exc:
                seen.append(str(exc))

    _, driver = run_strategy(k, {0: enable, 1: jump}, [NEAR] * 3)
    assert seen == [
        "invalid transition SCANNING -> ENTERED (jump)",
        "invalid transition SCANNING -> COOLDOWN (jump)",
        "invalid transition SCANNING -> EXITED (jump)",
    ]
    assert k.state == S.SCANNING
    assert moves(k) == [("DISABLED", "SCANNING")]
    assert [r.state for r in driver.reports] == ["DISABLED", "SCANNING"]


def test_forced_reset_while_armed_is_disabled_with_nothing_open() -> None:
    steps = {**ARM, 2: lambda d: d.gate("RESET", SID)}
    engine, k, driver = run(steps, [NEAR] * 4)
    assert moves(k)[-1] == ("ARMED", "DISABLED")
    assert reasons(k)[-1] == "forced reset: controller: test"
    assert (driver.reports[-1].state, driver.reports[-1].flat) == ("DISABLED", True)
    assert engine.kernel.cache.orders_open() == []


def test_forced_reset_while_entered_closes_then_reports_disabled_and_flat() -> None:
    steps = {**ENTRY, 5: lambda d: d.gate("RESET", SID)}
    engine, k, driver = run(steps, [NEAR] * 8)
    assert moves(k)[-1] == ("ENTERED", "DISABLED")
    assert engine.kernel.portfolio.is_flat(BTC.id)
    assert engine.kernel.cache.orders_open() == []
    assert all(r.state != "DISABLED" for r in driver.reports if not r.flat)


def test_disable_while_entered_closes_first() -> None:
    steps = {**ENTRY, 5: lambda d: d.gate("DISABLE", SID)}
    engine, k, driver = run(steps, [NEAR] * 8)
    assert moves(k)[-1] == ("ENTERED", "DISABLED")
    assert engine.kernel.portfolio.is_flat(BTC.id)
    assert (driver.reports[-1].state, driver.reports[-1].flat) == ("DISABLED", True)


def test_stale_state_disables() -> None:
    steps = {0: enable, 1: lambda d: absorbed(d, age_ns=3_000_000_000)}
    _, k, _ = run(steps, [NEAR] * 3)
    assert moves(k)[-1] == ("SCANNING", "DISABLED")
    assert reasons(k)[-1].startswith("stale state")


def test_setup_direction_is_against_the_aggressor() -> None:
    k = Kinematics(KinematicsConfig(**base_config(strategy_id="Kinematics", order_id_tag="K")))
    assert k.setup_direction(Absorption(Direction.SHORT, 1.0, 1.0).to_levels()) == "SHORT"
    assert k.setup_direction(Absorption(Direction.LONG, 1.0, 1.0).to_levels()) == "LONG"
