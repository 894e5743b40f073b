"""Accounts, positions and margin arithmetic of the simulated venue.

Conventions (as on the venue): cross account value = perp USDC balance + unrealised PnL of cross
positions; initial margin = position value / leverage; maintenance margin = half the initial
margin at the coin's max leverage (position value / (2 * maxLeverage)). Isolated positions carry
their own margin (`iso_margin`, the venue's rawUsd-style allocation), moved out of the balance.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from dataclasses import field

from simulator.orders import SimOrder

# History caps per account (bounded memory, as the venue's own reach): fills as far back as the
# venue's userFillsByTime reaches (the newest 10000), finished orders as many as historicalOrders
# reports (the newest 2000). The simulator's own market participants (makers, takers: most of
# the volume) keep BACKGROUND_HISTORY_KEPT of each: nobody reads their history.
FILLS_KEPT = 10_000
ORDERS_KEPT = 2_000
BACKGROUND_HISTORY_KEPT = 200


@dataclass
class SimPosition:
    """One perp position: signed size on the size grid plus the USD notional at entry."""

    coin: str
    sz_decimals: int
    szi: int = 0
    entry_ntl: float = 0.0
    is_cross: bool = True
    leverage: int = 20
    iso_margin: float = 0.0
    funding_all_time: float = 0.0
    funding_since_open: float = 0.0
    funding_since_change: float = 0.0

    @property
    def size(self) -> float:
        """Signed size in coin units."""
        return self.szi / 10**self.sz_decimals

    def entry_px(self) -> float:
        """Average entry price."""
        return self.entry_ntl / abs(self.size) if self.szi else 0.0

    def value(self, mark: float) -> float:
        """Position value |szi| * mark in USD."""
        return abs(self.size) * mark

    def upnl(self, mark: float) -> float:
        """Unrealised PnL at the mark."""
        if self.szi > 0:
            return self.size * mark - self.entry_ntl
        if self.szi < 0:
            return self.entry_ntl + self.size * mark
        return 0.0


@dataclass
class SimAccount:
    """A venue account: balances, positions, orders and the histories /info reports."""

    address: str
    usdc: float = 0.0
    spot_usdc: float = 0.0
    spot_tokens: dict[int, float] = field(default_factory=dict)  # spot balances but USDC
    spot_entry_ntl: dict[int, float] = field(default_factory=dict)  # USD cost of each token
    deposited: bool = False
    positions: dict[str, SimPosition] = field(default_factory=dict)
    leverage: dict[str, tuple[bool, int]] = field(default_factory=dict)
    orders: dict[int, SimOrder] = field(default_factory=dict)
    # Open orders that depend on the position (reduce-only, TP/SL): re-checked after each fill.
    position_bound: dict[int, SimOrder] = field(default_factory=dict)
    history: dict[int, SimOrder] = field(default_factory=dict)
    cloids: dict[str, int] = field(default_factory=dict)
    fills: deque[dict[str, object]] = field(default_factory=lambda: deque(maxlen=FILLS_KEPT))
    # Finished orders kept in `history` (see lifecycle.prune_order_history).
    orders_kept: int = field(default_factory=lambda: ORDERS_KEPT)
    fundings: list[dict[str, object]] = field(default_factory=list)
    ledger: list[dict[str, object]] = field(default_factory=list)
    cum_vlm: float = 0.0
    n_requests: int = 0
    agents: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    schedule_cancel_ms: int | None = None
    schedule_cancel_day: int = -1
    schedule_cancel_count: int = 0
    sub_accounts: list[str] = field(default_factory=list)
    master: str | None = None
    name: str = ""  # a sub-account's or vault's name (subAccounts, vaultDetails)
    # The most each approved builder may charge, in tenths of a basis point (maxBuilderFee).
    builder_fees: dict[str, int] = field(default_factory=dict)
    # Per coin, resting non-reduce-only size and notional: [buy_sz, buy_ntl, sell_sz, sell_ntl].
    resting: dict[str, list[float]] = field(default_factory=dict)
    fee_taker: float = 0.00045
    fee_maker: float = 0.00015

    def keep_short_history(self, kept: int = BACKGROUND_HISTORY_KEPT) -> None:
        """Keep only the newest `kept` fills and finished orders (the simulator's own traders)."""
        if kept < 1:
            raise ValueError(f"kept must be >= 1, was {kept}")
        self.fills = deque(self.fills, maxlen=kept)
        self.orders_kept = kept


def cross_account_value(account: SimAccount, marks: dict[str, float]) -> float:
    """Balance plus unrealised PnL of cross positions."""
    total = account.usdc
    for pos in account.positions.values():
        if pos.szi and pos.is_cross:
            total += pos.upnl(marks[pos.coin])
    return total


def isolated_equity(pos: SimPosition, mark: float) -> float:
    """Margin plus unrealised PnL of an isolated position."""
    return pos.iso_margin + pos.upnl(mark)


def cross_margin_used(account: SimAccount, marks: dict[str, float]) -> float:
    """Initial margin of cross positions (value / leverage)."""
    total = 0.0
    for pos in account.positions.values():
        if pos.szi and pos.is_cross:
            total += pos.value(marks[pos.coin]) / pos.leverage
    return total


def maintenance_margin(pos: SimPosition, mark: float, max_leverage: int) -> float:
    """Maintenance margin: half the initial margin at max leverage."""
    return pos.value(mark) / (2 * max_leverage)


def cross_maintenance(
    account: SimAccount, marks: dict[str, float], max_leverage: dict[str, int]
) -> float:
    """Maintenance margin of all cross positions."""
    total = 0.0
    for pos in account.positions.values():
        if pos.szi and pos.is_cross:
            total += maintenance_margin(pos, marks[pos.coin], max_leverage[pos.coin])
    return total


def reserve(account: SimAccount, order: SimOrder, qty: int) -> None:
    """Count `qty` of a resting order towards the account's open-order margin (negative frees)."""
    bucket = account.resting.get(order.coin)
    if bucket is None:
        bucket = account.resting[order.coin] = [0.0, 0.0, 0.0, 0.0]
    ntl = order.limit_px * qty / 10 ** (order.px_decimals + order.sz_decimals)
    side = 0 if order.is_buy else 2
    bucket[side] += qty
    bucket[side + 1] += ntl
    order.reserved += qty


def open_order_margin(account: SimAccount) -> float:
    """Margin reserved by resting orders that would increase a position (cross and isolated).

    Why: the venue reserves margin for open orders, so a user cannot rest unlimited size. The
    part of an order that would only reduce the current position reserves nothing.
    """
    total = 0.0
    for coin, (buy_sz, buy_ntl, sell_sz, sell_ntl) in account.resting.items():
        if not buy_sz and not sell_sz:
            continue
        pos = account.positions.get(coin)
        szi = pos.szi if pos is not None else 0
        lev = account.leverage.get(coin, (True, 20))[1]
        if buy_sz:
            offset = -szi if szi < 0 else 0
            total += buy_ntl * max(0.0, buy_sz - offset) / buy_sz / lev
        if sell_sz:
            offset = szi if szi > 0 else 0
            total += sell_ntl * max(0.0, sell_sz - offset) / sell_sz / lev
    return total


def liquidation_px(
    account: SimAccount,
    pos: SimPosition,
    marks: dict[str, float],
    max_leverage: dict[str, int],
) -> float | None:
    """Mark at which the account (cross) or the position (isolated) hits maintenance margin.

    Other positions are held at their current marks. None when no positive price liquidates.
    """
    mark = marks[pos.coin]
    size = pos.size
    mmr = 1.0 / (2 * max_leverage[pos.coin])
    if pos.is_cross:
        equity = cross_account_value(account, marks)
        others_mm = cross_maintenance(account, marks, max_leverage) - pos.value(mark) * mmr
    else:
        equity = isolated_equity(pos, mark)
        others_mm = 0.0
    # equity + size * (m - mark) = others_mm + |size| * m * mmr, solved for m.
    denom = size - abs(size) * mmr
    if denom == 0:
        return None
    px = (others_mm - equity + size * mark) / denom
    if px <= 0:
        return None
    return px
