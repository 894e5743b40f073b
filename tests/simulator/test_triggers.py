"""Trigger orders on the mark price, normal TP/SL children and position TP/SL."""

from __future__ import annotations

from typing import Any

from simulator.engine import SimEngine


def _open_long(kit: Any, engine: SimEngine, trader: Any, maker: Any, sz: str) -> None:
    maker.order("ETH", False, "2500", sz)
    kit.statuses(trader.order("ETH", True, "2500", sz, "Ioc"))


def _position(kit: Any, engine: SimEngine, user: str) -> str | None:
    state = engine.info({"type": "clearinghouseState", "user": user}, kit.T0)
    positions = state["assetPositions"]
    return positions[0]["position"]["szi"] if positions else None


def test_stop_market_fires_when_the_mark_crosses_not_before(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    _open_long(kit, engine, alice, bob, "1")
    bob.order("ETH", True, "2390", "5")  # liquidity for the stop
    stop = kit.order_wire(1, False, "2200", "1", kit.trigger_type("2400", "sl"), True)
    oid = kit.statuses(alice.l1({"type": "order", "orders": [stop], "grouping": "na"}))[0][
        "resting"
    ]["oid"]
    frontend = engine.info({"type": "frontendOpenOrders", "user": alice.address}, kit.T0)[0]
    assert frontend["orderType"] == "Stop Market"
    assert frontend["triggerCondition"] == "Price below 2400"
    assert frontend["isTrigger"] is True and frontend["tif"] is None

    engine.set_mark_px("ETH", 2401.0, kit.T0 + 1)
    engine.tick(kit.T0 + 1)
    assert _position(kit, engine, alice.address) == "1.0"

    engine.set_mark_px("ETH", 2399.0, kit.T0 + 2)
    engine.tick(kit.T0 + 2)

    assert _position(kit, engine, alice.address) is None
    fill = engine.info({"type": "userFills", "user": alice.address}, kit.T0)[0]
    assert (fill["oid"], fill["px"], fill["dir"]) == (oid, "2390.0", "Close Long")
    status = engine.info({"type": "orderStatus", "user": alice.address, "oid": oid}, kit.T0)
    assert status["order"]["status"] == "filled"


def test_take_profit_limit_becomes_a_resting_limit_when_triggered(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    _open_long(kit, engine, alice, bob, "1")
    tp = kit.order_wire(1, False, "2700", "1", kit.trigger_type("2650", "tp", False), True)
    oid = kit.statuses(alice.l1({"type": "order", "orders": [tp], "grouping": "na"}))[0]["resting"][
        "oid"
    ]
    assert engine.l2_book("ETH")["levels"][1] == []

    engine.set_mark_px("ETH", 2650.0, kit.T0 + 1)
    engine.tick(kit.T0 + 1)

    assert engine.l2_book("ETH")["levels"][1] == [{"px": "2700.0", "sz": "1.0", "n": 1}]
    (order,) = engine.info({"type": "frontendOpenOrders", "user": alice.address}, kit.T0)
    assert order["oid"] == oid and order["orderType"] == "Take Profit Limit"


def test_normal_tpsl_children_wait_for_the_parent_then_activate(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    parent = kit.order_wire(1, True, "2500", "1", {"limit": {"tif": "Gtc"}})
    tp = kit.order_wire(1, False, "2600", "1", kit.trigger_type("2650", "tp"), True)
    sl = kit.order_wire(1, False, "2300", "1", kit.trigger_type("2400", "sl"), True)

    response = alice.l1({"type": "order", "orders": [parent, tp, sl], "grouping": "normalTpsl"})

    result = kit.statuses(response)
    assert "resting" in result[0]
    assert result[1:] == ["waitingForFill", "waitingForFill"]
    (listed_parent,) = [
        o
        for o in engine.info({"type": "frontendOpenOrders", "user": alice.address}, kit.T0)
        if not o["isTrigger"]
    ]
    assert [c["orderType"] for c in listed_parent["children"]] == [
        "Take Profit Market",
        "Stop Market",
    ]
    # The mark crossing a waiting child's trigger does nothing before the parent fills.
    engine.set_mark_px("ETH", 2399.0, kit.T0 + 1)
    engine.tick(kit.T0 + 1)
    assert _position(kit, engine, alice.address) is None

    bob.order("ETH", False, "2500", "1", "Ioc", now_ms=kit.T0 + 2)
    assert _position(kit, engine, alice.address) == "1.0"
    bob.order("ETH", True, "2390", "5", now_ms=kit.T0 + 2)
    engine.set_mark_px("ETH", 2399.0, kit.T0 + 3)
    engine.tick(kit.T0 + 3)

    assert _position(kit, engine, alice.address) is None
    history = engine.info({"type": "historicalOrders", "user": alice.address}, kit.T0)
    by_type = {h["order"]["orderType"]: h["status"] for h in history}
    assert by_type["Stop Market"] == "filled"
    assert by_type["Take Profit Market"] == "siblingFilledCanceled"


def test_normal_tpsl_with_an_immediately_filled_parent_answers_waiting_for_trigger(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    bob.order("ETH", False, "2500", "1")
    parent = kit.order_wire(1, True, "2500", "1", {"limit": {"tif": "Gtc"}})
    tp = kit.order_wire(1, False, "2600", "1", kit.trigger_type("2650", "tp"), True)
    sl = kit.order_wire(1, False, "2300", "1", kit.trigger_type("2400", "sl"), True)

    response = alice.l1({"type": "order", "orders": [parent, tp, sl], "grouping": "normalTpsl"})

    result = kit.statuses(response)
    assert result[0]["filled"]["totalSz"] == "1.0"
    assert result[1:] == ["waitingForTrigger", "waitingForTrigger"]
    triggers = engine.info({"type": "frontendOpenOrders", "user": alice.address}, kit.T0)
    assert sorted(o["orderType"] for o in triggers) == ["Stop Market", "Take Profit Market"]


def test_position_tpsl_resizes_with_the_position(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    _open_long(kit, engine, alice, bob, "1")
    sl = kit.order_wire(1, False, "2200", "1", kit.trigger_type("2400", "sl"), True)
    alice.l1({"type": "order", "orders": [sl], "grouping": "positionTpsl"})

    _open_long(kit, engine, alice, bob, "2")

    (order,) = engine.info({"type": "frontendOpenOrders", "user": alice.address}, kit.T0)
    assert order["isPositionTpsl"] is True
    assert order["sz"] == "3.0"
    bob.order("ETH", True, "2390", "10")
    engine.set_mark_px("ETH", 2399.0, kit.T0 + 1)
    engine.tick(kit.T0 + 1)
    assert _position(kit, engine, alice.address) is None
    fill = engine.info({"type": "userFills", "user": alice.address}, kit.T0)[0]
    assert fill["sz"] == "3.0"


def test_closing_the_position_cancels_its_position_tpsl(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    _open_long(kit, engine, alice, bob, "1")
    tp = kit.order_wire(1, False, "2800", "1", kit.trigger_type("2700", "tp"), True)
    oid = kit.statuses(alice.l1({"type": "order", "orders": [tp], "grouping": "positionTpsl"}))[0][
        "resting"
    ]["oid"]
    bob.order("ETH", True, "2500", "1")

    alice.order("ETH", False, "2500", "1", "Ioc", reduce_only=True)

    assert engine.info({"type": "frontendOpenOrders", "user": alice.address}, kit.T0) == []
    status = engine.info({"type": "orderStatus", "user": alice.address, "oid": oid}, kit.T0)
    assert status["order"]["status"] == "siblingFilledCanceled"
