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

from typing import NamedTuple

from actors.rolling import NANOS_PER_SECOND
from actors.rolling import RollingChange
from actors.rolling import RollingMax
from actors.rolling import RollingMin

__all__ = [
    "MidMotion",
    "MidMotionReading",
]

_BPS_PER_UNIT = 1e4


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
    """

    __slots__ = (
        "_high",
        "_lag_medium_short",
        "_long",
        "_low",
        "_medium",
        "_medium_secs",
        "_short",
        "_short_secs",
    )

    def __init__(self, short_ns: int, medium_ns: int, long_ns: int) -> None:
        if not 0 < short_ns <= medium_ns <= long_ns:
            raise ValueError(
                "windows must satisfy 0 < short_ns <= medium_ns <= long_ns, were "
                f"short_ns={short_ns} medium_ns={medium_ns} long_ns={long_ns}",
            )
        self._short = RollingChange(short_ns)
        self._medium = RollingChange(medium_ns)
        self._long = RollingChange(long_ns)
        # The range is the long window's start level (its anchor) and the extremes inside it:
        # the RollingLevelMax/Min rule, sharing the anchor the long change keeps anyway.
        self._high = RollingMax(long_ns)
        self._low = RollingMin(long_ns)
        # With the medium window's start, mid(now - medium - short) gives the short-window
        # velocity as it was one medium window ago.
        self._lag_medium_short = RollingChange(medium_ns + short_ns)
        self._short_secs = short_ns / NANOS_PER_SECOND
        self._medium_secs = medium_ns / NANOS_PER_SECOND

    def update(self, ts_ns: int, mid: float) -> None:
        """Record the mid observed at ``ts_ns`` (non-decreasing times, as every window)."""
        self._short.update(ts_ns, mid)
        self._medium.update(ts_ns, mid)
        self._long.update(ts_ns, mid)
        self._high.update(ts_ns, mid)
        self._low.update(ts_ns, mid)
        self._lag_medium_short.update(ts_ns, mid)

    def read(self, now_ns: int) -> MidMotionReading:
        """Every reading at ``now_ns`` (never earlier than the latest update)."""
        short_start = self._short.start_level(now_ns)
        medium_start = self._medium.start_level(now_ns)
        long_start = self._long.start_level(now_ns)
        older = self._lag_medium_short.start_level(now_ns)
        last = self._short.last_level
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
        return MidMotionReading(
            change_bps_short=change_short,
            change_bps_medium=change_medium,
            change_bps_long=_bps(last, long_start),
            high_long=high,
            low_long=low,
            velocity_bps_s=velocity,
            accel_bps_s2=accel,
        )

    def reset(self) -> None:
        """Forget everything (warm-up starts again)."""
        for window in (self._short, self._medium, self._long, self._lag_medium_short):
            window.reset()
        self._high.reset()
        self._low.reset()


def _bps(now_level: float | None, start_level: float | None) -> float | None:
    if now_level is None or start_level is None or start_level == 0.0:
        return None
    return (now_level - start_level) / abs(start_level) * _BPS_PER_UNIT
