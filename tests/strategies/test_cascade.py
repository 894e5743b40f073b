"""Cascade's rules on hand-built MarketState / StructuralEvent values: every trigger and
no-trigger of the setup, the exhaustion trigger, the levels and each invalidation."""

from __future__ import annotations

import math
from typing import Any

import pytest
from nautilus_trader.model.identifiers import InstrumentId

from actors.market_state import MarketState
from actors.structural_events import StructuralEvent
from strategies.cascade import CascadeConfig
from strategies.cascade import CascadeMove
from strategies.cascade import cascade_levels
from strategies.cascade import event_invalidation
from strategies.cascade import flow_turned
from strategies.cascade import setup
from strategies.cascade import state_invalidation
from strategies.intents import Direction

IID = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
CFG = CascadeConfig(instrument_id=IID)
RECENT = [100.0, 99.0, 97.0, 95.5]  # the mids of the last 10 s: a sell-off


def state(**fields: Any) -> MarketState:
    # Default: a long squeeze in progress: 90 % of the 5 s flow sells, the bid thin.
    values: dict[str, Any] = {
        "mid": 95.0,
        "aggr_buy_usd_5s": 10_000.0,
        "aggr_sell_usd_5s": 190_000.0,
        "bid_thinning_ratio": 0.3,
        "ask_thinning_ratio": 0.9,
        "aggr_buy_usd_1s": 0.0,
        "aggr_sell_usd_1s": 40_000.0,
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


DROP = event("OI_DROP", -6.0)
LONG = CascadeMove(Direction.LONG, 100.0, 95.0)
SHORT = CascadeMove(Direction.SHORT, 100.0, 105.0)


# --- setup ------------------------------------------------------------------------------------


def test_oi_drop_with_selling_and_a_thin_bid_arms_a_long_from_the_top_to_the_low() -> None:
    move, why = setup(DROP, state(), RECENT, CFG)
    assert move == LONG
    assert why.startswith("OI_DROP -6.00% in 10 s, 5 s flow share -0.90 (sells)")


def test_oi_drop_with_buying_and_a_thin_ask_arms_a_short() -> None:
    squeeze = state(
        mid=105.0,
        aggr_buy_usd_5s=190_000.0,
        aggr_sell_usd_5s=10_000.0,
        bid_thinning_ratio=0.9,
        ask_thinning_ratio=0.4,
    )
    move, _ = setup(DROP, squeeze, [100.0, 102.0, 104.0], CFG)
    assert move == SHORT


def test_no_setup_without_an_oi_drop() -> None:
    for kind in ("OI_SURGE", "DEPTH_THINNING", "BOOK_REFILL", "ABSORPTION"):
        assert setup(event(kind, -6.0, "BID"), state(), RECENT, CFG)[0] is None


def test_no_setup_when_the_drop_is_smaller_than_the_threshold() -> None:
    assert setup(event("OI_DROP", -4.99), state(), RECENT, CFG)[0] is None
    assert setup(event("OI_DROP", -5.0), state(), RECENT, CFG)[0] == LONG


def test_no_setup_when_the_flow_is_not_one_sided() -> None:
    # 35k buys vs 65k sells: share -0.30.
    mixed = state(aggr_buy_usd_5s=35_000.0, aggr_sell_usd_5s=65_000.0)
    assert setup(DROP, mixed, RECENT, CFG)[0] is None
    assert setup(DROP, state(aggr_buy_usd_5s=math.nan), RECENT, CFG)[0] is None


def test_no_setup_when_the_hit_side_is_not_thinning() -> None:
    assert setup(DROP, state(bid_thinning_ratio=0.51), RECENT, CFG)[0] is None
    assert setup(DROP, state(bid_thinning_ratio=0.5), RECENT, CFG)[0] == LONG
    # The other side thinning does not make a long squeeze.
    other = state(bid_thinning_ratio=0.9, ask_thinning_ratio=0.1)
    assert setup(DROP, other, RECENT, CFG)[0] is None


def test_no_setup_without_a_market_state() -> None:
    assert setup(DROP, None, RECENT, CFG) == (None, "no market state yet")


# --- entry trigger ----------------------------------------------------------------------------


def test_flow_turned_after_a_long_squeeze_needs_buys_at_least_sells() -> None:
    assert flow_turned(state(aggr_buy_usd_1s=20_000.0, aggr_sell_usd_1s=20_000.0), LONG)
    assert not flow_turned(state(aggr_buy_usd_1s=19_999.0, aggr_sell_usd_1s=20_000.0), LONG)
    assert not flow_turned(state(aggr_buy_usd_1s=math.nan), LONG)


def test_flow_turned_after_a_short_squeeze_needs_sells_at_least_buys() -> None:
    assert flow_turned(state(aggr_buy_usd_1s=5_000.0, aggr_sell_usd_1s=6_000.0), SHORT)
    assert not flow_turned(state(aggr_buy_usd_1s=7_000.0, aggr_sell_usd_1s=6_000.0), SHORT)


def test_the_extreme_follows_the_cascade_only_further() -> None:
    assert LONG.seen(94.0).extreme == 94.0
    assert LONG.seen(96.0).extreme == 95.0
    assert SHORT.seen(106.0).extreme == 106.0
    assert SHORT.seen(104.0).extreme == 105.0


# --- levels -----------------------------------------------------------------------------------


def test_long_stop_below_the_extreme_target_half_the_move_back() -> None:
    stop, target = cascade_levels(LONG, CFG)
    assert stop == pytest.approx(95.0 * (1 - 0.0015))
    assert target == pytest.approx(97.5)


def test_short_stop_above_the_extreme_target_half_the_move_back() -> None:
    stop, target = cascade_levels(SHORT, CFG)
    assert stop == pytest.approx(105.0 * 1.0015)
    assert target == pytest.approx(102.5)


def test_levels_round_trip_through_the_published_levels() -> None:
    assert CascadeMove.from_levels(SHORT.to_levels(True)) == SHORT


# --- invalidation -----------------------------------------------------------------------------


def test_new_extreme_beyond_the_stop_invalidates() -> None:
    stop, _ = cascade_levels(LONG, CFG)
    assert state_invalidation(state(mid=stop - 0.01), LONG, stop) is not None
    assert state_invalidation(state(mid=stop + 0.01), LONG, stop) is None
    short_stop, _ = cascade_levels(SHORT, CFG)
    assert state_invalidation(state(mid=short_stop + 0.01), SHORT, short_stop) is not None
    assert state_invalidation(state(mid=short_stop - 0.01), SHORT, short_stop) is None


def test_further_oi_drop_in_the_same_direction_invalidates() -> None:
    assert event_invalidation(DROP, state(), LONG) is not None
    # Flow unknown: counted as the same direction (exit).
    assert event_invalidation(DROP, None, LONG) is not None


def test_oi_drop_in_the_other_direction_or_other_events_do_not() -> None:
    buying = state(aggr_buy_usd_5s=150_000.0, aggr_sell_usd_5s=50_000.0)
    assert event_invalidation(DROP, buying, LONG) is None
    for kind in ("OI_SURGE", "BOOK_REFILL", "DEPTH_THINNING"):
        assert event_invalidation(event(kind, -6.0, "BID"), state(), LONG) is None


def test_config_fails_naming_the_field() -> None:
    with pytest.raises(ValueError, match="retrace_share"):
        CascadeConfig(instrument_id=IID, retrace_share=1.0)
    with pytest.raises(ValueError, match="min_one_sided_share"):
        CascadeConfig(instrument_id=IID, min_one_sided_share=2.0)
