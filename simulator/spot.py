"""Spot trading: token balances and holds, the balance check, spot fills, and a spot maker.

Spot differs from perps in what a fill changes: no position and no margin, but two token
balances. A buy pays the quote token and receives the base token less the fee (fees are taken
from the token received); a sell pays the base token and receives the quote token less the fee.
Resting orders hold what they could spend (a bid its quote notional, an ask its size), so the
balance check and `spotClearinghouseState.hold` agree. USDC (token 0) is the account's
`spot_usdc`, the balance `usdClassTransfer` moves; other tokens live in `spot_tokens`.

Conventions the venue does not document precisely (chosen here, kept stable):
- A spot fill's `closedPnl` is the sell's proceeds less the entry notional of the sold part
  (fees apart, as for perps); buys report "0.0". `startPosition` is the base balance before.
- Spot orders may not be reduce-only or trigger orders here.
"""

from __future__ import annotations

import hashlib
from typing import Any

from simulator.accounts import SimAccount
from simulator.builders import builder_fee
from simulator.events import UserFill
from simulator.orders import SimOrder
from simulator.orders import fmt_usd
from simulator.state import MarketState
from simulator.state import VenueState

__all__ = [
    "SpotMaker",
    "has_spot_balance_for",
    "spot_balance",
    "spot_balances",
    "spot_fill_side",
    "spot_holds",
]

USDC_TOKEN = 0


def spot_balance(account: SimAccount, token: int) -> float:
    """Total balance of `token` (holds included)."""
    if token == USDC_TOKEN:
        return account.spot_usdc
    return account.spot_tokens.get(token, 0.0)


def _add(account: SimAccount, token: int, amount: float, decimals: int) -> None:
    if token == USDC_TOKEN:
        account.spot_usdc = round(account.spot_usdc + amount, 8)
    else:
        account.spot_tokens[token] = round(account.spot_tokens.get(token, 0.0) + amount, decimals)


def spot_holds(state: VenueState, account: SimAccount) -> dict[int, float]:
    """What the account's open spot orders hold, per token."""
    holds: dict[int, float] = {}
    for order in account.orders.values():
        market = state.by_asset.get(order.asset)
        if market is None or not market.is_spot or order.status != "open":
            continue
        if order.is_buy:
            need = order.limit_px * order.sz / market.ntl_scale
            holds[market.quote_token] = holds.get(market.quote_token, 0.0) + need
        else:
            need = order.sz / market.sz_scale
            holds[market.base_token] = holds.get(market.base_token, 0.0) + need
    return holds


def has_spot_balance_for(
    state: VenueState, account: SimAccount, market: MarketState, order: SimOrder
) -> bool:
    """Whether the free balance covers what the order could spend (at its limit price)."""
    token = market.quote_token if order.is_buy else market.base_token
    if order.is_buy:
        need = order.limit_px * order.sz / market.ntl_scale
    else:
        need = order.sz / market.sz_scale
    free = spot_balance(account, token) - spot_holds(state, account).get(token, 0.0)
    return need <= free + 1e-9


def spot_balances(state: VenueState, account: SimAccount | None) -> list[dict[str, Any]]:
    """`spotClearinghouseState.balances`: every token the account holds or held, USDC first."""
    if account is None:
        return []
    holds = spot_holds(state, account)
    rows = []
    tokens = [USDC_TOKEN, *sorted(account.spot_tokens)]
    for token in tokens:
        total = spot_balance(account, token)
        if token == USDC_TOKEN and not total and not holds.get(token):
            continue
        spec = state.tokens[token]
        rows.append(
            {
                "coin": spec.name,
                "token": token,
                "total": fmt_usd(total, spec.wei_decimals),
                "hold": fmt_usd(holds.get(token, 0.0), spec.wei_decimals),
                "entryNtl": fmt_usd(account.spot_entry_ntl.get(token, 0.0)),
            }
        )
    return rows


def spot_fill_side(
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
) -> None:
    """One side of a spot trade: both token balances, the fee, the userFills row and event."""
    base = state.tokens[market.base_token]
    quote = state.tokens[market.quote_token]
    size = qty / market.sz_scale
    start = spot_balance(account, base.index)
    closed_pnl = 0.0
    entry = account.spot_entry_ntl.get(base.index, 0.0)
    received = size if order.is_buy else ntl
    fee_token = base if order.is_buy else quote
    fee = round(received * fee_rate, fee_token.wei_decimals)
    paid_builder = 0.0
    if order.builder is not None:  # taken from the received token too, paid to the builder
        paid_builder = round(builder_fee(received, order.builder[1]), fee_token.wei_decimals)
        builder = state.account(order.builder[0])
        _add(builder, fee_token.index, paid_builder, fee_token.wei_decimals)
    if order.is_buy:
        _add(account, quote.index, -ntl, quote.wei_decimals)
        _add(account, base.index, size - fee - paid_builder, base.wei_decimals)
        account.spot_entry_ntl[base.index] = entry + ntl
    else:
        sold_entry = entry * size / start if start > 0 else 0.0
        closed_pnl = ntl - sold_entry
        account.spot_entry_ntl[base.index] = max(0.0, entry - sold_entry)
        _add(account, base.index, -size, base.wei_decimals)
        _add(account, quote.index, ntl - fee - paid_builder, quote.wei_decimals)
    account.cum_vlm += ntl
    fill: dict[str, Any] = {
        "coin": market.coin,
        "px": market.px_str(px),
        "sz": market.sz_str(qty),
        "side": order.side,
        "time": state.now,
        "startPosition": fmt_usd(start, base.wei_decimals),
        "dir": "Buy" if order.is_buy else "Sell",
        "closedPnl": fmt_usd(closed_pnl),
        "hash": action_hash,
        "oid": order.oid,
        "crossed": crossed,
        "fee": fmt_usd(fee + paid_builder, fee_token.wei_decimals),
        "tid": tid,
    }
    if order.cloid is not None:
        fill["cloid"] = order.cloid
    fill["feeToken"] = fee_token.name
    if paid_builder:
        fill["builderFee"] = fmt_usd(paid_builder, fee_token.wei_decimals)
    fill["twapId"] = None
    account.fills.append(fill)
    state.emit(UserFill(account.address, fill))


class SpotMaker:
    """Keeps a ladder of quotes on every spot pair so spot orders can fill.

    Why its own maker: the living market (`market.py`) models perp scenarios; spot books would
    otherwise be empty and every spot market order refused. The ladder is symmetric around the
    pair's listed price (spot prices do not move with the scenario) and is re-quoted whole as
    soon as a level was taken, so it is deterministic for a given sequence of client orders.
    """

    LEVELS = 5
    STEP_BPS = 20.0
    LEVEL_USD = 2_000.0
    # The maker's orders take oids from their own range, so adding spot liquidity leaves every
    # perp order's oid (and the trade ids and hashes derived from it) exactly as before.
    FIRST_OID = 5_000_000_000_000_000

    def __init__(self) -> None:
        self.address = "0x" + hashlib.sha256(b"jarvis-sim-spot-maker").hexdigest()[:40]
        self._funded = False
        self._next_oid = self.FIRST_OID

    def step(self, engine: Any, now_ms: int) -> None:
        """Re-quote every spot pair whose ladder is not whole (engine: a SimEngine)."""
        account = engine.account(self.address)
        if not self._funded:
            account.deposited = True
            account.spot_usdc = 1e12
            for pair in engine.spot_pairs:
                account.spot_tokens[pair.base] = 1e15
            self._funded = True
        venue_next_oid = engine.next_oid
        engine.next_oid = self._next_oid
        try:
            self._requote(engine, account, now_ms)
        finally:
            self._next_oid = engine.next_oid
            engine.next_oid = venue_next_oid

    def _requote(self, engine: Any, account: SimAccount, now_ms: int) -> None:
        for market in engine.spot_markets.values():
            mine = [o for o in account.orders.values() if o.asset == market.asset]
            if len(mine) == 2 * self.LEVELS:
                continue
            for order in mine:
                engine.cancel_internal(self.address, market.coin, order.oid, now_ms)
            fair = market.spec.initial_px
            for k in range(1, self.LEVELS + 1):
                offset = k * self.STEP_BPS / 10_000
                for is_buy in (True, False):
                    px = fair * (1 - offset) if is_buy else fair * (1 + offset)
                    sz = self.LEVEL_USD / px
                    engine.place_internal_order(
                        self.address, market.coin, is_buy, px, sz, "Alo", now_ms=now_ms
                    )
