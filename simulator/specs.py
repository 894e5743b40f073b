"""Static market specifications the simulated venue lists (its `meta` / `spotMeta`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CoinSpec:
    """One perpetual market of the simulated venue, shaped like a `meta.universe` entry.

    Parameters
    ----------
    name : str
        The coin string, e.g. "BTC" (the asset id is the index in the engine's coin list).
    sz_decimals : int
        Size decimals; prices may carry at most ``6 - sz_decimals`` decimals.
    max_leverage : int
        Maximum leverage; maintenance margin is half the initial margin at this leverage.
    initial_px : float
        Starting oracle and mark price.
    only_isolated : bool
        Whether only isolated margin is allowed (as `onlyIsolated` in `meta`).
    """

    name: str
    sz_decimals: int
    max_leverage: int
    initial_px: float
    only_isolated: bool = False


@dataclass(frozen=True)
class SpotTokenSpec:
    """One spot token as listed in `spotMeta.tokens`."""

    name: str
    index: int
    sz_decimals: int
    wei_decimals: int
    token_id: str
    full_name: str | None = None


@dataclass(frozen=True)
class SpotPairSpec:
    """One spot pair as listed in `spotMeta.universe` (tokens are token indices)."""

    name: str
    base: int
    quote: int
    index: int
    initial_px: float


DEFAULT_COINS: dict[str, CoinSpec] = {
    "BTC": CoinSpec(name="BTC", sz_decimals=5, max_leverage=40, initial_px=80000.0),
    "ETH": CoinSpec(name="ETH", sz_decimals=4, max_leverage=25, initial_px=2500.0),
    "SOL": CoinSpec(name="SOL", sz_decimals=2, max_leverage=20, initial_px=150.0),
    "HYPE": CoinSpec(name="HYPE", sz_decimals=2, max_leverage=10, initial_px=40.0),
}
"""Realistic defaults: szDecimals as on mainnet (BTC 5, ETH 4, SOL 2, HYPE 2)."""

DEFAULT_SPOT_TOKENS: tuple[SpotTokenSpec, ...] = (
    SpotTokenSpec(
        name="USDC",
        index=0,
        sz_decimals=8,
        wei_decimals=8,
        token_id="0x6d1e7cde53ba9467b783cb7c530ce054",
    ),
    SpotTokenSpec(
        name="PURR",
        index=1,
        sz_decimals=0,
        wei_decimals=5,
        token_id="0xc1fb593aeffbeb02f85e0308e9956a90",
        full_name="Purr",
    ),
)
"""USDC (collateral) and PURR, the canonical spot pair's base token."""

DEFAULT_SPOT_PAIRS: tuple[SpotPairSpec, ...] = (
    SpotPairSpec(name="PURR/USDC", base=1, quote=0, index=0, initial_px=0.2),
)
"""The one canonical spot pair, so `spotMeta` and spot balances have real content."""

MAX_DECIMALS_PERP = 6
MAX_DECIMALS_SPOT = 8
SPOT_ASSET_OFFSET = 10000
