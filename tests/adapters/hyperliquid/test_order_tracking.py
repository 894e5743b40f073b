"""One explicit state per order: the transition table, its derived views, and the rebuild of
tracked orders from a (restarted) cache."""

from __future__ import annotations

import pytest
from nautilus_trader.core.fsm import InvalidStateTrigger
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.stubs.events import TestEventStubs
from nautilus_trader.test_kit.stubs.execution import TestExecStubs

from adapters.hyperliquid.numbers import cloid_from_client_order_id
from adapters.hyperliquid.order_tracking import TRANSITIONS
from adapters.hyperliquid.order_tracking import TrackedOrder
from adapters.hyperliquid.order_tracking import TrackedOrders
from adapters.hyperliquid.order_tracking import TrackingState
from adapters.hyperliquid.order_tracking import TrackingTrigger

S = TrackingState
T = TrackingTrigger
TARGET = (Quantity.from_str("1"), None, None)


def tracked(state: TrackingState = S.IN_FLIGHT, oid: int | None = None) -> TrackedOrder:
    order = TrackedOrder.new(ClientOrderId("O-1"), 0, state)
    order.oid = oid
    return order


def test_closed_is_final_no_trigger_leaves_it() -> None:
    order = tracked(S.CLOSED)
    for trigger in T:
        assert not order.can(trigger)
        with pytest.raises(InvalidStateTrigger):
            order.trigger(trigger)


def test_every_non_final_state_can_close() -> None:
    for state in S:
        if state != S.CLOSED:
            assert (state, T.CLOSE) in TRANSITIONS, state.name


def test_accept_happens_at_most_once() -> None:
    order = tracked()
    order.trigger(T.ACCEPT)
    assert order.accepted and not order.can(T.ACCEPT)


def test_a_waiting_child_is_not_accepted_until_the_venue_says_so() -> None:
    order = tracked()
    order.trigger(T.ANSWERED)
    order.trigger(T.WAIT)
    assert order.state == S.WAITING and not order.accepted
    order.trigger(T.ACCEPT)
    assert order.state == S.ACCEPTED


def test_modify_remembers_the_old_leg_and_a_refusal_returns_to_accepted() -> None:
    order = tracked(S.ACCEPTED, oid=7)
    order.start_modify(TARGET)
    assert order.modifying and order.modify_old_oid == 7 and order.is_old_leg(7)
    order.trigger(T.OLD_LEG_CANCEL)
    assert order.state == S.OLD_LEG_CANCELED and order.modifying
    order.end_modify()
    assert order.state == S.ACCEPTED and not order.modifying
    assert order.modify_old_oid is None and not order.is_old_leg(7)


def test_modify_of_an_order_without_oid_changes_no_state() -> None:
    order = tracked(S.SUBMITTED)
    order.start_modify(TARGET)
    assert order.state == S.SUBMITTED and order.modify_target == TARGET


def test_a_venue_fill_during_a_modify_keeps_the_modify_pending() -> None:
    order = tracked(S.ACCEPTED, oid=7)
    order.start_modify(TARGET)
    order.trigger(T.VENUE_FILL)
    assert order.state == S.MODIFYING


def test_answer_after_in_flight_waits_for_a_venue_fact() -> None:
    order = tracked()
    order.trigger(T.ANSWERED)
    assert order.state == S.SUBMITTED and not order.accepted and not order.closed


def test_rebuild_tracks_open_cached_orders_with_their_oid_and_fills() -> None:
    accepted = TestExecStubs.limit_order(client_order_id=ClientOrderId("O-ACC"))
    accepted.apply(TestEventStubs.order_submitted(accepted))
    accepted.apply(TestEventStubs.order_accepted(accepted, venue_order_id=VenueOrderId("42")))
    submitted = TestExecStubs.limit_order(client_order_id=ClientOrderId("O-SUB"))
    submitted.apply(TestEventStubs.order_submitted(submitted))
    closed = TestExecStubs.limit_order(client_order_id=ClientOrderId("O-CLOSED"))
    closed.apply(TestEventStubs.order_submitted(closed))
    closed.apply(TestEventStubs.order_rejected(closed))
    orders = TrackedOrders()

    count = orders.rebuild([accepted, submitted, closed])

    assert count == 1
    acc = orders.tracked[ClientOrderId("O-ACC")]
    assert acc.state == S.ACCEPTED and acc.oid == 42
    assert orders.by_oid[42] == ClientOrderId("O-ACC")
    # In flight at the restart: reconciliation resolves it; its fills still map to it.
    assert ClientOrderId("O-SUB") not in orders.tracked
    sub_cloid = cloid_from_client_order_id(ClientOrderId("O-SUB"))
    assert orders.resolve(sub_cloid, 0) == ClientOrderId("O-SUB")
    assert ClientOrderId("O-CLOSED") not in orders.tracked
    closed_cloid = cloid_from_client_order_id(ClientOrderId("O-CLOSED"))
    assert orders.resolve(closed_cloid, 0) == ClientOrderId("O-CLOSED")  # fills still map
    assert orders.rebuild([accepted]) == 0  # already tracked


def test_prune_forgets_closed_orders_the_cache_also_closed() -> None:
    orders = TrackedOrders()
    order = TestExecStubs.limit_order(client_order_id=ClientOrderId("O-1"))
    item = orders.track(order, 0)
    orders.bind(item, 5)
    orders.prune(lambda _: True)
    assert orders.get(ClientOrderId("O-1")) is not None  # not closed here: kept
    item.trigger(T.CLOSE)
    orders.prune(lambda _: False)
    assert orders.get(ClientOrderId("O-1")) is not None  # the cache has not closed it yet
    orders.prune(lambda _: True)
    assert orders.get(ClientOrderId("O-1")) is None and 5 not in orders.by_oid


def test_a_lost_answer_is_unknown_until_the_venue_says_what_happened() -> None:
    order = tracked()
    order.trigger(T.ANSWER_LOST)
    assert order.state == S.UNKNOWN and not order.accepted
    assert not order.can(T.ANSWERED)  # no second answer for one request
    order.trigger(T.ACCEPT)
    assert order.state == S.ACCEPTED
