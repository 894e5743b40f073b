"""Venue time for the simulator: real, accelerated, jumped, or stepped by hand.

The engine never reads a clock; the server asks this object for "now" and hands it to every
engine call. Two modes:

* real (default): venue time = start + elapsed wall time x `speed` + jumps. `speed` > 1 makes an
  hour of funding pass in seconds.
* manual ("stepped"): venue time moves only when `advance` or `jump` is called, so a test (or
  the admin endpoint) decides exactly when the market moves and frames are byte-reproducible.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEFAULT_MANUAL_START_MS = 1_767_225_600_000
"""2026-01-01T00:00:00Z: a fixed epoch so stepped runs produce identical timestamps."""


class SimClock:
    """The simulator's single source of venue time (milliseconds since the epoch).

    Parameters
    ----------
    start_ms : int | None
        Venue time at construction; default: wall time (real mode) or a fixed epoch (manual).
    speed : float
        Venue milliseconds per wall millisecond in real mode (ignored in manual mode).
    manual : bool
        If True, time only moves through `advance` / `jump` (deterministic stepped mode).
    """

    def __init__(
        self,
        *,
        start_ms: int | None = None,
        speed: float = 1.0,
        manual: bool = False,
        wall_ms: Callable[[], int] | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, was {speed}")
        self._manual = manual
        self._speed = float(speed)
        self._monotonic = monotonic or time.monotonic
        wall = wall_ms or (lambda: time.time_ns() // 1_000_000)
        if start_ms is None:
            start_ms = DEFAULT_MANUAL_START_MS if manual else wall()
        self._start_ms = int(start_ms)
        self._mono0 = self._monotonic()
        self._offset_ms = 0
        self._last_ms = self._start_ms

    @property
    def manual(self) -> bool:
        """Whether time moves only on request (stepped mode)."""
        return self._manual

    @property
    def speed(self) -> float:
        """Venue milliseconds per wall millisecond (real mode)."""
        return self._speed

    def now_ms(self) -> int:
        """Current venue time; never goes backwards."""
        if self._manual:
            now = self._start_ms + self._offset_ms
        else:
            elapsed = (self._monotonic() - self._mono0) * 1000.0 * self._speed
            now = self._start_ms + int(elapsed) + self._offset_ms
        if now < self._last_ms:
            now = self._last_ms
        self._last_ms = now
        return now

    def advance(self, ms: int) -> int:
        """Move venue time forward by `ms` (the step of the stepped mode); returns the new now."""
        if ms < 0:
            raise ValueError(f"time cannot go backwards (advance by {ms} ms)")
        self._offset_ms += int(ms)
        return self.now_ms()

    def jump(self, ms: int) -> int:
        """Jump venue time forward by `ms` in either mode (fault injection); returns the new now."""
        return self.advance(ms)

    def wall_delay_s(self, venue_ms: float) -> float:
        """Wall seconds that `venue_ms` of venue time take in real mode (for sleeping)."""
        return max(0.0, venue_ms / 1000.0 / self._speed)
