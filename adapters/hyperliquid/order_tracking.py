"""What the execution client knows about each of its own orders: one explicit state per order.

The cache is updated asynchronously (events go through the message bus), and the venue reports
one order on up to three paths (the `/exchange` answer, ``orderUpdates``, ``userEvents``) in any
order, so the client keeps its own record of each order to emit every event exactly once. The
record is a state in a transition table (``TRANSITIONS``) run by NautilusTrader's
``FiniteStateMachine``, the way NautilusTrader tracks its own orders (``_ORDER_STATE_TABLE``):
a transition missing from the table is a bug and raises, instead of a combination of flags that
nobody thought of.

States:

* ``IN_FLIGHT``: the submit request is posted, its answer (with the venue's text) is awaited.
* ``SUBMITTED``: answered without a venue oid yet; looked up by cloid if it stays so.
* ``UNKNOWN``: the answer was lost (transport failure after sending): the client is resolving it
  by cloid lookups right now (the watchdog leaves it to them, so the reason stays TRANSPORT).
* ``WAITING``: a TP/SL child the venue holds until its parent fills.
* ``ACCEPTED``: on the venue with a bound oid.
* ``MODIFYING``: a cancel-replace is in flight (the old oid may be replaced at any moment).
* ``OLD_LEG_CANCELED``: the venue cancelled the old leg of the modify; the new leg is not seen.
* ``VENUE_FILLED``: the venue says filled; its fills may still be on their way.
* ``CLOSED``: terminal (rejected, cancelled or fully filled), emitted exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from enum import IntEnum
from enum import unique
from typing import Final

from nautilus_trader.core.fsm import FiniteStateMachine
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import Order

from adapters.hyperliquid.numbers import cloid_from_client_order_id

__all__ = [
    "TRANSITIONS",
    "TrackedOrder",
    "TrackedOrders",
    "TrackingState",
    "TrackingTrigger",
]


@unique
class TrackingState(IntEnum):
    """Where one of this node's orders stands (module notes)."""

    IN_FLIGHT = 1
    SUBMITTED = 2
    WAITING = 3
    ACCEPTED = 4
    MODIFYING = 5
    OLD_LEG_CANCELED = 6
    VENUE_FILLED = 7
    CLOSED = 8
    UNKNOWN = 9


@unique
class TrackingTrigger(IntEnum):
    """What happened to the order."""

    ANSWERED = 1  # the submit request returned (or failed); the answer is being applied
    WAIT = 2  # the venue holds it until its parent fills
    ACCEPT = 3  # on the venue with an oid
    MODIFY = 4  # a cancel-replace was posted
    OLD_LEG_CANCEL = 5  # the venue cancelled the leg being replaced
    REPLACE = 6  # a new oid is bound (the modify's new leg)
    MODIFY_FAIL = 7  # the modify was refused or its outcome is unknown
    VENUE_FILL = 8  # the venue says filled
    CLOSE = 9  # rejected, cancelled, or fully filled
    ANSWER_LOST = 10  # sent, but the answer never came (outcome unknown)


_S = TrackingState
_T = TrackingTrigger

TRANSITIONS: Final[dict[tuple[int, int], int]] = {
    (_S.IN_FLIGHT, _T.ANSWERED): _S.SUBMITTED,
    (_S.IN_FLIGHT, _T.ANSWER_LOST): _S.UNKNOWN,
    (_S.IN_FLIGHT, _T.WAIT): _S.WAITING,
    (_S.IN_FLIGHT, _T.ACCEPT): _S.ACCEPTED,
    (_S.IN_FLIGHT, _T.CLOSE): _S.CLOSED,
    (_S.UNKNOWN, _T.WAIT): _S.WAITING,
    (_S.UNKNOWN, _T.ACCEPT): _S.ACCEPTED,
    (_S.UNKNOWN, _T.CLOSE): _S.CLOSED,
    (_S.SUBMITTED, _T.WAIT): _S.WAITING,
    (_S.SUBMITTED, _T.ACCEPT): _S.ACCEPTED,
    (_S.SUBMITTED, _T.CLOSE): _S.CLOSED,
    (_S.WAITING, _T.ACCEPT): _S.ACCEPTED,
    (_S.WAITING, _T.CLOSE): _S.CLOSED,
    (_S.ACCEPTED, _T.MODIFY): _S.MODIFYING,
    (_S.ACCEPTED, _T.REPLACE): _S.ACCEPTED,  # a new oid seen by a resync
    (_S.ACCEPTED, _T.VENUE_FILL): _S.VENUE_FILLED,
    (_S.ACCEPTED, _T.CLOSE): _S.CLOSED,
    (_S.MODIFYING, _T.MODIFY): _S.MODIFYING,  # a second modify before the first one's answer
    (_S.MODIFYING, _T.OLD_LEG_CANCEL): _S.OLD_LEG_CANCELED,
    (_S.MODIFYING, _T.REPLACE): _S.ACCEPTED,
    (_S.MODIFYING, _T.MODIFY_FAIL): _S.ACCEPTED,
    (_S.MODIFYING, _T.VENUE_FILL): _S.MODIFYING,  # the fills decide; the modify answer follows
    (_S.MODIFYING, _T.CLOSE): _S.CLOSED,
    (_S.OLD_LEG_CANCELED, _T.MODIFY): _S.MODIFYING,
    (_S.OLD_LEG_CANCELED, _T.OLD_LEG_CANCEL): _S.OLD_LEG_CANCELED,
    (_S.OLD_LEG_CANCELED, _T.REPLACE): _S.ACCEPTED,
    (_S.OLD_LEG_CANCELED, _T.MODIFY_FAIL): _S.ACCEPTED,  # then reported cancelled
    (_S.OLD_LEG_CANCELED, _T.VENUE_FILL): _S.OLD_LEG_CANCELED,
    (_S.OLD_LEG_CANCELED, _T.CLOSE): _S.CLOSED,
    (_S.VENUE_FILLED, _T.MODIFY): _S.MODIFYING,  # the venue will refuse it: already filled
    (_S.VENUE_FILLED, _T.REPLACE): _S.VENUE_FILLED,
    (_S.VENUE_FILLED, _T.VENUE_FILL): _S.VENUE_FILLED,
    (_S.VENUE_FILLED, _T.CLOSE): _S.CLOSED,
}
"""(state, trigger) -> next state; anything else is an invalid transition."""

_ACCEPTED_STATES: Final[frozenset[int]] = frozenset(
    {_S.ACCEPTED, _S.MODIFYING, _S.OLD_LEG_CANCELED, _S.VENUE_FILLED}
)


def _state_name(value: int) -> str:
    return TrackingState(value).name


def _trigger_name(value: int) -> str:
    return TrackingTrigger(value).name


@dataclass(slots=True)
class TrackedOrder:
    """One of this node's orders: its state (``TRANSITIONS``) and the venue facts around it."""

    client_order_id: ClientOrderId
    cloid: str
    submitted_ns: int
    fsm: FiniteStateMachine
    oid: int | None = None
    filled: Decimal = Decimal(0)
    modify_old_oid: int | None = None  # the oid being replaced while MODIFYING
    modify_target: tuple[Quantity, Price | None, Price | None] | None = None
    old_oids: set[int] = field(default_factory=set)

    @classmethod
    def new(
        cls,
        client_order_id: ClientOrderId,
        submitted_ns: int,
        state: TrackingState = TrackingState.IN_FLIGHT,
    ) -> TrackedOrder:
        """A record starting in ``state`` (default: its submit request is being posted)."""
        fsm = FiniteStateMachine(TRANSITIONS, state, _trigger_name, _state_name)
        return cls(client_order_id, cloid_from_client_order_id(client_order_id), submitted_ns, fsm)

    @property
    def state(self) -> TrackingState:
        """The current state."""
        return TrackingState(self.fsm.state)

    def trigger(self, trigger: TrackingTrigger) -> None:
        """Apply a transition; ``InvalidStateTrigger`` if the table has no such row."""
        self.fsm.trigger(trigger)

    def can(self, trigger: TrackingTrigger) -> bool:
        """Whether ``trigger`` is a valid transition from the current state."""
        return (self.fsm.state, int(trigger)) in TRANSITIONS

    @property
    def accepted(self) -> bool:
        """On the venue with an oid (accepted, being modified, or filled there)."""
        return self.fsm.state in _ACCEPTED_STATES

    @property
    def closed(self) -> bool:
        """Terminal: its end was emitted."""
        return self.fsm.state == _S.CLOSED

    @property
    def modifying(self) -> bool:
        """A cancel-replace is in flight."""
        return self.fsm.state in (_S.MODIFYING, _S.OLD_LEG_CANCELED)

    def is_old_leg(self, oid: int) -> bool:
        """``oid`` is a leg this order had before a modify (replaced or being replaced)."""
        return oid in self.old_oids or (self.modifying and oid == self.modify_old_oid)

    def start_modify(self, target: tuple[Quantity, Price | None, Price | None]) -> None:
        """A cancel-replace is being posted (the old oid, if bound, is remembered)."""
        self.modify_target = target
        if self.oid is not None and self.can(_T.MODIFY):
            self.modify_old_oid = self.oid
            self.trigger(_T.MODIFY)

    def end_modify(self) -> None:
        """The modify is over without a new leg (refused or unknown)."""
        self.modify_old_oid = None
        self.modify_target = None
        if self.can(_T.MODIFY_FAIL):
            self.trigger(_T.MODIFY_FAIL)


class TrackedOrders:
    """This node's tracked orders, indexed by client order id, cloid and venue oid."""

    def __init__(self) -> None:
        self.tracked: dict[ClientOrderId, TrackedOrder] = {}
        self.by_cloid: dict[str, ClientOrderId] = {}
        self.by_oid: dict[int, ClientOrderId] = {}

    def get(self, client_order_id: ClientOrderId | None) -> TrackedOrder | None:
        """The record of an order, ``None`` if not tracked."""
        return None if client_order_id is None else self.tracked.get(client_order_id)

    def track(self, order: Order, now_ns: int) -> TrackedOrder:
        """Start tracking an order whose submit request is about to be posted."""
        tracked = TrackedOrder.new(order.client_order_id, now_ns)
        self.tracked[order.client_order_id] = tracked
        self.by_cloid[tracked.cloid] = order.client_order_id
        return tracked

    def bind(self, tracked: TrackedOrder, oid: int) -> None:
        """The venue oid currently carrying the order."""
        tracked.oid = oid
        self.by_oid[oid] = tracked.client_order_id

    def resolve(self, cloid: str | None, oid: int) -> ClientOrderId | None:
        """Our client order id for a venue order (by cloid first, then by oid)."""
        if cloid is not None:
            found = self.by_cloid.get(cloid.lower())
            if found is not None:
                return found
        return self.by_oid.get(oid)

    def rebuild(self, orders: Iterable[Order]) -> int:
        """After a restart: index the cached orders and track the open ones (Redis-backed
        caches bring them back). Returns how many open orders are tracked again."""
        count = 0
        for order in orders:
            coid = order.client_order_id
            cloid = cloid_from_client_order_id(coid)
            self.by_cloid[cloid] = coid
            if not order.is_open or coid in self.tracked:
                continue
            venue_oid = order.venue_order_id
            has_oid = venue_oid is not None and venue_oid.value.isdigit()
            acked = has_oid and order.status != OrderStatus.SUBMITTED
            state = TrackingState.ACCEPTED if acked else TrackingState.SUBMITTED
            tracked = TrackedOrder.new(coid, order.ts_init, state)
            if has_oid:
                assert venue_oid is not None
                self.bind(tracked, int(venue_oid.value))
            tracked.filled = order.filled_qty.as_decimal()
            self.tracked[coid] = tracked
            count += 1
        return count

    def prune(self, closed_in_cache: Callable[[ClientOrderId], bool]) -> None:
        """Forget terminal orders the cache also has closed (or no longer has)."""
        for coid in [c for c, t in self.tracked.items() if t.closed]:
            if closed_in_cache(coid):
                tracked = self.tracked.pop(coid)
                if tracked.oid is not None:
                    self.by_oid.pop(tracked.oid, None)
