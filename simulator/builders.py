"""Builder fees and withdrawals: `approveBuilderFee`, the order action's `builder`, `withdraw3`.

Why here: ccxt approves a 0.01% builder fee on its first private call and then names its
builder on every order, so a simulator that refused the approval would let ccxt users trade
1 bp cheaper than on the venue. A builder fee is in tenths of a basis point (`f: 10` = 0.01%),
at most what the user approved (`maxBuilderFee`), charged on every fill of the order on top of
the venue fee and paid to the builder; the fill's `fee` includes it and `builderFee` shows it
(GitBook info endpoint, userFills).

Conventions the venue does not document precisely (chosen here, kept stable):
- Texts of refused approvals / builders [?]: "Builder fee has not been approved." (an order
  naming a builder above the approval) and the generic deserialize error for a bad rate.
- Approvals above 0.1% are refused (the venue's cap for perps; spot allows 1%, not modelled).
- `withdraw3` takes the venue's 1 USDC fee out of the amount; the ledger row shows the USDC
  that left (`usdc` = amount - fee) and the fee, as in the captured withdraw row [?].
"""

from __future__ import annotations

from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from adapters.hyperliquid.numbers import is_valid_address
from simulator import errors
from simulator.accounts import SimAccount
from simulator.orders import fmt_usd
from simulator.orders import parse_units
from simulator.state import VenueState
from simulator.state import hash_hex

__all__ = [
    "BUILDER_NOT_APPROVED",
    "MAX_BUILDER_FEE_TENTHS_BP",
    "WITHDRAW_FEE_USDC",
    "act_approve_builder_fee",
    "act_withdraw3",
    "builder_fee",
    "parse_builder",
]

BUILDER_NOT_APPROVED = "Builder fee has not been approved."
MAX_BUILDER_FEE_TENTHS_BP = 100  # 0.1%
WITHDRAW_FEE_USDC = 1.0


def _err(text: str) -> dict[str, Any]:
    return {"status": "err", "response": text}


def _ok() -> dict[str, Any]:
    return {"status": "ok", "response": {"type": "default"}}


def _tenths_of_bp(rate: Any) -> int | None:
    """ "0.01%" -> 10; None unless a whole number of tenths of a basis point."""
    if not isinstance(rate, str) or not rate.endswith("%"):
        return None
    try:
        tenths = Decimal(rate[:-1]) * 1000
    except InvalidOperation:
        return None
    if tenths < 0 or tenths != tenths.to_integral_value():
        return None
    return int(tenths)


def act_approve_builder_fee(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    """Record the most a builder may charge this account (a later approval replaces it)."""
    builder = action.get("builder")
    tenths = _tenths_of_bp(action.get("maxFeeRate"))
    if not is_valid_address(builder) or tenths is None or tenths > MAX_BUILDER_FEE_TENTHS_BP:
        return _err(errors.DESERIALIZE)
    account.builder_fees[str(builder).lower()] = tenths
    return _ok()


def parse_builder(account: SimAccount, raw: Any) -> tuple[str, int] | str | None:
    """The order action's `builder` {"b", "f"}: (address, tenths of a bp), None without one,
    or the error text when it is malformed or above the account's approval."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        return errors.DESERIALIZE
    address = raw.get("b")
    fee = raw.get("f")
    if not is_valid_address(address) or not isinstance(fee, int) or isinstance(fee, bool):
        return errors.DESERIALIZE
    address = str(address).lower()
    if fee < 0 or fee > account.builder_fees.get(address, 0):
        return BUILDER_NOT_APPROVED
    return address, fee


def builder_fee(amount: float, tenths_of_bp: int) -> float:
    """The builder's cut of `amount` (a notional or a token amount)."""
    return amount * tenths_of_bp / 100_000


def act_withdraw3(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    """Withdraw perp USDC to an address outside the venue (the bridge), less the 1 USDC fee."""
    destination = action.get("destination")
    units = parse_units(action.get("amount"), 6)
    if not is_valid_address(destination) or units is None or units <= 0:
        return _err(errors.DESERIALIZE)
    amount = units / 1_000_000
    if amount <= WITHDRAW_FEE_USDC or state.withdrawable(account) + 1e-9 < amount:
        return _err(errors.INSUFFICIENT_TRANSFER)
    account.usdc = round(account.usdc - amount, 6)
    account.ledger.append(
        {
            "time": now_ms,
            "hash": hash_hex("action", signer, nonce),
            "delta": {
                "type": "withdraw",
                "usdc": fmt_usd(amount - WITHDRAW_FEE_USDC),
                "nonce": nonce,
                "fee": fmt_usd(WITHDRAW_FEE_USDC),
            },
        }
    )
    return _ok()
