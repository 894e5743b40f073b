"""Events the simulated venue core emits; the server turns them into WebSocket channel messages.

Every event carries the exact venue-shaped JSON dict for its payload where one exists, so the
server only wraps it in `{"channel": ..., "data": ...}` (and batches per channel as it likes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BookChanged:
    """The order book of `coin` changed (feeds l2Book / bbo pushes)."""

    coin: str


@dataclass(frozen=True)
class TradePrint:
    """A public trade: `{coin, side, px, sz, time, hash, tid, users:[buyer, seller]}`."""

    coin: str
    trade: dict[str, Any]


@dataclass(frozen=True)
class OrderUpdate:
    """An order status change of `user`: `{order:<basic order>, status, statusTimestamp}`."""

    user: str
    update: dict[str, Any]


@dataclass(frozen=True)
class UserFill:
    """A fill of `user` in the venue fill shape (PROTOCOL §8.3)."""

    user: str
    fill: dict[str, Any]


@dataclass(frozen=True)
class UserFunding:
    """A funding payment of `user`: `{time, coin, usdc, szi, fundingRate, nSamples}`."""

    user: str
    funding: dict[str, Any]


@dataclass(frozen=True)
class UserLiquidation:
    """A liquidation of `user`.

    Payload: `{lid, liquidator, liquidated_user, liquidated_ntl_pos, liquidated_account_value}`.
    """

    user: str
    liquidation: dict[str, Any]


@dataclass(frozen=True)
class NonUserCancel:
    """Orders of `user` cancelled by the venue, not the user: `[{coin, oid}]`."""

    user: str
    cancels: list[dict[str, Any]]


@dataclass(frozen=True)
class Notification:
    """A UI notification text for `user` (channel `notification`)."""

    user: str
    text: str


SimEvent = (
    BookChanged
    | TradePrint
    | OrderUpdate
    | UserFill
    | UserFunding
    | UserLiquidation
    | NonUserCancel
    | Notification
)
"""Everything the engine can emit, in emission order via `SimEngine.drain_events`."""

__all__ = [
    "BookChanged",
    "NonUserCancel",
    "Notification",
    "OrderUpdate",
    "SimEvent",
    "TradePrint",
    "UserFill",
    "UserFunding",
    "UserLiquidation",
]
