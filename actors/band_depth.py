"""
USD depth per band on both sides of an L2 book, kept current cheaply for the state builder.

Why its own module: the builder's book path is the backtest's hottest code, and this is the part
that reads levels out of NautilusTrader's Rust book; ``book_metrics.depth_usd_bands`` is the
plain reference it must equal (a property test holds the two equal).
"""

from __future__ import annotations

import math

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
# Book messages with at most this many deltas (and an unchanged mid) update depth in place.
_SMALL_UPDATE_MAX_DELTAS = 8


class BandDepth:
    """
    USD depth per band on both book sides, kept current cheaply.

    Reading levels back out of the Rust book costs ~15 us per side per message (it builds a
    Price and Quantity per level). Most book messages change one or two levels without moving
    the mid, so for those the few deltas are applied to a shadow of the levels inside the
    widest band and the band sums are adjusted in place (O(deltas)). A snapshot, a clear, a
    larger batch or a new mid rebuilds from the book with the same band edges as
    ``book_metrics.depth_usd_bands`` (a property test holds the two equal).
    """

    __slots__ = (
        "_ask_bounds",
        "_ask_levels",
        "_bid_bounds",
        "_bid_levels",
        "_mid",
        "_n",
        "_valid",
        "ask_usd",
        "bands_bps",
        "bid_usd",
    )

    def __init__(self, bands_bps: tuple[float, ...]) -> None:
        if list(bands_bps) != sorted(bands_bps):
            raise ValueError(f"bands_bps must be ascending, was {bands_bps}")
        self.bands_bps = bands_bps
        self._n = len(bands_bps)
        self.bid_usd: list[float] = [0.0] * self._n
        self.ask_usd: list[float] = [0.0] * self._n
        self._bid_levels: dict[float, float] = {}
        self._ask_levels: dict[float, float] = {}
        self._bid_bounds: list[float] = [0.0] * self._n
        self._ask_bounds: list[float] = [0.0] * self._n
        self._mid = _NAN
        self._valid = False

    def invalidate(self) -> None:
        """Force the next update to rebuild from the book."""
        self._valid = False

    def rebuild(self, book: OrderBook, mid: float, price_precision: int) -> None:
        """Recompute both sides from the book for ``mid``."""
        self._mid = mid
        tick = 10.0**-price_precision
        for k, bps in enumerate(self.bands_bps):
            self._bid_bounds[k] = mid * (1.0 - bps * _BPS) * (1.0 - _EDGE_TOLERANCE)
            self._ask_bounds[k] = mid * (1.0 + bps * _BPS) * (1.0 + _EDGE_TOLERANCE)
        size_precision = 0
        best_bid_size = book.best_bid_size()
        if best_bid_size is not None:
            size_precision = best_bid_size.precision
        # A SELL at one tick beyond the widest bid edge crosses every bid inside it, and vice
        # versa; the exact edge filter is then done in floats.
        widest = self._bid_bounds[-1]
        query = Price(max(widest - tick, 0.0), price_precision)
        levels = self._bid_levels
        levels.clear()
        for p, q in book.get_all_crossed_levels(OrderSide.SELL, query, size_precision):
            px = p.as_double()
            if px >= widest:
                levels[px] = q.as_double()
        widest = self._ask_bounds[-1]
        query = Price(widest + tick, price_precision)
        levels = self._ask_levels
        levels.clear()
        for p, q in book.get_all_crossed_levels(OrderSide.BUY, query, size_precision):
            px = p.as_double()
            if px <= widest:
                levels[px] = q.as_double()
        self._resum()
        self._valid = True

    def apply_small_update(self, deltas: OrderBookDeltas, mid: float) -> bool:
        """
        Apply a small batch in place; False when the caller must ``rebuild`` instead.

        Only valid after the same deltas were applied to the book (the data engine does that
        before the actor sees them) and while the mid is the one the shadow was built for.
        """
        if not self._valid or mid != self._mid:
            return False
        items = deltas.deltas
        if len(items) > _SMALL_UPDATE_MAX_DELTAS:
            return False
        for delta in items:
            if delta.action == BookAction.CLEAR:
                return False
        n = self._n
        for delta in items:
            order = delta.order
            px = order.price.as_double()
            size = 0.0 if delta.action == BookAction.DELETE else order.size.as_double()
            if order.side == OrderSide.BUY:
                bounds = self._bid_bounds
                if px < bounds[-1]:
                    continue
                levels = self._bid_levels
                sums = self.bid_usd
                inside = [px >= bounds[k] for k in range(n)]
            else:
                bounds = self._ask_bounds
                if px > bounds[-1]:
                    continue
                levels = self._ask_levels
                sums = self.ask_usd
                inside = [px <= bounds[k] for k in range(n)]
            old = levels.pop(px, 0.0)
            if size > 0.0:
                levels[px] = size
            change = px * size - px * old
            for k in range(n):
                if inside[k]:
                    sums[k] += change
        return True

    def _resum(self) -> None:
        # Best-first accumulation, the same float operations as book_metrics' band pass: one
        # running sum, read off at each band edge (a band's total is the prefix sum of the
        # levels inside it, added in the same order as summing that band alone).
        n = self._n
        for levels, bounds, sums, is_bid in (
            (self._bid_levels, self._bid_bounds, self.bid_usd, True),
            (self._ask_levels, self._ask_bounds, self.ask_usd, False),
        ):
            k = 0
            running = 0.0
            for px, qty in sorted(levels.items(), reverse=is_bid):
                while k < n and ((px < bounds[k]) if is_bid else (px > bounds[k])):
                    sums[k] = running
                    k += 1
                if k == n:
                    break
                running += px * qty
            while k < n:
                sums[k] = running
                k += 1
