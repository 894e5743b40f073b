"""
Order-book and trade-flow metrics for the state builder: pure functions and small trackers.

Everything is driven by the timestamps passed in (normally ``ts_init``); nothing reads a clock,
so the same code runs live and in backtests and the same input always gives the same output.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import msgspec
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.objects import Price

from actors.rolling import CompensatedSum
from actors.rolling import RollingChange
from actors.rolling import RollingMax
from actors.rolling import RollingTimeWeightedMean
from actors.rolling import RollingWindowBase

__all__ = [
    "DEPTH_BANDS_BPS",
    "AbsorptionReading",
    "AbsorptionTracker",
    "AggressorFlow",
    "AggressorFlowReading",
    "BookRefillTracker",
    "DepthThinningTracker",
    "book_mid",
    "depth_asymmetry",
    "depth_usd_bands",
    "depth_usd_within_bps",
    "depth_usd_within_bps_levels",
]

# The depth bands the market-state issue asks for (per side, in USD).
DEPTH_BANDS_BPS: tuple[float, ...] = (10.0, 20.0, 50.0)

_BPS = 1e-4
# A level sitting exactly on the band edge must count even if `mid * (1 - bps)` rounds the
# other way in binary floating point; 1e-12 relative is far below any tick size.
_EDGE_TOLERANCE = 1e-12


def book_mid(book: OrderBook) -> float | None:
    """Mid price of the book as a float, or None when either side is empty."""
    bid = book.best_bid_price()
    ask = book.best_ask_price()
    if bid is None or ask is None:
        return None
    return (bid.as_double() + ask.as_double()) * 0.5


def _band_bound(side: OrderSide, bps: float, mid: float) -> float:
    if bps < 0.0:
        raise ValueError(f"bps must be >= 0, was {bps}")
    if side == OrderSide.BUY:
        return mid * (1.0 - bps * _BPS) * (1.0 - _EDGE_TOLERANCE)
    if side == OrderSide.SELL:
        return mid * (1.0 + bps * _BPS) * (1.0 + _EDGE_TOLERANCE)
    raise ValueError(f"side must be BUY (bids) or SELL (asks), was {side}")


def _levels_within(
    book: OrderBook,
    side: OrderSide,
    bound: float,
) -> list[tuple[float, float]]:
    """
    (price, size) of the levels on `side` at or inside `bound`, best first.

    ``get_all_crossed_levels`` returns only the levels up to a price (≈1 µs for a few levels,
    about 4x cheaper than materialising ``book.bids()``). It wants a ``Price`` on the book's
    tick grid, so we ask for one tick *beyond* the bound and filter exactly in floats: rounding
    can then never drop a level that belongs inside.
    """
    if side == OrderSide.BUY:
        best_px = book.best_bid_price()
        best_qty = book.best_bid_size()
    else:
        best_px = book.best_ask_price()
        best_qty = book.best_ask_size()
    if best_px is None or best_qty is None:
        return []
    precision = best_px.precision
    tick = 10.0**-precision
    if side == OrderSide.BUY:
        query_px = Price(max(bound - tick, 0.0), precision)
        # A SELL order at `query_px` crosses every bid at or above it.
        crossed = book.get_all_crossed_levels(OrderSide.SELL, query_px, best_qty.precision)
        return [
            (px, qty)
            for px, qty in ((p.as_double(), q.as_double()) for p, q in crossed)
            if px >= bound
        ]
    query_px = Price(bound + tick, precision)
    crossed = book.get_all_crossed_levels(OrderSide.BUY, query_px, best_qty.precision)
    return [
        (px, qty) for px, qty in ((p.as_double(), q.as_double()) for p, q in crossed) if px <= bound
    ]


def depth_usd_within_bps(book: OrderBook, side: OrderSide, bps: float, mid: float) -> float:
    """
    USD notional resting on one side of an L2 book within ``bps`` basis points of ``mid``.

    ``side`` is ``OrderSide.BUY`` for the bids and ``OrderSide.SELL`` for the asks. Levels exactly
    on the band edge count. USD is the sum of ``price * size`` per level (base quantity alone, as
    from ``get_quantity_for_price``, would misstate wide bands).
    """
    bound = _band_bound(side, bps, mid)
    total = 0.0
    for px, qty in _levels_within(book, side, bound):
        total += px * qty
    return total


def depth_usd_bands(
    book: OrderBook,
    side: OrderSide,
    bands_bps: Sequence[float],
    mid: float,
) -> list[float]:
    """
    USD depth for several bands on one side in a single pass over the book.

    ``bands_bps`` must be ascending (e.g. ``DEPTH_BANDS_BPS``); the result has one value per
    band. Cheaper than calling ``depth_usd_within_bps`` once per band.
    """
    if not bands_bps:
        return []
    if any(b > a for a, b in zip(bands_bps[1:], bands_bps, strict=False)):
        raise ValueError(f"bands_bps must be ascending, was {tuple(bands_bps)}")
    bounds = [_band_bound(side, bps, mid) for bps in bands_bps]
    levels = _levels_within(book, side, bounds[-1])
    return _accumulate_bands(levels, bounds, side == OrderSide.BUY)


def _accumulate_bands(
    levels: Sequence[tuple[float, float]],
    bounds: Sequence[float],
    is_bid: bool,
) -> list[float]:
    result = [0.0] * len(bounds)
    band = 0
    running = 0.0
    n_bands = len(bounds)
    for px, qty in levels:
        while band < n_bands and ((px < bounds[band]) if is_bid else (px > bounds[band])):
            result[band] = running
            band += 1
        if band == n_bands:
            break
        running += px * qty
    while band < n_bands:
        result[band] = running
        band += 1
    return result


def depth_usd_within_bps_levels(
    prices: Sequence[float],
    sizes: Sequence[float],
    side: OrderSide,
    bps: float,
    mid: float,
) -> float:
    """
    Same as ``depth_usd_within_bps`` for plain level arrays sorted best first.

    For callers that hold levels outside a NautilusTrader book (wire snapshots, tests).
    """
    if len(prices) != len(sizes):
        raise ValueError(f"prices and sizes differ in length ({len(prices)} != {len(sizes)})")
    bound = _band_bound(side, bps, mid)
    is_bid = side == OrderSide.BUY
    total = 0.0
    for px, qty in zip(prices, sizes, strict=True):
        if (px < bound) if is_bid else (px > bound):
            break
        total += px * qty
    return total


def depth_asymmetry(bid_usd: float, ask_usd: float) -> float:
    """
    Bid/ask depth imbalance ``(b - a) / (b + a)`` in [-1, 1]; 0 when both sides are empty.

    Positive means more resting bids than asks.
    """
    total = bid_usd + ask_usd
    if total <= 0.0:
        return 0.0
    return (bid_usd - ask_usd) / total


class DepthThinningTracker:
    """
    Current depth relative to its own recent (time-weighted) baseline.

    ``update`` returns ``current / baseline`` where the baseline is the time-weighted mean depth
    over the ``baseline_window_ns`` *before* this observation, so a sudden drop is not diluted by
    itself. A ratio of 0.4 means the book is at 40% of its usual depth. None while warming up or
    when the baseline is 0.
    """

    __slots__ = ("_baseline", "_last_ratio")

    def __init__(self, baseline_window_ns: int) -> None:
        self._baseline = RollingTimeWeightedMean(baseline_window_ns)
        self._last_ratio: float | None = None

    @property
    def baseline_window_ns(self) -> int:
        """Length of the baseline window in nanoseconds."""
        return self._baseline.window_ns

    @property
    def last_ratio(self) -> float | None:
        """The ratio returned by the latest ``update``."""
        return self._last_ratio

    def update(self, ts_ns: int, depth_usd: float) -> float | None:
        """Record the depth at ``ts_ns`` and return the thinning ratio (None while warming up)."""
        baseline = self._baseline.value(ts_ns) if self._baseline.last_ts is not None else None
        self._baseline.update(ts_ns, depth_usd)
        ratio = None if baseline is None or baseline <= 0.0 else depth_usd / baseline
        self._last_ratio = ratio
        return ratio

    def baseline(self, now_ns: int) -> float | None:
        """The baseline depth at ``now_ns`` (None while warming up)."""
        return self._baseline.value(now_ns)

    def reset(self) -> None:
        """Forget everything (warm-up starts again)."""
        self._baseline.reset()
        self._last_ratio = None


class AggressorFlowReading(msgspec.Struct, frozen=True):
    """Aggressive buy vs sell volume over one window."""

    buy_usd: float
    sell_usd: float
    buy_base: float
    sell_base: float

    @property
    def net_usd(self) -> float:
        """Aggressive buy minus sell USD (positive: buyers lifted more)."""
        return self.buy_usd - self.sell_usd

    @property
    def imbalance(self) -> float:
        """``(buy - sell) / (buy + sell)`` in USD, in [-1, 1]; 0 without trades."""
        return depth_asymmetry(self.buy_usd, self.sell_usd)


class AggressorFlow(RollingWindowBase):
    """
    Trade flow over one time window split by aggressor: buyers lifting asks vs sellers hitting
    bids, in USD and in base units.

    Trades with no aggressor (``NO_AGGRESSOR``, e.g. auctions) are ignored: they are neither.
    One deque and four running sums, so a trade costs O(1) amortised.
    """

    __slots__ = ("_buy_base", "_buy_usd", "_items", "_sell_base", "_sell_usd")

    def __init__(self, window_ns: int) -> None:
        super().__init__(window_ns)
        # (ts_ns, is_buy, usd, base)
        self._items: deque[tuple[int, bool, float, float]] = deque()
        self._buy_usd = CompensatedSum()
        self._sell_usd = CompensatedSum()
        self._buy_base = CompensatedSum()
        self._sell_base = CompensatedSum()

    def update(self, ts_ns: int, price: float, size: float, aggressor: AggressorSide) -> None:
        """Record one trade."""
        if aggressor == AggressorSide.BUYER:
            is_buy = True
        elif aggressor == AggressorSide.SELLER:
            is_buy = False
        else:
            return
        self._observe(ts_ns)
        usd = price * size
        self._items.append((ts_ns, is_buy, usd, size))
        if is_buy:
            self._buy_usd.add(usd)
            self._buy_base.add(size)
        else:
            self._sell_usd.add(usd)
            self._sell_base.add(size)

    def update_trade(self, trade: TradeTick) -> None:
        """Record a NautilusTrader trade tick (timestamped by its ``ts_init``)."""
        self.update(
            trade.ts_init,
            trade.price.as_double(),
            trade.size.as_double(),
            trade.aggressor_side,
        )

    def value(self, now_ns: int) -> AggressorFlowReading | None:
        """Flow over the window ending at ``now_ns``; None while warming up."""
        warm = self._query(now_ns)
        items = self._items
        cutoff = now_ns - self.window_ns
        while items and items[0][0] <= cutoff:
            _, is_buy, usd, size = items.popleft()
            if is_buy:
                self._buy_usd.add(-usd)
                self._buy_base.add(-size)
            else:
                self._sell_usd.add(-usd)
                self._sell_base.add(-size)
        if not items:
            self._clear_sums()
        if not warm:
            return None
        return AggressorFlowReading(
            self._buy_usd.value,
            self._sell_usd.value,
            self._buy_base.value,
            self._sell_base.value,
        )

    def reset(self) -> None:
        """Forget everything (warm-up starts again)."""
        self._reset_time()
        self._items.clear()
        self._clear_sums()

    def _clear_sums(self) -> None:
        for total in (self._buy_usd, self._sell_usd, self._buy_base, self._sell_base):
            total.clear()


class AbsorptionReading(msgspec.Struct, frozen=True):
    """
    Aggressive flow over the window and how far the mid moved meanwhile.

    ``mid_move_bps`` is signed (positive: mid went up). Buying is absorbed when at least
    ``min_aggressive_usd`` was bought aggressively yet the mid rose less than ``max_move_bps``;
    selling is absorbed symmetrically.
    """

    buy_usd: float
    sell_usd: float
    mid_move_bps: float
    buy_absorbed: bool
    sell_absorbed: bool

    @property
    def absorbed_usd(self) -> float:
        """
        Aggressive USD that failed to move the price, signed: + bought, - sold, 0 if none.

        If both sides are absorbed at once, the larger one is reported.
        """
        buy = self.buy_usd if self.buy_absorbed else 0.0
        sell = self.sell_usd if self.sell_absorbed else 0.0
        return buy if buy >= sell else -sell


class AbsorptionTracker:
    """
    Detects aggressive volume that fails to move the price (passive liquidity absorbing it).

    Feed trades with ``on_trade`` and the mid with ``on_mid``; ``value(now)`` compares aggressive
    buy (sell) USD over ``window_ns`` with ``min_aggressive_usd`` and the mid's net move over the
    same window (now vs the mid in force at ``now - window``) with ``max_move_bps``.
    """

    __slots__ = ("_flow", "_mid", "max_move_bps", "min_aggressive_usd", "window_ns")

    def __init__(self, window_ns: int, min_aggressive_usd: float, max_move_bps: float) -> None:
        if min_aggressive_usd <= 0.0:
            raise ValueError(f"min_aggressive_usd must be > 0, was {min_aggressive_usd}")
        if max_move_bps <= 0.0:
            raise ValueError(f"max_move_bps must be > 0, was {max_move_bps}")
        self.window_ns = window_ns
        self.min_aggressive_usd = min_aggressive_usd
        self.max_move_bps = max_move_bps
        # USD flow only (bit-equal to an ``AggressorFlow``'s USD sums, without the base ones).
        self._flow = _UsdFlow(window_ns)
        self._mid = RollingChange(window_ns)

    def on_trade(self, ts_ns: int, price: float, size: float, aggressor: AggressorSide) -> None:
        """Record one trade."""
        self._flow.update(ts_ns, price, size, aggressor)

    def mark_observed(self, ts_ns: int) -> None:
        """Declare trades watched from ``ts_ns`` (see ``RollingWindowBase.mark_observed``)."""
        self._flow.mark_observed(ts_ns)

    def on_mid(self, ts_ns: int, mid: float) -> None:
        """Record the mid price at ``ts_ns``."""
        self._mid.update(ts_ns, mid)

    def value(self, now_ns: int) -> AbsorptionReading | None:
        """Absorption over the window ending at ``now_ns``; None until trades and mid are warm."""
        flow = self._flow_and_move(now_ns)
        if flow is None:
            return None
        buy_usd, sell_usd, move_bps = flow
        return AbsorptionReading(
            buy_usd=buy_usd,
            sell_usd=sell_usd,
            mid_move_bps=move_bps,
            buy_absorbed=buy_usd >= self.min_aggressive_usd and move_bps < self.max_move_bps,
            sell_absorbed=(sell_usd >= self.min_aggressive_usd and -move_bps < self.max_move_bps),
        )

    def absorbed_usd(self, now_ns: int) -> float | None:
        """``value(now_ns).absorbed_usd`` (None while warming up), without building the reading."""
        flow = self._flow_and_move(now_ns)
        if flow is None:
            return None
        buy_usd, sell_usd, move_bps = flow
        buy = (
            buy_usd if buy_usd >= self.min_aggressive_usd and move_bps < self.max_move_bps else 0.0
        )
        sell = (
            sell_usd
            if sell_usd >= self.min_aggressive_usd and -move_bps < self.max_move_bps
            else 0.0
        )
        return buy if buy >= sell else -sell

    def _flow_and_move(self, now_ns: int) -> tuple[float, float, float] | None:
        """(buy USD, sell USD, mid move in bps) over the window ending at ``now_ns``, or None."""
        flow = self._flow.usd(now_ns)
        mid = self._mid
        start_mid = mid.start_level(now_ns)
        if flow is None or start_mid is None or start_mid <= 0.0:
            return None
        last_mid = mid.last_level
        assert last_mid is not None  # warm since start_level was
        # RollingChange.value: the latest level minus the start level.
        return flow[0], flow[1], (last_mid - start_mid) / start_mid / _BPS

    def reset(self) -> None:
        """Forget everything (warm-up starts again)."""
        self._flow.reset()
        self._mid.reset()


class _UsdFlow:
    """
    ``AggressorFlow`` reduced to its USD sums, for one window (what absorption reads per trade).

    The same deque, the same Neumaier steps (``CompensatedSum``) in the same order and the same
    time rules, so its sums equal ``AggressorFlow``'s bit for bit (a property test holds them
    equal); no base-unit sums and no reading objects.
    """

    __slots__ = (
        "_buy",
        "_buy_comp",
        "_first_ts",
        "_items",
        "_last_query_ts",
        "_last_ts",
        "_sell",
        "_sell_comp",
        "window_ns",
    )

    def __init__(self, window_ns: int) -> None:
        if window_ns <= 0:
            raise ValueError(f"window_ns must be positive, was {window_ns}")
        self.window_ns = int(window_ns)
        self._items: deque[tuple[int, bool, float]] = deque()  # (ts_ns, is_buy, usd)
        self.reset()

    def reset(self) -> None:
        """Forget everything (warm-up starts again)."""
        self._items.clear()
        self._buy = self._buy_comp = self._sell = self._sell_comp = 0.0
        self._first_ts: int | None = None
        self._last_ts: int | None = None
        self._last_query_ts: int | None = None

    def mark_observed(self, ts_ns: int) -> None:
        """Declare trades watched from ``ts_ns`` (see ``RollingWindowBase.mark_observed``)."""
        self._observe(ts_ns)

    def update(self, ts_ns: int, price: float, size: float, aggressor: AggressorSide) -> None:
        """Record one trade (no aggressor: ignored, as ``AggressorFlow`` does)."""
        if aggressor == AggressorSide.BUYER:
            is_buy = True
        elif aggressor == AggressorSide.SELLER:
            is_buy = False
        else:
            return
        self._observe(ts_ns)
        usd = price * size
        self._items.append((ts_ns, is_buy, usd))
        if is_buy:
            s = self._buy
            t = s + usd
            if abs(s) >= abs(usd):
                self._buy_comp += (s - t) + usd
            else:
                self._buy_comp += (usd - t) + s
            self._buy = t
        else:
            s = self._sell
            t = s + usd
            if abs(s) >= abs(usd):
                self._sell_comp += (s - t) + usd
            else:
                self._sell_comp += (usd - t) + s
            self._sell = t

    def usd(self, now_ns: int) -> tuple[float, float] | None:
        """(buy USD, sell USD) over the window ending at ``now_ns``; None while warming up."""
        last_ts = self._last_ts
        if last_ts is not None and now_ns < last_ts:
            raise ValueError(
                f"AggressorFlow: query at now_ns={now_ns} is before the latest observation "
                f"ts_ns={last_ts}; that value would use future data",
            )
        last_query = self._last_query_ts
        if last_query is not None and now_ns < last_query:
            raise ValueError(
                f"AggressorFlow: query out of order "
                f"(now_ns={now_ns} < previous query now_ns={last_query})",
            )
        self._last_query_ts = now_ns
        items = self._items
        cutoff = now_ns - self.window_ns
        if items and items[0][0] <= cutoff:
            buy, buy_comp, sell, sell_comp = self._buy, self._buy_comp, self._sell, self._sell_comp
            while items and items[0][0] <= cutoff:
                _, is_buy, usd = items.popleft()
                x = -usd
                if is_buy:
                    t = buy + x
                    if abs(buy) >= abs(x):
                        buy_comp += (buy - t) + x
                    else:
                        buy_comp += (x - t) + buy
                    buy = t
                else:
                    t = sell + x
                    if abs(sell) >= abs(x):
                        sell_comp += (sell - t) + x
                    else:
                        sell_comp += (x - t) + sell
                    sell = t
            self._buy, self._buy_comp, self._sell, self._sell_comp = buy, buy_comp, sell, sell_comp
        if not items:
            self._buy = self._buy_comp = self._sell = self._sell_comp = 0.0
        first_ts = self._first_ts
        if first_ts is None or now_ns - first_ts < self.window_ns:
            return None
        return (self._buy + self._buy_comp, self._sell + self._sell_comp)

    def _observe(self, ts_ns: int) -> None:
        last_ts = self._last_ts
        if last_ts is not None and ts_ns < last_ts:
            raise ValueError(
                f"AggressorFlow: observation out of order "
                f"(ts_ns={ts_ns} < last observation ts_ns={last_ts})",
            )
        if self._first_ts is None:
            self._first_ts = ts_ns
        self._last_ts = ts_ns


class BookRefillTracker:
    """
    Measures how long a book side takes to refill after a sweep.

    A sweep is a depth reading at or below ``(1 - sweep_drop_share)`` of the pre-sweep level,
    where the pre-sweep level is the highest depth seen over the preceding ``lookback_ns``. The
    refill completes at the first reading at or above ``refill_share`` of that pre-sweep level;
    ``update`` then returns the refill time in seconds (and None at every other update). While a
    sweep is pending no new sweep starts, so one sweep gives at most one refill.
    """

    __slots__ = (
        "_peak",
        "_pre_sweep_usd",
        "_sweep_ts",
        "last_refill_secs",
        "refill_share",
        "sweep_drop_share",
    )

    def __init__(
        self,
        refill_share: float,
        sweep_drop_share: float,
        lookback_ns: int = 1_000_000_000,
    ) -> None:
        if not 0.0 < refill_share <= 1.0:
            raise ValueError(f"refill_share must be in (0, 1], was {refill_share}")
        if not 0.0 < sweep_drop_share < 1.0:
            raise ValueError(f"sweep_drop_share must be in (0, 1), was {sweep_drop_share}")
        self.refill_share = refill_share
        self.sweep_drop_share = sweep_drop_share
        self._peak = RollingMax(lookback_ns)
        self._sweep_ts: int | None = None
        self._pre_sweep_usd: float | None = None
        self.last_refill_secs: float | None = None

    @property
    def sweep_pending(self) -> bool:
        """Whether a sweep has happened and the book has not refilled yet."""
        return self._sweep_ts is not None

    @property
    def pre_sweep_usd(self) -> float | None:
        """The pre-sweep depth of the pending sweep (None when none is pending)."""
        return self._pre_sweep_usd

    def pending_secs(self, now_ns: int) -> float | None:
        """Seconds since the pending sweep (None when none is pending)."""
        if self._sweep_ts is None:
            return None
        return (now_ns - self._sweep_ts) / 1e9

    def update(self, ts_ns: int, depth_usd: float) -> float | None:
        """Record one depth reading; return the refill time in seconds when a refill completes."""
        refill_secs: float | None = None
        if self._sweep_ts is not None:
            pre = self._pre_sweep_usd
            assert pre is not None
            if depth_usd >= self.refill_share * pre:
                refill_secs = (ts_ns - self._sweep_ts) / 1e9
                self.last_refill_secs = refill_secs
                self._sweep_ts = None
                self._pre_sweep_usd = None
        else:
            peak = self._peak.value(ts_ns) if self._peak.last_ts is not None else None
            swept_below = (1.0 - self.sweep_drop_share) * (peak or 0.0)
            if peak is not None and peak > 0.0 and depth_usd <= swept_below:
                self._sweep_ts = ts_ns
                self._pre_sweep_usd = peak
        self._peak.update(ts_ns, depth_usd)
        return refill_secs

    def reset(self) -> None:
        """Forget everything, including a pending sweep."""
        self._peak.reset()
        self._sweep_ts = None
        self._pre_sweep_usd = None
        self.last_refill_secs = None
