"""Order state transitions: finishing, cancelling, TP/SL children and position-bound orders.

Every path that ends an order (fill, cancel, trigger, liquidation, scheduled cancel) goes
through `finish`, so the reservation release and the orderUpdates event cannot be forgotten.
"""

from __future__ import annotations

import itertools

from simulator.accounts import SimAccount
from simulator.accounts import SimPosition
from simulator.accounts import reserve
from simulator.events import NonUserCancel
from simulator.events import Notification
from simulator.events import OrderUpdate
from simulator.orders import SimOrder
from simulator.orders import fmt_plain
from simulator.orders import fmt_usd
from simulator.state import MarketState
from simulator.state import VenueState

# Pruning runs when an account holds this fraction over its cap (amortised cost).
_PRUNE_SLACK_FRACTION = 10


def finish(state: VenueState, order: SimOrder, status: str) -> None:
    """Move an order to a final status and publish the update."""
    account = state.accounts[order.user]
    account.orders.pop(order.oid, None)
    account.position_bound.pop(order.oid, None)
    state.market(order.coin).triggers.pop(order.oid, None)
    if order.reserved:
        reserve(account, order, -order.reserved)
    order.status = status
    order.status_ts = state.now
    state.emit(OrderUpdate(order.user, order.update_entry()))


def finish_resting(state: VenueState, order: SimOrder, status: str, market: MarketState) -> None:
    """A resting order cancelled by the venue while matching (already popped from its queue)."""
    finish(state, order, status)
    state.book_changed(market.coin)
    state.emit(NonUserCancel(order.user, [{"coin": order.coin, "oid": order.oid}]))
    cancel_children(state, order)


def cancel_order(state: VenueState, order: SimOrder, status: str) -> None:
    """Cancel an open order (book, trigger list, waiting children) with `status`."""
    market = state.market(order.coin)
    if order.on_book and market.book.remove(order):
        state.book_changed(market.coin)
    finish(state, order, status)
    if status not in ("canceled",):
        state.emit(NonUserCancel(order.user, [{"coin": order.coin, "oid": order.oid}]))
    cancel_children(state, order)


def cancel_order_quiet(state: VenueState, order: SimOrder, status: str) -> None:
    """Cancel without a per-order nonUserCancel event (the caller batches them)."""
    market = state.market(order.coin)
    if order.on_book and market.book.remove(order):
        state.book_changed(market.coin)
    finish(state, order, status)
    for child in order.children:
        if child.status == "open":
            finish(state, child, status)


def cancel_children(state: VenueState, order: SimOrder) -> None:
    for child in order.children:
        if child.status == "open":
            cancel_order(state, child, "canceled")


def bind(account: SimAccount, order: SimOrder) -> None:
    """Remember orders whose fate depends on the position (see `after_position_change`)."""
    if order.reduce_only or order.is_position_tpsl or order.parent is not None:
        account.position_bound[order.oid] = order


def on_parent_filled(state: VenueState, order: SimOrder) -> None:
    for child in order.children:
        if child.status == "open" and not child.active:
            activate_child(state, child)


def activate_child(state: VenueState, child: SimOrder) -> None:
    account = state.accounts[child.user]
    market = state.market(child.coin)
    child.active = True
    account.orders[child.oid] = child
    bind(account, child)
    market.triggers[child.oid] = child
    state.emit(OrderUpdate(child.user, child.update_entry()))


def after_position_change(
    state: VenueState, account: SimAccount, market: MarketState, pos: SimPosition
) -> None:
    """Keep reduce-only and position TP/SL orders consistent with the new position."""
    if not account.position_bound:
        return
    for order in list(account.position_bound.values()):
        if order.coin != market.coin or not order.active:
            continue
        if order.is_position_tpsl:
            if pos.szi == 0:
                cancel_order(state, order, "siblingFilledCanceled")
            else:
                order.sz = order.orig_sz = abs(pos.szi)
        elif order.is_trigger and order.parent is not None and pos.szi == 0:
            cancel_order(state, order, "siblingFilledCanceled")
        elif (
            order.reduce_only
            and not order.is_trigger
            and order.sz > 0
            and (pos.szi == 0 or (pos.szi > 0) == order.is_buy)
            and order.on_book
        ):
            cancel_order(state, order, "reduceOnlyCanceled")


def notify_resting_filled(state: VenueState, order: SimOrder, market: MarketState) -> None:
    verb = "Bought" if order.is_buy else "Sold"
    avg = order.filled_ntl * market.sz_scale / order.filled_sz
    text = (
        f"Resting order filled: {verb} {fmt_plain(order.orig_sz, market.sz_decimals)} "
        f"{market.coin} at ${fmt_usd(avg, 8).removesuffix('.0')}"
    )
    state.emit(Notification(order.user, text))


def reducible(account: SimAccount, coin: str, is_buy: bool) -> int:
    """How much of the position on `coin` an order on side `is_buy` can still reduce."""
    pos = account.positions.get(coin)
    if pos is None or pos.szi == 0 or (pos.szi > 0) == is_buy:
        return 0
    return abs(pos.szi)


def prune_order_history(state: VenueState) -> None:
    """Forget the oldest finished orders of an account beyond its ``orders_kept`` (bounded memory).

    The cap (``accounts.ORDERS_KEPT``) is what the venue's historicalOrders reports; the venue
    answers orderStatus for any oid, here an evicted oid answers unknownOid. Live orders (open,
    triggered, or with an open TP/SL child) are never forgotten. Runs only when an account is a
    tenth over its cap, so its cost is amortised.
    """
    for account in state.accounts.values():
        history = account.history
        kept = account.orders_kept
        excess = len(history) - kept
        if excess <= kept // _PRUNE_SLACK_FRACTION:
            continue
        for oid in list(itertools.islice(history, excess)):
            order = history[oid]
            live = order.status in ("open", "triggered") or any(
                child.status == "open" for child in order.children
            )
            if live:
                continue
            del history[oid]
            if state.orders_by_oid.get(oid) is order:
                del state.orders_by_oid[oid]
            if order.cloid is not None and account.cloids.get(order.cloid) == oid:
                del account.cloids[order.cloid]
