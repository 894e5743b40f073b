"""Hourly funding: the rate from the premium and payments between longs and shorts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jarvis.testkit import VENUE_CAPTURES
from simulator.engine import SimEngine
from simulator.events import UserFunding
from simulator.funding import impact_price
from simulator.funding import predicted_fundings
from simulator.funding import premium_sample
from simulator.funding import rate_from_premium
from simulator.specs import DEFAULT_COINS

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


# --- the venue's rule: 5 s premium samples averaged over the hour (hand-computed values) ----

MAKER = "0x" + "4d" * 20
LONG = "0x" + "1e" * 20


@pytest.mark.parametrize(
    ("avg_premium", "hourly_rate"),
    [
        (0.0, 0.0000125),  # interest only: 0.0001 / 8
        (0.0003, 0.0000125),  # inside the clamp: F = 0.0003 - 0.0002 = 0.0001
        (0.004, 0.0004375),  # F = 0.004 - 0.0005 = 0.0035; / 8
        (-0.01, -0.0011875),  # F = -0.01 + 0.0005 = -0.0095; / 8
        (0.5, 0.04),  # F / 8 = 0.0624375, capped at 4 % an hour
        (-0.5, -0.04),
    ],
)
def test_hourly_rate_from_an_average_premium(avg_premium: float, hourly_rate: float) -> None:
    assert rate_from_premium(avg_premium) == pytest.approx(hourly_rate, abs=1e-15)


def _hour_engine() -> tuple[SimEngine, int]:
    """A fresh engine whose first tick is at the top of an hour, with funded participants."""
    engine = SimEngine(list(DEFAULT_COINS.values()))
    start = (1_760_000_000_000 // HOUR + 1) * HOUR
    engine.credit_usdc(MAKER, 10_000_000.0)
    engine.credit_usdc(LONG, 100_000.0)
    engine.set_oracle_px("ETH", 2500.0, start)
    return engine, start


def test_premium_is_the_impact_price_difference_over_the_oracle() -> None:
    engine, start = _hour_engine()
    engine.place_internal_order(MAKER, "ETH", True, 2510.0, 10.0, now_ms=start)  # $25,100
    engine.place_internal_order(MAKER, "ETH", False, 2520.0, 10.0, now_ms=start)

    # impact bid 2510 (the whole $20,000 fills at 2510), impact ask 2520 above the oracle:
    # premium = (2510 - 2500) / 2500 = 0.004; F = 0.0035; hourly 0.0004375
    assert premium_sample(engine.markets["ETH"]) == pytest.approx(0.004)
    assert engine.asset_ctx("ETH")["premium"] == "0.004"
    assert engine.asset_ctx("ETH")["funding"] == "0.0004375"


def test_impact_price_averages_across_levels_up_to_the_coins_notional() -> None:
    engine, start = _hour_engine()
    engine.set_oracle_px("SOL", 150.0, start)
    engine.place_internal_order(MAKER, "ETH", True, 2510.0, 4.0, now_ms=start)  # $10,040
    engine.place_internal_order(MAKER, "ETH", True, 2500.0, 10.0, now_ms=start)
    engine.place_internal_order(MAKER, "SOL", True, 151.0, 30.0, now_ms=start)  # $4,530
    engine.place_internal_order(MAKER, "SOL", True, 150.5, 100.0, now_ms=start)

    # ETH sells $20,000: 4 at 2510, then $9,960 at 2500 (3.984 ETH)
    eth = 20_000 / (4 + 9_960 / 2500)
    # SOL's impact notional is $6,000: 30 at 151, then $1,470 at 150.5
    sol = 6_000 / (30 + 1_470 / 150.5)
    assert impact_price(engine.markets["ETH"], True, 20_000.0) == pytest.approx(eth)
    assert impact_price(engine.markets["SOL"], True, 6_000.0) == pytest.approx(sol)
    assert premium_sample(engine.markets["ETH"]) == pytest.approx((eth - 2500) / 2500)
    assert premium_sample(engine.markets["SOL"]) == pytest.approx((sol - 150) / 150)


def test_an_ask_below_the_oracle_gives_a_negative_premium() -> None:
    engine, start = _hour_engine()
    engine.place_internal_order(MAKER, "ETH", False, 2490.0, 10.0, now_ms=start)

    # no bids; premium = -(2500 - 2490) / 2500 = -0.004; F = -0.004 + 0.0005; / 8
    assert premium_sample(engine.markets["ETH"]) == pytest.approx(-0.004)
    assert engine.asset_ctx("ETH")["funding"] == "-0.0004375"


def test_funding_averages_the_hours_samples_and_moves_gradually_after_a_switch() -> None:
    engine, start = _hour_engine()
    bid = engine.place_internal_order(MAKER, "ETH", True, 2510.0, 10.0, now_ms=start)
    engine.place_internal_order(MAKER, "ETH", False, 2520.0, 11.0, now_ms=start)
    engine.place_internal_order(LONG, "ETH", True, 2520.0, 1.0, "Ioc", now_ms=start)  # long 1
    engine.tick(start)  # the sample at the top of the hour: premium 0.004
    engine.tick(start + 1_800_000 - 1)  # 359 more samples at 0.004 (5 s apart)

    # The switch: the bid drops below the oracle, so each new sample is 0 ...
    engine.cancel_internal(MAKER, "ETH", bid["resting"]["oid"], start + 1_800_000 - 1)
    engine.place_internal_order(MAKER, "ETH", True, 2490.0, 10.0, now_ms=start + 1_800_000 - 1)
    ctx = engine.asset_ctx("ETH")
    # ... but funding is still the average of the hour so far: 0.004 -> 0.0004375
    assert ctx["premium"] == "0.0"
    assert ctx["funding"] == "0.0004375"

    engine.tick(start + HOUR - 1)  # 360 samples at 0: the average is now 0.002
    assert engine.asset_ctx("ETH")["funding"] == "0.0001875"  # (0.002 - 0.0005) / 8
    engine.drain_events()
    engine.tick(start + HOUR)

    # the hour pays -szi * oracle * rate = -1 * 2500 * 0.0001875
    payments = {
        (e.user, e.funding["coin"]): (e.funding["usdc"], e.funding["fundingRate"])
        for e in engine.drain_events()
        if isinstance(e, UserFunding)
    }
    assert payments[(LONG, "ETH")] == ("-0.46875", "0.0001875")
    assert payments[(MAKER, "ETH")] == ("0.46875", "0.0001875")  # the short side receives
    query = {"type": "fundingHistory", "coin": "ETH", "startTime": start}
    history = engine.info(query, start + HOUR)
    assert history == [
        {"coin": "ETH", "fundingRate": "0.0001875", "premium": "0.002", "time": start + HOUR}
    ]
    funding = engine.info({"type": "userFunding", "user": LONG, "startTime": start}, start + HOUR)
    assert funding[0]["delta"]["usdc"] == "-0.46875"
    # the new hour starts from its own first sample (premium 0): the neutral rate
    assert engine.asset_ctx("ETH")["funding"] == "0.0000125"


def test_a_clock_jump_settles_every_hour_it_passed() -> None:
    engine, start = _hour_engine()
    engine.place_internal_order(MAKER, "ETH", True, 2510.0, 10.0, now_ms=start)
    engine.tick(start)

    engine.tick(start + 3 * HOUR + 1)

    query = {"type": "fundingHistory", "coin": "ETH", "startTime": 0}
    history = engine.info(query, start + 3 * HOUR + 1)
    assert [(r["time"], r["fundingRate"]) for r in history] == [
        (start + HOUR, "0.0004375"),
        (start + 2 * HOUR, "0.0004375"),
        (start + 3 * HOUR, "0.0004375"),
    ]


def test_predicted_fundings_carry_the_current_hours_rate_and_next_funding_time() -> None:
    engine, start = _hour_engine()
    engine.place_internal_order(MAKER, "ETH", True, 2510.0, 10.0, now_ms=start)
    engine.tick(start)

    predicted = dict(predicted_fundings(engine, start + 60_000))

    assert predicted["ETH"] == [
        [
            "HlPerp",
            {
                "fundingRate": "0.0004375",
                "nextFundingTime": start + HOUR,
                "fundingIntervalHours": 1,
            },
        ]
    ]
    assert predicted["BTC"][0][1]["fundingRate"] == "0.0000125"
    capture = json.loads((VENUE_CAPTURES / "info_predictedFundings_excerpt.json").read_text())
    hl_entry = dict(capture[0][1])["HlPerp"]
    assert set(predicted["ETH"][0][1]) == set(hl_entry)
