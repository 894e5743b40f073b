"""Network and venue latency of the simulated venue: per request kind and per stream, jittered.

Why: without it every order is answered in about a millisecond and every market frame arrives
at once, so fill/cancel races and quote staleness look better here than they will live. The
model adds, per HTTP request (`info`, `exchange`), half its round trip before the venue
handles it and half before the answer leaves (a WebSocket `post` is handled on arrival and its
whole round trip delays the answer, keeping one socket's answers in order), and per WebSocket
frame a one-way delay by stream kind (market data or user data). Frames of one socket stay in
order (one TCP stream): a frame is never sent before the one queued ahead of it.

Each delay is `base + jitter * u`, `u` uniform in [-1, 1], floored at 0, drawn from a
`random.Random` seeded from the simulator's seed, so a stepped run with the same client actions
draws the same delays. Profiles (`jarvis sim --latency`): `none` (the default: unit tests and
stepped runs), `mainnet-like`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Streams about one user (their frames get the user-stream delay); every other frame (books,
# trades, contexts, mids, acks, pongs, errors) gets the market-stream delay.
USER_CHANNELS = frozenset(
    {
        "orderUpdates",
        "user",
        "userEvents",
        "userFills",
        "userFundings",
        "userNonFundingLedgerUpdates",
        "notification",
        "webData2",
        "webData3",
        "clearinghouseState",
        "openOrders",
        "spotState",
        "activeAssetData",
        "userTwapSliceFills",
        "userTwapHistory",
        "twapStates",
    }
)


@dataclass(frozen=True)
class LatencyConfig:
    """Latency of one simulated venue, in milliseconds (0 everywhere: no latency).

    Parameters
    ----------
    info_rtt_ms / info_jitter_ms : float
        Round trip added to `/info` (and WebSocket `post` info) requests, and its jitter.
    exchange_rtt_ms / exchange_jitter_ms : float
        Round trip added to `/exchange` (and WebSocket `post` action) requests: network plus
        the venue's block time until the action is included.
    market_stream_ms / market_stream_jitter_ms : float
        One-way delay of market-data frames (l2Book, trades, bbo, candle, contexts, mids).
    user_stream_ms / user_stream_jitter_ms : float
        One-way delay of user-data frames (orderUpdates, userFills, user, fundings, ...).
    """

    info_rtt_ms: float = 0.0
    info_jitter_ms: float = 0.0
    exchange_rtt_ms: float = 0.0
    exchange_jitter_ms: float = 0.0
    market_stream_ms: float = 0.0
    market_stream_jitter_ms: float = 0.0
    user_stream_ms: float = 0.0
    user_stream_jitter_ms: float = 0.0

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, (int, float)) or value < 0 or value != value:
                raise ValueError(f"LatencyConfig.{name} must be a number >= 0 (ms), got {value!r}")

    @property
    def enabled(self) -> bool:
        """Whether any delay is configured."""
        return any(vars(self).values())


NO_LATENCY = LatencyConfig()

# ASSUMED figures of a client outside the venue's Tokyo region: /info answered in tens of ms;
# /exchange answered after the action is in a block (about 0.1-0.2 s of block time plus the
# network); pushes arrive tens of ms after the block, user data a little later than books.
MAINNET_LIKE = LatencyConfig(
    info_rtt_ms=60.0,
    info_jitter_ms=20.0,
    exchange_rtt_ms=180.0,
    exchange_jitter_ms=60.0,
    market_stream_ms=40.0,
    market_stream_jitter_ms=20.0,
    user_stream_ms=60.0,
    user_stream_jitter_ms=30.0,
)

LATENCY_PROFILES: dict[str, LatencyConfig] = {"none": NO_LATENCY, "mainnet-like": MAINNET_LIKE}
"""The named profiles of `jarvis sim --latency`."""


def latency_profile(name: str) -> LatencyConfig:
    """The profile called `name`, failing with the valid names."""
    try:
        return LATENCY_PROFILES[name]
    except KeyError:
        valid = ", ".join(LATENCY_PROFILES)
        raise ValueError(f"unknown latency profile {name!r}; valid: {valid}") from None


class LatencyModel:
    """Draws the delays of a `LatencyConfig` from one seeded generator (seconds)."""

    def __init__(self, config: LatencyConfig = NO_LATENCY, seed: int = 0) -> None:
        self.config = config
        self.enabled = config.enabled
        self._rng = random.Random(f"jarvis-sim-latency|{seed}")

    def _draw_s(self, base_ms: float, jitter_ms: float) -> float:
        if not base_ms and not jitter_ms:
            return 0.0
        ms = base_ms + jitter_ms * (2.0 * self._rng.random() - 1.0) if jitter_ms else base_ms
        return max(0.0, ms) / 1000.0

    def request_s(self, kind: str) -> tuple[float, float]:
        """(before handling, before answering) delays of one request; kind "info" or "exchange"."""
        if not self.enabled:
            return 0.0, 0.0
        c = self.config
        if kind == "exchange":
            rtt = self._draw_s(c.exchange_rtt_ms, c.exchange_jitter_ms)
        else:
            rtt = self._draw_s(c.info_rtt_ms, c.info_jitter_ms)
        return rtt / 2.0, rtt / 2.0

    def frame_s(self, channel: str) -> float:
        """One-way delay of one WebSocket frame of `channel`."""
        if not self.enabled:
            return 0.0
        c = self.config
        if channel in USER_CHANNELS:
            return self._draw_s(c.user_stream_ms, c.user_stream_jitter_ms)
        return self._draw_s(c.market_stream_ms, c.market_stream_jitter_ms)
