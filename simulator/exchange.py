"""The /exchange envelope: decoding, signer recovery, account mapping, nonces, rate limits.

Nonce and margin-action rejection texts are not documented by the venue; see `errors.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.hyperliquid.numbers import is_valid_address
from adapters.hyperliquid.schemas.exchange import USER_SIGNED_ACTION_TYPES
from simulator import errors
from simulator.account_actions import act_approve_agent
from simulator.account_actions import act_create_sub_account
from simulator.account_actions import act_noop
from simulator.account_actions import act_sub_account_transfer
from simulator.account_actions import act_update_isolated_margin
from simulator.account_actions import act_update_leverage
from simulator.account_actions import act_usd_class_transfer
from simulator.accounts import SimAccount
from simulator.builders import act_approve_builder_fee
from simulator.builders import act_withdraw3
from simulator.order_actions import act_batch_modify
from simulator.order_actions import act_cancel
from simulator.order_actions import act_modify
from simulator.order_actions import act_order
from simulator.order_actions import act_schedule_cancel
from simulator.order_actions import err
from simulator.signatures import SignatureRejected
from simulator.signatures import recover_l1
from simulator.signatures import recover_user_signed
from simulator.state import DAY_MS
from simulator.state import VenueState

NONCE_WINDOW_PAST_MS = 2 * DAY_MS
NONCE_WINDOW_FUTURE_MS = DAY_MS
NONCES_KEPT = 100
RATE_LIMIT_BASE = 10_000

ActionHandler = Callable[[VenueState, SimAccount, dict[str, Any], str, int, int], dict[str, Any]]

HANDLERS: dict[str, ActionHandler] = {
    "order": act_order,
    "cancel": act_cancel,
    "cancelByCloid": act_cancel,
    "modify": act_modify,
    "batchModify": act_batch_modify,
    "scheduleCancel": act_schedule_cancel,
    "updateLeverage": act_update_leverage,
    "updateIsolatedMargin": act_update_isolated_margin,
    "approveAgent": act_approve_agent,
    "usdClassTransfer": act_usd_class_transfer,
    "noop": act_noop,
    "createSubAccount": act_create_sub_account,
    "subAccountTransfer": act_sub_account_transfer,
    "approveBuilderFee": act_approve_builder_fee,
    "withdraw3": act_withdraw3,
}


def handle_exchange(state: VenueState, body: Any, now_ms: int) -> dict[str, Any]:
    """Check one /exchange body's envelope and run its action; returns the venue response."""
    if not isinstance(body, dict):
        return err(errors.DESERIALIZE)
    action = body.get("action")
    nonce = body.get("nonce")
    signature = body.get("signature")
    vault = body.get("vaultAddress")
    expires_after = body.get("expiresAfter")
    if (
        not isinstance(action, dict)
        or not isinstance(action.get("type"), str)
        or not isinstance(nonce, int)
        or isinstance(nonce, bool)
        or not isinstance(signature, dict)
        or (vault is not None and not is_valid_address(vault))
        or (expires_after is not None and not isinstance(expires_after, int))
    ):
        return err(errors.DESERIALIZE)
    action_type: str = action["type"]
    user_signed = action_type in USER_SIGNED_ACTION_TYPES
    try:
        if user_signed:
            if expires_after is not None:
                return err(errors.EXPIRES_AFTER_USER_SIGNED)
            signer = recover_user_signed(action, signature, state.is_mainnet)
        else:
            signer = recover_l1(action, nonce, vault, expires_after, state.is_mainnet, signature)
    except SignatureRejected:
        return err(errors.DESERIALIZE)
    signer = signer.lower()

    # Map the signer to the account it acts for.
    agent = state.agents.get(signer)
    if agent is not None and (agent[2] is None or agent[2] > now_ms) and not user_signed:
        master = agent[0]
    elif signer in state.accounts:
        master = signer
    elif state.initial_usdc > 0 and agent is None:
        state.credit_usdc(signer, state.initial_usdc)
        master = signer
    else:
        return err(errors.UNKNOWN_SIGNER.format(address=signer))
    target = master
    if vault is not None:
        vault = vault.lower()
        sub = state.accounts.get(vault)
        if sub is None or sub.master != master:
            return err(errors.UNKNOWN_VAULT.format(address=vault))
        target = vault
    account = state.accounts[target]
    if not account.deposited and not state.accounts[master].deposited:
        return err(errors.MUST_DEPOSIT.format(address=master))
    if expires_after is not None and now_ms > expires_after:
        return err(errors.EXPIRED.format(expires_after=expires_after, now=now_ms))
    if user_signed:
        inner = action.get("nonce", action.get("time"))
        if inner != nonce:
            return err(errors.DESERIALIZE)
    nonce_error = check_nonce(state, signer, nonce, now_ms)
    if nonce_error is not None:
        return err(nonce_error)
    weight = action_weight(action)
    rate_error = check_rate_limit(state, state.accounts[master], weight, action_type)
    if rate_error is not None:
        return err(rate_error)
    use_nonce(state, signer, nonce)
    state.accounts[master].n_requests += weight
    handler = HANDLERS.get(action_type)
    if handler is None:
        return err(errors.DESERIALIZE)
    return handler(state, account, action, signer, now_ms, nonce)


def check_nonce(state: VenueState, signer: str, nonce: int, now_ms: int) -> str | None:
    """The venue's nonce rules: inside (now - 2 days, now + 1 day), unused, above the 100th."""
    if not now_ms - NONCE_WINDOW_PAST_MS < nonce < now_ms + NONCE_WINDOW_FUTURE_MS:
        return errors.NONCE_WINDOW.format(nonce=nonce)
    used = state.nonces.get(signer)
    if used is None:
        return None
    if nonce in used:
        return errors.NONCE_DUPLICATE.format(nonce=nonce)
    if len(used) >= NONCES_KEPT and nonce <= used[0]:
        return errors.NONCE_TOO_LOW.format(nonce=nonce)
    return None


def use_nonce(state: VenueState, signer: str, nonce: int) -> None:
    used = state.nonces.setdefault(signer, [])
    # Keep the NONCES_KEPT highest nonces, sorted ascending.
    lo, hi = 0, len(used)
    while lo < hi:
        mid = (lo + hi) // 2
        if used[mid] < nonce:
            lo = mid + 1
        else:
            hi = mid
    used.insert(lo, nonce)
    if len(used) > NONCES_KEPT:
        del used[0]


def action_weight(action: dict[str, Any]) -> int:
    """Rate-limit weight: one per order, cancel or modify in a batch, else one."""
    for key in ("orders", "cancels", "modifies"):
        items = action.get(key)
        if isinstance(items, list):
            return max(1, len(items))
    return 1


def check_rate_limit(
    state: VenueState, account: SimAccount, weight: int, action_type: str
) -> str | None:
    """The address-based limit: 10,000 requests plus one per USD of volume traded."""
    if not state.enforce_address_rate_limit:
        return None
    cap = RATE_LIMIT_BASE + int(account.cum_vlm)
    if action_type in ("cancel", "cancelByCloid"):
        cap = min(cap + 100_000, 2 * cap)
    used = account.n_requests + weight
    if used > cap:
        return errors.RATE_LIMITED.format(used=used, cap=cap, volume=f"{account.cum_vlm:.2f}")
    return None
