"""
The state builder: the one writer of derived market state for an instrument.

It turns the raw feed (L2 book deltas, quotes, trades, mark, index/oracle, funding, open
interest) into depth, flow, rolling windows and structural events; publishes ``MarketState``
and ``StructuralEvent`` custom data on the bus and (optionally) writes every update into the
shared-memory hot state store for strategies in other processes.

Time: every timestamp comes from the data (``ts_init``) or the actor's clock, never from wall
time, so the actor runs unchanged live and in a ``BacktestEngine``. Structural events depend on
the input stream only (never on timer phase), so the same recorded input yields the same events.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import numpy.typing as npt
from nautilus_trader.common.actor import Actor
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import NonNegativeInt
from nautilus_trader.config import PositiveInt
from nautilus_trader.core.data import Data
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId

from actors.band_depth import BandDepth
from actors.book_metrics import DEPTH_BANDS_BPS
from actors.book_metrics import AbsorptionTracker
from actors.book_metrics import BookRefillTracker
from actors.book_metrics import DepthThinningTracker
from actors.book_metrics import depth_asymmetry
from actors.flow_windows import FlowWindows
from actors.hot_state import HotStateWriter
from actors.hot_state_layout import DEFAULT_N_SLOTS
from actors.hot_state_layout import FLOAT_INDEX
from actors.hot_state_layout import N_FLOAT_FIELDS
from actors.market_state import MARKET_STATE_DATA_TYPE
from actors.market_state import MarketState
from actors.market_state import new_market_state
from actors.mid_motion import MidMotion
from actors.rolling import WINDOWS_NS
from actors.structural_events import STRUCTURAL_EVENT_DATA_TYPE
from actors.structural_events import StructuralEvent
from actors.structural_events import StructuralEventDetector
from actors.structural_events import StructuralEventThresholds
from actors.wallets.data import MANIPULATOR_STATE_DATA_TYPE
from actors.wallets.data import ManipulatorState
from actors.window_groups import ChangeWindows
from actors.window_groups import MeanWindows
from adapters.hyperliquid.data_types import OPEN_INTEREST_DATA_TYPE
from adapters.hyperliquid.data_types import OpenInterestUpdate
from common.nautilus import custom_data_topic

__all__ = [
    "MarketStateBuilder",
    "MarketStateBuilderConfig",
]

_NAN = math.nan
_NS_PER_MS = 1_000_000
_NS_PER_SEC = 1_000_000_000
_NEVER = 2**63  # later than any nanosecond timestamp

# Field indices into the value buffer (the hot-store layout), resolved once.
_MID = FLOAT_INDEX["mid"]
_SPREAD = FLOAT_INDEX["spread"]
_BEST_BID = FLOAT_INDEX["best_bid"]
_BEST_ASK = FLOAT_INDEX["best_ask"]
_MARK = FLOAT_INDEX["mark"]
_ORACLE = FLOAT_INDEX["oracle"]
_FUNDING = FLOAT_INDEX["funding"]
_OI = FLOAT_INDEX["open_interest"]
_BID_DEPTH = tuple(FLOAT_INDEX[f"bid_depth_usd_{int(b)}bps"] for b in DEPTH_BANDS_BPS)
_ASK_DEPTH = tuple(FLOAT_INDEX[f"ask_depth_usd_{int(b)}bps"] for b in DEPTH_BANDS_BPS)
_ASYM = tuple(FLOAT_INDEX[f"depth_asymmetry_{int(b)}bps"] for b in DEPTH_BANDS_BPS)
_BID_THIN = FLOAT_INDEX["bid_thinning_ratio"]
_ASK_THIN = FLOAT_INDEX["ask_thinning_ratio"]
_WINDOW_NAMES = ("1s", "5s", "15m", "1h")  # same order as rolling.WINDOWS_NS
_AGGR_BUY = tuple(FLOAT_INDEX[f"aggr_buy_usd_{w}"] for w in _WINDOW_NAMES)
_AGGR_SELL = tuple(FLOAT_INDEX[f"aggr_sell_usd_{w}"] for w in _WINDOW_NAMES)
_OI_CHG = tuple(FLOAT_INDEX[f"oi_change_pct_{w}"] for w in _WINDOW_NAMES)
_FUND_DRIFT = tuple(FLOAT_INDEX[f"funding_drift_{w}"] for w in _WINDOW_NAMES)
_ASYM_MEAN = tuple(FLOAT_INDEX[f"depth_asymmetry_mean_{w}"] for w in _WINDOW_NAMES)
_ABSORBED = FLOAT_INDEX["absorbed_usd"]
_BID_REFILL = FLOAT_INDEX["bid_refill_secs"]
_ASK_REFILL = FLOAT_INDEX["ask_refill_secs"]
# MidMotionReading order.
_MID_MOTION = tuple(
    FLOAT_INDEX[name]
    for name in (
        "mid_change_bps_1s",
        "mid_change_bps_5s",
        "mid_change_bps_15m",
        "mid_high_15m",
        "mid_low_15m",
        "mid_velocity_bps_s",
        "mid_accel_bps_s2",
    )
)
_MANIP_ACTIVE = FLOAT_INDEX["is_manipulator_active"]
_MANIP_DIRECTION = FLOAT_INDEX["manipulator_direction"]
_MANIP_USD = FLOAT_INDEX["manipulator_position_usd"]
_DIRECTION_SIGN = {"LONG": 1.0, "SHORT": -1.0, "NONE": 0.0}
# Asymmetry means are taken over this band (bps).
_ASYM_MEAN_BAND_BPS = 20.0
# Windows longer than this are fed sampled levels (see `slow_window_sample_ms`).
_FAST_WINDOW_MAX_NS = 5 * _NS_PER_SEC
# The groups of time-decaying windows the refresh timer re-evaluates (see `_on_refresh_timer`).
_G_FLOWS, _G_OI, _G_FUNDING, _G_ASYM, _G_MOTION = range(5)


class MarketStateBuilderConfig(ActorConfig, frozen=True):
    """
    Configuration of one ``MarketStateBuilder`` (one instrument, one writer).

    Parameters
    ----------
    instrument_id : InstrumentId
        The instrument whose state is built.
    client_id : ClientId, optional
        Data client for the subscriptions (None: inferred from the instrument's venue).
    book_depth : int, default 0
        Order book depth to subscribe to (0 = full depth).
    subscribe_quotes, subscribe_trades, subscribe_mark_prices, subscribe_index_prices,
    subscribe_funding_rates, subscribe_open_interest : bool, default True
        Which inputs to subscribe to (all of them normally).
    publish_interval_ms : int, default 1000
        ``MarketState`` is published on this timer (and after every structural event).
        0 disables the timer.
    refresh_interval_ms : int, default 100
        Interval at which the time-decaying windows (flows, OI change, funding drift,
        asymmetry means, mid motion) are re-evaluated, so a quiet market still decays them: a
        timer that rewrites the hot store when there is one; without one, the same instants
        are counted from the start and each window is evaluated at the latest of them only
        when next needed (see ``_sync_refresh``). 0 disables it (windows then update on their
        own inputs only).
    slow_window_sample_ms : int, default 100
        The 15 min / 1 h asymmetry means and the depth-thinning baseline take at most one
        book sample per this interval (bounded memory at thousands of book updates per second).
    refill_lookback_ms : int, default 1000
        Look-back for the pre-sweep depth of the book-refill tracker.
    thresholds : StructuralEventThresholds
        Event thresholds, windows and hysteresis; also parameterise the trackers.
    hot_store_name : str, optional
        Shared-memory segment name to write; None disables the hot store.
    hot_store_slots : int, default 8
        Ring slots per instrument in the segment (a power of two).
    hot_store_replace_existing : bool, default False
        Take over a segment left behind by a crashed writer instead of failing at start.
    windows_secs : tuple[float, float, float, float], default (1, 5, 900, 3600)
        Lengths of the windows the ``*_1s``, ``*_5s``, ``*_15m`` and ``*_1h`` fields are
        computed over. The names keep their meaning in production; tests shorten the windows
        here (never in code) to warm up in seconds.

    """

    instrument_id: InstrumentId
    client_id: ClientId | None = None
    book_depth: NonNegativeInt = 0
    subscribe_quotes: bool = True
    subscribe_trades: bool = True
    subscribe_mark_prices: bool = True
    subscribe_index_prices: bool = True
    subscribe_funding_rates: bool = True
    subscribe_open_interest: bool = True
    publish_interval_ms: NonNegativeInt = 1000
    refresh_interval_ms: NonNegativeInt = 100
    slow_window_sample_ms: PositiveInt = 100
    refill_lookback_ms: PositiveInt = 1000
    thresholds: StructuralEventThresholds = StructuralEventThresholds()
    hot_store_name: str | None = None
    hot_store_slots: PositiveInt = DEFAULT_N_SLOTS
    hot_store_replace_existing: bool = False
    windows_secs: tuple[float, float, float, float] = tuple(  # type: ignore[assignment]
        w / _NS_PER_SEC for w in WINDOWS_NS
    )

    def __post_init__(self) -> None:
        """Fail at construction on windows that are not positive and ascending."""
        windows = self.windows_secs
        if (
            len(windows) != len(WINDOWS_NS)
            or any(not math.isfinite(w) or w <= 0.0 for w in windows)
            or list(windows) != sorted(windows)
        ):
            raise ValueError(
                f"windows_secs must be {len(WINDOWS_NS)} positive ascending seconds "
                f"(1s, 5s, 15m, 1h windows), was {windows}",
            )


class MarketStateBuilder(Actor):
    """
    Builds, publishes and stores the derived market state of one instrument.

    Per message it updates only what that message changes (the book path computes depth for all
    bands in one pass over the levels inside the widest band), feeds the structural event
    detector, publishes any events (then a ``MarketState``), and writes the hot store. Timers
    publish ``MarketState`` and decay time windows; they never feed the detector.
    """

    def __init__(self, config: MarketStateBuilderConfig) -> None:
        super().__init__(config)
        self._instrument_id = config.instrument_id
        t = config.thresholds
        self._thresholds = t
        # Depth bands: the published ones plus the event band (depth-low, thinning, refill).
        bands = sorted({*DEPTH_BANDS_BPS, t.depth_low_bps, _ASYM_MEAN_BAND_BPS})
        self._bands: tuple[float, ...] = tuple(bands)
        self._band_pos = tuple(self._bands.index(b) for b in DEPTH_BANDS_BPS)
        self._event_band_pos = self._bands.index(t.depth_low_bps)
        self._asym_band_pos = self._bands.index(_ASYM_MEAN_BAND_BPS)
        self._slow_sample_ns = config.slow_window_sample_ms * _NS_PER_MS
        self._windows_ns: tuple[int, ...] = tuple(_secs_to_ns(w) for w in config.windows_secs)
        self._refill_lookback_ns = config.refill_lookback_ms * _NS_PER_MS

        self._values: npt.NDArray[np.float64] = np.full(N_FLOAT_FIELDS, np.nan)
        self._detector = StructuralEventDetector(self._instrument_id, t)
        self._writer: HotStateWriter | None = None
        self._hot_index = 0
        self._book: OrderBook | None = None
        self._depth = BandDepth(self._bands)
        self._make_trackers()
        self._reset_clocks()

        # Observability counters.
        self.messages_handled = 0
        self.events_published = 0
        self.states_published = 0
        self.hot_writes = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def _make_trackers(self) -> None:
        t = self._thresholds
        self._depth.invalidate()
        windows = self._windows_ns
        self._flows = FlowWindows(windows)
        self._oi_changes = ChangeWindows(windows)
        self._funding_changes = ChangeWindows(windows)
        self._asym_means = MeanWindows(windows, [w > _FAST_WINDOW_MAX_NS for w in windows])
        self._mid_motion = MidMotion(windows[0], windows[1], windows[2])
        baseline_ns = _secs_to_ns(t.thinning_baseline_window_secs)
        self._bid_thinning = _SampledThinning(baseline_ns)
        self._ask_thinning = _SampledThinning(baseline_ns)
        self._bid_refill = BookRefillTracker(
            t.refill_share,
            t.sweep_drop_share,
            self._refill_lookback_ns,
        )
        self._ask_refill = BookRefillTracker(
            t.refill_share,
            t.sweep_drop_share,
            self._refill_lookback_ns,
        )
        self._absorption = AbsorptionTracker(
            _secs_to_ns(t.absorption_window_secs),
            t.absorption_min_usd,
            t.absorption_max_move_bps,
        )

    def _reset_clocks(self) -> None:
        # `_now`: monotonic time for the display windows (inputs and timers).
        # `_event_now`: monotonic time from inputs only (detector and its trackers), so events
        # never depend on when a timer happened to fire.
        self._now = 0
        self._event_now = 0
        self._venue_ts = 0
        self._input_ts = 0
        self._local_seq = 0
        self._last_mid = _NAN
        self._motion_mid = _NAN
        self._slow_bucket = -1
        self._thin_bucket = -1
        # Lazy refresh: the newest refresh-timer time whose evaluation is deferred, and per
        # window group the display time it was last evaluated at.
        self._tick_ns = 0
        self._evaluated = [0] * 5
        # Per group: its slots do not hold the reading at `_evaluated` yet (read lazily).
        self._unread = [False] * 5
        self._refresh_start = 0
        self._refresh_every = 0  # 0: no deferred refresh (a timer, or none at all)
        self._refreshes = 0  # refresh instants passed so far
        self._next_refresh_ns = _NEVER  # the next one (inputs before it need no sync)

    def on_start(self) -> None:
        """Check the instrument, open the hot store, subscribe, start timers."""
        config: MarketStateBuilderConfig = self.config  # type: ignore[assignment]
        instrument_id = self._instrument_id
        if self.cache.instrument(instrument_id) is None:
            self.log.error(f"Instrument {instrument_id} not in cache: state builder not started")
            self.stop()
            return

        if config.hot_store_name is not None:
            self._writer = HotStateWriter(
                config.hot_store_name,
                [instrument_id.value],
                n_slots=config.hot_store_slots,
                created_ns=self.clock.timestamp_ns(),
                replace_existing=config.hot_store_replace_existing,
            )
            self._hot_index = self._writer.index_of(instrument_id.value)
            self.log.info(f"Hot state store {config.hot_store_name!r} open for {instrument_id}")

        client_id = config.client_id
        self.subscribe_order_book_deltas(
            instrument_id,
            BookType.L2_MBP,
            depth=config.book_depth,
            client_id=client_id,
            managed=True,
        )
        self._book = self.cache.order_book(instrument_id)
        if config.subscribe_quotes:
            self.subscribe_quote_ticks(instrument_id, client_id=client_id)
        if config.subscribe_trades:
            self.subscribe_trade_ticks(instrument_id, client_id=client_id)
        if config.subscribe_mark_prices:
            self.subscribe_mark_prices(instrument_id, client_id=client_id)
        if config.subscribe_index_prices:
            self.subscribe_index_prices(instrument_id, client_id=client_id)
        if config.subscribe_funding_rates:
            self.subscribe_funding_rates(instrument_id, client_id=client_id)
        if config.subscribe_open_interest:
            self.subscribe_data(
                OPEN_INTEREST_DATA_TYPE,
                client_id=client_id,
                instrument_id=instrument_id,
            )

        # The wallet tracker's verdict rides along in MarketState and the hot store (it stays
        # the one writer of that fact; NaN until it publishes, e.g. when none runs).
        self.msgbus.subscribe(
            custom_data_topic(MANIPULATOR_STATE_DATA_TYPE), self.on_manipulator_state
        )
        if config.publish_interval_ms > 0:
            self.clock.set_timer(
                self._timer_name("publish"),
                timedelta(milliseconds=config.publish_interval_ms),
                callback=self._on_publish_timer,
            )
        if config.refresh_interval_ms > 0 and self._writer is not None:
            self.clock.set_timer(
                self._timer_name("refresh"),
                timedelta(milliseconds=config.refresh_interval_ms),
                callback=self._on_refresh_timer,
            )
        elif config.refresh_interval_ms > 0:
            # The instants such a timer would fire at: start + k * interval, k >= 1.
            self._refresh_start = self.clock.timestamp_ns()
            self._refresh_every = config.refresh_interval_ms * _NS_PER_MS
            self._next_refresh_ns = self._refresh_start + self._refresh_every

    def on_stop(self) -> None:
        """Mirror of ``on_start``: timers, subscriptions, hot store."""
        config: MarketStateBuilderConfig = self.config  # type: ignore[assignment]
        instrument_id = self._instrument_id
        for name in (self._timer_name("publish"), self._timer_name("refresh")):
            if name in self.clock.timer_names:
                self.clock.cancel_timer(name)
        self.msgbus.unsubscribe(
            custom_data_topic(MANIPULATOR_STATE_DATA_TYPE), self.on_manipulator_state
        )
        if self._book is not None:
            client_id = config.client_id
            self.unsubscribe_order_book_deltas(instrument_id, client_id=client_id)
            if config.subscribe_quotes:
                self.unsubscribe_quote_ticks(instrument_id, client_id=client_id)
            if config.subscribe_trades:
                self.unsubscribe_trade_ticks(instrument_id, client_id=client_id)
            if config.subscribe_mark_prices:
                self.unsubscribe_mark_prices(instrument_id, client_id=client_id)
            if config.subscribe_index_prices:
                self.unsubscribe_index_prices(instrument_id, client_id=client_id)
            if config.subscribe_funding_rates:
                self.unsubscribe_funding_rates(instrument_id, client_id=client_id)
            if config.subscribe_open_interest:
                self.unsubscribe_data(
                    OPEN_INTEREST_DATA_TYPE,
                    client_id=client_id,
                    instrument_id=instrument_id,
                )
        self._close_writer()

    def on_reset(self) -> None:
        """Forget all state: windows, trackers, latches, values."""
        self._make_trackers()
        self._detector.reset()
        self._values.fill(np.nan)
        self._reset_clocks()
        self._book = None
        self.messages_handled = 0
        self.events_published = 0
        self.states_published = 0
        self.hot_writes = 0

    def on_dispose(self) -> None:
        """Release the hot store if ``on_stop`` never ran."""
        self._close_writer()

    # -- handlers ----------------------------------------------------------------------------

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        """Book changed (the data engine applied the deltas already): depth, events, store."""
        if deltas.instrument_id != self._instrument_id:
            return
        ts = deltas.ts_init
        now = self._touch(deltas.ts_event, ts)
        event_now = self._event_now
        book = self._book or self._find_book()
        if book is None:
            self._depth.invalidate()
            return
        v = self._values
        bid_px = book.best_bid_price()
        ask_px = book.best_ask_price()
        if bid_px is None or ask_px is None:
            # One-sided or empty book: no mid, so no band depth; say so instead of keeping
            # numbers that no longer hold. The depth shadow misses these deltas: read again.
            self._depth.invalidate()
            for i in (_MID, _SPREAD, *_BID_DEPTH, *_ASK_DEPTH, *_ASYM):
                v[i] = _NAN
            v[_BEST_BID] = _NAN if bid_px is None else bid_px.as_double()
            v[_BEST_ASK] = _NAN if ask_px is None else ask_px.as_double()
            self._write_hot()
            return
        bid = bid_px.as_double()
        ask = ask_px.as_double()
        mid = (bid + ask) * 0.5
        v[_BEST_BID] = bid
        v[_BEST_ASK] = ask
        v[_MID] = mid
        v[_SPREAD] = ask - bid

        depth = self._depth
        if not depth.apply_small_update(deltas, mid):
            depth.rebuild(book, mid, bid_px.precision)
        bids = depth.bid_usd
        asks = depth.ask_usd
        for k, pos in enumerate(self._band_pos):
            b = bids[pos]
            a = asks[pos]
            v[_BID_DEPTH[k]] = b
            v[_ASK_DEPTH[k]] = a
            v[_ASYM[k]] = depth_asymmetry(b, a)

        # Asymmetry means: fast windows take every update, slow ones one sample per interval;
        # all are re-evaluated once per interval (and by the timers), not per message.
        asym = depth_asymmetry(bids[self._asym_band_pos], asks[self._asym_band_pos])
        bucket = now // self._slow_sample_ns
        means = self._asym_means
        if bucket != self._slow_bucket:
            self._slow_bucket = bucket
            # Catch up with the deferred refresh: only its evictions count, since every
            # reading it would write is rewritten at `now` right after the sample.
            if self._tick_ns > self._evaluated[_G_ASYM]:
                means.evict(self._tick_ns)
            means.update(now, asym, True)
            self._refresh_asym_means(now)
        else:
            self._catch_up(_G_ASYM)
            means.update(now, asym, False)

        # Event band: depth-low, thinning (sampled baseline) and refill, on input time only.
        bid_ev = bids[self._event_band_pos]
        ask_ev = asks[self._event_band_pos]
        thin_bucket = event_now // self._slow_sample_ns
        sample = thin_bucket != self._thin_bucket
        self._thin_bucket = thin_bucket
        bid_ratio = self._bid_thinning.update(event_now, bid_ev, sample)
        ask_ratio = self._ask_thinning.update(event_now, ask_ev, sample)
        v[_BID_THIN] = _NAN if bid_ratio is None else bid_ratio
        v[_ASK_THIN] = _NAN if ask_ratio is None else ask_ratio
        bid_refill = self._bid_refill.update(event_now, bid_ev)
        ask_refill = self._ask_refill.update(event_now, ask_ev)
        if bid_refill is not None:
            v[_BID_REFILL] = bid_refill
        if ask_refill is not None:
            v[_ASK_REFILL] = ask_refill
        if mid != self._last_mid:
            self._last_mid = mid
            self._absorption.on_mid(event_now, mid)
        self._on_mid(now, mid)

        events = self._detector.on_book(
            event_now, bid_ev, ask_ev, bid_ratio, ask_ratio, bid_refill, ask_refill
        )
        if events:
            self._publish_events(events)
        self._write_hot()

    def on_quote_tick(self, tick: QuoteTick) -> None:
        """Top of book from quotes, used only while the L2 book cannot give a two-sided mid."""
        if tick.instrument_id != self._instrument_id:
            return
        self._touch(tick.ts_event, tick.ts_init)
        book = self._book or self._find_book()
        if (
            book is not None
            and book.best_bid_price() is not None
            and book.best_ask_price() is not None
        ):
            self._write_hot()  # fresher input, same state
            return
        v = self._values
        bid = tick.bid_price.as_double()
        ask = tick.ask_price.as_double()
        mid = (bid + ask) * 0.5
        v[_BEST_BID] = bid
        v[_BEST_ASK] = ask
        v[_MID] = mid
        v[_SPREAD] = ask - bid
        self._on_mid(self._now, mid)
        self._write_hot()

    def on_trade_tick(self, tick: TradeTick) -> None:
        """Aggressor flow over every window, absorption, events, store."""
        if tick.instrument_id != self._instrument_id:
            return
        now = self._touch(tick.ts_event, tick.ts_init)
        event_now = self._event_now
        px = tick.price.as_double()
        size = tick.size.as_double()
        side = tick.aggressor_side
        flows = self._flows
        # The evictions of the reads deferred since the last trade first (their order in the
        # running sums counts): evicting once at the latest read time equals evicting at each.
        tick_ns = self._tick_ns
        if tick_ns > self._evaluated[_G_FLOWS]:
            flows.evict(tick_ns)
        elif self._unread[_G_FLOWS]:
            flows.evict(self._evaluated[_G_FLOWS])
        flows.update(now, px, size, side)
        self._changed(_G_FLOWS, now)
        absorption = self._absorption
        absorption.on_trade(event_now, px, size, side)
        absorbed = absorption.absorbed_usd(event_now)
        self._values[_ABSORBED] = _NAN if absorbed is None else absorbed
        if absorbed is not None:
            events = self._detector.on_absorbed(event_now, absorbed)
            if events:
                self._publish_events(events)
        self._write_hot()

    def on_mark_price(self, mark_price: MarkPriceUpdate) -> None:
        """Venue mark price."""
        if mark_price.instrument_id != self._instrument_id:
            return
        self._touch(mark_price.ts_event, mark_price.ts_init)
        self._values[_MARK] = mark_price.value.as_double()
        self._write_hot()

    def on_index_price(self, index_price: IndexPriceUpdate) -> None:
        """Venue index (Hyperliquid's oracle price)."""
        if index_price.instrument_id != self._instrument_id:
            return
        self._touch(index_price.ts_event, index_price.ts_init)
        self._values[_ORACLE] = index_price.value.as_double()
        self._write_hot()

    def on_funding_rate(self, funding_rate: FundingRateUpdate) -> None:
        """Funding rate level, its drift over every window, funding-acceleration events."""
        if funding_rate.instrument_id != self._instrument_id:
            return
        now = self._touch(funding_rate.ts_event, funding_rate.ts_init)
        rate = float(funding_rate.rate)
        self._values[_FUNDING] = rate
        self._funding_changes.update(now, rate)
        self._changed(_G_FUNDING, now)
        events = self._detector.on_funding_rate(self._event_now, rate)
        if events:
            self._publish_events(events)
        self._write_hot()

    def on_data(self, data: Data) -> None:
        """Custom data: open interest for our instrument."""
        if isinstance(data, OpenInterestUpdate) and data.instrument_id == self._instrument_id:
            self._on_open_interest(data)

    def on_manipulator_state(self, state: ManipulatorState) -> None:
        """The wallet tracker's newest verdict for our instrument: into the state and store.

        Not a market input: the input time (staleness) does not move.
        """
        if state.instrument_id != self._instrument_id:
            return
        v = self._values
        v[_MANIP_ACTIVE] = 1.0 if state.is_manipulator_active else 0.0
        v[_MANIP_DIRECTION] = _DIRECTION_SIGN.get(state.manipulator_direction, _NAN)
        v[_MANIP_USD] = state.position_usd
        if self._input_ts != 0:
            self._write_hot()

    def _on_open_interest(self, update: OpenInterestUpdate) -> None:
        now = self._touch(update.ts_event, update.ts_init)
        oi = update.value
        self._values[_OI] = oi
        self._oi_changes.update(now, oi)
        self._changed(_G_OI, now)
        events = self._detector.on_open_interest(self._event_now, oi)
        if events:
            self._publish_events(events)
        self._write_hot()

    # -- timers ------------------------------------------------------------------------------

    def _on_publish_timer(self, event: TimeEvent) -> None:
        now = self.clock.timestamp_ns()
        # A refresh timer due at the same instant fires after this one (it was set later).
        self._sync_refresh(now - 1)
        self._refresh_windows(self._advance(now))
        self._publish_state()

    def _on_refresh_timer(self, event: TimeEvent) -> None:
        """Re-evaluate the decaying windows and rewrite the hot store (only with a store)."""
        self._refresh_windows(self._advance(self.clock.timestamp_ns()))

    def _sync_refresh(self, clock_ns: int) -> None:
        """
        Account for the refresh instants up to ``clock_ns`` (no hot store: no timer).

        Without a hot store nothing reads the values between two publications, so a refresh
        needs no timer event (ten a second per instrument, a good part of a backtest's time):
        its instant is only recorded, and each window group is evaluated at the latest one
        just before its next input (keeping the order of additions and evictions in its
        running sums, so every number stays bit for bit what an eager refresh gives) or before
        the next snapshot. Evaluating once at the latest instant equals evaluating at each one
        before it: a window's query only evicts what lies before its cutoff, in the same order.
        Called first by every input (a timer due at the input's time fires before it) and by
        every publication; refreshes before the first input did nothing and count for nothing.
        """
        every = self._refresh_every
        if every == 0:
            return
        passed = (clock_ns - self._refresh_start) // every
        if passed <= self._refreshes:
            return
        if self._input_ts != 0:
            # Each refresh counted as one store update (local_seq), as an eager one does.
            self._local_seq += passed - self._refreshes
            self._tick_ns = self._advance(self._refresh_start + passed * every)
        self._refreshes = passed
        self._next_refresh_ns = self._refresh_start + (passed + 1) * every

    def _refresh_windows(self, now: int) -> None:
        """Re-evaluate the time-decaying display windows at ``now`` and rewrite the store."""
        if self._input_ts == 0:
            return
        self._refresh_flows(now)
        self._refresh_oi(now)
        self._refresh_funding(now)
        self._refresh_asym_means(now)
        self._refresh_mid_motion(now)
        self._write_hot()

    # -- helpers -----------------------------------------------------------------------------

    def _find_book(self) -> OrderBook | None:
        # Live, the data engine creates the book asynchronously after the subscription.
        self._book = self.cache.order_book(self._instrument_id)
        return self._book

    def _touch(self, ts_event: int, ts_init: int) -> int:
        """Register one input: venue/input times, both monotonic clocks; returns display now."""
        clock_ns = self.clock.timestamp_ns()
        if clock_ns >= self._next_refresh_ns:
            self._sync_refresh(clock_ns)
        self.messages_handled += 1
        if self._input_ts == 0:
            self._start_observing(ts_init)
        if ts_event > self._venue_ts:
            self._venue_ts = ts_event
        if ts_init > self._input_ts:
            self._input_ts = ts_init
        if ts_init > self._event_now:
            self._event_now = ts_init
        if ts_init > self._now:
            self._now = ts_init
        return self._now

    def _start_observing(self, ts_ns: int) -> None:
        # Flow windows are observed from the first input on, not from the first trade: after
        # a quiet second the 1 s flow is 0.0, not "warming up". A zero-size trade marks it.
        self._flows.update(ts_ns, 0.0, 0.0, AggressorSide.BUYER)

    def _advance(self, ts_ns: int) -> int:
        if ts_ns > self._now:
            self._now = ts_ns
        return self._now

    def _catch_up(self, group: int) -> None:
        """
        Evaluate one window group at the deferred refresh time, if it lags behind it.

        Before an input updates a group with running sums (flows, asymmetry means), and before
        a snapshot. Groups whose windows only drop old levels (open interest, funding, mid
        motion) need no catch-up before an update: dropping before or after appending a newer
        level leaves the same window, and they are re-read right after the update anyway.
        """
        tick = self._tick_ns
        if tick > self._evaluated[group]:
            if group == _G_FLOWS:
                self._refresh_flows(tick)
            elif group == _G_OI:
                self._refresh_oi(tick)
            elif group == _G_FUNDING:
                self._refresh_funding(tick)
            elif group == _G_ASYM:
                self._refresh_asym_means(tick)
            else:
                self._read_mid_motion(tick)  # the deferred time, not the display clock's now

    def _catch_up_all(self) -> None:
        """Every group's slots as an eager refresh would have left them (before a snapshot)."""
        tick = self._tick_ns
        evaluated = self._evaluated
        unread = self._unread
        for group in range(len(evaluated)):
            if tick > evaluated[group]:
                self._catch_up(group)
            elif unread[group]:
                self._read_at(group, evaluated[group])

    def _changed(self, group: int, now: int) -> None:
        """
        A group other than the asymmetry means got an input at ``now``.

        With a hot store its slots are read at once (every update is written out). Without
        one they are read only before the next snapshot, at ``now`` or at a later deferred
        refresh. For windows that only drop old levels (OI, funding, mid motion) skipping the
        reads in between changes nothing: the reading depends only on the levels observed and
        the time it is read at. Trade flow's running sums also depend on when evictions happen
        relative to additions, so the trade path evicts at the skipped read time first.
        """
        if self._writer is not None:
            self._read_at(group, now)
        else:
            self._evaluated[group] = now
            self._unread[group] = True

    def _read_at(self, group: int, now: int) -> None:
        if group == _G_FLOWS:
            self._refresh_flows(now)
        elif group == _G_OI:
            self._refresh_oi(now)
        elif group == _G_FUNDING:
            self._refresh_funding(now)
        else:
            self._read_mid_motion(now)

    def _refresh_flows(self, now: int) -> None:
        self._evaluated[_G_FLOWS] = now
        self._unread[_G_FLOWS] = False
        self._flows.read_into(now, self._values, _AGGR_BUY, _AGGR_SELL)

    def _on_mid(self, now: int, mid: float) -> None:
        """The mid from the book (or quotes while the book is one-sided): motion windows."""
        if mid == self._motion_mid:
            return
        self._motion_mid = mid
        now = self._advance(now)
        self._mid_motion.update(now, mid)
        self._changed(_G_MOTION, now)

    def _refresh_mid_motion(self, now: int) -> None:
        # Never query the motion windows back in time: a live node once raised "query out of
        # order" here (a book frame stamped before a refresh that already ran), which stopped
        # the builder. The display clock is monotonic, so a late input reads at "now".
        self._read_mid_motion(self._advance(now))

    def _read_mid_motion(self, now: int) -> None:
        """The motion readings at ``now`` (never before the group's last evaluation)."""
        self._evaluated[_G_MOTION] = now
        self._unread[_G_MOTION] = False
        if self._motion_mid != self._motion_mid:  # NaN: no mid observed yet
            return
        self._mid_motion.read_into(now, self._values, _MID_MOTION)

    def _refresh_asym_means(self, now: int) -> None:
        self._evaluated[_G_ASYM] = now
        self._asym_means.read_into(now, self._values, _ASYM_MEAN)

    def _refresh_oi(self, now: int) -> None:
        self._evaluated[_G_OI] = now
        self._unread[_G_OI] = False
        self._oi_changes.read_into(now, self._values, _OI_CHG, True)

    def _refresh_funding(self, now: int) -> None:
        self._evaluated[_G_FUNDING] = now
        self._unread[_G_FUNDING] = False
        self._funding_changes.read_into(now, self._values, _FUND_DRIFT, False)

    def _publish_events(self, events: list[StructuralEvent]) -> None:
        for event in events:
            self.publish_data(STRUCTURAL_EVENT_DATA_TYPE, event)
            self.log.info(
                f"{event.kind} {event.instrument_id} value={event.value:.6g} "
                f"threshold={event.threshold:.6g} window={event.window_secs:g}s",
            )
        self.events_published += len(events)
        self._publish_state()

    def _publish_state(self) -> None:
        if self._input_ts == 0:
            return  # nothing observed yet
        self.publish_data(MARKET_STATE_DATA_TYPE, self._snapshot())
        self.states_published += 1

    def snapshot(self) -> MarketState:
        """The current state as a ``MarketState`` (what the bus and the hot store carry)."""
        self._sync_refresh(self.clock.timestamp_ns())
        return self._snapshot()

    def _snapshot(self) -> MarketState:
        self._catch_up_all()
        return new_market_state(
            self._instrument_id,
            self._local_seq,
            self._input_ts,
            self._values,
            ts_event=self._venue_ts,
            ts_init=self.clock.timestamp_ns(),
        )

    def _write_hot(self) -> None:
        self._local_seq += 1
        writer = self._writer
        if writer is not None:
            writer.write(
                self._hot_index,
                self._values,
                self._venue_ts,
                self._input_ts,
                self.clock.timestamp_ns(),
            )
            self.hot_writes += 1

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _timer_name(self, kind: str) -> str:
        return f"{type(self).__name__}-{self._instrument_id}-{kind}"


class _SampledThinning:
    """
    Depth over its baseline, with the baseline sampled once per interval.

    Feeding every book update into a 15 min time-weighted baseline would hold millions of
    points; one sample per ``slow_window_sample_ms`` holds thousands, and the baseline (which
    moves slowly by construction) is cached between samples, so a book update costs a division.
    """

    __slots__ = ("_baseline", "_sampled_at", "_tracker")

    def __init__(self, baseline_window_ns: int) -> None:
        self._tracker = DepthThinningTracker(baseline_window_ns)
        self._baseline: float | None = None
        self._sampled_at: int | None = None  # the baseline at this sample is not read yet

    def update(self, now: int, depth_usd: float, sample: bool) -> float | None:
        """Ratio of ``depth_usd`` to the baseline before it (None while warming up)."""
        if sample:
            self._sampled_at = now
            return self._tracker.update(now, depth_usd)
        sampled_at = self._sampled_at
        if sampled_at is not None:
            # The baseline right after the last sample (it has zero weight there), read only
            # now that an update between samples needs it: nothing touched the tracker since.
            self._sampled_at = None
            self._baseline = self._tracker.baseline(sampled_at)
        baseline = self._baseline
        if baseline is None or baseline <= 0.0:
            return None
        return depth_usd / baseline


def _secs_to_ns(secs: float) -> int:
    return round(secs * _NS_PER_SEC)
