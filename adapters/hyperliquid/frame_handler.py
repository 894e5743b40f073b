"""Raw Hyperliquid frame -> NautilusTrader data objects: the one handler live and replay run.

``HyperliquidFrameHandler`` decodes a frame (one msgspec tagged-union decoder, built once), checks
continuity (``StreamMonitor``), parses (``parsing.py``) and hands the result to an ``emit``
callback. It reads no clock: every object is stamped from the frame's receive time
(``ts_init = recv_ns``) and sequence number, and bars close on frame times or an explicit
``flush_bars(now_ns)``. So ``replay.py`` feeds a recording through the very same handler and
gets the very same objects; the live client (``data.py``) owns transports, timers and the gate.

Decisions worth knowing:

* Every (re)connection resets the book differs, so the first book after a subscribe or a
  reconnect is a full snapshot (CLEAR + ADDs); a reordered (older) book is dropped (GAP), never
  applied. ``book_replaced`` lets the owner ask for the next frame whole (NautilusTrader 1.231
  swaps in an empty managed book on every managed subscription, see ``data.py``).
* Bars are emitted once per candle, never partial, as soon as the candle is known to be closed:
  a frame of the same coin stamped at or after the close time (the venue is block-ordered, so
  every update of the old candle came before it), a candle of a newer period, or, for a quiet
  market, a timer at the close time on the venue's clock (estimated from recent frames as the
  smallest receive-minus-venue time, which absorbs clock offset and latency) plus
  ``bar_close_grace_ms``. Never when the next candle happens to arrive.
* activeAssetCtx feeds mark, index (oracle), funding and open interest; each is emitted only
  while its output is on. Open interest and trades-with-addresses are custom data
  (``OpenInterestUpdate``, ``HyperliquidTrade``).
* A skipped trades message is caught by ``TradeCountCheck`` (``health.py``) on the
  ``DataOutput.TRADE_CHECK`` output: the coin's 1m candle trade counts are compared with the
  prints received.
* An undecodable frame is counted per stream (``decode_errors_by_stream``); the first of each
  stream is logged with its channel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import msgspec
from nautilus_trader.common.component import Logger
from nautilus_trader.core.data import Data
from nautilus_trader.core.datetime import secs_to_nanos
from nautilus_trader.core.nautilus_pyo3 import NANOSECONDS_IN_MILLISECOND
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument

from adapters.hyperliquid.data_types import HYPERLIQUID_TRADE_DATA_TYPE
from adapters.hyperliquid.data_types import OPEN_INTEREST_DATA_TYPE
from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.data_types import FeedHealthStatus
from adapters.hyperliquid.enums import BAR_OUTPUT_PREFIX
from adapters.hyperliquid.enums import DataOutput
from adapters.hyperliquid.health import StreamMonitor
from adapters.hyperliquid.health import TradeCountCheck
from adapters.hyperliquid.health import stream_key
from adapters.hyperliquid.parsing import BookDiffer
from adapters.hyperliquid.parsing import bar_type_for_interval
from adapters.hyperliquid.parsing import parse_asset_ctx
from adapters.hyperliquid.parsing import parse_bar
from adapters.hyperliquid.parsing import parse_depth10
from adapters.hyperliquid.parsing import parse_hyperliquid_trade
from adapters.hyperliquid.parsing import parse_quote_tick
from adapters.hyperliquid.parsing import parse_spot_asset_ctx
from adapters.hyperliquid.parsing import parse_trade_tick
from adapters.hyperliquid.schemas.common import Candle
from adapters.hyperliquid.schemas.common import L2Book
from adapters.hyperliquid.schemas.common import Trade
from adapters.hyperliquid.schemas.ws import WS_FRAME_DECODER
from adapters.hyperliquid.schemas.ws import ActiveAssetCtxFrame
from adapters.hyperliquid.schemas.ws import ActiveSpotAssetCtxFrame
from adapters.hyperliquid.schemas.ws import BboFrame
from adapters.hyperliquid.schemas.ws import CandleFrame
from adapters.hyperliquid.schemas.ws import L2BookFrame
from adapters.hyperliquid.schemas.ws import TradesFrame

__all__ = [
    "CTX_OUTPUTS",
    "OUTPUTS",
    "TRADE_CHECK",
    "TRADE_CHECK_INTERVAL",
    "TRADE_OUTPUTS",
    "HyperliquidFrameHandler",
]

_GAP: Final[str] = FeedHealthStatus.GAP.value
# Receive-minus-venue time samples are kept as the minimum over two windows of this length.
_OFFSET_WINDOW_NS: Final[int] = secs_to_nanos(10)
# Hot path (every frame): NautilusTrader's constant, not a call per conversion.
_NS_PER_MS: Final[int] = NANOSECONDS_IN_MILLISECOND
# Frames that are not data: skipped before decoding.
_NON_DATA_KEYS: Final[frozenset[str]] = frozenset(
    {"greeting", "text", "pong", "post", "error", "subscriptionResponse"}
)

OUTPUTS: Final[frozenset[str]] = frozenset(DataOutput)
"""What a coin's streams can be turned into (``DataOutput``); bars are ``bar_output(interval)``."""

TRADE_CHECK: Final[str] = DataOutput.TRADE_CHECK
TRADE_CHECK_INTERVAL: Final[str] = "1m"
"""The candle interval whose trade counts check the trades stream."""

CTX_OUTPUTS: Final[frozenset[str]] = frozenset(
    {DataOutput.MARK, DataOutput.INDEX, DataOutput.FUNDING, DataOutput.OPEN_INTEREST}
)
TRADE_OUTPUTS: Final[frozenset[str]] = frozenset({DataOutput.TRADES, DataOutput.HL_TRADES})
_NO_DATA_OUTPUTS: Final[frozenset[str]] = frozenset({DataOutput.TRADE_CHECK})

# Bound once: module globals are cheaper than enum attribute lookups on the hot path.
_DELTAS: Final[str] = DataOutput.DELTAS
_DEPTH10: Final[str] = DataOutput.DEPTH10
_QUOTES: Final[str] = DataOutput.QUOTES
_TRADES: Final[str] = DataOutput.TRADES
_HL_TRADES: Final[str] = DataOutput.HL_TRADES
_MARK: Final[str] = DataOutput.MARK
_INDEX: Final[str] = DataOutput.INDEX
_FUNDING: Final[str] = DataOutput.FUNDING
_OPEN_INTEREST: Final[str] = DataOutput.OPEN_INTEREST

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
        bar_close_grace_ns: int = 250 * _NS_PER_MS,
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

    def set_emit(self, emit: Emit) -> None:
        """Send every later data object to ``emit`` (the live client's direct delivery)."""
        self._emit = emit

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
        """Turn one output of a coin on or off (``OUTPUTS`` or ``bar_output(interval)``); True when
        this changed anything (the live client records only changes, see ``replay.py``)."""
        state = self._coins[coin]
        if output.startswith(BAR_OUTPUT_PREFIX):
            interval = output.removeprefix(BAR_OUTPUT_PREFIX)
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
        elif output == DataOutput.DELTAS and enabled and output not in state.outputs:
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
        sample = recv_ns - venue_ms * _NS_PER_MS
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
        if _DELTAS in outputs:
            replaced = self._book_replaced
            if replaced is not None and replaced(state.instrument.id, seq):
                state.differ.reset()
                state.fast_differ.reset()
            differ = state.fast_differ if book.fast else state.differ
            deltas = differ.diff(book, recv_ns, seq)
            if deltas is not None:
                self._emit(deltas)
        if _DEPTH10 in outputs:
            self._emit(parse_depth10(book, state.instrument, recv_ns, seq))

    def _on_bbo(self, frame: BboFrame, recv_ns: int, key: str) -> None:
        bbo = frame.data
        state = self._accept_frame(bbo.coin, key, bbo.time, recv_ns)
        if state is None:
            return
        if _QUOTES in state.outputs:
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
        want_ticks = _TRADES in outputs
        want_hl = _HL_TRADES in outputs
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
        if not outputs & CTX_OUTPUTS:
            return
        updates = parse_asset_ctx(ctx, state.instrument, recv_ns)
        if _MARK in outputs:
            self._emit(updates.mark)
        if _INDEX in outputs:
            self._emit(updates.index)
        if _FUNDING in outputs:
            self._emit(updates.funding)
        if _OPEN_INTEREST in outputs:
            self._emit(CustomData(OPEN_INTEREST_DATA_TYPE, updates.open_interest))

    def _on_spot_ctx(self, frame: ActiveSpotAssetCtxFrame, recv_ns: int, key: str) -> None:
        data = frame.data
        state = self._accept_frame(data.coin, key, None, recv_ns)
        if state is None:
            return
        if _MARK in state.outputs:
            self._emit(parse_spot_asset_ctx(data.ctx, state.instrument, recv_ns))

    # -- bars -----------------------------------------------------------------------------------

    def _on_candle(self, candle: Candle, recv_ns: int, key: str) -> None:
        state = self._coins.get(candle.s)
        if state is None:
            return
        self._health(self.monitor.on_frame(key, None, recv_ns))
        if candle.i == TRADE_CHECK_INTERVAL and TRADE_CHECK in state.outputs:
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
        bar_state.deadline_ns = close_ms * _NS_PER_MS + self.venue_offset_ns + self._grace_ns
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
