"""Stress mode: l2Book frames at a fixed high rate to every l2Book subscriber, for load tests.

Why: the venue pushes l2Book at most every 0.5 s per coin, so a normal run cannot show how a
client copes with a firehose of book updates. In stress mode (`SimConfig.stress_book_fps > 0`,
`jarvis sim --stress-book-fps N`) every subscribed l2Book stream additionally gets N frames a
second: the venue's current book as the engine holds it (rebuilt every `BASE_REFRESH_S`), with
one level's size varied by one lot per frame (cycling through the levels) and `time` the venue
clock. These extra frames are NOT venue truth (`/info` l2Book keeps the real book); they exist
to load a client. Stream faults (stall, skip, reorder, delay) apply to them as to any frame.

Off by default, and then nothing here runs: a normal run stays byte-identical (pinned by
tests/simulator/test_stress.py).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from typing import Any

from simulator.orders import fmt_units

if TYPE_CHECKING:
    from simulator.server import SimVenue
    from simulator.ws import Sub

TICK_S = 0.001
BASE_REFRESH_S = 0.05
MAX_BATCH_PER_TICK = 200  # frames per stream per wake-up: a stalled loop never bursts unbounded
MAX_BACKLOG_FRAMES = 20_000  # a subscriber this far behind pauses the firehose (no memory blow-up)


class _Base:
    """One stream's current book payload and, per level, the size string one lot larger."""

    __slots__ = ("alt", "built_at", "payload")

    def __init__(self, payload: dict[str, Any], alt: list[list[str]], built_at: float) -> None:
        self.payload = payload
        self.alt = alt
        self.built_at = built_at


class StressBookFeed:
    """Publishes `fps` varied l2Book frames a second to every subscribed l2Book stream."""

    def __init__(self, venue: SimVenue, fps: float) -> None:
        if fps <= 0:
            raise ValueError(f"stress_book_fps must be > 0, got {fps}")
        self.venue = venue
        self.fps = fps
        self.frames_published = 0
        self._bases: dict[str, _Base] = {}
        self._counter = 0

    async def run(self) -> None:
        """Publish on a 1 ms grid, catching up with whole frames owed since the last wake."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        owed = 0.0
        while True:
            await asyncio.sleep(TICK_S)
            now = loop.time()
            owed = min(owed + (now - last) * self.fps, float(MAX_BATCH_PER_TICK))
            last = now
            n = int(owed)
            if n:
                owed -= n
                self.publish(n, now)

    def publish(self, n: int, now: float) -> int:
        """Publish `n` frames to each subscribed l2Book stream; returns how many in all."""
        hub = self.venue.hub
        subs = hub.keys_of_type("l2Book|")
        if not subs:
            return 0
        for sub in subs:
            for conn in hub.subscribers.get(sub.key, {}):
                if conn.backlog > MAX_BACKLOG_FRAMES:
                    return 0
        venue_ms = self.venue.clock.now_ms()
        published = 0
        for sub in subs:
            base = self._base(sub, now)
            payload = base.payload
            bids, asks = payload["levels"]
            for _ in range(n):
                self._counter += 1
                count = self._counter
                side = count & 1
                levels = asks if side else bids
                if not levels:
                    continue
                i = (count >> 1) % len(levels)
                varied = list(levels)
                level = levels[i]
                sz = base.alt[side][i] if (count >> 1) // len(levels) & 1 == 0 else level["sz"]
                varied[i] = {"px": level["px"], "sz": sz, "n": level["n"]}
                frame = {
                    "coin": payload["coin"],
                    "time": venue_ms,
                    "levels": [bids, varied] if side else [varied, asks],
                }
                hub.publish(sub.key, "l2Book", sub.coin, frame)
                published += 1
        self.frames_published += published
        return published

    def _base(self, sub: Sub, now: float) -> _Base:
        base = self._bases.get(sub.key)
        if base is not None and now - base.built_at < BASE_REFRESH_S:
            return base
        assert sub.coin is not None
        engine = self.venue.engine
        payload = engine.l2_book(sub.coin, sub.n_sig_figs, sub.mantissa, 5 if sub.fast else 20)
        sz_decimals = engine.markets[sub.coin].sz_decimals
        alt = [
            [_one_lot_more(level["sz"], sz_decimals) for level in side]
            for side in payload["levels"]
        ]
        base = _Base(payload, alt, now)
        self._bases[sub.key] = base
        return base


def _one_lot_more(sz: str, sz_decimals: int) -> str:
    whole, _, frac = sz.partition(".")
    units = int(whole) * 10**sz_decimals + int((frac + "0" * sz_decimals)[:sz_decimals] or 0)
    return fmt_units(units + 1, sz_decimals)
