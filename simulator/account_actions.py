"""The /exchange account actions: leverage, isolated margin, agents, transfers, sub-accounts."""

from __future__ import annotations

import hashlib
from typing import Any

from adapters.hyperliquid.numbers import is_valid_address
from simulator import errors
from simulator.accounts import SimAccount
from simulator.accounts import cross_account_value
from simulator.accounts import cross_margin_used
from simulator.accounts import isolated_equity
from simulator.accounts import open_order_margin
from simulator.order_actions import err
from simulator.order_actions import ok_default
from simulator.orders import fmt_usd
from simulator.orders import parse_units
from simulator.spot import spot_holds
from simulator.state import VenueState
from simulator.state import hash_hex

MAX_NAMED_AGENTS = 3


def act_update_leverage(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    asset = action.get("asset")
    is_cross = action.get("isCross")
    leverage = action.get("leverage")
    market = state.by_asset.get(asset) if isinstance(asset, int) else None
    if market is None or not isinstance(is_cross, bool) or not isinstance(leverage, int):
        return err(errors.DESERIALIZE)
    if leverage < 1 or leverage > market.spec.max_leverage:
        return err(errors.INVALID_LEVERAGE)
    if is_cross and market.spec.only_isolated:
        return err(errors.CROSS_NOT_ALLOWED)
    pos = account.positions.get(market.coin)
    if pos is not None and pos.szi:
        if pos.is_cross != is_cross:
            return err(errors.SWITCH_MARGIN_MODE_WITH_POSITION)
        marks = state.marks()
        if is_cross:
            old_margin = pos.value(marks[market.coin]) / pos.leverage
            new_margin = pos.value(marks[market.coin]) / leverage
            free = (
                cross_account_value(account, marks) - cross_margin_used(account, marks) + old_margin
            )
            if new_margin > free + 1e-9:
                return err(errors.LEVERAGE_MARGIN)
        pos.leverage = leverage
    account.leverage[market.coin] = (is_cross, leverage)
    if pos is not None and not pos.szi:
        pos.is_cross = is_cross
        pos.leverage = leverage
    return ok_default()


def act_update_isolated_margin(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    asset = action.get("asset")
    ntli = action.get("ntli")
    market = state.by_asset.get(asset) if isinstance(asset, int) else None
    if market is None or not isinstance(ntli, int) or isinstance(ntli, bool):
        return err(errors.DESERIALIZE)
    pos = account.positions.get(market.coin)
    if pos is None or pos.szi == 0 or pos.is_cross:
        return err(errors.NO_ISOLATED_POSITION)
    amount = ntli / 1_000_000
    marks = state.marks()
    if amount >= 0:
        free = (
            cross_account_value(account, marks)
            - cross_margin_used(account, marks)
            - open_order_margin(account)
        )
        if amount > free + 1e-9:
            return err(errors.ISOLATED_MARGIN_INSUFFICIENT)
    else:
        need = pos.value(marks[market.coin]) / pos.leverage
        if isolated_equity(pos, marks[market.coin]) + amount < need - 1e-9:
            return err(errors.ISOLATED_MARGIN_INSUFFICIENT)
    pos.iso_margin += amount
    account.usdc = round(account.usdc - amount, 6)
    return ok_default()


def act_approve_agent(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    agent = action.get("agentAddress")
    name = action.get("agentName", "")
    if not is_valid_address(agent) or not isinstance(name, str):
        return err(errors.DESERIALIZE)
    agent = agent.lower()
    if signer != account.address:
        return err(errors.UNKNOWN_SIGNER.format(address=signer))
    valid_until: int | None = None
    base_name = name
    marker = " valid_until "
    if marker in name:
        base_name, _, until = name.partition(marker)
        if not until.isdigit():
            return err(errors.DESERIALIZE)
        valid_until = int(until)
    if agent in state.accounts:
        return err(errors.AGENT_IS_USER)
    named = [n for n in account.agents if n]
    if base_name and base_name not in account.agents and len(named) >= MAX_NAMED_AGENTS:
        return err(errors.TOO_MANY_AGENTS)
    previous = account.agents.get(base_name)
    if previous is not None:
        state.agents.pop(previous[0], None)
    account.agents[base_name] = (agent, valid_until)
    state.agents[agent] = (account.address, base_name, valid_until)
    return ok_default()


def act_usd_class_transfer(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    amount_text = action.get("amount")
    to_perp = action.get("toPerp")
    if not isinstance(amount_text, str) or not isinstance(to_perp, bool):
        return err(errors.DESERIALIZE)
    target = account
    if " subaccount:" in amount_text:
        amount_text, _, sub = amount_text.partition(" subaccount:")
        found = state.accounts.get(sub.lower())
        if found is None or found.master != account.address:
            return err(errors.UNKNOWN_VAULT.format(address=sub.lower()))
        target = found
    amount_units = parse_units(amount_text, 6)
    if amount_units is None or amount_units <= 0:
        return err(errors.DESERIALIZE)
    amount = amount_units / 1_000_000
    if to_perp:
        held = spot_holds(state, target).get(0, 0.0)  # USDC that open spot bids hold
        if target.spot_usdc - held + 1e-9 < amount:
            return err(errors.INSUFFICIENT_TRANSFER)
        target.spot_usdc = round(target.spot_usdc - amount, 6)
        target.usdc = round(target.usdc + amount, 6)
    else:
        if state.withdrawable(target) + 1e-9 < amount:
            return err(errors.INSUFFICIENT_TRANSFER)
        target.usdc = round(target.usdc - amount, 6)
        target.spot_usdc = round(target.spot_usdc + amount, 6)
    target.ledger.append(
        {
            "time": now_ms,
            "hash": hash_hex("action", signer, nonce),
            "delta": {
                "type": "accountClassTransfer",
                "usdc": fmt_usd(amount),
                "toPerp": to_perp,
            },
        }
    )
    return ok_default()


def act_noop(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    return ok_default()


def act_create_sub_account(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    name = action.get("name")
    if not isinstance(name, str) or not name:
        return err(errors.DESERIALIZE)
    address = "0x" + hashlib.sha256(f"sub:{account.address}:{name}".encode()).hexdigest()[:40]
    state.add_sub_account(account.address, address)
    state.accounts[address].name = name
    return {"status": "ok", "response": {"type": "createSubAccount", "data": address}}


def act_sub_account_transfer(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    sub_address = action.get("subAccountUser")
    is_deposit = action.get("isDeposit")
    usd = action.get("usd")
    if (
        not is_valid_address(sub_address)
        or not isinstance(is_deposit, bool)
        or not isinstance(usd, int)
        or usd <= 0
    ):
        return err(errors.DESERIALIZE)
    sub = state.accounts.get(sub_address.lower())
    if sub is None or sub.master != account.address:
        return err(errors.UNKNOWN_VAULT.format(address=sub_address.lower()))
    amount = usd / 1_000_000
    src, dst = (account, sub) if is_deposit else (sub, account)
    if state.withdrawable(src) + 1e-9 < amount:
        return err(errors.INSUFFICIENT_TRANSFER)
    src.usdc = round(src.usdc - amount, 6)
    dst.usdc = round(dst.usdc + amount, 6)
    dst.deposited = True
    return ok_default()
