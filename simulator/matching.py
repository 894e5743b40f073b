"""A price-time priority limit order book for one coin of the simulated venue."""

from __future__ import annotations

from bisect import bisect_left
from bisect import insort
from collections import deque
from collections.abc import Iterator

from simulator.orders import SimOrder


class OrderBook:
    """Resting limit orders of one coin: FIFO queues per price level, levels kept sorted.

    Why: price-time priority is what the venue does; integer prices make levels exact.
    """

    __slots__ = ("ask_prices", "asks", "bid_prices", "bids", "coin")

    def __init__(self, coin: str) -> None:
        self.coin = coin
        self.bids: dict[int, deque[SimOrder]] = {}
        self.asks: dict[int, deque[SimOrder]] = {}
        # Both ascending; the best bid is the last element, the best ask the first.
        self.bid_prices: list[int] = []
        self.ask_prices: list[int] = []

    def best_bid(self) -> int | None:
        """Best bid price in units, or None."""
        return self.bid_prices[-1] if self.bid_prices else None

    def best_ask(self) -> int | None:
        """Best ask price in units, or None."""
        return self.ask_prices[0] if self.ask_prices else None

    def add(self, order: SimOrder) -> None:
        """Rest an order at the back of its price level."""
        levels, prices = self._side(order.is_buy)
        queue = levels.get(order.limit_px)
        if queue is None:
            queue = deque()
            levels[order.limit_px] = queue
            insort(prices, order.limit_px)
        queue.append(order)
        order.on_book = True

    def remove(self, order: SimOrder) -> bool:
        """Take an order off the book; False if it was not resting."""
        levels, prices = self._side(order.is_buy)
        queue = levels.get(order.limit_px)
        if queue is None:
            return False
        try:
            queue.remove(order)
        except ValueError:
            return False
        order.on_book = False
        if not queue:
            self._drop_level(levels, prices, order.limit_px)
        return True

    def pop_empty_front(self, is_buy_side: bool, px: int) -> None:
        """Drop a level once its queue is empty (used by the matcher after fills)."""
        levels, prices = self._side(is_buy_side)
        queue = levels.get(px)
        if queue is not None and not queue:
            self._drop_level(levels, prices, px)

    def crossing_levels(self, taker_is_buy: bool, limit_px: int | None) -> Iterator[int]:
        """Opposite-side prices a taker may trade at, best first (None = no price limit)."""
        if taker_is_buy:
            for px in list(self.ask_prices):
                if limit_px is not None and px > limit_px:
                    return
                yield px
        else:
            for px in reversed(list(self.bid_prices)):
                if limit_px is not None and px < limit_px:
                    return
                yield px

    def queue_at(self, is_buy_side: bool, px: int) -> deque[SimOrder] | None:
        """The FIFO queue of one level of one side."""
        levels = self.bids if is_buy_side else self.asks
        return levels.get(px)

    def levels(self, is_buy_side: bool) -> Iterator[tuple[int, deque[SimOrder]]]:
        """Levels of one side, best first."""
        if is_buy_side:
            for px in reversed(self.bid_prices):
                yield px, self.bids[px]
        else:
            for px in self.ask_prices:
                yield px, self.asks[px]

    def _side(self, is_buy: bool) -> tuple[dict[int, deque[SimOrder]], list[int]]:
        if is_buy:
            return self.bids, self.bid_prices
        return self.asks, self.ask_prices

    @staticmethod
    def _drop_level(levels: dict[int, deque[SimOrder]], prices: list[int], px: int) -> None:
        del levels[px]
        index = bisect_left(prices, px)
        if index < len(prices) and prices[index] == px:
            del prices[index]
