"""Hyperliquid venue constants: number rules and the venue's own error texts.

Values come from the venue docs and the hyperliquid-python-sdk 0.24.0 (see the venue protocol
notes §3 and ``tests/resources/hyperliquid/exchange_error_strings.json``). They live
here so the adapter, the execution client and the simulator share one copy.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

# --- Number rules (PROTOCOL.md §3) ---------------------------------------------------------------

# A price may carry at most PERP_MAX_DECIMALS - szDecimals decimals on perps ...
PERP_MAX_DECIMALS: Final[int] = 6
# ... and SPOT_MAX_DECIMALS - szDecimals decimals on spot pairs.
SPOT_MAX_DECIMALS: Final[int] = 8
# A non-integer price may carry at most this many significant figures; integers are always valid.
MAX_PRICE_SIGNIFICANT_FIGURES: Final[int] = 5
# The SDK rounds every wire number to this many decimals before hashing and sending it.
WIRE_DECIMALS: Final[int] = 8
# Minimum order value: $10 for perps, 10 units of the quote token for spot.
MIN_ORDER_VALUE: Final[Decimal] = Decimal(10)
# Spot asset ids start here (asset = 10000 + spot pair index).
SPOT_ASSET_OFFSET: Final[int] = 10_000

# --- Venue error texts (exact, without the " asset=N" suffix) ------------------------------------

ERROR_INVALID_PRICE: Final[str] = "Order has invalid price."
ERROR_INVALID_SIZE: Final[str] = "Order has invalid size."
ERROR_TICK: Final[str] = "Price must be divisible by tick size."
ERROR_MIN_TRADE_NTL: Final[str] = "Order must have minimum value of $10."
# Format with quote_token=<name of the spot pair's quote token>.
ERROR_MIN_TRADE_SPOT_NTL: Final[str] = "Order must have minimum value of 10 {quote_token}."
# Per-order venue errors observed live end with this suffix, formatted with the asset id.
ASSET_SUFFIX: Final[str] = " asset={asset}"

# --- Venue identity and base URLs (PROTOCOL.md §1) -----------------------------------------------

HYPERLIQUID_VENUE_NAME: Final[str] = "HYPERLIQUID"
MAINNET_HTTP_URL: Final[str] = "https://api.hyperliquid.xyz"
MAINNET_WS_URL: Final[str] = "wss://api.hyperliquid.xyz/ws"
TESTNET_HTTP_URL: Final[str] = "https://api.hyperliquid-testnet.xyz"
TESTNET_WS_URL: Final[str] = "wss://api.hyperliquid-testnet.xyz/ws"
# The SDK's "local" base URL; the simulator serves REST and WebSocket (`/ws`) on one port.
LOCAL_HTTP_URL: Final[str] = "http://127.0.0.1:3001"
LOCAL_WS_URL: Final[str] = "ws://127.0.0.1:3001/ws"

# --- Fees (PROTOCOL.md §8, base tier) ------------------------------------------------------------

PERP_MAKER_FEE: Final[Decimal] = Decimal("0.00015")
PERP_TAKER_FEE: Final[Decimal] = Decimal("0.00045")
SPOT_MAKER_FEE: Final[Decimal] = Decimal("0.0004")
SPOT_TAKER_FEE: Final[Decimal] = Decimal("0.0007")

# --- Assets and market data ----------------------------------------------------------------------

# HIP-3 perp asset ids: 100000 + dex_index * 10000 + index in that dex's universe.
HIP3_ASSET_OFFSET: Final[int] = 100_000
HIP3_DEX_STRIDE: Final[int] = 10_000
# Funding is paid every hour (PROTOCOL.md §11).
FUNDING_INTERVAL_MINUTES: Final[int] = 60
_DAY_MS: Final[int] = 86_400_000
# Every candle interval the venue serves (PROTOCOL.md §4, candleSnapshot) and its width in ms.
# "1M" is a UTC calendar month: its entry (31 days) is an upper bound for lookback spans and
# paging; anything that buckets candles must use the calendar for it (see sim.engine).
CANDLE_INTERVAL_MS: Final[dict[str, int]] = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": _DAY_MS,
    "3d": 3 * _DAY_MS,
    "1w": 7 * _DAY_MS,
    "1M": 31 * _DAY_MS,
}
CALENDAR_MONTH_INTERVAL: Final[str] = "1M"
CANDLE_INTERVALS: Final[tuple[str, ...]] = tuple(CANDLE_INTERVAL_MS)
