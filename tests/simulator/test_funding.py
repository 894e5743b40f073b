"""Hourly funding: the rate from the premium and payments between longs and shorts."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.engine import SimEngine
from simulator.events import UserFunding

HOUR = 3_600_000


def _state(kit: Any, engine: SimEngine, user: str) -> dict[str, Any]:
    result: dict[str, Any] = engine.info({"type": "clearinghouseState", "user": user}, kit.T0)
    return result


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
