"""Feed health: per-stream continuity and staleness, and the RiskEngine gate built on it.

``StreamMonitor`` watches every market-data stream (key ``"<channel>:<coin>[:<interval>]"``, see
``stream_key``) and returns a ``FeedHealth`` for every status change, which the data client
publishes. ``HealthGate`` puts NautilusTrader's RiskEngine into REDUCING (no new risk) while a
stream needed by a running strategy is unhealthy, and back to ACTIVE once all of them have been OK
for a configurable time. Both are driven by explicit times (frame receive times and a timer calling
``check(now_ns)``), never by reading a clock, so they are deterministic under replay.

Continuity rules, and why:

* Venue time must not decrease within a stream. An earlier ``time`` than the last one seen means a
  reordered (or replayed) message: GAP.
* Trade ids: PROTOCOL.md §9.2 says ``tid`` is a 50-bit hash of the two order ids, so "trade ids
  increasing" cannot be checked literally; only ``(time, coin, tid)`` is unique. What we check
  instead, per trades stream: prints are time-ordered (an older print than the newest seen is a
  GAP: the message was reordered), and a ``(time, tid)`` seen before is a duplicate. Duplicates
  are dropped and counted, not flagged: no data was lost, and the venue replays recent prints
  after every (re)subscribe. After ``mark_resubscribed`` the first trades frame may contain those
  older prints; they are dropped silently (already seen, or older than what was already
  published, so publishing them would be out of order) instead of raising a GAP.
* A frame that arrives in order on a stream that is STALE, GAP or RECONNECTING brings it back to
  OK: every l2Book push is a full snapshot, so one good frame restores a true picture. The gate's
  recovery time provides the hysteresis.
* A stream starts STALE ("no data yet") when registered: fail closed until data proves otherwise.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Final
from typing import Protocol
from typing import TypeVar

from nautilus_trader.common.component import Logger
from nautilus_trader.model.enums import TradingState

from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.data_types import FeedHealthStatus

__all__ = [
    "HealthGate",
    "StreamMonitor",
    "TimedTrade",
    "TradingStateTarget",
    "stream_key",
    "stream_kind",
]

_OK: Final[str] = FeedHealthStatus.OK.value
_STALE: Final[str] = FeedHealthStatus.STALE.value
_GAP: Final[str] = FeedHealthStatus.GAP.value
_RECONNECTING: Final[str] = FeedHealthStatus.RECONNECTING.value
_NANOS_PER_MILLI: Final[int] = 1_000_000
# Remembered (time, tid) keys per trades stream, for duplicate detection across reconnects.
_TRADE_MEMORY: Final[int] = 4_096


def stream_key(channel: str, coin: str, interval: str | None = None) -> str:
    """The key naming one subscription's stream: ``"l2Book:BTC"``, ``"candle:BTC:1m"``."""
    return f"{channel}:{coin}" if interval is None else f"{channel}:{coin}:{interval}"


def stream_kind(key: str) -> str:
    """The channel part of a stream key (what staleness thresholds are configured by)."""
    return key.split(":", 1)[0]


def _health(stream: str, status: str, reason: str, now_ns: int) -> FeedHealth:
    ctor: type = FeedHealth  # the customdataclass __init__ is not visible to mypy
    result: FeedHealth = ctor(
        stream=stream,
        status=status,
        reason=reason,
        since_ns=now_ns,
        ts_event=now_ns,
        ts_init=now_ns,
    )
    return result


class TimedTrade(Protocol):
    """Anything with the venue's trade ``time`` (ms) and ``tid`` (the schemas' ``Trade``)."""

    @property
    def time(self) -> int: ...

    @property
    def tid(self) -> int: ...


T = TypeVar("T", bound=TimedTrade)


@dataclass(slots=True)
class _StreamState:
    status: str
    stale_after_ns: int
    last_recv_ns: int
    last_venue_ms: int = -1
    resync: bool = False
    seen: set[tuple[int, int]] = field(default_factory=set)
    seen_order: deque[tuple[int, int]] = field(default_factory=deque)


class StreamMonitor:
    """Continuity and staleness checks for every registered stream (see module notes).

    Parameters
    ----------
    stale_after_ns : dict[str, int]
        Stream kind (channel) -> silence after which the stream is STALE; kinds not listed are
        never stale.
    """

    def __init__(self, stale_after_ns: dict[str, int]) -> None:
        self._stale_after_ns = dict(stale_after_ns)
        self._streams: dict[str, _StreamState] = {}
        self.duplicates_dropped = 0

    def status(self, stream: str) -> str | None:
        """Current status value of a stream, ``None`` if not registered."""
        state = self._streams.get(stream)
        return None if state is None else state.status

    @property
    def streams(self) -> list[str]:
        """Registered stream keys."""
        return list(self._streams)

    def register(self, stream: str, now_ns: int) -> FeedHealth | None:
        """Start watching a stream; it is STALE ("no data yet") until its first frame."""
        if stream in self._streams:
            return None
        threshold = self._stale_after_ns.get(stream_kind(stream), 0)
        self._streams[stream] = _StreamState(_STALE, threshold, now_ns)
        return _health(stream, _STALE, "subscribed, no data yet", now_ns)

    def unregister(self, stream: str) -> None:
        """Stop watching a stream (unsubscribed)."""
        self._streams.pop(stream, None)

    def _set(
        self, stream: str, state: _StreamState, status: str, reason: str, now_ns: int
    ) -> FeedHealth | None:
        if state.status == status:
            return None
        state.status = status
        return _health(stream, status, reason, now_ns)

    def on_frame(self, stream: str, venue_ms: int | None, recv_ns: int) -> FeedHealth | None:
        """Record a frame; ``venue_ms`` is its venue time (``None`` for untimed channels)."""
        state = self._streams.get(stream)
        if state is None:
            return None
        state.last_recv_ns = recv_ns
        if venue_ms is not None:
            last = state.last_venue_ms
            if venue_ms < last and not state.resync:
                return self._set(
                    stream, state, _GAP, f"venue time went backwards: {venue_ms} < {last}", recv_ns
                )
            state.resync = False
            if venue_ms > last:
                state.last_venue_ms = venue_ms
        return self._set(stream, state, _OK, "receiving in order", recv_ns)

    def on_trades(
        self, stream: str, trades: Sequence[T], recv_ns: int
    ) -> tuple[list[T], FeedHealth | None]:
        """Check a trades frame; return the prints to publish (duplicates removed) and any change.

        See the module notes for what counts as a duplicate or a GAP.
        """
        state = self._streams.get(stream)
        if state is None:
            return list(trades), None
        state.last_recv_ns = recv_ns
        fresh: list[T] = []
        backwards: tuple[int, int] | None = None
        for trade in trades:
            key = (trade.time, trade.tid)
            if key in state.seen:
                self.duplicates_dropped += 1
                continue
            if trade.time < state.last_venue_ms:
                if state.resync:
                    continue
                backwards = (trade.time, state.last_venue_ms)
            else:
                state.last_venue_ms = trade.time
            self._remember(state, key)
            fresh.append(trade)
        state.resync = False
        if backwards is not None:
            reason = f"trade time went backwards: {backwards[0]} < {backwards[1]}"
            return fresh, self._set(stream, state, _GAP, reason, recv_ns)
        return fresh, self._set(stream, state, _OK, "receiving in order", recv_ns)

    @staticmethod
    def _remember(state: _StreamState, key: tuple[int, int]) -> None:
        state.seen.add(key)
        state.seen_order.append(key)
        if len(state.seen_order) > _TRADE_MEMORY:
            state.seen.discard(state.seen_order.popleft())

    def on_disconnected(
        self, streams: Iterable[str], now_ns: int, reason: str = "connection lost"
    ) -> list[FeedHealth]:
        """The connection carrying ``streams`` dropped: all of them are RECONNECTING."""
        changes: list[FeedHealth] = []
        for stream in streams:
            state = self._streams.get(stream)
            if state is None:
                continue
            change = self._set(stream, state, _RECONNECTING, reason, now_ns)
            if change is not None:
                changes.append(change)
        return changes

    def mark_resubscribed(self, stream: str, now_ns: int) -> None:
        """The stream was subscribed again: its next frame may replay older data (no GAP)."""
        state = self._streams.get(stream)
        if state is not None:
            state.resync = True
            state.last_recv_ns = now_ns

    def check(self, now_ns: int) -> list[FeedHealth]:
        """Timer tick: streams silent for longer than their threshold become STALE."""
        changes: list[FeedHealth] = []
        for stream, state in self._streams.items():
            threshold = state.stale_after_ns
            if threshold <= 0 or state.status in (_STALE, _RECONNECTING):
                continue
            silent_ns = now_ns - state.last_recv_ns
            if silent_ns > threshold:
                reason = f"no data for {silent_ns / 1e9:.3f} s (threshold {threshold / 1e9:g} s)"
                change = self._set(stream, state, _STALE, reason, now_ns)
                if change is not None:
                    changes.append(change)
        return changes


class TradingStateTarget(Protocol):
    """What the gate needs from NautilusTrader's ``RiskEngine``."""

    @property
    def trading_state(self) -> TradingState: ...

    def set_trading_state(self, state: TradingState) -> None: ...


class HealthGate:
    """Keeps the RiskEngine in REDUCING while any needed stream is unhealthy.

    The gate only undoes what it did: it moves ACTIVE -> REDUCING, and REDUCING -> ACTIVE only if
    it set REDUCING itself and nobody changed the state since. A HALTED engine, or a REDUCING set
    by an operator, is left alone. A needed stream with no status yet counts as unhealthy.

    Parameters
    ----------
    risk_engine : TradingStateTarget
        The node's ``RiskEngine`` (``kernel.risk_engine``).
    recovery_ns : int
        How long every needed stream must have been OK before trading goes back to ACTIVE.
    logger : Logger, optional
        Where every transition is logged (a NautilusTrader ``Logger``).
    publish : Callable[[str], None], optional
        Extra sink for the transition messages (e.g. tests, the API event stream).
    """

    def __init__(
        self,
        risk_engine: TradingStateTarget,
        recovery_ns: int,
        logger: Logger | None = None,
        publish: Callable[[str], None] | None = None,
    ) -> None:
        if recovery_ns < 0:
            raise ValueError(f"recovery_ns: must be >= 0, was {recovery_ns}")
        self._risk_engine = risk_engine
        self._recovery_ns = recovery_ns
        self._log = logger if logger is not None else Logger(type(self).__name__)
        self._publish = publish
        self._required: frozenset[str] = frozenset()
        self._health: dict[str, FeedHealth] = {}
        self._engaged = False

    @property
    def engaged(self) -> bool:
        """Whether the gate is currently holding the engine in REDUCING."""
        return self._engaged

    @property
    def required_streams(self) -> frozenset[str]:
        """Streams needed by running strategies."""
        return self._required

    def set_required_streams(self, streams: Iterable[str], now_ns: int) -> None:
        """Running strategies changed: these streams are needed now."""
        self._required = frozenset(streams)
        self._evaluate(now_ns)

    def on_health(self, health: FeedHealth) -> None:
        """A stream's health changed (feed from the ``FeedHealth`` subscription)."""
        self._health[health.stream] = health
        if health.stream in self._required:
            self._evaluate(health.ts_init)

    def check(self, now_ns: int) -> None:
        """Timer tick: lift REDUCING once recovery has lasted long enough."""
        self._evaluate(now_ns)

    def _unhealthy(self) -> list[str]:
        bad: list[str] = []
        for stream in sorted(self._required):
            health = self._health.get(stream)
            if health is None:
                bad.append(f"{stream}=UNKNOWN")
            elif not health.is_healthy:
                bad.append(f"{stream}={health.status} ({health.reason})")
        return bad

    def _evaluate(self, now_ns: int) -> None:
        state = self._risk_engine.trading_state
        bad = self._unhealthy()
        if bad:
            if not self._engaged and state == TradingState.ACTIVE:
                self._transition(TradingState.REDUCING, "unhealthy feed: " + ", ".join(bad))
                self._engaged = True
            return
        if not self._engaged:
            return
        if state != TradingState.REDUCING:
            # Someone else changed the state meanwhile (e.g. HALTED): theirs now.
            self._engaged = False
            self._emit(f"health gate released without change: trading state is {state.name}")
            return
        healthy_since = max(
            (self._health[stream].since_ns for stream in self._required), default=now_ns
        )
        if now_ns - healthy_since >= self._recovery_ns:
            self._transition(
                TradingState.ACTIVE,
                f"all needed streams OK for {(now_ns - healthy_since) / 1e9:.3f} s",
            )
            self._engaged = False

    def _transition(self, state: TradingState, reason: str) -> None:
        message = f"health gate: trading state -> {state.name}: {reason}"
        if state == TradingState.ACTIVE:
            self._log.info(message)
        else:
            self._log.warning(message)
        if self._publish is not None:
            self._publish(message)
        self._risk_engine.set_trading_state(state)

    def _emit(self, message: str) -> None:
        self._log.info(message)
        if self._publish is not None:
            self._publish(message)
