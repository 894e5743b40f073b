"""Order sizes that respect the venue's $10 minimum, shared by the templates and the compiler.

Why a margin above $10: the venue checks an order's value at its limit price, and the execution
client prices a MARKET sell up to ``max_slippage_bps`` below the mid, so a sell worth exactly $10
at the mid would be refused; the price also moves between the plan and the order. Every child
and every DCA buy is therefore sized to be worth at least ``MIN_ORDER_NOTIONAL_USD``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from decimal import Decimal
from typing import Final

from adapters.hyperliquid.constants import MIN_ORDER_VALUE

__all__ = [
    "MIN_ORDER_NOTIONAL_USD",
    "VENUE_MIN_NOTIONAL_USD",
    "quantity_for_notional",
    "twap_slices",
]

VENUE_MIN_NOTIONAL_USD: Final[Decimal] = Decimal(MIN_ORDER_VALUE)
MIN_ORDER_NOTIONAL_USD: Final[Decimal] = VENUE_MIN_NOTIONAL_USD * Decimal("1.05")


def _lot(sz_decimals: int) -> Decimal:
    return Decimal(1).scaleb(-sz_decimals)


def quantity_for_notional(notional_usd: Decimal, price: Decimal, sz_decimals: int) -> Decimal:
    """Coins worth ``notional_usd`` at ``price``, rounded down to a lot, or up when rounding down
    would fall below ``MIN_ORDER_NOTIONAL_USD`` (for a notional of at least that minimum, never
    more than one lot above what was asked)."""
    lot = _lot(sz_decimals)
    raw = notional_usd / price
    down = raw.quantize(lot, rounding=ROUND_FLOOR)
    if down * price >= MIN_ORDER_NOTIONAL_USD:
        return down
    floor_qty = (MIN_ORDER_NOTIONAL_USD / price).quantize(lot, rounding=ROUND_CEILING)
    return max(raw.quantize(lot, rounding=ROUND_CEILING), floor_qty)


def twap_slices(
    total_qty: Decimal, price: Decimal, wanted_slices: int, sz_decimals: int
) -> tuple[int, Decimal]:
    """How many equal slices of ``total_qty`` each stay worth ``MIN_ORDER_NOTIONAL_USD``.

    Returns ``(slices, per_slice_qty)``; at most ``wanted_slices``, fewer when the total is
    small, 0 when even one slice is too small. Slices are equal lots, so NautilusTrader's TWAP
    leaves no tiny remainder child: the executed total is ``slices * per_slice_qty`` (at most
    ``slices - 1`` lots below ``total_qty``).
    """
    lot = _lot(sz_decimals)
    if total_qty * price < MIN_ORDER_NOTIONAL_USD:
        return 0, Decimal(0)
    by_value = int((total_qty * price) / MIN_ORDER_NOTIONAL_USD)
    slices = max(1, min(wanted_slices, by_value))
    while slices > 1:
        per = (total_qty / slices).quantize(lot, rounding=ROUND_FLOOR)
        if per > 0 and per * price >= MIN_ORDER_NOTIONAL_USD:
            return slices, per
        slices -= 1
    return 1, total_qty.quantize(lot, rounding=ROUND_FLOOR)
