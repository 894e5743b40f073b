"""
A periodic, human-readable line per instrument showing that market data flows.

Why: the first thing anyone running a node wants to know is "is data arriving, and does it make
sense?". One line per instrument per interval answers that without a UI: top of book, book size,
message counts since the last line, last trade, mark, index, funding, open interest and the
feed's trouble so far (gaps, undecodable frames, from the data client's ``FeedCounters``). It reads
only the bus and the cache, so it runs unchanged on mainnet, testnet or the simulator. It is the
one producer of per-instrument status lines: the data client publishes counters, not lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import PositiveFloat
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Venue

from actors.market_state import MARKET_STATE_DATA_TYPE
from actors.market_state import MarketState
from adapters.hyperliquid.data_types import FEED_COUNTERS_DATA_TYPE
from adapters.hyperliquid.data_types import FeedCounters
from common.nautilus import custom_data_topic

__all__ = [
    "MarketDataLogger",
    "MarketDataLoggerConfig",
    "format_market_line",
]

_TIMER_NAME = "market-log"


class MarketDataLoggerConfig(ActorConfig, frozen=True):
    """
    Configuration of the ``MarketDataLogger``.

    Parameters
    ----------
    instrument_ids : list[InstrumentId]
        Instruments to report; empty = every instrument of ``venue`` in the cache at start.
    venue : str
        Venue whose instruments are reported when ``instrument_ids`` is empty.
    interval_secs : float
        Period of the report (one line per instrument each time).
    subscribe_book : bool
        Subscribe to L2 book deltas (the line then shows the book's size and top).
    subscribe_derivatives : bool
        Subscribe to mark, index and funding (perps).
    """

    instrument_ids: list[InstrumentId] = []
    venue: str = "HYPERLIQUID"
    interval_secs: PositiveFloat = 5.0
    subscribe_book: bool = True
    subscribe_derivatives: bool = True


@dataclass(slots=True)
class _Tally:
    """What arrived for one instrument since the last line (counts) and ever (last values)."""

    quotes: int = 0
    book_msgs: int = 0
    trades: int = 0
    volume: float = 0.0
    bid: float = math.nan
    ask: float = math.nan
    last: float = math.nan
    mark: float = math.nan
    index: float = math.nan
    funding: float = math.nan
    open_interest: float = math.nan
    total_msgs: int = 0
    gaps: int = 0
    decode_errors: int = 0


def _fmt(value: float, digits: int | None = None) -> str:
    if math.isnan(value):
        return "-"
    if digits is None:
        return f"{value:g}" if abs(value) < 1e6 else f"{value:.2f}"
    return f"{value:.{digits}f}"


def format_market_line(
    symbol: str,
    *,
    bid: float,
    ask: float,
    bid_levels: int,
    ask_levels: int,
    quotes: int,
    book_msgs: int,
    trades: int,
    volume: float,
    last: float,
    mark: float,
    index: float,
    funding: float,
    open_interest: float,
    gaps: int = 0,
    decode_errors: int = 0,
) -> str:
    """The report line: ``key=value`` pairs a human can read and a test can parse."""
    mid = (bid + ask) / 2.0
    spread_bps = (ask - bid) / mid * 1e4 if mid > 0 else math.nan
    return (
        f"{symbol} bid={_fmt(bid)} ask={_fmt(ask)} spread_bps={_fmt(spread_bps, 2)} "
        f"book={bid_levels}x{ask_levels} book_msgs={book_msgs} quotes={quotes} "
        f"trades={trades} volume={volume:g} last={_fmt(last)} mark={_fmt(mark)} "
        f"index={_fmt(index)} funding={_fmt(funding)} oi={_fmt(open_interest)} "
        f"gaps={gaps} decode_errors={decode_errors}"
    )


class MarketDataLogger(Actor):
    """Logs one line per instrument every ``interval_secs`` with what market data arrived."""

    def __init__(self, config: MarketDataLoggerConfig) -> None:
        super().__init__(config)
        self._interval_secs = config.interval_secs
        self._subscribe_book = config.subscribe_book
        self._subscribe_derivatives = config.subscribe_derivatives
        self._configured_ids = list(config.instrument_ids)
        self._venue = Venue(config.venue)
        self._tallies: dict[InstrumentId, _Tally] = {}

    @property
    def total_messages(self) -> int:
        """Market data messages received since start, all instruments (0 = nothing flowed)."""
        return sum(t.total_msgs for t in self._tallies.values())

    def on_start(self) -> None:
        """Pick the instruments, subscribe, start the report timer."""
        instrument_ids = self._configured_ids or sorted(
            (i.id for i in self.cache.instruments(venue=self._venue)), key=str
        )
        if not instrument_ids:
            self.log.warning(f"No {self._venue} instruments in the cache: nothing to report")
        for instrument_id in instrument_ids:
            if self.cache.instrument(instrument_id) is None:
                self.log.warning(f"Instrument {instrument_id} not in cache: not reported")
                continue
            self._tallies[instrument_id] = _Tally()
            self.subscribe_quote_ticks(instrument_id)
            self.subscribe_trade_ticks(instrument_id)
            if self._subscribe_book:
                self.subscribe_order_book_deltas(instrument_id, BookType.L2_MBP, managed=True)
            if self._subscribe_derivatives:
                self.subscribe_mark_prices(instrument_id)
                self.subscribe_index_prices(instrument_id)
                self.subscribe_funding_rates(instrument_id)
        # The state builder (if running) publishes open interest as MarketState; subscribe on
        # the bus directly (subscribe_data without a client id logs an error in 1.231).
        self.msgbus.subscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self._on_market_state)
        self.msgbus.subscribe(custom_data_topic(FEED_COUNTERS_DATA_TYPE), self._on_feed_counters)
        self.clock.set_timer(
            _TIMER_NAME,
            timedelta(seconds=self._interval_secs),
            callback=self._on_timer,
        )
        self.log.info(
            f"Reporting {len(self._tallies)} instrument(s) every {self._interval_secs:g}s"
        )

    def on_stop(self) -> None:
        """Mirror of ``on_start``: timer and subscriptions."""
        if _TIMER_NAME in self.clock.timer_names:
            self.clock.cancel_timer(_TIMER_NAME)
        for instrument_id in self._tallies:
            self.unsubscribe_quote_ticks(instrument_id)
            self.unsubscribe_trade_ticks(instrument_id)
            if self._subscribe_book:
                self.unsubscribe_order_book_deltas(instrument_id)
            if self._subscribe_derivatives:
                self.unsubscribe_mark_prices(instrument_id)
                self.unsubscribe_index_prices(instrument_id)
                self.unsubscribe_funding_rates(instrument_id)
        self.msgbus.unsubscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self._on_market_state)
        self.msgbus.unsubscribe(custom_data_topic(FEED_COUNTERS_DATA_TYPE), self._on_feed_counters)

    def on_reset(self) -> None:
        """Forget every tally."""
        self._tallies.clear()

    # Handlers: count and remember, nothing else (the report happens on the timer).

    def on_quote_tick(self, tick: QuoteTick) -> None:
        """Top of book from ``bbo``."""
        tally = self._tallies.get(tick.instrument_id)
        if tally is None:
            return
        tally.quotes += 1
        tally.total_msgs += 1
        tally.bid = tick.bid_price.as_double()
        tally.ask = tick.ask_price.as_double()

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        """Book updates (the book itself is kept by the data engine)."""
        tally = self._tallies.get(deltas.instrument_id)
        if tally is None:
            return
        tally.book_msgs += 1
        tally.total_msgs += 1

    def on_trade_tick(self, tick: TradeTick) -> None:
        """Trades: count, volume, last price."""
        tally = self._tallies.get(tick.instrument_id)
        if tally is None:
            return
        tally.trades += 1
        tally.total_msgs += 1
        tally.volume += tick.size.as_double()
        tally.last = tick.price.as_double()

    def on_mark_price(self, update: MarkPriceUpdate) -> None:
        """Mark price."""
        tally = self._tallies.get(update.instrument_id)
        if tally is not None:
            tally.total_msgs += 1
            tally.mark = update.value.as_double()

    def on_index_price(self, update: IndexPriceUpdate) -> None:
        """Index (oracle) price."""
        tally = self._tallies.get(update.instrument_id)
        if tally is not None:
            tally.total_msgs += 1
            tally.index = update.value.as_double()

    def on_funding_rate(self, update: FundingRateUpdate) -> None:
        """Funding rate."""
        tally = self._tallies.get(update.instrument_id)
        if tally is not None:
            tally.total_msgs += 1
            tally.funding = float(update.rate)

    def _on_market_state(self, state: MarketState) -> None:
        """Open interest from the state builder's ``MarketState``."""
        tally = self._tallies.get(state.instrument_id)
        if tally is not None and not math.isnan(state.open_interest):
            tally.open_interest = state.open_interest

    def _on_feed_counters(self, counters: FeedCounters) -> None:
        """The data client's running totals of gaps and undecodable frames."""
        tally = self._tallies.get(InstrumentId.from_str(counters.instrument))
        if tally is not None:
            tally.gaps = counters.gaps
            tally.decode_errors = counters.decode_errors

    # Report

    def _on_timer(self, event: TimeEvent) -> None:
        for instrument_id, tally in self._tallies.items():
            self.log.info(self._line(instrument_id, tally))
            tally.quotes = tally.book_msgs = tally.trades = 0
            tally.volume = 0.0

    def _line(self, instrument_id: InstrumentId, tally: _Tally) -> str:
        bid, ask = tally.bid, tally.ask
        bid_levels = ask_levels = 0
        book = self.cache.order_book(instrument_id) if self._subscribe_book else None
        if book is not None:
            bid_levels = len(book.bids())
            ask_levels = len(book.asks())
            best_bid = book.best_bid_price()
            best_ask = book.best_ask_price()
            if best_bid is not None and best_ask is not None:
                bid, ask = best_bid.as_double(), best_ask.as_double()
        return format_market_line(
            instrument_id.value,
            bid=bid,
            ask=ask,
            bid_levels=bid_levels,
            ask_levels=ask_levels,
            quotes=tally.quotes,
            book_msgs=tally.book_msgs,
            trades=tally.trades,
            volume=tally.volume,
            last=tally.last,
            mark=tally.mark,
            index=tally.index,
            funding=tally.funding,
            open_interest=tally.open_interest,
            gaps=tally.gaps,
            decode_errors=tally.decode_errors,
        )
