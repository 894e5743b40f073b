"""Pure, deterministic Hyperliquid venue core: the facade the server and tests drive.

The engine has no I/O, no threads, no event loop and no wall clock: every call takes `now_ms`
from the caller (the server owns the clock), so the same calls produce byte-identical responses
and events. The server drains `drain_events()` after every call and fans the events out.

The work is split by responsibility (each module a set of functions of `VenueState`):
`exchange` (envelope: signatures, nonces, rate limits) → `order_actions` / `account_actions`
→ `placement` (venue rules, execution) → `fills` (matching, positions, fees, candles) →
`lifecycle` (order state transitions); `triggers`, `liquidation` and `funding` are the
time-driven work of `tick`; `views` and `info` read the state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator import errors
from simulator.events import SimEvent
from simulator.exchange import handle_exchange
from simulator.funding import advance_funding
from simulator.funding import current_funding_rate
from simulator.info import handle_info
from simulator.lifecycle import cancel_order
from simulator.lifecycle import prune_order_history
from simulator.liquidation import check_liquidations
from simulator.orders import float_to_units
from simulator.orders import round_px_sig
from simulator.placement import place
from simulator.specs import CoinSpec
from simulator.state import LIQUIDATOR_ADDRESS
from simulator.state import SCHEDULE_CANCEL_MIN_VOLUME_USD
from simulator.state import VenueState
from simulator.state import hash_hex
from simulator.triggers import check_triggers
from simulator.triggers import expire_schedule_cancels
from simulator.views import all_mids
from simulator.views import asset_ctx
from simulator.views import bbo
from simulator.views import candles
from simulator.views import l2_book
from simulator.views import open_interest
from simulator.views import open_orders_of

__all__ = ["LIQUIDATOR_ADDRESS", "SimEngine"]


class SimEngine(VenueState):
    """The simulated venue: /exchange actions, matching, accounts and /info, with no I/O.

    Why: every adapter, strategy and end-to-end test runs against this core through the
    server, so it must answer exactly like Hyperliquid and be reproducible call for call.
    """

    def __init__(
        self,
        coins: Sequence[CoinSpec],
        *,
        is_mainnet: bool = False,
        initial_usdc: float = 0.0,
        enforce_address_rate_limit: bool = True,
        schedule_cancel_min_volume_usd: float = SCHEDULE_CANCEL_MIN_VOLUME_USD,
    ) -> None:
        super().__init__(
            coins,
            is_mainnet=is_mainnet,
            initial_usdc=initial_usdc,
            enforce_address_rate_limit=enforce_address_rate_limit,
            schedule_cancel_min_volume_usd=schedule_cancel_min_volume_usd,
        )

    # --- prices driven by the market model ----------------------------------------------------

    def set_oracle_px(self, coin: str, px: float, now_ms: int) -> None:
        """Set the oracle of `coin`; the mark becomes median(oracle, best bid, best ask)."""
        market = self.market(coin)
        self.now = now_ms
        market.oracle = px
        bid = market.book.best_bid()
        ask = market.book.best_ask()
        if bid is not None and ask is not None:
            trio = sorted((px, market.px_float(bid), market.px_float(ask)))
            market.mark = trio[1]
        else:
            market.mark = px

    def set_mark_px(self, coin: str, px: float, now_ms: int) -> None:
        """Force the mark of `coin` (until the next oracle update)."""
        self.market(coin).mark = px
        self.now = now_ms

    def set_funding_rate(self, coin: str, rate: float | None) -> None:
        """Force the hourly funding rate of `coin` (None returns to the premium formula)."""
        self.market(coin).funding_override = rate

    # --- trusted participants (the market model's makers and takers) -------------------------

    def place_internal_order(
        self,
        user: str,
        coin: str,
        is_buy: bool,
        px: float,
        sz: float,
        tif: str = "Gtc",
        reduce_only: bool = False,
        now_ms: int = 0,
    ) -> dict[str, Any]:
        """Place an unsigned order for a trusted market participant; returns its status dict."""
        self.now = now_ms
        market = self.market(coin)
        account = self.account(user.lower())
        units = float_to_units(px, market.px_decimals)
        px_units = round_px_sig(max(units, 1), market.px_decimals, round_up=not is_buy)
        sz_units = float_to_units(sz, market.sz_decimals)
        if sz_units <= 0:
            return {"error": errors.INVALID_SIZE}
        status = place(
            self,
            account,
            market,
            is_buy=is_buy,
            px_units=px_units,
            sz_units=sz_units,
            tif=tif,
            reduce_only=reduce_only,
            cloid=None,
            trigger=None,
            grouping="na",
            action_hash=hash_hex("internal", self.next_oid, now_ms),
        )[0]
        self.flush_books()
        return status

    def cancel_internal(self, user: str, coin: str, oid: int, now_ms: int) -> bool:
        """Cancel an order of a trusted participant; False if it was not open."""
        self.now = now_ms
        order = self.orders_by_oid.get(oid)
        if order is None or order.user != user.lower() or order.coin != coin:
            return False
        if order.status != "open":
            return False
        cancel_order(self, order, "canceled")
        self.flush_books()
        return True

    def resting_size(self, user: str, oid: int) -> float | None:
        """What is left of an open order of a trusted participant (coin units); None when it is
        no longer open. Cheaper than `open_orders_of` for the market's quotes."""
        order = self.orders_by_oid.get(oid)
        if order is None or order.user != user.lower() or order.status != "open":
            return None
        return order.sz / 10**order.sz_decimals

    def best_bid_ask(self, coin: str) -> tuple[float | None, float | None]:
        """The best bid and ask prices of `coin` now (None for an empty side)."""
        market = self.market(coin)
        bid = market.book.best_bid()
        ask = market.book.best_ask()
        return (
            None if bid is None else market.px_float(bid),
            None if ask is None else market.px_float(ask),
        )

    def drain_events(self) -> list[SimEvent]:
        """Events since the last drain, in emission order."""
        self.flush_books()
        events = self.events
        self.events = []
        return events

    # --- time, /exchange, /info -----------------------------------------------------------------

    def tick(self, now_ms: int) -> None:
        """Let time pass: scheduleCancel expiry, triggers on the mark, liquidations, funding
        (premium samples every 5 s, payments every hour)."""
        self.now = now_ms
        expire_schedule_cancels(self, now_ms)
        check_triggers(self, now_ms)
        check_liquidations(self, now_ms)
        advance_funding(self, now_ms)
        prune_order_history(self)
        self.flush_books()

    def exchange(self, body: dict[str, Any], now_ms: int) -> dict[str, Any]:
        """Handle one /exchange body (JSON-decoded, key order kept); returns the venue response."""
        self.now = now_ms
        try:
            return handle_exchange(self, body, now_ms)
        finally:
            self.flush_books()

    def info(self, body: dict[str, Any], now_ms: int) -> Any:
        """Handle one /info body; raises InfoRequestError for bad requests."""
        self.now = max(self.now, now_ms) if now_ms else self.now
        return handle_info(self, body, now_ms)

    # --- read models (see `views`) ------------------------------------------------------------

    def open_orders_of(self, user: str, coin: str | None = None) -> list[dict[str, Any]]:
        """Open orders of `user` (openOrders shape, newest first)."""
        return open_orders_of(self, user, coin)

    def current_funding_rate(self, coin: str) -> tuple[float, float]:
        """(hourly rate, premium) of `coin` now."""
        return current_funding_rate(self, coin)

    def l2_book(
        self,
        coin: str,
        n_sig_figs: int | None = None,
        mantissa: int | None = None,
        n_levels: int = 20,
    ) -> dict[str, Any]:
        """The l2Book payload `{coin, time, levels:[bids, asks]}`, optionally aggregated."""
        return l2_book(self, coin, n_sig_figs, mantissa, n_levels)

    def bbo(self, coin: str) -> dict[str, Any]:
        """The bbo payload `{coin, time, bbo:[bid|None, ask|None]}`."""
        return bbo(self, coin)

    def open_interest(self, coin: str) -> int:
        """Open interest in size units (sum of long positions)."""
        return open_interest(self, coin)

    def asset_ctx(self, coin: str) -> dict[str, Any]:
        """The perp asset context as in metaAndAssetCtxs / activeAssetCtx."""
        return asset_ctx(self, coin)

    def all_mids(self) -> dict[str, str]:
        """Mid per coin."""
        return all_mids(self)

    def candles(self, coin: str, interval: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        """Candles of `coin` whose open time lies in [start_ms, end_ms], oldest first."""
        return candles(self, coin, interval, start_ms, end_ms)
