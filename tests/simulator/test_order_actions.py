"""Order actions: batches of orders, cancels, modifies and the dead-man switch."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.engine import SimEngine
from simulator.events import NonUserCancel
from simulator.specs import DEFAULT_COINS
from simulator.state import SCHEDULE_CANCEL_MIN_VOLUME_USD

CLOID = "0x000000000000000000000000000000aa"


def test_batch_of_orders_answers_one_status_per_order_in_order(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    wires = [
        kit.order_wire(kit.ASSET["ETH"], True, "2400", "0.1", {"limit": {"tif": "Gtc"}}),
        kit.order_wire(kit.ASSET["ETH"], True, "2400", "0.001", {"limit": {"tif": "Gtc"}}),
        kit.order_wire(kit.ASSET["SOL"], True, "140", "1", {"limit": {"tif": "Gtc"}}),
    ]

    response = alice.l1({"type": "order", "orders": wires, "grouping": "na"})

    result = kit.statuses(response)
    assert "resting" in result[0]
    assert result[1] == {"error": "Order must have minimum value of $10. asset=1"}
    assert "resting" in result[2]


def test_cancel_by_oid_removes_the_order(kit: Any, engine: SimEngine, alice: Any) -> None:
    oid = kit.statuses(alice.order("ETH", True, "2400", "0.1"))[0]["resting"]["oid"]

    response = alice.l1({"type": "cancel", "cancels": [{"a": 1, "o": oid}]})

    assert response == {
        "status": "ok",
        "response": {"type": "cancel", "data": {"statuses": ["success"]}},
    }
    assert engine.open_orders_of(alice.address) == []
    status = engine.info({"type": "orderStatus", "user": alice.address, "oid": oid}, kit.T0)
    assert status["order"]["status"] == "canceled"
    assert engine.l2_book("ETH")["levels"] == [[], []]


def test_cancel_of_unknown_or_already_cancelled_order_uses_venue_text(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    oid = kit.statuses(alice.order("ETH", True, "2400", "0.1"))[0]["resting"]["oid"]
    alice.l1({"type": "cancel", "cancels": [{"a": 1, "o": oid}]})

    response = alice.l1({"type": "cancel", "cancels": [{"a": 1, "o": oid}, {"a": 1, "o": 42}]})

    text = "Order was never placed, already canceled, or filled. asset=1"
    assert kit.statuses(response) == [{"error": text}, {"error": text}]


def test_cancel_by_cloid(kit: Any, engine: SimEngine, alice: Any) -> None:
    alice.order("SOL", True, "140", "1", cloid=CLOID)

    ok = alice.l1({"type": "cancelByCloid", "cancels": [{"asset": 2, "cloid": CLOID}]})
    again = alice.l1({"type": "cancelByCloid", "cancels": [{"asset": 2, "cloid": CLOID}]})

    assert kit.statuses(ok) == ["success"]
    assert kit.statuses(again) == [
        {"error": "Order was never placed, already canceled, or filled. asset=2"}
    ]


def test_other_users_cannot_cancel_my_order(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    oid = kit.statuses(alice.order("ETH", True, "2400", "0.1"))[0]["resting"]["oid"]

    response = bob.l1({"type": "cancel", "cancels": [{"a": 1, "o": oid}]})

    assert "error" in kit.statuses(response)[0]
    assert len(engine.open_orders_of(alice.address)) == 1


def test_modify_replaces_price_and_size_under_a_new_oid(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    oid = kit.statuses(alice.order("ETH", True, "2400", "0.1", cloid=CLOID))[0]["resting"]["oid"]
    wire = kit.order_wire(1, True, "2410", "0.2", {"limit": {"tif": "Gtc"}}, False, CLOID)

    response = alice.l1({"type": "modify", "oid": oid, "order": wire})

    assert response == {"status": "ok", "response": {"type": "default"}}
    (order,) = engine.open_orders_of(alice.address)
    assert (order["limitPx"], order["sz"], order["cloid"]) == ("2410.0", "0.2", CLOID)
    assert order["oid"] != oid
    old = engine.info({"type": "orderStatus", "user": alice.address, "oid": oid}, kit.T0)
    assert old["order"]["status"] == "canceled"
    by_cloid = engine.info({"type": "orderStatus", "user": alice.address, "oid": CLOID}, kit.T0)
    assert by_cloid["order"]["order"]["oid"] == order["oid"]
    assert by_cloid["order"]["order"]["tif"] == "Gtc"


def test_modify_of_a_filled_order_fails(kit: Any, engine: SimEngine, alice: Any, bob: Any) -> None:
    oid = kit.statuses(alice.order("ETH", True, "2400", "0.1"))[0]["resting"]["oid"]
    bob.order("ETH", False, "2400", "0.1", "Ioc")
    wire = kit.order_wire(1, True, "2410", "0.2", {"limit": {"tif": "Gtc"}})

    response = alice.l1({"type": "modify", "oid": oid, "order": wire})

    assert kit.statuses(response) == [{"error": "Cannot modify canceled or filled order"}]


def test_batch_modify_answers_order_statuses(kit: Any, engine: SimEngine, alice: Any) -> None:
    first = kit.statuses(alice.order("ETH", True, "2400", "0.1"))[0]["resting"]["oid"]
    second = kit.statuses(alice.order("ETH", False, "2600", "0.1"))[0]["resting"]["oid"]
    modifies = [
        {"oid": first, "order": kit.order_wire(1, True, "2390", "0.1", {"limit": {"tif": "Alo"}})},
        {
            "oid": second,
            "order": kit.order_wire(1, False, "2610", "0.3", {"limit": {"tif": "Gtc"}}),
        },
        {"oid": 7, "order": kit.order_wire(1, False, "2610", "0.3", {"limit": {"tif": "Gtc"}})},
    ]

    response = alice.l1({"type": "batchModify", "modifies": modifies})

    assert response["response"]["type"] == "order"
    result = kit.statuses(response)
    assert "resting" in result[0] and "resting" in result[1]
    assert result[2] == {"error": "Cannot modify canceled or filled order"}
    prices = sorted(o["limitPx"] for o in engine.open_orders_of(alice.address))
    assert prices == ["2390.0", "2610.0"]


def test_schedule_cancel_fires_and_cancels_every_open_order(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    engine.credit_volume(alice.address, SCHEDULE_CANCEL_MIN_VOLUME_USD)
    alice.order("ETH", True, "2400", "0.1")
    alice.order("SOL", True, "140", "1")
    fire_at = kit.T0 + 10_000

    assert alice.l1({"type": "scheduleCancel", "time": fire_at}) == {
        "status": "ok",
        "response": {"type": "default"},
    }
    engine.tick(fire_at - 1)
    assert len(engine.open_orders_of(alice.address)) == 2
    engine.drain_events()

    engine.tick(fire_at)

    assert engine.open_orders_of(alice.address) == []
    history = engine.info({"type": "historicalOrders", "user": alice.address}, fire_at)
    assert {h["status"] for h in history} == {"scheduledCancel"}
    cancels = [e for e in engine.drain_events() if isinstance(e, NonUserCancel)]
    assert len(cancels) == 1 and len(cancels[0].cancels) == 2


def test_schedule_cancel_too_soon_is_rejected_and_clearing_works(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    engine.credit_volume(alice.address, SCHEDULE_CANCEL_MIN_VOLUME_USD)
    too_soon = alice.l1({"type": "scheduleCancel", "time": kit.T0 + 1_000})
    alice.l1({"type": "scheduleCancel", "time": kit.T0 + 10_000})
    alice.order("ETH", True, "2400", "0.1")

    cleared = alice.l1({"type": "scheduleCancel"})
    engine.tick(kit.T0 + 20_000)

    assert too_soon["status"] == "err"
    assert cleared["status"] == "ok"
    assert len(engine.open_orders_of(alice.address)) == 1


VOLUME_GATE_TEXT = "Cannot set scheduled cancel time until enough volume traded"


def test_schedule_cancel_of_a_fresh_account_is_refused_by_the_volume_gate(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    assert SCHEDULE_CANCEL_MIN_VOLUME_USD == 1_000_000.0  # the venue's observed "Required"

    set_it = alice.l1({"type": "scheduleCancel", "time": kit.T0 + 60_000})
    clear_it = alice.l1({"type": "scheduleCancel"})

    assert set_it == {"status": "err", "response": VOLUME_GATE_TEXT}
    assert clear_it == {"status": "err", "response": VOLUME_GATE_TEXT}
    assert alice.address not in engine.scheduled


def test_schedule_cancel_is_accepted_once_the_account_has_traded_enough(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    engine.credit_volume(alice.address, SCHEDULE_CANCEL_MIN_VOLUME_USD - 1)
    below = alice.l1({"type": "scheduleCancel", "time": kit.T0 + 60_000})
    engine.credit_volume(alice.address, 1)

    at_gate = alice.l1({"type": "scheduleCancel", "time": kit.T0 + 60_000})

    assert below["response"] == VOLUME_GATE_TEXT
    assert at_gate == {"status": "ok", "response": {"type": "default"}}
    assert engine.scheduled[alice.address] == kit.T0 + 60_000
    rate = engine.info({"type": "userRateLimit", "user": alice.address}, kit.T0)
    assert float(rate["cumVlm"]) >= SCHEDULE_CANCEL_MIN_VOLUME_USD  # volume as the venue shows


def test_traded_volume_counts_toward_the_schedule_cancel_gate(
    kit: Any, alice: Any, bob: Any
) -> None:
    engine = SimEngine(list(DEFAULT_COINS.values()), schedule_cancel_min_volume_usd=4_000.0)
    alice.engine = bob.engine = engine
    engine.credit_usdc(alice.address, 100_000)
    engine.credit_usdc(bob.address, 100_000)
    bob.order("ETH", False, "2500", "1")
    refused = alice.l1({"type": "scheduleCancel", "time": kit.T0 + 60_000})
    alice.order("ETH", True, "2500", "1", "Ioc")  # $2,500 of volume each side

    still_refused = alice.l1({"type": "scheduleCancel", "time": kit.T0 + 60_000})
    bob.order("ETH", False, "2500", "1")
    alice.order("ETH", True, "2500", "1", "Ioc")  # $5,000 in all
    accepted = alice.l1({"type": "scheduleCancel", "time": kit.T0 + 60_000})

    assert refused["response"] == VOLUME_GATE_TEXT
    assert still_refused["response"] == VOLUME_GATE_TEXT
    assert accepted["status"] == "ok"


def test_a_zero_volume_gate_accepts_a_fresh_account(kit: Any, alice: Any) -> None:
    engine = SimEngine(list(DEFAULT_COINS.values()), schedule_cancel_min_volume_usd=0.0)
    alice.engine = engine
    engine.credit_usdc(alice.address, 1_000)

    assert alice.l1({"type": "scheduleCancel", "time": kit.T0 + 60_000})["status"] == "ok"


def test_a_negative_volume_gate_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="schedule_cancel_min_volume_usd"):
        SimEngine(list(DEFAULT_COINS.values()), schedule_cancel_min_volume_usd=-1.0)
