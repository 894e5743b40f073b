"""Matching a taker against the book and booking each trade: positions, fees, tape, candles.

Fills are the only place balances, positions, volume and candles change from trading, so the
arithmetic (realised PnL, isolated margin release, fees) lives here and nowhere else.
"""

from __future__ import annotations

import hashlib
from typing import Any

from simulator.accounts import SimAccount
from simulator.accounts import SimPosition
from simulator.accounts import reserve
from simulator.builders import builder_fee
from simulator.events import TradePrint
from simulator.events import UserFill
from simulator.lifecycle import after_position_change
from simulator.lifecycle import finish
from simulator.lifecycle import finish_resting
from simulator.lifecycle import notify_resting_filled
from simulator.lifecycle import on_parent_filled
from simulator.lifecycle import reducible
from simulator.orders import SimOrder
from simulator.orders import fmt_usd
from simulator.spot import spot_fill_side
from simulator.state import CANDLES_KEPT
from simulator.state import DAY_MS
from simulator.state import MarketState
from simulator.state import VenueState
from simulator.state import candle_bounds

VOLUME_BUCKET_MS = 60_000


def trade_id(maker_oid: int, taker_oid: int) -> int:
    """A 50-bit trade id hashed from the two order ids, as the venue documents."""
    digest = hashlib.sha256(f"{maker_oid}:{taker_oid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 50) - 1)


def fill_dir(start: int, end: int, is_buy: bool) -> str:
    """The venue's `dir` text of a fill taking the position from `start` to `end`."""
    if start == 0 or (start > 0 and end > 0 and is_buy) or (start < 0 and end < 0 and not is_buy):
        return "Open Long" if is_buy else "Open Short"
    if start > 0 and end < 0:
        return "Long > Short"
    if start < 0 and end > 0:
        return "Short > Long"
    return "Close Short" if is_buy else "Close Long"


def match(
    state: VenueState,
    taker: SimOrder,
    account: SimAccount,
    market: MarketState,
    action_hash: str,
    liquidation: dict[str, Any] | None,
) -> None:
    """Fill `taker` against the opposite side in price-time order (self-trades cancel the
    resting order; reduce-only orders never increase a position)."""
    book = market.book
    for px in book.crossing_levels(taker.is_buy, taker.limit_px):
        queue = book.queue_at(not taker.is_buy, px)
        while queue and taker.sz > 0:
            maker = queue[0]
            if maker.user == taker.user:
                queue.popleft()
                maker.on_book = False
                finish_resting(state, maker, "selfTradeCanceled", market)
                continue
            qty = min(taker.sz, maker.sz)
            if taker.reduce_only:
                qty = min(qty, reducible(account, market.coin, taker.is_buy))
                if qty <= 0:
                    break
            maker_account = state.accounts[maker.user]
            if maker.reduce_only:
                allowed = reducible(maker_account, market.coin, maker.is_buy)
                if allowed <= 0:
                    queue.popleft()
                    maker.on_book = False
                    finish_resting(state, maker, "reduceOnlyCanceled", market)
                    continue
                qty = min(qty, allowed)
            trade(
                state,
                taker,
                account,
                maker,
                maker_account,
                market,
                px,
                qty,
                action_hash,
                liquidation,
            )
            if maker.sz == 0:
                queue.popleft()
                maker.on_book = False
                finish(state, maker, "filled")
                notify_resting_filled(state, maker, market)
                on_parent_filled(state, maker)
        book.pop_empty_front(not taker.is_buy, px)
        state.book_changed(market.coin)
        if taker.sz == 0:
            break
        if taker.reduce_only and reducible(account, market.coin, taker.is_buy) <= 0:
            break


def trade(
    state: VenueState,
    taker: SimOrder,
    taker_account: SimAccount,
    maker: SimOrder,
    maker_account: SimAccount,
    market: MarketState,
    px: int,
    qty: int,
    action_hash: str,
    liquidation: dict[str, Any] | None,
) -> None:
    """Book one trade of `qty` at `px` between a taker and a maker."""
    now = state.now
    ntl = px * qty / market.ntl_scale
    tid = trade_id(maker.oid, taker.oid)
    taker.sz -= qty
    maker.sz -= qty
    taker.filled_sz += qty
    maker.filled_sz += qty
    taker.filled_ntl += ntl
    maker.filled_ntl += ntl
    if maker.reserved:
        reserve(maker_account, maker, -min(qty, maker.reserved))
    buyer, seller = (taker.user, maker.user) if taker.is_buy else (maker.user, taker.user)
    print_ = {
        "coin": market.coin,
        "side": taker.side,
        "px": market.px_str(px),
        "sz": market.sz_str(qty),
        "time": now,
        "hash": action_hash,
        "tid": tid,
        "users": [buyer, seller],
    }
    market.trades.append(print_)
    state.emit(TradePrint(market.coin, print_))
    record_volume(market, now, px, qty, ntl)
    backstop = liquidation is not None and liquidation["method"] == "backstop"
    fee_rate_taker = 0.0 if backstop else market.taker_fee
    fee_rate_maker = 0.0 if backstop else market.maker_fee
    if market.is_spot:
        spot_fill_side(state, taker_account, taker, market, px, qty, ntl, True, tid,
                       action_hash, fee_rate_taker)  # fmt: skip
        spot_fill_side(state, maker_account, maker, market, px, qty, ntl, False, tid,
                       action_hash, fee_rate_maker)  # fmt: skip
        key = str(now // DAY_MS)
        state.exchange_volume[key] = state.exchange_volume.get(key, 0.0) + ntl
        return
    fill_side(
        state, taker_account, taker, market, px, qty, ntl, True, tid, action_hash,
        fee_rate_taker, liquidation,
    )  # fmt: skip
    fill_side(
        state, maker_account, maker, market, px, qty, ntl, False, tid, action_hash,
        fee_rate_maker, liquidation,
    )  # fmt: skip
    key = str(now // DAY_MS)
    state.exchange_volume[key] = state.exchange_volume.get(key, 0.0) + ntl


def fill_side(
    state: VenueState,
    account: SimAccount,
    order: SimOrder,
    market: MarketState,
    px: int,
    qty: int,
    ntl: float,
    crossed: bool,
    tid: int,
    action_hash: str,
    fee_rate: float,
    liquidation: dict[str, Any] | None,
) -> None:
    """One side of a trade: position, fee, volume, the userFills row and its event."""
    pos = state.position(account, market.coin)
    start = pos.szi
    px_f = market.px_float(px)
    closed_pnl = apply_fill(account, pos, order.is_buy, qty, px_f, ntl)
    fee = round(ntl * fee_rate, 6)
    paid_builder = 0.0
    if order.builder is not None:
        paid_builder = round(builder_fee(ntl, order.builder[1]), 6)
        builder = state.account(order.builder[0])
        builder.usdc = round(builder.usdc + paid_builder, 6)
    account.usdc = round(account.usdc - fee - paid_builder, 6)
    account.cum_vlm += ntl
    fill: dict[str, Any] = {
        "coin": market.coin,
        "px": market.px_str(px),
        "sz": market.sz_str(qty),
        "side": order.side,
        "time": state.now,
        "startPosition": market.sz_str(start),
        "dir": fill_dir(start, pos.szi, order.is_buy),
        "closedPnl": fmt_usd(closed_pnl),
        "hash": action_hash,
        "oid": order.oid,
        "crossed": crossed,
        "fee": fmt_usd(fee + paid_builder),  # the total fee, the builder's included
        "tid": tid,
    }
    if order.cloid is not None:
        fill["cloid"] = order.cloid
    fill["feeToken"] = "USDC"
    if paid_builder:
        fill["builderFee"] = fmt_usd(paid_builder)
    fill["twapId"] = None
    if liquidation is not None:
        fill["liquidation"] = dict(liquidation)
    account.fills.append(fill)
    state.emit(UserFill(account.address, fill))
    after_position_change(state, account, market, pos)


def apply_fill(
    account: SimAccount, pos: SimPosition, is_buy: bool, qty: int, px: float, ntl: float
) -> float:
    """Update a position with a fill; returns the realised PnL of the closed part."""
    signed = qty if is_buy else -qty
    start = pos.szi
    closed_pnl = 0.0
    if start == 0 or (start > 0) == is_buy:
        opened = qty
        closed = 0
    else:
        closed = min(qty, abs(start))
        opened = qty - closed
    scale = 10**pos.sz_decimals
    if closed:
        entry_part = pos.entry_ntl * closed / abs(start)
        exit_part = px * closed / scale
        closed_pnl = (exit_part - entry_part) if start > 0 else (entry_part - exit_part)
        pos.entry_ntl -= entry_part
        if pos.is_cross:
            account.usdc = round(account.usdc + closed_pnl, 6)
        else:
            released = pos.iso_margin * closed / abs(start)
            pos.iso_margin -= released
            account.usdc = round(account.usdc + released + closed_pnl, 6)
    pos.szi = start + signed
    if pos.szi == 0:
        pos.entry_ntl = 0.0
        if not pos.is_cross and pos.iso_margin:
            account.usdc = round(account.usdc + pos.iso_margin, 6)
            pos.iso_margin = 0.0
        pos.funding_since_open = 0.0
    if opened:
        open_ntl = px * opened / scale
        pos.entry_ntl += open_ntl
        if not pos.is_cross:
            need = open_ntl / pos.leverage
            account.usdc = round(account.usdc - need, 6)
            pos.iso_margin += need
        if start == 0 or (start > 0) != is_buy:
            pos.funding_since_open = 0.0
    pos.funding_since_change = 0.0
    return closed_pnl


def record_volume(market: MarketState, now: int, px: int, qty: int, ntl: float) -> None:
    """Last trade price, the rolling 24 h volume and every candle interval."""
    px_f = market.px_float(px)
    market.last_trade_px = px_f
    window = market.volume_window
    # Summed per venue minute: at most 1440 entries per coin for the 24 h window (bounded
    # memory), instead of one per trade.
    bucket = now - now % VOLUME_BUCKET_MS
    if window and window[-1][0] == bucket:
        _, bucket_ntl, bucket_qty, _ = window[-1]
        window[-1] = (bucket, bucket_ntl + ntl, bucket_qty + qty, px_f)
    else:
        window.append((bucket, ntl, qty, px_f))
    market.day_ntl += ntl
    market.day_base += qty
    while window and window[0][0] <= now - DAY_MS:
        old = window.popleft()
        market.day_ntl -= old[1]
        market.day_base -= old[2]
        market.prev_day_px = old[3]
    for interval, candles in market.candles.items():
        start, end = candle_bounds(interval, now)
        candle = candles.get(start)
        if candle is None:
            candles[start] = [start, end, px, px, px, px, qty, 1]
            if len(candles) > CANDLES_KEPT:
                del candles[next(iter(candles))]
        else:
            candle[3] = px
            if px > candle[4]:
                candle[4] = px
            if px < candle[5]:
                candle[5] = px
            candle[6] += qty
            candle[7] += 1
