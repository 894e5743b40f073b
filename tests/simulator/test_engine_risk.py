"""Leverage, margin modes, funding and liquidations on the simulated venue."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.engine import LIQUIDATOR_ADDRESS
from simulator.engine import SimEngine
from simulator.events import TradePrint
from simulator.events import UserFunding
from simulator.events import UserLiquidation

HOUR = 3_600_000


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


def test_hourly_funding_longs_pay_shorts_when_rate_is_positive(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    bob.order("ETH", False, "2500", "2")
    alice.order("ETH", True, "2500", "2", "Ioc")
    engine.set_funding_rate("ETH", 0.0001)
    engine.set_oracle_px("ETH", 2400.0, kit.T0)
    engine.drain_events()
    next_hour = (kit.T0 // HOUR + 1) * HOUR

    engine.tick(next_hour - 1)
    assert engine.drain_events() == []
    engine.tick(next_hour + 5)

    fundings = {e.user: e.funding for e in engine.drain_events() if isinstance(e, UserFunding)}
    # szi * oraclePx * rate = 2 * 2400 * 0.0001 = 0.48
    assert fundings[alice.address]["usdc"] == "-0.48"
    assert fundings[bob.address]["usdc"] == "0.48"
    assert fundings[alice.address]["time"] == next_hour
    assert fundings[alice.address]["fundingRate"] == "0.0001"
    rows = engine.info(
        {"type": "userFunding", "user": alice.address, "startTime": kit.T0}, next_hour + 5
    )
    assert rows[0]["delta"]["usdc"] == "-0.48" and rows[0]["delta"]["type"] == "funding"
    history = engine.info(
        {"type": "fundingHistory", "coin": "ETH", "startTime": kit.T0}, next_hour + 5
    )
    assert [(r["time"], r["fundingRate"]) for r in history] == [(next_hour, "0.0001")]


def test_default_funding_rate_is_the_venue_baseline_when_mark_equals_oracle(
    kit: Any, engine: SimEngine
) -> None:
    rate, premium = engine.current_funding_rate("BTC")

    assert premium == 0.0
    assert rate == pytest.approx(0.0000125)
    assert engine.asset_ctx("BTC")["funding"] == "0.0000125"


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


def test_open_interest_is_the_sum_of_long_positions(
    kit: Any, engine: SimEngine, alice: Any, bob: Any, carol: Any
) -> None:
    bob.order("SOL", False, "150", "5")
    alice.order("SOL", True, "150", "3", "Ioc")
    carol.order("SOL", True, "150", "2", "Ioc")

    assert engine.asset_ctx("SOL")["openInterest"] == "5.0"
    alice.order("SOL", False, "150", "1")
    carol.order("SOL", True, "150", "1", "Ioc")  # a long moves from alice to carol
    assert engine.asset_ctx("SOL")["openInterest"] == "5.0"
