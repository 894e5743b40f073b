"""Liquidation: accounts below maintenance margin are closed at market, the rest by a backstop.

The venue's liquidator vault is modelled as one account (`LIQUIDATOR_ADDRESS`) that takes what
the book cannot absorb at the mark, fee-free, and absorbs bad debt.
"""

from __future__ import annotations

from simulator.accounts import SimAccount
from simulator.accounts import cross_account_value
from simulator.accounts import cross_maintenance
from simulator.accounts import isolated_equity
from simulator.accounts import maintenance_margin
from simulator.events import NonUserCancel
from simulator.events import OrderUpdate
from simulator.events import UserLiquidation
from simulator.fills import match
from simulator.fills import trade
from simulator.lifecycle import cancel_order_quiet
from simulator.lifecycle import finish
from simulator.orders import float_to_units
from simulator.orders import fmt_usd
from simulator.orders import round_px_sig
from simulator.placement import new_order
from simulator.state import LIQUIDATOR_ADDRESS
from simulator.state import MARKET_SLIPPAGE
from simulator.state import VenueState
from simulator.state import hash_hex


def check_liquidations(state: VenueState, now_ms: int) -> None:
    """Liquidate cross accounts and isolated positions whose equity is below maintenance."""
    marks = state.marks()
    for account in list(state.accounts.values()):
        if account.address == LIQUIDATOR_ADDRESS or not account.positions:
            continue
        has_cross = any(p.szi and p.is_cross for p in account.positions.values())
        if has_cross:
            equity = cross_account_value(account, marks)
            mm = cross_maintenance(account, marks, state.max_leverage)
            if equity < mm:
                coins = [c for c, p in account.positions.items() if p.szi and p.is_cross]
                liquidate(state, account, coins, equity, marks)
        for coin, pos in list(account.positions.items()):
            if pos.szi and not pos.is_cross:
                mark = marks[coin]
                equity = isolated_equity(pos, mark)
                if equity < maintenance_margin(pos, mark, state.max_leverage[coin]):
                    liquidate(state, account, [coin], equity, marks)


def liquidate(
    state: VenueState,
    account: SimAccount,
    coins: list[str],
    equity: float,
    marks: dict[str, float],
) -> None:
    """Close positions at market against the book; the rest goes to the backstop liquidator."""
    cancelled = []
    for order in list(account.orders.values()):
        if order.coin in coins and order.status == "open" and order.oid in account.orders:
            cancel_order_quiet(state, order, "liquidatedCanceled")
            cancelled.append({"coin": order.coin, "oid": order.oid})
    if cancelled:
        state.emit(NonUserCancel(account.address, cancelled))
    ntl_pos = sum(account.positions[c].value(marks[c]) for c in coins)
    lid = state.next_lid
    state.next_lid += 1
    liquidator = state.account(LIQUIDATOR_ADDRESS)
    for coin in coins:
        market = state.markets[coin]
        pos = account.positions[coin]
        if not pos.szi:
            continue
        is_buy = pos.szi < 0
        mark = marks[coin]
        info = {
            "liquidatedUser": account.address,
            "markPx": fmt_usd(mark, 8),
            "method": "market",
        }
        slip = 1 + MARKET_SLIPPAGE if is_buy else 1 - MARKET_SLIPPAGE
        units = float_to_units(mark * slip, market.px_decimals)
        order = new_order(
            state,
            account,
            market,
            is_buy,
            round_px_sig(max(units, 1), market.px_decimals, not is_buy),
            abs(pos.szi),
            "LiquidationMarket",
            True,
            None,
            None,
        )
        action_hash = hash_hex("liquidation", lid, coin)
        account.history[order.oid] = order
        state.orders_by_oid[order.oid] = order
        state.emit(OrderUpdate(order.user, order.update_entry()))
        match(state, order, account, market, action_hash, info)
        if order.sz > 0 and pos.szi:
            # Backstop: the liquidator takes the rest at the mark.
            backstop = dict(info, method="backstop")
            mark_units = market.px_units(mark)
            qty = min(order.sz, abs(pos.szi))
            counter = new_order(
                state, liquidator, market, not is_buy, mark_units, qty, "Gtc", False, None, None
            )
            liquidator.history[counter.oid] = counter
            state.orders_by_oid[counter.oid] = counter
            trade(
                state, order, account, counter, liquidator, market, mark_units, qty,
                action_hash, backstop,
            )  # fmt: skip
            finish(state, counter, "filled")
        finish(state, order, "filled" if order.sz == 0 else "canceled")
    if account.usdc < 0 and not any(p.szi for p in account.positions.values()):
        # Bad debt is absorbed by the liquidator (the venue's backstop vault).
        liquidator.usdc = round(liquidator.usdc + account.usdc, 6)
        account.usdc = 0.0
    payload = {
        "lid": lid,
        "liquidator": LIQUIDATOR_ADDRESS,
        "liquidated_user": account.address,
        "liquidated_ntl_pos": fmt_usd(ntl_pos),
        "liquidated_account_value": fmt_usd(equity),
    }
    state.emit(UserLiquidation(account.address, payload))
