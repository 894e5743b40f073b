"""Time-driven order work: the dead-man switch (scheduleCancel) expiry and TP/SL triggers."""

from __future__ import annotations

from simulator.events import NonUserCancel
from simulator.events import OrderUpdate
from simulator.lifecycle import cancel_order_quiet
from simulator.lifecycle import finish
from simulator.lifecycle import reducible
from simulator.orders import SimOrder
from simulator.orders import float_to_units
from simulator.orders import round_px_sig
from simulator.placement import execute
from simulator.state import DAY_MS
from simulator.state import MARKET_SLIPPAGE
from simulator.state import MarketState
from simulator.state import VenueState
from simulator.state import hash_hex


def expire_schedule_cancels(state: VenueState, now_ms: int) -> None:
    """Cancel every open order of each account whose scheduled cancel time has come."""
    for address, when in list(state.scheduled.items()):
        if now_ms < when:
            continue
        del state.scheduled[address]
        account = state.accounts[address]
        account.schedule_cancel_ms = None
        day = now_ms // DAY_MS
        if account.schedule_cancel_day != day:
            account.schedule_cancel_day = day
            account.schedule_cancel_count = 0
        account.schedule_cancel_count += 1
        cancelled = []
        for order in list(account.orders.values()):
            if order.status == "open" and order.oid in account.orders:
                cancel_order_quiet(state, order, "scheduledCancel")
                cancelled.append({"coin": order.coin, "oid": order.oid})
        if cancelled:
            state.emit(NonUserCancel(address, cancelled))


def check_triggers(state: VenueState, now_ms: int) -> None:
    """Fire active trigger orders whose trigger price the mark has crossed, oldest first."""
    for market in state.markets.values():
        if not market.triggers:
            continue
        mark_units = market.mark * market.px_scale
        fired = [
            o
            for o in sorted(market.triggers.values(), key=lambda o: o.oid)
            if o.active
            and (mark_units >= o.trigger_px if o.trigger_above() else mark_units <= o.trigger_px)
        ]
        for order in fired:
            if order.status != "open" or order.oid not in market.triggers:
                continue
            fire_trigger(state, order, market)


def fire_trigger(state: VenueState, order: SimOrder, market: MarketState) -> None:
    """Report the order triggered, then execute it as a market (slippage-capped) or limit."""
    account = state.accounts[order.user]
    market.triggers.pop(order.oid, None)
    account.orders.pop(order.oid, None)
    account.position_bound.pop(order.oid, None)
    order.status = "triggered"
    order.status_ts = state.now
    state.emit(OrderUpdate(order.user, order.update_entry()))
    order.status = "open"
    if order.reduce_only:
        left = reducible(account, market.coin, order.is_buy)
        if left <= 0:
            finish(state, order, "reduceOnlyCanceled")
            return
        order.sz = min(order.sz, left)
    if order.is_market:
        slip = 1 + MARKET_SLIPPAGE if order.is_buy else 1 - MARKET_SLIPPAGE
        units = float_to_units(market.mark * slip, market.px_decimals)
        order.limit_px = round_px_sig(max(units, 1), market.px_decimals, not order.is_buy)
        order.tif = "FrontendMarket"
    else:
        order.tif = "Gtc"
    execute(state, order, account, market, hash_hex("trigger", order.oid, state.now))
