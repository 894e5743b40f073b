"""Custom NautilusTrader data published by the Hyperliquid adapter.

NautilusTrader has no built-in type for feed health or for trade prints with the counterparties'
addresses, nor for open interest, so they are ``@customdataclass`` types here. Publish and subscribe
with the module-level ``DataType`` constants (no ``instrument_id`` metadata): in NautilusTrader
1.231 a subscription with ``instrument_id=`` does not match what ``publish_data`` sends.

Enum-valued fields are stored as plain ``str`` (the enum's value) so they serialise to Arrow and the
catalog unchanged.
"""

from __future__ import annotations

from enum import StrEnum
from enum import unique
from typing import Any

from nautilus_trader.core.data import Data
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import InstrumentId

from common.nautilus import PLACEHOLDER_INSTRUMENT_ID
from common.nautilus import customdataclass_resolved

__all__ = [
    "FEED_COUNTERS_DATA_TYPE",
    "FEED_HEALTH_DATA_TYPE",
    "HYPERLIQUID_TRADE_DATA_TYPE",
    "OPEN_INTEREST_DATA_TYPE",
    "FeedCounters",
    "FeedHealth",
    "FeedHealthStatus",
    "HyperliquidTrade",
    "OpenInterestUpdate",
    "new_feed_counters",
    "new_open_interest_update",
]


@unique
class FeedHealthStatus(StrEnum):
    """Health of one market-data stream; anything but OK means "do not add risk on this"."""

    OK = "OK"
    STALE = "STALE"
    GAP = "GAP"
    RECONNECTING = "RECONNECTING"


@customdataclass_resolved
class FeedHealth(Data):
    """A change of one stream's health, published on every transition (never repeated).

    ``stream`` is the stream key (e.g. ``"l2Book:BTC"``, see ``health.stream_key``), ``status`` a
    ``FeedHealthStatus`` value, ``reason`` a human-readable cause and ``since_ns`` the local time
    the stream entered this status.
    """

    stream: str = ""
    status: str = FeedHealthStatus.OK.value
    reason: str = ""
    since_ns: int = 0

    @property
    def is_healthy(self) -> bool:
        """Whether the stream can be trusted for new risk."""
        return self.status == FeedHealthStatus.OK.value


@customdataclass_resolved
class FeedCounters(Data):
    """Running totals of one instrument's feed trouble, published by the data client whenever
    one of them grows, so the one per-instrument status line (``MarketDataLogger``) shows them.

    ``instrument`` is the instrument id as a string (not an ``instrument_id`` attribute: the
    data engine then publishes every instrument on one topic). ``gaps`` counts the times one of
    the instrument's streams entered GAP, ``decode_errors`` its frames that did not match their
    schema (the first of each stream is also logged with its channel).
    """

    instrument: str = ""
    gaps: int = 0
    decode_errors: int = 0


FEED_COUNTERS_DATA_TYPE = DataType(FeedCounters)


def new_feed_counters(instrument: str, gaps: int, decode_errors: int, ts_ns: int) -> FeedCounters:
    """Typed constructor (the customdataclass ``__init__`` is invisible to type checkers)."""
    ctor: Any = FeedCounters
    counters: FeedCounters = ctor(
        ts_event=ts_ns,
        ts_init=ts_ns,
        instrument=instrument,
        gaps=gaps,
        decode_errors=decode_errors,
    )
    return counters


@customdataclass_resolved
class HyperliquidTrade(Data):
    """A public trade print with what ``TradeTick`` cannot carry: addresses, tx hash and tid.

    ``aggressor_side`` is the venue's side (``"B"`` buyer aggressed, ``"A"`` seller aggressed).
    ``tid`` is a hash of the two order ids, not a counter: only ``(time, coin, tid)`` is unique.
    """

    instrument_id: InstrumentId = PLACEHOLDER_INSTRUMENT_ID
    price: float = 0.0
    size: float = 0.0
    aggressor_side: str = ""
    buyer: str = ""
    seller: str = ""
    hash: str = ""
    tid: int = 0


FEED_HEALTH_DATA_TYPE = DataType(FeedHealth)
HYPERLIQUID_TRADE_DATA_TYPE = DataType(HyperliquidTrade)


@customdataclass_resolved
class OpenInterestUpdate(Data):
    """
    Open interest of one instrument (base units) as reported by the venue.

    NautilusTrader has no built-in open-interest type; the adapter emits this as custom data
    (``CustomData(OPEN_INTEREST_DATA_TYPE, update)``) so the data engine routes it per instrument.
    """

    instrument_id: InstrumentId = PLACEHOLDER_INSTRUMENT_ID
    value: float = 0.0


# The data engine publishes custom data from clients on a per-instrument topic, so the state
# builder subscribes with `subscribe_data(OPEN_INTEREST_DATA_TYPE, instrument_id=...)`.
OPEN_INTEREST_DATA_TYPE = DataType(OpenInterestUpdate)


def new_open_interest_update(
    instrument_id: InstrumentId,
    value: float,
    ts_event: int,
    ts_init: int,
) -> OpenInterestUpdate:
    """Typed constructor (the customdataclass ``__init__`` is invisible to type checkers)."""
    ctor: Any = OpenInterestUpdate
    update: OpenInterestUpdate = ctor(
        ts_event=ts_event,
        ts_init=ts_init,
        instrument_id=instrument_id,
        value=value,
    )
    return update
