"""PriceLimit: resting GTC orders at set prices ("buy at x / sell at y") with cancel conditions.

Cancel conditions: the mid crosses ``cancel_above_price`` / ``cancel_below_price`` (every leg),
the mid is more than ``cancel_if_away_pct`` % from a leg's price (that leg), ``cancel_after_secs``
after the first start (every leg; a restart does not extend it), and a fill on one leg cancels
the other (``cancel_on_opposite_fill``). A cancelled or filled leg is never placed again.

Restart: each leg's client order id and end are saved with ``on_save``; at start a leg whose
order is still open in the cache is adopted (the execution client reconciles it with the venue
by cloid), not placed a second time. A leg the strategy's own stop withdrew (its resting order
cancelled by the stop, unfilled) is placed again when the strategy runs again: a stop pauses
the strategy, it does not finish its legs (the cancel conditions and fills do that). A node
that stopped without saving state cannot tell such a leg from one cancelled at the venue, and
finishes it.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderEvent
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.orders import Order

from strategies.templates.base import TemplateConfig
from strategies.templates.base import TemplateStrategy

__all__ = ["PriceLimit", "PriceLimitConfig"]

_NS = 1_000_000_000


class PriceLimitConfig(TemplateConfig, frozen=True):
    """
    Configuration of ``PriceLimit``.

    Parameters
    ----------
    buy_price / sell_price : Decimal, optional
        The legs' limit prices (at least one).
    buy_quantity / sell_quantity : Decimal, optional
        The legs' sizes in coins.
    cancel_above_price / cancel_below_price : Decimal, optional
        Cancel every leg once the mid crosses this price.
    cancel_if_away_pct : Decimal, optional
        Cancel a leg once the mid is more than this many percent from its price.
    cancel_after_secs : int, optional
        Cancel every leg this long after the first start.
    cancel_on_opposite_fill : bool
        A fill on one leg cancels the other.
    """

    buy_price: Decimal | None = None
    sell_price: Decimal | None = None
    buy_quantity: Decimal | None = None
    sell_quantity: Decimal | None = None
    cancel_above_price: Decimal | None = None
    cancel_below_price: Decimal | None = None
    cancel_if_away_pct: Decimal | None = None
    cancel_after_secs: int | None = None
    cancel_on_opposite_fill: bool = True

    def __post_init__(self) -> None:
        if self.buy_price is None and self.sell_price is None:
            raise ValueError("buy_price: give a buy price, a sell price or both")
        if (self.buy_price is None) != (self.buy_quantity is None):
            raise ValueError("buy_quantity: give it together with buy_price")
        if (self.sell_price is None) != (self.sell_quantity is None):
            raise ValueError("sell_quantity: give it together with sell_price")


class _Leg(msgspec.Struct):
    """One leg's progress: its order, and whether it is finished (filled or cancelled)."""

    side: str
    order_id: str | None = None
    finished: bool = False
    why: str = ""
    withdrawn: bool = False  # its order cancelled by the strategy's stop: placed again on start


class _Saved(msgspec.Struct):
    legs: dict[str, _Leg]
    started_ns: int = 0


class PriceLimit(TemplateStrategy):
    """Rests its legs, watches the mid for cancel conditions; see the module docstring."""

    def __init__(self, config: PriceLimitConfig) -> None:
        super().__init__(config)
        self.cfg = config
        legs = {}
        if config.buy_price is not None:
            legs["BUY"] = _Leg("BUY")
        if config.sell_price is not None:
            legs["SELL"] = _Leg("SELL")
        self.saved = _Saved(legs=legs)
        self._placed = False

    def on_template_start(self) -> None:
        """Adopt legs still open in the cache, place again those the stop withdrew; quotes
        drive placing and the conditions (the first one arms the time limit again)."""
        self._placed = False
        for leg in self.saved.legs.values():
            if leg.withdrawn and not leg.finished:
                order = self._order_of(leg)
                if order is None or order.is_closed:
                    self._settle_withdrawn(leg, order)
                continue  # its cancel is still on its way: its event settles it
            if leg.order_id is None:  # not saved (a crash): look for it among our orders
                leg.order_id = self._find_in_cache(leg)
            order = self._order_of(leg)
            if order is not None and order.is_open:
                self.log.info(f"{leg.side} leg {order.client_order_id} still open: adopted")
            elif order is not None and order.is_closed and not leg.finished:
                self._finish(leg, "filled" if order.filled_qty.as_decimal() > 0 else "closed")
        self.subscribe_quote_ticks(self.cfg.instrument_id)

    def on_template_stop(self) -> None:
        for leg in self.saved.legs.values():
            order = self._order_of(leg)
            if not leg.finished and order is not None and not order.is_closed:
                leg.withdrawn = True  # the stop cancels it (stop_sweep)
        if f"{self.id}-expiry" in self.clock.timer_names:
            self.clock.cancel_timer(f"{self.id}-expiry")
        self.unsubscribe_quote_ticks(self.cfg.instrument_id)

    def _find_in_cache(self, leg: _Leg) -> str | None:
        """This strategy's latest order on the leg's side and price, if the cache holds one."""
        price = self.cfg.buy_price if leg.side == "BUY" else self.cfg.sell_price
        side = OrderSide.BUY if leg.side == "BUY" else OrderSide.SELL
        mine = [
            o
            for o in self.cache.orders(strategy_id=self.id)
            if o.side == side and o.has_price and o.price.as_decimal() == price
        ]
        if not mine:
            return None
        return max(mine, key=lambda o: o.ts_init).client_order_id.value

    def _order_of(self, leg: _Leg) -> Order | None:
        return None if leg.order_id is None else self.cache.order(ClientOrderId(leg.order_id))

    def _settle_withdrawn(self, leg: _Leg, order: Order | None) -> None:
        """A withdrawn leg whose order has ended: placed again unless it filled meanwhile."""
        leg.withdrawn = False
        if order is not None and order.filled_qty.as_decimal() > 0:
            self._finish(leg, "filled")
            return
        leg.order_id = None
        self.log.info(f"{leg.side} leg withdrawn by the stop: placed again")

    def _finish(self, leg: _Leg, why: str) -> None:
        leg.finished = True
        leg.why = why
        self.log.info(f"{leg.side} leg finished: {why}")

    def _cancel(self, leg: _Leg, why: str) -> None:
        if leg.finished:
            return
        order = self._order_of(leg)
        if order is not None and order.is_open:
            self.cancel_order(order)
        self._finish(leg, f"cancelled: {why}")

    def _cancel_all(self, why: str) -> None:
        for leg in self.saved.legs.values():
            self._cancel(leg, why)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        """Place the legs from the first quote on (timers arm on data; a leg held back while
        the node was not ACTIVE goes out on a later quote), then check the conditions."""
        if not self._placed:
            self._placed = True
            self._arm_expiry()
        self._place_legs()
        mid = (tick.bid_price.as_decimal() + tick.ask_price.as_decimal()) / 2
        above, below = self.cfg.cancel_above_price, self.cfg.cancel_below_price
        if above is not None and mid > above:
            self._cancel_all(f"mid {mid} above {above}")
        elif below is not None and mid < below:
            self._cancel_all(f"mid {mid} below {below}")
        pct = self.cfg.cancel_if_away_pct
        if pct is None:
            return
        for leg in self.saved.legs.values():
            px = self.cfg.buy_price if leg.side == "BUY" else self.cfg.sell_price
            assert px is not None
            away = abs(mid - px) / px * 100
            if not leg.finished and away > pct:
                self._cancel(leg, f"mid {mid} is {away:.2f}% from {px} (limit {pct}%)")

    def _arm_expiry(self) -> None:
        if self.cfg.cancel_after_secs is None:
            return
        now = self.clock.timestamp_ns()
        if not self.saved.started_ns:
            self.saved.started_ns = now
        at = self.saved.started_ns + self.cfg.cancel_after_secs * _NS
        if at <= now:
            self._cancel_all("time limit passed")
            return
        self.clock.set_time_alert_ns(
            f"{self.id}-expiry", at, callback=lambda _e: self._cancel_all("time limit")
        )

    def _place_legs(self) -> None:
        assert self.instrument is not None
        for leg in self.saved.legs.values():
            if leg.finished or leg.order_id is not None:
                continue
            if not self.may_add_risk(f"the {leg.side} leg"):
                continue
            buy = leg.side == "BUY"
            price = self.cfg.buy_price if buy else self.cfg.sell_price
            qty = self.cfg.buy_quantity if buy else self.cfg.sell_quantity
            assert price is not None and qty is not None
            order = self.order_factory.limit(
                instrument_id=self.cfg.instrument_id,
                order_side=OrderSide.BUY if buy else OrderSide.SELL,
                quantity=self.instrument.make_qty(qty),
                price=self.instrument.make_price(price),
                time_in_force=TimeInForce.GTC,
            )
            leg.order_id = order.client_order_id.value
            self.submit_order(order)

    def on_order_event(self, event: OrderEvent) -> None:
        """A fill on one leg cancels the other; a leg whose order ends is finished."""
        leg = next(
            (g for g in self.saved.legs.values() if g.order_id == event.client_order_id.value),
            None,
        )
        if leg is None:
            return
        order = self.cache.order(event.client_order_id)
        if isinstance(event, OrderFilled) and self.cfg.cancel_on_opposite_fill:
            for other in self.saved.legs.values():
                if other is not leg:
                    self._cancel(other, f"the {leg.side} leg filled")
        if order is not None and order.is_closed and not leg.finished:
            if leg.withdrawn:
                self._settle_withdrawn(leg, order)
                return
            self._finish(leg, "filled" if order.filled_qty.as_decimal() > 0 else "closed")

    def on_save(self) -> dict[str, bytes]:
        return {"legs": msgspec.json.encode(self.saved)}

    def on_load(self, state: dict[str, bytes]) -> None:
        if "legs" in state:
            self.saved = msgspec.json.decode(state["legs"], type=_Saved)

    def on_reset(self) -> None:
        self._placed = False
