"""
Cascade on the shared runtime in a real BacktestEngine: arms on the OI_DROP of a sell-off, enters
only after exhaustion (the hit side refilled AND the 1 s flow turned), never before; each exit
path and each invalidation while ARMED and ENTERED; forced reset, driven by hand-built data.
"""

from __future__ import annotations

from typing import Any

import pytest
from nautilus_trader.model.enums import OrderSide

from controllers.protocol import Regime
from controllers.protocol import StrategyStatus
from strategies.cascade import Cascade
from strategies.cascade import CascadeConfig
from strategies.cascade import CascadeMove
from strategies.intents import Direction
from strategies.state_machine import InvalidStrategyTransition
from tests.strategies.rulebook_driver import BTC
from tests.strategies.rulebook_driver import Driver
from tests.strategies.rulebook_driver import Step
from tests.strategies.rulebook_driver import base_config
from tests.strategies.rulebook_driver import moves
from tests.strategies.rulebook_driver import reasons
from tests.strategies.rulebook_driver import run_strategy
from tests.strategies.test_geometry_strategy import SEC
from tests.strategies.test_geometry_strategy import START_NS

S = StrategyStatus
SID = "Cascade-C"
NEAR = (49_799.9, 49_800.1)
AT_TARGET = (50_160.0, 50_160.2)  # target: 49,800 + 0.5 x (50,500 - 49,800) = 50,150
BELOW_STOP = (49_700.0, 49_700.2)  # stop: 49,800 - 15 bps = 49,725.3

SELLING: dict[str, Any] = {
    "aggr_buy_usd_5s": 10_000.0,
    "aggr_sell_usd_5s": 300_000.0,
    "bid_thinning_ratio": 0.3,
    "ask_thinning_ratio": 0.9,
    "aggr_buy_usd_1s": 0.0,
    "aggr_sell_usd_1s": 60_000.0,
}
TURNED: dict[str, Any] = {**SELLING, "aggr_buy_usd_1s": 30_000.0, "aggr_sell_usd_1s": 10_000.0}


def selling(mid: float, **fields: Any) -> Step:
    return lambda d: d.state(mid=mid, **{**SELLING, **fields})


def turned(d: Driver, mid: float = 49_800.0) -> None:
    d.state(mid=mid, **TURNED)


def enable(d: Driver) -> None:
    d.gate("ENABLE", SID)


def oi_drop(d: Driver) -> None:
    d.event("OI_DROP", -6.0)


def refill(d: Driver) -> None:
    d.event("BOOK_REFILL", 1.2, "BID")


SELLOFF: dict[int, Step] = {
    0: enable,
    1: selling(50_500.0),
    2: selling(50_100.0),
    3: selling(49_800.0),
}
ARM: dict[int, Step] = {**SELLOFF, 4: oi_drop}
ENTRY: dict[int, Step] = {**ARM, 5: turned, 6: refill}


def run(
    steps: dict[int, Step], prices: list[tuple[float, float]], **cfg: Any
) -> tuple[Any, Cascade, Driver]:
    values = base_config(strategy_id="Cascade", order_id_tag="C", arm_timeout_secs=10.0)
    values.update(cfg)
    strategy = Cascade(CascadeConfig(**values))
    engine, driver = run_strategy(strategy, steps, prices)
    return engine, strategy, driver


def test_full_trade_long_after_the_long_squeeze_through_the_target() -> None:
    prices = [NEAR] * 9 + [AT_TARGET] * 3 + [NEAR] * 6
    engine, c, driver = run({**ENTRY, 15: turned}, prices)
    assert moves(c) == [
        ("DISABLED", "SCANNING"),
        ("SCANNING", "ARMED"),
        ("ARMED", "ENTERED"),
        ("ENTERED", "EXITED"),
        ("EXITED", "COOLDOWN"),
        ("COOLDOWN", "SCANNING"),
    ]
    assert reasons(c)[1].startswith("OI_DROP -6.00% in 10 s, 5 s flow share -0.94 (sells)")
    assert "long squeeze from 50500 to 49800" in reasons(c)[1]
    assert reasons(c)[3] == "flat: target"
    entry = next(o for o in engine.kernel.cache.orders() if "entry" in o.tags)
    assert entry.side == OrderSide.BUY
    entered = next(r for r in driver.reports if r.state == "ENTERED")
    assert entered.stop_price == pytest.approx(49_800.0 * (1 - 0.0015))
    assert entered.target_price == pytest.approx(50_150.0)
    assert engine.kernel.portfolio.is_flat(BTC.id)


def test_turned_flow_without_a_refill_never_enters() -> None:
    steps = {**ARM, **{i: turned for i in range(5, 9)}}
    engine, c, _ = run(steps, [NEAR] * 10)
    assert c.state == S.ARMED
    assert engine.kernel.cache.orders() == []


def test_refill_while_the_selling_goes_on_waits_for_the_flow_to_turn() -> None:
    steps = {**ARM, 5: selling(49_790.0), 6: refill, 7: selling(49_780.0), 8: turned}
    engine, c, _ = run(steps, [NEAR] * 11)
    assert [m for m in moves(c) if m[1] == "ENTERED"] == [("ARMED", "ENTERED")]
    entry = next(o for o in engine.kernel.cache.orders() if "entry" in o.tags)
    assert entry.ts_init == START_NS + 8 * SEC
    # The extreme followed the cascade down while ARMED: the stop is below 49,780.
    assert c.levels.stop == pytest.approx(49_780.0 * (1 - 0.0015))


def test_refill_with_the_quote_below_the_last_state_sets_the_stop_below_the_quote() -> None:
    # The refill arrives before the MarketState showing the cascade's last leg: the newest
    # quote (49,650) is 30 bps under the states' extreme (49,800), below the stop that extreme
    # gives (49,725.3). The extreme includes the quote, so the entry is not refused.
    low = (49_650.0, 49_650.2)
    engine, c, driver = run(ENTRY, [NEAR] * 6 + [low] * 5)
    assert ("ARMED", "ENTERED") in moves(c)
    assert ("ARMED", "SCANNING") not in moves(c)  # not refused
    entry = next(o for o in engine.kernel.cache.orders() if "entry" in o.tags)
    assert entry.side == OrderSide.BUY
    entered = next(r for r in driver.reports if r.state == "ENTERED")
    assert entered.stop_price == pytest.approx(49_650.1 * (1 - 0.0015))
    assert entered.stop_price < low[0]


def test_refill_of_the_other_side_does_not_count() -> None:
    steps = {**ARM, 5: turned, 6: lambda d: d.event("BOOK_REFILL", 1.2, "ASK"), 7: turned}
    engine, c, _ = run(steps, [NEAR] * 9)
    assert c.state == S.ARMED
    assert engine.kernel.cache.orders() == []


def test_no_setup_without_an_oi_drop_or_with_a_full_bid() -> None:
    _, quiet, _ = run({**SELLOFF, 5: selling(49_700.0)}, [NEAR] * 7)
    assert quiet.state == S.SCANNING
    full_bid = {**SELLOFF, 3: selling(49_800.0, bid_thinning_ratio=0.8), 4: oi_drop}
    _, c, _ = run(full_bid, [NEAR] * 6)
    assert c.state == S.SCANNING


MIXED = {"aggr_buy_usd_5s": 100_000.0, "aggr_sell_usd_5s": 300_000.0}  # share -0.50


def test_an_oi_drop_whose_selling_is_one_sided_a_moment_later_arms_then() -> None:
    # The drop crosses its threshold while the 5 s flow still holds buying from before the
    # sell-off; the next state, 1 s later, shows the selling one-sided.
    steps = {**SELLOFF, 3: selling(49_800.0, **MIXED), 4: oi_drop, 5: selling(49_790.0)}
    _, c, _ = run(steps, [NEAR] * 7)
    assert moves(c)[-1] == ("SCANNING", "ARMED")
    assert reasons(c)[-1].startswith("OI_DROP -6.00% in 10 s, 5 s flow share -0.94 (sells)")
    assert reasons(c)[-1].endswith("(confirmed 1.0 s after the OI_DROP); grant: test grant")
    assert "long squeeze from 50500 to 49790" in reasons(c)[-1]


def test_an_oi_drop_not_confirmed_within_setup_confirm_secs_arms_nothing() -> None:
    mixed = selling(49_800.0, **MIXED)
    late = {**SELLOFF, 3: mixed, 4: oi_drop, 5: mixed, 6: mixed, 7: mixed, 8: selling(49_790.0)}
    _, c, _ = run(late, [NEAR] * 10)  # one-sided 4 s after the drop: beyond the 3 s
    assert c.state == S.SCANNING
    at_once = {**SELLOFF, 3: mixed, 4: oi_drop, 5: selling(49_790.0)}
    _, c, _ = run(at_once, [NEAR] * 7, setup_confirm_secs=0.0)  # the instant-only reading
    assert c.state == S.SCANNING


def test_exit_through_the_stop() -> None:
    engine, c, _ = run(ENTRY, [NEAR] * 9 + [BELOW_STOP] * 3)
    assert reasons(c)[3] == "flat: stop"
    assert engine.kernel.portfolio.is_flat(BTC.id)


# --- invalidation while ENTERED --------------------------------------------------------------


def test_new_extreme_beyond_the_stop_while_entered_closes_at_market() -> None:
    steps = {**ENTRY, 8: lambda d: turned(d, mid=49_720.0)}
    engine, c, _ = run(steps, [NEAR] * 11)
    assert reasons(c)[3].startswith("flat: invalidated: cascade resumed: mid 49720 beyond")
    assert engine.kernel.portfolio.is_flat(BTC.id)
    assert engine.kernel.cache.orders_open() == []


def test_mid_above_the_stop_while_entered_stays() -> None:
    steps = {**ENTRY, 8: lambda d: turned(d, mid=49_730.0)}
    _, c, _ = run(steps, [NEAR] * 11)
    assert c.state == S.ENTERED


def test_further_oi_drop_with_selling_while_entered_closes() -> None:
    steps = {**ENTRY, 8: selling(49_790.0), 9: oi_drop}
    engine, c, _ = run(steps, [NEAR] * 12)
    assert reasons(c)[3].startswith("flat: invalidated: further OI_DROP -6.00%")
    assert engine.kernel.portfolio.is_flat(BTC.id)


def test_oi_drop_with_buying_while_entered_stays() -> None:
    buying = {"aggr_buy_usd_5s": 300_000.0, "aggr_sell_usd_5s": 10_000.0}
    steps = {**ENTRY, 8: lambda d: d.state(mid=49_850.0, **{**TURNED, **buying}), 9: oi_drop}
    _, c, _ = run(steps, [NEAR] * 12)
    assert c.state == S.ENTERED


def test_regime_out_of_expansion_longer_than_the_confirmation_closes() -> None:
    steps = {
        **ENTRY,
        8: lambda d: d.regime(Regime.DISABLED),
        **{i: turned for i in range(9, 14)},
    }
    engine, c, _ = run(steps, [NEAR] * 16, regime_exit_confirm_secs=2.0)
    assert reasons(c)[3] == "flat: invalidated: regime out of EXPANSION for more than 2 s"
    assert engine.kernel.portfolio.is_flat(BTC.id)


def test_regime_back_in_expansion_within_the_confirmation_stays() -> None:
    steps = {
        **ENTRY,
        8: lambda d: d.regime(Regime.DISABLED),
        9: lambda d: d.regime(Regime.EXPANSION),
        **{i: turned for i in range(10, 14)},
    }
    _, c, _ = run(steps, [NEAR] * 16, regime_exit_confirm_secs=2.0)
    assert c.state == S.ENTERED


def test_time_stop_after_max_hold_secs() -> None:
    steps = {**ENTRY, **{i: turned for i in range(7, 16)}}
    _, c, _ = run(steps, [NEAR] * 16, max_hold_secs=5.0)
    assert reasons(c)[3].startswith("flat: invalidated: time stop: max_hold_secs 5 passed")


# --- invalidation while ARMED --------------------------------------------------------------------


def test_regime_out_of_expansion_while_armed_goes_back_to_scanning() -> None:
    steps = {
        **ARM,
        5: lambda d: d.regime(Regime.DISABLED),
        **{i: selling(49_790.0) for i in (6, 7, 8)},
    }
    engine, c, _ = run(steps, [NEAR] * 10, regime_exit_confirm_secs=2.0)
    assert moves(c)[-1] == ("ARMED", "SCANNING")
    assert reasons(c)[-1] == "invalidated: regime out of EXPANSION for more than 2 s"
    assert engine.kernel.cache.orders() == []


def test_arm_timeout_returns_to_scanning() -> None:
    steps = {**ARM, **{i: selling(49_790.0) for i in range(5, 12)}}
    _, c, _ = run(steps, [NEAR] * 12, arm_timeout_secs=5.0)
    assert ("ARMED", "SCANNING") in moves(c)
    assert "arm_timeout_secs 5 passed without an entry trigger" in reasons(c)


# --- the state machine on a live strategy ------------------------------------------------------


def test_invalid_transitions_raise_and_change_nothing() -> None:
    c = Cascade(CascadeConfig(**base_config(strategy_id="Cascade", order_id_tag="C")))
    seen: list[str] = []

    def jump(*targets: StrategyStatus) -> Step:
        def step(d: Driver) -> None:
            for target in targets:
                try:
                    c.transition(target, "jump")
                except InvalidStrategyTransition as exc:
                    seen.append(str(exc))

        return step

    steps = {**ARM, 1: jump(S.ENTERED, S.EXITED), 5: jump(S.EXITED, S.COOLDOWN)}
    run_strategy(c, steps, [NEAR] * 7)
    assert seen == [
        "invalid transition SCANNING -> ENTERED (jump)",
        "invalid transition SCANNING -> EXITED (jump)",
        "invalid transition ARMED -> EXITED (jump)",
        "invalid transition ARMED -> COOLDOWN (jump)",
    ]
    assert c.state == S.ARMED
    assert moves(c) == [("DISABLED", "SCANNING"), ("SCANNING", "ARMED")]


def test_forced_reset_while_entered_closes_then_reports_disabled_and_flat() -> None:
    steps = {**ENTRY, 8: lambda d: d.gate("RESET", SID)}
    engine, c, driver = run(steps, [NEAR] * 11)
    assert moves(c)[-1] == ("ENTERED", "DISABLED")
    assert engine.kernel.portfolio.is_flat(BTC.id)
    assert engine.kernel.cache.orders_open() == []
    assert (driver.reports[-1].state, driver.reports[-1].flat) == ("DISABLED", True)
    assert all(r.state != "DISABLED" for r in driver.reports if not r.flat)


def test_forced_reset_while_armed_disables_with_nothing_sent() -> None:
    steps = {**ARM, 5: lambda d: d.gate("RESET", SID)}
    engine, c, _ = run(steps, [NEAR] * 7)
    assert moves(c)[-1] == ("ARMED", "DISABLED")
    assert engine.kernel.cache.orders() == []


def test_setup_direction_is_against_the_cascade() -> None:
    c = Cascade(CascadeConfig(**base_config(strategy_id="Cascade", order_id_tag="C")))
    assert c.setup_direction(CascadeMove(Direction.LONG, 100.0, 95.0).to_levels()) == "LONG"
    assert c.setup_direction(CascadeMove(Direction.SHORT, 100.0, 105.0).to_levels()) == "SHORT"
