"""
One level series over several windows at once, for the state builder's display windows.

Why not one ``rolling`` window object per window: the builder reads every window of a series
together (four per series), and the per-object method calls, time checks and property reads
cost more than the arithmetic. These classes keep the same state per window and do exactly the
same float operations, in the same order, as one ``RollingTimeWeightedMean`` (``MeanWindows``)
or one ``RollingChange`` (``ChangeWindows``) per window, so the readings are equal bit for bit
(property tests hold them equal); the time rules (warm-up, no observation or query back in
time) are the same too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

__all__ = ["ChangeWindows", "MeanWindows"]

_NAN = float("nan")
# Levels before every window's anchor are dropped from the shared list in chunks of this size.
_COMPACT_AFTER = 1024


def _check_windows(windows_ns: Sequence[int]) -> tuple[int, ...]:
    if not windows_ns or any(w <= 0 for w in windows_ns):
        raise ValueError(f"windows_ns must be positive, was {tuple(windows_ns)}")
    return tuple(int(w) for w in windows_ns)


class MeanWindows:
    """
    Time-weighted means of one level over several windows (``RollingTimeWeightedMean`` each).

    Windows flagged ``sampled`` take an observation only when ``update`` is told to sample
    (the builder feeds its long windows one sample per interval); the others take every one.
    """

    __slots__ = (
        "_comp",
        "_first",
        "_items",
        "_last",
        "_last_query",
        "_sampled",
        "_sum",
        "windows_ns",
    )

    def __init__(self, windows_ns: Sequence[int], sampled: Sequence[bool]) -> None:
        self.windows_ns = _check_windows(windows_ns)
        if len(sampled) != len(self.windows_ns):
            raise ValueError("sampled: one flag per window")
        n = len(self.windows_ns)
        self._sampled = tuple(bool(s) for s in sampled)
        self._items: tuple[deque[tuple[int, float]], ...] = tuple(deque() for _ in range(n))
        # Per window: the Neumaier sum of the step function's integral between its first and
        # last item (``CompensatedSum``'s two parts).
        self._sum = [0.0] * n
        self._comp = [0.0] * n
        self._first: list[int | None] = [None] * n
        self._last: list[int | None] = [None] * n
        self._last_query: list[int | None] = [None] * n

    def update(self, ts_ns: int, level: float, sample: bool) -> None:
        """Record the level at ``ts_ns`` in every window (the sampled ones only if ``sample``)."""
        sums = self._sum
        comps = self._comp
        firsts = self._first
        lasts = self._last
        for k, items in enumerate(self._items):
            if not sample and self._sampled[k]:
                continue
            last = lasts[k]
            if last is not None and ts_ns < last:
                raise ValueError(
                    f"RollingTimeWeightedMean: observation out of order "
                    f"(ts_ns={ts_ns} < last observation ts_ns={last})",
                )
            if firsts[k] is None:
                firsts[k] = ts_ns
            lasts[k] = ts_ns
            if items:
                prev_ts, prev_level = items[-1]
                x = prev_level * (ts_ns - prev_ts)
                s = sums[k]
                t = s + x
                if abs(s) >= abs(x):
                    comps[k] += (s - t) + x
                else:
                    comps[k] += (x - t) + s
                sums[k] = t
            items.append((ts_ns, level))

    def evict(self, now_ns: int) -> None:
        """A query at ``now_ns`` of every observed window whose reading is not wanted."""
        self._query_all(now_ns, None, ())

    def read_into(self, now_ns: int, values: Any, slots: Sequence[int]) -> None:
        """Write each observed window's mean at ``now_ns`` into its slot (NaN while warming)."""
        self._query_all(now_ns, values, slots)

    def _query_all(self, now_ns: int, values: Any, slots: Sequence[int]) -> None:
        """
        ``RollingTimeWeightedMean.value(now_ns)`` of every observed window, in one loop.

        The readings go into ``values`` at ``slots`` (NaN while warming up); with ``values``
        None only the evictions (and the query's time checks) happen.
        """
        sums = self._sum
        comps = self._comp
        firsts = self._first
        last_queries = self._last_query
        for k, last in enumerate(self._last):
            if last is None:
                continue  # never observed: not queried
            if now_ns < last:
                raise ValueError(
                    f"RollingTimeWeightedMean: query at now_ns={now_ns} is before the latest "
                    f"observation ts_ns={last}; that value would use future data",
                )
            last_query = last_queries[k]
            if last_query is not None and now_ns < last_query:
                raise ValueError(
                    f"RollingTimeWeightedMean: query out of order "
                    f"(now_ns={now_ns} < previous query now_ns={last_query})",
                )
            last_queries[k] = now_ns
            window = self.windows_ns[k]
            cutoff = now_ns - window
            items = self._items[k]
            if len(items) >= 2 and items[1][0] <= cutoff:
                s = sums[k]
                comp = comps[k]
                while len(items) >= 2 and items[1][0] <= cutoff:
                    ts0, level0 = items.popleft()
                    x = -level0 * (items[0][0] - ts0)
                    t = s + x
                    if abs(s) >= abs(x):
                        comp += (s - t) + x
                    else:
                        comp += (x - t) + s
                    s = t
                sums[k] = s
                comps[k] = comp
            if len(items) <= 1:
                sums[k] = 0.0
                comps[k] = 0.0
            if values is None:
                continue
            first = firsts[k]
            if first is None or now_ns - first < window or not items or items[0][0] > cutoff:
                values[slots[k]] = _NAN
                continue
            anchor_ts, anchor_level = items[0]
            last_ts, last_level = items[-1]
            integral = (
                (sums[k] + comps[k])
                - anchor_level * (cutoff - anchor_ts)
                + last_level * (now_ns - last_ts)
            )
            values[slots[k]] = integral / window


class ChangeWindows:
    """
    Change of one level series over several windows (``RollingChange`` each), read together.

    One list of levels with an anchor index per window: the anchor is the last level at or
    before the window's start, as ``RollingChange`` keeps it at the head of its deque.
    """

    __slots__ = ("_first", "_heads", "_items", "_last", "_last_query", "windows_ns")

    def __init__(self, windows_ns: Sequence[int]) -> None:
        self.windows_ns = _check_windows(windows_ns)
        self._items: list[tuple[int, float]] = []
        self._heads = [0] * len(self.windows_ns)
        self._first: int | None = None
        self._last: int | None = None
        self._last_query: int | None = None

    @property
    def last_ts(self) -> int | None:
        """Timestamp of the latest observation (None if none)."""
        return self._last

    def update(self, ts_ns: int, level: float) -> None:
        """Record the level observed at ``ts_ns``."""
        last = self._last
        if last is not None and ts_ns < last:
            raise ValueError(
                f"RollingChange: observation out of order "
                f"(ts_ns={ts_ns} < last observation ts_ns={last})",
            )
        if self._first is None:
            self._first = ts_ns
        self._last = ts_ns
        self._items.append((ts_ns, level))

    def read_into(self, now_ns: int, values: Any, slots: Sequence[int], pct: bool) -> None:
        """
        Write each window's change at ``now_ns`` into its slot, NaN while warming up.

        ``pct``: in percent of the level at the window's start (``RollingChange.pct``, NaN when
        that level is 0); otherwise the plain difference (``RollingChange.value``). Nothing is
        written before the first observation.
        """
        last = self._last
        if last is None:
            return
        if now_ns < last:
            raise ValueError(
                f"RollingChange: query at now_ns={now_ns} is before the latest observation "
                f"ts_ns={last}; that value would use future data",
            )
        last_query = self._last_query
        if last_query is not None and now_ns < last_query:
            raise ValueError(
                f"RollingChange: query out of order "
                f"(now_ns={now_ns} < previous query now_ns={last_query})",
            )
        self._last_query = now_ns
        items = self._items
        end = len(items) - 1
        level = items[end][1]
        heads = self._heads
        since_first = now_ns - self._first  # type: ignore[operator]
        for k, window in enumerate(self.windows_ns):
            cutoff = now_ns - window
            h = heads[k]
            while h < end and items[h + 1][0] <= cutoff:
                h += 1
            heads[k] = h
            anchor_ts, anchor = items[h]
            if since_first < window or anchor_ts > cutoff:
                values[slots[k]] = _NAN
            elif not pct:
                values[slots[k]] = level - anchor
            elif anchor == 0.0:
                values[slots[k]] = _NAN
            else:
                values[slots[k]] = (level - anchor) / abs(anchor) * 100.0
        lowest = min(heads)
        if lowest >= _COMPACT_AFTER:
            del items[:lowest]
            for k in range(len(heads)):
                heads[k] -= lowest
