"""Venue error texts -> stable reason codes, keeping the venue's own words.

Strategies, risk controls and dashboards must react to *why* an order was refused (back off on a
rate limit, resize on insufficient margin, re-price a post-only) without parsing English that the
venue may reword. Every text the venue is known to send (PROTOCOL.md §5.2,
`fixtures/exchange_error_strings.json`) and every text the simulator sends maps to one
`HyperliquidRejectReason`; anything else maps to `UNKNOWN` and keeps its text, so a new venue
message is visible rather than misfiled.

Matching ignores the ` asset=N` suffix of per-order errors and the `L1 error: ` prefix the docs
quote, but `VenueRejection.text` keeps the full venue text for OrderRejected /
OrderCancelRejected / OrderModifyRejected. Templated texts (bbo, addresses, nonces, volumes) are
matched on their fixed prefix. Order statuses that name a rejection (`badAloPxRejected`, ...)
map to the same codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from enum import unique
from typing import Final

from adapters.hyperliquid.numbers import split_asset_suffix

__all__ = [
    "HyperliquidRejectReason",
    "VenueRejection",
    "classify_rejection",
    "reason_for_order_status",
]


@unique
class HyperliquidRejectReason(StrEnum):
    """Why the venue refused an order, cancel, modify or action: stable across venue rewording."""

    MIN_VALUE = "MIN_VALUE"
    INSUFFICIENT_MARGIN = "INSUFFICIENT_MARGIN"
    POST_ONLY_WOULD_CROSS = "POST_ONLY_WOULD_CROSS"
    REDUCE_ONLY = "REDUCE_ONLY"
    INVALID_PRICE = "INVALID_PRICE"
    INVALID_SIZE = "INVALID_SIZE"
    INVALID_TRIGGER_PRICE = "INVALID_TRIGGER_PRICE"
    IOC_NO_MATCH = "IOC_NO_MATCH"
    NO_LIQUIDITY = "NO_LIQUIDITY"
    TOO_FAR_FROM_ORACLE = "TOO_FAR_FROM_ORACLE"
    OPEN_INTEREST_CAP = "OPEN_INTEREST_CAP"
    MAX_POSITION = "MAX_POSITION"
    INSUFFICIENT_SPOT_BALANCE = "INSUFFICIENT_SPOT_BALANCE"
    POST_ONLY_MODE = "POST_ONLY_MODE"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    RATE_LIMITED = "RATE_LIMITED"
    UNKNOWN_SIGNER = "UNKNOWN_SIGNER"
    NOT_DEPOSITED = "NOT_DEPOSITED"
    UNKNOWN_VAULT = "UNKNOWN_VAULT"
    INVALID_NONCE = "INVALID_NONCE"
    EXPIRED = "EXPIRED"
    INVALID_ASSET = "INVALID_ASSET"
    MALFORMED = "MALFORMED"
    SCHEDULE_CANCEL_REFUSED = "SCHEDULE_CANCEL_REFUSED"
    LEVERAGE_REFUSED = "LEVERAGE_REFUSED"
    ISOLATED_MARGIN_REFUSED = "ISOLATED_MARGIN_REFUSED"
    AGENT_REFUSED = "AGENT_REFUSED"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    UNKNOWN = "UNKNOWN"


_R = HyperliquidRejectReason

# Texts matched exactly (after removing the " asset=N" suffix and the "L1 error: " prefix).
_EXACT: Final[dict[str, HyperliquidRejectReason]] = {
    "Price must be divisible by tick size.": _R.INVALID_PRICE,
    "Order has invalid price.": _R.INVALID_PRICE,
    "Order has invalid size.": _R.INVALID_SIZE,
    "Insufficient margin to place order.": _R.INSUFFICIENT_MARGIN,
    "Reduce only order would increase position.": _R.REDUCE_ONLY,
    "Order could not immediately match against any resting orders.": _R.IOC_NO_MATCH,
    "Invalid TP/SL price.": _R.INVALID_TRIGGER_PRICE,
    "No liquidity available for market order.": _R.NO_LIQUIDITY,
    "Order price too far from oracle": _R.TOO_FAR_FROM_ORACLE,
    "Order would increase open interest while open interest is capped": _R.OPEN_INTEREST_CAP,
    "Order rejected due to price more aggressive than oracle while at open interest cap": (
        _R.OPEN_INTEREST_CAP
    ),
    "Order would increase open interest too quickly": _R.OPEN_INTEREST_CAP,
    "(Spot-only) Order has insufficient spot balance to trade": _R.INSUFFICIENT_SPOT_BALANCE,
    "Order would cause position to exceed margin tier limit at current leverage": _R.MAX_POSITION,
    "Order was never placed, already canceled, or filled.": _R.UNKNOWN_ORDER,
    "Cannot modify canceled or filled order": _R.UNKNOWN_ORDER,
    "Only post-only orders allowed immediately after a network upgrade": _R.POST_ONLY_MODE,
    "Cannot set scheduled cancel time until enough volume traded": _R.SCHEDULE_CANCEL_REFUSED,
    "Scheduled cancel time must be at least 5 seconds in the future.": (_R.SCHEDULE_CANCEL_REFUSED),
    "Too many scheduled cancel triggers today.": _R.SCHEDULE_CANCEL_REFUSED,
    "Invalid asset.": _R.INVALID_ASSET,
    "Failed to deserialize the JSON body into the target type": _R.MALFORMED,
    "expiresAfter is not allowed on user-signed actions": _R.MALFORMED,
    "Invalid leverage value.": _R.LEVERAGE_REFUSED,
    "Cross margin is not allowed for this asset.": _R.LEVERAGE_REFUSED,
    "Cannot switch margin mode with an open position.": _R.LEVERAGE_REFUSED,
    "Insufficient margin to change leverage.": _R.LEVERAGE_REFUSED,
    "No isolated position to update margin for.": _R.ISOLATED_MARGIN_REFUSED,
    "Insufficient margin for isolated margin update.": _R.ISOLATED_MARGIN_REFUSED,
    "Agent address is already a user.": _R.AGENT_REFUSED,
    "Too many named agents.": _R.AGENT_REFUSED,
    "Insufficient balance for transfer.": _R.INSUFFICIENT_BALANCE,
    "Insufficient balance to create vault": _R.INSUFFICIENT_BALANCE,
}

# Templated texts, matched on their fixed beginning (checked in this order).
_PREFIXES: Final[tuple[tuple[str, HyperliquidRejectReason], ...]] = (
    ("Order must have minimum value of ", _R.MIN_VALUE),  # "$10." perps, "10 {quote}." spot
    ("Post only order would have immediately matched", _R.POST_ONLY_WOULD_CROSS),  # bbo b@a
    ("Too many cumulative requests sent", _R.RATE_LIMITED),
    ("User or API Wallet ", _R.UNKNOWN_SIGNER),
    ("Must deposit before performing actions", _R.NOT_DEPOSITED),
    ("Vault or sub-account ", _R.UNKNOWN_VAULT),
    ("Invalid nonce", _R.INVALID_NONCE),
    ("Action expired", _R.EXPIRED),
    ("Order price too far from oracle", _R.TOO_FAR_FROM_ORACLE),
    ("Order would increase open interest", _R.OPEN_INTEREST_CAP),
)
_L1_PREFIX: Final[str] = "L1 error: "

# Order statuses (orderStatus, historicalOrders, orderUpdates) that name a rejection.
_STATUS_REASONS: Final[dict[str, HyperliquidRejectReason]] = {
    "rejected": _R.UNKNOWN,
    "tickRejected": _R.INVALID_PRICE,
    "minTradeNtlRejected": _R.MIN_VALUE,
    "perpMarginRejected": _R.INSUFFICIENT_MARGIN,
    "reduceOnlyRejected": _R.REDUCE_ONLY,
    "badAloPxRejected": _R.POST_ONLY_WOULD_CROSS,
    "iocCancelRejected": _R.IOC_NO_MATCH,
    "badTriggerPxRejected": _R.INVALID_TRIGGER_PRICE,
    "marketOrderNoLiquidityRejected": _R.NO_LIQUIDITY,
    "positionIncreaseAtOpenInterestCapRejected": _R.OPEN_INTEREST_CAP,
    "positionFlipAtOpenInterestCapRejected": _R.OPEN_INTEREST_CAP,
    "tooAggressiveAtOpenInterestCapRejected": _R.OPEN_INTEREST_CAP,
    "openInterestIncreaseRejected": _R.OPEN_INTEREST_CAP,
    "insufficientSpotBalanceRejected": _R.INSUFFICIENT_SPOT_BALANCE,
    "oracleRejected": _R.TOO_FAR_FROM_ORACLE,
    "perpMaxPositionRejected": _R.MAX_POSITION,
}


@dataclass(frozen=True, slots=True)
class VenueRejection:
    """A classified venue refusal: the stable `code`, the venue's full `text`, the asset if named.

    `reason` is the string to put into OrderRejected / OrderCancelRejected /
    OrderModifyRejected: code first (for machines), then the venue's words (for people).
    """

    code: HyperliquidRejectReason
    text: str
    asset: int | None = None

    @property
    def reason(self) -> str:
        """`"<CODE>: <venue text>"`, e.g. `"MIN_VALUE: Order must have minimum value of $10."`."""
        return f"{self.code.value}: {self.text}"

    @property
    def due_post_only(self) -> bool:
        """True for a post-only order refused because it would cross (OrderRejected flag)."""
        return self.code is _R.POST_ONLY_WOULD_CROSS


def _code_of(text: str) -> HyperliquidRejectReason:
    code = _EXACT.get(text)
    if code is not None:
        return code
    for prefix, prefixed_code in _PREFIXES:
        if text.startswith(prefix):
            return prefixed_code
    return _R.UNKNOWN


def classify_rejection(text: str) -> VenueRejection:
    """Classify any venue error text (per-order, per-cancel or whole-action) into a code.

    Unknown texts give `UNKNOWN` with the text kept whole, never an exception: a rejection must
    always reach the strategy.
    """
    stripped, asset = split_asset_suffix(text.strip())
    stripped = stripped.removeprefix(_L1_PREFIX)
    return VenueRejection(code=_code_of(stripped), text=text, asset=asset)


def reason_for_order_status(status: str) -> HyperliquidRejectReason | None:
    """The code for an order status that names a rejection (`badAloPxRejected`, ...), else None.

    Cancellations (`marginCanceled`, `reduceOnlyCanceled`, ...) are not rejections: None.
    """
    return _STATUS_REASONS.get(status)
