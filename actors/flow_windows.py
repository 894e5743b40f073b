"""
Aggressive buy and sell USD over several windows of one trade stream, for the state builder.

Why not one ``book_metrics.AggressorFlow`` per window: the builder reads only the USD sums, for
every window at once, on every trade. Four ``AggressorFlow`` objects keep four deques, four
sets of time checks and base-unit sums nobody reads; this keeps one list of trades with a start
index per window and the USD sums only. Each window's sums see exactly the additions and
subtractions, in the same order, that its ``AggressorFlow`` would (same Neumaier steps as
``rolling.CompensatedSum``), so the readings are equal bit for bit (a property test holds them
equal); the time rules (warm-up, no query or observation back in time) are the same too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nautilus_trader.model.enums import AggressorSide

__all__ = ["FlowWindows"]

_NAN = float("nan")
# Trades before every window's start are dropped from the shared list in chunks of this size.
_COMPACT_AFTER = 4096


class FlowWindows:
    """USD bought and sold by aggressors over each window, for one instrument's trades."""

    __slots__ = (
        "_buy",
        "_buy_comp",
        "_first_ts",
        "_heads",
        "_last_query_ts",
        "_last_ts",
        "_sell",
        "_sell_comp",
        "_trades",
        "windows_ns",
    )

    def __init__(self, windows_ns: Sequence[int]) -> None:
        if not windows_ns or any(w <= 0 for w in windows_ns):
            raise ValueError(f"windows_ns must be positive, was {tuple(windows_ns)}")
        self.windows_ns = tuple(int(w) for w in windows_ns)
        n = len(self.windows_ns)
        self._trades: list[tuple[int, bool, float]] = []  # (ts_ns, is_buy, usd)
        self._heads = [0] * n  # per window: index of its oldest trade in `_trades`
        self._buy = [0.0] * n
        self._buy_comp = [0.0] * n
        self._sell = [0.0] * n
        self._sell_comp = [0.0] * n
        self._first_ts: int | None = None
        self._last_ts: int | None = None
        self._last_query_ts: int | None = None

    def update(self, ts_ns: int, price: float, size: float, aggressor: AggressorSide) -> None:
        """Record one trade (no aggressor: ignored, as ``AggressorFlow`` does)."""
        if aggressor == AggressorSide.BUYER:
            is_buy = True
        elif aggressor == AggressorSide.SELLER:
            is_buy = False
        else:
            return
        last_ts = self._last_ts
        if last_ts is not None and ts_ns < last_ts:
            raise ValueError(
                f"FlowWindows: observation out of order (ts_ns={ts_ns} < last observation "
                f"ts_ns={last_ts})",
            )
        if self._first_ts is None:
            self._first_ts = ts_ns
        self._last_ts = ts_ns
        usd = price * size
        self._trades.append((ts_ns, is_buy, usd))
        sums, comps = (self._buy, self._buy_comp) if is_buy else (self._sell, self._sell_comp)
        for k in range(len(sums)):
            s = sums[k]
            t = s + usd
            if abs(s) >= abs(usd):
                comps[k] += (s - t) + usd
            else:
                comps[k] += (usd - t) + s
            sums[k] = t

    def evict(self, now_ns: int) -> None:
        """Drop what left each window at ``now_ns`` (a query: never back in time)."""
        self._query(now_ns)
        trades = self._trades
        end = len(trades)
        heads = self._heads
        for k, window in enumerate(self.windows_ns):
            cutoff = now_ns - window
            i = heads[k]
            if i < end and trades[i][0] <= cutoff:
                buy, buy_comp = self._buy[k], self._buy_comp[k]
                sell, sell_comp = self._sell[k], self._sell_comp[k]
                while i < end and trades[i][0] <= cutoff:
                    _, is_buy, usd = trades[i]
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
                    i += 1
                heads[k] = i
                self._buy[k], self._buy_comp[k] = buy, buy_comp
                self._sell[k], self._sell_comp[k] = sell, sell_comp
            if i == end:
                # Nothing left: drop any residue so drift cannot accumulate across quiet times.
                self._buy[k] = self._buy_comp[k] = self._sell[k] = self._sell_comp[k] = 0.0
        if end >= _COMPACT_AFTER:
            lowest = min(heads)
            if lowest >= _COMPACT_AFTER:
                del trades[:lowest]
                for k in range(len(heads)):
                    heads[k] -= lowest

    def read_into(
        self, now_ns: int, values: Any, buy_slots: Sequence[int], sell_slots: Sequence[int]
    ) -> None:
        """Evict at ``now_ns`` and write each window's buy/sell USD (NaN while warming up)."""
        self.evict(now_ns)
        first_ts = self._first_ts
        for k, window in enumerate(self.windows_ns):
            if first_ts is not None and now_ns - first_ts >= window:
                values[buy_slots[k]] = self._buy[k] + self._buy_comp[k]
                values[sell_slots[k]] = self._sell[k] + self._sell_comp[k]
            else:
                values[buy_slots[k]] = _NAN
                values[sell_slots[k]] = _NAN

    def usd(self, now_ns: int) -> list[tuple[float, float] | None]:
        """(buy USD, sell USD) per window at ``now_ns``; None while a window warms up."""
        self.evict(now_ns)
        first_ts = self._first_ts
        return [
            (self._buy[k] + self._buy_comp[k], self._sell[k] + self._sell_comp[k])
            if first_ts is not None and now_ns - first_ts >= window
            else None
            for k, window in enumerate(self.windows_ns)
        ]

    def _query(self, now_ns: int) -> None:
        last_ts = self._last_ts
        if last_ts is not None and now_ns < last_ts:
            raise ValueError(
                f"FlowWindows: query at now_ns={now_ns} is before the latest observation "
                f"ts_ns={last_ts}; that value would use future data",
            )
        last_query = self._last_query_ts
        if last_query is not None and now_ns < last_query:
            raise ValueError(
                f"FlowWindows: query out of order (now_ns={now_ns} < previous query "
                f"now_ns={last_query})",
            )
        self._last_query_ts = now_ns
