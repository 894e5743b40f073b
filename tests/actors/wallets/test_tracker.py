"""Wallet tracker core: positions, notional, eviction and each behaviour on hand-built prints."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.model.identifiers import InstrumentId

from actors.wallets.data import Behaviour
from actors.wallets.tracker import WalletThresholds
from actors.wallets.tracker import WalletTracker

BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
ETH = InstrumentId.from_str("ETH-USD-PERP.HYPERLIQUID")
S = 1_000_000_000
T0 = 1_700_000_000 * S
HUNTER = "0xhunter"
MAKER = "0xmaker"
CROWD = "0xcrowd"
OTHER = "0xother"


def _trade(
    tracker: WalletTracker,
    secs: float,
    px: float,
    usd: float,
    buyer: str,
    seller: str,
    buyer_aggressed: bool = True,
    instrument: InstrumentId = BTC,
) -> None:
    tracker.on_trade(instrument, T0 + int(secs * S), px, usd / px, buyer_aggressed, buyer, seller)


def _labels(tracker: WalletTracker, address: str) -> list[str]:
    return [b.behaviour for b in tracker.behaviours if b.address == address]


def _price_slide(tracker: WalletTracker, start: float, end: float, px0: float, px1: float) -> None:
    """Small crowd prints between MAKER and CROWD moving the price from px0 to px1."""
    n = int(end - start)
    for i in range(n + 1):
        px = px0 + (px1 - px0) * i / n
        _trade(tracker, start + i, px, 1_000.0, MAKER, CROWD, buyer_aggressed=False)


# -- positions, notional, eviction --------------------------------------------------------------


def test_each_print_moves_both_parties_positions_and_notional() -> None:
    tracker = WalletTracker()

    _trade(tracker, 0, 100.0, 5_000.0, HUNTER, MAKER)
    _trade(tracker, 1, 100.0, 2_000.0, MAKER, HUNTER, buyer_aggressed=False)

    hunter = tracker.wallet(HUNTER)
    maker = tracker.wallet(MAKER)
    assert hunter is not None and maker is not None
    assert hunter.positions[BTC].qty == pytest.approx(30.0)
    assert maker.positions[BTC].qty == pytest.approx(-30.0)
    assert hunter.rolling_notional_usd == pytest.approx(7_000.0)
    assert hunter.positions[BTC].entry_ns == T0
    assert hunter.positions[BTC].last_exit_ns == T0 + S
    assert hunter.positions[BTC].taker_share == pytest.approx(1.0)
    assert maker.positions[BTC].taker_share == pytest.approx(0.0)


def test_round_trip_records_its_holding_period() -> None:
    tracker = WalletTracker()

    _trade(tracker, 0, 100.0, 5_000.0, HUNTER, MAKER)
    _trade(tracker, 42, 100.0, 5_000.0, MAKER, HUNTER, buyer_aggressed=False)

    hunter = tracker.wallet(HUNTER)
    assert hunter is not None
    assert hunter.positions[BTC].qty == 0.0
    assert hunter.holds == 1
    assert hunter.last_holding_secs == pytest.approx(42.0)


def test_rolling_notional_forgets_trades_older_than_the_window() -> None:
    tracker = WalletTracker(WalletThresholds(notional_window_secs=60, notional_bucket_secs=10))

    _trade(tracker, 0, 100.0, 5_000.0, HUNTER, MAKER)
    _trade(tracker, 30, 100.0, 1_000.0, HUNTER, MAKER)

    assert tracker.rolling_notional(HUNTER, T0 + 59 * S) == pytest.approx(6_000.0)
    assert tracker.rolling_notional(HUNTER, T0 + 61 * S) == pytest.approx(1_000.0)
    assert tracker.rolling_notional(HUNTER, T0 + 200 * S) == 0.0


def test_the_least_recently_traded_address_is_evicted_at_the_cap() -> None:
    tracker = WalletTracker(WalletThresholds(max_addresses=3))
    _trade(tracker, 0, 100.0, 1_000.0, "0xa", "0xb")
    _trade(tracker, 1, 100.0, 1_000.0, "0xa", "0xc")  # 0xb is now the least recent

    _trade(tracker, 2, 100.0, 1_000.0, "0xd", "0xa")

    assert tracker.n_addresses == 3
    assert tracker.wallet("0xb") is None
    assert tracker.wallet("0xc") is not None
    assert tracker.evictions == 1


def test_large_wallets_are_those_above_the_threshold_or_in_the_top_n() -> None:
    thresholds = WalletThresholds(large_min_notional_usd=80_000, large_top_n=2)
    tracker = WalletTracker(thresholds)
    _trade(tracker, 0, 100.0, 60_000.0, HUNTER, MAKER)  # HUNTER 100k, MAKER 60k
    _trade(tracker, 1, 100.0, 40_000.0, HUNTER, OTHER)  # OTHER 50k
    _trade(tracker, 2, 100.0, 10_000.0, CROWD, OTHER)  # CROWD 10k
    now = T0 + 3 * S

    before_refresh = [a for a, _ in tracker.large_wallets(now)]
    tracker.refresh(now)
    after_refresh = [a for a, _ in tracker.large_wallets(now)]

    assert before_refresh == [HUNTER]
    assert after_refresh == [HUNTER, MAKER]
    assert tracker.is_large(MAKER, now)
    assert not tracker.is_large(OTHER, now)


# -- SHORT_HOLD ---------------------------------------------------------------------------------


def test_a_large_position_closed_quickly_is_a_short_hold() -> None:
    tracker = WalletTracker(WalletThresholds(short_hold_secs=300))

    _trade(tracker, 0, 100.0, 200_000.0, HUNTER, MAKER)
    _trade(tracker, 60, 101.0, 202_000.0, MAKER, HUNTER, buyer_aggressed=False)

    assert _labels(tracker, HUNTER) == [Behaviour.SHORT_HOLD.value]
    event = tracker.behaviours[0]
    assert event.holding_secs == pytest.approx(60.0)
    assert event.entry_ns == T0
    assert event.exit_ns == T0 + 60 * S


def test_a_position_held_longer_than_the_limit_is_not_a_short_hold() -> None:
    tracker = WalletTracker(WalletThresholds(short_hold_secs=300))

    _trade(tracker, 0, 100.0, 200_000.0, HUNTER, MAKER)
    _trade(tracker, 301, 100.0, 200_000.0, MAKER, HUNTER)

    assert _labels(tracker, HUNTER) == []


def test_a_small_quick_round_trip_is_not_labelled() -> None:
    tracker = WalletTracker(WalletThresholds(min_position_usd=100_000))

    _trade(tracker, 0, 100.0, 20_000.0, HUNTER, MAKER)
    _trade(tracker, 5, 100.0, 20_000.0, MAKER, HUNTER)

    assert tracker.behaviours == []


def test_a_partial_reduction_is_not_a_short_hold() -> None:
    tracker = WalletTracker()

    _trade(tracker, 0, 100.0, 200_000.0, HUNTER, MAKER)
    _trade(tracker, 10, 100.0, 100_000.0, MAKER, HUNTER)

    assert _labels(tracker, HUNTER) == []


# -- PRE_CASCADE_ENTRY --------------------------------------------------------------------------


def _hunter_short_then_slide(tracker: WalletTracker, entry_secs: float = 10.0) -> None:
    _trade(tracker, entry_secs, 100.0, 300_000.0, MAKER, HUNTER, buyer_aggressed=False)
    _price_slide(tracker, entry_secs + 1, entry_secs + 20, 100.0, 97.0)


def test_an_aggressive_short_built_before_a_down_cascade_is_a_pre_cascade_entry() -> None:
    tracker = WalletTracker()
    _hunter_short_then_slide(tracker)

    tracker.on_cascade_signal(BTC, T0 + 31 * S)

    assert _labels(tracker, HUNTER) == [Behaviour.PRE_CASCADE_ENTRY.value]
    event = tracker.behaviours[0]
    assert event.ts_event == event.ts_init == T0 + 31 * S  # known at the signal, not before
    assert event.cascade_ns == T0 + 31 * S
    assert event.entry_ns == T0 + 10 * S
    assert event.position_usd < -250_000
    assert math.isnan(event.holding_secs)
    state = tracker.states[-1]
    assert state.is_manipulator_active
    assert state.manipulator_direction == "SHORT"
    assert state.address == HUNTER
    assert "PRE_CASCADE_ENTRY" in state.behaviours


def test_no_pre_cascade_label_before_the_cascade_is_signalled() -> None:
    tracker = WalletTracker()

    _hunter_short_then_slide(tracker)

    assert tracker.behaviours == []
    assert not tracker.manipulator_state(BTC, T0 + 31 * S).is_manipulator_active


def test_a_position_against_the_cascade_is_not_a_pre_cascade_entry() -> None:
    tracker = WalletTracker()
    _trade(tracker, 10, 100.0, 300_000.0, HUNTER, MAKER)  # a long before a down cascade
    _price_slide(tracker, 11, 30, 100.0, 97.0)

    tracker.on_cascade_signal(BTC, T0 + 31 * S)

    assert _labels(tracker, HUNTER) == []
    assert _labels(tracker, MAKER) == []  # passive: built as the maker, not the aggressor


def test_a_passively_built_position_is_not_a_pre_cascade_entry() -> None:
    tracker = WalletTracker()
    _trade(tracker, 10, 100.0, 300_000.0, OTHER, HUNTER, buyer_aggressed=True)
    _price_slide(tracker, 11, 30, 100.0, 97.0)

    tracker.on_cascade_signal(BTC, T0 + 31 * S)

    assert _labels(tracker, HUNTER) == []


def test_an_entry_older_than_the_pre_cascade_window_is_not_a_pre_cascade_entry() -> None:
    tracker = WalletTracker(WalletThresholds(pre_cascade_secs=60))
    _trade(tracker, 0, 100.0, 300_000.0, MAKER, HUNTER, buyer_aggressed=False)
    _price_slide(tracker, 40, 70, 100.0, 97.0)

    tracker.on_cascade_signal(BTC, T0 + 71 * S)

    assert _labels(tracker, HUNTER) == []


def test_an_entry_after_the_signal_is_not_labelled_for_that_cascade() -> None:
    tracker = WalletTracker()
    _price_slide(tracker, 0, 20, 100.0, 97.0)
    tracker.on_cascade_signal(BTC, T0 + 21 * S)

    _trade(tracker, 22, 97.0, 300_000.0, MAKER, HUNTER, buyer_aggressed=False)
    tracker.on_cascade_signal(BTC, T0 + 25 * S)  # same cascade, still running

    assert _labels(tracker, HUNTER) == []


def test_a_flat_price_leaves_the_cascade_direction_unknown_and_labels_nothing() -> None:
    tracker = WalletTracker(WalletThresholds(min_cascade_move_bps=20))
    _trade(tracker, 10, 100.0, 300_000.0, MAKER, HUNTER, buyer_aggressed=False)
    _price_slide(tracker, 11, 30, 100.0, 99.9)  # 10 bps

    tracker.on_cascade_signal(BTC, T0 + 31 * S)

    assert tracker.behaviours == []


# -- CASCADE_EXIT and the manipulator state -------------------------------------------------------


def test_covering_during_the_cascade_is_a_cascade_exit_and_ends_the_activity() -> None:
    tracker = WalletTracker()
    _hunter_short_then_slide(tracker)
    tracker.on_cascade_signal(BTC, T0 + 31 * S)

    _trade(tracker, 35, 96.0, 150_000.0, HUNTER, MAKER)
    still_short = tracker.manipulator_state(BTC, T0 + 35 * S)
    _trade(tracker, 40, 95.0, 1_437.5 * 95.0, HUNTER, MAKER)  # covers the rest exactly

    labels = _labels(tracker, HUNTER)
    assert labels == ["PRE_CASCADE_ENTRY", "CASCADE_EXIT", "SHORT_HOLD"]
    assert still_short.is_manipulator_active
    assert still_short.manipulator_direction == "SHORT"
    final = tracker.manipulator_state(BTC, T0 + 40 * S)
    assert not final.is_manipulator_active
    assert final.manipulator_direction == "NONE"
    assert [(s.is_manipulator_active, s.manipulator_direction) for s in tracker.states] == [
        (True, "SHORT"),
        (False, "NONE"),
    ]


def test_an_exit_long_after_the_cascade_ended_is_not_a_cascade_exit() -> None:
    thresholds = WalletThresholds(cascade_quiet_secs=30, post_cascade_secs=30)
    tracker = WalletTracker(thresholds)
    _trade(tracker, 0, 100.0, 300_000.0, HUNTER, MAKER)
    _price_slide(tracker, 1, 20, 100.0, 97.0)
    tracker.on_cascade_signal(BTC, T0 + 21 * S)

    _trade(tracker, 21 + 61, 97.0, 100_000.0, MAKER, HUNTER)

    assert _labels(tracker, HUNTER) == []


def test_an_exit_right_after_the_cascade_is_a_cascade_exit() -> None:
    thresholds = WalletThresholds(cascade_quiet_secs=30, post_cascade_secs=30)
    tracker = WalletTracker(thresholds)
    _trade(tracker, 0, 100.0, 300_000.0, HUNTER, MAKER)
    _price_slide(tracker, 1, 20, 100.0, 97.0)
    tracker.on_cascade_signal(BTC, T0 + 21 * S)

    _trade(tracker, 21 + 55, 97.0, 100_000.0, MAKER, HUNTER)

    assert _labels(tracker, HUNTER) == ["CASCADE_EXIT"]
    assert not tracker.is_manipulator(HUNTER, T0 + 80 * S)  # an exit alone is no manipulation


def test_a_known_manipulator_is_active_at_once_on_its_next_entry() -> None:
    tracker = WalletTracker()
    _hunter_short_then_slide(tracker)
    tracker.on_cascade_signal(BTC, T0 + 31 * S)
    _trade(tracker, 40, 95.0, 285_000.0, HUNTER, MAKER)
    assert not tracker.manipulator_state(BTC, T0 + 40 * S).is_manipulator_active

    _trade(tracker, 100, 50.0, 50_000.0, OTHER, HUNTER, buyer_aggressed=False, instrument=ETH)

    state = tracker.manipulator_state(ETH, T0 + 100 * S)
    assert state.is_manipulator_active
    assert state.manipulator_direction == "SHORT"
    assert tracker.states[-1].instrument_id == ETH


def test_manipulator_labels_expire_after_their_ttl() -> None:
    tracker = WalletTracker(WalletThresholds(label_ttl_secs=100))
    _hunter_short_then_slide(tracker)
    tracker.on_cascade_signal(BTC, T0 + 31 * S)

    assert tracker.manipulator_state(BTC, T0 + 130 * S).is_manipulator_active
    assert not tracker.manipulator_state(BTC, T0 + 132 * S).is_manipulator_active


def test_evicting_an_active_manipulator_clears_the_state() -> None:
    tracker = WalletTracker(WalletThresholds(max_addresses=3))
    _hunter_short_then_slide(tracker)
    tracker.on_cascade_signal(BTC, T0 + 31 * S)
    assert tracker.states[-1].is_manipulator_active

    _trade(tracker, 40, 97.0, 1_000.0, "0xnew1", "0xnew2")

    assert tracker.wallet(HUNTER) is None
    assert not tracker.states[-1].is_manipulator_active


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("notional_bucket_secs", 1_000.0),
        ("min_taker_share", 1.5),
        ("min_active_position_usd", 1.0),
        ("max_addresses", 0),
    ],
)
def test_bad_thresholds_fail_at_construction_naming_the_field(field: str, value: float) -> None:
    kwargs: dict[str, Any] = {field: value}
    with pytest.raises(ValueError, match=field):
        WalletThresholds(**kwargs)


# -- no future data ------------------------------------------------------------------------------

_ADDRESSES = ("0xa", "0xb", "0xc", "0xd")
_EVENT = st.one_of(
    st.tuples(
        st.just("trade"),
        st.integers(0, 3),
        st.integers(0, 3),
        st.floats(90.0, 110.0),
        st.floats(1_000.0, 400_000.0),
        st.booleans(),
    ),
    st.tuples(st.just("cascade")),
)


def _run(tracker: WalletTracker, events: list[tuple[int, tuple[object, ...]]]) -> None:
    for ts, event in events:
        if event[0] == "cascade":
            tracker.on_cascade_signal(BTC, ts)
            continue
        _, b, s, px, usd, aggr = event
        assert isinstance(b, int) and isinstance(s, int)
        assert isinstance(px, float) and isinstance(usd, float) and isinstance(aggr, bool)
        if b == s:
            continue
        tracker.on_trade(BTC, ts, px, usd / px, aggr, _ADDRESSES[b], _ADDRESSES[s])


@settings(max_examples=400, deadline=None)
@example(  # a short sold aggressively, a slide, and the cascade signal after the cut
    events=[
        (0, ("trade", 1, 0, 100.0, 300_000.0, False)),
        (S, ("trade", 2, 3, 99.0, 1_000.0, True)),
        (S, ("trade", 2, 3, 98.0, 1_000.0, True)),
        (S, ("cascade",)),
    ],
    cut=3,
)
@given(
    events=st.lists(st.tuples(st.integers(0, 5 * S), _EVENT), min_size=1, max_size=60),
    cut=st.integers(1, 60),
)
def test_labels_and_states_up_to_a_time_never_depend_on_later_input(
    events: list[tuple[int, tuple[object, ...]]], cut: int
) -> None:
    timed = []
    now = T0
    cut = min(cut, len(events))
    for i, (gap, event) in enumerate(events):
        now += gap + (1 if i == cut else 0)  # the later input starts strictly after the cut
        timed.append((now, event))
    cut_ns = timed[cut - 1][0]
    thresholds = WalletThresholds(min_position_usd=50_000, max_addresses=3, short_hold_secs=10)
    full = WalletTracker(thresholds)
    prefix = WalletTracker(thresholds)

    _run(prefix, timed[:cut])
    _run(full, timed)

    # What the full run says about any time up to the cut (by the outputs' own timestamps,
    # so a label back-dated before the input that caused it would show up here) is exactly
    # what a run that stopped at the cut said.
    assert [b for b in full.behaviours if b.ts_event <= cut_ns] == prefix.behaviours
    assert [s for s in full.states if s.ts_event <= cut_ns] == prefix.states


def test_a_long_liquidated_quickly_in_a_down_cascade_is_a_victim_not_a_manipulator() -> None:
    tracker = WalletTracker()
    _trade(tracker, 0, 100.0, 300_000.0, HUNTER, MAKER)  # an aggressive long
    _price_slide(tracker, 200, 230, 100.0, 97.0)
    tracker.on_cascade_signal(BTC, T0 + 231 * S)

    _trade(tracker, 232, 97.0, 3_000 * 97.0, OTHER, HUNTER)  # closed out in the cascade

    assert _labels(tracker, HUNTER) == ["CASCADE_EXIT", "SHORT_HOLD"]
    assert not tracker.is_manipulator(HUNTER, T0 + 232 * S)
