"""Account actions: leverage, isolated margin, agents and USD class transfers."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.engine import SimEngine


def _state(kit: Any, engine: SimEngine, user: str) -> dict[str, Any]:
    result: dict[str, Any] = engine.info({"type": "clearinghouseState", "user": user}, kit.T0)
    return result


def test_update_leverage_changes_margin_used(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    lev = alice.l1({"type": "updateLeverage", "asset": 1, "isCross": True, "leverage": 5})
    bob.order("ETH", False, "2500", "1")
    alice.order("ETH", True, "2500", "1", "Ioc")

    position = _state(kit, engine, alice.address)["assetPositions"][0]["position"]

    assert lev == {"status": "ok", "response": {"type": "default"}}
    assert position["leverage"] == {"type": "cross", "value": 5}
    assert position["marginUsed"] == "500.0"  # $2500 / 5
    too_high = alice.l1({"type": "updateLeverage", "asset": 1, "isCross": True, "leverage": 26})
    assert too_high["status"] == "err"


def test_isolated_position_holds_its_own_margin_and_accepts_top_ups(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    alice.l1({"type": "updateLeverage", "asset": 1, "isCross": False, "leverage": 10})
    bob.order("ETH", False, "2500", "1")
    alice.order("ETH", True, "2500", "1", "Ioc")

    top_up = alice.l1(
        {"type": "updateIsolatedMargin", "asset": 1, "isBuy": True, "ntli": 100_000_000}
    )

    assert top_up["status"] == "ok"
    position = _state(kit, engine, alice.address)["assetPositions"][0]["position"]
    assert position["leverage"]["type"] == "isolated"
    assert position["marginUsed"] == "350.0"  # 250 initial + 100 added
    # Cross summary excludes the isolated margin; the total summary includes it.
    state = _state(kit, engine, alice.address)
    taker_fee = 2500 * 0.00045
    assert float(state["crossMarginSummary"]["accountValue"]) == pytest.approx(
        100_000 - 350 - taker_fee
    )
    assert float(state["marginSummary"]["accountValue"]) == pytest.approx(100_000 - taker_fee)


def test_new_unnamed_agent_replaces_the_previous_one(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    old = kit.Trader(engine, "0x" + "a7" * 32)
    new = kit.Trader(engine, "0x" + "a8" * 32)
    named = kit.Trader(engine, "0x" + "a9" * 32)
    alice.approve_agent(old.address)
    alice.approve_agent(named.address, "bot1", kit.T0 + 1)

    alice.approve_agent(new.address, now_ms=kit.T0 + 2)

    assert old.order("ETH", True, "2400", "0.1", now_ms=kit.T0 + 3)["status"] == "err"
    assert new.order("ETH", True, "2400", "0.1", now_ms=kit.T0 + 3)["status"] == "ok"
    assert named.order("ETH", True, "2400", "0.1", now_ms=kit.T0 + 3)["status"] == "ok"


def test_usd_class_transfer_moves_usdc_between_perp_and_spot(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    response = alice.usd_class_transfer("1500.5", False)

    assert response == {"status": "ok", "response": {"type": "default"}}
    spot = engine.info({"type": "spotClearinghouseState", "user": alice.address}, kit.T0)
    assert spot["balances"][0]["total"] == "1500.5"
    perp = engine.info({"type": "clearinghouseState", "user": alice.address}, kit.T0)
    assert perp["marginSummary"]["accountValue"] == "98499.5"
    back = alice.usd_class_transfer("500", True, kit.T0 + 1)
    assert back["status"] == "ok"
    perp = engine.info({"type": "clearinghouseState", "user": alice.address}, kit.T0)
    assert perp["marginSummary"]["accountValue"] == "98999.5"
