"""Liquidation of accounts below maintenance margin."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.engine import LIQUIDATOR_ADDRESS
from simulator.engine import SimEngine
from simulator.events import TradePrint
from simulator.events import UserLiquidation


def _state(kit: Any, engine: SimEngine, user: str) -> dict[str, Any]:
    result: dict[str, Any] = engine.info({"type": "clearinghouseState", "user": user}, kit.T0)
    return result


def test_liquidation_when_the_mark_moves_against_a_leveraged_long(
    kit: Any, engine: SimEngine, alice: Any, bob: Any, carol: Any
) -> None:
    levered = kit.Trader(engine, "0x" + "1e" * 32)
    engine.credit_usdc(levered.address, 150.0)
    levered.l1({"type": "updateLeverage", "asset": 1, "isCross": True, "leverage": 25})
    bob.order("ETH", False, "2500", "1")
    kit.statuses(levered.order("ETH", True, "2500", "1", "Ioc"))
    carol.order("ETH", True, "2390", "0.4")  # some bids for the market liquidation
    state = _state(kit, engine, levered.address)
    liq_px = float(state["assetPositions"][0]["position"]["liquidationPx"])
    # Equity 148.875 after fees, maintenance at 25x max leverage: |szi| * m / 50.
    assert liq_px == pytest.approx((2500 - 148.875) / (1 - 1 / 50), rel=1e-6)
    engine.drain_events()

    engine.set_mark_px("ETH", liq_px + 1, kit.T0 + 1)
    engine.tick(kit.T0 + 1)
    assert _state(kit, engine, levered.address)["assetPositions"] != []

    engine.set_mark_px("ETH", liq_px - 1, kit.T0 + 2)
    engine.tick(kit.T0 + 2)

    assert _state(kit, engine, levered.address)["assetPositions"] == []
    events = engine.drain_events()
    liquidations = [e for e in events if isinstance(e, UserLiquidation)]
    assert [e.user for e in liquidations] == [levered.address]
    assert liquidations[0].liquidation["liquidated_user"] == levered.address
    fills = engine.info({"type": "userFills", "user": levered.address}, kit.T0)
    market_fill, backstop_fill = fills[1], fills[0]
    assert market_fill["liquidation"]["method"] == "market"
    assert (market_fill["px"], market_fill["sz"]) == ("2390.0", "0.4")
    assert backstop_fill["liquidation"]["method"] == "backstop"
    assert backstop_fill["sz"] == "0.6"
    assert {tuple(e.trade["users"]) for e in events if isinstance(e, TradePrint)} == {
        (carol.address, levered.address),
        (LIQUIDATOR_ADDRESS, levered.address),
    }
    carol_fill = engine.info({"type": "userFills", "user": carol.address}, kit.T0)[0]
    assert carol_fill["liquidation"]["liquidatedUser"] == levered.address
    # Open interest stays balanced: the liquidator now holds the long the book did not absorb.
    assert engine.asset_ctx("ETH")["openInterest"] == "1.0"
