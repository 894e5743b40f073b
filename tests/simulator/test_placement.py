"""Order placement: the venue's rejection rules, resting and IOC outcomes."""

from __future__ import annotations

from typing import Any

from simulator.engine import SimEngine


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
