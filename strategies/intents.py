"""
Intents: what a strategy wants, in trader terms, before any order exists (STRATEGIES.md, Intents).

A strategy never places orders; it emits an ``Intent`` (direction, size as a percentage of account
equity, stop, target, reason). ``plan_intent`` turns one into an ``IntentPlan`` — exact venue
quantities and prices — or refuses it with a reason a trader can act on, before anything is sent:
the instrument's rules ($10 minimum, size step, price step and five significant figures, reused
from ``adapters/hyperliquid/numbers.py``) and the stop's side. It is pure: the executor supplies
equity and the reference price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Final

from adapters.hyperliquid.numbers import InvalidPriceError
from adapters.hyperliquid.numbers import min_notional_error
from adapters.hyperliquid.numbers import price_error
from adapters.hyperliquid.numbers import round_price
from adapters.hyperliquid.numbers import round_size
from adapters.hyperliquid.numbers import to_decimal

__all__ = [
    "Direction",
    "Intent",
    "IntentOutcome",
    "IntentOutcomeKind",
    "IntentPlan",
    "IntentRefused",
    "plan_intent",
]

_HUNDRED: Final[Decimal] = Decimal(100)


@unique
class Direction(StrEnum):
    """Which way an intent trades."""

    LONG = "LONG"
    SHORT = "SHORT"


@dataclass(frozen=True, slots=True)
class Intent:
    """
    A strategy's wish to hold a protected position.

    ``size_pct_equity`` is the position's notional as a percentage of account equity (2.0 = 2 %).
    ``reference_price`` is the price the strategy decided on (its mid); the entry is a market
    order, so the fill may differ by up to the executor's slippage cap.
    """

    direction: Direction
    size_pct_equity: float
    stop_price: float
    target_price: float
    reference_price: float
    reason: str


@dataclass(frozen=True, slots=True)
class IntentPlan:
    """An intent in venue units, every number already valid for the venue."""

    direction: Direction
    quantity: Decimal
    stop_price: Decimal
    target_price: Decimal
    reference_price: Decimal
    notional_usd: Decimal


class IntentRefused(ValueError):
    """An intent that cannot become orders; the message says why (shown to the trader)."""


@unique
class IntentOutcomeKind(StrEnum):
    """What the executor reports back to the strategy."""

    REFUSED = "REFUSED"  # checked before sending: nothing was sent
    ACCEPTED = "ACCEPTED"  # entry accepted by the venue
    REJECTED = "REJECTED"  # entry denied or rejected: nothing is held
    FILLED = "FILLED"  # entry filled (partly is enough): a position exists
    PROTECTED = "PROTECTED"  # stop and target rest at the venue
    EXITED = "EXITED"  # the position is flat again
    EXIT_FAILED = "EXIT_FAILED"  # the emergency exit ran out of attempts: still positioned


@dataclass(frozen=True, slots=True)
class IntentOutcome:
    """One report from the executor to the strategy."""

    kind: IntentOutcomeKind
    reason: str
    fill_price: float = float("nan")


def plan_intent(
    intent: Intent,
    equity_usd: Decimal,
    sz_decimals: int,
    *,
    is_spot: bool = False,
) -> IntentPlan:
    """Size and round ``intent`` for the venue; raises ``IntentRefused`` naming the problem."""
    if intent.size_pct_equity <= 0 or intent.size_pct_equity > 100:
        raise IntentRefused(f"size_pct_equity must be in (0, 100], was {intent.size_pct_equity}")
    if equity_usd <= 0:
        raise IntentRefused(f"account equity is {equity_usd} USD: nothing to size a position from")
    try:
        reference = to_decimal(intent.reference_price)
        stop = to_decimal(intent.stop_price)
        target = to_decimal(intent.target_price)
    except (ValueError, ArithmeticError) as exc:
        raise IntentRefused(f"intent prices must be finite numbers: {exc}") from None
    if reference <= 0 or stop <= 0 or target <= 0:
        raise IntentRefused(
            f"intent prices must be positive (reference {reference}, stop {stop}, target {target})"
        )
    is_long = intent.direction == Direction.LONG
    # Protective orders sell a long / buy a short. A stop rounds toward the entry (it never
    # fires later than asked); a target rounds away from it (it never fills worse).
    try:
        stop_px = round_price(
            stop, sz_decimals, is_spot=is_spot, is_buy=not is_long, aggressive=False
        )
        target_px = round_price(
            target, sz_decimals, is_spot=is_spot, is_buy=not is_long, aggressive=False
        )
    except InvalidPriceError as exc:
        raise IntentRefused(str(exc)) from None
    if is_long and not stop_px < reference < target_px:
        raise IntentRefused(
            f"a LONG needs stop < reference < target; got stop {stop_px}, reference "
            f"{reference}, target {target_px}"
        )
    if not is_long and not target_px < reference < stop_px:
        raise IntentRefused(
            f"a SHORT needs target < reference < stop; got target {target_px}, reference "
            f"{reference}, stop {stop_px}"
        )
    for name, px in (("stop", stop_px), ("target", target_px)):
        problem = price_error(px, sz_decimals, is_spot)
        if problem is not None:
            raise IntentRefused(f"{name} price: {problem}")
    notional = equity_usd * to_decimal(intent.size_pct_equity) / _HUNDRED
    quantity = round_size(notional / reference, sz_decimals)
    if quantity <= 0:
        raise IntentRefused(
            f"{intent.size_pct_equity}% of equity {equity_usd} USD is below one size step "
            f"(szDecimals {sz_decimals}) at {reference}"
        )
    # Each leg must be worth $10 at its own price: the stop leg is the smallest for a long.
    for name, px in (("entry", reference), ("stop", stop_px), ("target", target_px)):
        problem = min_notional_error(px, quantity, is_spot=is_spot)
        if problem is not None:
            raise IntentRefused(f"{name}: {problem} ({quantity} x {px} = {quantity * px} USD)")
    return IntentPlan(
        direction=intent.direction,
        quantity=quantity,
        stop_price=stop_px,
        target_price=target_px,
        reference_price=reference,
        notional_usd=quantity * reference,
    )
