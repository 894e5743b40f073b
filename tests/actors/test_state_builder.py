"""State builder inside a BacktestEngine: exact metrics, publication, hot store, OI delivery."""

from __future__ import annotations

import dataclasses
import math
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import LoggingConfig
from nautilus_trader.core.data import Data
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from actors.band_depth import BandDepth
from actors.book_metrics import depth_usd_bands
from actors.hot_state import HotStateReader
from actors.hot_state_layout import FLOAT_FIELDS
from actors.market_state import MARKET_STATE_DATA_TYPE
from actors.market_state import MarketState
from actors.market_state import new_market_state
from actors.state_builder import MarketStateBuilder
from actors.state_builder import MarketStateBuilderConfig
from actors.structural_events import STRUCTURAL_EVENT_DATA_TYPE
from actors.structural_events import StructuralEvent
from actors.structural_events import StructuralEventThresholds
from adapters.hyperliquid.data_types import OPEN_INTEREST_DATA_TYPE
from adapters.hyperliquid.data_types import new_open_interest_update
from common.nautilus import custom_data_topic

INSTRUMENT = TestInstrumentProvider.btcusdt_perp_binance()
IID = INSTRUMENT.id
T0 = 1_700_000_000_000_000_000
MS = 1_000_000
SEC = 1_000_000_000


# -- data builders (plain values in, Nautilus objects out) ----------------------------------


def _delta(side: OrderSide, px: float, size: float, ts: int, action: BookAction) -> OrderBookDelta:
    order = BookOrder(side, Price(px, 1), Quantity(size, 3), 0)
    return OrderBookDelta(IID, action, order, 0, 0, ts, ts)


def _deltas(items: Sequence[OrderBookDelta]) -> OrderBookDeltas:
    last = items[-1]
    flagged = OrderBookDelta(
        IID,
        last.action,
        last.order,
        RecordFlag.F_LAST,
        0,
        last.ts_event,
        last.ts_init,
    )
    return OrderBookDeltas(IID, [*items[:-1], flagged])


def _snapshot(
    bids: Sequence[tuple[float, float]],
    asks: Sequence[tuple[float, float]],
    ts: int,
) -> OrderBookDeltas:
    items = [OrderBookDelta.clear(IID, 0, ts, ts)]
    items += [_delta(OrderSide.BUY, px, sz, ts, BookAction.ADD) for px, sz in bids]
    items += [_delta(OrderSide.SELL, px, sz, ts, BookAction.ADD) for px, sz in asks]
    return _deltas(items)


def _set_level(side: OrderSide, px: float, size: float, ts: int) -> OrderBookDeltas:
    action = BookAction.DELETE if size == 0.0 else BookAction.UPDATE
    return _deltas([_delta(side, px, size, ts, action)])


def _trade(px: float, size: float, buyer: bool, ts: int, n: int) -> TradeTick:
    side = AggressorSide.BUYER if buyer else AggressorSide.SELLER
    return TradeTick(IID, Price(px, 1), Quantity(size, 3), side, TradeId(str(n)), ts, ts)


def _oi(value: float, ts: int) -> CustomData:
    return CustomData(OPEN_INTEREST_DATA_TYPE, new_open_interest_update(IID, value, ts, ts))


class Sink(Actor):
    """Collects what the builder publishes, and the hot store as seen at that moment."""

    def __init__(self, hot_store_name: str | None = None) -> None:
        super().__init__()
        self.states: list[MarketState] = []
        self.events: list[StructuralEvent] = []
        self.hot: list[dict[str, Any]] = []
        self._hot_store_name = hot_store_name
        self._reader: HotStateReader | None = None

    def on_start(self) -> None:
        self.msgbus.subscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self._on_state)
        self.msgbus.subscribe(custom_data_topic(STRUCTURAL_EVENT_DATA_TYPE), self._on_event)

    def _on_state(self, state: MarketState) -> None:
        self.states.append(state)
        if self._hot_store_name is not None:
            if self._reader is None:
                self._reader = HotStateReader(self._hot_store_name)
            snap = self._reader.read(0, self._reader.new_snapshot(), self.clock.timestamp_ns())
            assert snap is not None
            self.hot.append(snap.to_dict())

    def _on_event(self, event: StructuralEvent) -> None:
        self.events.append(event)

    def on_stop(self) -> None:
        if self._reader is not None:
            self._reader.close()


def _run(
    data: Sequence[Data],
    open_interest: Sequence[CustomData] = (),
    hot_store_name: str | None = None,
    venue_book_type: BookType = BookType.L2_MBP,
    **config: Any,
) -> tuple[MarketStateBuilder, Sink]:
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
    engine.add_venue(
        Venue("BINANCE"),
        OmsType.NETTING,
        AccountType.MARGIN,
        [Money(1_000_000, USDT)],
        book_type=venue_book_type,
    )
    engine.add_instrument(INSTRUMENT)
    by_type: dict[type, list[Data]] = {}
    for item in data:
        by_type.setdefault(type(item), []).append(item)
    for items in by_type.values():
        engine.add_data(items)
    if open_interest:
        engine.add_data(list(open_interest), client_id=ClientId("BINANCE"))
    builder = MarketStateBuilder(
        MarketStateBuilderConfig(instrument_id=IID, hot_store_name=hot_store_name, **config),
    )
    sink = Sink(hot_store_name)
    engine.add_actor(builder)
    engine.add_actor(sink)
    try:
        engine.run()
    finally:
        engine.dispose()
    return builder, sink


def _state_at(states: Sequence[MarketState], ts: int) -> MarketState:
    matches = [s for s in states if s.ts_init == ts]
    assert matches, f"no MarketState at {ts - T0} ns after T0: {[s.ts_init - T0 for s in states]}"
    return matches[-1]


def _nan_or(value: float | None) -> float:
    return math.nan if value is None else value


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-9)


# -- independent reference computations -----------------------------------------------------


def _depth_usd(levels: Sequence[tuple[float, float]], mid: float, bps: float) -> float:
    """Sum of price * size of the levels no further than `bps` from mid (edge included)."""
    return sum(px * sz for px, sz in levels if abs(px - mid) / mid * 1e4 <= bps + 1e-9)


def _window_sum(
    points: Sequence[tuple[int, float]],
    now: int,
    window: int,
    first_ts: int,
) -> float | None:
    if now - first_ts < window:
        return None
    return sum(x for ts, x in points if now - window < ts <= now)


def _level_at(points: Sequence[tuple[int, float]], ts: int) -> float:
    return [x for t, x in points if t <= ts][-1]


# -- tests -----------------------------------------------------------------------------------

BIDS = [(50000.0, 1.0), (49960.0, 2.0), (49920.0, 3.0), (49800.0, 4.0), (49700.0, 5.0)]
ASKS = [(50001.0, 1.5), (50040.0, 2.5), (50090.0, 0.5), (50200.0, 1.0), (50300.0, 9.0)]


def test_market_state_fields_mirror_hot_store_layout() -> None:
    names = [f.name for f in dataclasses.fields(MarketState)]

    assert names[:3] == ["instrument_id", "local_seq", "input_ts_ns"]
    assert names[3:] == list(FLOAT_FIELDS)


def test_new_market_state_equals_the_dataclass_constructor() -> None:
    iid = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
    values = np.arange(len(FLOAT_FIELDS), dtype=np.float64) * 1.5 + 0.1
    values[4] = np.nan

    fast = new_market_state(iid, 7, 11, values, ts_event=13, ts_init=17)
    fields = {name: float(values[i]) for i, name in enumerate(FLOAT_FIELDS)}
    ctor: Any = MarketState
    slow = ctor(ts_event=13, ts_init=17, instrument_id=iid, local_seq=7, input_ts_ns=11, **fields)

    assert type(fast) is MarketState
    assert repr(fast.to_dict()) == repr(slow.to_dict())
    assert repr(list(vars(fast).items())) == repr(list(vars(slow).items()))
    assert (fast.ts_event, fast.ts_init, fast.get("mark")) == (13, 17, None)
    assert repr(MarketState.from_dict(fast.to_dict()).to_dict()) == repr(slow.to_dict())
    with pytest.raises(ValueError, match=f"expected {len(FLOAT_FIELDS)} floats, got 3"):
        new_market_state(iid, 7, 11, [1.0, 2.0, 3.0], ts_event=13, ts_init=17)


def test_depth_per_band_side_and_asymmetry_follow_the_book() -> None:
    snapshot = _snapshot(BIDS, ASKS, T0 + 1 * MS)
    # A level inside 10 bps shrinks; the best ask is lifted entirely.
    shrink = _set_level(OrderSide.BUY, 49960.0, 0.5, T0 + 2 * SEC + 1 * MS)
    lift = _set_level(OrderSide.SELL, 50001.0, 0.0, T0 + 2 * SEC + 2 * MS)
    tail = _set_level(OrderSide.BUY, 49700.0, 5.0, T0 + 3 * SEC + 1 * MS)

    builder, sink = _run([snapshot, shrink, lift, tail])

    before = _state_at(sink.states, T0 + 1 * MS + 1 * SEC)  # first timer after the snapshot
    after = builder.snapshot()
    bids_after = [(50000.0, 1.0), (49960.0, 0.5), *BIDS[2:]]
    asks_after = ASKS[1:]
    for state, bids, asks in ((before, BIDS, ASKS), (after, bids_after, asks_after)):
        best_bid, best_ask = bids[0][0], asks[0][0]
        mid = (best_bid + best_ask) / 2
        assert (state.best_bid, state.best_ask) == (best_bid, best_ask)
        assert state.mid == mid
        assert state.spread == best_ask - best_bid
        for bps in (10, 20, 50):
            bid_usd = _depth_usd(bids, mid, bps)
            ask_usd = _depth_usd(asks, mid, bps)
            assert getattr(state, f"bid_depth_usd_{bps}bps") == pytest.approx(bid_usd, rel=1e-12)
            assert getattr(state, f"ask_depth_usd_{bps}bps") == pytest.approx(ask_usd, rel=1e-12)
            asym = (bid_usd - ask_usd) / (bid_usd + ask_usd)
            assert getattr(state, f"depth_asymmetry_{bps}bps") == pytest.approx(asym, rel=1e-9)


def test_trade_flow_is_split_by_aggressor_per_window_with_warm_up() -> None:
    snapshot = _snapshot(BIDS, ASKS, T0 + 1 * MS)
    trades = []
    points_buy: list[tuple[int, float]] = []
    points_sell: list[tuple[int, float]] = []
    for n in range(1, 70):
        ts = T0 + n * 100 * MS + 3 * MS
        buyer = n % 3 != 0
        px = 50001.0 if buyer else 50000.0
        size = 0.01 * (1 + n % 7)
        trades.append(_trade(px, size, buyer, ts, n))
        (points_buy if buyer else points_sell).append((ts, px * size))
    first_ts = snapshot.ts_init  # flows are observed from the first input on

    _, sink = _run([snapshot, *trades], publish_interval_ms=1000)

    checked = 0
    for k in range(1, 7):  # the run (and its timers) ends with the last trade at 6.903 s
        now = T0 + 1 * MS + k * SEC  # timer fires every second from the first data point
        state = _state_at(sink.states, now)
        for window, name in ((1 * SEC, "1s"), (5 * SEC, "5s"), (900 * SEC, "15m")):
            buy = _window_sum(points_buy, now, window, first_ts)
            sell = _window_sum(points_sell, now, window, first_ts)
            assert _same(getattr(state, f"aggr_buy_usd_{name}"), _nan_or(buy)), (k, name)
            assert _same(getattr(state, f"aggr_sell_usd_{name}"), _nan_or(sell)), (k, name)
            checked += buy is not None
    assert checked == 8  # 1 s window warm from 1 s on, 5 s window from 5 s on; 15 min never


def test_open_interest_change_and_funding_drift_per_window() -> None:
    snapshot = _snapshot(BIDS, ASKS, T0 + 1 * MS)
    oi_points = [(T0 + n * SEC + 7 * MS, 1000.0 + 3.0 * n - 0.25 * n * n) for n in range(12)]
    funding_points = [(T0 + n * SEC + 9 * MS, 0.0001 * (n % 4) - 0.00005) for n in range(12)]
    funding = [FundingRateUpdate(IID, Decimal(repr(rate)), ts, ts) for ts, rate in funding_points]

    _, sink = _run(
        [snapshot, *funding],
        open_interest=[_oi(value, ts) for ts, value in oi_points],
    )

    for k in range(1, 11):
        now = T0 + 1 * MS + k * SEC
        state = _state_at(sink.states, now)
        assert state.open_interest == _level_at(oi_points, now)
        assert state.funding == _level_at(funding_points, now)
        for window, name in ((1 * SEC, "1s"), (5 * SEC, "5s"), (3600 * SEC, "1h")):
            if now - oi_points[0][0] >= window:
                start = _level_at(oi_points, now - window)
                pct = (_level_at(oi_points, now) - start) / start * 100.0
            else:
                pct = math.nan
            assert _same(getattr(state, f"oi_change_pct_{name}"), pct), (k, name)
            if now - funding_points[0][0] >= window:
                drift = _level_at(funding_points, now) - _level_at(funding_points, now - window)
            else:
                drift = math.nan
            assert _same(getattr(state, f"funding_drift_{name}"), drift), (k, name)


def test_mark_and_oracle_prices_are_carried() -> None:
    snapshot = _snapshot(BIDS, ASKS, T0 + 1 * MS)
    mark = MarkPriceUpdate(IID, Price(50000.3, 1), T0 + 500 * MS, T0 + 501 * MS)
    index = IndexPriceUpdate(IID, Price(49999.9, 1), T0 + 600 * MS, T0 + 601 * MS)

    builder, _ = _run([snapshot, mark, index])
    state = builder.snapshot()

    assert (state.mark, state.oracle) == (50000.3, 49999.9)
    assert state.ts_event == T0 + 600 * MS  # venue time of the newest input
    assert state.input_ts_ns == T0 + 601 * MS


def test_quotes_give_top_of_book_only_while_the_book_is_not_two_sided() -> None:
    quote = QuoteTick(
        IID,
        Price(50010.0, 1),
        Price(50012.0, 1),
        Quantity(1.0, 3),
        Quantity(1.0, 3),
        T0 + 1 * MS,
        T0 + 1 * MS,
    )
    only_quotes, _ = _run([quote], venue_book_type=BookType.L1_MBP)
    later_quote = QuoteTick(
        IID,
        Price(50010.0, 1),
        Price(50012.0, 1),
        Quantity(1.0, 3),
        Quantity(1.0, 3),
        T0 + 5 * MS,
        T0 + 5 * MS,
    )
    with_book, _ = _run([_snapshot(BIDS, ASKS, T0 + 1 * MS), later_quote])

    assert only_quotes.snapshot().mid == 50011.0
    assert math.isnan(only_quotes.snapshot().bid_depth_usd_10bps)
    assert with_book.snapshot().mid == (50000.0 + 50001.0) / 2


def test_oi_drop_publishes_event_then_market_state_at_the_same_time() -> None:
    snapshot = _snapshot(BIDS, ASKS, T0 + 1 * MS)
    points = [(T0 + n * SEC + 7 * MS, 1000.0) for n in range(12)]
    drop_ts = T0 + 12 * SEC + 7 * MS
    points.append((drop_ts, 940.0))  # -6 % over 10 s

    builder, sink = _run(
        [snapshot],
        open_interest=[_oi(value, ts) for ts, value in points],
        thresholds=StructuralEventThresholds(oi_drop_pct=5.0, oi_drop_window_secs=10.0),
    )

    assert [(e.kind, e.ts_event) for e in sink.events] == [("OI_DROP", drop_ts)]
    event = sink.events[0]
    assert event.instrument_id == IID
    assert event.value == pytest.approx(-6.0)
    assert (event.threshold, event.window_secs) == (5.0, 10.0)
    state = _state_at(sink.states, drop_ts)
    assert state.open_interest == 940.0
    assert builder.events_published == 1


def test_oi_dip_below_threshold_publishes_no_event() -> None:
    snapshot = _snapshot(BIDS, ASKS, T0 + 1 * MS)
    points = [(T0 + n * SEC + 7 * MS, 1000.0) for n in range(12)]
    points.append((T0 + 12 * SEC + 7 * MS, 960.0))  # -4 %: under the 5 % threshold

    _, sink = _run([snapshot], open_interest=[_oi(value, ts) for ts, value in points])

    assert sink.events == []


def test_hot_store_holds_exactly_what_is_published() -> None:
    name = f"jarvis_test_{uuid.uuid4().hex[:12]}"
    snapshot = _snapshot(BIDS, ASKS, T0 + 1 * MS)
    trades = [_trade(50001.0, 0.1, n % 2 == 0, T0 + n * 250 * MS + 3 * MS, n) for n in range(1, 30)]
    oi = [_oi(1000.0 + n, T0 + n * SEC + 7 * MS) for n in range(8)]

    builder, sink = _run([snapshot, *trades], open_interest=oi, hot_store_name=name)

    assert len(sink.hot) == len(sink.states) >= 7
    seqs = [h["local_seq"] for h in sink.hot]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    for state, hot in zip(sink.states, sink.hot, strict=True):
        assert hot["local_seq"] == state.local_seq
        assert hot["input_ts_ns"] == state.input_ts_ns
        assert hot["venue_ts_ns"] == state.ts_event
        assert hot["written_ns"] <= state.ts_init
        for field in FLOAT_FIELDS:
            assert _same(_nan_or(hot[field]), getattr(state, field)), field
    assert builder.hot_writes > len(sink.states)  # every input and refresh writes the store


def test_hot_store_segment_is_removed_when_the_builder_stops() -> None:
    name = f"jarvis_test_{uuid.uuid4().hex[:12]}"

    _run([_snapshot(BIDS, ASKS, T0 + 1 * MS)], hot_store_name=name)

    with pytest.raises(Exception, match="does not exist"):
        HotStateReader(name)


def test_builder_for_unknown_instrument_stops_without_subscribing() -> None:
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="CRITICAL")))
    engine.add_venue(
        Venue("BINANCE"),
        OmsType.NETTING,
        AccountType.MARGIN,
        [Money(1_000_000, USDT)],
        book_type=BookType.L2_MBP,
    )
    engine.add_instrument(INSTRUMENT)
    engine.add_data([_snapshot(BIDS, ASKS, T0 + 1 * MS)])
    builder = MarketStateBuilder(
        MarketStateBuilderConfig(instrument_id=InstrumentId.from_str("ETHUSDT-PERP.BINANCE")),
    )
    engine.add_actor(builder)
    try:
        engine.run()
    finally:
        engine.dispose()

    assert builder.messages_handled == 0
    assert builder.states_published == 0


_OPS = st.lists(
    st.tuples(
        st.booleans(),  # bid side?
        st.integers(min_value=0, max_value=30),  # ticks of 5.0 away from the inside
        st.sampled_from([0.0, 0.001, 0.5, 1.25, 3.0]),  # 0 = delete the level
    ),
    min_size=1,
    max_size=12,  # past 8 deltas the sums are recomputed from the shadow, not adjusted
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_OPS, min_size=1, max_size=40))
def test_band_depth_in_place_updates_equal_a_fresh_pass_over_the_book(
    batches: list[list[tuple[bool, int, float]]],
) -> None:
    book = OrderBook(IID, BookType.L2_MBP)
    book.apply_deltas(_snapshot(BIDS, ASKS, T0))
    bands = (10.0, 20.0, 50.0)
    depth = BandDepth(bands)
    ts = T0
    for batch in batches:
        ts += 1
        items = []
        for is_bid, ticks, size in batch:
            side = OrderSide.BUY if is_bid else OrderSide.SELL
            px = 50000.0 - 5.0 * ticks if is_bid else 50001.0 + 5.0 * ticks
            action = BookAction.DELETE if size == 0.0 else BookAction.UPDATE
            items.append(_delta(side, px, size or 1.0, ts, action))
        deltas = _deltas(items)
        book.apply_deltas(deltas)
        bid, ask = book.best_bid_price(), book.best_ask_price()
        if bid is None or ask is None:
            depth.invalidate()
            continue
        mid = (bid.as_double() + ask.as_double()) / 2
        if not depth.apply_small_update(deltas, mid):
            depth.rebuild(book, mid, bid.precision)

        expected_bid = depth_usd_bands(book, OrderSide.BUY, bands, mid)
        expected_ask = depth_usd_bands(book, OrderSide.SELL, bands, mid)
        assert depth.bid_usd == pytest.approx(expected_bid, rel=1e-9, abs=1e-6)
        assert depth.ask_usd == pytest.approx(expected_ask, rel=1e-9, abs=1e-6)


_LEVELS = st.lists(
    st.tuples(st.integers(min_value=0, max_value=400), st.sampled_from([0.001, 0.5, 1.25, 7.0])),
    min_size=1,
    max_size=40,
    unique_by=lambda level: level[0],
)


@settings(max_examples=150, deadline=None)
@given(_LEVELS, _LEVELS)
def test_band_depth_read_from_the_book_equals_the_reference_bit_for_bit(
    bids: list[tuple[int, float]], asks: list[tuple[int, float]]
) -> None:
    # Levels 0.1 apart up to 40 from the inside: every band edge gets levels on both sides.
    book = OrderBook(IID, BookType.L2_MBP)
    book.apply_deltas(
        _snapshot(
            [(50000.0 - 0.1 * ticks, size) for ticks, size in bids],
            [(50000.1 + 0.1 * ticks, size) for ticks, size in asks],
            T0,
        ),
    )
    bid, ask = book.best_bid_price(), book.best_ask_price()
    assert bid is not None and ask is not None
    mid = (bid.as_double() + ask.as_double()) / 2
    bands = (2.0, 5.0, 10.0, 20.0)
    depth = BandDepth(bands)
    depth.rebuild(book, mid, bid.precision)

    assert repr(depth.bid_usd) == repr(depth_usd_bands(book, OrderSide.BUY, bands, mid))
    assert repr(depth.ask_usd) == repr(depth_usd_bands(book, OrderSide.SELL, bands, mid))


def _shifted(levels: Sequence[tuple[float, float]], shift: float) -> list[tuple[float, float]]:
    return [(px + shift, sz) for px, sz in levels]


def test_mid_changes_range_velocity_and_acceleration_follow_the_mid_over_configured_windows() -> (
    None
):
    # Arrange: windows shortened through config (1 s, 2 s, 4 s, 8 s); the whole book moves by a
    # different step every 700 ms, so the mid is a known step function.
    shifts = [0.0, 3.0, 3.0, -7.0, 12.0, 25.0, 5.0, -30.0, -10.0, 40.0, 41.0, 2.0, -3.0, 8.0]
    books = [
        _snapshot(_shifted(BIDS, s), _shifted(ASKS, s), T0 + 1 * MS + k * 700 * MS)
        for k, s in enumerate(shifts)
    ]
    mids = [
        (b.ts_init, (50000.0 + s + 50001.0 + s) / 2) for b, s in zip(books, shifts, strict=True)
    ]

    # Act
    _, sink = _run(books, windows_secs=(1.0, 2.0, 4.0, 8.0))

    # Assert: every published state against the mid in force at each window start.
    first = mids[0][0]
    checked = 0
    for state in sink.states:
        now = state.ts_init

        def mid_at(t: int) -> float | None:
            return _level_at(mids, t) if t >= first else None

        def bps(a: float | None, b: float | None) -> float:
            return math.nan if a is None or b is None else (a - b) / b * 1e4

        mid_now = mid_at(now)
        assert _same(state.mid_change_bps_1s, bps(mid_now, mid_at(now - 1 * SEC)))
        assert _same(state.mid_change_bps_5s, bps(mid_now, mid_at(now - 2 * SEC)))
        assert _same(state.mid_change_bps_15m, bps(mid_now, mid_at(now - 4 * SEC)))
        assert _same(state.mid_velocity_bps_s, bps(mid_now, mid_at(now - 2 * SEC)) / 2.0)
        accel = (
            bps(mid_now, mid_at(now - 1 * SEC)) - bps(mid_at(now - 2 * SEC), mid_at(now - 3 * SEC))
        ) / 2.0
        assert _same(state.mid_accel_bps_s2, accel)
        if now - 4 * SEC >= first:
            in_force = [mid_at(now - 4 * SEC)] + [m for t, m in mids if now - 4 * SEC < t <= now]
            assert state.mid_high_15m == max(m for m in in_force if m is not None)
            assert state.mid_low_15m == min(m for m in in_force if m is not None)
            checked += 1
        else:
            assert math.isnan(state.mid_high_15m) and math.isnan(state.mid_low_15m)
    assert checked >= 4


def test_windows_secs_must_be_positive_and_ascending() -> None:
    with pytest.raises(ValueError, match="windows_secs"):
        MarketStateBuilderConfig(instrument_id=IID, windows_secs=(1.0, 5.0, 3.0, 10.0))
    with pytest.raises(ValueError, match="windows_secs"):
        MarketStateBuilderConfig(instrument_id=IID, windows_secs=(0.0, 5.0, 6.0, 10.0))


def test_depth_thinning_is_reported_for_the_side_that_thinned() -> None:
    # Arrange: a steady book for 3 s (baseline 2 s), then the asks near the mid are pulled.
    steady = [_snapshot(BIDS, ASKS, T0 + 1 * MS + k * 200 * MS) for k in range(15)]
    thin_asks = [(px, sz * 0.1) for px, sz in ASKS]
    thinned = _snapshot(BIDS, thin_asks, T0 + 3100 * MS)

    # Act
    _, sink = _run(
        [*steady, thinned],
        thresholds=StructuralEventThresholds(thinning_baseline_window_secs=2.0),
    )

    # Assert
    thinning = [(e.kind, e.side) for e in sink.events if e.kind == "DEPTH_THINNING"]
    assert thinning == [("DEPTH_THINNING", "ASK")]
