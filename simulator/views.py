"""Read models of the venue state in venue shapes: books, bbo, asset contexts, mids, candles.

Shared by /info and the WebSocket pushes, so both always show the same numbers.
Mark price = median(oracle, best bid, best ask) when both sides exist, else the oracle (set in
`SimEngine.set_oracle_px`). Open interest is the sum of open LONG positions (equal to the sum of
shorts), in coin units.
"""

from __future__ import annotations

from typing import Any

from adapters.hyperliquid.constants import CANDLE_INTERVAL_MS
from simulator import errors
from simulator.funding import current_funding_rate
from simulator.funding import impact_notional_usd
from simulator.funding import premium_sample
from simulator.orders import fmt_usd
from simulator.state import MarketState
from simulator.state import VenueState


def l2_book(
    state: VenueState,
    coin: str,
    n_sig_figs: int | None = None,
    mantissa: int | None = None,
    n_levels: int = 20,
) -> dict[str, Any]:
    """The l2Book payload `{coin, time, levels:[bids, asks]}`, optionally aggregated."""
    market = state.market(coin)
    return {
        "coin": coin,
        "time": state.now,
        "levels": [
            side_levels(market, True, n_sig_figs, mantissa, n_levels),
            side_levels(market, False, n_sig_figs, mantissa, n_levels),
        ],
    }


def side_levels(
    market: MarketState,
    is_bid: bool,
    n_sig_figs: int | None,
    mantissa: int | None,
    n_levels: int,
) -> list[dict[str, Any]]:
    """Up to `n_levels` levels of one side, best first, optionally bucketed by sig figs."""
    out: list[dict[str, Any]] = []
    if n_sig_figs is None:
        px_str = market.px_str
        sz_str = market.sz_str
        for px, queue in market.book.levels(is_bid):
            if len(out) >= n_levels:
                break
            sz = queue[0].sz if len(queue) == 1 else sum(o.sz for o in queue)
            out.append({"px": px_str(px), "sz": sz_str(sz), "n": len(queue)})
        return out
    buckets: dict[int, list[int]] = {}
    for px, queue in market.book.levels(is_bid):
        digits = len(str(px))
        step = 10 ** max(0, digits - n_sig_figs) * (mantissa or 1)
        key = px - px % step
        if not is_bid and key != px:
            key += step
        bucket = buckets.get(key)
        if bucket is None:
            if len(buckets) >= n_levels:
                break
            bucket = buckets[key] = [0, 0]
        bucket[0] += sum(o.sz for o in queue)
        bucket[1] += len(queue)
    for key, (sz, n) in buckets.items():
        out.append({"px": market.px_str(key), "sz": market.sz_str(sz), "n": n})
    return out


def bbo(state: VenueState, coin: str) -> dict[str, Any]:
    """The bbo payload `{coin, time, bbo:[bid|None, ask|None]}`."""
    market = state.market(coin)
    levels: list[dict[str, Any] | None] = []
    for is_bid in (True, False):
        level = None
        for px, queue in market.book.levels(is_bid):
            level = {
                "px": market.px_str(px),
                "sz": market.sz_str(sum(o.sz for o in queue)),
                "n": len(queue),
            }
            break
        levels.append(level)
    return {"coin": coin, "time": state.now, "bbo": levels}


def open_interest(state: VenueState, coin: str) -> int:
    """Open interest in size units: the sum of open long positions (= the sum of shorts)."""
    total = 0
    for account in state.accounts.values():
        pos = account.positions.get(coin)
        if pos is not None and pos.szi > 0:
            total += pos.szi
    return total


def impact_px(market: MarketState, is_bid: bool) -> float | None:
    """The price of the level at which the coin's impact notional would be filled on one side
    (`impactPxs`; the premium uses the average execution price, see `funding`)."""
    remaining = impact_notional_usd(market.coin)
    last: float | None = None
    for px, queue in market.book.levels(is_bid):
        last = market.px_float(px)
        remaining -= last * sum(o.sz for o in queue) / market.sz_scale
        if remaining <= 0:
            break
    return last


def asset_ctx(state: VenueState, coin: str) -> dict[str, Any]:
    """The perp asset context as in metaAndAssetCtxs / activeAssetCtx (decimals as strings)."""
    market = state.market(coin)
    rate, _ = current_funding_rate(state, coin)
    bid = market.book.best_bid()
    ask = market.book.best_ask()
    mid: str | None = None
    impact: list[str] | None = None
    premium: str | None = None
    if bid is not None and ask is not None:
        mid = fmt_usd((market.px_float(bid) + market.px_float(ask)) / 2, market.px_decimals + 1)
        impact_bid = impact_px(market, True)
        impact_ask = impact_px(market, False)
        if impact_bid is not None and impact_ask is not None:
            impact = [
                fmt_usd(impact_bid, market.px_decimals),
                fmt_usd(impact_ask, market.px_decimals),
            ]
        premium = fmt_usd(premium_sample(market), 10)
    return {
        "funding": fmt_usd(rate, 10),
        "openInterest": market.sz_str(open_interest(state, coin)),
        "prevDayPx": market.fmt_px(market.prev_day_px),
        "dayNtlVlm": fmt_usd(market.day_ntl, 10),
        "premium": premium,
        "oraclePx": market.fmt_px(market.oracle),
        "markPx": market.fmt_px(market.mark),
        "midPx": mid,
        "impactPxs": impact,
        "dayBaseVlm": market.sz_str(market.day_base),
    }


def all_mids(state: VenueState) -> dict[str, str]:
    """Mid per coin (last trade, then mark, when a side of the book is empty)."""
    mids: dict[str, str] = {}
    for market in state.markets.values():
        bid = market.book.best_bid()
        ask = market.book.best_ask()
        if bid is not None and ask is not None:
            value = (market.px_float(bid) + market.px_float(ask)) / 2
            mids[market.coin] = fmt_usd(value, market.px_decimals + 1)
        elif market.last_trade_px is not None:
            mids[market.coin] = market.fmt_px(market.last_trade_px)
        else:
            mids[market.coin] = market.fmt_px(market.mark)
    for pair in state.spot_pairs:
        mids[pair.name] = fmt_usd(spot_mid(state.spot_markets[pair.name]), 8)
    return mids


def spot_mid(market: MarketState) -> float:
    """A spot pair's mid: the book's, else the last trade, else the listed price."""
    bid = market.book.best_bid()
    ask = market.book.best_ask()
    if bid is not None and ask is not None:
        return (market.px_float(bid) + market.px_float(ask)) / 2
    if market.last_trade_px is not None:
        return market.last_trade_px
    return market.spec.initial_px


def candles(
    state: VenueState, coin: str, interval: str, start_ms: int, end_ms: int
) -> list[dict[str, Any]]:
    """Candles of `coin` whose open time lies in [start_ms, end_ms], oldest first."""
    market = state.market(coin)
    if interval not in CANDLE_INTERVAL_MS:
        raise errors.InfoRequestError(errors.DESERIALIZE)
    out = []
    for t, c in market.candles[interval].items():
        if start_ms <= t <= end_ms or (t < start_ms <= c[1]):
            out.append(
                {
                    "t": c[0],
                    "T": c[1],
                    "s": coin,
                    "i": interval,
                    "o": market.px_str(c[2]),
                    "c": market.px_str(c[3]),
                    "h": market.px_str(c[4]),
                    "l": market.px_str(c[5]),
                    "v": market.sz_str(c[6]),
                    "n": c[7],
                }
            )
    return out


def open_orders_of(state: VenueState, user: str, coin: str | None = None) -> list[dict[str, Any]]:
    """Open orders of `user` (openOrders shape, newest first)."""
    account = state.accounts.get(user.lower())
    if account is None:
        return []
    return [o.basic() for o in reversed(account.orders.values()) if coin is None or o.coin == coin]
