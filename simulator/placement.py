"""Placing orders: wire validation, venue rejection rules, margin check, execution and resting.

Conventions the venue does not document precisely (chosen here, kept stable):
- Reduce-only orders are exempt from the $10 minimum; triggered orders keep their oid.
- A limit order priced more than `ORACLE_PRICE_BAND` (80%) away from the oracle is rejected with
  "Order price too far from oracle" (status `oracleRejected`). The venue documents the error but
  not its threshold: 80% is an ASSUMPTION (nothing in PROTOCOL.md or the fixtures says more),
  wide enough that no sane resting order is refused. Trigger orders are checked on execution
  only through their slippage-capped price, not on placement.
"""

from __future__ import annotations

from typing import Any

from adapters.hyperliquid.numbers import is_valid_cloid
from simulator import errors
from simulator.accounts import SimAccount
from simulator.accounts import cross_account_value
from simulator.accounts import cross_margin_used
from simulator.accounts import open_order_margin
from simulator.accounts import reserve
from simulator.events import OrderUpdate
from simulator.fills import match
from simulator.lifecycle import activate_child
from simulator.lifecycle import bind
from simulator.lifecycle import cancel_children
from simulator.lifecycle import finish
from simulator.lifecycle import on_parent_filled
from simulator.lifecycle import reducible
from simulator.orders import SimOrder
from simulator.orders import fmt_plain
from simulator.orders import fmt_usd
from simulator.orders import parse_units
from simulator.orders import price_has_valid_sig_figs
from simulator.spot import has_spot_balance_for
from simulator.state import MarketState
from simulator.state import VenueState

MIN_NOTIONAL_MICRO = 10_000_000  # $10 in micro-USD (px_units * sz_units for perps)
# Largest |limit price / oracle - 1| a new limit order may have. ASSUMED (module notes): the venue
# rejects "too far from oracle" but does not publish the band.
ORACLE_PRICE_BAND = 0.80

Trigger = tuple[bool, int, str]  # (is_market, trigger price units, "tp" | "sl")
ParsedWire = tuple[MarketState, bool, int, int, str | None, bool, str | None, Trigger | None]


def parse_wire(state: VenueState, wire: Any) -> str | ParsedWire:
    """Validate one order wire; returns an error text or the parsed fields."""
    if not isinstance(wire, dict):
        return errors.DESERIALIZE
    asset = wire.get("a")
    market = state.by_asset.get(asset) if isinstance(asset, int) else None
    if market is None:
        return errors.with_asset(errors.UNKNOWN_ASSET, asset)
    is_buy = wire.get("b")
    reduce_only = wire.get("r")
    order_type = wire.get("t")
    cloid = wire.get("c")
    if (
        not isinstance(is_buy, bool)
        or not isinstance(reduce_only, bool)
        or not isinstance(order_type, dict)
        or (cloid is not None and not is_valid_cloid(cloid))
    ):
        return errors.DESERIALIZE
    sz_units = parse_units(wire.get("s"), market.sz_decimals)
    if sz_units is None or sz_units <= 0:
        return errors.INVALID_SIZE
    px_units = parse_units(wire.get("p"), market.px_decimals)
    if px_units is None or px_units <= 0:
        return errors.INVALID_PRICE
    tif: str | None = None
    trigger: Trigger | None = None
    if "limit" in order_type:
        limit = order_type["limit"]
        tif = limit.get("tif") if isinstance(limit, dict) else None
        if tif not in ("Gtc", "Ioc", "Alo"):
            return errors.DESERIALIZE
    elif "trigger" in order_type:
        spec = order_type["trigger"]
        if not isinstance(spec, dict):
            return errors.DESERIALIZE
        is_market = spec.get("isMarket")
        tpsl = spec.get("tpsl")
        if not isinstance(is_market, bool) or tpsl not in ("tp", "sl"):
            return errors.DESERIALIZE
        trigger_units = parse_units(spec.get("triggerPx"), market.px_decimals)
        if trigger_units is None:
            return errors.INVALID_PRICE
        trigger = (is_market, trigger_units, tpsl)
    else:
        return errors.DESERIALIZE
    return market, is_buy, px_units, sz_units, tif, reduce_only, cloid, trigger


def place_wire(
    state: VenueState, account: SimAccount, wire: Any, grouping: str, action_hash: str
) -> tuple[Any, SimOrder | None]:
    """Parse and place one order wire; returns (status, order or None when refused)."""
    parsed = parse_wire(state, wire)
    if isinstance(parsed, str):
        return {"error": parsed}, None
    market, is_buy, px_units, sz_units, tif, reduce_only, cloid, trigger = parsed
    return place(
        state,
        account,
        market,
        is_buy=is_buy,
        px_units=px_units,
        sz_units=sz_units,
        tif=tif,
        reduce_only=reduce_only,
        cloid=cloid,
        trigger=trigger,
        grouping=grouping,
        action_hash=action_hash,
    )


def place_normal_tpsl(
    state: VenueState, account: SimAccount, wires: list[Any], action_hash: str
) -> list[Any]:
    """A parent order with TP/SL children that wait for the parent to fill."""
    parent_status, parent = place_wire(state, account, wires[0], "normalTpsl", action_hash)
    statuses: list[Any] = [parent_status]
    children: list[SimOrder] = []
    for wire in wires[1:]:
        parsed = parse_wire(state, wire)
        if isinstance(parsed, str):
            statuses.append({"error": parsed})
            continue
        market, is_buy, px_units, sz_units, _tif, reduce_only, cloid, trigger = parsed
        if trigger is None:
            statuses.append({"error": errors.with_asset(errors.BAD_TRIGGER_PX, market.asset)})
            continue
        if parent is None:
            statuses.append(parent_status)
            continue
        child = new_order(
            state, account, market, is_buy, px_units, sz_units, None, reduce_only, cloid, trigger
        )
        child.grouping = "normalTpsl"
        child.parent = parent
        children.append(child)
        statuses.append("waitingForFill")
    if parent is None:
        return statuses
    parent.children = children
    for child in children:
        state.orders_by_oid[child.oid] = child
        account.history[child.oid] = child
        if child.cloid is not None:
            account.cloids[child.cloid] = child.oid
    if parent.status == "filled":
        for child in children:
            activate_child(state, child)
        statuses = [statuses[0]] + [
            "waitingForTrigger" if s == "waitingForFill" else s for s in statuses[1:]
        ]
    elif parent.status == "open":
        for child in children:
            child.active = False
            account.orders[child.oid] = child
            bind(account, child)
    else:
        for child in children:
            finish(state, child, "canceled")
    return statuses


def new_order(
    state: VenueState,
    account: SimAccount,
    market: MarketState,
    is_buy: bool,
    px_units: int,
    sz_units: int,
    tif: str | None,
    reduce_only: bool,
    cloid: str | None,
    trigger: Trigger | None,
) -> SimOrder:
    """A new order under the next oid (not yet stored anywhere)."""
    order = SimOrder(
        oid=state.new_oid(),
        user=account.address,
        coin=market.coin,
        asset=market.asset,
        is_buy=is_buy,
        limit_px=px_units,
        sz=sz_units,
        timestamp=state.now,
        tif=tif,
        reduce_only=reduce_only,
        cloid=cloid,
        sz_decimals=market.sz_decimals,
        px_decimals=market.px_decimals,
    )
    if trigger is not None:
        order.is_trigger = True
        order.is_market, order.trigger_px, order.tpsl = trigger
    order.builder = state.action_builder
    return order


def reject(state: VenueState, order: SimOrder, account: SimAccount, text: str, status: str) -> Any:
    """Record a refused order (orderStatus knows it) and answer the venue's error status."""
    account.history[order.oid] = order
    state.orders_by_oid[order.oid] = order
    if order.cloid is not None:
        account.cloids[order.cloid] = order.oid
    order.status = status
    order.status_ts = state.now
    state.emit(OrderUpdate(order.user, order.update_entry()))
    return {"error": errors.with_asset(text, order.asset)}


def place(
    state: VenueState,
    account: SimAccount,
    market: MarketState,
    *,
    is_buy: bool,
    px_units: int,
    sz_units: int,
    tif: str | None,
    reduce_only: bool,
    cloid: str | None,
    trigger: Trigger | None,
    grouping: str,
    action_hash: str,
) -> tuple[Any, SimOrder | None]:
    """Apply the venue's placement rules in its order, then execute, rest or park a trigger."""
    order = new_order(
        state, account, market, is_buy, px_units, sz_units, tif, reduce_only, cloid, trigger
    )
    order.grouping = grouping
    if not price_has_valid_sig_figs(px_units, market.px_decimals):
        return reject(state, order, account, errors.TICK, "tickRejected"), None
    if trigger is not None and (
        trigger[1] <= 0 or not price_has_valid_sig_figs(trigger[1], market.px_decimals)
    ):
        text, status = errors.BAD_TRIGGER_PX, "badTriggerPxRejected"
        if trigger[1] > 0:
            text, status = errors.TICK, "tickRejected"
        return reject(state, order, account, text, status), None
    if market.is_spot:
        return place_spot(state, order, account, market, trigger, action_hash)
    if trigger is None and too_far_from_oracle(market, px_units):
        return reject(state, order, account, errors.ORACLE, "oracleRejected"), None
    ref_px = trigger[1] if trigger is not None else px_units
    pos = account.positions.get(market.coin)
    szi = pos.szi if pos is not None else 0
    if grouping == "positionTpsl":
        order.is_position_tpsl = True
        if trigger is None:
            return reject(state, order, account, errors.BAD_TRIGGER_PX, "rejected"), None
        if szi:
            order.sz = order.orig_sz = abs(szi)
    elif not reduce_only and ref_px * sz_units < MIN_NOTIONAL_MICRO:
        return reject(state, order, account, errors.MIN_TRADE_NTL, "minTradeNtlRejected"), None
    if trigger is not None:
        return rest_trigger(state, order, account, market), order
    if reduce_only and (szi == 0 or (szi > 0) == is_buy):
        return reject(state, order, account, errors.REDUCE_ONLY, "reduceOnlyRejected"), None
    if tif == "Alo":
        rejected = refuse_crossing_alo(state, order, account, market)
        if rejected is not None:
            return rejected, None
    if not reduce_only and not has_margin_for(state, account, market, order):
        return reject(state, order, account, errors.PERP_MARGIN, "perpMarginRejected"), None
    return execute(state, order, account, market, action_hash), order


def place_spot(
    state: VenueState,
    order: SimOrder,
    account: SimAccount,
    market: MarketState,
    trigger: Trigger | None,
    action_hash: str,
) -> tuple[Any, SimOrder | None]:
    """The spot rules: no reduce-only or trigger orders here, the $10 minimum in the quote
    token, post-only, and the free balance of the token the order spends."""
    if order.reduce_only or trigger is not None:
        return reject(state, order, account, errors.REDUCE_ONLY, "reduceOnlyRejected"), None
    if order.limit_px * order.sz < 10 * market.ntl_scale:
        quote = state.tokens[market.quote_token].name
        text = errors.MIN_TRADE_SPOT_NTL.format(quote_token=quote)
        return reject(state, order, account, text, "minTradeSpotNtlRejected"), None
    if order.tif == "Alo":
        rejected = refuse_crossing_alo(state, order, account, market)
        if rejected is not None:
            return rejected, None
    if not has_spot_balance_for(state, account, market, order):
        text = errors.INSUFFICIENT_SPOT_BALANCE
        return reject(state, order, account, text, "insufficientSpotBalanceRejected"), None
    return execute(state, order, account, market, action_hash), order


def refuse_crossing_alo(
    state: VenueState, order: SimOrder, account: SimAccount, market: MarketState
) -> Any:
    """The badAloPx rejection of a post-only order that would cross, or None."""
    book = market.book
    best = book.best_ask() if order.is_buy else book.best_bid()
    if best is None or (order.limit_px < best if order.is_buy else order.limit_px > best):
        return None
    bid = book.best_bid()
    ask = book.best_ask()
    bbo = (
        f"{fmt_plain(bid, market.px_decimals) if bid is not None else '0'}@"
        f"{fmt_plain(ask, market.px_decimals) if ask is not None else '0'}"
    )
    return reject(state, order, account, errors.BAD_ALO_PX.format(bbo=bbo), "badAloPxRejected")


def too_far_from_oracle(market: MarketState, px_units: int) -> bool:
    """Whether a limit price is outside the assumed oracle band (``ORACLE_PRICE_BAND``)."""
    oracle = market.oracle
    if oracle <= 0:
        return False
    px = px_units / market.px_scale
    return abs(px / oracle - 1) > ORACLE_PRICE_BAND


def has_margin_for(
    state: VenueState, account: SimAccount, market: MarketState, order: SimOrder
) -> bool:
    """Whether the free cross margin covers the part of `order` that increases the position."""
    pos = account.positions.get(market.coin)
    increase = order.sz
    if pos is not None and pos.szi and (pos.szi > 0) != order.is_buy:
        increase = max(0, increase - abs(pos.szi))
    if increase == 0:
        return True
    lev = state.leverage_of(account, market.coin)[1]
    # Margin on the limit price: conservative for buys that would fill lower.
    px = order.limit_px
    needed = px * increase / 10 ** (market.px_decimals + market.sz_decimals) / lev
    marks = state.marks()
    available = (
        cross_account_value(account, marks)
        - cross_margin_used(account, marks)
        - open_order_margin(account)
    )
    return needed <= available + 1e-9


def rest_trigger(
    state: VenueState, order: SimOrder, account: SimAccount, market: MarketState
) -> Any:
    """Park a trigger order until the mark crosses its trigger price."""
    account.orders[order.oid] = order
    bind(account, order)
    account.history[order.oid] = order
    state.orders_by_oid[order.oid] = order
    if order.cloid is not None:
        account.cloids[order.cloid] = order.oid
    market.triggers[order.oid] = order
    state.emit(OrderUpdate(order.user, order.update_entry()))
    return {"resting": {"oid": order.oid}}


def execute(
    state: VenueState,
    order: SimOrder,
    account: SimAccount,
    market: MarketState,
    action_hash: str,
    liquidation: dict[str, Any] | None = None,
) -> Any:
    """Match a new (or just-triggered) order against the book, then rest or finish it."""
    account.history[order.oid] = order
    state.orders_by_oid[order.oid] = order
    if order.cloid is not None:
        account.cloids[order.cloid] = order.oid
    book = market.book
    best = book.best_ask() if order.is_buy else book.best_bid()
    crosses = best is not None and (
        (order.limit_px >= best) if order.is_buy else (order.limit_px <= best)
    )
    if crosses:
        # The venue reports the order open and then its outcome (see ws_orderUpdates).
        state.emit(OrderUpdate(order.user, order.update_entry()))
        match(state, order, account, market, action_hash, liquidation)
    if order.sz == 0:
        finish(state, order, "filled")
        on_parent_filled(state, order)
        return filled_status(order, market)
    if (
        order.reduce_only
        and order.filled_sz > 0
        and order.status == "open"
        and reducible(account, market.coin, order.is_buy) <= 0
    ):
        finish(state, order, "reduceOnlyCanceled" if order.tif == "Gtc" else "canceled")
        return filled_status(order, market)
    if order.tif in ("Gtc", "Alo") and order.status == "open":
        book.add(order)
        if not order.reduce_only and not market.is_spot:  # spot holds: `spot.spot_holds`
            reserve(account, order, order.sz)
        state.book_changed(market.coin)
        account.orders[order.oid] = order
        bind(account, order)
        if not crosses:
            state.emit(OrderUpdate(order.user, order.update_entry()))
        return {"resting": {"oid": order.oid}}
    if order.filled_sz == 0:
        if order.tif in ("FrontendMarket", "LiquidationMarket") or order.is_trigger:
            finish(state, order, "marketOrderNoLiquidityRejected")
            return {"error": errors.with_asset(errors.MARKET_NO_LIQUIDITY, order.asset)}
        finish(state, order, "iocCancelRejected")
        return {"error": errors.with_asset(errors.IOC_CANCEL, order.asset)}
    if order.status == "open":
        finish(state, order, "canceled")
    cancel_children(state, order)
    return filled_status(order, market)


def filled_status(order: SimOrder, market: MarketState) -> dict[str, Any]:
    avg = order.filled_ntl * market.sz_scale / order.filled_sz
    return {
        "filled": {
            "totalSz": market.sz_str(order.filled_sz),
            "avgPx": fmt_usd(avg, 8),
            "oid": order.oid,
        }
    }
