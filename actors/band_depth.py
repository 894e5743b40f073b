"""
USD depth per band on both sides of an L2 book, kept current cheaply for the state builder.

Why its own module: the builder's book path is the backtest's hottest code, and this is the part
that reads levels out of NautilusTrader's Rust book; ``book_metrics.depth_usd_bands`` is the
plain reference it must equal (a property test holds the two equal).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from bisect import bisect_right
from itertools import accumulate
from operator import mul

from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.objects import Price

__all__ = ["BandDepth"]

_NAN = math.nan
_BPS = 1e-4
# Same edge rule as book_metrics: a level exactly on a band edge counts despite float rounding.
_EDGE_TOLERANCE = 1e-12
# Book messages with at most this many deltas (and an unchanged mid) adjust the sums in place.
_SMALL_UPDATE_MAX_DELTAS = 8
_CLEAR = BookAction.CLEAR
_DELETE = BookAction.DELETE
_BUY = OrderSide.BUY


class BandDepth:
    """
    USD depth per band on both book sides, kept current cheaply.

    Reading levels back out of the Rust book costs ~15 us per message (it builds a Price and
    Quantity per level). So a shadow of each side's levels near the mid is kept: every level
    within twice the widest band of the mid the shadow was read at. Every batch without a
    clear is applied to the shadow; for a few deltas and an unchanged mid the band sums are
    adjusted in place (O(deltas)), otherwise recomputed from the shadow (the same levels, so
    the same numbers as a rebuild). A clear (snapshot) or a mid whose bands reach beyond the
    shadow reads the book again. Band edges are those of ``book_metrics.depth_usd_bands`` (a
    property test holds the two equal).
    """

    __slots__ = (
        "_ask_bounds",
        "_ask_ceiling",
        "_ask_levels",
        "_bid_bounds",
        "_bid_floor",
        "_bid_levels",
        "_mid",
        "_n",
        "_valid",
        "ask_usd",
        "bands_bps",
        "bid_usd",
    )

    def __init__(self, bands_bps: tuple[float, ...]) -> None:
        if not bands_bps or list(bands_bps) != sorted(bands_bps):
            raise ValueError(f"bands_bps must be ascending and not empty, was {bands_bps}")
        self.bands_bps = bands_bps
        self._n = len(bands_bps)
        self.bid_usd: list[float] = [0.0] * self._n
        self.ask_usd: list[float] = [0.0] * self._n
        # The shadows: every bid at or above `_bid_floor`, every ask at or below `_ask_ceiling`.
        self._bid_levels: dict[float, float] = {}
        self._ask_levels: dict[float, float] = {}
        self._bid_floor = _NAN
        self._ask_ceiling = _NAN
        self._bid_bounds: list[float] = [0.0] * self._n
        self._ask_bounds: list[float] = [0.0] * self._n
        self._mid = _NAN
        self._valid = False

    def invalidate(self) -> None:
        """Force the next update to rebuild from the book (the shadow missed some deltas)."""
        self._valid = False

    def rebuild(self, book: OrderBook, mid: float, price_precision: int) -> None:
        """Read the shadows from the book around ``mid`` and recompute both sides."""
        self._set_bounds(mid)
        reach = 2.0 * self.bands_bps[-1] * _BPS
        self._bid_floor = floor = mid * (1.0 - reach)
        self._ask_ceiling = ceiling = mid * (1.0 + reach)
        tick = 10.0**-price_precision
        size_precision = 0
        best_bid_size = book.best_bid_size()
        if best_bid_size is not None:
            size_precision = best_bid_size.precision
        # A SELL at one tick below the floor crosses every bid above it, and vice versa; the
        # exact filter is then done in floats.
        query = Price(max(floor - tick, 0.0), price_precision)
        levels = self._bid_levels
        levels.clear()
        for p, q in book.get_all_crossed_levels(OrderSide.SELL, query, size_precision):
            px = p.as_double()
            if px >= floor:
                levels[px] = q.as_double()
        query = Price(ceiling + tick, price_precision)
        levels = self._ask_levels
        levels.clear()
        for p, q in book.get_all_crossed_levels(OrderSide.BUY, query, size_precision):
            px = p.as_double()
            if px <= ceiling:
                levels[px] = q.as_double()
        self._resum()
        self._valid = True

    def apply_small_update(self, deltas: OrderBookDeltas, mid: float) -> bool:
        """
        Apply a small batch to the shadows; False when the caller must ``rebuild`` instead.

        Only valid after the same deltas were applied to the book (the data engine does that
        before the actor sees them), and only if every earlier batch reached this object.
        """
        if not self._valid:
            return False
        items = deltas.deltas
        # Sums adjusted in place only for a few deltas and an unchanged mid; otherwise they
        # are recomputed from the shadows, exactly as a rebuild recomputes them from the book.
        moved = mid != self._mid or len(items) > _SMALL_UPDATE_MAX_DELTAS
        if moved:
            widest = self.bands_bps[-1] * _BPS
            if (
                mid * (1.0 - widest) * (1.0 - _EDGE_TOLERANCE) < self._bid_floor
                or mid * (1.0 + widest) * (1.0 + _EDGE_TOLERANCE) > self._ask_ceiling
            ):
                return False  # the new bands reach beyond the shadows
        n = self._n
        bid_floor = self._bid_floor
        ask_ceiling = self._ask_ceiling
        bid_levels = self._bid_levels
        ask_levels = self._ask_levels
        for delta in items:
            action = delta.action
            if action == _CLEAR:
                # A snapshot: the caller reads the book again (which resets the shadows and
                # sums this loop may have touched already).
                return False
            order = delta.order
            px = order.price.as_double()
            size = 0.0 if action == _DELETE else order.size.as_double()
            is_bid = order.side == _BUY
            if is_bid:
                if px < bid_floor:
                    continue
                levels = bid_levels
            else:
                if px > ask_ceiling:
                    continue
                levels = ask_levels
            old = levels.pop(px, 0.0)
            if size > 0.0:
                levels[px] = size
            if moved:
                continue  # all sums are recomputed below
            if is_bid:
                bounds = self._bid_bounds
                if px < bounds[-1]:
                    continue
                sums = self.bid_usd
                inside = [px >= bounds[k] for k in range(n)]
            else:
                bounds = self._ask_bounds
                if px > bounds[-1]:
                    continue
                sums = self.ask_usd
                inside = [px <= bounds[k] for k in range(n)]
            change = px * size - px * old
            for k in range(n):
                if inside[k]:
                    sums[k] += change
        if moved:
            self._set_bounds(mid)
            self._resum()
        return True

    def _set_bounds(self, mid: float) -> None:
        self._mid = mid
        for k, bps in enumerate(self.bands_bps):
            self._bid_bounds[k] = mid * (1.0 - bps * _BPS) * (1.0 - _EDGE_TOLERANCE)
            self._ask_bounds[k] = mid * (1.0 + bps * _BPS) * (1.0 + _EDGE_TOLERANCE)

    def _resum(self) -> None:
        # Best-first accumulation, the same float operations as book_metrics' band pass: one
        # running sum, read off at each band edge (a band's total is the prefix sum of the
        # levels inside it, added in the same order as summing that band alone). The running
        # sums come from `accumulate` (left to right, the first term as is, which equals
        # 0.0 + it) and each band's level count from bisecting the sorted prices.
        bids = self._bid_levels
        prices = sorted(bids)  # ascending: the best bid last
        best_first = prices[::-1]
        running = list(accumulate(map(mul, best_first, map(bids.__getitem__, best_first))))
        sums = self.bid_usd
        total = len(prices)
        for k, bound in enumerate(self._bid_bounds):
            inside = total - bisect_left(prices, bound)  # bids at or above the edge
            sums[k] = running[inside - 1] if inside else 0.0
        asks = self._ask_levels
        prices = sorted(asks)  # ascending: the best ask first
        running = list(accumulate(map(mul, prices, map(asks.__getitem__, prices))))
        sums = self.ask_usd
        for k, bound in enumerate(self._ask_bounds):
            inside = bisect_right(prices, bound)  # asks at or below the edge
            sums[k] = running[inside - 1] if inside else 0.0
