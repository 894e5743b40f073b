"""Cancel an order now when NautilusTrader can, and the moment the venue acknowledges it if not.

Live, an order a strategy has submitted stays INITIALIZED in the cache until its
``OrderSubmitted`` comes back through the execution engine's queue (a few milliseconds).
NautilusTrader cannot cancel it then (INITIALIZED -> PENDING_CANCEL is not a transition: the
cancel is dropped with a warning), and a caller that checks ``is_open`` skips it. The venue then
accepts it after the caller has moved on: a protective stop resting for a position already
closed, which would close the trader's next position on that coin. NautilusTrader has nothing
that cancels on acknowledgement, hence this.

The owner feeds every order event of the strategy to ``on_event``; an order handed to
``cancel`` is followed until it is closed and cancelled again whenever it is (again) open at
the venue -- acknowledged, triggered, updated, or its cancel rejected because it overtook the
submit -- at most ``MAX_ATTEMPTS`` times per ``cancel`` call (a venue refusing every request
would otherwise make the retries spin; the owner's next ``cancel`` starts a fresh round).
Orders that cannot rest (market, IOC, FOK) are only followed: they end on their own.
"""

from __future__ import annotations

from typing import Any
from typing import Final

from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderCancelRejected
from nautilus_trader.model.events import OrderTriggered
from nautilus_trader.model.events import OrderUpdated
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.orders import Order
from nautilus_trader.trading.strategy import Strategy

__all__ = ["LateCancels"]

# Events after which an order rests at the venue (or still does): the moment to cancel it.
_RESTING_AGAIN = (OrderAccepted, OrderTriggered, OrderUpdated, OrderCancelRejected)
_CANNOT_REST = (TimeInForce.IOC, TimeInForce.FOK)


class LateCancels:
    """Cancels a strategy's orders now or as soon as the venue has them (see module notes)."""

    MAX_ATTEMPTS: Final = 3

    def __init__(self, strategy: Strategy) -> None:
        self._strategy = strategy
        self._attempts: dict[ClientOrderId, int] = {}

    @property
    def following(self) -> frozenset[ClientOrderId]:
        """Orders handed to ``cancel`` and not closed yet."""
        return frozenset(self._attempts)

    def cancel(self, order: Order) -> None:
        """Cancel ``order`` now if NautilusTrader can, else when acknowledged; follow it."""
        if order.is_closed:
            return
        if order.is_emulated or (order.exec_algorithm_id is not None and order.is_active_local):
            # Held in the node (the emulator; the primary an algorithm slices, whatever its
            # type): the cancel stops it there, nothing reaches the venue to follow.
            self._strategy.cancel_order(order)
            return
        # Asked again by the owner (flat after a venue outage, say): a fresh round of attempts,
        # whatever the retries after rejected cancels used up meanwhile.
        self._attempts[order.client_order_id] = 0
        self._try(order)

    def on_event(self, event: Any) -> None:
        """Feed every order event of the strategy here."""
        cid = getattr(event, "client_order_id", None)
        if cid not in self._attempts:
            return
        order = self._strategy.cache.order(cid)
        if order is None or order.is_closed:
            self._attempts.pop(cid, None)
            return
        if isinstance(event, _RESTING_AGAIN) and order.is_open:
            self._try(order)

    def forget(self) -> None:
        """Stop following every order."""
        self._attempts.clear()

    def _try(self, order: Order) -> None:
        if order.is_pending_cancel or order.status == OrderStatus.INITIALIZED:
            return  # going already, or not cancellable until acknowledged
        if order.order_type == OrderType.MARKET or order.time_in_force in _CANNOT_REST:
            return
        cid = order.client_order_id
        attempts = self._attempts.get(cid, 0)
        if attempts >= self.MAX_ATTEMPTS:
            if attempts == self.MAX_ATTEMPTS:
                self._attempts[cid] = attempts + 1  # said once
                self._strategy.log.error(
                    f"{cid!r} still open after {attempts} cancels: cancel it at the venue"
                )
            return
        self._attempts[cid] = attempts + 1
        if attempts:
            self._strategy.log.warning(f"{cid!r} is open at the venue after its cancel: again")
        self._strategy.cancel_order(order)
