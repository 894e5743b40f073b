"""The Hyperliquid live market-data client for NautilusTrader, and the frame handler it runs.

Why two classes:

* ``HyperliquidFrameHandler`` turns one raw WebSocket frame into NautilusTrader data objects:
  decode (one msgspec tagged-union decoder, built once) -> continuity checks (``StreamMonitor``)
  -> parse (``parsing.py``) -> hand to an ``emit`` callback. It reads no clock: every object is
  stamped from the frame's receive time (``ts_init = recv_ns``) and sequence number, and bars
  close on frame times or an explicit ``flush_bars(now_ns)``. So ``replay.py`` can feed a
  recording through the very same handler and get the very same objects.
* ``HyperliquidDataClient`` is the NautilusTrader ``LiveMarketDataClient``: it owns the
  transports (``HyperliquidHttpClient``, ``HyperliquidWebSocketClient``), the instrument
  provider and its refresh, the recorder, the subscriptions, the timers (staleness checks, bar
  close backstop, the periodic status line) and the ``HealthGate`` on the node's RiskEngine.

Decisions worth knowing:

* One l2Book stream per coin. ``subscribe_order_book_deltas(..., params={"fast": True})`` picks
  the venue's 5-level fast book instead of the 20-level one. Depth-10 snapshots come from the same
  stream. Every (re)connection resets the book differs, so the first book after a subscribe or a
  reconnect is a full snapshot (CLEAR + ADDs); a reordered (older) book is dropped (GAP), never
  applied. NautilusTrader 1.231 replaces the cached book with an empty one on EVERY managed
  subscription (deltas or depth 10) but tells the client only about the first, so the client
  also sends the next frame whole whenever the cached book object changed (``_book_replaced``).
  Depth-10 snapshots are whole by nature and need nothing.
* Bars are emitted once per candle, never partial, as soon as the candle is known to be closed:
  a frame of the same coin stamped at or after the close time (the venue is block-ordered, so
  every update of the old candle came before it), a candle of a newer period, or, for a quiet
  market, a timer at the close time on the venue's clock (estimated from recent frames as the
  smallest receive-minus-venue time, which absorbs clock offset and latency) plus
  ``bar_close_grace_ms``. Never when the next candle happens to arrive.
* activeAssetCtx feeds mark, index (oracle), funding and open interest; each is emitted only
  while subscribed. Open interest and trades-with-addresses are custom data
  (``OpenInterestUpdate``, ``HyperliquidTrade``) routed per instrument by the data engine;
  subscribe with ``subscribe_data(DataType(T), instrument_id=...)``. ``FeedHealth`` has no
  instrument: subscribe with ``subscribe_data(FEED_HEALTH_DATA_TYPE, client_id=ClientId(...))``.
* A skipped trades message is caught by ``TradeCountCheck`` (see ``health.py``): with
  ``health.check_trade_counts`` on (the default), subscribing trades of a coin also subscribes
  its 1m candle stream internally (output ``"trade_check"``), whose trade counts are compared
  with the prints received; no bars are published for it unless bars were asked for.
* "Needed" streams for the health gate are the streams this client subscribed on the node's
  behalf whose channel is in ``health.gate_channels`` (books, top of book, asset context by
  default; trades and candles may be silent for minutes). The gate needs the node's RiskEngine,
  which NautilusTrader does not hand to data clients: ``wire_health_gates(node)`` attaches it
  after ``node.build()``.
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

import msgspec
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import Logger
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.data import Data
from nautilus_trader.core.datetime import dt_to_unix_nanos
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
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.constants import CANDLE_INTERVAL_MS
from adapters.hyperliquid.data_types import FEED_COUNTERS_DATA_TYPE
from adapters.hyperliquid.data_types import FEED_HEALTH_DATA_TYPE
from adapters.hyperliquid.data_types import HYPERLIQUID_TRADE_DATA_TYPE
from adapters.hyperliquid.data_types import OPEN_INTEREST_DATA_TYPE
from adapters.hyperliquid.data_types import FeedCounters
from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.data_types import FeedHealthStatus
from adapters.hyperliquid.data_types import HyperliquidTrade
from adapters.hyperliquid.data_types import OpenInterestUpdate
from adapters.hyperliquid.data_types import new_feed_counters
from adapters.hyperliquid.health import HealthGate
from adapters.hyperliquid.health import StreamMonitor
from adapters.hyperliquid.health import TradeCountCheck
from adapters.hyperliquid.health import TradingStateTarget
from adapters.hyperliquid.health import stream_key
from adapters.hyperliquid.health import stream_kind
from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.parsing import BookDiffer
from adapters.hyperliquid.parsing import bar_type_for_interval
from adapters.hyperliquid.parsing import interval_for_bar_type
from adapters.hyperliquid.parsing import parse_asset_ctx
from adapters.hyperliquid.parsing import parse_bar
from adapters.hyperliquid.parsing import parse_depth10
from adapters.hyperliquid.parsing import parse_funding_history
from adapters.hyperliquid.parsing import parse_hyperliquid_trade
from adapters.hyperliquid.parsing import parse_quote_tick
from adapters.hyperliquid.parsing import parse_spot_asset_ctx
from adapters.hyperliquid.parsing import parse_trade_tick
from adapters.hyperliquid.providers import HYPERLIQUID_VENUE
from adapters.hyperliquid.providers import HyperliquidInstrumentProvider
from adapters.hyperliquid.recorder import CONTROL_BOOK_RESET
from adapters.hyperliquid.recorder import CONTROL_OUTPUTS
from adapters.hyperliquid.recorder import CONTROL_STREAMS
from adapters.hyperliquid.recorder import ControlPayload
from adapters.hyperliquid.recorder import FrameKind
from adapters.hyperliquid.recorder import FrameRecorder
from adapters.hyperliquid.recorder import encode_control
from adapters.hyperliquid.recorder import last_recorded_seq
from adapters.hyperliquid.schemas.common import Candle
from adapters.hyperliquid.schemas.common import L2Book
from adapters.hyperliquid.schemas.common import Trade
from adapters.hyperliquid.schemas.info import FundingHistoryEntry
from adapters.hyperliquid.schemas.ws import WS_FRAME_DECODER
from adapters.hyperliquid.schemas.ws import ActiveAssetCtxFrame
from adapters.hyperliquid.schemas.ws import ActiveAssetCtxSubscription
from adapters.hyperliquid.schemas.ws import ActiveSpotAssetCtxFrame
from adapters.hyperliquid.schemas.ws import BboFrame
from adapters.hyperliquid.schemas.ws import BboSubscription
from adapters.hyperliquid.schemas.ws import CandleFrame
from adapters.hyperliquid.schemas.ws import CandleSubscription
from adapters.hyperliquid.schemas.ws import L2BookFrame
from adapters.hyperliquid.schemas.ws import L2BookSubscription
from adapters.hyperliquid.schemas.ws import Subscription
from adapters.hyperliquid.schemas.ws import TradesFrame
from adapters.hyperliquid.schemas.ws import TradesSubscription
from adapters.hyperliquid.startup import until_reachable
from adapters.hyperliquid.websocket import HyperliquidWebSocketClient
from adapters.hyperliquid.websocket import subscription_stream_key

__all__ = [
    "OUTPUTS",
    "TRADE_CHECK",
    "HyperliquidDataClient",
    "HyperliquidFrameHandler",
    "wire_health_gates",
]

_NANOS_PER_MILLI: Final[int] = 1_000_000
_NANOS_PER_SEC: Final[int] = 1_000_000_000
_GAP: Final[str] = FeedHealthStatus.GAP.value
# Receive-minus-venue time samples are kept as the minimum over two windows of this length.
_OFFSET_WINDOW_NS: Final[int] = 10 * _NANOS_PER_SEC
# Frames that are not data: skipped before decoding.
_NON_DATA_KEYS: Final[frozenset[str]] = frozenset(
    {"greeting", "text", "pong", "post", "error", "subscriptionResponse"}
)
_CANDLE_PAGE: Final[int] = 5_000
_FUNDING_PAGE: Final[int] = 500
_CONNECT_TIMEOUT_SECS: Final[float] = 15.0

"""Nominal length of each candle interval (``1M`` as 30 days: paging only, never for closes)."""

OUTPUTS: Final[frozenset[str]] = frozenset(
    {
        "deltas",
        "depth10",
        "quotes",
        "trades",
        "hl_trades",
        "mark",
        "index",
        "funding",
        "open_interest",
        "trade_check",
    }
)
"""What a coin's streams can be turned into; bars are ``"bar:<interval>"``. ``"trade_check"``
turns the coin's 1m candles into trade-count checks of its trades stream (no data)."""

TRADE_CHECK: Final[str] = "trade_check"
_TRADE_CHECK_INTERVAL: Final[str] = "1m"

_CTX_OUTPUTS: Final[frozenset[str]] = frozenset({"mark", "index", "funding", "open_interest"})
_TRADE_OUTPUTS: Final[frozenset[str]] = frozenset({"trades", "hl_trades"})
_NO_DATA_OUTPUTS: Final[frozenset[str]] = frozenset({"trade_check"})
_RECENT_TRADES_DECODER: Final = msgspec.json.Decoder(list[Trade])

Emit = Callable[[Data], None]
HealthSink = Callable[[FeedHealth], None]


class _BarState:
    """The newest candle of one (coin, interval) stream, until it is emitted as a bar."""

    __slots__ = ("bar_type", "current", "deadline_ns", "last_emitted_open")

    def __init__(self, bar_type: BarType) -> None:
        self.bar_type = bar_type
        self.current: Candle | None = None
        self.deadline_ns = 0
        self.last_emitted_open = -1


class _CoinState:
    """Everything the handler keeps per venue coin: instrument, differ, outputs, status."""

    __slots__ = (
        "bars",
        "differ",
        "fast_differ",
        "instrument",
        "outputs",
        "pending_close_ms",
    )

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.differ = BookDiffer(instrument)
        self.fast_differ = BookDiffer(instrument)
        self.outputs: set[str] = set()
        self.bars: dict[str, _BarState] = {}
        # Smallest close time (venue ms) of a candle not yet emitted; a frame stamped at or after
        # it closes that candle.
        self.pending_close_ms: int | None = None


class HyperliquidFrameHandler:
    """Raw venue frame -> NautilusTrader objects, deterministic in the frames (module notes).

    Parameters
    ----------
    emit : Callable[[Data], None]
        Receives every data object (custom types wrapped in ``CustomData``), in order.
    on_health : Callable[[FeedHealth], None]
        Receives every stream health change.
    monitor : StreamMonitor
        Continuity and staleness state; streams are registered by the owner.
    bar_close_grace_ns : int
        Slack after a candle's close (on the venue clock) before the backstop emits it.
    schedule_bar_close : Callable[[int], None], optional
        Called with a local time (ns) at which ``flush_bars`` should run (the live backstop
        timer); ``None`` during replay, where frame times drive everything.
    logger : Logger, optional
        Where the first undecodable frame of each stream is logged (with its channel and an
        excerpt); later ones are only counted (``decode_errors_by_stream``).
    book_replaced : Callable[[InstrumentId, int], bool], optional
        Asked before each book diff with the instrument and the frame's sequence number:
        ``True`` when the book the deltas feed was replaced since the last call (live:
        NautilusTrader swapped in an empty managed book), so the frame is emitted whole instead
        of diffed. Replay answers from the recorded ``book_reset`` control records.
    """

    def __init__(
        self,
        emit: Emit,
        on_health: HealthSink,
        monitor: StreamMonitor,
        *,
        bar_close_grace_ns: int = 250 * _NANOS_PER_MILLI,
        schedule_bar_close: Callable[[int], None] | None = None,
        book_replaced: Callable[[InstrumentId, int], bool] | None = None,
        logger: Logger | None = None,
    ) -> None:
        self._emit = emit
        self._log = logger
        self._book_replaced = book_replaced
        self._on_health = on_health
        self.monitor = monitor
        self._grace_ns = bar_close_grace_ns
        self._schedule = schedule_bar_close
        self._decode = WS_FRAME_DECODER.decode
        self._coins: dict[str, _CoinState] = {}
        self._trade_counts = TradeCountCheck()
        self._conn_id: str | None = None
        self._next_deadline_ns: int | None = None
        self._offset_cur = 0
        self._offset_prev = 0
        self._offset_window_start = -1
        self.decode_errors_by_stream: dict[str, int] = {}

    # -- configuration ------------------------------------------------------------------------

    def add_instrument(self, instrument: Instrument) -> None:
        """Know (or update) an instrument; its venue coin is the raw symbol."""
        coin = instrument.raw_symbol.value
        state = self._coins.get(coin)
        if state is None:
            self._coins[coin] = _CoinState(instrument)
        else:
            state.instrument = instrument

    def instrument(self, coin: str) -> Instrument | None:
        """The instrument of a venue coin, if known."""
        state = self._coins.get(coin)
        return None if state is None else state.instrument

    def set_output(self, coin: str, output: str, enabled: bool) -> bool:
        """Turn one output of a coin on or off (``OUTPUTS`` or ``"bar:<interval>"``); True when
        this changed anything (the live client records only changes, see ``replay.py``)."""
        state = self._coins[coin]
        if output.startswith("bar:"):
            interval = output.removeprefix("bar:")
            changed = enabled != (interval in state.bars)
            if enabled:
                if interval not in state.bars:
                    bar_type = bar_type_for_interval(state.instrument.id, interval)
                    state.bars[interval] = _BarState(bar_type)
            else:
                state.bars.pop(interval, None)
                self._refresh_pending(state)
        elif output not in OUTPUTS:
            raise ValueError(f"unknown output {output!r}; expected one of {sorted(OUTPUTS)}")
        else:
            changed = enabled != (output in state.outputs)
        if output == TRADE_CHECK and enabled != (output in state.outputs):
            if enabled:
                self._trade_counts.reset(coin)
            else:
                self._trade_counts.discard(coin)
        elif output == "deltas" and enabled and output not in state.outputs:
            # While deltas were off the differs kept an old snapshot: diffing the next book
            # against it would leave the new subscriber without the unchanged levels.
            self.reset_books(coin)
        if enabled:
            state.outputs.add(output)
        else:
            state.outputs.discard(output)
        return changed

    def reset_books(self, coin: str) -> None:
        """Emit the coin's next book (normal and fast) whole: CLEAR + every level.

        Needed whenever whoever applies the deltas may hold a book that is not the previous
        snapshot, e.g. NautilusTrader 1.231 replaces the cached book with an empty one on every
        managed subscription, even when the stream is already running.
        """
        state = self._coins.get(coin)
        if state is not None:
            state.differ.reset()
            state.fast_differ.reset()

    def outputs(self) -> dict[str, frozenset[str]]:
        """Enabled data outputs per coin (what replay needs to reproduce a live run); the
        ``"trade_check"`` output emits no data and is left out."""
        result = {}
        for coin, state in self._coins.items():
            outputs = state.outputs - _NO_DATA_OUTPUTS
            if outputs:
                result[coin] = frozenset(outputs)
        return result

    @property
    def trade_count_check(self) -> TradeCountCheck:
        """The skipped-trades detector (its counters show how many minutes it compared)."""
        return self._trade_counts

    def status(self, coin: str) -> _CoinState | None:
        """The per-coin state (for the periodic status line)."""
        return self._coins.get(coin)

    @property
    def coins(self) -> list[str]:
        """Known venue coins."""
        return list(self._coins)

    # -- the hot path ---------------------------------------------------------------------------

    def handle(self, raw: bytes, seq: int, recv_ns: int, conn_id: str, key: str) -> None:
        """Decode one frame and emit what it means (see module notes)."""
        if conn_id != self._conn_id:
            self._new_connection(conn_id, recv_ns)
        deadline = self._next_deadline_ns
        if deadline is not None and deadline <= recv_ns:
            self.flush_bars(recv_ns)
        if key in _NON_DATA_KEYS:
            return
        try:
            frame = self._decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            self._on_decode_error(raw, key, exc)
            return
        # Most frequent first; isinstance narrows the union for the type checker.
        if isinstance(frame, L2BookFrame):
            self._on_book(frame.data, seq, recv_ns, key)
        elif isinstance(frame, BboFrame):
            self._on_bbo(frame, recv_ns, key)
        elif isinstance(frame, TradesFrame):
            self._on_trades(frame.data, recv_ns, key)
        elif isinstance(frame, ActiveAssetCtxFrame):
            self._on_ctx(frame, recv_ns, key)
        elif isinstance(frame, CandleFrame):
            self._on_candle(frame.data, recv_ns, key)
        elif isinstance(frame, ActiveSpotAssetCtxFrame):
            self._on_spot_ctx(frame, recv_ns, key)

    def _on_decode_error(self, raw: bytes, key: str, exc: Exception) -> None:
        # Counted per stream (the status line shows them); only the first of each stream is
        # logged, so a venue schema change cannot flood the log with one line per frame.
        count = self.decode_errors_by_stream.get(key, 0) + 1
        self.decode_errors_by_stream[key] = count
        if count == 1 and self._log is not None:
            channel = key.split(":", 1)[0]
            excerpt = raw[:200].decode("utf-8", "replace")
            self._log.error(
                f"Undecodable {channel} frame on stream {key} (first on this stream; later ones "
                f"are counted in the status line): {exc}: {excerpt}"
            )

    def _new_connection(self, conn_id: str, recv_ns: int) -> None:
        # Continuity is lost: the next book of every coin is emitted whole, and the replayed
        # data that follows a resubscription is not a GAP.
        self._conn_id = conn_id
        for state in self._coins.values():
            state.differ.reset()
            state.fast_differ.reset()
        for stream in self.monitor.streams:
            self.monitor.mark_resubscribed(stream, recv_ns)
        self._trade_counts.reset_all()

    def _health(self, change: FeedHealth | None) -> None:
        if change is not None:
            self._on_health(change)

    def _sample_offset(self, venue_ms: int, recv_ns: int) -> None:
        sample = recv_ns - venue_ms * _NANOS_PER_MILLI
        if recv_ns - self._offset_window_start > _OFFSET_WINDOW_NS:
            first = self._offset_window_start < 0
            self._offset_prev = sample if first else self._offset_cur
            self._offset_cur = sample
            self._offset_window_start = recv_ns
        elif sample < self._offset_cur:
            self._offset_cur = sample

    @property
    def venue_offset_ns(self) -> int:
        """Estimated local-minus-venue clock offset including the smallest recent latency."""
        return min(self._offset_cur, self._offset_prev)

    def _accept_frame(
        self, coin: str, key: str, venue_ms: int | None, recv_ns: int
    ) -> _CoinState | None:
        """The common start of a market frame: its coin's state, stream health and venue time.

        None means the frame goes no further: an unknown coin, or a frame carrying venue time that
        is older than the last one on its stream (reported as GAP by the monitor, and dropped).
        """
        state = self._coins.get(coin)
        if state is None:
            return None
        monitor = self.monitor
        self._health(monitor.on_frame(key, venue_ms, recv_ns))
        if venue_ms is not None and monitor.status(key) == _GAP:
            return None
        if venue_ms is not None:
            self._advance_venue_time(state, venue_ms, recv_ns)
        return state

    def _advance_venue_time(self, state: _CoinState, venue_ms: int, recv_ns: int) -> None:
        """Venue time moved on: refresh the clock-offset estimate and close any bar now due."""
        self._sample_offset(venue_ms, recv_ns)
        if state.pending_close_ms is not None and venue_ms >= state.pending_close_ms:
            self._close_bars(state, venue_ms, recv_ns)

    def _on_book(self, book: L2Book, seq: int, recv_ns: int, key: str) -> None:
        state = self._accept_frame(book.coin, key, book.time, recv_ns)
        if state is None:
            return
        outputs = state.outputs
        if "deltas" in outputs:
            replaced = self._book_replaced
            if replaced is not None and replaced(state.instrument.id, seq):
                state.differ.reset()
                state.fast_differ.reset()
            differ = state.fast_differ if book.fast else state.differ
            deltas = differ.diff(book, recv_ns, seq)
            if deltas is not None:
                self._emit(deltas)
        if "depth10" in outputs:
            self._emit(parse_depth10(book, state.instrument, recv_ns, seq))

    def _on_bbo(self, frame: BboFrame, recv_ns: int, key: str) -> None:
        bbo = frame.data
        state = self._accept_frame(bbo.coin, key, bbo.time, recv_ns)
        if state is None:
            return
        if "quotes" in state.outputs:
            quote = parse_quote_tick(bbo, state.instrument, recv_ns)
            if quote is not None:
                self._emit(quote)

    def _on_trades(self, trades: list[Trade], recv_ns: int, key: str) -> None:
        if not trades:
            return
        state = self._coins.get(trades[0].coin)
        if state is None:
            return
        if TRADE_CHECK in state.outputs:
            self._trade_counts.on_trades(trades[0].coin, trades)
        fresh, change = self.monitor.on_trades(key, trades, recv_ns)
        self._health(change)
        if not fresh:
            return
        self._advance_venue_time(state, fresh[-1].time, recv_ns)
        outputs = state.outputs
        want_ticks = "trades" in outputs
        want_hl = "hl_trades" in outputs
        instrument = state.instrument
        emit = self._emit
        for trade in fresh:
            if want_ticks:
                emit(parse_trade_tick(trade, instrument, recv_ns))
            if want_hl:
                hl_trade = parse_hyperliquid_trade(trade, instrument, recv_ns)
                emit(CustomData(HYPERLIQUID_TRADE_DATA_TYPE, hl_trade))

    def _on_ctx(self, frame: ActiveAssetCtxFrame, recv_ns: int, key: str) -> None:
        data = frame.data
        state = self._accept_frame(data.coin, key, None, recv_ns)
        if state is None:
            return
        ctx = data.ctx
        outputs = state.outputs
        if not outputs & _CTX_OUTPUTS:
            return
        updates = parse_asset_ctx(ctx, state.instrument, recv_ns)
        if "mark" in outputs:
            self._emit(updates.mark)
        if "index" in outputs:
            self._emit(updates.index)
        if "funding" in outputs:
            self._emit(updates.funding)
        if "open_interest" in outputs:
            self._emit(CustomData(OPEN_INTEREST_DATA_TYPE, updates.open_interest))

    def _on_spot_ctx(self, frame: ActiveSpotAssetCtxFrame, recv_ns: int, key: str) -> None:
        data = frame.data
        state = self._accept_frame(data.coin, key, None, recv_ns)
        if state is None:
            return
        if "mark" in state.outputs:
            self._emit(parse_spot_asset_ctx(data.ctx, state.instrument, recv_ns))

    # -- bars -----------------------------------------------------------------------------------

    def _on_candle(self, candle: Candle, recv_ns: int, key: str) -> None:
        state = self._coins.get(candle.s)
        if state is None:
            return
        self._health(self.monitor.on_frame(key, None, recv_ns))
        if candle.i == _TRADE_CHECK_INTERVAL and TRADE_CHECK in state.outputs:
            reason = self._trade_counts.on_candle(candle.s, candle.t, candle.n)
            if reason is not None:
                trades_key = stream_key("trades", candle.s)
                self._health(self.monitor.report_gap(trades_key, reason, recv_ns))
        bar_state = state.bars.get(candle.i)
        if bar_state is None or candle.t <= bar_state.last_emitted_open:
            return  # not subscribed, or a period already emitted (e.g. replayed on resubscribe)
        current = bar_state.current
        if current is not None and candle.t < current.t:
            return  # an older period after a newer one: stale, never emitted
        if current is not None and candle.t > current.t:
            # A newer period began: the current candle is complete.
            self._emit_bar(state, bar_state, recv_ns)
        bar_state.current = candle
        close_ms = candle.T + 1
        bar_state.deadline_ns = close_ms * _NANOS_PER_MILLI + self.venue_offset_ns + self._grace_ns
        if state.pending_close_ms is None or close_ms < state.pending_close_ms:
            state.pending_close_ms = close_ms
        self._arm(bar_state.deadline_ns)

    def _arm(self, deadline_ns: int) -> None:
        nxt = self._next_deadline_ns
        if nxt is None or deadline_ns < nxt:
            self._next_deadline_ns = deadline_ns
            if self._schedule is not None:
                self._schedule(deadline_ns)

    def _emit_bar(self, state: _CoinState, bar_state: _BarState, ts_init: int) -> None:
        candle = bar_state.current
        if candle is None:
            return
        bar_state.current = None
        bar_state.last_emitted_open = candle.t
        self._emit(parse_bar(candle, bar_state.bar_type, state.instrument, ts_init))
        self._refresh_pending(state)

    @staticmethod
    def _refresh_pending(state: _CoinState) -> None:
        closes = [b.current.T + 1 for b in state.bars.values() if b.current is not None]
        state.pending_close_ms = min(closes) if closes else None

    def _close_bars(self, state: _CoinState, venue_ms: int, recv_ns: int) -> None:
        # A frame stamped at or after a candle's close proves the candle complete.
        for bar_state in state.bars.values():
            current = bar_state.current
            if current is not None and venue_ms >= current.T + 1:
                self._emit_bar(state, bar_state, recv_ns)

    def flush_bars(self, now_ns: int) -> None:
        """Emit every candle whose backstop deadline is at or before ``now_ns``.

        Each bar is stamped with its deadline (not ``now_ns``), so a live timer firing late and a
        replay reaching the same point produce the same object.
        """
        nxt: int | None = None
        for state in self._coins.values():
            for bar_state in state.bars.values():
                if bar_state.current is None:
                    continue
                if bar_state.deadline_ns <= now_ns:
                    self._emit_bar(state, bar_state, bar_state.deadline_ns)
                elif nxt is None or bar_state.deadline_ns < nxt:
                    nxt = bar_state.deadline_ns
        self._next_deadline_ns = nxt
        if nxt is not None and self._schedule is not None:
            self._schedule(nxt)


# ------------------------------------------------------------------------------------------------
# The NautilusTrader data client
# ------------------------------------------------------------------------------------------------


def _output_subscription(coin: str, output: str, fast: bool) -> Subscription:
    """The venue subscription that feeds one output of a coin."""
    if output in ("deltas", "depth10"):
        return L2BookSubscription(coin=coin, fast=True) if fast else L2BookSubscription(coin=coin)
    if output == "quotes":
        return BboSubscription(coin=coin)
    if output in ("trades", "hl_trades"):
        return TradesSubscription(coin=coin)
    if output in _CTX_OUTPUTS:
        return ActiveAssetCtxSubscription(coin=coin)
    if output.startswith("bar:"):
        return CandleSubscription(coin=coin, interval=output.removeprefix("bar:"))
    if output == TRADE_CHECK:
        return CandleSubscription(coin=coin, interval=_TRADE_CHECK_INTERVAL)
    raise ValueError(f"unknown output {output!r}")


def _nanos(value: Any) -> int | None:
    return None if value is None else int(dt_to_unix_nanos(value))


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
        self._http = http
        if config.recorder is not None:
            self._recorder = FrameRecorder.from_config(
                config.recorder,
                on_health=self._on_recorder_health,
                logger=Logger(f"{component}-Recorder"),
            )
        health = config.health
        self._monitor = StreamMonitor(health.stale_thresholds_ns())
        self._handler = HyperliquidFrameHandler(
            self._handle_data,
            self._on_health,
            self._monitor,
            bar_close_grace_ns=config.bar_close_grace_ms * _NANOS_PER_MILLI,
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

    def attach_risk_engine(self, risk_engine: TradingStateTarget) -> HealthGate | None:
        """Let unhealthy needed streams hold the node's RiskEngine in REDUCING (module notes);
        returns the gate (``None`` when disabled by config)."""
        health = self._config.health
        if not health.gate_enabled:
            self._log.info("Health gate disabled by config")
            return None
        gate = HealthGate(risk_engine, int(health.gate_recovery_secs * _NANOS_PER_SEC), self._log)
        for feed_health in self._latest_health.values():
            gate.on_health(feed_health)
        self._gate = gate
        self._update_required_streams()
        self._log.info(
            f"Health gate attached: needed channels {sorted(self._gate_channels)}, "
            f"recovery {health.gate_recovery_secs:g} s"
        )
        return gate

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
        with self._http.own_retries():
            await until_reachable(
                self._provider.load_once,
                what=f"Loading instruments from {self._config.http_url}",
                log=self._log,
                initial_backoff_secs=self._config.reconnect_initial_backoff_secs,
                max_backoff_secs=self._config.reconnect_max_backoff_secs,
                stopping=lambda: self._stopping,
            )
        instruments = self._provider.list_all()
        for instrument in instruments:
            self._handler.add_instrument(instrument)
            self._handle_data(instrument)
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
        if health.status == FeedHealthStatus.OK.value:
            self._log.info(f"Feed {health.stream}: OK ({health.reason})")
        else:
            self._log.warning(f"Feed {health.stream}: {health.status} ({health.reason})")
        self._handle_data(CustomData(FEED_HEALTH_DATA_TYPE, health))
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
        delay = max(deadline_ns - self._clock.timestamp_ns(), 0) / _NANOS_PER_SEC
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
                self._handle_data(CustomData(FEED_COUNTERS_DATA_TYPE, counters))

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
                    self._handle_data(instrument)
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
        if output in ("deltas", "depth10"):
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
        elif output in ("deltas", "depth10"):
            # A book subscription on a running stream: its subscriber starts from nothing.
            self._handler.reset_books(coin)
            self._record_control(CONTROL_BOOK_RESET, ControlPayload(coin=coin))
        if output in _TRADE_OUTPUTS and self._config.health.check_trade_counts:
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
        if output in _TRADE_OUTPUTS:
            state = self._handler.status(coin)
            outputs = state.outputs if state is not None else set()
            if TRADE_CHECK in outputs and not outputs & _TRADE_OUTPUTS:
                await self._disable(instrument_id, TRADE_CHECK)

    async def _subscribe_instruments(self, command: SubscribeInstruments) -> None:
        pass  # instruments are pushed on connect and on every refresh

    async def _subscribe_instrument(self, command: SubscribeInstrument) -> None:
        pass  # instruments are pushed on connect and on every refresh

    async def _subscribe_order_book_deltas(self, command: SubscribeOrderBook) -> None:
        fast = bool((command.params or {}).get("fast", False))
        await self._enable(command.instrument_id, "deltas", fast)

    async def _subscribe_order_book_depth(self, command: SubscribeOrderBook) -> None:
        fast = bool((command.params or {}).get("fast", False))
        await self._enable(command.instrument_id, "depth10", fast)

    async def _subscribe_quote_ticks(self, command: SubscribeQuoteTicks) -> None:
        await self._enable(command.instrument_id, "quotes")

    async def _subscribe_trade_ticks(self, command: SubscribeTradeTicks) -> None:
        await self._enable(command.instrument_id, "trades")

    async def _subscribe_mark_prices(self, command: SubscribeMarkPrices) -> None:
        await self._enable(command.instrument_id, "mark")

    async def _subscribe_index_prices(self, command: SubscribeIndexPrices) -> None:
        await self._enable(command.instrument_id, "index")

    async def _subscribe_funding_rates(self, command: SubscribeFundingRates) -> None:
        await self._enable(command.instrument_id, "funding")

    async def _subscribe_bars(self, command: SubscribeBars) -> None:
        bar_type = command.bar_type
        try:
            interval = interval_for_bar_type(bar_type)
        except ValueError as exc:
            self._log.error(f"Cannot subscribe to {bar_type}: {exc}")
            return
        await self._enable(bar_type.instrument_id, f"bar:{interval}")

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
            output = "hl_trades"
        elif cls is OpenInterestUpdate:
            output = "open_interest"
        else:
            self._log.error(f"Cannot subscribe to {cls.__name__}: not provided by this client")
            return None
        if instrument_id is None:
            self._log.error(f"Cannot subscribe to {cls.__name__} without an instrument_id")
            return None
        return output

    async def _unsubscribe_order_book_deltas(self, command: UnsubscribeOrderBook) -> None:
        await self._disable(command.instrument_id, "deltas")

    async def _unsubscribe_order_book_depth(self, command: UnsubscribeOrderBook) -> None:
        await self._disable(command.instrument_id, "depth10")

    async def _unsubscribe_quote_ticks(self, command: UnsubscribeQuoteTicks) -> None:
        await self._disable(command.instrument_id, "quotes")

    async def _unsubscribe_trade_ticks(self, command: UnsubscribeTradeTicks) -> None:
        await self._disable(command.instrument_id, "trades")

    async def _unsubscribe_mark_prices(self, command: UnsubscribeMarkPrices) -> None:
        await self._disable(command.instrument_id, "mark")

    async def _unsubscribe_index_prices(self, command: UnsubscribeIndexPrices) -> None:
        await self._disable(command.instrument_id, "index")

    async def _unsubscribe_funding_rates(self, command: UnsubscribeFundingRates) -> None:
        await self._disable(command.instrument_id, "funding")

    async def _unsubscribe_bars(self, command: UnsubscribeBars) -> None:
        try:
            interval = interval_for_bar_type(command.bar_type)
        except ValueError:
            return
        await self._disable(command.bar_type.instrument_id, f"bar:{interval}")

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
        candles = await self.fetch_candles(
            instrument.raw_symbol.value,
            interval,
            _nanos(request.start),
            _nanos(request.end),
            request.limit,
            now_ns,
        )
        bars = [parse_bar(c, bar_type, instrument, now_ns) for c in candles]
        self._handle_bars(bar_type, bars, request.id, request.start, request.end, request.params)

    async def fetch_candles(
        self,
        coin: str,
        interval: str,
        start_ns: int | None,
        end_ns: int | None,
        limit: int,
        now_ns: int,
    ) -> list[Candle]:
        """Closed candles in [start, end] paged through candleSnapshot (oldest first).

        Without a start, the last ``limit`` (or 500) periods before ``end`` are asked for; the
        candle still open at ``now_ns`` is left out (bars are never partial).
        """
        span_ms = CANDLE_INTERVAL_MS[interval]
        end_ms = (end_ns if end_ns is not None else now_ns) // _NANOS_PER_MILLI
        count = limit if limit > 0 else 500
        start_ms = (
            start_ns // _NANOS_PER_MILLI if start_ns is not None else end_ms - count * span_ms
        )
        now_ms = now_ns // _NANOS_PER_MILLI
        result: dict[int, Candle] = {}
        cursor = start_ms
        while cursor <= end_ms:
            body = {
                "type": "candleSnapshot",
                "req": {"coin": coin, "interval": interval, "startTime": cursor, "endTime": end_ms},
            }
            page: list[Candle] = await self._http.info(body)
            fresh = [c for c in page if c.t >= cursor and c.t not in result]
            for candle in fresh:
                if now_ms > candle.T and candle.t <= end_ms:
                    result[candle.t] = candle
            if not fresh or len(page) < _CANDLE_PAGE:
                break
            cursor = max(c.t for c in fresh) + 1
        candles = [result[t] for t in sorted(result)]
        return candles[-limit:] if limit > 0 else candles

    async def _request_funding_rates(self, request: RequestFundingRates) -> None:
        instrument = self._instrument_for(request.instrument_id)
        if instrument is None:
            return
        now_ns = self._clock.timestamp_ns()
        end_ms = (_nanos(request.end) or now_ns) // _NANOS_PER_MILLI
        start_ns = _nanos(request.start)
        start_ms = start_ns // _NANOS_PER_MILLI if start_ns is not None else end_ms - 86_400_000
        coin = instrument.raw_symbol.value
        rows: list[FundingHistoryEntry] = []
        cursor = start_ms
        while cursor <= end_ms:
            body = {"type": "fundingHistory", "coin": coin, "startTime": cursor, "endTime": end_ms}
            page: list[FundingHistoryEntry] = await self._http.info(body)
            fresh = [r for r in page if r.time >= cursor]
            rows.extend(fresh)
            if not fresh or len(page) < _FUNDING_PAGE:
                break
            cursor = fresh[-1].time + 1
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
        raw = await self._http.info_raw(
            {"type": "recentTrades", "coin": instrument.raw_symbol.value}
        )
        trades = sorted(_RECENT_TRADES_DECODER.decode(raw), key=lambda t: (t.time, t.tid))
        start_ns = _nanos(request.start)
        end_ns = _nanos(request.end)
        ticks = [
            parse_trade_tick(t, instrument, now_ns)
            for t in trades
            if (start_ns is None or t.time * _NANOS_PER_MILLI >= start_ns)
            and (end_ns is None or t.time * _NANOS_PER_MILLI <= end_ns)
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
    calls this once after ``node.build()`` (``jarvis node`` does). Returns the wired data clients.
    """
    kernel = node.kernel
    clients: Iterable[Any] = kernel.data_engine._clients.values()
    wired = [c for c in clients if isinstance(c, HyperliquidDataClient)]
    gates = [client.attach_risk_engine(kernel.risk_engine) for client in wired]
    # Execution clients hold their own conditions (dead-man switch, account view) on the same
    # gate: one owner of the trading state.
    gate = next((g for g in gates if g is not None), None)
    for exec_client in kernel.exec_engine._clients.values():
        attach = getattr(exec_client, "attach_health_gate", None)
        if attach is not None:
            attach(kernel.risk_engine, gate)
    return wired
