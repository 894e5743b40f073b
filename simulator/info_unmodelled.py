"""/info types about features the simulator does not model, answered as the venue answers an
account that never used them (staking, TWAP orders, vault deposits).

Why answer instead of refusing: no simulated account can stake, run a TWAP or deposit into a
vault (those actions are refused), so the venue's answer for such an account is known: nothing.
A client that asks (the SDK's `user_staking_summary`, `user_twap_slice_fills`, ...) then gets
the venue's answer instead of an HTTP 422 it would never see live. Shapes: GitBook info
endpoint (delegatorSummary example; the others are lists).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.hyperliquid.numbers import is_valid_address
from simulator.errors import DESERIALIZE
from simulator.errors import InfoRequestError
from simulator.state import VenueState

__all__ = ["UNMODELLED_HANDLERS"]


def _checked_user(body: dict[str, Any]) -> None:
    if not is_valid_address(body.get("user")):
        raise InfoRequestError(DESERIALIZE)


def _nothing_listed(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    """delegations, delegatorHistory, delegatorRewards, userTwapSliceFills, userVaultEquities."""
    _checked_user(body)
    return []


def _delegator_summary(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    _checked_user(body)
    return {
        "delegated": "0.0",
        "undelegated": "0.0",
        "totalPendingWithdrawal": "0.0",
        "nPendingWithdrawals": 0,
    }


UNMODELLED_HANDLERS: dict[str, Callable[[VenueState, dict[str, Any], int], Any]] = {
    "delegatorSummary": _delegator_summary,
    "delegations": _nothing_listed,
    "delegatorHistory": _nothing_listed,
    "delegatorRewards": _nothing_listed,
    "userTwapSliceFills": _nothing_listed,
    "userVaultEquities": _nothing_listed,
}
