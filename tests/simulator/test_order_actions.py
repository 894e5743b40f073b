"""Order actions: batches of orders, cancels, modifies and the dead-man switch."""

from __future__ import annotations

from typing import Any

from simulator.engine import SimEngine
from simulator.events import NonUserCancel

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
    too_soon = alice.l1({"type": "scheduleCancel", "time": kit.T0 + 1_000})
    alice.l1({"type": "scheduleCancel", "time": kit.T0 + 10_000})
    alice.order("ETH", True, "2400", "0.1")

    cleared = alice.l1({"type": "scheduleCancel"})
    engine.tick(kit.T0 + 20_000)

    assert too_soon["status"] == "err"
    assert cleared["status"] == "ok"
    assert len(engine.open_orders_of(alice.address)) == 1
