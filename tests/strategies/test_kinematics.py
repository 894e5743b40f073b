"""Kinematics' rules on hand-built MarketState / StructuralEvent values: every trigger and
no-trigger of the setup, the exhaustion trigger, the levels and each invalidation."""

from __future__ import annotations

import math
from typing import Any

import pytest
from nautilus_trader.model.identifiers import InstrumentId

from actors.market_state import MarketState
from actors.structural_events import StructuralEvent
from controllers.protocol import Regime
from controllers.protocol import RegimeChange
from controllers.protocol import new_regime_change
from strategies.intents import Direction
from strategies.kinematics import Absorption
from strategies.kinematics import KinematicsConfig
from strategies.kinematics import event_invalidation
from strategies.kinematics import exhaustion
from strategies.kinematics import kinematics_levels
from strategies.kinematics import regime_invalidation
from strategies.kinematics import setup
from strategies.kinematics import state_invalidation

IID = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
CFG = KinematicsConfig(instrument_id=IID)


def state(**fields: Any) -> MarketState:
    # Default: 100k bought vs 20k sold in 5 s (share +0.667), the mid moved 1 bp.
    values: dict[str, Any] = {
        "mid": 100.0,
        "aggr_buy_usd_5s": 100_000.0,
        "aggr_sell_usd_5s": 20_000.0,
        "mid_change_bps_5s": 1.0,
        "aggr_buy_usd_1s": 30_000.0,
        "aggr_sell_usd_1s": 0.0,
        "mid_accel_bps_s2": 0.5,
    }
    values.update(fields)
    ctor: Any = MarketState
    result: MarketState = ctor(ts_event=0, ts_init=0, instrument_id=IID, **values)
    return result


def event(kind: str, value: float = 0.0, side: str = "") -> StructuralEvent:
    ctor: Any = StructuralEvent
    result: StructuralEvent = ctor(
        ts_event=0,
        ts_init=0,
        kind=kind,
        instrument_id=IID,
        value=value,
        side=side,
        window_secs=10.0,
    )
    return result


def regime(previous: Regime, new: Regime) -> RegimeChange:
    return new_regime_change(IID, previous, new, "test", "", 0, 0)


SHORT = Absorption(Direction.SHORT, 100.0, 100.0)  # buyers absorbed at 100
LONG = Absorption(Direction.LONG, 100.0, 100.0)  # sellers absorbed at 100


# --- setup ------------------------------------------------------------------------------------


def test_absorbed_buying_arms_a_short_at_the_absorbed_mid() -> None:
    absorption, why = setup(state(), CFG)
    assert absorption == SHORT
    assert why.startswith("120000 USD aggressive buying in 5 s (share +0.67")


def test_absorbed_selling_arms_a_long() -> None:
    absorption, _ = setup(state(aggr_buy_usd_5s=20_000.0, aggr_sell_usd_5s=100_000.0), CFG)
    assert absorption == LONG


def test_no_setup_when_the_flow_is_not_one_sided_enough() -> None:
    # 79k vs 21k: share 0.58 < 0.6; 80k vs 20k: share exactly 0.6 arms.
    below = state(aggr_buy_usd_5s=79_000.0, aggr_sell_usd_5s=21_000.0)
    assert setup(below, CFG)[0] is None
    assert setup(below, CFG)[1] == "5 s one-sided share +0.58 below 0.6"
    assert setup(state(aggr_buy_usd_5s=80_000.0, aggr_sell_usd_5s=20_000.0), CFG)[0] == SHORT


def test_no_setup_when_the_flow_is_too_small() -> None:
    small = state(aggr_buy_usd_5s=79_000.0, aggr_sell_usd_5s=20_000.0)  # 99k
    assert setup(small, CFG) == (
        None,
        "aggressive 5 s flow 99000 USD < min_aggr_usd_5s 100000",
    )


def test_no_setup_when_the_aggression_moved_price() -> None:
    assert setup(state(mid_change_bps_5s=3.01), CFG)[0] is None
    assert setup(state(mid_change_bps_5s=-3.01), CFG)[0] is None
    assert setup(state(mid_change_bps_5s=-3.0), CFG)[0] == SHORT


def test_no_setup_while_warming_up() -> None:
    for name in ("aggr_buy_usd_5s", "aggr_sell_usd_5s", "mid_change_bps_5s", "mid"):
        assert setup(state(**{name: math.nan}), CFG)[0] is None


# --- entry trigger ----------------------------------------------------------------------------


def test_acceleration_turning_against_the_buyers_triggers_the_short() -> None:
    assert exhaustion(state(mid_accel_bps_s2=-0.1), SHORT, CFG) is not None
    assert exhaustion(state(mid_accel_bps_s2=0.1), SHORT, CFG) is None
    assert exhaustion(state(mid_accel_bps_s2=0.0), SHORT, CFG) is None


def test_acceleration_turning_against_the_sellers_triggers_the_long() -> None:
    sellers = {"aggr_buy_usd_1s": 0.0, "aggr_sell_usd_1s": 30_000.0}
    assert exhaustion(state(mid_accel_bps_s2=0.1, **sellers), LONG, CFG) is not None
    assert exhaustion(state(mid_accel_bps_s2=-0.1, **sellers), LONG, CFG) is None


def test_one_second_share_fading_below_the_threshold_triggers() -> None:
    # Buyers' 1 s share: (11 - 9) / 20 = 0.1 < 0.2 -> exhausted; (12 - 8) / 20 = 0.2 -> not.
    faded = state(aggr_buy_usd_1s=11_000.0, aggr_sell_usd_1s=9_000.0)
    still = state(aggr_buy_usd_1s=12_000.0, aggr_sell_usd_1s=8_000.0)
    assert exhaustion(faded, SHORT, CFG) == (
        "aggressor's 1 s share +0.10 < 0.2 (buy 11000, sell 9000 USD)"
    )
    assert exhaustion(still, SHORT, CFG) is None


def test_a_second_without_aggressive_flow_is_exhaustion() -> None:
    quiet = state(aggr_buy_usd_1s=0.0, aggr_sell_usd_1s=0.0)
    assert exhaustion(quiet, SHORT, CFG) is not None


def test_unknown_inputs_never_trigger() -> None:
    unknown = state(mid_accel_bps_s2=math.nan, aggr_buy_usd_1s=math.nan)
    assert exhaustion(unknown, SHORT, CFG) is None


# --- levels -----------------------------------------------------------------------------------


def test_short_stop_beyond_the_extreme_target_one_and_a_half_stop_distances() -> None:
    absorption = SHORT.seen(100.05).seen(99.9)  # the extreme is the highest mid seen
    assert absorption.extreme == 100.05
    stop, target = kinematics_levels(absorption, 100.0, CFG)
    assert stop == pytest.approx(100.05 * 1.0008)
    assert target == pytest.approx(100.0 - 1.5 * (stop - 100.0))


def test_long_stop_below_the_lowest_mid_seen() -> None:
    absorption = LONG.seen(99.95).seen(100.2)
    assert absorption.extreme == 99.95
    stop, target = kinematics_levels(absorption, 100.0, CFG)
    assert stop == pytest.approx(99.95 * 0.9992)
    assert target == pytest.approx(100.0 + 1.5 * (100.0 - stop))


def test_levels_round_trip_through_the_published_levels() -> None:
    absorption = Absorption(Direction.LONG, 100.0, 99.9)
    assert Absorption.from_levels(absorption.to_levels()) == absorption


# --- invalidation -----------------------------------------------------------------------------


def test_mid_through_the_absorbed_level_by_more_than_the_buffer_invalidates_a_short() -> None:
    # Buyers were absorbed at 100: 100 * 1.0008 = 100.08 is the limit.
    assert state_invalidation(state(mid=100.081), SHORT, 8.0) is not None
    assert state_invalidation(state(mid=100.079), SHORT, 8.0) is None
    assert state_invalidation(state(mid=99.0), SHORT, 8.0) is None  # the other way is fine


def test_mid_through_the_absorbed_level_invalidates_a_long() -> None:
    assert state_invalidation(state(mid=99.919), LONG, 8.0) is not None
    assert state_invalidation(state(mid=99.921), LONG, 8.0) is None


def test_oi_surge_invalidates_other_events_do_not() -> None:
    assert event_invalidation(event("OI_SURGE", 5.5)) == "OI_SURGE +5.50% in 10 s"
    for kind in ("OI_DROP", "ABSORPTION", "DEPTH_THINNING", "BOOK_REFILL"):
        assert event_invalidation(event(kind, -1.0, "BID")) is None


def test_regime_leaving_sideways_invalidates() -> None:
    assert regime_invalidation(regime(Regime.SIDEWAYS, Regime.DISABLED)) is not None
    assert regime_invalidation(regime(Regime.SIDEWAYS, Regime.EXPANSION)) is not None
    assert regime_invalidation(regime(Regime.DISABLED, Regime.SIDEWAYS)) is None


def test_config_fails_naming_the_field() -> None:
    with pytest.raises(ValueError, match="min_one_sided_share"):
        KinematicsConfig(instrument_id=IID, min_one_sided_share=1.5)
    with pytest.raises(ValueError, match="exhausted_share"):
        KinematicsConfig(instrument_id=IID, exhausted_share=0.7)
