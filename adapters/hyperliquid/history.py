"""Historical market data over REST, paged: candles, funding history and recent trades.

Why its own module: the data client answers NautilusTrader's ``request_*`` calls with these, and
the paging rules (venue page sizes, the open candle left out, ``[start, end]`` in venue ms) are
independent of subscriptions and health. Functions take the REST client; nothing reads a clock.
"""

from __future__ import annotations

from typing import Final

import msgspec
from nautilus_trader.core.datetime import nanos_to_millis

from adapters.hyperliquid.constants import CANDLE_INTERVAL_MS
from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.schemas.common import Candle
from adapters.hyperliquid.schemas.common import Trade
from adapters.hyperliquid.schemas.info import FundingHistoryEntry

__all__ = [
    "fetch_candles",
    "fetch_funding_history",
    "fetch_recent_trades",
]

_CANDLE_PAGE: Final[int] = 5_000
"""Most candles the venue returns per candleSnapshot answer."""
_FUNDING_PAGE: Final[int] = 500
"""Most entries the venue returns per fundingHistory answer."""
_DEFAULT_CANDLES: Final[int] = 500
_DEFAULT_FUNDING_SPAN_MS: Final[int] = 86_400_000
_RECENT_TRADES_DECODER: Final = msgspec.json.Decoder(list[Trade])


async def fetch_candles(
    http: HyperliquidHttpClient,
    coin: str,
    interval: str,
    start_ns: int | None,
    end_ns: int | None,
    limit: int,
    now_ns: int,
) -> list[Candle]:
    """Closed candles in [start, end] paged through candleSnapshot (oldest first).

    Without a start, the last ``limit`` (or 500) closed periods before ``end`` are asked for
    (one period more, as the newest may still be open); the candle still open at ``now_ns`` is
    left out (bars are never partial).
    """
    span_ms = CANDLE_INTERVAL_MS[interval]
    end_ms = nanos_to_millis(end_ns if end_ns is not None else now_ns)
    count = limit if limit > 0 else _DEFAULT_CANDLES
    start_ms = nanos_to_millis(start_ns) if start_ns is not None else end_ms - (count + 1) * span_ms
    now_ms = nanos_to_millis(now_ns)
    result: dict[int, Candle] = {}
    cursor = start_ms
    while cursor <= end_ms:
        body = {
            "type": "candleSnapshot",
            "req": {"coin": coin, "interval": interval, "startTime": cursor, "endTime": end_ms},
        }
        page: list[Candle] = await http.info(body)
        fresh = [c for c in page if c.t >= cursor and c.t not in result]
        for candle in fresh:
            if now_ms > candle.T and candle.t <= end_ms:
                result[candle.t] = candle
        if not fresh or len(page) < _CANDLE_PAGE:
            break
        cursor = max(c.t for c in fresh) + 1
    candles = [result[t] for t in sorted(result)]
    return candles[-limit:] if limit > 0 else candles


async def fetch_funding_history(
    http: HyperliquidHttpClient,
    coin: str,
    start_ns: int | None,
    end_ns: int | None,
    now_ns: int,
) -> list[FundingHistoryEntry]:
    """Funding entries in [start, end] paged through fundingHistory (oldest first); without a
    start, the last day before ``end``."""
    end_ms = nanos_to_millis(end_ns if end_ns is not None else now_ns)
    start_ms = (
        nanos_to_millis(start_ns) if start_ns is not None else end_ms - _DEFAULT_FUNDING_SPAN_MS
    )
    rows: list[FundingHistoryEntry] = []
    cursor = start_ms
    while cursor <= end_ms:
        body = {"type": "fundingHistory", "coin": coin, "startTime": cursor, "endTime": end_ms}
        page: list[FundingHistoryEntry] = await http.info(body)
        fresh = [r for r in page if r.time >= cursor]
        rows.extend(fresh)
        if not fresh or len(page) < _FUNDING_PAGE:
            break
        cursor = fresh[-1].time + 1
    return rows


async def fetch_recent_trades(http: HyperliquidHttpClient, coin: str) -> list[Trade]:
    """The venue's recent trades of a coin, oldest first (by time, then trade id)."""
    raw = await http.info_raw({"type": "recentTrades", "coin": coin})
    return sorted(_RECENT_TRADES_DECODER.decode(raw), key=lambda t: (t.time, t.tid))
