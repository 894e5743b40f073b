"""Geometry's rules on hand-built MarketState / StructuralEvent values: every trigger and
no-trigger of the setup, the entry trigger and each invalidation."""

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
from strategies.geometry import FrozenRange
from strategies.geometry import GeometryConfig
from strategies.geometry import entry_trigger
from strategies.geometry import event_invalidation
from strategies.geometry import freeze_range
from strategies.geometry import regime_invalidation
from strategies.geometry import setup
from strategies.geometry import state_invalidation
from strategies.intents import Direction

IID = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
CFG = GeometryConfig(instrument_id=IID)
LOW = 100.0
HIGH = 101.0


def state(**fields: Any) -> MarketState:
    values: dict[str, Any] = {
        "mid": 100.1,
        "mid_high_15m": HIGH,
        "mid_low_15m": LOW,
        "bid_thinning_ratio": 0.9,
        "ask_thinning_ratio": 0.9,
        "depth_asymmetry_20bps": 0.0,
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


LONG = freeze_range(Direction.LONG, HIGH, LOW, 10.0)
SHORT = freeze_range(Direction.SHORT, HIGH, LOW, 10.0)


# --- levels -----------------------------------------------------------------------------------


def test_long_levels_stop_buffer_below_the_low_target_the_midpoint() -> None:
    assert LONG.stop == pytest.approx(99.9)
    assert LONG.target == pytest.approx(100.5)
    assert LONG.defended_side == "BID"


def test_short_levels_stop_buffer_above_the_high() -> None:
    assert SHORT.stop == pytest.approx(101.101)
    assert SHORT.target == pytest.approx(100.5)
    assert SHORT.defended_side == "ASK"


def test_levels_round_trip_through_the_published_levels() -> None:
    assert FrozenRange.from_levels(SHORT.to_levels()) == SHORT


# --- setup ------------------------------------------------------------------------------------


def test_setup_long_near_the_low_edge() -> None:
    frozen, why = setup(state(mid=100.14), CFG)
    assert frozen == LONG
    assert why.startswith("low edge: mid=100.14")


def test_setup_short_near_the_high_edge() -> None:
    frozen, _ = setup(state(mid=100.86), CFG)
    assert frozen == SHORT


def test_no_setup_in_the_middle_of_the_range() -> None:
    assert setup(state(mid=100.16), CFG) == (None, "mid not near an edge")
    assert setup(state(mid=100.84), CFG) == (None, "mid not near an edge")


def test_no_setup_while_the_range_warms_up() -> None:
    assert setup(state(mid_high_15m=math.nan), CFG)[0] is None
    assert setup(state(mid_low_15m=math.nan), CFG)[0] is None


def test_no_setup_when_the_range_is_too_narrow_or_too_wide() -> None:
    narrow = state(mid=100.01, mid_high_15m=100.1, mid_low_15m=100.0)  # ~10 bps
    wide = state(mid=100.1, mid_high_15m=104.0, mid_low_15m=100.0)  # ~400 bps
    assert setup(narrow, CFG)[1].startswith("width 10.0 bps outside [15, 300]")
    assert setup(wide, CFG)[1].startswith("width 399.6 bps outside")


def test_range_at_the_width_bounds_is_valid() -> None:
    low_bound = state(mid=100.0, mid_high_15m=100.15, mid_low_15m=100.0)  # 15 bps
    assert setup(low_bound, CFG)[0] is not None


def test_no_long_when_the_bid_is_thinning() -> None:
    frozen, why = setup(state(bid_thinning_ratio=0.69), CFG)
    assert frozen is None
    assert why == "low edge: bid_thinning_ratio=0.69 < 0.7"
    assert setup(state(bid_thinning_ratio=0.7), CFG)[0] == LONG


def test_no_short_when_the_ask_is_thinning() -> None:
    assert setup(state(mid=100.9, ask_thinning_ratio=0.5), CFG)[0] is None
    # The other side thinning does not matter at this edge.
    assert setup(state(mid=100.9, bid_thinning_ratio=0.1), CFG)[0] == SHORT


def test_no_long_when_asymmetry_opposes_the_fade() -> None:
    assert setup(state(depth_asymmetry_20bps=-0.11), CFG)[0] is None
    assert setup(state(depth_asymmetry_20bps=-0.1), CFG)[0] == LONG


def test_no_short_when_asymmetry_opposes_the_fade() -> None:
    assert setup(state(mid=100.9, depth_asymmetry_20bps=0.11), CFG)[0] is None
    assert setup(state(mid=100.9, depth_asymmetry_20bps=0.1), CFG)[0] == SHORT


def test_unknown_book_inputs_never_arm() -> None:
    assert setup(state(bid_thinning_ratio=math.nan), CFG)[0] is None
    assert setup(state(depth_asymmetry_20bps=math.nan), CFG)[0] is None


# --- entry trigger ----------------------------------------------------------------------------


def test_absorbed_selling_triggers_the_long() -> None:
    assert entry_trigger(event("ABSORPTION", -250_000.0), LONG) is not None
    assert entry_trigger(event("ABSORPTION", 250_000.0), LONG) is None


def test_absorbed_buying_triggers_the_short() -> None:
    assert entry_trigger(event("ABSORPTION", 250_000.0), SHORT) is not None
    assert entry_trigger(event("ABSORPTION", -250_000.0), SHORT) is None


def test_refill_of_the_defended_side_triggers() -> None:
    assert entry_trigger(event("BOOK_REFILL", 1.5, "BID"), LONG) is not None
    assert entry_trigger(event("BOOK_REFILL", 1.5, "ASK"), LONG) is None
    assert entry_trigger(event("BOOK_REFILL", 1.5, "ASK"), SHORT) is not None


def test_other_events_do_not_trigger() -> None:
    for kind in ("OI_DROP", "OI_SURGE", "DEPTH_THINNING", "FUNDING_ACCELERATION"):
        assert entry_trigger(event(kind, -1.0, "BID"), LONG) is None


# --- invalidation -----------------------------------------------------------------------------


def test_oi_surge_invalidates() -> None:
    assert event_invalidation(event("OI_SURGE", 3.0), LONG) == "OI_SURGE +3.00% in 10 s"
    assert event_invalidation(event("OI_DROP", -3.0), LONG) is None


def test_thinning_of_the_defended_side_invalidates() -> None:
    assert event_invalidation(event("DEPTH_THINNING", 0.4, "BID"), LONG) is not None
    assert event_invalidation(event("DEPTH_THINNING", 0.4, "ASK"), LONG) is None
    assert event_invalidation(event("DEPTH_THINNING", 0.4, "ASK"), SHORT) is not None
    assert event_invalidation(event("DEPTH_THINNING", 0.4, "BID"), SHORT) is None


def test_mid_beyond_the_frozen_low_by_more_than_the_buffer_invalidates_a_long() -> None:
    assert state_invalidation(state(mid=99.89), LONG, 10.0) is not None
    assert state_invalidation(state(mid=99.91), LONG, 10.0) is None


def test_mid_beyond_the_frozen_high_invalidates_a_short() -> None:
    assert state_invalidation(state(mid=101.11), SHORT, 10.0) is not None
    assert state_invalidation(state(mid=101.09), SHORT, 10.0) is None


def test_frozen_edge_governs_not_the_rolling_one() -> None:
    # The rolling low fell to 99.0: the mid at 99.5 is still beyond the FROZEN low.
    falling = state(mid=99.5, mid_low_15m=99.0)
    assert state_invalidation(falling, LONG, 10.0) is not None


def test_regime_leaving_sideways_invalidates() -> None:
    assert regime_invalidation(regime(Regime.SIDEWAYS, Regime.DISABLED)) is not None
    assert regime_invalidation(regime(Regime.SIDEWAYS, Regime.EXPANSION)) is not None
    assert regime_invalidation(regime(Regime.DISABLED, Regime.SIDEWAYS)) is None


def test_config_fails_naming_the_field() -> None:
    with pytest.raises(ValueError, match="edge_share"):
        GeometryConfig(instrument_id=IID, edge_share=0.5)
    with pytest.raises(ValueError, match="max_width_bps"):
        GeometryConfig(instrument_id=IID, min_width_bps=300.0, max_width_bps=200.0)
