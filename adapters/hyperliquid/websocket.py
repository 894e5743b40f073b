"""WebSocket feed client: subscriptions that survive reconnects, sequenced raw frames, WS posts.

Why: the venue drops idle sockets after 60 s and may disconnect at any time; a feed that silently
stops looks alive to a strategy. This client keeps one socket up (ping well before the idle
timeout, reconnect with exponential backoff and jitter, resubscribe everything it tracks) and
makes every change visible through state callbacks (connected / disconnected(reason) /
reconnecting(attempt)) so the health layer can publish RECONNECTING and the data client can
rebuild books from the fresh snapshots that follow a resubscription.

Every received frame, whatever it is (data, acks, pongs, post answers, the plain-text greeting
``Websocket connection established.``), is handed to the handler BEFORE any decoding as
``handler(raw, seq, recv_ns, conn_id, stream_key)``:

* ``raw``: the frame's bytes exactly as received (text frames are not UTF-8 decoded);
* ``seq``: a local sequence number, strictly increasing by one per frame and never reset across
  reconnects (inject ``next_seq`` to share one counter between several sockets and REST);
* ``recv_ns``: wall-clock receive time in ns;
* ``conn_id``: identifies the connection; a new one on every connect;
* ``stream_key``: see `frame_stream_key` (``"l2Book:BTC"``, ``"trades:ETH"``, ``"candle:BTC:1m"``,
  ``"user"``, ``"pong"``, ``"greeting"``...), the same key `subscription_stream_key` gives for
  the subscription that produces the frame.

So the recorder records frames in order with no holes in the sequence, and replay sees exactly
what the live client saw. The handler runs on the receive path: it must not block.

Post requests (``post_info``, ``post_action``) travel over the same socket and are matched to
their answers by the echoed id. An action whose answer does not come back (timeout, socket lost)
raises `ExchangeTransportError`: its outcome is unknown, exactly as for REST.

Nothing runs at import: `start()` creates the one background task, `stop()` ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import random
import time
import uuid
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import Final

import msgspec
from nautilus_trader.common.component import Logger

from adapters.hyperliquid.http import ExchangeTransportError
from adapters.hyperliquid.http import HyperliquidError
from adapters.hyperliquid.http import HyperliquidHttpError
from adapters.hyperliquid.http import HyperliquidTransportError
from adapters.hyperliquid.http import action_type_of
from adapters.hyperliquid.http import info_type_of
from adapters.hyperliquid.rate_limit import jittered_backoff
from adapters.hyperliquid.schemas.exchange import ExchangeResponse
from adapters.hyperliquid.schemas.info import INFO_RESPONSE_DECODERS
from adapters.hyperliquid.schemas.ws import WS_JSON_ENCODER
from adapters.hyperliquid.schemas.ws import ActiveAssetCtxSubscription
from adapters.hyperliquid.schemas.ws import ActiveAssetDataSubscription
from adapters.hyperliquid.schemas.ws import AllMidsSubscription
from adapters.hyperliquid.schemas.ws import BboSubscription
from adapters.hyperliquid.schemas.ws import CandleSubscription
from adapters.hyperliquid.schemas.ws import ClearinghouseStateSubscription
from adapters.hyperliquid.schemas.ws import L2BookSubscription
from adapters.hyperliquid.schemas.ws import OpenOrdersSubscription
from adapters.hyperliquid.schemas.ws import PostActionResponse
from adapters.hyperliquid.schemas.ws import PostErrorResponse
from adapters.hyperliquid.schemas.ws import PostFrame
from adapters.hyperliquid.schemas.ws import PostInfoResponse
from adapters.hyperliquid.schemas.ws import SubscribeMessage
from adapters.hyperliquid.schemas.ws import Subscription
from adapters.hyperliquid.schemas.ws import TradesSubscription
from adapters.hyperliquid.schemas.ws import TwapStatesSubscription
from adapters.hyperliquid.schemas.ws import UnsubscribeMessage
from adapters.hyperliquid.schemas.ws import UserEventsSubscription
from adapters.hyperliquid.ws_connection import ConnectionLost
from adapters.hyperliquid.ws_connection import WsConnection
from adapters.hyperliquid.ws_connection import open_connection

__all__ = [
    "GREETING",
    "MAX_SUBSCRIPTIONS",
    "FrameHandler",
    "HyperliquidWebSocketClient",
    "WebSocketClientStats",
    "frame_stream_key",
    "subscription_stream_key",
]

FrameHandler = Callable[[bytes, int, int, str, str], None]
"""Receives (raw frame, seq, recv_ns, conn_id, stream_key) for every frame, before decoding."""

GREETING: Final[str] = "Websocket connection established."
"""The plain-text (not JSON) message the venue may send right after the handshake."""

MAX_SUBSCRIPTIONS: Final[int] = 1000
"""The venue's per-IP subscription cap (PROTOCOL.md §10)."""

_GREETING_BYTES: Final[bytes] = GREETING.encode()
_PING: Final[bytes] = b'{"method":"ping"}'
_MAX_FRAME_BYTES: Final[int] = 16 * 1024 * 1024
_CLOSE_TIMEOUT_SECS: Final[float] = 2.0
_HANDLER_ERRORS_LOGGED: Final[int] = 10
_HANDLER_ERROR_LOG_EVERY: Final[int] = 1000

# --------------------------------------------------------------------------------------------
# Stream keys
# --------------------------------------------------------------------------------------------

# Channels whose frames are qualified by the coin in `data.coin`.
_COIN_CHANNELS: Final[frozenset[str]] = frozenset(
    {"l2Book", "bbo", "trades", "activeAssetCtx", "activeSpotAssetCtx", "activeAssetData"}
)
# Channels qualified by `data.dex` when it names a builder dex (non-empty).
_DEX_CHANNELS: Final[frozenset[str]] = frozenset(
    {"allMids", "clearinghouseState", "openOrders", "twapStates"}
)


class _DataHead(msgspec.Struct):
    """The few `data` fields that name a stream; everything else is skipped, not decoded."""

    coin: str | None = None
    s: str | None = None
    i: str | None = None
    dex: str | None = None
    fast: bool = False


class _FrameHead(msgspec.Struct):
    channel: str
    data: _DataHead | list[_DataHead] | str | None = None


class _ChannelHead(msgspec.Struct):
    channel: str


class _PostId(msgspec.Struct):
    id: int


class _PostHead(msgspec.Struct):
    data: _PostId


_FRAME_HEAD_DECODER: Final = msgspec.json.Decoder(_FrameHead)
_CHANNEL_HEAD_DECODER: Final = msgspec.json.Decoder(_ChannelHead)
_POST_HEAD_DECODER: Final = msgspec.json.Decoder(_PostHead)
_POST_FRAME_DECODER: Final = msgspec.json.Decoder(PostFrame)


def frame_stream_key(raw: bytes | str) -> str:
    """The stream a raw frame belongs to, read from its `channel` and a few `data` fields.

    ``"<channel>:<coin>"`` for per-coin channels (``"l2Book:BTC"``, ``":fast"`` appended for fast
    books), ``"candle:<coin>:<interval>"``, ``"<channel>:<dex>"`` for builder-dex pushes, the bare
    channel otherwise (``"user"``, ``"orderUpdates"``, ``"pong"``, ``"post"``...); ``"greeting"``
    for the venue's plain-text greeting, ``"text"`` for any other non-JSON frame and
    ``"unknown"`` for JSON without a `channel`.
    """
    try:
        head = _FRAME_HEAD_DECODER.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return _fallback_key(raw)
    channel = head.channel
    data = head.data
    if isinstance(data, list):
        data = data[0] if data else None
    if not isinstance(data, _DataHead):
        return channel
    if channel in _COIN_CHANNELS:
        if data.coin is None:
            return channel
        return f"{channel}:{data.coin}:fast" if data.fast else f"{channel}:{data.coin}"
    if channel == "candle":
        return channel if data.s is None else f"candle:{data.s}:{data.i}"
    if channel in _DEX_CHANNELS and data.dex:
        return f"{channel}:{data.dex}"
    return channel


def _fallback_key(raw: bytes | str) -> str:
    try:
        return _CHANNEL_HEAD_DECODER.decode(raw).channel
    except msgspec.ValidationError:
        return "unknown"  # JSON, but not a venue frame
    except msgspec.DecodeError:
        pass
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    return "greeting" if text.strip() == GREETING else "text"


def _is_spot_coin(coin: str) -> bool:
    # Spot pairs are "@<index>" or the canonical "BASE/QUOTE" (PROTOCOL.md §2).
    return coin.startswith("@") or "/" in coin


def subscription_stream_key(subscription: Subscription) -> str:
    """The stream key that the frames produced by `subscription` carry (see `frame_stream_key`).

    Aggregated books (`nSigFigs`) share the key of the plain book of the same coin: the venue's
    frames do not tell them apart.
    """
    if isinstance(subscription, L2BookSubscription):
        fast = subscription.fast is True
        return f"l2Book:{subscription.coin}:fast" if fast else f"l2Book:{subscription.coin}"
    if isinstance(subscription, (BboSubscription, TradesSubscription)):
        return f"{_tag(subscription)}:{subscription.coin}"
    if isinstance(subscription, CandleSubscription):
        return f"candle:{subscription.coin}:{subscription.interval}"
    if isinstance(subscription, ActiveAssetCtxSubscription):
        coin = subscription.coin
        return f"activeSpotAssetCtx:{coin}" if _is_spot_coin(coin) else f"activeAssetCtx:{coin}"
    if isinstance(subscription, ActiveAssetDataSubscription):
        return f"activeAssetData:{subscription.coin}"
    if isinstance(subscription, UserEventsSubscription):
        return "user"
    if isinstance(
        subscription,
        (
            AllMidsSubscription,
            ClearinghouseStateSubscription,
            OpenOrdersSubscription,
            TwapStatesSubscription,
        ),
    ):
        dex = subscription.dex
        return f"{_tag(subscription)}:{dex}" if isinstance(dex, str) and dex else _tag(subscription)
    return _tag(subscription)


def _tag(struct: msgspec.Struct) -> str:
    return str(type(struct).__struct_config__.tag)


_SUBSCRIPTION_CONVERT_TYPE: Final[Any] = Subscription


def as_subscription(subscription: Subscription | Mapping[str, Any]) -> Subscription:
    """A Subscription Struct from a Struct or a venue-shaped dict (bad dicts fail loudly)."""
    if isinstance(subscription, Mapping):
        result: Subscription = msgspec.convert(dict(subscription), _SUBSCRIPTION_CONVERT_TYPE)
        return result
    return subscription


# --------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------


class WebSocketClientStats(msgspec.Struct, frozen=True):
    """Counters of a client, for logs and health.

    Parameters
    ----------
    frames_received : int
        Frames handed to the handler.
    connects : int
        Successful connections (the first one included).
    failed_connects : int
        Connection attempts that failed.
    pings_sent : int
        Heartbeats sent.
    handler_errors : int
        Exceptions raised by the handler (logged, the feed carries on).
    last_seq : int
        Sequence number of the latest frame (0 before any).
    """

    frames_received: int
    connects: int
    failed_connects: int
    pings_sent: int
    handler_errors: int
    last_seq: int


class _Pending:
    __slots__ = ("future", "is_action", "request")

    def __init__(self, future: asyncio.Future[Any], request: str, is_action: bool) -> None:
        self.future = future
        self.request = request
        self.is_action = is_action


class HyperliquidWebSocketClient:
    """One venue WebSocket with tracked subscriptions, heartbeat, reconnects and posts.

    Parameters
    ----------
    ws_url : str
        ``wss://api.hyperliquid.xyz/ws``, testnet, or the simulator's ``ws://127.0.0.1:N/ws``.
    handler : FrameHandler
        Receives every frame before decoding (module notes). Must not block.
    ping_interval_secs : float
        Heartbeat period; well below the venue's 60 s idle timeout.
    pong_timeout_secs : float
        A connection that delivered nothing for ``ping_interval_secs + pong_timeout_secs``
        (not even a pong) is considered dead and dropped (then reconnected).
    reconnect_initial_backoff_secs : float
        Delay before the first reconnect attempt; doubled per failed attempt.
    reconnect_max_backoff_secs : float
        Cap of the reconnect delay. Each delay is jittered to 50-100 % of its value.
    reconnect_stable_secs : float
        A connection that lived this long resets the backoff to its initial value.
    max_reconnect_attempts : int | None
        Give up after this many consecutive failed attempts (``None``: never give up).
    connect_timeout_secs : float
        Time allowed for the TCP + WebSocket handshake.
    post_timeout_secs : float
        Default time allowed for a post request to be answered.
    max_in_flight_posts : int
        Posts awaiting an answer at once (the venue allows 100).
    on_connected : Callable[[str], None], optional
        Called with the new connection id once connected and resubscribed, before its frames.
    on_disconnected : Callable[[str], None], optional
        Called with the reason when a connection ends.
    on_reconnecting : Callable[[int], None], optional
        Called with the attempt number (1, 2, ...) before each reconnect delay.
    next_seq : Callable[[], int], optional
        Source of sequence numbers (default: this client's own counter from 1).
    clock_ns : Callable[[], int]
        Wall clock (ns) for receive timestamps.
    rng : random.Random, optional
        Source of the backoff jitter.
    proxy : str | None
        Proxy URL; ``None`` connects directly (environment proxies are ignored).
    name : str
        Prefix of connection ids.
    logger : Logger, optional
        NautilusTrader logger for this transport's lines (default: one named
        ``HyperliquidWebSocket-<name>``), so they reach the node's log with a component name.
    """

    def __init__(
        self,
        ws_url: str,
        handler: FrameHandler,
        *,
        ping_interval_secs: float = 20.0,
        pong_timeout_secs: float = 10.0,
        reconnect_initial_backoff_secs: float = 0.5,
        reconnect_max_backoff_secs: float = 30.0,
        reconnect_stable_secs: float = 10.0,
        max_reconnect_attempts: int | None = None,
        connect_timeout_secs: float = 10.0,
        post_timeout_secs: float = 10.0,
        max_in_flight_posts: int = 100,
        on_connected: Callable[[str], None] | None = None,
        on_disconnected: Callable[[str], None] | None = None,
        on_reconnecting: Callable[[int], None] | None = None,
        next_seq: Callable[[], int] | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        rng: random.Random | None = None,
        proxy: str | None = None,
        name: str = "hl-ws",
        logger: Logger | None = None,
    ) -> None:
        if not ws_url.startswith(("ws://", "wss://")):
            raise ValueError(f"ws_url must start with ws:// or wss://, was {ws_url!r}")
        if not 0 < ping_interval_secs < 60:
            raise ValueError("ping_interval_secs must be in (0, 60): the venue drops idle sockets")
        if pong_timeout_secs <= 0 or connect_timeout_secs <= 0 or post_timeout_secs <= 0:
            raise ValueError("timeouts must be > 0")
        if (
            reconnect_initial_backoff_secs <= 0
            or reconnect_max_backoff_secs < reconnect_initial_backoff_secs
        ):
            raise ValueError(
                "need 0 < reconnect_initial_backoff_secs <= reconnect_max_backoff_secs"
            )
        if max_reconnect_attempts is not None and max_reconnect_attempts < 1:
            raise ValueError("max_reconnect_attempts must be >= 1 or None")
        if max_in_flight_posts < 1:
            raise ValueError("max_in_flight_posts must be >= 1")
        self._url = ws_url
        self._handler = handler
        self._ping_interval = ping_interval_secs
        self._pong_timeout = pong_timeout_secs
        self._backoff_initial = reconnect_initial_backoff_secs
        self._backoff_max = reconnect_max_backoff_secs
        self._stable_secs = reconnect_stable_secs
        self._max_attempts = max_reconnect_attempts
        self._connect_timeout = connect_timeout_secs
        self._post_timeout = post_timeout_secs
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._on_reconnecting = on_reconnecting
        self._next_seq = next_seq if next_seq is not None else itertools.count(1).__next__
        self._clock_ns = clock_ns
        self._rng = rng or random.Random()
        self._proxy = proxy
        self._name = name
        self._log = logger if logger is not None else Logger(f"HyperliquidWebSocket-{name}")
        self._subs: dict[bytes, Subscription] = {}
        self._ws: WsConnection | None = None
        self._conn_id: str | None = None
        self._connected: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._gave_up = False
        self._close_reason: str | None = None
        self._last_recv = 0.0
        self._pending: dict[int, _Pending] = {}
        self._post_ids = itertools.count(1)
        self._post_slots = asyncio.Semaphore(max_in_flight_posts)
        self._conn_count = 0
        self._frames = 0
        self._failed_connects = 0
        self._pings = 0
        self._handler_errors = 0
        self._last_seq = 0

    def bind(
        self,
        handler: FrameHandler,
        *,
        on_connected: Callable[[str], None] | None = None,
        on_disconnected: Callable[[str], None] | None = None,
    ) -> None:
        """Attach the component the socket feeds, when the socket is built before it (a factory
        builds the transports and hands them to the client). Only before ``start()``."""
        if self._task is not None:
            raise RuntimeError(f"{self._name}: bind() after start()")
        self._handler = handler
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected

    # --- state ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The WebSocket URL."""
        return self._url

    @property
    def conn_id(self) -> str | None:
        """Id of the current connection (``None`` while disconnected)."""
        return self._conn_id if self._ws is not None else None

    @property
    def is_connected(self) -> bool:
        """Whether a connection is up and its subscriptions have been (re)sent."""
        return self._connected is not None and self._connected.is_set()

    @property
    def is_running(self) -> bool:
        """Whether the client was started and has neither stopped nor given up."""
        return self._task is not None and not self._task.done()

    @property
    def gave_up(self) -> bool:
        """Whether the client stopped reconnecting after `max_reconnect_attempts` failures."""
        return self._gave_up

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """Tracked subscriptions (sent again after every reconnect)."""
        return tuple(self._subs.values())

    @property
    def stats(self) -> WebSocketClientStats:
        """A snapshot of the counters."""
        return WebSocketClientStats(
            frames_received=self._frames,
            connects=self._conn_count,
            failed_connects=self._failed_connects,
            pings_sent=self._pings,
            handler_errors=self._handler_errors,
            last_seq=self._last_seq,
        )

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting in the background (returns at once; see `wait_connected`)."""
        if self.is_running:
            return
        self._stopping = False
        self._gave_up = False
        self._connected = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)
        self._task.add_done_callback(self._log_task_failure)

    async def wait_connected(self, timeout_secs: float | None = None) -> bool:
        """Wait until connected and resubscribed; False if `timeout_secs` passed first."""
        if self._connected is None:
            raise RuntimeError("client not started")
        try:
            await asyncio.wait_for(self._connected.wait(), timeout_secs)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        """Close the socket, end the background task and fail pending posts."""
        self._stopping = True
        task, self._task = self._task, None
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close(_CLOSE_TIMEOUT_SECS)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._fail_pending("client stopped")

    # --- subscriptions --------------------------------------------------------------------------

    async def subscribe(self, subscription: Subscription | Mapping[str, Any]) -> str:
        """Track `subscription` (sent now if connected, and after every reconnect).

        Returns the stream key its frames will carry. Subscribing twice is a no-op.
        """
        sub = as_subscription(subscription)
        key = WS_JSON_ENCODER.encode(sub)
        if key not in self._subs:
            if len(self._subs) >= MAX_SUBSCRIPTIONS:
                raise ValueError(f"the venue allows at most {MAX_SUBSCRIPTIONS} subscriptions")
            self._subs[key] = sub
            await self._send_quietly(WS_JSON_ENCODER.encode(SubscribeMessage(sub)))
        return subscription_stream_key(sub)

    async def unsubscribe(self, subscription: Subscription | Mapping[str, Any]) -> None:
        """Stop tracking `subscription` (unsubscribed now if connected)."""
        sub = as_subscription(subscription)
        if self._subs.pop(WS_JSON_ENCODER.encode(sub), None) is not None:
            await self._send_quietly(WS_JSON_ENCODER.encode(UnsubscribeMessage(sub)))

    async def _send_quietly(self, message: bytes) -> None:
        # A send on a dropping socket is harmless: the reconnect resends tracked subscriptions.
        ws = self._ws
        if ws is None:
            return
        with contextlib.suppress(ConnectionLost):
            ws.send_text(message)

    # --- posts ----------------------------------------------------------------------------------

    async def post_info(
        self, payload: Mapping[str, Any] | msgspec.Struct, timeout_secs: float | None = None
    ) -> Any:
        """An `/info` request over the socket; returns the answer decoded as `http.info` does."""
        info_type = info_type_of(payload)
        response = await self._post("info", f"ws-post:info:{info_type}", payload, timeout_secs)
        if not isinstance(response, PostInfoResponse):
            raise HyperliquidError(f"ws-post:info:{info_type}: unexpected answer {response!r}")
        raw = response.payload.data
        decoder = INFO_RESPONSE_DECODERS.get(info_type)
        try:
            return msgspec.json.decode(raw) if decoder is None else decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise HyperliquidError(f"ws-post:info:{info_type}: undecodable answer: {exc}") from exc

    async def post_action(
        self, payload: Mapping[str, Any] | msgspec.Struct, timeout_secs: float | None = None
    ) -> ExchangeResponse:
        """A signed `/exchange` body over the socket, sent once; returns the venue's answer.

        Raises `ExchangeTransportError` when the outcome is unknown (no answer in time, socket
        lost, 5xx) and `HyperliquidHttpError` when the venue refused the request.
        """
        action_type, _ = action_type_of(payload)
        request = f"ws-post:exchange:{action_type}"
        response = await self._post("action", request, payload, timeout_secs)
        if not isinstance(response, PostActionResponse):
            raise ExchangeTransportError(request, f"unexpected answer {response!r}")
        return response.payload

    async def _post(
        self,
        kind: str,
        request: str,
        payload: Mapping[str, Any] | msgspec.Struct,
        timeout_secs: float | None,
    ) -> Any:
        is_action = kind == "action"
        timeout = self._post_timeout if timeout_secs is None else timeout_secs
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._post_slots:
            ws = await self._wait_for_socket(request, is_action, deadline - loop.time())
            post_id = next(self._post_ids)
            message = WS_JSON_ENCODER.encode(
                {"method": "post", "id": post_id, "request": {"type": kind, "payload": payload}}
            )
            future: asyncio.Future[Any] = loop.create_future()
            self._pending[post_id] = _Pending(future, request, is_action)
            try:
                try:
                    ws.send_text(message)
                except ConnectionLost as exc:
                    raise _not_sent(request, is_action, f"socket closed: {exc}") from exc
                remaining = max(deadline - loop.time(), 0.0)
                try:
                    response = await asyncio.wait_for(future, remaining)
                except TimeoutError as exc:
                    reason = f"no answer within {timeout:g} s"
                    if is_action:
                        raise ExchangeTransportError(request, reason) from exc
                    raise HyperliquidTransportError(request, reason) from exc
            finally:
                self._pending.pop(post_id, None)
        if isinstance(response, PostErrorResponse):
            raise _post_error(request, is_action, response.payload)
        return response

    async def _wait_for_socket(self, request: str, is_action: bool, timeout: float) -> WsConnection:
        connected = self._connected
        if connected is None or not self.is_running:
            raise _not_sent(request, is_action, "client not running")
        if not connected.is_set():
            try:
                await asyncio.wait_for(connected.wait(), max(timeout, 0.0))
            except TimeoutError as exc:
                raise _not_sent(request, is_action, "not connected") from exc
        ws = self._ws
        if ws is None:
            raise _not_sent(request, is_action, "not connected")
        return ws

    def _resolve_post(self, raw: bytes) -> None:
        try:
            post_id = _POST_HEAD_DECODER.decode(raw).data.id
        except (msgspec.ValidationError, msgspec.DecodeError):
            self._log.warning("post answer without an id ignored")
            return
        pending = self._pending.get(post_id)
        if pending is None or pending.future.done():
            return
        try:
            frame = _POST_FRAME_DECODER.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            error: HyperliquidError = (
                ExchangeTransportError(pending.request, f"undecodable answer: {exc}")
                if pending.is_action
                else HyperliquidError(f"{pending.request}: undecodable answer: {exc}")
            )
            pending.future.set_exception(error)
            return
        pending.future.set_result(frame.data.response)

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for entry in pending.values():
            if entry.future.done():
                continue
            error: HyperliquidError = (
                ExchangeTransportError(entry.request, f"connection lost: {reason}")
                if entry.is_action
                else HyperliquidTransportError(entry.request, f"connection lost: {reason}")
            )
            entry.future.set_exception(error)

    # --- connection loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            if attempt > 0:
                if self._max_attempts is not None and attempt > self._max_attempts:
                    self._gave_up = True
                    self._log.error(
                        f"giving up after {attempt - 1} failed reconnect attempts to {self._url}"
                    )
                    return
                delay = jittered_backoff(
                    attempt, self._backoff_initial, self._backoff_max, self._rng
                )
                self._log.warning(
                    f"reconnecting to {self._url}, attempt {attempt} in {delay:.3f} s"
                )
                self._notify(self._on_reconnecting, attempt)
                await asyncio.sleep(delay)
            try:
                # No WebSocket-level pings of our own: the venue's heartbeat is used instead.
                ws = await open_connection(
                    self._url,
                    max_size=_MAX_FRAME_BYTES,
                    open_timeout_secs=self._connect_timeout,
                    proxy=self._proxy,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failed_connects += 1
                attempt += 1
                self._log.warning(f"connection to {self._url} failed: {exc!r}")
                continue
            started = loop.time()
            await self._serve(ws)
            if loop.time() - started >= self._stable_secs:
                attempt = 0
            attempt += 1

    async def _serve(self, ws: WsConnection) -> None:
        """Run one connection until it ends; always reports the disconnect."""
        self._conn_count += 1
        conn_id = f"{self._name}-{self._conn_count}-{uuid.uuid4().hex[:8]}"
        self._conn_id = conn_id
        self._close_reason = None
        self._last_recv = time.monotonic()
        subs = list(self._subs.values())
        self._ws = ws  # from here on `subscribe` sends itself; `subs` holds the earlier ones
        reason = "connection closed"
        ping_task: asyncio.Task[None] | None = None
        connected = self._connected
        try:
            for sub in subs:
                ws.send_text(WS_JSON_ENCODER.encode(SubscribeMessage(sub)))
            if connected is not None:
                connected.set()
            self._log.info(
                f"connected to {self._url} as {conn_id}, {len(subs)} subscription(s) sent"
            )
            self._notify(self._on_connected, conn_id)
            ping_task = asyncio.get_running_loop().create_task(self._ping_loop(ws))
            ping_task.add_done_callback(self._log_task_failure)
            # Frames are handed to `_on_frame` from the socket's read callback from here on
            # (the ones that came with the handshake first), until the connection ends.
            ws.deliver_to(functools.partial(self._on_frame, conn_id=conn_id))
            closed = await ws.wait_closed()
            reason = self._close_reason or f"connection lost: {closed}"
        except ConnectionLost as exc:
            reason = self._close_reason or f"connection lost: {exc}"
        except asyncio.CancelledError:
            reason = "client stopped"
            raise
        except Exception as exc:  # a bug here must not end the feed for good
            self._log.exception(f"receive loop failed on {conn_id}", exc)
            reason = f"receive loop error: {exc!r}"
        finally:
            if self._stopping:
                reason = "client stopped"
            self._ws = None
            if connected is not None:
                connected.clear()
            if ping_task is not None:
                ping_task.cancel()
            self._fail_pending(reason)
            if not self._stopping:
                with contextlib.suppress(Exception):
                    await ws.close(_CLOSE_TIMEOUT_SECS)
            log = self._log.info if self._stopping else self._log.warning
            log(f"{conn_id} disconnected: {reason}")
            self._notify(self._on_disconnected, reason)

    def _on_frame(self, raw: bytes, conn_id: str) -> None:
        recv_ns = self._clock_ns()
        seq = self._next_seq()
        self._last_seq = seq
        self._frames += 1
        self._last_recv = time.monotonic()
        key = frame_stream_key(raw)
        try:
            self._handler(raw, seq, recv_ns, conn_id, key)
        except Exception as exc:
            self._handler_errors += 1
            errors = self._handler_errors
            # A bug that fails every frame must not flood the log: the first few in full, then
            # one line per _HANDLER_ERROR_LOG_EVERY (the counter is in `stats`).
            if errors <= _HANDLER_ERRORS_LOGGED or errors % _HANDLER_ERROR_LOG_EVERY == 0:
                self._log.exception(
                    f"frame handler failed on {key} seq {seq} ({errors} handler errors so far)",
                    exc,
                )
        if key == "post":
            self._resolve_post(raw)
        elif key == "error":
            self._log.warning(f"venue error frame: {raw[:500].decode('utf-8', 'replace')}")

    async def _ping_loop(self, ws: WsConnection) -> None:
        dead_after = self._ping_interval + self._pong_timeout
        while True:
            await asyncio.sleep(self._ping_interval)
            silent = time.monotonic() - self._last_recv
            if silent > dead_after:
                self._close_reason = f"no frame (not even a pong) for {silent:.1f} s"
                ws.abort(self._close_reason)
                return
            try:
                ws.send_text(_PING)
            except ConnectionLost:
                return
            self._pings += 1

    def _log_task_failure(self, task: asyncio.Task[None]) -> None:
        """A background task of this client ended with an exception: say so, never silently."""
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._log.error(f"background task {task.get_name()!r} failed: {exc!r}")

    def _notify(self, callback: Callable[[Any], None] | None, arg: Any) -> None:
        if callback is None:
            return
        try:
            callback(arg)
        except Exception as exc:
            self._log.exception(f"state callback {callback!r} failed", exc)


def _not_sent(request: str, is_action: bool, reason: str) -> HyperliquidError:
    """The request never left this process: the outcome is known (nothing happened)."""
    if is_action:
        return ExchangeTransportError(request, reason, request_sent=False)
    return HyperliquidTransportError(request, reason)


def _post_error(request: str, is_action: bool, text: str) -> HyperliquidError:
    """A post answered with `type: error`: the text starts with the HTTP status REST would give."""
    head = text.split(" ", 1)[0]
    status = int(head) if head.isdigit() else 0
    if is_action and (status == 0 or status >= 500):
        return ExchangeTransportError(request, f"venue error: {text}", status=status or None)
    return HyperliquidHttpError(request, status, text)
