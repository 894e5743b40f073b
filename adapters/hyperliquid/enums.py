"""The adapter's closed sets of names as string enums: product types and data outputs.

Like NautilusTrader's own Hyperliquid config, choices are enums rather than bare strings, so a
typo fails where the value is read. They are ``StrEnum`` (``(str, Enum)``): a member equals its
value, so TOML files, recordings (which store output names) and set lookups keep plain strings.
"""

from __future__ import annotations

from enum import StrEnum
from enum import unique

__all__ = [
    "BAR_OUTPUT_PREFIX",
    "DataOutput",
    "ProductType",
    "bar_output",
]


@unique
class ProductType(StrEnum):
    """Which of the venue's markets a client loads."""

    PERP = "perp"
    SPOT = "spot"


@unique
class DataOutput(StrEnum):
    """What a coin's venue streams can be turned into (bars are ``bar_output(interval)``)."""

    DELTAS = "deltas"
    DEPTH10 = "depth10"
    QUOTES = "quotes"
    TRADES = "trades"
    HL_TRADES = "hl_trades"
    MARK = "mark"
    INDEX = "index"
    FUNDING = "funding"
    OPEN_INTEREST = "open_interest"
    TRADE_CHECK = "trade_check"
    """The coin's 1m candles turned into trade-count checks of its trades stream (no data)."""


BAR_OUTPUT_PREFIX = "bar:"


def bar_output(interval: str) -> str:
    """The output name of a coin's bars of one candle interval (``"bar:1m"``)."""
    return f"{BAR_OUTPUT_PREFIX}{interval}"
