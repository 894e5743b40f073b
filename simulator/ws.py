"""WebSocket subscriptions and feeds of the simulator, shaped exactly like the venue's.

Three parts:

* `parse_subscription` validates a client subscription, fills the venue's defaults (the ack echoes
  them, e.g. userFills gets `aggregateByTime:false`) and names its stream with a key.
* `WsConnection` / `WsHub`: one outgoing queue and writer task per socket, and an index from
  stream key to subscribed sockets, so every frame is encoded once and queued to each subscriber.
* `FeedPublisher` turns engine events (trades, order updates, fills, funding, liquidations,
  cancels, notifications) into channel messages immediately, and pushes the periodic channels
  (l2Book on change at most every 0.5 s, bbo on change, allMids, activeAssetCtx about every 1 s,
  candle on trades) from the server's market step. Stream faults (stall, skip, reorder, delay)
  are applied at publication, so every client sees the same fault.

Everything runs on the server's event loop thread; publication order is the order of engine
events and market steps, which makes stepped runs byte-reproducible.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

import msgspec

from adapters.hyperliquid.constants import CANDLE_INTERVAL_MS
from adapters.hyperliquid.numbers import is_valid_address
from simulator.events import BookChanged
from simulator.events import NonUserCancel
from simulator.events import Notification
from simulator.events import OrderUpdate
from simulator.events import SimEvent
from simulator.events import TradePrint
from simulator.events import UserFill
from simulator.events import UserFunding
from simulator.events import UserLiquidation
from simulator.faults import FaultState
from simulator.info import spot_ctx
from simulator.latency import LatencyModel
from simulator.state_feeds import LEDGER_CHANNEL
from simulator.state_feeds import STATE_CHANNELS
from simulator.state_feeds import StateFeeds

if TYPE_CHECKING:
    from aiohttp import web

    from simulator.engine import SimEngine

"""Venue candle intervals (1M approximated by 30 days for the push window only)."""

COIN_CHANNELS = ("l2Book", "trades", "bbo", "candle", "activeAssetCtx")
USER_CHANNELS = ("orderUpdates", "userEvents", "userFills", "userFundings", "notification")
DEX_CHANNELS = ("clearinghouseState", "openOrders")  # take `dex`; only "" (the first dex) here
STATE_PUSH_INTERVAL_MS = 1000
L2_PUSH_INTERVAL_MS = 500
CTX_PUSH_INTERVAL_MS = 1000

_encode = msgspec.json.Encoder().encode


def encode_frame(channel: str, data: Any) -> str:
    """Compact JSON text of one venue frame `{"channel":..., "data":...}`."""
    return _encode({"channel": channel, "data": data}).decode()


def compact_json(obj: Any) -> str:
    """Compact JSON text (no spaces), as the venue writes it."""
    return _encode(obj).decode()


def text_frame_header(length: int) -> bytes:
    """The header of an unmasked, unfragmented, uncompressed WebSocket text frame (RFC 6455
    5.2) of `length` payload bytes: what a server sends (the simulator never compresses)."""
    if length < 126:
        return bytes((0x81, length))
    if length < 1 << 16:
        return bytes((0x81, 126)) + length.to_bytes(2, "big")
    return bytes((0x81, 127)) + length.to_bytes(8, "big")


class RawFrames:
    """Ready-made WebSocket frames queued as one item (`WsConnection.write_frames`)."""

    __slots__ = ("count", "data")

    def __init__(self, data: bytes, count: int) -> None:
        self.data = data
        self.count = count


class SubscriptionError(ValueError):
    """A subscription the venue rejects with an `error` channel message."""


class UnknownCoinError(SubscriptionError):
    """Subscribing to a coin the venue does not list; the venue drops the socket for it."""


@dataclass(frozen=True)
class Sub:
    """One validated subscription: its stream key, parameters and the echo for the ack."""

    key: str
    type: str
    echo: dict[str, Any]
    coin: str | None = None
    user: str | None = None
    interval: str | None = None
    n_sig_figs: int | None = None
    mantissa: int | None = None
    fast: bool = False
    aggregate: bool = False


def parse_subscription(raw: Any, coins: Iterable[str]) -> Sub:
    """Validate a client subscription object and name its stream.

    Raises SubscriptionError (answered on the `error` channel) or UnknownCoinError.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise SubscriptionError(f"Invalid subscription {compact_json(raw)}")
    kind = raw["type"]
    echo = dict(raw)
    if kind == "allMids":
        return Sub(key="allMids", type=kind, echo=echo)
    if kind in COIN_CHANNELS:
        coin = raw.get("coin")
        if not isinstance(coin, str):
            raise SubscriptionError(f"Invalid subscription {compact_json(raw)}")
        if coin not in coins:
            raise UnknownCoinError(f"Unknown coin {coin}")
        if kind == "l2Book":
            return _parse_l2(raw, coin, echo)
        if kind == "candle":
            interval = raw.get("interval")
            if interval not in CANDLE_INTERVAL_MS:
                raise SubscriptionError(f"Invalid subscription {compact_json(raw)}")
            return Sub(f"candle|{coin}|{interval}", kind, echo, coin=coin, interval=interval)
        return Sub(f"{kind}|{coin}", kind, echo, coin=coin)
    if kind == "activeAssetData":
        user = raw.get("user")
        coin = raw.get("coin")
        spot = isinstance(coin, str) and ("/" in coin or coin.startswith("@"))
        if not is_valid_address(user) or not isinstance(coin, str) or spot:  # perps only
            raise SubscriptionError(f"Invalid subscription {compact_json(raw)}")
        if coin not in coins:
            raise UnknownCoinError(f"Unknown coin {coin}")
        user = str(user).lower()
        return Sub(f"activeAssetData|{user}|{coin}", kind, echo, coin=coin, user=user)
    if kind in STATE_CHANNELS or kind == LEDGER_CHANNEL:
        user = raw.get("user")
        if not is_valid_address(user) or (kind in DEX_CHANNELS and raw.get("dex", "") != ""):
            raise SubscriptionError(f"Invalid subscription {compact_json(raw)}")
        user = str(user).lower()
        return Sub(f"{kind}|{user}", kind, echo, user=user)
    if kind in USER_CHANNELS:
        user = raw.get("user")
        if not is_valid_address(user):
            raise SubscriptionError(f"Invalid subscription {compact_json(raw)}")
        user = str(user).lower()
        if kind == "userFills":
            aggregate = bool(raw.get("aggregateByTime", False))
            echo.setdefault("aggregateByTime", False)
            return Sub(f"userFills|{user}|{aggregate}", kind, echo, user=user, aggregate=aggregate)
        return Sub(f"{kind}|{user}", kind, echo, user=user)
    raise SubscriptionError(f"Invalid subscription {compact_json(raw)}")


def _parse_l2(raw: dict[str, Any], coin: str, echo: dict[str, Any]) -> Sub:
    n_sig = raw.get("nSigFigs")
    mantissa = raw.get("mantissa")
    fast = bool(raw.get("fast", False))
    if n_sig is not None and n_sig not in (2, 3, 4, 5):
        raise SubscriptionError(f"Invalid subscription {compact_json(raw)}")
    if mantissa is not None and (n_sig != 5 or mantissa not in (1, 2, 5)):
        raise SubscriptionError(f"Invalid subscription {compact_json(raw)}")
    key = f"l2Book|{coin}|{n_sig}|{mantissa}|{fast}"
    return Sub(key, "l2Book", echo, coin=coin, n_sig_figs=n_sig, mantissa=mantissa, fast=fast)


class WsConnection:
    """One client socket: its subscriptions and an ordered outgoing queue drained by a writer.

    Queuing instead of awaiting each send keeps publication synchronous (and ordered) on the
    loop thread; `ws_delay_ms` and the frame's latency are applied from the moment it was
    queued, never letting a frame overtake the one ahead of it.
    """

    def __init__(
        self,
        conn_id: int,
        ws: web.WebSocketResponse,
        transport: asyncio.BaseTransport | None,
        faults: FaultState,
        latency: LatencyModel | None = None,
    ) -> None:
        self.conn_id = conn_id
        self.ws = ws
        self.transport = transport
        self.faults = faults
        self.subs: dict[str, Sub] = {}
        self.last_rx = time.monotonic()
        self.frames_sent = 0
        self.latency = latency if latency is not None else LatencyModel()
        self._queue: deque[tuple[float, float, str | RawFrames]] = deque()
        self._queued_frames = 0
        self._wake = asyncio.Event()
        self._closed = False

    def touch(self) -> None:
        """Note client activity (the idle timeout counts from the last client message)."""
        self.last_rx = time.monotonic()

    def send(self, text: str, channel: str = "", delay_s: float | None = None) -> None:
        """Queue one text frame (no-op once the socket is gone), delayed by `delay_s` or else by
        the latency of `channel`'s stream (market data when not named)."""
        if self._closed:
            return
        if delay_s is None:
            delay_s = self.latency.frame_s(channel) if self.latency.enabled else 0.0
        self._queue.append((time.monotonic(), delay_s, text))
        self._queued_frames += 1
        self._wake.set()

    async def run_writer(self) -> None:
        """Send queued frames in order until the socket closes."""
        queue = self._queue
        ws = self.ws
        while not self._closed:
            await self._wake.wait()
            self._wake.clear()
            while queue and not self._closed:
                queued_at, delay_s, text = queue.popleft()
                delay_s += self.faults.ws_delay_ms / 1000.0
                if delay_s:
                    wait = queued_at + delay_s - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                if isinstance(text, RawFrames):
                    self._queued_frames -= text.count
                    transport = self.transport
                    if transport is None or transport.is_closing():
                        self._closed = True
                        return
                    transport.write(text.data)  # type: ignore[attr-defined]
                    self.frames_sent += text.count
                    continue
                self._queued_frames -= 1
                try:
                    await ws.send_str(text)
                except (ConnectionError, RuntimeError):
                    self._closed = True
                    return
                self.frames_sent += 1

    def write_frames(self, frames: bytes, count: int) -> bool:
        """Send `count` ready-made WebSocket text frames (`frames`, headers included, see
        `text_frame_header`) in one transport write.

        Written at once when nothing is queued ahead and no `ws_delay_ms` applies; otherwise
        queued as one item behind the frames ahead of it (no frame overtakes another), which
        the writer writes the same way. Returns False, sending nothing, when the socket is gone
        or the latency model is on (per-frame delays: the caller uses `send`). The transport
        buffers what the kernel does not take yet: watch `buffered_bytes` for backpressure.
        """
        transport = self.transport
        if self._closed or transport is None or transport.is_closing() or self.latency.enabled:
            return False
        if self._queue or self.faults.ws_delay_ms:
            self._queue.append((time.monotonic(), 0.0, RawFrames(frames, count)))
            self._queued_frames += count
            self._wake.set()
            return True
        transport.write(frames)  # type: ignore[attr-defined]
        self.frames_sent += count
        return True

    @property
    def buffered_bytes(self) -> int:
        """Bytes written to the socket's transport that the kernel has not taken yet."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return 0
        return int(transport.get_write_buffer_size())  # type: ignore[attr-defined]

    def abort(self) -> None:
        """Drop the socket without a close frame, as a venue restart or network cut would."""
        self._closed = True
        self._wake.set()
        if self.transport is not None:
            self.transport.abort()  # type: ignore[attr-defined]

    async def close(self) -> None:
        """Close the socket with a close frame."""
        self._closed = True
        self._wake.set()
        with contextlib.suppress(Exception):
            await self.ws.close()

    @property
    def backlog(self) -> int:
        """Frames queued but not yet written."""
        return self._queued_frames

    @property
    def closed(self) -> bool:
        """Whether this connection no longer sends."""
        return self._closed


class WsHub:
    """All live sockets and the index from stream key to the sockets subscribed to it."""

    def __init__(self, faults: FaultState, latency: LatencyModel | None = None) -> None:
        self.faults = faults
        self.latency = latency if latency is not None else LatencyModel()
        self.connections: dict[int, WsConnection] = {}
        self.subscribers: dict[str, dict[WsConnection, None]] = {}
        self.subs_by_key: dict[str, Sub] = {}
        self._next_id = 1
        self._held: dict[tuple[str, str | None], list[str]] = {}

    def add(
        self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None
    ) -> WsConnection:
        """Register a new socket."""
        conn = WsConnection(self._next_id, ws, transport, self.faults, self.latency)
        self._next_id += 1
        self.connections[conn.conn_id] = conn
        return conn

    def remove(self, conn: WsConnection) -> None:
        """Forget a closed socket and all its subscriptions."""
        self.connections.pop(conn.conn_id, None)
        for key in list(conn.subs):
            self._unindex(conn, key)
        conn.subs.clear()

    def subscribe(self, conn: WsConnection, sub: Sub) -> None:
        """Add `sub` to `conn` (idempotent)."""
        conn.subs[sub.key] = sub
        self.subscribers.setdefault(sub.key, {})[conn] = None
        self.subs_by_key.setdefault(sub.key, sub)

    def unsubscribe(self, conn: WsConnection, sub: Sub) -> bool:
        """Remove `sub` from `conn`; False if it was not subscribed."""
        if sub.key not in conn.subs:
            return False
        del conn.subs[sub.key]
        self._unindex(conn, sub.key)
        return True

    def _unindex(self, conn: WsConnection, key: str) -> None:
        conns = self.subscribers.get(key)
        if conns is None:
            return
        conns.pop(conn, None)
        if not conns:
            del self.subscribers[key]
            self.subs_by_key.pop(key, None)

    def has(self, key: str) -> bool:
        """Whether anyone listens to stream `key` (so feeds skip building unused payloads)."""
        return key in self.subscribers

    @property
    def has_held_frames(self) -> bool:
        """Whether a reorder fault holds frames back (they go out after the stream's next)."""
        return bool(self._held)

    def keys_of_type(self, prefix: str) -> list[Sub]:
        """Subscribed streams whose key starts with `prefix` (e.g. "l2Book|BTC|")."""
        return [sub for key, sub in self.subs_by_key.items() if key.startswith(prefix)]

    def publish(self, key: str, channel: str, coin: str | None, data: Any) -> None:
        """Encode one data frame and queue it to every subscriber, applying stream faults."""
        conns = self.subscribers.get(key)
        if not conns:
            return
        text = encode_frame(channel, data)
        faults = self.faults
        if faults.any_stream_fault or self._held:
            if faults.is_stalled(channel, coin) or faults.take_skip(channel, coin):
                return
            stream = (channel, coin)
            if faults.take_reorder(channel, coin):
                self._held.setdefault(stream, []).append(text)
                return
            held = self._held.pop(stream, None)
            self._send(conns, text, channel)
            for late in held or ():
                self._send(conns, late, channel)
            return
        self._send(conns, text, channel)

    def _send(self, conns: dict[WsConnection, None], text: str, channel: str) -> None:
        if self.latency.enabled:
            for conn in conns:
                conn.send(text, delay_s=self.latency.frame_s(channel))
        else:
            for conn in conns:
                conn.send(text, delay_s=0.0)

    def drop_all(self) -> int:
        """Abort every socket (fault `drop-ws`); returns how many were dropped."""
        conns = list(self.connections.values())
        for conn in conns:
            conn.abort()
            self.remove(conn)
        return len(conns)

    async def close_idle(self, idle_timeout_s: float) -> int:
        """Close sockets that sent nothing for `idle_timeout_s`, as the venue does after 60 s."""
        now = time.monotonic()
        idle = [c for c in self.connections.values() if now - c.last_rx > idle_timeout_s]
        for conn in idle:
            self.remove(conn)
            await conn.close()
        return len(idle)


class FeedPublisher:
    """Builds venue channel messages from engine events and the engine's read models."""

    def __init__(
        self,
        engine: SimEngine,
        hub: WsHub,
        *,
        l2_interval_ms: int = L2_PUSH_INTERVAL_MS,
        ctx_interval_ms: int = CTX_PUSH_INTERVAL_MS,
    ) -> None:
        self.engine = engine
        self.hub = hub
        self.l2_interval_ms = l2_interval_ms
        self.ctx_interval_ms = ctx_interval_ms
        self._book_dirty: dict[str, None] = {}
        self._l2_last_push: dict[str, int] = {}
        self._last_bbo: dict[str, Any] = {}
        self._last_mids: dict[str, str] | None = None
        self._ctx_last_push_ms = -(10**15)
        self.states = StateFeeds(engine)
        self._state_last_push_ms = -(10**15)

    # --- snapshots on subscribe --------------------------------------------------------------

    def snapshot(self, conn: WsConnection, sub: Sub, now_ms: int) -> None:
        """Send what the venue sends right after the ack of a new subscription."""
        engine = self.engine
        kind = sub.type
        coin = sub.coin
        if (kind in STATE_CHANNELS or kind == LEDGER_CHANNEL) and sub.user is not None:
            data = self.states.snapshot(sub.key, kind, sub.user, coin, now_ms)
            conn.send(encode_frame(kind, data))
        elif kind == "l2Book" and coin is not None:
            conn.send(encode_frame("l2Book", self._l2_payload(sub)))
        elif kind == "bbo" and coin is not None:
            conn.send(encode_frame("bbo", engine.bbo(coin)))
        elif kind == "trades" and coin is not None:
            recent = engine.info({"type": "recentTrades", "coin": coin}, now_ms)
            if recent:
                conn.send(encode_frame("trades", recent))
        elif kind == "candle" and coin is not None and sub.interval is not None:
            candle = self._latest_candle(coin, sub.interval, now_ms)
            if candle is not None:
                conn.send(encode_frame("candle", candle))
        elif kind == "allMids":
            conn.send(encode_frame("allMids", {"mids": engine.all_mids()}))
        elif kind == "activeAssetCtx" and coin is not None:
            conn.send(encode_frame(*self._ctx_frame(coin)))
        elif kind == "userFills" and sub.user is not None:
            body: dict[str, Any] = {"type": "userFills", "user": sub.user}
            if sub.aggregate:
                body["aggregateByTime"] = True
            fills = engine.info(body, now_ms)
            data = {"isSnapshot": True, "user": sub.user, "fills": fills}
            conn.send(encode_frame("userFills", data))
        elif kind == "userFundings" and sub.user is not None:
            body = {"type": "userFunding", "user": sub.user, "startTime": 0}
            rows = engine.info(body, now_ms)
            fundings = [_funding_from_ledger(row) for row in rows]
            data = {"isSnapshot": True, "user": sub.user, "fundings": fundings}
            conn.send(encode_frame("userFundings", data))

    # --- event-driven pushes -----------------------------------------------------------------

    def on_events(self, events: list[SimEvent], now_ms: int) -> None:
        """Publish what a batch of engine events means for each channel, in event order."""
        if not events:
            return
        hub = self.hub
        trades: dict[str, list[dict[str, Any]]] = {}
        order_updates: dict[str, list[dict[str, Any]]] = {}
        fills: dict[str, list[dict[str, Any]]] = {}
        fundings: dict[str, list[dict[str, Any]]] = {}
        user_msgs: list[tuple[str, dict[str, Any]]] = []
        for event in events:
            if isinstance(event, BookChanged):
                self._book_dirty[event.coin] = None
            elif isinstance(event, TradePrint):
                trades.setdefault(event.coin, []).append(event.trade)
            elif isinstance(event, OrderUpdate):
                order_updates.setdefault(event.user, []).append(event.update)
            elif isinstance(event, UserFill):
                fills.setdefault(event.user, []).append(event.fill)
                _append_user_fill(user_msgs, event.user, event.fill)
            elif isinstance(event, UserFunding):
                fundings.setdefault(event.user, []).append(event.funding)
                user_msgs.append((event.user, {"funding": event.funding}))
            elif isinstance(event, UserLiquidation):
                user_msgs.append((event.user, {"liquidation": event.liquidation}))
            elif isinstance(event, NonUserCancel):
                user_msgs.append((event.user, {"nonUserCancel": event.cancels}))
            elif isinstance(event, Notification):
                key = f"notification|{event.user}"
                hub.publish(key, "notification", None, {"notification": event.text})
        for coin, prints in trades.items():
            hub.publish(f"trades|{coin}", "trades", coin, prints)
            self._push_candles(coin, now_ms)
        for user, updates in order_updates.items():
            hub.publish(f"orderUpdates|{user}", "orderUpdates", None, updates)
        for user, user_fills in fills.items():
            data = {"user": user, "fills": user_fills}
            hub.publish(f"userFills|{user}|False", "userFills", None, data)
            hub.publish(f"userFills|{user}|True", "userFills", None, data)
        for user, payload in user_msgs:
            hub.publish(f"userEvents|{user}", "user", None, payload)
        for user, rows in fundings.items():
            data = {"user": user, "fundings": rows}
            hub.publish(f"userFundings|{user}", "userFundings", None, data)
        if self._book_dirty:
            self._push_bbos()
        touched = {*order_updates, *fills, *fundings, *(user for user, _ in user_msgs)}
        if touched:
            self._push_states(now_ms, touched)

    # --- periodic pushes (called from the market step) ---------------------------------------

    def on_step(self, now_ms: int) -> None:
        """Push the periodic channels whose time has come."""
        hub = self.hub
        engine = self.engine
        if self._book_dirty:
            self._push_books(now_ms)
        if hub.has("allMids"):
            mids = engine.all_mids()
            if mids != self._last_mids:
                self._last_mids = mids
                hub.publish("allMids", "allMids", None, {"mids": mids})
        if now_ms - self._state_last_push_ms >= STATE_PUSH_INTERVAL_MS:
            self._state_last_push_ms = now_ms
            self._push_states(now_ms, None)
            self.states.retain(set(self.hub.subs_by_key))
        if now_ms - self._ctx_last_push_ms >= self.ctx_interval_ms:
            self._ctx_last_push_ms = now_ms
            for sub in self.hub.keys_of_type("activeAssetCtx|"):
                coin = sub.coin
                if coin is not None:
                    channel, data = self._ctx_frame(coin)
                    hub.publish(sub.key, channel, coin, data)

    def _ctx_frame(self, coin: str) -> tuple[str, dict[str, Any]]:
        """activeAssetCtx data; a spot pair's arrives on channel activeSpotAssetCtx."""
        spot = self.engine.spot_markets.get(coin)
        if spot is not None:
            return "activeSpotAssetCtx", {"coin": coin, "ctx": spot_ctx(spot)}
        return "activeAssetCtx", {"coin": coin, "ctx": self.engine.asset_ctx(coin)}

    def _push_states(self, now_ms: int, users: set[str] | None) -> None:
        """Push each per-user state stream (of `users`, or all) whose content changed."""
        for key, sub in list(self.hub.subs_by_key.items()):
            kind = sub.type
            if sub.user is None or (kind not in STATE_CHANNELS and kind != LEDGER_CHANNEL):
                continue
            if users is not None and sub.user not in users:
                continue
            data = self.states.changed(key, kind, sub.user, sub.coin, now_ms)
            if data is not None:
                self.hub.publish(key, kind, sub.coin, data)

    def _push_books(self, now_ms: int) -> None:
        pushed: list[str] = []
        for coin in self._book_dirty:
            last = self._l2_last_push.get(coin)
            if last is not None and now_ms - last < self.l2_interval_ms:
                continue
            pushed.append(coin)
            self._l2_last_push[coin] = now_ms
            for sub in self.hub.keys_of_type(f"l2Book|{coin}|"):
                self.hub.publish(sub.key, "l2Book", coin, self._l2_payload(sub))
        for coin in pushed:
            del self._book_dirty[coin]

    def _push_bbos(self) -> None:
        for coin in self._book_dirty:
            key = f"bbo|{coin}"
            if not self.hub.has(key):
                continue
            payload = self.engine.bbo(coin)
            top = payload.get("bbo")
            if top == self._last_bbo.get(coin):
                continue
            self._last_bbo[coin] = top
            self.hub.publish(key, "bbo", coin, payload)

    def _l2_payload(self, sub: Sub) -> dict[str, Any]:
        assert sub.coin is not None
        n_levels = 5 if sub.fast else 20
        book = self.engine.l2_book(sub.coin, sub.n_sig_figs, sub.mantissa, n_levels)
        if sub.fast:
            book = dict(book)
            book["fast"] = True
        return book

    def _push_candles(self, coin: str, now_ms: int) -> None:
        for sub in self.hub.keys_of_type(f"candle|{coin}|"):
            if sub.interval is None:
                continue
            candle = self._latest_candle(coin, sub.interval, now_ms)
            if candle is not None:
                self.hub.publish(sub.key, "candle", coin, candle)

    def _latest_candle(self, coin: str, interval: str, now_ms: int) -> dict[str, Any] | None:
        span = CANDLE_INTERVAL_MS[interval]
        candles = self.engine.candles(coin, interval, now_ms - span, now_ms)
        return candles[-1] if candles else None


def _append_user_fill(
    msgs: list[tuple[str, dict[str, Any]]], user: str, fill: dict[str, Any]
) -> None:
    """Consecutive fills of one user travel in one `user` message, as the venue batches them."""
    if msgs and msgs[-1][0] == user and "fills" in msgs[-1][1]:
        msgs[-1][1]["fills"].append(fill)
    else:
        msgs.append((user, {"fills": [fill]}))


def _funding_from_ledger(row: dict[str, Any]) -> dict[str, Any]:
    """A userFunding /info row `{time, hash, delta}` as the flat userFundings entry."""
    delta = row.get("delta", {})
    return {
        "time": row.get("time"),
        "coin": delta.get("coin"),
        "usdc": delta.get("usdc"),
        "szi": delta.get("szi"),
        "fundingRate": delta.get("fundingRate"),
        "nSamples": delta.get("nSamples"),
    }
