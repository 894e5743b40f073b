"""The Hyperliquid live market-data client for NautilusTrader.

``HyperliquidDataClient`` is the NautilusTrader ``LiveMarketDataClient``: it owns the transports
(``HyperliquidHttpClient``, ``HyperliquidWebSocketClient``), the instrument provider and its
refresh, the recorder, the subscriptions, the timers (staleness checks, bar close backstop) and
the ``HealthGate`` on the node's RiskEngine. Frames go through ``HyperliquidFrameHandler``
(``frame_handler.py``, shared with replay); historical requests are paged in ``history.py``.

Decisions worth knowing:

* One l2Book stream per coin. ``subscribe_order_book_deltas(..., params={"fast": True})`` picks
  the venue's 5-level fast book instead of the 20-level one. Depth-10 snapshots come from the same
  stream. NautilusTrader 1.231 replaces the cached book with an empty one on EVERY managed
  subscription (deltas or depth 10) but tells the client only about the first, so the client
  also sends the next frame whole whenever the cached book object changed (``_book_replaced``).
  Depth-10 snapshots are whole by nature and need nothing.
* Open interest and trades-with-addresses are custom data routed per instrument by the data
  engine; subscribe with ``subscribe_data(DataType(T), instrument_id=...)``. ``FeedHealth`` and
  ``FeedCounters`` have no instrument and are always published.
* With ``health.check_trade_counts`` on (the default), subscribing trades of a coin also
  subscribes its 1m candle stream internally (``DataOutput.TRADE_CHECK``); no bars are published
  for it unless bars were asked for.
* "Needed" streams for the health gate are the streams this client subscribed on the node's
  behalf whose channel is in ``health.gate_channels`` (books, top of book, asset context by
  default; trades and candles may be silent for minutes). The gate needs the node's RiskEngine,
  which NautilusTrader does not hand to data clients: ``wire_health_gates(node)`` attaches it
  after ``node.build()``.
* Background loops run through the base class's ``create_task``, which logs a failure.
* Direct delivery (``direct_to_data_engine``, on by default): ``wire_health_gates`` also points
  the client at the DataEngine's own ``process`` (the Cython base method), so every object goes
  straight to the engine on the event loop thread, in the order it was produced, instead of
  ``msgbus.send`` -> ``LiveDataEngine.process`` -> its queue -> a task. The frame path is
  unchanged before it: the recorder sees each frame first, then the handler with its
  continuity and health checks. Before wiring (and with the option off) the standard path runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Iterable
from typing import Any
from typing import Final

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import Logger
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.data import Data
from nautilus_trader.core.datetime import maybe_dt_to_unix_nanos
from nautilus_trader.core.datetime import millis_to_nanos
from nautilus_trader.core.datetime import nanos_to_secs
from nautilus_trader.core.datetime import secs_to_nanos
from nautilus_trader.data.engine import DataEngine
from nautilus_trader.data.messages import RequestBars
from nautilus_trader.data.messages import RequestFundingRates
from nautilus_trader.data.messages import RequestInstrument
from nautilus_trader.data.messages import RequestInstruments
from nautilus_trader.data.messages import RequestTradeTicks
from nautilus_trader.data.messages import SubscribeBars
from nautilus_trader.data.messages import SubscribeData
from nautilus_trader.data.messages import SubscribeFundingRates
from nautilus_trader.data.messages import SubscribeIndexPrices
from nautilus_trader.data.messages import SubscribeInstrument
from nautilus_trader.data.messages import SubscribeInstruments
from nautilus_trader.data.messages import SubscribeMarkPrices
from nautilus_trader.data.messages import SubscribeOrderBook
from nautilus_trader.data.messages import SubscribeQuoteTicks
from nautilus_trader.data.messages import SubscribeTradeTicks
from nautilus_trader.data.messages import UnsubscribeBars
from nautilus_trader.data.messages import UnsubscribeData
from nautilus_trader.data.messages import UnsubscribeFundingRates
from nautilus_trader.data.messages import UnsubscribeIndexPrices
from nautilus_trader.data.messages import UnsubscribeMarkPrices
from nautilus_trader.data.messages import UnsubscribeOrderBook
from nautilus_trader.data.messages import UnsubscribeQuoteTicks
from nautilus_trader.data.messages import UnsubscribeTradeTicks
from nautilus_trader.live.data_client import LiveMarketDataClient
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.data_types import FEED_COUNTERS_DATA_TYPE
from adapters.hyperliquid.data_types import FEED_HEALTH_DATA_TYPE
from adapters.hyperliquid.data_types import FeedCounters
from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.data_types import FeedHealthStatus
from adapters.hyperliquid.data_types import HyperliquidTrade
from adapters.hyperliquid.data_types import OpenInterestUpdate
from adapters.hyperliquid.data_types import new_feed_counters
from adapters.hyperliquid.enums import BAR_OUTPUT_PREFIX
from adapters.hyperliquid.enums import DataOutput
from adapters.hyperliquid.enums import bar_output
from adapters.hyperliquid.frame_handler import CTX_OUTPUTS
from adapters.hyperliquid.frame_handler import TRADE_CHECK
from adapters.hyperliquid.frame_handler import TRADE_CHECK_INTERVAL
from adapters.hyperliquid.frame_handler import TRADE_OUTPUTS
from adapters.hyperliquid.frame_handler import HyperliquidFrameHandler
from adapters.hyperliquid.health import NO_DATA_YET
from adapters.hyperliquid.health import HealthGate
from adapters.hyperliquid.health import StreamMonitor
from adapters.hyperliquid.health import TradingStateTarget
from adapters.hyperliquid.health import stream_kind
from adapters.hyperliquid.history import fetch_candles
from adapters.hyperliquid.history import fetch_funding_history
from adapters.hyperliquid.history import fetch_recent_trades
from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.parsing import interval_for_bar_type
from adapters.hyperliquid.parsing import parse_bar
from adapters.hyperliquid.parsing import parse_funding_history
from adapters.hyperliquid.parsing import parse_trade_tick
from adapters.hyperliquid.providers import HYPERLIQUID_VENUE
from adapters.hyperliquid.providers import HyperliquidInstrumentProvider
from adapters.hyperliquid.providers import unlisted_coins
from adapters.hyperliquid.recorder import CONTROL_BOOK_RESET
from adapters.hyperliquid.recorder import CONTROL_OUTPUTS
from adapters.hyperliquid.recorder import CONTROL_STREAMS
from adapters.hyperliquid.recorder import ControlPayload
from adapters.hyperliquid.recorder import FrameKind
from adapters.hyperliquid.recorder import FrameRecorder
from adapters.hyperliquid.recorder import encode_control
from adapters.hyperliquid.recorder import last_recorded_seq
from adapters.hyperliquid.schemas.ws import ActiveAssetCtxSubscription
from adapters.hyperliquid.schemas.ws import BboSubscription
from adapters.hyperliquid.schemas.ws import CandleSubscription
from adapters.hyperliquid.schemas.ws import L2BookSubscription
from adapters.hyperliquid.schemas.ws import Subscription
from adapters.hyperliquid.schemas.ws import TradesSubscription
from adapters.hyperliquid.startup import load_instruments_when_reachable
from adapters.hyperliquid.websocket import HyperliquidWebSocketClient
from adapters.hyperliquid.websocket import subscription_stream_key

__all__ = [
    "HyperliquidDataClient",
    "wire_health_gates",
]

_GAP: Final[str] = FeedHealthStatus.GAP.value
_CONNECT_TIMEOUT_SECS: Final[float] = 15.0
_BOOK_OUTPUTS: Final[frozenset[str]] = frozenset({DataOutput.DELTAS, DataOutput.DEPTH10})


def _output_subscription(coin: str, output: str, fast: bool) -> Subscription:
    """The venue subscription that feeds one output of a coin."""
    if output in _BOOK_OUTPUTS:
        return L2BookSubscription(coin=coin, fast=True) if fast else L2BookSubscription(coin=coin)
    if output == DataOutput.QUOTES:
        return BboSubscription(coin=coin)
    if output in TRADE_OUTPUTS:
        return TradesSubscription(coin=coin)
    if output in CTX_OUTPUTS:
        return ActiveAssetCtxSubscription(coin=coin)
    if output.startswith(BAR_OUTPUT_PREFIX):
        return CandleSubscription(coin=coin, interval=output.removeprefix(BAR_OUTPUT_PREFIX))
    if output == TRADE_CHECK:
        return CandleSubscription(coin=coin, interval=TRADE_CHECK_INTERVAL)
    raise ValueError(f"unknown output {output!r}")


class HyperliquidDataClient(LiveMarketDataClient):
    """Hyperliquid market data for a NautilusTrader node, against any base URL (module notes).

    The client builds its own transports from ``config``: the REST client (sharing the
    process's rate limiter, recording every response when recording is on) and the instrument
    provider fetching through it.

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
        The node's event loop.
    msgbus, cache, clock
        The node's components.
    config : HyperliquidDataClientConfig
        The client configuration.
    name : str, optional
        Client id (default ``HYPERLIQUID``).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        config: HyperliquidDataClientConfig,
        name: str | None = None,
    ) -> None:
        self._recorder: FrameRecorder | None = None
        # Sequence numbers continue those already in the recording folder (a restart after a
        # crash or a stop must not number frames again from 1: replay keys on them).
        first_seq = 1
        if config.recorder is not None:
            first_seq = last_recorded_seq(config.recorder.directory) + 1
        self._first_seq = first_seq
        self._seq = itertools.count(first_seq).__next__
        client_id = ClientId(name or HYPERLIQUID_VENUE.value)
        # The transports log through NautilusTrader under this client's component name.
        component = f"DataClient-{client_id}"
        http = HyperliquidHttpClient(
            config.http_url,
            recorder_hook=self._record_rest if config.recorder is not None else None,
            timeout_secs=config.http_timeout_secs,
            clock_ns=clock.timestamp_ns,
            logger=Logger(f"{component}-Http"),
        )
        instrument_provider = HyperliquidInstrumentProvider(
            http.info_raw,
            clock.timestamp_ns,
            include_perps=config.include_perps,
            include_spot=config.include_spot,
            hip3_dexes=config.hip3_dexes,
            coins=config.coins,
            fee_user=config.fee_user,
        )
        super().__init__(
            loop=loop,
            client_id=client_id,
            venue=HYPERLIQUID_VENUE,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=instrument_provider,
            config=config,
        )
        self._config = config
        self._provider = instrument_provider
        for field, value in config.health.loosened_limits():
            self._log.warning(f"Health limit loosened by config override: {field} = {value}")
        self._http = http
        if config.recorder is not None:
            self._recorder = FrameRecorder.from_config(
                config.recorder,
                on_health=self._on_recorder_health,
                logger=Logger(f"{component}-Recorder"),
            )
        health = config.health
        self._monitor = StreamMonitor(health.stale_thresholds_ns())
        # Where data objects go (see module notes): the standard path until wire_health_gates.
        self._deliver: Callable[[Data], None] = self._handle_data
        self._handler = HyperliquidFrameHandler(
            self._handle_data,
            self._on_health,
            self._monitor,
            bar_close_grace_ns=millis_to_nanos(config.bar_close_grace_ms),
            schedule_bar_close=self._schedule_bar_close,
            book_replaced=self._book_replaced,
            logger=self._log,
        )
        self._ws = HyperliquidWebSocketClient(
            config.resolved_ws_url,
            self._on_frame,
            ping_interval_secs=config.ws_ping_interval_secs,
            reconnect_initial_backoff_secs=config.reconnect_initial_backoff_secs,
            reconnect_max_backoff_secs=config.reconnect_max_backoff_secs,
            on_connected=self._on_connected,
            on_disconnected=self._on_disconnected,
            on_reconnecting=self._on_reconnecting,
            next_seq=self._seq,
            clock_ns=clock.timestamp_ns,
            name=f"{self.id.value.lower()}-ws",
            logger=Logger(f"{component}-WebSocket"),
        )
        # Stream key -> the outputs that need it; a venue subscription lives while non-empty.
        self._stream_outputs: dict[str, set[tuple[str, str]]] = {}
        self._stream_subs: dict[str, Subscription] = {}
        self._fast_books: set[str] = set()
        # The cached order book each instrument's deltas last fed (see _book_replaced).
        self._fed_books: dict[InstrumentId, object] = {}
        self._latest_health: dict[str, FeedHealth] = {}
        self._gate: HealthGate | None = None
        self._bar_timer: asyncio.TimerHandle | None = None
        self._bar_timer_ns: int | None = None
        self._background: list[asyncio.Task[Any]] = []
        self._gaps_by_stream: dict[str, int] = {}
        self._published_counters: dict[str, tuple[int, int]] = {}
        self._gate_channels = frozenset(health.gate_channels)
        self._stopping = False

    # -- accessors (tests, tools) ------------------------------------------------------------

    @property
    def frame_handler(self) -> HyperliquidFrameHandler:
        """The frame handler (its ``outputs()`` is what replay needs)."""
        return self._handler

    @property
    def ws_client(self) -> HyperliquidWebSocketClient:
        """The WebSocket feed client."""
        return self._ws

    @property
    def instrument_provider(self) -> HyperliquidInstrumentProvider:
        """The instrument provider (the node's execution client shares its one load)."""
        return self._provider

    @property
    def recorder(self) -> FrameRecorder | None:
        """The raw-frame recorder, ``None`` when recording is off."""
        return self._recorder

    def stream_health(self) -> dict[str, FeedHealth]:
        """The latest health of every stream this client published."""
        return dict(self._latest_health)

    def stream_last_received_ns(self) -> dict[str, int]:
        """Local receive time of every watched stream's latest frame (staleness = now - it)."""
        return self._monitor.last_received_ns()

    def attach_risk_engine(self, risk_engine: TradingStateTarget) -> HealthGate | None:
        """Let unhealthy needed streams hold the node's RiskEngine in REDUCING (module notes);
        returns the gate (``None`` when disabled by config)."""
        health = self._config.health
        if not health.gate_enabled:
            self._log.info("Health gate disabled by config")
            return None
        gate = HealthGate(risk_engine, secs_to_nanos(health.gate_recovery_secs), self._log)
        for feed_health in self._latest_health.values():
            gate.on_health(feed_health)
        self._gate = gate
        self._update_required_streams()
        self._log.info(
            f"Health gate attached: needed channels {sorted(self._gate_channels)}, "
            f"recovery {health.gate_recovery_secs:g} s"
        )
        return gate

    def attach_data_engine(self, data_engine: Any) -> bool:
        """Deliver every data object straight to ``data_engine`` (module notes); no-op (False)
        when ``direct_to_data_engine`` is off or ``data_engine`` is not a NautilusTrader
        ``DataEngine``. Call on the event loop thread, before or between frames."""
        if not self._config.direct_to_data_engine or not isinstance(data_engine, DataEngine):
            return False
        # The base class's cpdef method bound to the engine: a live engine's Python override
        # (which queues) is skipped, the engine's own processing (book, cache, bus) is not.
        process: Callable[[Data], None] = DataEngine.process.__get__(data_engine, DataEngine)
        self._deliver = process
        self._handler.set_emit(process)
        self._log.info("Data goes straight to the DataEngine (direct_to_data_engine)")
        return True

    # -- connection ------------------------------------------------------------------------------

    async def _connect(self) -> None:
        self._stopping = False
        if self._recorder is not None:
            self._recorder.start()
            self._record_outputs_snapshot()
            self._log.info(
                f"Recording raw frames to {self._config.recorder.directory}"  # type: ignore[union-attr]
                f" (sequence numbers from {self._first_seq})"
            )
        # A venue that is down at start is waited for (startup.py), never given up on.
        await load_instruments_when_reachable(
            self._provider, self._http, self._config, self._log, lambda: self._stopping
        )
        instruments = self._provider.list_all()
        unlisted = unlisted_coins(self._config.coins or (), instruments)
        if unlisted:
            # Fail closed: a coin the node was configured for would silently have no data.
            message = (
                f"coins: {unlisted} not listed by the venue at {self._config.http_url}; "
                "fix the data client's coins"
            )
            self._log.error(message)
            raise ValueError(message)
        for instrument in instruments:
            self._handler.add_instrument(instrument)
            self._deliver(instrument)
        self._log.info(f"Loaded {len(instruments)} instruments from {self._config.http_url}")
        await self._ws.start()
        if not await self._ws.wait_connected(_CONNECT_TIMEOUT_SECS):
            self._log.warning(f"WebSocket {self._ws.url} not connected yet; retrying in background")
        # The base class's tasks: a loop that dies is logged with its traceback, never silent.
        self._start_background(self._health_loop(), "hl-health")
        if self._config.instrument_refresh_interval_secs > 0:
            self._start_background(self._refresh_loop(), "hl-refresh")
        recorder = self._config.recorder
        if recorder is not None and recorder.status_log_interval_secs > 0:
            self._start_background(
                self._recorder_status_loop(recorder.status_log_interval_secs), "hl-recorder"
            )

    async def _recorder_status_loop(self, interval_secs: float) -> None:
        """Log how many frames are durable (on disk, kill -9 safe) while recording."""
        try:
            while True:
                await asyncio.sleep(interval_secs)
                if self._recorder is not None:
                    self._log.info(self.recorder_status_line())
        except asyncio.CancelledError:
            return

    def recorder_status_line(self) -> str:
        """The recorder's counters in one line (``durable``: see ``RecorderStats``)."""
        if self._recorder is None:
            return "Recorder: off"
        stats = self._recorder.stats()
        return (
            f"Recorder: {stats.durable} frames durable (last seq {stats.last_durable_seq}), "
            f"{stats.queue_depth} queued, {stats.dropped} dropped, "
            f"{stats.write_errors} write errors"
        )

    def _start_background(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = self.create_task(coro, log_msg=name)
        if task is not None:
            self._background.append(task)

    async def _disconnect(self) -> None:
        self._stopping = True
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._background.clear()
        if self._bar_timer is not None:
            self._bar_timer.cancel()
            self._bar_timer = None
        await self._ws.stop()
        await self._http.close()
        if self._recorder is not None:
            recorder = self._recorder
            await asyncio.to_thread(recorder.stop, 10.0)
            stats = recorder.stats()
            self._log.info(
                f"Recorder stopped: {stats.written} frames written, {stats.dropped} dropped"
            )

    # -- hot path ----------------------------------------------------------------------------

    def _book_replaced(self, instrument_id: InstrumentId, seq: int) -> bool:
        # NautilusTrader 1.231 puts a new, EMPTY book in the cache on every managed book
        # subscription, but calls the client only for the first one: a later subscriber (or a
        # depth-10 managed subscription) silently empties the book the running stream feeds.
        # Seeing a different cached book object is the one signal that covers every such path,
        # so the next frame is sent whole. One dict lookup per book frame.
        book = self._cache.order_book(instrument_id)
        if book is None or book is self._fed_books.get(instrument_id):
            return False
        self._fed_books[instrument_id] = book
        if self._recorder is not None:
            instrument = self._cache.instrument(instrument_id) or self._provider.find(instrument_id)
            if instrument is not None:
                coin = instrument.raw_symbol.value
                payload = ControlPayload(coin=coin, before_seq=seq)
                self._record_control(CONTROL_BOOK_RESET, payload)
        return True

    # -- control records (rare: subscription changes, never per frame) -------------------------

    def _set_output(self, coin: str, output: str, enabled: bool) -> None:
        """Switch a handler output and record the change, in order with the frames."""
        if self._handler.set_output(coin, output, enabled) and self._recorder is not None:
            if enabled:
                payload = ControlPayload(coin=coin, enable=[output])
            else:
                payload = ControlPayload(coin=coin, disable=[output])
            self._record_control(CONTROL_OUTPUTS, payload)

    def _unregister_stream(self, coin: str, key: str) -> None:
        """Stop watching a stream and record it (a later subscription starts afresh)."""
        if self._monitor.status(key) is not None:
            self._monitor.unregister(key)
            self._record_control(CONTROL_STREAMS, ControlPayload(coin=coin, unregister=[key]))

    def _record_control(self, action: str, payload: ControlPayload) -> None:
        recorder = self._recorder
        if recorder is not None:
            recorder.append(
                f"{action}:{payload.coin}",
                encode_control(payload),
                self._clock.timestamp_ns(),
                self._seq(),
                "control",
                FrameKind.CONTROL,
            )

    def _record_outputs_snapshot(self) -> None:
        # Outputs switched on before the recorder started (none in a normal start): a recording
        # must state every output it depends on.
        for coin in self._handler.coins:
            state = self._handler.status(coin)
            if state is not None and state.outputs:
                payload = ControlPayload(coin=coin, enable=sorted(state.outputs))
                self._record_control(CONTROL_OUTPUTS, payload)
        for key in self._monitor.streams:
            coin = key.split(":")[1] if ":" in key else key
            self._record_control(CONTROL_STREAMS, ControlPayload(coin=coin, register=[key]))

    def _on_frame(self, raw: bytes, seq: int, recv_ns: int, conn_id: str, key: str) -> None:
        recorder = self._recorder
        if recorder is not None:
            recorder.append(key, raw, recv_ns, seq, conn_id)
        self._handler.handle(raw, seq, recv_ns, conn_id, key)

    def _record_rest(self, raw: bytes, recv_ns: int, stream: str) -> None:
        recorder = self._recorder
        if recorder is not None:
            recorder.append(stream, raw, recv_ns, self._seq(), "rest", FrameKind.REST)

    # -- health ----------------------------------------------------------------------------------

    def _on_health(self, health: FeedHealth) -> None:
        self._latest_health[health.stream] = health
        if health.status == _GAP:
            self._gaps_by_stream[health.stream] = self._gaps_by_stream.get(health.stream, 0) + 1
        if health.status == FeedHealthStatus.OK.value or health.reason == NO_DATA_YET:
            # OK, or the fail-closed start of a new subscription (the monitor reports a stream
            # still waiting a threshold later at WARNING).
            self._log.info(f"Feed {health.stream}: {health.status} ({health.reason})")
        else:
            self._log.warning(f"Feed {health.stream}: {health.status} ({health.reason})")
        self._deliver(CustomData(FEED_HEALTH_DATA_TYPE, health))
        if self._gate is not None:
            self._gate.on_health(health)

    def _on_recorder_health(self, health: FeedHealth) -> None:
        self._on_health(health)

    def _on_connected(self, conn_id: str) -> None:
        self._log.info(
            f"WebSocket connected as {conn_id}: {len(self._stream_subs)} stream(s) resubscribed, "
            "books rebuild from fresh snapshots"
        )

    def _on_disconnected(self, reason: str) -> None:
        if self._stopping:
            self._log.info(f"WebSocket closed: {reason}")
            return
        now = self._clock.timestamp_ns()
        self._log.warning(f"WebSocket disconnected: {reason}")
        for change in self._monitor.on_disconnected(self._monitor.streams, now, reason):
            self._on_health(change)

    def _on_reconnecting(self, attempt: int) -> None:
        self._log.warning(f"WebSocket reconnecting (attempt {attempt})")

    async def _health_loop(self) -> None:
        interval = self._config.health.check_interval_secs
        try:
            while True:
                await asyncio.sleep(interval)
                try:
                    self._check_health(self._clock.timestamp_ns())
                except Exception as exc:  # a bug here must not end staleness checks for good
                    self._log.exception("Health check failed; checking again next interval", exc)
        except asyncio.CancelledError:
            return

    def _check_health(self, now: int) -> None:
        for change in self._monitor.check(now):
            self._on_health(change)
        if self._gate is not None:
            self._gate.check(now)
        self._publish_counters(now)

    def _update_required_streams(self) -> None:
        if self._gate is None:
            return
        # Only streams with health: not the internal candles of the trade-count check.
        needed = [
            key
            for key in self._stream_subs
            if stream_kind(key) in self._gate_channels and self._monitor.status(key) is not None
        ]
        self._gate.set_required_streams(needed, self._clock.timestamp_ns())

    # -- bars backstop timer ---------------------------------------------------------------------

    def _schedule_bar_close(self, deadline_ns: int) -> None:
        if self._bar_timer is not None:
            if self._bar_timer_ns is not None and self._bar_timer_ns <= deadline_ns:
                return
            self._bar_timer.cancel()
        delay = nanos_to_secs(max(deadline_ns - self._clock.timestamp_ns(), 0))
        self._bar_timer_ns = deadline_ns
        self._bar_timer = self._loop.call_later(delay, self._on_bar_timer)

    def _on_bar_timer(self) -> None:
        self._bar_timer = None
        self._bar_timer_ns = None
        self._handler.flush_bars(self._clock.timestamp_ns())

    # -- feed counters (shown in the MarketDataLogger's per-instrument status line) ------------

    def feed_counters(self) -> dict[str, tuple[int, int]]:
        """(gaps, decode errors) so far per venue coin with a subscribed stream."""
        totals: dict[str, tuple[int, int]] = {}
        decode_errors = self._handler.decode_errors_by_stream
        for key, users in self._stream_outputs.items():
            gaps = self._gaps_by_stream.get(key, 0)
            errors = decode_errors.get(key, 0)
            for coin in {coin for coin, _ in users}:
                old_gaps, old_errors = totals.get(coin, (0, 0))
                totals[coin] = (old_gaps + gaps, old_errors + errors)
        return totals

    def _publish_counters(self, now_ns: int) -> None:
        """Publish a coin's ``FeedCounters`` whenever one of its totals grew."""
        for coin, totals in self.feed_counters().items():
            if self._published_counters.get(coin, (0, 0)) == totals:
                continue
            self._published_counters[coin] = totals
            instrument = self._handler.instrument(coin)
            if instrument is not None:
                counters = new_feed_counters(str(instrument.id), *totals, now_ns)
                self._deliver(CustomData(FEED_COUNTERS_DATA_TYPE, counters))

    # -- instruments refresh -------------------------------------------------------------------

    async def _refresh_loop(self) -> None:
        interval = self._config.instrument_refresh_interval_secs
        try:
            while True:
                await asyncio.sleep(interval)
                try:
                    added = await self._provider.refresh_async()
                except Exception as exc:  # a failed refresh keeps the known instruments
                    self._log.warning(f"Instrument refresh failed, keeping current ones: {exc!r}")
                    continue
                for instrument in self._provider.list_all():
                    self._handler.add_instrument(instrument)
                    self._deliver(instrument)
                if added:
                    names = ", ".join(str(i.id) for i in added)
                    self._log.info(f"New instruments listed: {names}")
        except asyncio.CancelledError:
            return

    # -- subscriptions ---------------------------------------------------------------------------

    def _coin_of(self, instrument_id: InstrumentId) -> str | None:
        instrument = self._cache.instrument(instrument_id) or self._provider.find(instrument_id)
        if instrument is None:
            self._log.error(f"Cannot subscribe: instrument {instrument_id} not loaded")
            return None
        coin = instrument.raw_symbol.value
        if self._handler.instrument(coin) is None:
            self._handler.add_instrument(instrument)
        return coin

    async def _enable(self, instrument_id: InstrumentId, output: str, fast: bool = False) -> None:
        coin = self._coin_of(instrument_id)
        if coin is None:
            return
        if output in _BOOK_OUTPUTS:
            fast = fast or coin in self._fast_books
            if fast:
                self._fast_books.add(coin)
        # Flags first, before any await: frames may follow the subscription at once.
        self._set_output(coin, output, True)
        subscription = _output_subscription(coin, output, fast)
        key = subscription_stream_key(subscription)
        users = self._stream_outputs.setdefault(key, set())
        users.add((coin, output))
        if output != TRADE_CHECK:
            # The internal candle stream of the trade-count check has no health of its own
            # (a quiet coin's candles stop for minutes): only streams someone asked for.
            change = self._monitor.register(key, self._clock.timestamp_ns())
            if change is not None:
                self._record_control(CONTROL_STREAMS, ControlPayload(coin=coin, register=[key]))
                self._on_health(change)
                if key in self._stream_subs:  # bars on the check's candles: now has health
                    self._update_required_streams()
        if key not in self._stream_subs:
            self._stream_subs[key] = subscription
            self._update_required_streams()
            await self._ws.subscribe(subscription)
        elif output in _BOOK_OUTPUTS:
            # A book subscription on a running stream: its subscriber starts from nothing.
            self._handler.reset_books(coin)
            self._record_control(CONTROL_BOOK_RESET, ControlPayload(coin=coin))
        if output in TRADE_OUTPUTS and self._config.health.check_trade_counts:
            # After the trades subscription: the check counts from when trades are live.
            await self._enable(instrument_id, TRADE_CHECK)

    async def _disable(self, instrument_id: InstrumentId, output: str) -> None:
        coin = self._coin_of(instrument_id)
        if coin is None:
            return
        self._set_output(coin, output, False)
        for key, users in list(self._stream_outputs.items()):
            if (coin, output) not in users:
                continue
            users.discard((coin, output))
            if users == {(coin, TRADE_CHECK)}:
                self._unregister_stream(coin, key)  # only the check is left: no health
                self._latest_health.pop(key, None)
                self._update_required_streams()
            if users:
                continue
            del self._stream_outputs[key]
            subscription = self._stream_subs.pop(key, None)
            self._unregister_stream(coin, key)
            self._latest_health.pop(key, None)
            if key.startswith("l2Book:"):
                self._fast_books.discard(coin)
            self._update_required_streams()
            if subscription is not None:
                await self._ws.unsubscribe(subscription)
        if output in TRADE_OUTPUTS:
            state = self._handler.status(coin)
            outputs = state.outputs if state is not None else set()
            if TRADE_CHECK in outputs and not outputs & TRADE_OUTPUTS:
                await self._disable(instrument_id, TRADE_CHECK)

    async def _subscribe_instruments(self, command: SubscribeInstruments) -> None:
        pass  # instruments are pushed on connect and on every refresh

    async def _subscribe_instrument(self, command: SubscribeInstrument) -> None:
        pass  # instruments are pushed on connect and on every refresh

    async def _subscribe_order_book_deltas(self, command: SubscribeOrderBook) -> None:
        fast = bool((command.params or {}).get("fast", False))
        await self._enable(command.instrument_id, DataOutput.DELTAS, fast)

    async def _subscribe_order_book_depth(self, command: SubscribeOrderBook) -> None:
        fast = bool((command.params or {}).get("fast", False))
        await self._enable(command.instrument_id, DataOutput.DEPTH10, fast)

    async def _subscribe_quote_ticks(self, command: SubscribeQuoteTicks) -> None:
        await self._enable(command.instrument_id, DataOutput.QUOTES)

    async def _subscribe_trade_ticks(self, command: SubscribeTradeTicks) -> None:
        await self._enable(command.instrument_id, DataOutput.TRADES)

    async def _subscribe_mark_prices(self, command: SubscribeMarkPrices) -> None:
        await self._enable(command.instrument_id, DataOutput.MARK)

    async def _subscribe_index_prices(self, command: SubscribeIndexPrices) -> None:
        await self._enable(command.instrument_id, DataOutput.INDEX)

    async def _subscribe_funding_rates(self, command: SubscribeFundingRates) -> None:
        await self._enable(command.instrument_id, DataOutput.FUNDING)

    async def _subscribe_bars(self, command: SubscribeBars) -> None:
        bar_type = command.bar_type
        try:
            interval = interval_for_bar_type(bar_type)
        except ValueError as exc:
            self._log.error(f"Cannot subscribe to {bar_type}: {exc}")
            return
        await self._enable(bar_type.instrument_id, bar_output(interval))

    async def _subscribe(self, command: SubscribeData) -> None:
        output = self._custom_output(command.data_type, command.instrument_id)
        if output is None or command.instrument_id is None:
            return
        await self._enable(command.instrument_id, output)

    def _custom_output(self, data_type: DataType, instrument_id: InstrumentId | None) -> str | None:
        cls = data_type.type
        if cls is FeedHealth or cls is FeedCounters:
            return None  # always published
        if cls is HyperliquidTrade:
            output = DataOutput.HL_TRADES
        elif cls is OpenInterestUpdate:
            output = DataOutput.OPEN_INTEREST
        else:
            self._log.error(f"Cannot subscribe to {cls.__name__}: not provided by this client")
            return None
        if instrument_id is None:
            self._log.error(f"Cannot subscribe to {cls.__name__} without an instrument_id")
            return None
        return output

    async def _unsubscribe_order_book_deltas(self, command: UnsubscribeOrderBook) -> None:
        await self._disable(command.instrument_id, DataOutput.DELTAS)

    async def _unsubscribe_order_book_depth(self, command: UnsubscribeOrderBook) -> None:
        await self._disable(command.instrument_id, DataOutput.DEPTH10)

    async def _unsubscribe_quote_ticks(self, command: UnsubscribeQuoteTicks) -> None:
        await self._disable(command.instrument_id, DataOutput.QUOTES)

    async def _unsubscribe_trade_ticks(self, command: UnsubscribeTradeTicks) -> None:
        await self._disable(command.instrument_id, DataOutput.TRADES)

    async def _unsubscribe_mark_prices(self, command: UnsubscribeMarkPrices) -> None:
        await self._disable(command.instrument_id, DataOutput.MARK)

    async def _unsubscribe_index_prices(self, command: UnsubscribeIndexPrices) -> None:
        await self._disable(command.instrument_id, DataOutput.INDEX)

    async def _unsubscribe_funding_rates(self, command: UnsubscribeFundingRates) -> None:
        await self._disable(command.instrument_id, DataOutput.FUNDING)

    async def _unsubscribe_bars(self, command: UnsubscribeBars) -> None:
        try:
            interval = interval_for_bar_type(command.bar_type)
        except ValueError:
            return
        await self._disable(command.bar_type.instrument_id, bar_output(interval))

    async def _unsubscribe(self, command: UnsubscribeData) -> None:
        output = self._custom_output(command.data_type, command.instrument_id)
        if output is None or command.instrument_id is None:
            return
        await self._disable(command.instrument_id, output)

    # -- historical requests ---------------------------------------------------------------------

    async def _request_instrument(self, request: RequestInstrument) -> None:
        instrument = self._provider.find(request.instrument_id)
        if instrument is None:
            await self._provider.load_async(request.instrument_id)
            instrument = self._provider.find(request.instrument_id)
        if instrument is None:
            self._log.error(f"Cannot find instrument {request.instrument_id}")
            return
        self._handle_instrument(instrument, request.id, request.start, request.end, request.params)

    async def _request_instruments(self, request: RequestInstruments) -> None:
        instruments = self._provider.list_all()
        self._handle_instruments(
            HYPERLIQUID_VENUE, instruments, request.id, request.start, request.end, request.params
        )

    def _instrument_for(self, instrument_id: InstrumentId) -> Instrument | None:
        instrument = self._cache.instrument(instrument_id) or self._provider.find(instrument_id)
        if instrument is None:
            self._log.error(f"Cannot request data: instrument {instrument_id} not loaded")
        return instrument

    async def _request_bars(self, request: RequestBars) -> None:
        bar_type = request.bar_type
        instrument = self._instrument_for(bar_type.instrument_id)
        if instrument is None:
            return
        try:
            interval = interval_for_bar_type(bar_type)
        except ValueError as exc:
            self._log.error(f"Cannot request {bar_type}: {exc}")
            return
        now_ns = self._clock.timestamp_ns()
        candles = await fetch_candles(
            self._http,
            instrument.raw_symbol.value,
            interval,
            maybe_dt_to_unix_nanos(request.start),
            maybe_dt_to_unix_nanos(request.end),
            request.limit,
            now_ns,
        )
        bars = [parse_bar(c, bar_type, instrument, now_ns) for c in candles]
        self._handle_bars(bar_type, bars, request.id, request.start, request.end, request.params)

    async def _request_funding_rates(self, request: RequestFundingRates) -> None:
        instrument = self._instrument_for(request.instrument_id)
        if instrument is None:
            return
        now_ns = self._clock.timestamp_ns()
        coin = instrument.raw_symbol.value
        start_ns = maybe_dt_to_unix_nanos(request.start)
        rows = await fetch_funding_history(
            self._http, coin, start_ns, maybe_dt_to_unix_nanos(request.end), now_ns
        )
        updates = parse_funding_history(rows, instrument.id, now_ns)
        if request.limit > 0:
            updates = updates[-request.limit :]
        self._handle_funding_rates(
            instrument.id, updates, request.id, request.start, request.end, request.params
        )

    async def _request_trade_ticks(self, request: RequestTradeTicks) -> None:
        instrument = self._instrument_for(request.instrument_id)
        if instrument is None:
            return
        now_ns = self._clock.timestamp_ns()
        trades = await fetch_recent_trades(self._http, instrument.raw_symbol.value)
        start_ns = maybe_dt_to_unix_nanos(request.start)
        end_ns = maybe_dt_to_unix_nanos(request.end)
        ticks = [
            parse_trade_tick(t, instrument, now_ns)
            for t in trades
            if (start_ns is None or millis_to_nanos(t.time) >= start_ns)
            and (end_ns is None or millis_to_nanos(t.time) <= end_ns)
        ]
        if request.limit > 0:
            ticks = ticks[-request.limit :]
        self._handle_trade_ticks(
            instrument.id, ticks, request.id, request.start, request.end, request.params
        )


def wire_health_gates(node: Any) -> list[HyperliquidDataClient]:
    """Attach ``node.kernel.risk_engine`` to every Hyperliquid data client of a built node, and
    the resulting gate to every execution client that holds conditions on it.

    NautilusTrader gives clients no handle on the RiskEngine, so whoever builds the node
    calls this once after ``node.build()`` (``jarvis node`` does). It also switches each client
    to direct delivery into the DataEngine when its ``direct_to_data_engine`` is on. Returns the
    wired data clients.
    """
    kernel = node.kernel
    clients: Iterable[Any] = kernel.data_engine._clients.values()
    wired = [c for c in clients if isinstance(c, HyperliquidDataClient)]
    gates = [client.attach_risk_engine(kernel.risk_engine) for client in wired]
    # With the gates wired, data may bypass the bus and the engine's queue (module notes).
    for client in wired:
        client.attach_data_engine(kernel.data_engine)
    # Execution clients hold their own conditions (dead-man switch, account view) on the same
    # gate: one owner of the trading state.
    gate = next((g for g in gates if g is not None), None)
    for exec_client in kernel.exec_engine._clients.values():
        attach = getattr(exec_client, "attach_health_gate", None)
        if attach is not None:
            attach(kernel.risk_engine, gate)
    return wired
