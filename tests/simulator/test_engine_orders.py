"""Order placement and matching on the simulated venue, driven by SDK-signed actions."""

from __future__ import annotations

from typing import Any

from simulator.engine import SimEngine
from simulator.events import BookChanged
from simulator.events import NonUserCancel
from simulator.events import OrderUpdate
from simulator.events import TradePrint
from simulator.events import UserFill


def test_gtc_order_rests_and_is_listed_as_open(kit: Any, engine: SimEngine, alice: Any) -> None:
    response = alice.order("BTC", True, "79000", "0.01")

    oid = kit.statuses(response)[0]["resting"]["oid"]
    assert response["response"]["type"] == "order"
    assert isinstance(oid, int)
    open_orders = engine.info({"type": "openOrders", "user": alice.address}, kit.T0)
    assert open_orders == [
        {
            "coin": "BTC",
            "side": "B",
            "limitPx": "79000.0",
            "sz": "0.01",
            "oid": oid,
            "timestamp": kit.T0,
            "origSz": "0.01",
        }
    ]
    book = engine.l2_book("BTC")
    assert book["levels"] == [[{"px": "79000.0", "sz": "0.01", "n": 1}], []]


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


def test_ioc_without_liquidity_is_rejected_with_venue_text(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    response = alice.order("BTC", True, "80000", "0.001", "Ioc")

    assert kit.statuses(response) == [
        {"error": "Order could not immediately match against any resting orders. asset=0"}
    ]
    history = engine.info({"type": "historicalOrders", "user": alice.address}, kit.T0)
    assert history[0]["status"] == "iocCancelRejected"


def test_post_only_order_that_would_cross_is_rejected_with_bbo_text(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    bob.order("BTC", True, "64143", "0.001")
    bob.order("BTC", False, "64144", "0.001")

    response = alice.order("BTC", True, "64144", "0.001", "Alo")

    assert kit.statuses(response) == [
        {"error": "Post only order would have immediately matched, bbo was 64143@64144. asset=0"}
    ]
    resting = alice.order("BTC", True, "64143", "0.001", "Alo")
    assert "resting" in kit.statuses(resting)[0]


def test_reduce_only_order_that_would_increase_position_is_rejected(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    assert kit.statuses(alice.order("ETH", True, "2500", "0.1", reduce_only=True)) == [
        {"error": "Reduce only order would increase position. asset=1"}
    ]
    bob.order("ETH", False, "2500", "0.1")
    alice.order("ETH", True, "2500", "0.1", "Ioc")
    # Long now: a reduce-only buy still increases it, a reduce-only sell is fine.
    assert kit.statuses(alice.order("ETH", True, "2400", "0.1", reduce_only=True)) == [
        {"error": "Reduce only order would increase position. asset=1"}
    ]
    assert "resting" in kit.statuses(alice.order("ETH", False, "2600", "0.1", reduce_only=True))[0]


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


def test_order_below_ten_dollars_is_rejected(kit: Any, engine: SimEngine, alice: Any) -> None:
    assert kit.statuses(alice.order("SOL", True, "150", "0.06")) == [
        {"error": "Order must have minimum value of $10. asset=2"}
    ]
    assert "resting" in kit.statuses(alice.order("SOL", True, "150", "0.07"))[0]


def test_price_and_size_validation_texts(kit: Any, engine: SimEngine, alice: Any) -> None:
    # BTC: szDecimals 5, so prices have at most 1 decimal and 5 significant figures.
    assert kit.statuses(alice.order("BTC", True, "79000.5", "0.001")) == [
        {"error": "Price must be divisible by tick size. asset=0"}
    ]
    assert kit.statuses(alice.order("BTC", True, "79000.55", "0.001")) == [
        {"error": "Order has invalid price."}
    ]
    assert kit.statuses(alice.order("BTC", True, "79000", "0.000001")) == [
        {"error": "Order has invalid size."}
    ]
    # Integers are valid whatever their significant figures; SOL (szDecimals 2) allows 4 decimals.
    assert "resting" in kit.statuses(alice.order("BTC", True, "123457", "0.001"))[0]
    assert "resting" in kit.statuses(alice.order("SOL", True, "30.123", "1"))[0]
    assert kit.statuses(alice.order("SOL", True, "30.1234", "1")) == [
        {"error": "Price must be divisible by tick size. asset=2"}
    ]


def test_order_beyond_margin_is_rejected(kit: Any, engine: SimEngine, bob: Any) -> None:
    poor = kit.Trader(engine, "0x" + "d4" * 32)
    engine.credit_usdc(poor.address, 100.0)

    # $100 at 20x supports $2000 of notional.
    ok = poor.order("ETH", True, "2000", "0.9")
    too_much = poor.order("ETH", True, "2000", "0.2")

    assert "resting" in kit.statuses(ok)[0]
    assert kit.statuses(too_much) == [{"error": "Insufficient margin to place order. asset=1"}]


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


def test_limit_order_too_far_from_the_oracle_is_rejected_with_the_venue_text(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    # BTC's oracle is 80000; the assumed band is 80%: below 16000 or above 144000 is refused.
    below = alice.order("BTC", True, "15000", "0.001", cloid="0x" + "01" * 16)
    above = alice.order("BTC", False, "145000", "0.001")

    assert kit.statuses(below) == [{"error": "Order price too far from oracle asset=0"}]
    assert kit.statuses(above) == [{"error": "Order price too far from oracle asset=0"}]
    status = engine.info(
        {"type": "orderStatus", "user": alice.address, "oid": "0x" + "01" * 16}, kit.T0
    )
    assert status["order"]["status"] == "oracleRejected"
    assert engine.info({"type": "openOrders", "user": alice.address}, kit.T0) == []


def test_limit_order_inside_the_oracle_band_is_accepted(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    low = alice.order("BTC", True, "16001", "0.001")
    high = alice.order("BTC", False, "143990", "0.001")

    assert "resting" in kit.statuses(low)[0]
    assert "resting" in kit.statuses(high)[0]
