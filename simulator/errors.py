"""Venue error texts and the exception the engine raises for bad /info requests."""

from __future__ import annotations


class InfoRequestError(Exception):
    """A malformed or unsupported /info request; the server answers it with an HTTP 4xx."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# Per-order texts (the engine appends " asset=<id>" where the venue does).
TICK = "Price must be divisible by tick size."
MIN_TRADE_NTL = "Order must have minimum value of $10."
MIN_TRADE_SPOT_NTL = "Order must have minimum value of 10 {quote_token}."
# The documented text, "(Spot-only)" included (no live capture shows whether it is sent).
INSUFFICIENT_SPOT_BALANCE = "(Spot-only) Order has insufficient spot balance to trade"
PERP_MARGIN = "Insufficient margin to place order."
REDUCE_ONLY = "Reduce only order would increase position."
BAD_ALO_PX = "Post only order would have immediately matched, bbo was {bbo}."
IOC_CANCEL = "Order could not immediately match against any resting orders."
BAD_TRIGGER_PX = "Invalid TP/SL price."
MARKET_NO_LIQUIDITY = "No liquidity available for market order."
MISSING_ORDER = "Order was never placed, already canceled, or filled."
INVALID_SIZE = "Order has invalid size."
INVALID_PRICE = "Order has invalid price."
ORACLE = "Order price too far from oracle"  # no trailing period, as the venue writes it

# Top-level texts.
UNKNOWN_SIGNER = "User or API Wallet {address} does not exist."
MUST_DEPOSIT = "Must deposit before performing actions. User: {address}"
SCHEDULE_CANCEL_VOLUME = "Cannot set scheduled cancel time until enough volume traded"

# Texts the venue does not document exactly; chosen to be close to what clients report.
DESERIALIZE = "Failed to deserialize the JSON body into the target type"
UNKNOWN_ASSET = "Invalid asset."
EXPIRES_AFTER_USER_SIGNED = "expiresAfter is not allowed on user-signed actions"
UNKNOWN_VAULT = "Vault or sub-account {address} does not exist or is not owned by the signer."
EXPIRED = "Action expired: expiresAfter {expires_after} is before block time {now}"
NONCE_DUPLICATE = "Invalid nonce: duplicate nonce {nonce}"
NONCE_TOO_LOW = "Invalid nonce: nonce {nonce} is not greater than the smallest of the last 100"
NONCE_WINDOW = "Invalid nonce: nonce {nonce} is outside the allowed window (now-2d, now+1d)"
RATE_LIMITED = (
    "Too many cumulative requests sent ({used} > {cap}) for cumulative volume traded ${volume}. "
    "Place taker orders to free up 1 request per USDC traded."
)
CANNOT_MODIFY = "Cannot modify canceled or filled order"
SCHEDULE_CANCEL_TOO_EARLY = "Scheduled cancel time must be at least 5 seconds in the future."
SCHEDULE_CANCEL_TOO_MANY = "Too many scheduled cancel triggers today."
INVALID_LEVERAGE = "Invalid leverage value."
CROSS_NOT_ALLOWED = "Cross margin is not allowed for this asset."
SWITCH_MARGIN_MODE_WITH_POSITION = "Cannot switch margin mode with an open position."
LEVERAGE_MARGIN = "Insufficient margin to change leverage."
NO_ISOLATED_POSITION = "No isolated position to update margin for."
ISOLATED_MARGIN_INSUFFICIENT = "Insufficient margin for isolated margin update."
AGENT_IS_USER = "Agent address is already a user."
TOO_MANY_AGENTS = "Too many named agents."
INSUFFICIENT_TRANSFER = "Insufficient balance for transfer."


def with_asset(text: str, asset: object) -> str:
    """Append the " asset=N" suffix the venue puts on live per-order errors."""
    return f"{text} asset={asset}"
