"""What a template still owns when it stops: cancel it, and follow up what answers after the stop.

Why our own and not ``Strategy.cancel_all_orders``:

* it sends ``CancelAllOrders``, which a venue (the Hyperliquid client, NautilusTrader's simulated
  exchange) applies to every order on the instrument: stopping one template would cancel the
  orders of every other strategy on that coin, their protective stops included. Here each order
  of this strategy is cancelled by its own ``CancelOrder``;
* an order sent whose ``OrderSubmitted`` is still on its way cannot be cancelled yet
  (``strategies.late_cancels``), and a stopped strategy no longer receives order events, so the
  sweep listens on the strategy's order-event topic itself until every order it followed is
  closed.

With ``close_fills`` (the template closes its position on stop), a fill of a non-reduce-only
order that lands after the stop is closed again at market, reduce-only, for the filled quantity.
Without it the template keeps its position, and then keeps that position's protective stops
(reduce-only stop orders) too: a trader who keeps a position keeps its stop-loss; cancelling it
would leave the position unprotected while nothing runs to manage it.
"""

from __future__ import annotations

from typing import Any

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import Order
from nautilus_trader.trading.strategy import Strategy

from strategies.late_cancels import LateCancels

__all__ = ["StopSweep"]

_STOP_TYPES = frozenset(
    {
        OrderType.STOP_MARKET,
        OrderType.STOP_LIMIT,
        OrderType.TRAILING_STOP_MARKET,
        OrderType.TRAILING_STOP_LIMIT,
    }
)


def is_protective_stop(order: Order) -> bool:
    """A reduce-only stop: it can only shrink a position, and only when the price runs against
    it (a reduce-only limit or TWAP child is the strategy still trading, not protection)."""
    return order.is_reduce_only and order.order_type in _STOP_TYPES


class StopSweep:
    """Cancels a stopping strategy's orders and follows those that answer after the stop."""

    def __init__(self, strategy: Strategy) -> None:
        self._strategy = strategy
        self._cancels = LateCancels(strategy)  # what it follows is what this sweep follows
        self._close_fills = False
        self._subscribed = False

    @property
    def following(self) -> frozenset[ClientOrderId]:
        """Orders still followed (not closed yet)."""
        return self._cancels.following

    def sweep(self, instrument_id: InstrumentId, close_fills: bool) -> None:
        """
        Cancel the strategy's orders on ``instrument_id`` and follow those not closed.

        A position kept (not ``close_fills``) keeps its protective stops, those still on their
        way to the venue included; a position being closed, or none, keeps nothing.
        """
        strategy = self._strategy
        self._close_fills = close_fills
        cache = strategy.cache
        keeps_position = not close_fills and bool(
            cache.positions_open(instrument_id=instrument_id, strategy_id=strategy.id)
        )
        kept: list[str] = []
        for order in cache.orders(instrument_id=instrument_id, strategy_id=strategy.id):
            if order.is_closed:
                continue
            if keeps_position and is_protective_stop(order):
                kept.append(f"{order.client_order_id} ({order.side_string()} {order.quantity})")
                continue
            self._cancels.cancel(order)  # follows it, unless held in the node (ends there)
        if kept:
            strategy.log.info(
                f"Stop: keeping the protective stop(s) of the position it keeps: {', '.join(kept)}"
            )
        following = self._cancels.following
        if following and not self._subscribed:
            strategy.msgbus.subscribe(topic=self._topic(), handler=self._on_event)
            self._subscribed = True
        if following:
            strategy.log.info(f"Stop: following {len(following)} order(s) until closed")

    def end(self) -> None:
        """Stop following (the strategy runs again and gets its own events)."""
        if self._subscribed:
            self._strategy.msgbus.unsubscribe(topic=self._topic(), handler=self._on_event)
            self._subscribed = False
        self._cancels.forget()

    def _topic(self) -> str:
        return f"events.order.{self._strategy.id}"

    def _on_event(self, event: Any) -> None:
        cid = getattr(event, "client_order_id", None)
        if cid not in self._cancels.following:
            return
        order = self._strategy.cache.order(cid)
        filled_late = isinstance(event, OrderFilled) and order is not None
        if filled_late and self._close_fills and not order.is_reduce_only:
            self._close_fill(event)
        self._cancels.on_event(event)  # stops following it once closed
        if not self._cancels.following:
            self.end()

    def _close_fill(self, fill: OrderFilled) -> None:
        strategy = self._strategy
        side = OrderSide.SELL if fill.order_side == OrderSide.BUY else OrderSide.BUY
        strategy.log.warning(
            f"Stop: {fill.client_order_id} filled {fill.last_qty} after the stop; "
            "closing that quantity reduce-only"
        )
        order = strategy.order_factory.market(
            instrument_id=fill.instrument_id,
            order_side=side,
            quantity=fill.last_qty,
            time_in_force=TimeInForce.IOC,
            reduce_only=True,
        )
        strategy.submit_order(order)
