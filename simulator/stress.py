"""Stress mode: l2Book frames at a fixed high rate to every l2Book subscriber, for load tests.

Why: the venue pushes l2Book at most every 0.5 s per coin, so a normal run cannot show how a
client copes with a firehose of book updates. In stress mode (`SimConfig.stress_book_fps > 0`,
`jarvis sim --stress-book-fps N`) every subscribed l2Book stream additionally gets N frames a
second: the venue's current book as the engine holds it (rebuilt every `BASE_REFRESH_S`), with
one level's size varied by one lot per frame (cycling through the levels) and `time` the venue
clock. These extra frames are NOT venue truth (`/info` l2Book keeps the real book); they exist
to load a client. Stream faults (stall, skip, reorder, delay) apply to them as to any frame.

The sender must cost far less than the clients it loads (load tests run it on the same cores),
so the frames of one book cycle (one per varied level and size, 4 x levels in all) are encoded
once per book, split around the `time` value, which is patched in per wake-up; each wake-up's
frames go to a subscriber as ready-made WebSocket frames in one transport write
(`WsConnection.write_frames`), with backpressure on the bytes the transport still holds
(`buffered_bytes`) instead of a writer task awaiting every send. The bytes on the wire are
exactly those of encoding each frame on its own (pinned by tests/simulator/test_stress.py).
A socket with frames still queued gets the batch queued behind them as one item. While a
stream fault or the latency model is active, frames take the ordinary per-frame path
(`WsHub.publish`).

Off by default, and then nothing here runs: a normal run stays byte-identical (pinned by
tests/simulator/test_stress.py).
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING
from typing import Any

from simulator.orders import fmt_units
from simulator.ws import encode_frame
from simulator.ws import text_frame_header

if TYPE_CHECKING:
    from simulator.server import SimVenue
    from simulator.ws import Sub

TICK_S = 0.001
BASE_REFRESH_S = 0.05
MAX_BATCH_PER_TICK = 200  # frames per stream per wake-up: a stalled loop never bursts unbounded
MAX_CATCH_UP_S = 0.02  # ...unless the rate owes more in this long (a descheduled sender catches up)
MAX_BACKLOG_FRAMES = 20_000  # a subscriber this far behind pauses the firehose (no memory blow-up)
MAX_BUFFERED_BYTES = 8 * 1024 * 1024  # the same, in bytes the socket's transport still holds
MAX_CYCLE_FRAMES = 4_000  # a longer counter period (odd level counts) is sent frame by frame
_TIME_PLACEHOLDER = -7_777_777_777_777  # stands for `time` in a pre-encoded frame
_TIME_MARK = b'"time":' + str(_TIME_PLACEHOLDER).encode()


class _Cycle:
    """A stream's frames for one whole period of the frame counter, ready to send: frame k
    (counter % period == k) is `heads[k]` + the `time` digits + `suffixes[k]`; `glue[k]` is
    `suffixes[k] + heads[k + 1]`, repeated, so frames k..k+n-1 are one `join` of a slice with
    the `time` digits."""

    __slots__ = ("glue", "heads", "period", "suffixes")

    def __init__(self, parts: list[tuple[bytes, bytes]]) -> None:
        self.period = len(parts)
        self.heads = [head for head, _ in parts]
        self.suffixes = [suffix for _, suffix in parts]
        heads = self.heads
        self.glue = [
            suffix + heads[(k + 1) % self.period] for k, suffix in enumerate(self.suffixes)
        ]

    def batch(self, first: int, n: int, ms: bytes) -> bytes:
        """Frames `first`..`first + n - 1` (cycle positions) as one buffer."""
        period = self.period
        end = first + n - 1
        if end > len(self.glue):
            self.glue = self.glue[:period] * (end // period + 1)
        return ms.join([self.heads[first], *self.glue[first:end], self.suffixes[end % period]])


class _Base:
    """One stream's current book payload, per level the size string one lot larger, and the
    encoded frames of its cycle: variant -> (text frame header + bytes before the `time` value,
    the bytes after it), for a `time` `ms_digits` long,
    and the same laid out over a whole counter period (`cycle`, None until built or when a
    side is empty or the period is too long)."""

    __slots__ = ("alt", "built_at", "cycle", "encoded", "ms_digits", "payload")

    def __init__(self, payload: dict[str, Any], alt: list[list[str]], built_at: float) -> None:
        self.payload = payload
        self.alt = alt
        self.built_at = built_at
        self.encoded: dict[tuple[int, int, bool], tuple[bytes, bytes]] = {}
        self.ms_digits = 0
        self.cycle: _Cycle | None = None


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
        max_batch = max(float(MAX_BATCH_PER_TICK), self.fps * MAX_CATCH_UP_S)
        while True:
            await asyncio.sleep(TICK_S)
            now = loop.time()
            owed = min(owed + (now - last) * self.fps, max_batch)
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
                if conn.backlog > MAX_BACKLOG_FRAMES or conn.buffered_bytes > MAX_BUFFERED_BYTES:
                    return 0
        venue_ms = self.venue.clock.now_ms()
        if hub.latency.enabled or hub.faults.any_stream_fault or hub.has_held_frames:
            return self._publish_each(subs, n, now, venue_ms)
        return self._publish_batched(subs, n, now, venue_ms)

    def _publish_batched(self, subs: list[Sub], n: int, now: float, venue_ms: int) -> int:
        """Each stream's `n` frames from the encoded cycle, in one write per subscriber."""
        hub = self.venue.hub
        ms = str(venue_ms).encode()
        published = 0
        for sub in subs:
            base = self._base(sub, now)
            if base.ms_digits != len(ms):  # the frame length, so the header, depends on it
                base.encoded.clear()
                base.cycle = None
                base.ms_digits = len(ms)
            if base.cycle is None:
                base.cycle = self._cycle(base)
            cycle = base.cycle
            if cycle is not None:
                first = (self._counter + 1) % cycle.period
                self._counter += n
                count = n
                batch = cycle.batch(first, n, ms)
            else:
                split = self._frames(base, n)
                count = len(split)
                if not count:
                    continue
                batch = b"".join(piece for head, suffix in split for piece in (head, ms, suffix))
            self.frames_published += count  # before they are on the wire (read by tests)
            for conn in hub.subscribers.get(sub.key, {}):
                # False only for a socket already gone (the latency model takes the other path)
                conn.write_frames(batch, count)
            published += count
        return published

    def _cycle(self, base: _Base) -> _Cycle | None:
        """The frames of a whole counter period: every variant of the frame whose counter
        modulo the period is k (it repeats every 4 x lcm(bid levels, ask levels) frames)."""
        bids, asks = base.payload["levels"]
        if not bids or not asks:
            return None
        period = 4 * math.lcm(len(bids), len(asks))
        if period > MAX_CYCLE_FRAMES:
            return None
        parts = []
        for count in range(period):
            variant = _variant(count, bids, asks)
            assert variant is not None
            parts.append(self._parts(base, variant))
        return _Cycle(parts)

    def _frames(self, base: _Base, n: int) -> list[tuple[bytes, bytes]]:
        """The next `n` frames one variant at a time (a side is empty, or a long period)."""
        bids, asks = base.payload["levels"]
        out = []
        for _ in range(n):
            self._counter += 1
            variant = _variant(self._counter, bids, asks)
            if variant is not None:
                out.append(self._parts(base, variant))
        return out

    def _parts(self, base: _Base, variant: tuple[int, int, bool]) -> tuple[bytes, bytes]:
        parts = base.encoded.get(variant)
        if parts is None:
            parts = base.encoded[variant] = self._encode(base, variant, base.ms_digits)
        return parts

    def _publish_each(self, subs: list[Sub], n: int, now: float, venue_ms: int) -> int:
        """Each frame on its own through `WsHub.publish` (stream faults, latency)."""
        hub = self.venue.hub
        published = 0
        for sub in subs:
            base = self._base(sub, now)
            bids, asks = base.payload["levels"]
            for _ in range(n):
                self._counter += 1
                variant = _variant(self._counter, bids, asks)
                if variant is None:
                    continue
                hub.publish(sub.key, "l2Book", sub.coin, _varied_frame(base, variant, venue_ms))
                published += 1
        self.frames_published += published  # queued: the writer tasks send them later
        return published

    @staticmethod
    def _encode(base: _Base, variant: tuple[int, int, bool], ms_digits: int) -> tuple[bytes, bytes]:
        """A variant's frame encoded once and split around its `time` value: (text frame header
        + the bytes before the value, the bytes after it)."""
        raw = encode_frame("l2Book", _varied_frame(base, variant, _TIME_PLACEHOLDER)).encode()
        prefix, mark, suffix = raw.partition(_TIME_MARK)
        assert mark and _TIME_MARK not in suffix
        prefix += b'"time":'
        return text_frame_header(len(prefix) + ms_digits + len(suffix)) + prefix, suffix

    def _base(self, sub: Sub, now: float) -> _Base:
        base = self._bases.get(sub.key)
        if base is not None and now - base.built_at < BASE_REFRESH_S:
            return base
        assert sub.coin is not None
        engine = self.venue.engine
        payload = engine.l2_book(sub.coin, sub.n_sig_figs, sub.mantissa, 5 if sub.fast else 20)
        if base is not None and payload["levels"] == base.payload["levels"]:
            base.built_at = now  # the same book (only `time` moved): keep the encoded frames
            return base
        sz_decimals = engine.markets[sub.coin].sz_decimals
        alt = [
            [_one_lot_more(level["sz"], sz_decimals) for level in side]
            for side in payload["levels"]
        ]
        base = _Base(payload, alt, now)
        self._bases[sub.key] = base
        return base


def _variant(count: int, bids: list[Any], asks: list[Any]) -> tuple[int, int, bool] | None:
    """Which frame the `count`-th is: (side, level, one lot more or not); None on an empty side.
    Sides alternate; each side's levels take turns, one lot larger, then as they are."""
    side = count & 1
    levels = asks if side else bids
    if not levels:
        return None
    turn = count >> 1
    return side, turn % len(levels), turn // len(levels) & 1 == 0


def _varied_frame(base: _Base, variant: tuple[int, int, bool], venue_ms: int) -> dict[str, Any]:
    """The frame for one variant (side, level, one lot more or not) of a stream's book."""
    side, i, one_lot_more = variant
    payload = base.payload
    bids, asks = payload["levels"]
    levels = asks if side else bids
    varied = list(levels)
    level = levels[i]
    sz = base.alt[side][i] if one_lot_more else level["sz"]
    varied[i] = {"px": level["px"], "sz": sz, "n": level["n"]}
    return {
        "coin": payload["coin"],
        "time": venue_ms,
        "levels": [bids, varied] if side else [varied, asks],
    }


def _one_lot_more(sz: str, sz_decimals: int) -> str:
    whole, _, frac = sz.partition(".")
    units = int(whole) * 10**sz_decimals + int((frac + "0" * sz_decimals)[:sz_decimals] or 0)
    return fmt_units(units + 1, sz_decimals)
