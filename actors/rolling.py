"""
Time-based rolling windows over timestamped observations.

Every window here is O(1) amortised per update (each observation enters and leaves a deque once),
returns ``None`` until the window has been fully observed, and never uses future data.

Time rules, shared by all windows (violations raise ``ValueError`` instead of silently using
data from the future):

- observations arrive with non-decreasing ``ts_ns`` (equal timestamps are fine);
- queries arrive with non-decreasing ``now_ns``, and ``now_ns`` is never earlier than the
  latest observation already fed in (a value at ``t`` may only use observations with ts <= t).

An observation may arrive with a ts earlier than the latest *query* (live, a timer can fire
before a message stamped slightly earlier is handled); it is counted from the next query on.

The window at ``now`` is the half-open interval ``(now - window_ns, now]``. "Fully observed"
means ``now - ts_first_observation >= window_ns``.

Timestamps are UNIX nanoseconds, normally the data's ``ts_init``; nothing here reads a clock, so
the same code runs live and in backtests.
"""

from __future__ import annotations

from collections import deque

__all__ = [
    "NANOS_PER_SECOND",
    "WINDOWS_NS",
    "WINDOW_1H_NS",
    "WINDOW_1S_NS",
    "WINDOW_5S_NS",
    "WINDOW_15M_NS",
    "CompensatedSum",
    "RollingChange",
    "RollingLevelMax",
    "RollingLevelMin",
    "RollingMax",
    "RollingMean",
    "RollingMin",
    "RollingSum",
    "RollingTimeWeightedMean",
    "RollingWindowBase",
]

NANOS_PER_SECOND: int = 1_000_000_000

WINDOW_1S_NS: int = NANOS_PER_SECOND
WINDOW_5S_NS: int = 5 * NANOS_PER_SECOND
WINDOW_15M_NS: int = 15 * 60 * NANOS_PER_SECOND
WINDOW_1H_NS: int = 60 * 60 * NANOS_PER_SECOND

# The windows the market-state issue asks for, shortest first.
WINDOWS_NS: tuple[int, ...] = (WINDOW_1S_NS, WINDOW_5S_NS, WINDOW_15M_NS, WINDOW_1H_NS)


class RollingWindowBase:
    """
    Time bookkeeping shared by every window: warm-up and the no-future-data guards.

    Public so other rolling aggregates (e.g. trade flow) reuse the exact same rules. Subclasses
    call ``_observe(ts_ns)`` first thing in ``update`` and ``_query(now_ns)`` first thing in any
    read; both raise ``ValueError`` when time would go backwards.
    """

    __slots__ = ("_first_ts", "_last_query_ts", "_last_ts", "window_ns")

    def __init__(self, window_ns: int) -> None:
        if window_ns <= 0:
            raise ValueError(f"window_ns must be positive, was {window_ns}")
        self.window_ns: int = int(window_ns)
        self._first_ts: int | None = None
        self._last_ts: int | None = None
        self._last_query_ts: int | None = None

    @property
    def first_ts(self) -> int | None:
        """Timestamp of the first observation since creation or ``reset`` (None if none)."""
        return self._first_ts

    @property
    def last_ts(self) -> int | None:
        """Timestamp of the latest observation (None if none)."""
        return self._last_ts

    def mark_observed(self, ts_ns: int) -> None:
        """
        Declare the stream watched from ``ts_ns`` although nothing happened yet.

        Warm-up counts from the first observation; for event streams (trades) a quiet start is
        information too: after ``mark_observed(t0)`` a trade-volume sum is 0.0 at ``t0 + window``
        instead of None. Same time rules as an observation; adds no value.
        """
        self._observe(ts_ns)

    def _observe(self, ts_ns: int) -> None:
        last_ts = self._last_ts
        if last_ts is not None and ts_ns < last_ts:
            raise ValueError(
                f"{type(self).__name__}: observation out of order "
                f"(ts_ns={ts_ns} < last observation ts_ns={last_ts})",
            )
        if self._first_ts is None:
            self._first_ts = ts_ns
        self._last_ts = ts_ns

    def _query(self, now_ns: int) -> bool:
        """Validate a query time; return whether the window is warm at ``now_ns``."""
        last_ts = self._last_ts
        if last_ts is not None and now_ns < last_ts:
            raise ValueError(
                f"{type(self).__name__}: query at now_ns={now_ns} is before the latest "
                f"observation ts_ns={last_ts}; that value would use future data",
            )
        last_query = self._last_query_ts
        if last_query is not None and now_ns < last_query:
            raise ValueError(
                f"{type(self).__name__}: query out of order "
                f"(now_ns={now_ns} < previous query now_ns={last_query})",
            )
        self._last_query_ts = now_ns
        first_ts = self._first_ts
        return first_ts is not None and now_ns - first_ts >= self.window_ns

    def _reset_time(self) -> None:
        self._first_ts = None
        self._last_ts = None
        self._last_query_ts = None


class CompensatedSum:
    """
    Running sum with Neumaier compensation.

    Adding and later subtracting the same values leaves far less floating-point residue than a
    plain running sum, so hour-long windows with millions of updates stay accurate.
    """

    __slots__ = ("_comp", "_sum")

    def __init__(self) -> None:
        self._sum = 0.0
        self._comp = 0.0

    def add(self, x: float) -> None:
        """Add ``x`` (subtract by adding ``-x``)."""
        s = self._sum
        t = s + x
        if abs(s) >= abs(x):
            self._comp += (s - t) + x
        else:
            self._comp += (x - t) + s
        self._sum = t

    def clear(self) -> None:
        """Reset to exactly zero."""
        self._sum = 0.0
        self._comp = 0.0

    @property
    def value(self) -> float:
        """The compensated sum."""
        return self._sum + self._comp


class RollingSum(RollingWindowBase):
    """
    Sum of the values observed in ``(now - window, now]`` (e.g. traded volume).

    An empty (but fully observed) window sums to ``0.0``.
    """

    __slots__ = ("_items", "_sum")

    def __init__(self, window_ns: int) -> None:
        super().__init__(window_ns)
        self._items: deque[tuple[int, float]] = deque()
        self._sum = CompensatedSum()

    def update(self, ts_ns: int, value: float) -> None:
        """Add one observation."""
        self._observe(ts_ns)
        self._items.append((ts_ns, value))
        self._sum.add(value)

    def value(self, now_ns: int) -> float | None:
        """Sum over the window ending at ``now_ns``, or None while warming up."""
        warm = self._query(now_ns)
        self._evict(now_ns - self.window_ns)
        if not warm:
            return None
        return self._sum.value

    def count(self, now_ns: int) -> int | None:
        """Number of observations in the window ending at ``now_ns`` (None while warming up)."""
        warm = self._query(now_ns)
        self._evict(now_ns - self.window_ns)
        return len(self._items) if warm else None

    def reset(self) -> None:
        """Forget everything (warm-up starts again)."""
        self._reset_time()
        self._items.clear()
        self._sum.clear()

    def _evict(self, cutoff_ns: int) -> None:
        items = self._items
        total = self._sum
        while items and items[0][0] <= cutoff_ns:
            total.add(-items.popleft()[1])
        if not items:
            # Nothing left: drop any residue so drift cannot accumulate across quiet periods.
            total.clear()


class RollingMean(RollingSum):
    """
    Arithmetic mean of the observations in ``(now - window, now]`` (each sample weighs the same).

    None while warming up and when the window holds no observation. For a level sampled at
    irregular times (book depth), ``RollingTimeWeightedMean`` is usually the fairer baseline.
    """

    __slots__ = ()

    def value(self, now_ns: int) -> float | None:
        """Mean over the window ending at ``now_ns``, or None (warm-up / empty window)."""
        warm = self._query(now_ns)
        self._evict(now_ns - self.window_ns)
        if not warm or not self._items:
            return None
        return self._sum.value / len(self._items)


class RollingChange(RollingWindowBase):
    """
    Change of a level series (open interest, funding rate, mid) over the window.

    ``value(now)`` = latest level at or before ``now`` minus the level of the last observation at
    or before ``now - window`` (the level in force at the start of the window).
    """

    __slots__ = ("_items",)

    def __init__(self, window_ns: int) -> None:
        super().__init__(window_ns)
        # Invariant after a query at `now`: at most one item with ts <= now - window (the anchor).
        self._items: deque[tuple[int, float]] = deque()

    def update(self, ts_ns: int, level: float) -> None:
        """Record the level observed at ``ts_ns``."""
        self._observe(ts_ns)
        self._items.append((ts_ns, level))

    def value(self, now_ns: int) -> float | None:
        """Level now minus level at ``now - window``; None while warming up."""
        anchor = self._anchor(now_ns)
        if anchor is None:
            return None
        return self._items[-1][1] - anchor

    def pct(self, now_ns: int) -> float | None:
        """Change in percent of the level at ``now - window``; None if warming up or that is 0."""
        anchor = self._anchor(now_ns)
        if anchor is None or anchor == 0.0:
            return None
        return (self._items[-1][1] - anchor) / abs(anchor) * 100.0

    def start_level(self, now_ns: int) -> float | None:
        """The level in force at ``now - window`` (None while warming up)."""
        return self._anchor(now_ns)

    @property
    def last_level(self) -> float | None:
        """The latest level observed (None if none)."""
        items = self._items
        return items[-1][1] if items else None

    def reset(self) -> None:
        """Forget everything (warm-up starts again)."""
        self._reset_time()
        self._items.clear()

    def _anchor(self, now_ns: int) -> float | None:
        warm = self._query(now_ns)
        items = self._items
        cutoff = now_ns - self.window_ns
        while len(items) >= 2 and items[1][0] <= cutoff:
            items.popleft()
        if not warm or not items or items[0][0] > cutoff:
            # The level in force at the window start is unknown (only after `mark_observed`).
            return None
        return items[0][1]


class RollingTimeWeightedMean(RollingWindowBase):
    """
    Time-weighted mean of a level over ``[now - window, now]``.

    The level is a step function: each observation holds until the next one. Frequent updates in
    busy moments therefore do not dominate the mean, which makes this the right baseline for
    book depth.
    """

    __slots__ = ("_closed", "_items")

    def __init__(self, window_ns: int) -> None:
        super().__init__(window_ns)
        self._items: deque[tuple[int, float]] = deque()
        # Integral of the step function between the first and the last item in the deque.
        self._closed = CompensatedSum()

    def update(self, ts_ns: int, level: float) -> None:
        """Record the level observed at ``ts_ns`` (it holds until the next observation)."""
        self._observe(ts_ns)
        items = self._items
        if items:
            prev_ts, prev_level = items[-1]
            self._closed.add(prev_level * (ts_ns - prev_ts))
        items.append((ts_ns, level))

    def value(self, now_ns: int) -> float | None:
        """Time-weighted mean over the window ending at ``now_ns``; None while warming up."""
        warm = self._query(now_ns)
        items = self._items
        closed = self._closed
        cutoff = now_ns - self.window_ns
        while len(items) >= 2 and items[1][0] <= cutoff:
            ts0, level0 = items.popleft()
            closed.add(-level0 * (items[0][0] - ts0))
        if len(items) <= 1:
            closed.clear()
        if not warm or not items or items[0][0] > cutoff:
            # The level in force at the window start is unknown (only after `mark_observed`).
            return None
        anchor_ts, anchor_level = items[0]
        last_ts, last_level = items[-1]
        integral = (
            closed.value - anchor_level * (cutoff - anchor_ts) + last_level * (now_ns - last_ts)
        )
        return integral / self.window_ns

    def reset(self) -> None:
        """Forget everything (warm-up starts again)."""
        self._reset_time()
        self._items.clear()
        self._closed.clear()


class _RollingExtreme(RollingWindowBase):
    """Monotonic-deque extreme (max or min) of the values observed in the window."""

    __slots__ = ("_items", "_sign")

    def __init__(self, window_ns: int, sign: float) -> None:
        super().__init__(window_ns)
        # Values are stored multiplied by `sign` so one max-deque serves both max and min.
        self._sign = sign
        self._items: deque[tuple[int, float]] = deque()

    def update(self, ts_ns: int, value: float) -> None:
        """Add one observation."""
        self._observe(ts_ns)
        keyed = self._sign * value
        items = self._items
        while items and items[-1][1] <= keyed:
            items.pop()
        items.append((ts_ns, keyed))

    def value(self, now_ns: int) -> float | None:
        """Extreme over the window ending at ``now_ns``; None while warming up or empty."""
        warm = self._query(now_ns)
        items = self._items
        cutoff = now_ns - self.window_ns
        while items and items[0][0] <= cutoff:
            items.popleft()
        if not warm or not items:
            return None
        return self._sign * items[0][1]

    def reset(self) -> None:
        """Forget everything (warm-up starts again)."""
        self._reset_time()
        self._items.clear()


class RollingMax(_RollingExtreme):
    """Highest value observed in ``(now - window, now]`` (upper breakout band)."""

    __slots__ = ()

    def __init__(self, window_ns: int) -> None:
        super().__init__(window_ns, 1.0)


class RollingMin(_RollingExtreme):
    """Lowest value observed in ``(now - window, now]`` (lower breakout band)."""

    __slots__ = ()

    def __init__(self, window_ns: int) -> None:
        super().__init__(window_ns, -1.0)


class _RollingLevelExtreme(RollingWindowBase):
    """
    Extreme of a level (a step function) over ``[now - window, now]``.

    Unlike ``RollingMax``/``RollingMin`` (extremes of the observations inside the window), the
    level in force at the window start counts too: a mid that has not changed for longer than
    the window is still the window's high and low. The start level comes from the same anchor
    rule as ``RollingChange``; the rest is the monotonic deque of the plain extreme.
    """

    __slots__ = ("_anchor", "_inside")

    def __init__(self, window_ns: int, inside: _RollingExtreme) -> None:
        super().__init__(window_ns)
        self._anchor = RollingChange(window_ns)
        self._inside = inside

    def update(self, ts_ns: int, level: float) -> None:
        """Record the level observed at ``ts_ns`` (it holds until the next observation)."""
        self._observe(ts_ns)
        self._anchor.update(ts_ns, level)
        self._inside.update(ts_ns, level)

    def value(self, now_ns: int) -> float | None:
        """Extreme of the level over the window ending at ``now_ns``; None while warming up."""
        self._query(now_ns)
        start = self._anchor.start_level(now_ns)
        inside = self._inside.value(now_ns)
        if start is None:
            return None
        if inside is None:
            return start
        return self._pick(start, inside)

    def _pick(self, a: float, b: float) -> float:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget everything (warm-up starts again)."""
        self._reset_time()
        self._anchor.reset()
        self._inside.reset()


class RollingLevelMax(_RollingLevelExtreme):
    """Highest level in force at any time in ``[now - window, now]`` (e.g. the 15 min high)."""

    __slots__ = ()

    def __init__(self, window_ns: int) -> None:
        super().__init__(window_ns, RollingMax(window_ns))

    def _pick(self, a: float, b: float) -> float:
        return a if a >= b else b


class RollingLevelMin(_RollingLevelExtreme):
    """Lowest level in force at any time in ``[now - window, now]`` (e.g. the 15 min low)."""

    __slots__ = ()

    def __init__(self, window_ns: int) -> None:
        super().__init__(window_ns, RollingMin(window_ns))

    def _pick(self, a: float, b: float) -> float:
        return a if a <= b else b
