"""
Price geometry and motion of the mid: changes, range, velocity and acceleration.

The mid is a level (a step function: each observed mid holds until the next), so every reading
here is a function of "the mid in force at time t", ``mid(t)``, for t at or before now:

- ``change_bps(w)   = (mid(now) - mid(now - w)) / mid(now - w) * 1e4``
- ``high(w), low(w)`` = the highest / lowest mid in force at any time in ``[now - w, now]``
- ``velocity_bps_s  = change_bps(medium) / medium``  (bps per second over the medium window)
- ``accel_bps_s2    = (v(now) - v(now - medium)) / medium`` with ``v(t) = change_bps_short(t) /
  short``: the change of the short-window velocity over the medium window.

Each reading is ``None`` until every mid it needs lies inside the observed history (warm-up);
the acceleration therefore needs ``medium + short`` of history. Built on ``actors.rolling``,
so the same time rules hold (no future data; O(1) amortised per update).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from typing import NamedTuple

from actors.rolling import NANOS_PER_SECOND
from actors.rolling import RollingMax
from actors.rolling import RollingMin

__all__ = [
    "MidMotion",
    "MidMotionReading",
]

_BPS_PER_UNIT = 1e4
_NAN = float("nan")
# Mids before every window's start are dropped from the shared list in chunks of this size.
_COMPACT_AFTER = 1024


class MidMotionReading(NamedTuple):
    """One reading of ``MidMotion`` at a time ``now`` (None: warming up)."""

    change_bps_short: float | None
    change_bps_medium: float | None
    change_bps_long: float | None
    high_long: float | None
    low_long: float | None
    velocity_bps_s: float | None
    accel_bps_s2: float | None


class MidMotion:
    """
    The mid's changes over three windows, its range over the long one, velocity, acceleration.

    The state builder uses windows 1 s, 5 s and 15 min (``mid_change_bps_1s`` ...), shortened
    only through its config in tests.

    The start levels of the four windows it needs (short, medium, long, and medium + short for
    the lagged velocity) come from one list of mids with an anchor index per window: each is
    the last mid at or before the window's start, as a ``RollingChange`` per window keeps it at
    the head of its deque (same warm-up and time rules), without four deques and four sets of
    checks per update and read.
    """

    __slots__ = (
        "_first",
        "_heads",
        "_high",
        "_items",
        "_last",
        "_last_query",
        "_low",
        "_medium_secs",
        "_short_secs",
        "_windows",
    )

    def __init__(self, short_ns: int, medium_ns: int, long_ns: int) -> None:
        if not 0 < short_ns <= medium_ns <= long_ns:
            raise ValueError(
                "windows must satisfy 0 < short_ns <= medium_ns <= long_ns, were "
                f"short_ns={short_ns} medium_ns={medium_ns} long_ns={long_ns}",
            )
        # Short, medium, long, and medium + short: with the medium window's start,
        # mid(now - medium - short) gives the short-window velocity one medium window ago.
        self._windows = (int(short_ns), int(medium_ns), int(long_ns), int(medium_ns + short_ns))
        self._items: list[tuple[int, float]] = []
        self._heads = [0, 0, 0, 0]
        self._first: int | None = None
        self._last: int | None = None
        self._last_query: int | None = None
        # The range is the long window's start level (its anchor) and the extremes inside it:
        # the RollingLevelMax/Min rule, sharing the anchor the long change keeps anyway.
        self._high = RollingMax(long_ns)
        self._low = RollingMin(long_ns)
        self._short_secs = short_ns / NANOS_PER_SECOND
        self._medium_secs = medium_ns / NANOS_PER_SECOND

    def update(self, ts_ns: int, mid: float) -> None:
        """Record the mid observed at ``ts_ns`` (non-decreasing times, as every window)."""
        last = self._last
        if last is not None and ts_ns < last:
            raise ValueError(
                f"MidMotion: observation out of order "
                f"(ts_ns={ts_ns} < last observation ts_ns={last})",
            )
        if self._first is None:
            self._first = ts_ns
        self._last = ts_ns
        self._items.append((ts_ns, mid))
        self._high.update(ts_ns, mid)
        self._low.update(ts_ns, mid)

    def read(self, now_ns: int) -> MidMotionReading:
        """Every reading at ``now_ns`` (never earlier than the latest update)."""
        return MidMotionReading(*self._read(now_ns))

    def read_into(self, now_ns: int, values: Any, slots: Sequence[int]) -> None:
        """``read(now_ns)`` into ``values`` at ``slots`` (in reading order), None as NaN."""
        for slot, reading in zip(slots, self._read(now_ns), strict=True):
            values[slot] = _NAN if reading is None else reading

    def _read(self, now_ns: int) -> tuple[float | None, ...]:
        short_start, medium_start, long_start, older = self._starts(now_ns)
        items = self._items
        last = items[-1][1] if items else None
        high = self._high.value(now_ns)
        low = self._low.value(now_ns)
        if long_start is None:
            high = low = None
        else:
            high = long_start if high is None or long_start > high else high
            low = long_start if low is None or long_start < low else low
        change_short = _bps(last, short_start)
        change_medium = _bps(last, medium_start)
        velocity = None if change_medium is None else change_medium / self._medium_secs
        accel = None
        then = _bps(medium_start, older)
        if change_short is not None and then is not None:
            accel = (change_short - then) / self._short_secs / self._medium_secs
        return (
            change_short,
            change_medium,
            _bps(last, long_start),
            high,
            low,
            velocity,
            accel,
        )

    def _starts(self, now_ns: int) -> list[float | None]:
        """The level in force at each window's start (None while that window warms up)."""
        last = self._last
        if last is not None and now_ns < last:
            raise ValueError(
                f"MidMotion: query at now_ns={now_ns} is before the latest observation "
                f"ts_ns={last}; that value would use future data",
            )
        last_query = self._last_query
        if last_query is not None and now_ns < last_query:
            raise ValueError(
                f"MidMotion: query out of order "
                f"(now_ns={now_ns} < previous query now_ns={last_query})",
            )
        self._last_query = now_ns
        items = self._items
        first = self._first
        if first is None:
            return [None, None, None, None]
        end = len(items) - 1
        heads = self._heads
        starts: list[float | None] = []
        for k, window in enumerate(self._windows):
            cutoff = now_ns - window
            h = heads[k]
            while h < end and items[h + 1][0] <= cutoff:
                h += 1
            heads[k] = h
            anchor_ts, anchor = items[h]
            starts.append(None if now_ns - first < window or anchor_ts > cutoff else anchor)
        lowest = min(heads)
        if lowest >= _COMPACT_AFTER:
            del items[:lowest]
            for k in range(len(heads)):
                heads[k] -= lowest
        return starts

    def reset(self) -> None:
        """Forget everything (warm-up starts again)."""
        self._items.clear()
        self._heads = [0, 0, 0, 0]
        self._first = None
        self._last = None
        self._last_query = None
        self._high.reset()
        self._low.reset()


def _bps(now_level: float | None, start_level: float | None) -> float | None:
    if now_level is None or start_level is None or start_level == 0.0:
        return None
    return (now_level - start_level) / abs(start_level) * _BPS_PER_UNIT
