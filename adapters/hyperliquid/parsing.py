"""Pure conversions from decoded Hyperliquid payloads to NautilusTrader data objects.

Every function takes (payload Struct, instrument or prebuilt ids, ts_init) and returns Nautilus
objects: no clock reads, no I/O, so a recording replayed through them yields the same objects as
the live run. Prices and sizes are built from floats with the instrument's precision (about 5x
cheaper than ``from_str``, see PERF_NOTES.md); venue strings carry at most the instrument's
precision, so the float round trip is exact.

Decisions worth knowing:

* l2Book pushes are full snapshots. ``BookDiffer`` turns successive snapshots of one instrument
  into minimal ``OrderBookDeltas``: the first snapshot (and the first after ``reset()``, which the
  feed client calls on every (re)subscribe) is CLEAR + ADDs flagged ``F_SNAPSHOT``; later ones only
  DELETE removed levels, UPDATE levels whose size changed and ADD new levels. Deletes come first
  so a price that moves between representations never leaves a stale level. The last delta of
  every batch carries ``F_LAST``. A snapshot identical to the previous one yields ``None``.
* bbo with a missing side yields no ``QuoteTick`` (``None``): inventing the missing side from an
  older message would publish a quote that never existed. One-sided markets are visible in the
  book.
* Candles become bars with ``ts_event`` = the candle's close (``T + 1 ms``, i.e. the next open),
  following Nautilus' convention that a bar is stamped at its close. Every venue interval maps
  to a ``BarType`` except ``3d``, which NautilusTrader 1.231 cannot express.
* activeAssetCtx carries no venue timestamp, so its updates use ``ts_init`` as ``ts_event``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Final
from typing import NamedTuple

from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarSpecification
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import OrderBookDepth10
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggregationSource
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BarAggregation
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import PriceType
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from adapters.hyperliquid.constants import FUNDING_INTERVAL_MINUTES
from adapters.hyperliquid.data_types import HyperliquidTrade
from adapters.hyperliquid.data_types import OpenInterestUpdate
from adapters.hyperliquid.data_types import new_open_interest_update
from adapters.hyperliquid.schemas.common import Bbo
from adapters.hyperliquid.schemas.common import Candle
from adapters.hyperliquid.schemas.common import L2Book
from adapters.hyperliquid.schemas.common import L2Level
from adapters.hyperliquid.schemas.common import PerpAssetCtx
from adapters.hyperliquid.schemas.common import SpotAssetCtx
from adapters.hyperliquid.schemas.common import Trade
from adapters.hyperliquid.schemas.info import FundingHistoryEntry

__all__ = [
    "CANDLE_INTERVAL_SPECS",
    "AssetCtxUpdates",
    "BookDiffer",
    "bar_type_for_interval",
    "interval_for_bar_type",
    "millis_to_nanos",
    "parse_asset_ctx",
    "parse_bar",
    "parse_book_snapshot",
    "parse_depth10",
    "parse_funding_history",
    "parse_hyperliquid_trade",
    "parse_quote_tick",
    "parse_spot_asset_ctx",
    "parse_trade_tick",
]

NANOS_PER_MILLI: Final[int] = 1_000_000
NANOS_PER_HOUR: Final[int] = 3_600 * 1_000_000_000

_F_LAST: Final[int] = int(RecordFlag.F_LAST)
_F_SNAPSHOT: Final[int] = int(RecordFlag.F_SNAPSHOT)
_ADD: Final[BookAction] = BookAction.ADD
_UPDATE: Final[BookAction] = BookAction.UPDATE
_DELETE: Final[BookAction] = BookAction.DELETE
_BUY: Final[OrderSide] = OrderSide.BUY
_SELL: Final[OrderSide] = OrderSide.SELL

CANDLE_INTERVAL_SPECS: Final[dict[str, tuple[int, BarAggregation]]] = {
    "1m": (1, BarAggregation.MINUTE),
    "3m": (3, BarAggregation.MINUTE),
    "5m": (5, BarAggregation.MINUTE),
    "15m": (15, BarAggregation.MINUTE),
    "30m": (30, BarAggregation.MINUTE),
    "1h": (1, BarAggregation.HOUR),
    "2h": (2, BarAggregation.HOUR),
    "4h": (4, BarAggregation.HOUR),
    "8h": (8, BarAggregation.HOUR),
    "12h": (12, BarAggregation.HOUR),
    "1d": (1, BarAggregation.DAY),
    "1w": (1, BarAggregation.WEEK),
    "1M": (1, BarAggregation.MONTH),
}
"""Venue candle interval -> (step, aggregation) of the matching Nautilus bar spec.

Every venue interval except ``3d``: NautilusTrader 1.231 only accepts time bar steps that divide
the next larger unit evenly (1 day, 24 hours, 60 minutes), so a 3-day bar has no ``BarType``.
"""

_INTERVAL_BY_SPEC: Final[dict[tuple[int, BarAggregation], str]] = {
    spec: interval for interval, spec in CANDLE_INTERVAL_SPECS.items()
}


def millis_to_nanos(millis: int) -> int:
    """Venue milliseconds -> Nautilus nanoseconds."""
    return millis * NANOS_PER_MILLI


# --------------------------------------------------------------------------------------------
# Order book
# --------------------------------------------------------------------------------------------


class BookDiffer:
    """Turns successive full l2Book snapshots of one instrument into minimal deltas.

    Holds the previous snapshot's levels per side. The common case (a side whose prices are
    unchanged, only some sizes moved; or nothing moved at all) is found by comparing the level
    lists position by position (msgspec Struct equality, in C), without building anything; any
    other change falls back to a diff of ``{price string: size string}`` maps (the venue writes a
    given price the same way every time, so string keys avoid float work on unchanged levels).
    Both give the same deltas: DELETEs first, then ADDs/UPDATEs in level order, bids before asks.
    Call ``reset()`` whenever continuity is lost (subscribe, reconnect) so the next snapshot is
    emitted whole.
    """

    __slots__ = ("_asks", "_bids", "_instrument_id", "_price_precision", "_size_precision")

    def __init__(self, instrument: Instrument) -> None:
        self._instrument_id: InstrumentId = instrument.id
        self._price_precision: int = instrument.price_precision
        self._size_precision: int = instrument.size_precision
        self._bids: list[L2Level] | None = None
        self._asks: list[L2Level] = []

    def reset(self) -> None:
        """Forget the previous snapshot: the next one is emitted as CLEAR + ADDs."""
        self._bids = None
        self._asks = []

    def diff(self, book: L2Book, ts_init: int, sequence: int = 0) -> OrderBookDeltas | None:
        """Deltas taking the previous snapshot to ``book``; ``None`` when nothing changed."""
        new_bids, new_asks = book.levels
        old_bids = self._bids
        old_asks = self._asks
        self._bids = new_bids
        self._asks = new_asks
        if old_bids is None:
            return parse_book_snapshot(
                book,
                self._instrument_id,
                ts_init,
                sequence,
                price_precision=self._price_precision,
                size_precision=self._size_precision,
            )
        if new_bids == old_bids and new_asks == old_asks:
            return None  # the hot case of a quiet book: one C-level comparison per side
        bid_changes = _same_prices_changes(old_bids, new_bids)
        ask_changes = _same_prices_changes(old_asks, new_asks)
        if bid_changes is None or ask_changes is None:
            return self._diff_maps(old_bids, old_asks, book, ts_init, sequence)
        if not bid_changes and not ask_changes:
            return None  # only order counts moved: the L2 book is the same
        instrument_id = self._instrument_id
        pp = self._price_precision
        sp = self._size_precision
        ts_event = book.time * NANOS_PER_MILLI
        deltas: list[OrderBookDelta] = []
        append = deltas.append
        for side, changes in ((_BUY, bid_changes), (_SELL, ask_changes)):
            for level in changes:
                order = BookOrder(
                    side, Price(float(level.px), pp), Quantity(float(level.sz), sp), 0
                )
                append(
                    OrderBookDelta(instrument_id, _UPDATE, order, 0, sequence, ts_event, ts_init)
                )
        return _seal(instrument_id, deltas, sequence, ts_event, ts_init)

    def _diff_maps(
        self,
        old_bid_levels: list[L2Level],
        old_ask_levels: list[L2Level],
        book: L2Book,
        ts_init: int,
        sequence: int,
    ) -> OrderBookDeltas | None:
        """The general diff (levels added, removed or moved) on price -> size maps."""
        old_bids = {level.px: level.sz for level in old_bid_levels}
        old_asks = {level.px: level.sz for level in old_ask_levels}
        new_bids = {level.px: level.sz for level in book.levels[0]}
        new_asks = {level.px: level.sz for level in book.levels[1]}
        ts_event = book.time * NANOS_PER_MILLI
        instrument_id = self._instrument_id
        pp = self._price_precision
        sp = self._size_precision
        deltas: list[OrderBookDelta] = []
        append = deltas.append
        zero = Quantity(0, sp)
        for side, old, new in ((_BUY, old_bids, new_bids), (_SELL, old_asks, new_asks)):
            for px in old.keys() - new.keys():
                order = BookOrder(side, Price(float(px), pp), zero, 0)
                append(
                    OrderBookDelta(instrument_id, _DELETE, order, 0, sequence, ts_event, ts_init)
                )
        for side, old, new in ((_BUY, old_bids, new_bids), (_SELL, old_asks, new_asks)):
            for px, sz in new.items():
                previous = old.get(px)
                if previous == sz:
                    continue
                action = _ADD if previous is None else _UPDATE
                order = BookOrder(side, Price(float(px), pp), Quantity(float(sz), sp), 0)
                append(OrderBookDelta(instrument_id, action, order, 0, sequence, ts_event, ts_init))
        return _seal(instrument_id, deltas, sequence, ts_event, ts_init)


def _same_prices_changes(old: list[L2Level], new: list[L2Level]) -> list[L2Level] | None:
    """The levels whose size changed when both sides list the same prices in the same order;
    ``None`` when the prices differ (the caller then diffs maps)."""
    if old == new:
        return []
    if len(old) != len(new):
        return None
    changes = []
    for before, after in zip(old, new, strict=True):
        if before.px != after.px:
            return None
        if before.sz != after.sz:
            changes.append(after)
    return changes


def _seal(
    instrument_id: InstrumentId,
    deltas: list[OrderBookDelta],
    sequence: int,
    ts_event: int,
    ts_init: int,
) -> OrderBookDeltas | None:
    """The deltas with ``F_LAST`` on the last one; ``None`` when there are none."""
    if not deltas:
        return None
    last = deltas[-1]
    deltas[-1] = OrderBookDelta(
        instrument_id, last.action, last.order, _F_LAST, sequence, ts_event, ts_init
    )
    return OrderBookDeltas(instrument_id, deltas)


def _levels_to_orders(
    levels: Iterable[L2Level], side: OrderSide, price_precision: int, size_precision: int
) -> list[BookOrder]:
    return [
        BookOrder(
            side, Price(float(lvl.px), price_precision), Quantity(float(lvl.sz), size_precision), 0
        )
        for lvl in levels
    ]


def parse_book_snapshot(
    book: L2Book,
    instrument: Instrument | InstrumentId,
    ts_init: int,
    sequence: int = 0,
    *,
    price_precision: int | None = None,
    size_precision: int | None = None,
) -> OrderBookDeltas:
    """A whole l2Book snapshot as CLEAR + ADDs, all flagged ``F_SNAPSHOT``, the last ``F_LAST``.

    Pass an ``Instrument``; an ``InstrumentId`` is accepted with explicit precisions (used by
    ``BookDiffer``, which keeps them).
    """
    if isinstance(instrument, InstrumentId):
        if price_precision is None or size_precision is None:
            raise ValueError("precisions are required when an InstrumentId is given")
        instrument_id = instrument
        pp, sp = price_precision, size_precision
    else:
        instrument_id = instrument.id
        pp, sp = instrument.price_precision, instrument.size_precision
    ts_event = book.time * NANOS_PER_MILLI
    bid_levels, ask_levels = book.levels
    orders = _levels_to_orders(bid_levels, _BUY, pp, sp) + _levels_to_orders(
        ask_levels, _SELL, pp, sp
    )
    if not orders:
        clear = OrderBookDelta.clear(instrument_id, sequence, ts_event, ts_init)
        flagged = OrderBookDelta(
            instrument_id, clear.action, None, _F_SNAPSHOT | _F_LAST, sequence, ts_event, ts_init
        )
        return OrderBookDeltas(instrument_id, [flagged])
    deltas = [
        OrderBookDelta(
            instrument_id, BookAction.CLEAR, None, _F_SNAPSHOT, sequence, ts_event, ts_init
        )
    ]
    last_index = len(orders) - 1
    for index, order in enumerate(orders):
        flags = _F_SNAPSHOT | _F_LAST if index == last_index else _F_SNAPSHOT
        deltas.append(
            OrderBookDelta(instrument_id, _ADD, order, flags, sequence, ts_event, ts_init)
        )
    return OrderBookDeltas(instrument_id, deltas)


DEPTH10_LEVELS: Final[int] = 10


def parse_depth10(
    book: L2Book, instrument: Instrument, ts_init: int, sequence: int = 0
) -> OrderBookDepth10:
    """The best 10 levels per side of an l2Book snapshot.

    Missing levels (a thin or one-sided book, e.g. during a sweep) are padded with null book
    orders (no side, zero price and size, count 0): Nautilus requires both sides to have the same
    length, and a one-sided book is exactly when a trader needs this snapshot most.
    """
    pp = instrument.price_precision
    sp = instrument.size_precision
    bid_levels = book.levels[0][:DEPTH10_LEVELS]
    ask_levels = book.levels[1][:DEPTH10_LEVELS]
    null_order = BookOrder(OrderSide.NO_ORDER_SIDE, Price(0, pp), Quantity(0, sp), 0)
    bids = _levels_to_orders(bid_levels, _BUY, pp, sp)
    asks = _levels_to_orders(ask_levels, _SELL, pp, sp)
    bid_counts = [lvl.n for lvl in bid_levels]
    ask_counts = [lvl.n for lvl in ask_levels]
    for orders, counts in ((bids, bid_counts), (asks, ask_counts)):
        missing = DEPTH10_LEVELS - len(orders)
        orders.extend([null_order] * missing)
        counts.extend([0] * missing)
    return OrderBookDepth10(
        instrument.id,
        bids,
        asks,
        bid_counts,
        ask_counts,
        _F_SNAPSHOT | _F_LAST,
        sequence,
        book.time * NANOS_PER_MILLI,
        ts_init,
    )


# --------------------------------------------------------------------------------------------
# Quotes and trades
# --------------------------------------------------------------------------------------------


def parse_quote_tick(bbo: Bbo, instrument: Instrument, ts_init: int) -> QuoteTick | None:
    """Top of book as a ``QuoteTick``; ``None`` when either side is empty (see module notes)."""
    bid, ask = bbo.bbo
    if bid is None or ask is None:
        return None
    pp = instrument.price_precision
    sp = instrument.size_precision
    return QuoteTick(
        instrument.id,
        Price(float(bid.px), pp),
        Price(float(ask.px), pp),
        Quantity(float(bid.sz), sp),
        Quantity(float(ask.sz), sp),
        bbo.time * NANOS_PER_MILLI,
        ts_init,
    )


def parse_trade_tick(trade: Trade, instrument: Instrument, ts_init: int) -> TradeTick:
    """A trade print as a ``TradeTick``: side ``"B"`` = buyer aggressed, trade id = ``tid``."""
    return TradeTick(
        instrument.id,
        Price(float(trade.px), instrument.price_precision),
        Quantity(float(trade.sz), instrument.size_precision),
        AggressorSide.BUYER if trade.side == "B" else AggressorSide.SELLER,
        TradeId(str(trade.tid)),
        trade.time * NANOS_PER_MILLI,
        ts_init,
    )


def parse_hyperliquid_trade(trade: Trade, instrument: Instrument, ts_init: int) -> HyperliquidTrade:
    """A trade print with buyer, seller, tx hash and tid (what ``TradeTick`` cannot carry)."""
    buyer, seller = trade.users
    ctor: type = HyperliquidTrade  # the customdataclass __init__ is not visible to mypy
    result: HyperliquidTrade = ctor(
        instrument_id=instrument.id,
        price=float(trade.px),
        size=float(trade.sz),
        aggressor_side=trade.side,
        buyer=buyer,
        seller=seller,
        hash=trade.hash,
        tid=trade.tid,
        ts_event=trade.time * NANOS_PER_MILLI,
        ts_init=ts_init,
    )
    return result


# --------------------------------------------------------------------------------------------
# Bars
# --------------------------------------------------------------------------------------------


def bar_type_for_interval(instrument_id: InstrumentId, interval: str) -> BarType:
    """The external LAST-price ``BarType`` of a venue candle interval.

    ``ValueError`` for an unknown interval and for ``3d`` (not representable, see above).
    """
    spec_parts = CANDLE_INTERVAL_SPECS.get(interval)
    if spec_parts is None:
        raise ValueError(f"no NautilusTrader bar type for Hyperliquid candle interval {interval!r}")
    step, aggregation = spec_parts
    spec = BarSpecification(step, aggregation, PriceType.LAST)
    return BarType(instrument_id, spec, AggregationSource.EXTERNAL)


def interval_for_bar_type(bar_type: BarType) -> str:
    """The venue candle interval serving ``bar_type``; ``ValueError`` if the venue has none."""
    spec = bar_type.spec
    key = (spec.step, spec.aggregation)
    if spec.price_type != PriceType.LAST or key not in _INTERVAL_BY_SPEC:
        raise ValueError(f"Hyperliquid has no candle interval for bar type {bar_type}")
    return _INTERVAL_BY_SPEC[key]


def parse_bar(candle: Candle, bar_type: BarType, instrument: Instrument, ts_init: int) -> Bar:
    """A closed candle as a ``Bar`` stamped at its close time (``T + 1 ms``)."""
    pp = instrument.price_precision
    return Bar(
        bar_type,
        Price(float(candle.o), pp),
        Price(float(candle.h), pp),
        Price(float(candle.l), pp),
        Price(float(candle.c), pp),
        Quantity(float(candle.v), instrument.size_precision),
        (candle.T + 1) * NANOS_PER_MILLI,
        ts_init,
    )


# --------------------------------------------------------------------------------------------
# Asset context and funding
# --------------------------------------------------------------------------------------------


class AssetCtxUpdates(NamedTuple):
    """Everything one perp ``activeAssetCtx`` push turns into."""

    mark: MarkPriceUpdate
    index: IndexPriceUpdate
    funding: FundingRateUpdate
    open_interest: OpenInterestUpdate


def _next_funding_ns(ts_ns: int) -> int:
    # Funding is paid at the top of every hour.
    return (ts_ns // NANOS_PER_HOUR + 1) * NANOS_PER_HOUR


def parse_asset_ctx(ctx: PerpAssetCtx, instrument: Instrument, ts_init: int) -> AssetCtxUpdates:
    """Mark, index (oracle), funding rate and open interest from a perp asset context.

    The push has no venue timestamp, so ``ts_event`` is ``ts_init``; the next funding time is the
    next top of the hour after it.
    """
    instrument_id = instrument.id
    pp = instrument.price_precision
    open_interest = new_open_interest_update(
        instrument_id, float(ctx.openInterest), ts_event=ts_init, ts_init=ts_init
    )
    return AssetCtxUpdates(
        mark=MarkPriceUpdate(instrument_id, Price(float(ctx.markPx), pp), ts_init, ts_init),
        index=IndexPriceUpdate(instrument_id, Price(float(ctx.oraclePx), pp), ts_init, ts_init),
        funding=FundingRateUpdate(
            instrument_id,
            Decimal(ctx.funding),
            ts_init,
            ts_init,
            FUNDING_INTERVAL_MINUTES,
            _next_funding_ns(ts_init),
        ),
        open_interest=open_interest,
    )


def parse_spot_asset_ctx(
    ctx: SpotAssetCtx, instrument: Instrument, ts_init: int
) -> MarkPriceUpdate:
    """The mark price of a spot pair (spot contexts carry no oracle, funding or open interest)."""
    price = Price(float(ctx.markPx), instrument.price_precision)
    return MarkPriceUpdate(instrument.id, price, ts_init, ts_init)


def parse_funding_history(
    entries: Iterable[FundingHistoryEntry], instrument_id: InstrumentId, ts_init: int
) -> list[FundingRateUpdate]:
    """Hourly ``fundingHistory`` rows as ``FundingRateUpdate``s stamped at the venue's time."""
    return [
        FundingRateUpdate(
            instrument_id,
            Decimal(entry.fundingRate),
            entry.time * NANOS_PER_MILLI,
            ts_init,
            FUNDING_INTERVAL_MINUTES,
        )
        for entry in entries
    ]
