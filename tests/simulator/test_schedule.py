"""A market that changes regime: schedules parse (or fail naming the part), phases follow venue
time, hand-overs are smooth (depth, premium, open interest, funding), runs are deterministic
per seed, and a cascade phase after a trend liquidates real leveraged accounts."""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
from typing import Any

import pytest

from simulator.app import SimConfig
from simulator.app import build_venue
from simulator.cli import scenario_schedule
from simulator.market import CASCADE_BUILD_END_MS
from simulator.market import CASCADE_SELLOFF_END_MS
from simulator.market import SCENARIOS
from simulator.market import conditions_of
from simulator.schedule import ScenarioSchedule
from simulator.schedule import parse_schedule
from simulator.server import SimVenue

STEP_MS = 250
START_MS = 1_700_000_000_000


def _schedule(text: str) -> ScenarioSchedule:
    return ScenarioSchedule(text, SCENARIOS, conditions_of, blend_cap_ms={"cascade": 10_000})


def _venue(scenario: str, seed: int = 7) -> SimVenue:
    config = SimConfig(
        stepped=True, scenario=scenario, seed=seed, step_ms=STEP_MS, start_ms=START_MS
    )
    venue = build_venue(config)
    venue.step(venue.clock.now_ms())
    return venue


def _run_until(venue: SimVenue, elapsed_ms: int) -> None:
    assert venue.market is not None and venue.market.start_ms is not None
    while venue.clock.now_ms() - venue.market.start_ms < elapsed_ms:
        venue.advance(1)


def _depth_usd(venue: SimVenue, coin: str, bps: float = 50.0) -> tuple[float, float]:
    bids, asks = venue.engine.l2_book(coin)["levels"]
    mid = (float(bids[0]["px"]) + float(asks[0]["px"])) / 2
    lo, hi = mid * (1 - bps / 10_000), mid * (1 + bps / 10_000)
    bid = sum(float(x["px"]) * float(x["sz"]) for x in bids if float(x["px"]) >= lo)
    ask = sum(float(x["px"]) * float(x["sz"]) for x in asks if float(x["px"]) <= hi)
    return bid, ask


def _ctx(venue: SimVenue, coin: str, key: str) -> float:
    return float(venue.engine.asset_ctx(coin)[key])


# --- parsing ---------------------------------------------------------------------------------


def test_a_schedule_parses_to_names_and_seconds() -> None:
    assert parse_schedule("quiet:600,trend:900,cascade:120,quiet:600") == [
        ("quiet", 600.0),
        ("trend", 900.0),
        ("cascade", 120.0),
        ("quiet", 600.0),
    ]
    assert parse_schedule("quiet") == [("quiet", None)]
    assert parse_schedule("quiet:30, trend") == [("quiet", 30.0), ("trend", None)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty phase"),
        ("quiet:60,,trend:60", "empty phase"),
        ("quiet,trend:60", "phase 'quiet' needs a duration"),
        ("quiet:abc", "duration of 'quiet:abc' is not a number"),
        ("quiet:0", "duration of 'quiet:0' must be > 0"),
        ("quiet:-5", "must be > 0"),
        ("quiet:60,sideways:60", "unknown scenario 'sideways'; valid: quiet, trend, cascade, thin"),
    ],
)
def test_a_bad_schedule_fails_naming_the_part(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _schedule(text)


def test_an_unknown_schedule_fails_when_the_simulator_is_built() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'calm'"):
        build_venue(SimConfig(stepped=True, scenario="quiet:10,calm:10"))


# --- phases and blending ---------------------------------------------------------------------


def test_phases_follow_venue_time_and_the_last_goes_on() -> None:
    schedule = _schedule("quiet:60,trend:90,cascade:30")
    assert [schedule.index_at(ms) for ms in (0, 59_999, 60_000, 149_999, 150_000, 10**9)] == [
        0,
        0,
        1,
        1,
        2,
        2,
    ]


def test_a_held_schedule_runs_its_first_phase_until_released_then_whole() -> None:
    config = SimConfig(
        stepped=True,
        scenario="quiet:10,trend:30",
        step_ms=STEP_MS,
        start_ms=START_MS,
        hold_schedule=True,
    )
    venue = build_venue(config)
    venue.step(venue.clock.now_ms())
    market = venue.market
    assert market is not None
    while venue.clock.now_ms() < START_MS + 25_000:  # held far beyond the first phase's 10 s
        venue.advance(1)
    assert market.scenario.name == "quiet"
    venue.release_schedule()
    released = venue.clock.now_ms()
    while venue.clock.now_ms() < released + 9_750:
        venue.advance(1)
    assert market.scenario.name == "quiet"  # its whole 10 s from the release
    while venue.clock.now_ms() < released + 10_000:
        venue.advance(1)
    assert market.scenario.name == "trend"
    assert market.phase_ms == 0


def test_only_a_held_schedule_can_be_released() -> None:
    venue = _venue("quiet:10,trend:30")
    with pytest.raises(ValueError, match="the schedule is not held"):
        venue.release_schedule()
    silent = build_venue(SimConfig(stepped=True, market=False, hold_schedule=True))
    with pytest.raises(ValueError, match="runs no market"):
        silent.release_schedule()


def test_conditions_move_smoothly_from_one_phase_to_the_next() -> None:
    schedule = _schedule("quiet:60,trend:600")
    quiet = conditions_of(SCENARIOS["quiet"], 0)
    trend = conditions_of(SCENARIOS["trend"], 0)
    path = [schedule.at(ms)[2] for ms in range(0, 120_000, STEP_MS)]
    assert path[0] == quiet and path[-1] == trend
    steps = [abs(b.bid_mult - a.bid_mult) for a, b in itertools.pairwise(path)]
    premium_steps = [abs(b.premium_bps - a.premium_bps) for a, b in itertools.pairwise(path)]
    # 30 s hand-over of 120 steps; smoothstep's steepest slope is 1.5x the average.
    total = abs(trend.bid_mult - quiet.bid_mult)
    assert max(steps) <= 1.5 * total / 120 + 0.011  # +0.01: the multipliers' rounding
    assert max(premium_steps) <= 1.5 * abs(trend.premium_bps) / 120 + 1e-9
    # Half-way through the hand-over the market is between the two.
    middle = schedule.at(75_000)[2]
    assert quiet.bid_mult < middle.bid_mult < trend.bid_mult


def test_a_cascade_after_a_trend_keeps_the_trend_market_until_its_sell_off() -> None:
    schedule = ScenarioSchedule(
        "trend:120,cascade:120",
        SCENARIOS,
        conditions_of,
        blend_cap_ms={"cascade": CASCADE_BUILD_END_MS},
        inherit_ms={"cascade": CASCADE_BUILD_END_MS},
    )
    trend_end = conditions_of(SCENARIOS["trend"], 120_000)
    for into in (0, 5_000, CASCADE_BUILD_END_MS - 1):
        index, _, cond = schedule.at(120_000 + into)
        assert index == 1 and cond == trend_end
    _, _, selloff = schedule.at(120_000 + CASCADE_BUILD_END_MS)
    assert selloff.selloff and selloff.drift_bps < 0


def test_after_the_sell_off_a_cascade_refills_the_book_it_had_then_hands_over() -> None:
    schedule = ScenarioSchedule(
        "trend:120,cascade:120",
        SCENARIOS,
        conditions_of,
        blend_cap_ms={"cascade": CASCADE_BUILD_END_MS},
        inherit_ms={"cascade": CASCADE_BUILD_END_MS},
        refill_ms={"cascade": CASCADE_SELLOFF_END_MS},
    )
    trend_end = conditions_of(SCENARIOS["trend"], 120_000)
    calm = conditions_of(SCENARIOS["cascade"], CASCADE_SELLOFF_END_MS)
    _, _, refilled = schedule.at(120_000 + CASCADE_SELLOFF_END_MS)
    # The depth the trend's makers showed (1.8x bids), the rest the cascade's own (no drift).
    assert (refilled.bid_mult, refilled.ask_mult) == (trend_end.bid_mult, trend_end.ask_mult)
    assert refilled.levels == trend_end.levels and not refilled.selloff
    assert refilled.drift_bps == calm.drift_bps
    _, _, middle = schedule.at(120_000 + CASCADE_SELLOFF_END_MS + 5_000)
    assert calm.bid_mult < middle.bid_mult < trend_end.bid_mult
    _, _, later = schedule.at(120_000 + CASCADE_SELLOFF_END_MS + 60_000)
    assert later == calm


def test_a_cascade_run_alone_is_unchanged_by_the_refill_rule() -> None:
    schedule = ScenarioSchedule("cascade", SCENARIOS, conditions_of, refill_ms={"cascade": 1})
    for into in (0, CASCADE_BUILD_END_MS, CASCADE_SELLOFF_END_MS, 90_000):
        assert schedule.at(into)[2] == conditions_of(SCENARIOS["cascade"], into)


def test_the_hand_over_into_a_cascade_ends_before_its_sell_off() -> None:
    schedule = _schedule("trend:120,cascade:120")
    _, into, cond = schedule.at(120_000 + CASCADE_BUILD_END_MS)
    assert into == CASCADE_BUILD_END_MS
    assert cond == conditions_of(SCENARIOS["cascade"], CASCADE_BUILD_END_MS)
    assert cond.selloff


def test_a_thin_book_recovers_gradually_not_at_once() -> None:
    schedule = _schedule("thin:60,quiet:600")
    end_of_thin = schedule.at(59_999)[2]
    first_of_quiet = schedule.at(60_000)[2]
    assert end_of_thin.bid_mult < 0.1
    assert first_of_quiet.bid_mult == pytest.approx(end_of_thin.bid_mult, abs=0.01)
    assert schedule.at(90_000)[2].bid_mult == 1.0


# --- on the venue ------------------------------------------------------------------------------


def _hand_over(blend_ms: int | None = None) -> tuple[list[float], list[float], list[float]]:
    """BTC bid depth (2 s means), open interest and funding around quiet -> trend at 30 s."""
    venue = _venue("quiet:30,trend:300")
    assert venue.market is not None
    if blend_ms is not None:
        venue.market.schedule.blend_ms = blend_ms
    _run_until(venue, 24_000)
    bids: list[float] = []
    ois: list[float] = []
    fundings: list[float] = []
    while venue.clock.now_ms() - START_MS < 76_000:
        venue.advance(1)
        bids.append(_depth_usd(venue, "BTC")[0])
        ois.append(_ctx(venue, "BTC", "openInterest"))
        fundings.append(_ctx(venue, "BTC", "funding"))
    assert venue.market.scenario.name == "trend"
    means = [sum(bids[i : i + 8]) / 8 for i in range(0, len(bids), 8)]
    return means, ois, fundings


def _largest_jump(values: list[float]) -> float:
    return max(max(b / a, a / b) for a, b in itertools.pairwise(values))


def test_the_venue_book_oi_and_funding_move_continuously_across_a_hand_over() -> None:
    bids, ois, fundings = _hand_over()
    # The trend's deeper bids arrive (2 s means of the bid depth within 50 bps) ...
    assert bids[-1] > 1.25 * bids[0]
    # ... but over the hand-over: no 2 s step larger than the market's own noise.
    assert _largest_jump(bids) < 1.35
    assert _largest_jump(ois) < 1.02
    funding_jumps = [abs(b - a) for a, b in itertools.pairwise(fundings)]
    assert max(funding_jumps) < 0.00001


def test_without_the_blend_the_same_switch_jumps() -> None:
    # The control of the test above: an abrupt switch shows the jump that test rules out.
    bids, _, _ = _hand_over(blend_ms=1)
    assert _largest_jump(bids) >= 1.35


def test_a_trend_phase_after_quiet_raises_open_interest() -> None:
    venue = _venue("quiet:30,trend:300")
    _run_until(venue, 30_000)
    oi_quiet = _ctx(venue, "BTC", "openInterest")
    _run_until(venue, 120_000)
    assert _ctx(venue, "BTC", "openInterest") > oi_quiet * 1.1


def test_a_cascade_phase_after_a_trend_liquidates_the_leveraged_longs() -> None:
    venue = _venue("trend:60,cascade:60,quiet:60")
    market = venue.market
    assert market is not None
    _run_until(venue, 60_000 + CASCADE_BUILD_END_MS - STEP_MS)
    assert market.scenario.name == "cascade"
    assert market.liquidations == 0
    oi_before = _ctx(venue, "BTC", "openInterest")
    _run_until(venue, 60_000 + CASCADE_SELLOFF_END_MS)
    assert market.liquidations >= 3
    assert _ctx(venue, "BTC", "openInterest") < oi_before * 0.8
    _run_until(venue, 130_000)
    assert market.scenario.name == "quiet"


def _deposits(venue: SimVenue, user: str) -> float:
    total = 0.0
    for entry in venue.engine.account(user).ledger:
        delta: dict[str, Any] = entry["delta"]  # type: ignore[assignment]
        if delta["type"] == "deposit":
            total += float(delta["usdc"])
    return total


@pytest.mark.parametrize(("schedule", "cascade_ms"), [("cascade", 0), ("trend:20,cascade", 20_000)])
def test_leveraged_traders_start_a_cascade_with_their_equity_once(
    schedule: str, cascade_ms: int
) -> None:
    # LEVERAGED_EQUITY_USD (20,000) each whether the cascade comes first or after a trend:
    # funding them again when the phase begins would halve their leverage.
    venue = _venue(schedule)
    assert venue.market is not None
    _run_until(venue, cascade_ms + 1_000)
    users = venue.market.leveraged["BTC"]
    assert [_deposits(venue, u) for u in users] == [20_000.0] * len(users)


def test_a_second_cascade_tops_the_liquidated_traders_up_again() -> None:
    venue = _venue("cascade:40,quiet:20,cascade")
    assert venue.market is not None
    _run_until(venue, 61_000)
    for user in venue.market.leveraged["BTC"]:
        assert 19_000 < venue.engine.account(user).usdc <= 20_000.0


def _fingerprint(scenario: str, seed: int, until_ms: int) -> str:
    venue = _venue(scenario, seed)
    _run_until(venue, until_ms)
    coins = ("BTC", "ETH", "SOL")
    state = [venue.engine.l2_book(c) for c in coins] + [venue.engine.asset_ctx(c) for c in coins]
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


def test_a_schedule_is_deterministic_per_seed() -> None:
    text = "quiet:10,trend:20,cascade:40"
    first = _fingerprint(text, 7, 60_000)
    assert _fingerprint(text, 7, 60_000) == first
    assert _fingerprint(text, 8, 60_000) != first


def test_the_command_line_takes_a_schedule_and_refuses_a_bad_one_naming_it() -> None:
    assert scenario_schedule("quiet:600,trend:900,cascade:120,quiet:600").startswith("quiet:600")
    assert scenario_schedule("thin") == "thin"
    with pytest.raises(argparse.ArgumentTypeError, match="unknown scenario 'calm'"):
        scenario_schedule("quiet:10,calm:5")
    with pytest.raises(argparse.ArgumentTypeError, match="phase 'quiet' needs a duration"):
        scenario_schedule("quiet,trend:5")
