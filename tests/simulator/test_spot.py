"""Spot trading on the simulated venue: balances, holds, fees, the quote minimum, spot fills.

Orders are signed by the unmodified SDK (`Trader.l1`) and sent to a pure engine; the expected
numbers are worked out here from the venue's rules (spot base tier: 0.070% taker, 0.040% maker,
fees taken from the token received; $10 minimum in the quote token), not read from the engine.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulator.engine import SimEngine
from simulator.events import UserFill

PURR = 10_000  # asset id of PURR/USDC: 10000 + spot index 0
PURR_TOKEN = 1


def _spot_order(kit: Any, trader: Any, is_buy: bool, px: str, sz: str, tif: str = "Gtc") -> Any:
    wire = kit.order_wire(PURR, is_buy, px, sz, {"limit": {"tif": tif}})
    return kit.statuses(trader.l1({"type": "order", "orders": [wire], "grouping": "na"}))[0]


def _balances(engine: SimEngine, user: str) -> dict[str, dict[str, str]]:
    state = engine.info({"type": "spotClearinghouseState", "user": user}, 0)
    return {row["coin"]: row for row in state["balances"]}


@pytest.fixture
def spot_traders(engine: SimEngine, alice: Any, bob: Any, kit: Any) -> tuple[Any, Any]:
    """Alice holds 1,000 PURR (a seller); Bob moved 100 USDC to spot (a buyer)."""
    engine.accounts[alice.address].spot_tokens[PURR_TOKEN] = 1_000.0
    assert bob.usd_class_transfer("100", False)["status"] == "ok"
    return alice, bob


def test_spot_taker_buy_moves_both_balances_and_pays_the_fee_in_base(
    engine: SimEngine, spot_traders: tuple[Any, Any], kit: Any
) -> None:
    alice, bob = spot_traders
    assert "resting" in _spot_order(kit, alice, False, "0.25", "200")
    filled = _spot_order(kit, bob, True, "0.25", "200", tif="Ioc")
    assert filled["filled"]["totalSz"] == "200.0"
    # Bob pays 200 * 0.25 = 50 USDC, receives 200 PURR less 0.07% (0.14 PURR).
    bob_balances = _balances(engine, bob.address)
    assert float(bob_balances["USDC"]["total"]) == pytest.approx(50.0)
    assert float(bob_balances["PURR"]["total"]) == pytest.approx(199.86)
    # Alice (maker) gives 200 PURR, receives 50 USDC less 0.04% (0.02 USDC).
    alice_balances = _balances(engine, alice.address)
    assert float(alice_balances["PURR"]["total"]) == pytest.approx(800.0)
    assert float(alice_balances["USDC"]["total"]) == pytest.approx(49.98)
    fill = engine.info({"type": "userFills", "user": bob.address}, 0)[0]
    assert (fill["coin"], fill["dir"], fill["feeToken"], fill["crossed"]) == (
        "PURR/USDC",
        "Buy",
        "PURR",
        True,
    )
    assert float(fill["fee"]) == pytest.approx(0.14)
    maker_fill = engine.info({"type": "userFills", "user": alice.address}, 0)[0]
    assert (maker_fill["dir"], maker_fill["feeToken"]) == ("Sell", "USDC")
    assert float(maker_fill["fee"]) == pytest.approx(0.02)


def test_spot_trade_leaves_perp_accounts_alone(
    engine: SimEngine, spot_traders: tuple[Any, Any], kit: Any
) -> None:
    alice, bob = spot_traders
    perp_before = engine.accounts[bob.address].usdc
    _spot_order(kit, alice, False, "0.25", "200")
    _spot_order(kit, bob, True, "0.25", "200", tif="Ioc")
    assert engine.accounts[bob.address].usdc == perp_before
    state = engine.info({"type": "clearinghouseState", "user": bob.address}, 0)
    assert state["assetPositions"] == []


def test_spot_minimum_is_ten_of_the_quote_token(
    engine: SimEngine, spot_traders: tuple[Any, Any], kit: Any
) -> None:
    _alice, bob = spot_traders
    status = _spot_order(kit, bob, True, "0.2", "49")  # 9.8 USDC
    assert status == {"error": "Order must have minimum value of 10 USDC. asset=10000"}
    assert "resting" in _spot_order(kit, bob, True, "0.2", "50")  # exactly 10 USDC


def test_resting_spot_bid_holds_its_quote_notional(
    engine: SimEngine, spot_traders: tuple[Any, Any], kit: Any
) -> None:
    _alice, bob = spot_traders
    assert "resting" in _spot_order(kit, bob, True, "0.2", "300")  # holds 60 USDC
    usdc = _balances(engine, bob.address)["USDC"]
    assert (float(usdc["total"]), float(usdc["hold"])) == (100.0, 60.0)
    # What the bid holds can neither be spent again nor moved back to perps.
    status = _spot_order(kit, bob, True, "0.2", "250")  # 50 USDC > 40 free
    assert status == {
        "error": "(Spot-only) Order has insufficient spot balance to trade asset=10000"
    }
    assert bob.usd_class_transfer("50", True) == {
        "status": "err",
        "response": "Insufficient balance for transfer.",
    }
    assert bob.usd_class_transfer("40", True)["status"] == "ok"


def test_spot_sell_needs_the_base_token(
    engine: SimEngine, spot_traders: tuple[Any, Any], kit: Any
) -> None:
    _alice, bob = spot_traders
    status = _spot_order(kit, bob, False, "0.3", "100")
    assert status == {
        "error": "(Spot-only) Order has insufficient spot balance to trade asset=10000"
    }


def test_spot_orders_cannot_be_reduce_only(
    engine: SimEngine, spot_traders: tuple[Any, Any], kit: Any
) -> None:
    alice, _bob = spot_traders
    wire = kit.order_wire(PURR, False, "0.3", "100", {"limit": {"tif": "Gtc"}}, True)
    status = kit.statuses(alice.l1({"type": "order", "orders": [wire], "grouping": "na"}))[0]
    assert status == {"error": "Reduce only order would increase position. asset=10000"}


def test_spot_fills_reach_the_user_streams_and_the_book_views(
    engine: SimEngine, spot_traders: tuple[Any, Any], kit: Any
) -> None:
    alice, bob = spot_traders
    _spot_order(kit, alice, False, "0.25", "200")
    book = engine.info({"type": "l2Book", "coin": "PURR/USDC"}, 0)
    assert book["levels"][1][0] == {"px": "0.25", "sz": "200.0", "n": 1}
    engine.drain_events()
    _spot_order(kit, bob, True, "0.25", "100", tif="Ioc")
    fills = [e for e in engine.drain_events() if isinstance(e, UserFill)]
    assert {(e.user, e.fill["coin"]) for e in fills} == {
        (alice.address, "PURR/USDC"),
        (bob.address, "PURR/USDC"),
    }
    trades = engine.info({"type": "recentTrades", "coin": "PURR/USDC"}, 0)
    assert trades[0]["px"] == "0.25" and trades[0]["sz"] == "100.0"
    assert engine.all_mids()["PURR/USDC"] == "0.25"  # one-sided book: the last trade


def test_selling_spot_realises_pnl_against_the_entry(
    engine: SimEngine, spot_traders: tuple[Any, Any], kit: Any
) -> None:
    alice, bob = spot_traders
    _spot_order(kit, alice, False, "0.25", "200")
    _spot_order(kit, bob, True, "0.25", "200", tif="Ioc")  # bob: 199.86 PURR for 50 USDC
    _spot_order(kit, alice, True, "0.3", "100")
    _spot_order(kit, bob, False, "0.3", "100", tif="Ioc")
    sell = engine.info({"type": "userFills", "user": bob.address}, 0)[0]
    entry_part = 50.0 * 100 / 199.86
    assert float(sell["closedPnl"]) == pytest.approx(30.0 - entry_part, abs=1e-6)
    assert float(sell["startPosition"]) == pytest.approx(199.86)


def test_resting_spot_order_reserves_no_perp_margin(
    engine: SimEngine, spot_traders: tuple[Any, Any], kit: Any
) -> None:
    _alice, bob = spot_traders
    before = engine.info({"type": "clearinghouseState", "user": bob.address}, 0)["withdrawable"]
    assert "resting" in _spot_order(kit, bob, True, "0.2", "300")
    after = engine.info({"type": "clearinghouseState", "user": bob.address}, 0)["withdrawable"]
    assert after == before
