"""What a template still owns when it stops: cancel it, and follow up what answers after the stop.

Why our own and not ``Strategy.cancel_all_orders``:

* it sends ``CancelAllOrders``, which a venue (the Hyperliquid client, NautilusTrader's simulated
  exchange) applies to every order on the instrument: stopping one template would cancel the
  orders of every other strategy on that coin, their protective stops included. Here each order
  of this strategy is cancelled by its own ``CancelOrder``;
* an order the strategy submitted whose ``OrderSubmitted`` has not come back through the
  execution engine's queue yet (live, a few milliseconds) is still INITIALIZED in the cache.
  NautilusTrader cannot cancel it (INITIALIZED -> PENDING_CANCEL is not a transition) and a
  stopped strategy no longer receives order events, so without a follow-up the venue accepts it
  after the stop and it stays there: a protective stop resting for a position already closed,
  which would close the trader's next position on that coin.

So at stop every order of the strategy that is not closed is cancelled when NautilusTrader can,
and followed on the strategy's order-event topic until it is closed: once the venue acknowledges
it (accepted, triggered, updated) it is cancelled, and when ``close_fills`` is set (the template
closes its position on stop) a fill of a non-reduce-only order that lands after the stop is
closed again at market, reduce-only, for the filled quantity.
"""

from __future__ import annotations

from typing import Any

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderTriggered
from nautilus_trader.model.events import OrderUpdated
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import Order
from nautilus_trader.trading.strategy import Strategy

__all__ = ["StopSweep"]

# Events after which an order rests at the venue (or may again): the moment to cancel it.
_ACKNOWLEDGED = (OrderAccepted, OrderTriggered, OrderUpdated)
# Orders that cannot rest: they fill or expire on their own, a cancel only earns a rejection.
_CANNOT_REST = (TimeInForce.IOC, TimeInForce.FOK)


class StopSweep:
    """Cancels a stopping strategy's orders and follows those that answer after the stop."""

    def __init__(self, strategy: Strategy) -> None:
        self._strategy = strategy
        self._following: set[ClientOrderId] = set()
        self._close_fills = False
        self._subscribed = False

    @property
    def following(self) -> frozenset[ClientOrderId]:
        """Orders still followed (not closed yet)."""
        return frozenset(self._following)

    def sweep(self, instrument_id: InstrumentId, close_fills: bool) -> None:
        """Cancel every order of the strategy on ``instrument_id`` and follow those not closed."""
        strategy = self._strategy
        self._close_fills = close_fills
        for order in strategy.cache.orders(instrument_id=instrument_id, strategy_id=strategy.id):
            if order.is_closed:
                continue
            self._following.add(order.client_order_id)
            if order.is_emulated or (order.exec_algorithm_id is not None and order.is_active_local):
                # Held in the node (the emulator; the primary a TWAP slices, whatever its type):
                # the cancel stops it there.
                strategy.cancel_order(order)
            elif order.status != OrderStatus.INITIALIZED:
                self._cancel(order)
            # else: sent, but its OrderSubmitted is still on the way; cancelled once acknowledged.
        if self._following and not self._subscribed:
            strategy.msgbus.subscribe(topic=self._topic(), handler=self._on_event)
            self._subscribed = True
        if self._following:
            strategy.log.info(f"Stop: following {len(self._following)} order(s) until closed")

    def end(self) -> None:
        """Stop following (the strategy runs again and gets its own events)."""
        if self._subscribed:
            self._strategy.msgbus.unsubscribe(topic=self._topic(), handler=self._on_event)
            self._subscribed = False
        self._following.clear()

    def _topic(self) -> str:
        return f"events.order.{self._strategy.id}"

    def _cancel(self, order: Order) -> None:
        """Cancel an order at the venue, unless it cannot rest there or is already going."""
        if order.is_pending_cancel or order.is_closed:
            return
        if order.order_type == OrderType.MARKET or order.time_in_force in _CANNOT_REST:
            return
        self._strategy.cancel_order(order)

    def _on_event(self, event: Any) -> None:
        cid = getattr(event, "client_order_id", None)
        if cid not in self._following:
            return
        strategy = self._strategy
        order = strategy.cache.order(cid)
        if order is None:
            self._following.discard(cid)
            return
        if isinstance(event, OrderFilled) and self._close_fills and not order.is_reduce_only:
            self._close_fill(event)
        if order.is_closed:
            self._following.discard(cid)
            if not self._following:
                self.end()
            return
        if isinstance(event, _ACKNOWLEDGED):
            strategy.log.warning(f"Stop: {cid} was acknowledged after the stop; cancelling it")
            self._cancel(order)

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
