"""Hyperliquid number rules: price and size rounding, validation, wire strings and cloids.

Every order the node sends passes through here, so the rules are applied with exact decimal
arithmetic (never binary floats) and each rounding direction is an explicit choice of the caller.

Rules (PROTOCOL.md §3):

* A price is valid if it is a positive integer, or if it has at most 5 significant figures AND at
  most ``6 - szDecimals`` decimals (perps) / ``8 - szDecimals`` decimals (spot).
* A size is valid if it is positive and has at most ``szDecimals`` decimals.
* An order must be worth at least $10 (perps) or 10 units of the quote token (spot).
* Numbers go on the wire exactly as the SDK's ``float_to_wire`` writes them, because signatures
  cover those strings.

Floats given to the rounding and validation functions are read at 15 significant digits, the
precision a double guarantees for decimal numbers: ``0.1 + 0.2`` is read as ``0.3`` and
``0.3 - 0.1`` as ``0.2``, never as their binary expansions, so float noise can neither push a price
to the next tick nor drop a size by one lot. Pass Decimal or str when more digits matter.
"""

from __future__ import annotations

import hashlib
import re
from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from decimal import Context
from decimal import Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING
from typing import Final
from typing import TypeGuard

from adapters.hyperliquid.constants import ASSET_SUFFIX
from adapters.hyperliquid.constants import ERROR_INVALID_PRICE
from adapters.hyperliquid.constants import ERROR_INVALID_SIZE
from adapters.hyperliquid.constants import ERROR_MIN_TRADE_NTL
from adapters.hyperliquid.constants import ERROR_MIN_TRADE_SPOT_NTL
from adapters.hyperliquid.constants import MAX_PRICE_SIGNIFICANT_FIGURES
from adapters.hyperliquid.constants import MIN_ORDER_VALUE
from adapters.hyperliquid.constants import PERP_MAX_DECIMALS
from adapters.hyperliquid.constants import SPOT_MAX_DECIMALS
from adapters.hyperliquid.constants import WIRE_DECIMALS

if TYPE_CHECKING:
    from nautilus_trader.model.identifiers import ClientOrderId

__all__ = [
    "InvalidPriceError",
    "InvalidSizeError",
    "MinNotionalError",
    "cloid_from_client_order_id",
    "is_valid_address",
    "is_valid_cloid",
    "is_valid_price",
    "is_valid_size",
    "max_price_decimals",
    "min_notional_error",
    "normalize_cloid",
    "price_error",
    "round_price",
    "round_size",
    "size_error",
    "slippage_price",
    "split_asset_suffix",
    "to_decimal",
    "to_wire",
    "validate_min_notional",
    "validate_price",
    "validate_size",
    "with_asset_suffix",
]

type Number = Decimal | float | int | str

# A private context: wide enough that quantize never runs out of digits on any realistic number, and
# independent of whatever the thread's current decimal context happens to be.
_CTX: Final[Context] = Context(prec=60, Emax=999_999, Emin=-999_999)
_ZERO: Final[Decimal] = Decimal(0)
_WIRE_QUANTUM: Final[Decimal] = Decimal(1).scaleb(-WIRE_DECIMALS)
# Quantum 10**-n for every decimal count we can meet (index n), built once.
_QUANTA: Final[tuple[Decimal, ...]] = tuple(Decimal(1).scaleb(-n) for n in range(WIRE_DECIMALS + 1))
_CLOID_RE: Final[re.Pattern[str]] = re.compile(r"0x[0-9a-fA-F]{32}")
_ADDRESS_RE: Final[re.Pattern[str]] = re.compile(r"0x[0-9a-fA-F]{40}")
# Versioned domain prefix: changing the cloid derivation must change this tag, never silently.
_CLOID_DOMAIN: Final[bytes] = b"jarvis.hyperliquid.cloid.v1:"
_ASSET_SUFFIX_RE: Final[re.Pattern[str]] = re.compile(r"^(.*) asset=(\d+)$", re.DOTALL)


class InvalidPriceError(ValueError):
    """A price the venue would reject; the message says which rule it breaks."""

    venue_text: Final[str] = ERROR_INVALID_PRICE


class InvalidSizeError(ValueError):
    """A size the venue would reject; the message says which rule it breaks."""

    venue_text: Final[str] = ERROR_INVALID_SIZE


class MinNotionalError(ValueError):
    """An order below the venue minimum; ``str(error)`` is the venue's own text, exactly."""


# --- Conversions ---------------------------------------------------------------------------------


def to_decimal(value: Number) -> Decimal:
    """Convert a number to a finite Decimal; floats are read at 15 significant digits.

    Decimal, int and str are converted exactly. A float is read as the shortest decimal with at
    most 15 significant digits (``0.1 + 0.2`` -> ``0.3``): ``Decimal(float)`` would turn 0.3 into
    ``0.29999999999999998889...`` and a directed rounding would then move it by a whole tick.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError(f"expected a number, got bool {value!r}")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(format(value, ".15g"))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    else:
        raise TypeError(f"expected Decimal, float, int or str, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"number must be finite, got {value!r}")
    return result


def _strip_fixed(text: str) -> str:
    # "100.00000000" -> "100", "0.01470000" -> "0.0147", "-0.00000000" -> "0".
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        return "0"
    return text


def to_wire(value: Decimal | float | str) -> str:
    """Format a number exactly as the SDK's ``float_to_wire`` does, for signing and sending.

    Rounds to 8 decimals, drops trailing zeros and a trailing dot. Like the SDK this raises
    ``ValueError`` when the rounding would change the value: for floats with the SDK's own 1e-12
    tolerance, for Decimal and str exactly. Deliberate differences: negative zero is written
    ``"0"`` (the SDK writes ``"-0"``), and NaN / infinities raise (the SDK writes "NaN").

    Floats are formatted like the SDK, artefacts included: from about 1e7 up, ``f"{x:.8f}"`` shows
    binary noise (148529737.1 -> "148529737.09999999", which the venue would reject). Pass the
    Decimals that ``round_price`` / ``round_size`` return to get the clean string.
    """
    if isinstance(value, float):
        rounded = f"{value:.{WIRE_DECIMALS}f}"
        # Same check as the SDK, so we accept and reject exactly the floats it does.
        if not abs(float(rounded) - value) < 1e-12:
            raise ValueError(f"to_wire would round {value!r}")
        return _strip_fixed(rounded)
    number = to_decimal(value)
    quantized = number.quantize(_WIRE_QUANTUM, context=_CTX)
    if quantized != number:
        raise ValueError(f"to_wire would round {value!r} (more than {WIRE_DECIMALS} decimals)")
    return _strip_fixed(f"{quantized:f}")


# --- Prices --------------------------------------------------------------------------------------


def max_price_decimals(sz_decimals: int, is_spot: bool) -> int:
    """Return how many decimals a price may have: (6 perps / 8 spot) minus szDecimals."""
    limit = SPOT_MAX_DECIMALS if is_spot else PERP_MAX_DECIMALS
    if isinstance(sz_decimals, bool) or not 0 <= sz_decimals <= limit:
        kind = "spot" if is_spot else "perp"
        raise ValueError(f"szDecimals must be an int in 0..{limit} for {kind}, got {sz_decimals!r}")
    return limit - sz_decimals


def _is_integral(value: Decimal) -> bool:
    return value == value.to_integral_value(context=_CTX)


def price_error(px: Number, sz_decimals: int, is_spot: bool) -> str | None:
    """Return why the venue would reject this price, or None when it is valid."""
    max_decimals = max_price_decimals(sz_decimals, is_spot)
    value = to_decimal(px)
    if value <= 0:
        return f"price {value} must be positive"
    if _is_integral(value):
        return None
    _, digits, exponent = value.normalize(context=_CTX).as_tuple()
    assert isinstance(exponent, int)  # finite, checked by to_decimal
    decimals = -exponent  # > 0: the value is not an integer
    significant = len(digits)
    problems = []
    if significant > MAX_PRICE_SIGNIFICANT_FIGURES:
        problems.append(
            f"has {significant} significant figures (max {MAX_PRICE_SIGNIFICANT_FIGURES} "
            "for a non-integer price)"
        )
    if decimals > max_decimals:
        kind = "spot" if is_spot else "perp"
        problems.append(
            f"has {decimals} decimals (max {max_decimals} for {kind} with szDecimals {sz_decimals})"
        )
    if not problems:
        return None
    return f"price {value} " + " and ".join(problems)


def is_valid_price(px: Number, sz_decimals: int, is_spot: bool) -> bool:
    """Say whether the venue accepts this price (5 significant figures, max decimals, integers)."""
    return price_error(px, sz_decimals, is_spot) is None


def validate_price(px: Number, sz_decimals: int, is_spot: bool) -> Decimal:
    """Return the price as a Decimal, or raise InvalidPriceError naming the broken rule."""
    problem = price_error(px, sz_decimals, is_spot)
    if problem is not None:
        raise InvalidPriceError(problem)
    return to_decimal(px)


def _round_price(value: Decimal, max_decimals: int, round_up: bool) -> Decimal:
    if value <= 0:
        raise ValueError(f"price must be positive, got {value}")
    if _is_integral(value):
        # Integers are always valid, whatever their number of significant figures; only a
        # representation such as 105.00 is tidied to 105 (same value).
        written_exponent = value.as_tuple().exponent
        if isinstance(written_exponent, int) and written_exponent < 0:
            return value.quantize(_QUANTA[0], context=_CTX)
        return value
    # The valid prices in the decade [10**m, 10**(m+1)) are the multiples of
    # 10**max(m - 4, -max_decimals); from 10**4 up that grid is coarser than 1, but integers
    # are valid too, so the grid there is 1. Every decade boundary 10**k (k >= -max_decimals) is
    # valid, hence the nearest valid price in the chosen direction is on this decade's grid.
    exponent = min(0, max(value.adjusted() - (MAX_PRICE_SIGNIFICANT_FIGURES - 1), -max_decimals))
    rounding = ROUND_CEILING if round_up else ROUND_FLOOR
    rounded = value.quantize(_QUANTA[-exponent], rounding=rounding, context=_CTX)
    if rounded <= 0:
        raise InvalidPriceError(
            f"price {value} rounds down to zero with at most {max_decimals} decimals"
        )
    # Canonical form without trailing zeros: 9.99999 rounded up is 10, not 10.0000.
    if _is_integral(rounded):
        return rounded.quantize(_QUANTA[0], context=_CTX)
    return rounded.normalize(context=_CTX)


def round_price(
    px: Number,
    sz_decimals: int,
    *,
    is_spot: bool,
    is_buy: bool,
    aggressive: bool,
) -> Decimal:
    """Round a price to the nearest valid venue price in the direction the order side allows.

    A passive order must never end up more aggressive than asked: a passive buy rounds DOWN and a
    passive sell rounds UP. An aggressive order (one meant to cross) must still reach the level it
    targets: an aggressive buy rounds UP and an aggressive sell rounds DOWN. Already valid prices,
    integers included, are returned unchanged. Raises InvalidPriceError when a price rounds down
    to zero. Format the result for the wire with ``to_wire`` (``str()`` may use exponents).
    """
    round_up = is_buy == aggressive
    return _round_price(to_decimal(px), max_price_decimals(sz_decimals, is_spot), round_up)


def slippage_price(
    reference_px: Number,
    slippage: Number,
    sz_decimals: int,
    *,
    is_spot: bool,
    is_buy: bool,
) -> Decimal:
    """Return the limit price of a market-style IOC order: the reference moved by ``slippage``.

    Like the SDK's ``_slippage_price`` (buy at ref * (1 + s), sell at ref * (1 - s)), but rounded
    exactly and toward the reference, so the worst fill price never exceeds the requested
    slippage (the SDK rounds to nearest, which can overshoot by up to half a tick).
    """
    reference = to_decimal(reference_px)
    fraction = to_decimal(slippage)
    if not 0 <= fraction < 1:
        raise ValueError(f"slippage must be in [0, 1), got {fraction}")
    factor = 1 + fraction if is_buy else 1 - fraction
    target = reference * factor
    return _round_price(target, max_price_decimals(sz_decimals, is_spot), round_up=not is_buy)


# --- Sizes ---------------------------------------------------------------------------------------


def _check_sz_decimals(sz_decimals: int) -> None:
    if isinstance(sz_decimals, bool) or not 0 <= sz_decimals <= WIRE_DECIMALS:
        raise ValueError(f"szDecimals must be an int in 0..{WIRE_DECIMALS}, got {sz_decimals!r}")


def round_size(sz: Number, sz_decimals: int) -> Decimal:
    """Round a size DOWN to szDecimals, so an order never trades more than asked.

    May return zero (the size is below one lot); the caller decides what that means, and
    ``is_valid_size`` rejects it. Negative sizes raise ValueError: sides are carried separately.
    """
    _check_sz_decimals(sz_decimals)
    value = to_decimal(sz)
    if value < 0:
        raise InvalidSizeError(f"size {value} must not be negative")
    return value.quantize(_QUANTA[sz_decimals], rounding=ROUND_FLOOR, context=_CTX)


def size_error(sz: Number, sz_decimals: int) -> str | None:
    """Return why the venue would reject this size, or None when it is valid."""
    _check_sz_decimals(sz_decimals)
    value = to_decimal(sz)
    if value <= 0:
        return f"size {value} must be positive"
    exponent = value.normalize(context=_CTX).as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked by to_decimal
    if -exponent > sz_decimals:
        return f"size {value} has {-exponent} decimals (max szDecimals {sz_decimals})"
    return None


def is_valid_size(sz: Number, sz_decimals: int) -> bool:
    """Say whether the venue accepts this size (positive, at most szDecimals decimals)."""
    return size_error(sz, sz_decimals) is None


def validate_size(sz: Number, sz_decimals: int) -> Decimal:
    """Return the size as a Decimal, or raise InvalidSizeError naming the broken rule."""
    problem = size_error(sz, sz_decimals)
    if problem is not None:
        raise InvalidSizeError(problem)
    return to_decimal(sz)


# --- Minimum order value and venue error texts ---------------------------------------------------


def min_notional_error(
    px: Number,
    sz: Number,
    *,
    is_spot: bool,
    quote_token: str = "USDC",
) -> str | None:
    """Return the venue's exact rejection text when px * sz is below 10, else None.

    Perps: "Order must have minimum value of $10."; spot: "... of 10 {quote_token}." The value is
    computed exactly (no float artefacts), so an order worth exactly 10 passes. Whether the venue
    exempts reduce-only orders is unconfirmed (PROTOCOL.md §12); this check does not.
    """
    if to_decimal(px) * to_decimal(sz) >= MIN_ORDER_VALUE:
        return None
    if is_spot:
        return ERROR_MIN_TRADE_SPOT_NTL.format(quote_token=quote_token)
    return ERROR_MIN_TRADE_NTL


def validate_min_notional(
    px: Number,
    sz: Number,
    *,
    is_spot: bool,
    quote_token: str = "USDC",
) -> None:
    """Raise MinNotionalError carrying the venue's exact text when the order is worth < 10."""
    problem = min_notional_error(px, sz, is_spot=is_spot, quote_token=quote_token)
    if problem is not None:
        raise MinNotionalError(problem)


def with_asset_suffix(text: str, asset: int) -> str:
    """Append the " asset=N" suffix the venue puts on per-order errors (used by the simulator)."""
    return text + ASSET_SUFFIX.format(asset=asset)


def split_asset_suffix(text: str) -> tuple[str, int | None]:
    """Split a venue error into (text without suffix, asset id or None), to classify rejections."""
    match = _ASSET_SUFFIX_RE.match(text)
    if match is None:
        return text, None
    return match.group(1), int(match.group(2))


# --- Client order ids ----------------------------------------------------------------------------


def cloid_from_client_order_id(client_order_id: ClientOrderId | str) -> str:
    """Derive the venue cloid ("0x" + 32 lowercase hex) from a NautilusTrader client order id.

    The cloid is the first 16 bytes of SHA-256 over a versioned prefix and the id's UTF-8 text, so
    it is the same in every process and run (unlike ``hash()``), and a restarted node recognises its
    own orders. The hash cannot be reversed: the execution client must keep a cloid ->
    ClientOrderId lookup table (rebuilt from the cache on start) to map venue reports back.
    """
    text = client_order_id if isinstance(client_order_id, str) else client_order_id.value
    if not text:
        raise ValueError("client order id must not be empty")
    digest = hashlib.sha256(_CLOID_DOMAIN + text.encode("utf-8")).digest()
    return "0x" + digest[:16].hex()


def is_valid_cloid(cloid: object) -> TypeGuard[str]:
    """Say whether a value is a venue cloid: "0x" followed by exactly 32 hex digits."""
    return isinstance(cloid, str) and _CLOID_RE.fullmatch(cloid) is not None


def is_valid_address(address: object) -> TypeGuard[str]:
    """Say whether a value is an account address: "0x" followed by exactly 40 hex digits."""
    return isinstance(address, str) and _ADDRESS_RE.fullmatch(address) is not None


def normalize_cloid(cloid: str) -> str:
    """Return the cloid in lowercase (the form we send and key lookups by); raise if malformed."""
    if not is_valid_cloid(cloid):
        raise ValueError(f"cloid must be '0x' + 32 hex digits, got {cloid!r}")
    return cloid.lower()
