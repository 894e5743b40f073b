"""Book and trade-flow metrics on real NautilusTrader books and a recorded venue snapshot."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from actors.book_metrics import DEPTH_BANDS_BPS
from actors.book_metrics import AbsorptionTracker
from actors.book_metrics import AggressorFlow
from actors.book_metrics import BookRefillTracker
from actors.book_metrics import DepthThinningTracker
from actors.book_metrics import book_mid
from actors.book_metrics import depth_asymmetry
from actors.book_metrics import depth_usd_bands
from actors.book_metrics import depth_usd_within_bps
from actors.book_metrics import depth_usd_within_bps_levels
from jarvis.testkit import VENUE_CAPTURES

FIXTURES = VENUE_CAPTURES
INSTRUMENT_ID = InstrumentId.from_str("DYDX-USD-PERP.HYPERLIQUID")
SEC = 1_000_000_000


def _book(
    bids: list[tuple[str, str]],
    asks: list[tuple[str, str]],
    price_precision: int,
    size_precision: int,
) -> OrderBook:
    book = OrderBook(INSTRUMENT_ID, BookType.L2_MBP)
    for side, levels in ((OrderSide.BUY, bids), (OrderSide.SELL, asks)):
        for px, sz in levels:
            order = BookOrder(
                side,
                Price(float(px), price_precision),
                Quantity(float(sz), size_precision),
                0,
            )
            book.add(order, 0)
    return book


@pytest.fixture
def small_book() -> OrderBook:
    # mid = 100.0; 10 bps = 99.9 / 100.1, 50 bps = 99.5 / 100.5
    return _book(
        bids=[("99.95", "1"), ("99.9", "2"), ("99.5", "4"), ("99.4", "100")],
        asks=[("100.05", "1"), ("100.1", "3"), ("100.6", "2")],
        price_precision=2,
        size_precision=0,
    )


@pytest.fixture
def dydx_levels() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    payload = json.loads((FIXTURES / "info_l2Book.json").read_text())
    bids, asks = payload["levels"]
    return [(lv["px"], lv["sz"]) for lv in bids], [(lv["px"], lv["sz"]) for lv in asks]


def _decimal_depth(levels: list[tuple[str, str]], is_bid: bool, bps: str, mid: Decimal) -> float:
    """Independent reference: exact decimal arithmetic on the venue's own strings."""
    offset = mid * Decimal(bps) / Decimal(10_000)
    bound = mid - offset if is_bid else mid + offset
    total = Decimal(0)
    for px, sz in levels:
        p = Decimal(px)
        if (p >= bound) if is_bid else (p <= bound):
            total += p * Decimal(sz)
    return float(total)


def test_depth_within_bps_sums_price_times_size_inside_band_edge_included(
    small_book: OrderBook,
) -> None:
    mid = book_mid(small_book)
    assert mid == pytest.approx(100.0)
    assert mid is not None

    assert depth_usd_within_bps(small_book, OrderSide.BUY, 10, mid) == pytest.approx(299.75)
    assert depth_usd_within_bps(small_book, OrderSide.SELL, 10, mid) == pytest.approx(400.35)
    assert depth_usd_within_bps(small_book, OrderSide.BUY, 50, mid) == pytest.approx(697.75)
    assert depth_usd_within_bps(small_book, OrderSide.SELL, 50, mid) == pytest.approx(400.35)
    assert depth_usd_within_bps(small_book, OrderSide.BUY, 0, mid) == 0.0


def test_depth_bands_in_one_pass_equal_each_band_alone(small_book: OrderBook) -> None:
    mid = 100.0
    for side in (OrderSide.BUY, OrderSide.SELL):
        bands = depth_usd_bands(small_book, side, DEPTH_BANDS_BPS, mid)
        singles = [depth_usd_within_bps(small_book, side, bps, mid) for bps in DEPTH_BANDS_BPS]
        assert bands == pytest.approx(singles)
    assert depth_usd_bands(small_book, OrderSide.BUY, (10.0, 20.0, 70.0), mid) == pytest.approx(
        [299.75, 299.75, 697.75 + 9940.0],
    )


@pytest.mark.parametrize("bps", ["1", "5", "10", "20", "50", "200", "5000"])
def test_depth_on_recorded_dydx_snapshot_matches_decimal_reference(
    dydx_levels: tuple[list[tuple[str, str]], list[tuple[str, str]]],
    bps: str,
) -> None:
    # Arrange: the venue's 20x20 DYDX book (prices with up to 4 decimals).
    bids, asks = dydx_levels
    book = _book(bids, asks, price_precision=4, size_precision=1)
    mid_dec = (Decimal(bids[0][0]) + Decimal(asks[0][0])) / 2
    mid = float(mid_dec)

    # Act
    bid_usd = depth_usd_within_bps(book, OrderSide.BUY, float(bps), mid)
    ask_usd = depth_usd_within_bps(book, OrderSide.SELL, float(bps), mid)
    bid_levels_usd = depth_usd_within_bps_levels(
        [float(p) for p, _ in bids],
        [float(s) for _, s in bids],
        OrderSide.BUY,
        float(bps),
        mid,
    )

    # Assert
    assert bid_usd == pytest.approx(_decimal_depth(bids, True, bps, mid_dec), rel=1e-12)
    assert ask_usd == pytest.approx(_decimal_depth(asks, False, bps, mid_dec), rel=1e-12)
    assert bid_levels_usd == pytest.approx(bid_usd, rel=1e-12)


def test_depth_of_empty_side_is_zero_and_mid_is_none() -> None:
    book = _book(bids=[("10.0", "1")], asks=[], price_precision=1, size_precision=0)
    assert depth_usd_within_bps(book, OrderSide.SELL, 50, 10.0) == 0.0
    assert book_mid(book) is None


def test_depth_rejects_a_side_that_is_not_buy_or_sell(small_book: OrderBook) -> None:
    with pytest.raises(ValueError, match="side"):
        depth_usd_within_bps(small_book, OrderSide.NO_ORDER_SIDE, 10, 100.0)


def test_depth_asymmetry_known_values() -> None:
    assert depth_asymmetry(3.0, 1.0) == 0.5
    assert depth_asymmetry(0.0, 5.0) == -1.0
    assert depth_asymmetry(0.0, 0.0) == 0.0


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=0, max_value=1e12, allow_nan=False),
    st.floats(min_value=0, max_value=1e12, allow_nan=False),
)
def test_depth_asymmetry_stays_within_minus_one_and_one(bid: float, ask: float) -> None:
    assert -1.0 <= depth_asymmetry(bid, ask) <= 1.0


def test_thinning_ratio_compares_depth_with_time_weighted_baseline_before_it() -> None:
    # Arrange: 10 s baseline of $100k, sampled every second.
    tracker = DepthThinningTracker(10 * SEC)
    ratios = [tracker.update(i * SEC, 100_000.0) for i in range(11)]

    # Act: the book thins to $40k.
    thinned = tracker.update(11 * SEC, 40_000.0)

    # Assert: None during warm-up, then 1.0, then 0.4 (the drop does not dilute its baseline).
    assert ratios[:10] == [None] * 10
    assert ratios[10] == pytest.approx(1.0)
    assert thinned == pytest.approx(0.4)
    assert tracker.last_ratio == pytest.approx(0.4)


def test_absorption_flags_heavy_buying_that_did_not_lift_the_mid() -> None:
    # Arrange: 5 s window, $250k minimum, 2 bps max move; mid flat at 100.
    tracker = AbsorptionTracker(5 * SEC, 250_000.0, 2.0)
    tracker.on_mid(0, 100.0)
    tracker.on_trade(0, 100.0, 1.0, AggressorSide.BUYER)
    for i in range(1, 7):
        tracker.on_mid(i * SEC, 100.0 + 0.001 * i)  # +0.6 bps in total
        tracker.on_trade(i * SEC, 100.0, 1_000.0, AggressorSide.BUYER)  # $100k each

    # Act
    reading = tracker.value(6 * SEC)

    # Assert: five $100k buys in (1 s, 6 s]; the mid moved from 100.001 (in force at 1 s).
    assert reading is not None
    assert reading.buy_usd == pytest.approx(500_000.0)
    assert reading.mid_move_bps == pytest.approx(0.005 / 100.001 * 1e4)
    assert reading.buy_absorbed
    assert not reading.sell_absorbed
    assert reading.absorbed_usd == pytest.approx(500_000.0)


def test_absorption_not_flagged_when_buying_moved_the_mid() -> None:
    # Arrange: the same buying lifts the mid by 5 bps.
    tracker = AbsorptionTracker(5 * SEC, 250_000.0, 2.0)
    tracker.on_mid(0, 100.0)
    tracker.on_trade(0, 100.0, 1.0, AggressorSide.BUYER)
    for i in range(1, 7):
        tracker.on_mid(i * SEC, 100.0 + 0.01 * i)
        tracker.on_trade(i * SEC, 100.0, 1_000.0, AggressorSide.BUYER)

    # Act
    reading = tracker.value(6 * SEC)

    # Assert
    assert reading is not None
    assert reading.mid_move_bps == pytest.approx(0.05 / 100.01 * 1e4)
    assert not reading.buy_absorbed
    assert reading.absorbed_usd == 0.0


def test_absorption_not_flagged_below_minimum_volume_and_none_while_warming_up() -> None:
    tracker = AbsorptionTracker(5 * SEC, 250_000.0, 2.0)
    tracker.on_mid(0, 100.0)
    tracker.on_trade(0, 100.0, 100.0, AggressorSide.SELLER)
    assert tracker.value(4 * SEC) is None
    reading = tracker.value(5 * SEC)
    assert reading is not None
    assert not reading.sell_absorbed


def test_absorption_flags_selling_that_did_not_push_the_mid_down() -> None:
    tracker = AbsorptionTracker(5 * SEC, 250_000.0, 2.0)
    tracker.on_mid(0, 100.0)
    for i in range(1, 7):
        tracker.on_trade(i * SEC, 100.0, 1_000.0, AggressorSide.SELLER)
    reading = tracker.value(6 * SEC)
    assert reading is not None
    assert reading.sell_absorbed
    assert reading.absorbed_usd == pytest.approx(-500_000.0)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2 * SEC),
            st.floats(99.9, 100.1),
            st.floats(0.0, 5_000.0),
            st.sampled_from([AggressorSide.BUYER, AggressorSide.SELLER]),
        ),
        max_size=100,
    )
)
def test_absorbed_usd_equals_the_reading_and_one_aggressor_flow(
    trades: list[tuple[int, float, float, AggressorSide]],
) -> None:
    # The builder's shortcut, the full reading, and the flow an AggressorFlow would report.
    tracker = AbsorptionTracker(5 * SEC, 250_000.0, 2.0)
    reference = AbsorptionTracker(5 * SEC, 250_000.0, 2.0)
    flow = AggressorFlow(5 * SEC)
    now = 0
    for gap, price, size, side in trades:
        now += gap
        for t in (tracker, reference):
            t.on_mid(now, price)
            t.on_trade(now, price, size, side)
        flow.update(now, price, size, side)
        absorbed = tracker.absorbed_usd(now)
        reading = reference.value(now)
        expected_flow = flow.value(now)
        if reading is None:
            assert absorbed is None
            continue
        assert expected_flow is not None
        assert repr((reading.buy_usd, reading.sell_usd)) == repr(
            (expected_flow.buy_usd, expected_flow.sell_usd)
        )
        assert repr(absorbed) == repr(reading.absorbed_usd)


def test_refill_reports_time_until_depth_recovers_to_share_of_pre_sweep_level() -> None:
    # Arrange: $100k for 2 s, swept to $40k at 2 s.
    tracker = BookRefillTracker(refill_share=0.8, sweep_drop_share=0.5, lookback_ns=SEC)
    outputs = [tracker.update(i * SEC // 4, 100_000.0) for i in range(9)]
    outputs.append(tracker.update(2 * SEC + 1, 40_000.0))
    assert tracker.sweep_pending
    assert tracker.pre_sweep_usd == 100_000.0

    # Act: 60k after 1 s (not yet), 85k after 3 s (refilled).
    partial = tracker.update(3 * SEC + 1, 60_000.0)
    refilled = tracker.update(5 * SEC + 1, 85_000.0)

    # Assert
    assert outputs == [None] * 10
    assert partial is None
    assert refilled == pytest.approx(3.0)
    assert not tracker.sweep_pending
    assert tracker.last_refill_secs == pytest.approx(3.0)


def test_refill_ignores_a_drop_smaller_than_the_sweep_share() -> None:
    tracker = BookRefillTracker(refill_share=0.8, sweep_drop_share=0.5, lookback_ns=SEC)
    for i in range(9):
        tracker.update(i * SEC // 4, 100_000.0)
    assert tracker.update(2 * SEC + 1, 60_000.0) is None
    assert not tracker.sweep_pending
    assert tracker.update(3 * SEC, 100_000.0) is None
    assert tracker.pending_secs(3 * SEC) is None


def _trade(ts: int, price: float, size: float, side: AggressorSide, n: int) -> TradeTick:
    return TradeTick(
        INSTRUMENT_ID,
        Price(price, 2),
        Quantity(size, 3),
        side,
        TradeId(str(n)),
        ts,
        ts,
    )


def test_aggressor_flow_splits_buys_and_sells_and_ignores_no_aggressor() -> None:
    # Arrange
    flow = AggressorFlow(SEC)
    flow.update_trade(_trade(0, 10.0, 1.0, AggressorSide.BUYER, 1))
    flow.update_trade(_trade(SEC // 2, 20.0, 2.0, AggressorSide.BUYER, 2))
    flow.update_trade(_trade(SEC // 2, 30.0, 0.5, AggressorSide.SELLER, 3))
    flow.update_trade(_trade(SEC, 99.0, 9.0, AggressorSide.NO_AGGRESSOR, 4))

    # Act
    reading = flow.value(SEC)

    # Assert: the trade at 0 is outside (0, 1 s].
    assert reading is not None
    assert reading.buy_usd == pytest.approx(40.0)
    assert reading.buy_base == pytest.approx(2.0)
    assert reading.sell_usd == pytest.approx(15.0)
    assert reading.sell_base == pytest.approx(0.5)
    assert reading.net_usd == pytest.approx(25.0)
    assert reading.imbalance == pytest.approx(25.0 / 55.0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=5),
            st.floats(min_value=0.01, max_value=1e5),
            st.floats(min_value=0.0, max_value=1e3),
            st.sampled_from([AggressorSide.BUYER, AggressorSide.SELLER]),
        ),
        min_size=1,
        max_size=80,
    ),
    st.integers(min_value=1, max_value=20),
)
def test_aggressor_flow_matches_brute_force(
    trades: list[tuple[int, float, float, AggressorSide]],
    window: int,
) -> None:
    flow = AggressorFlow(window)
    seen: list[tuple[int, float, float, AggressorSide]] = []
    ts = 0
    for gap, price, size, side in trades:
        ts += gap
        flow.update(ts, price, size, side)
        seen.append((ts, price, size, side))
        reading = flow.value(ts)
        if ts - seen[0][0] < window:
            assert reading is None
            continue
        inside = [t for t in seen if t[0] > ts - window]
        buy = math.fsum(p * s for _, p, s, a in inside if a == AggressorSide.BUYER)
        sell = math.fsum(p * s for _, p, s, a in inside if a == AggressorSide.SELLER)
        assert reading is not None
        assert reading.buy_usd == pytest.approx(buy, rel=1e-9, abs=1e-6)
        assert reading.sell_usd == pytest.approx(sell, rel=1e-9, abs=1e-6)


def test_aggressor_flow_marked_observed_reports_zero_flow_after_a_quiet_window() -> None:
    flow = AggressorFlow(SEC)
    flow.mark_observed(0)
    assert flow.value(SEC - 1) is None
    reading = flow.value(SEC)
    assert reading is not None
    assert (reading.buy_usd, reading.sell_usd, reading.imbalance) == (0.0, 0.0, 0.0)
