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
  published, so publishing them would be out of order) instead of raising a GAP. That first
  frame after a subscribe (the venue's snapshot of recent prints, sent newest first) is put back
  in time order (reversed) before it is checked, so the first subscription publishes it oldest
  first, with no false GAP.
* A frame that arrives in order on a stream that is STALE, GAP or RECONNECTING brings it back to
  OK: every l2Book push is a full snapshot, so one good frame restores a true picture. The gate's
  recovery time provides the hysteresis.
* A stream starts STALE ("no data yet") when registered: fail closed until data proves otherwise.
* A skipped trades message cannot be seen on the trades stream alone (tids are hashes), so
  ``TradeCountCheck`` compares the venue's own count: every 1m candle carries ``n``, the number
  of prints in that minute, the same prints the trades channel sends (the simulator counts one
  per maker/taker match, exactly what it publishes). Once a minute's candle is final (a candle of
  a later minute arrived) and ``n`` exceeds the distinct tids received in that minute, the trades
  stream is a GAP (``StreamMonitor.report_gap``). Only minutes whose every print was delivered
  live are compared: after a (re)subscription or reconnect, counting starts once a trades frame
  has arrived (the trades subscription is live) and a candle has arrived after it; that candle's
  minute may hold prints from before the subscription and is skipped, later minutes count. A
  lost candle push can only hide a gap (a lower ``n``), never invent one. This assumes the venue
  sends a minute's prints before the candle of a later minute, as it publishes block by block.
"""

from __future__ import annotations

import time
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
    "NO_DATA_YET",
    "HealthGate",
    "StreamMonitor",
    "TimedTrade",
    "TradeCountCheck",
    "TradingStateTarget",
    "stream_key",
    "stream_kind",
]

_OK: Final[str] = FeedHealthStatus.OK.value
_STALE: Final[str] = FeedHealthStatus.STALE.value
_GAP: Final[str] = FeedHealthStatus.GAP.value
_RECONNECTING: Final[str] = FeedHealthStatus.RECONNECTING.value
# Remembered (time, tid) keys per trades stream, for duplicate detection across reconnects.
_TRADE_MEMORY: Final[int] = 4_096
_MINUTE_MS: Final[int] = 60_000


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


NO_DATA_YET: Final[str] = "subscribed, no data yet"
"""The reason of a stream's first STALE: the fail-closed start, expected until its first frame."""


@dataclass(slots=True)
class _StreamState:
    status: str
    stale_after_ns: int
    last_recv_ns: int
    last_venue_ms: int = -1
    resync: bool = False
    received: bool = False  # any frame since registration
    wait_reported: bool = False  # the "no data N s after subscribing" warning went out
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

    def last_received_ns(self) -> dict[str, int]:
        """Local receive time of each registered stream's latest frame (its registration time
        before the first), for staleness gauges."""
        return {key: state.last_recv_ns for key, state in self._streams.items()}

    def register(self, stream: str, now_ns: int) -> FeedHealth | None:
        """Start watching a stream; it is STALE ("no data yet") until its first frame."""
        if stream in self._streams:
            return None
        threshold = self._stale_after_ns.get(stream_kind(stream), 0)
        # The first frame of a subscription may be a snapshot of older data: a resync.
        self._streams[stream] = _StreamState(_STALE, threshold, now_ns, resync=True)
        return _health(stream, _STALE, NO_DATA_YET, now_ns)

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
        state.received = True
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
        state.received = True
        if state.resync and len(trades) > 1 and trades[0].time > trades[-1].time:
            trades = trades[::-1]  # a snapshot of recent prints, newest first: venue order back
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

    def report_gap(self, stream: str, reason: str, now_ns: int) -> FeedHealth | None:
        """A gap found by a check outside this monitor (``TradeCountCheck``): the stream is GAP
        until its next in-order frame."""
        state = self._streams.get(stream)
        if state is None:
            return None
        return self._set(stream, state, _GAP, reason, now_ns)

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
        """Timer tick: streams silent for longer than their threshold become STALE; a stream
        that has sent nothing a threshold after it was subscribed is reported again (still
        STALE, a new reason), once: waiting for the first data at start-up is normal, still
        waiting after that is not."""
        changes: list[FeedHealth] = []
        for stream, state in self._streams.items():
            threshold = state.stale_after_ns
            if threshold <= 0 or state.status == _RECONNECTING:
                continue
            if state.status == _STALE:
                waited_ns = now_ns - state.last_recv_ns  # since (re)subscribing: no frame yet
                if not state.received and not state.wait_reported and waited_ns > threshold:
                    state.wait_reported = True
                    reason = (
                        f"no data {waited_ns / 1e9:.3f} s after subscribing "
                        f"(threshold {threshold / 1e9:g} s)"
                    )
                    changes.append(_health(stream, _STALE, reason, now_ns))
                continue
            silent_ns = now_ns - state.last_recv_ns
            if silent_ns > threshold:
                reason = f"no data for {silent_ns / 1e9:.3f} s (threshold {threshold / 1e9:g} s)"
                change = self._set(stream, state, _STALE, reason, now_ns)
                if change is not None:
                    changes.append(change)
        return changes


class _TradeCount:
    """Per coin: what is known about the live streams and the tids received per minute."""

    __slots__ = ("first_t", "last_n", "last_t", "tids", "trades_live")

    def __init__(self) -> None:
        self.trades_live = False
        self.first_t: int | None = None
        self.last_t = -1
        self.last_n = 0
        self.tids: dict[int, set[int]] = {}


class TradeCountCheck:
    """Detects skipped trades messages from the 1m candles' trade counts (module notes).

    Pure and clock-free like ``StreamMonitor``: fed the trades and 1m candle frames of the coins
    it watches (``reset`` starts watching, and must be called again whenever either
    subscription is made anew or the connection changes); returns a reason when a gap is found.
    """

    def __init__(self) -> None:
        self._coins: dict[str, _TradeCount] = {}
        self.minutes_checked = 0
        self.gaps_found = 0

    def reset(self, coin: str) -> None:
        """Start (over) for a coin: nothing received so far is known to be complete."""
        self._coins[coin] = _TradeCount()

    def reset_all(self) -> None:
        """Start over for every watched coin (a new connection)."""
        for coin in self._coins:
            self._coins[coin] = _TradeCount()

    def discard(self, coin: str) -> None:
        """Stop watching a coin."""
        self._coins.pop(coin, None)

    def on_trades(self, coin: str, trades: Sequence[TimedTrade]) -> None:
        """Count the prints of a trades frame by minute (duplicates count once)."""
        state = self._coins.get(coin)
        if state is None:
            return
        state.trades_live = True
        first = state.first_t
        if first is None:
            return  # these prints belong to the first candle's minute or earlier: not compared
        tids = state.tids
        for trade in trades:
            minute = trade.time - trade.time % _MINUTE_MS
            if minute > first:
                bucket = tids.get(minute)
                if bucket is None:
                    tids[minute] = bucket = set()
                bucket.add(trade.tid)

    def on_candle(self, coin: str, open_ms: int, count: int) -> str | None:
        """A 1m candle push (open time ``t``, trade count ``n``); a reason if a gap was found."""
        state = self._coins.get(coin)
        if state is None or not state.trades_live:
            return None
        if state.first_t is None:
            state.first_t = state.last_t = open_ms
            state.last_n = count
            return None
        last = state.last_t
        if open_ms <= last:
            if open_ms == last:
                state.last_n = count
            return None
        reason = None
        received = len(state.tids.pop(last, ()))
        if last > state.first_t:
            self.minutes_checked += 1
            if state.last_n > received:
                self.gaps_found += 1
                minute = time.strftime("%Y-%m-%d %H:%M", time.gmtime(last // 1000))
                reason = (
                    f"trades: venue counted {state.last_n} in {minute} UTC, received {received}"
                )
        state.last_t = open_ms
        state.last_n = count
        for old in [m for m in state.tids if m < open_ms]:
            del state.tids[old]
        return reason


class TradingStateTarget(Protocol):
    """What the gate needs from NautilusTrader's ``RiskEngine``."""

    @property
    def trading_state(self) -> TradingState: ...

    def set_trading_state(self, state: TradingState) -> None: ...


class HealthGate:
    """Keeps the RiskEngine in REDUCING while any needed stream is unhealthy, or while any named
    condition holds (the execution client's: dead-man switch not armed, account view stale).

    Conditions are here rather than in a second gate so that one owner decides: two gates on one
    engine would each see the other's REDUCING and could release it while their own cause holds.
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
        self._conditions: dict[str, str] = {}
        self._cleared_ns = 0  # when the last condition was lifted (recovery counts from here)
        self._engaged = False

    @property
    def engaged(self) -> bool:
        """Whether the gate is currently holding the engine in REDUCING."""
        return self._engaged

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

    @property
    def conditions(self) -> dict[str, str]:
        """The named conditions holding now (name -> reason)."""
        return dict(self._conditions)

    def set_condition(self, name: str, reason: str | None, now_ns: int) -> None:
        """Hold (``reason`` given) or lift (``None``) a named no-new-risk condition."""
        if reason is None:
            if self._conditions.pop(name, None) is not None:
                self._cleared_ns = now_ns
                self._emit(f"health gate: {name} cleared")
        else:
            self._conditions[name] = reason
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
        streams = self._unhealthy()
        held = [f"{name} ({reason})" for name, reason in sorted(self._conditions.items())]
        if streams or held:
            if not self._engaged and state == TradingState.ACTIVE:
                reasons = (["unhealthy feed: " + ", ".join(streams)] if streams else []) + held
                # Only streams waiting for their first frame: the expected start (INFO); a
                # stream still waiting a threshold later is reported by the monitor.
                starting = not held and all(s.endswith(f"({NO_DATA_YET})") for s in streams)
                self._transition(TradingState.REDUCING, "; ".join(reasons), quietly=starting)
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
            (self._health[stream].since_ns for stream in self._required),
            default=self._cleared_ns,
        )
        healthy_since = max(healthy_since, self._cleared_ns)
        if now_ns - healthy_since >= self._recovery_ns:
            self._transition(
                TradingState.ACTIVE,
                f"all needed streams and conditions OK for {(now_ns - healthy_since) / 1e9:.3f} s",
            )
            self._engaged = False

    def _transition(self, state: TradingState, reason: str, quietly: bool = False) -> None:
        message = f"health gate: trading state -> {state.name}: {reason}"
        if state == TradingState.ACTIVE or quietly:
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
