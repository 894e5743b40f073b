"""Matching and fills: prices, fees, priority, self-trades, PnL and order updates."""

from __future__ import annotations

from typing import Any

from simulator.engine import SimEngine
from simulator.events import BookChanged
from simulator.events import NonUserCancel
from simulator.events import OrderUpdate
from simulator.events import TradePrint
from simulator.events import UserFill


def test_crossing_order_fills_at_maker_price_with_taker_and_maker_fees(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    alice.order("ETH", False, "2500", "1.0")
    engine.drain_events()

    response = bob.order("ETH", True, "2510", "0.4", "Ioc")

    filled = kit.statuses(response)[0]["filled"]
    assert filled["totalSz"] == "0.4"
    assert filled["avgPx"] == "2500.0"
    bob_fill = engine.info({"type": "userFills", "user": bob.address}, kit.T0)[0]
    alice_fill = engine.info({"type": "userFills", "user": alice.address}, kit.T0)[0]
    # 0.4 * 2500 = $1000 notional: taker 0.045% = 0.45, maker 0.015% = 0.15.
    assert (bob_fill["fee"], bob_fill["crossed"], bob_fill["dir"]) == ("0.45", True, "Open Long")
    assert (alice_fill["fee"], alice_fill["crossed"], alice_fill["dir"]) == (
        "0.15",
        False,
        "Open Short",
    )
    assert bob_fill["tid"] == alice_fill["tid"]
    assert bob_fill["hash"] == alice_fill["hash"]
    assert "cloid" not in bob_fill
    events = engine.drain_events()
    trades = [e for e in events if isinstance(e, TradePrint)]
    assert len(trades) == 1
    assert trades[0].trade["users"] == [bob.address, alice.address]
    assert trades[0].trade["side"] == "B"
    assert any(isinstance(e, BookChanged) for e in events)
    # The partially filled maker keeps resting with its remaining size.
    assert engine.l2_book("ETH")["levels"][1] == [{"px": "2500.0", "sz": "0.6", "n": 1}]


def test_partial_fill_then_rest_and_price_time_priority(
    kit: Any, engine: SimEngine, alice: Any, bob: Any, carol: Any
) -> None:
    first = kit.statuses(alice.order("SOL", False, "150", "1.0"))[0]["resting"]["oid"]
    second = kit.statuses(carol.order("SOL", False, "150", "1.0"))[0]["resting"]["oid"]
    better = kit.statuses(carol.order("SOL", False, "149.5", "0.5"))[0]["resting"]["oid"]

    response = bob.order("SOL", True, "150", "3.0")

    oid = kit.statuses(response)[0]["resting"]["oid"]
    fills = engine.info({"type": "userFills", "user": bob.address}, kit.T0)
    # Newest first: best price first, then the earlier order at 150, then the later one.
    assert [(f["px"], f["sz"]) for f in reversed(fills)] == [
        ("149.5", "0.5"),
        ("150.0", "1.0"),
        ("150.0", "1.0"),
    ]
    alice_fills = engine.info({"type": "userFills", "user": alice.address}, kit.T0)
    carol_fills = engine.info({"type": "userFills", "user": carol.address}, kit.T0)
    assert [f["oid"] for f in alice_fills] == [first]
    assert [f["oid"] for f in reversed(carol_fills)] == [better, second]
    assert engine.open_orders_of(alice.address) == []
    assert engine.open_orders_of(carol.address) == []
    remaining = engine.open_orders_of(bob.address)
    assert [(o["oid"], o["sz"], o["origSz"]) for o in remaining] == [(oid, "0.5", "3.0")]
    assert engine.l2_book("SOL")["levels"] == [[{"px": "150.0", "sz": "0.5", "n": 1}], []]


def test_reduce_only_larger_than_position_only_closes_it(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    bob.order("ETH", False, "2500", "0.5")
    alice.order("ETH", True, "2500", "0.2", "Ioc")
    bob.order("ETH", True, "2490", "1.0")

    response = alice.order("ETH", False, "2490", "0.5", "Ioc", reduce_only=True)

    assert kit.statuses(response)[0]["filled"]["totalSz"] == "0.2"
    state = engine.info({"type": "clearinghouseState", "user": alice.address}, kit.T0)
    assert state["assetPositions"] == []


def test_self_trade_cancels_the_resting_order_without_a_fill(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    own = kit.statuses(alice.order("ETH", False, "2500", "0.1"))[0]["resting"]["oid"]
    bob.order("ETH", False, "2501", "0.1")
    engine.drain_events()

    response = alice.order("ETH", True, "2501", "0.1", "Ioc")

    assert kit.statuses(response)[0]["filled"]["avgPx"] == "2501.0"
    status = engine.info({"type": "orderStatus", "user": alice.address, "oid": own}, kit.T0)
    assert status["order"]["status"] == "selfTradeCanceled"
    fills = engine.info({"type": "userFills", "user": alice.address}, kit.T0)
    assert [f["oid"] for f in fills] == [kit.statuses(response)[0]["filled"]["oid"]]
    events = engine.drain_events()
    assert NonUserCancel(alice.address, [{"coin": "ETH", "oid": own}]) in events
    assert len([e for e in events if isinstance(e, TradePrint)]) == 1


def test_cloid_is_echoed_in_fills_and_order_lookup(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    cloid = "0x0000000000000000000000000000002a"
    bob.order("BTC", False, "80000", "0.001")

    response = alice.order("BTC", True, "80000", "0.001", cloid=cloid)

    oid = kit.statuses(response)[0]["filled"]["oid"]
    fill = engine.info({"type": "userFills", "user": alice.address}, kit.T0)[0]
    assert fill["cloid"] == cloid
    by_cloid = engine.info({"type": "orderStatus", "user": alice.address, "oid": cloid}, kit.T0)
    assert by_cloid["order"]["order"]["oid"] == oid
    assert by_cloid["order"]["status"] == "filled"


def test_order_updates_report_open_then_filled_for_a_taker(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    bob.order("SOL", False, "150", "1")
    engine.drain_events()

    alice.order("SOL", True, "150", "1", "Ioc")

    updates = [e.update for e in engine.drain_events() if isinstance(e, OrderUpdate)]
    alice_updates = [u["status"] for u in updates if u["order"]["side"] == "B"]
    assert alice_updates == ["open", "filled"]
    assert [u["status"] for u in updates if u["order"]["side"] == "A"] == ["filled"]
    fills = [e for e in engine.drain_events() if isinstance(e, UserFill)]
    assert fills == []


def test_closing_fill_realises_pnl_and_flip_reports_direction(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    bob.order("ETH", False, "2000", "1")
    alice.order("ETH", True, "2000", "1", "Ioc")
    bob.order("ETH", True, "2100", "3")

    alice.order("ETH", False, "2100", "3", "Ioc")

    fill = engine.info({"type": "userFills", "user": alice.address}, kit.T0)[0]
    assert fill["dir"] == "Long > Short"
    assert fill["startPosition"] == "1.0"
    assert fill["closedPnl"] == "100.0"
    position = engine.info({"type": "clearinghouseState", "user": alice.address}, kit.T0)[
        "assetPositions"
    ][0]["position"]
    assert position["szi"] == "-2.0"
    assert position["entryPx"] == "2100.0"
