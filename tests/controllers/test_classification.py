"""Every regime rule from hand-built MarketState sequences: table, ambiguity, warm-up, staleness,
confirmation times (trigger and no-trigger)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from nautilus_trader.model.identifiers import InstrumentId

from actors.market_state import MarketState
from controllers.classification import RegimeDecision
from controllers.classification import RegimeThresholds
from controllers.classification import RegimeTracker
from controllers.classification import coin_of
from controllers.protocol import Regime
from jarvis.testkit import EXPANSION_INPUTS
from jarvis.testkit import SIDEWAYS_INPUTS

IID = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
SEC = 1_000_000_000
MS = 1_000_000
T0 = 1_700_000_000 * SEC

# Inputs well inside each regime (defaults: STRATEGIES.md).
SIDEWAYS = SIDEWAYS_INPUTS
EXPANSION = EXPANSION_INPUTS


def _state(ts: int, fields: dict[str, float], input_age_ms: int = 100) -> MarketState:
    ctor: Any = MarketState
    state: MarketState = ctor(
        ts_event=ts,
        ts_init=ts,
        instrument_id=IID,
        input_ts_ns=ts - input_age_ms * MS,
        **fields,
    )
    return state


def _tracker(enter: float = 30.0, exit_: float = 10.0, max_age_ms: int = 2_000) -> RegimeTracker:
    return RegimeTracker(IID, RegimeThresholds(), enter, exit_, max_age_ms)


def _run(
    tracker: RegimeTracker,
    fields_at: list[tuple[float, dict[str, float]]],
    **state_kwargs: Any,
) -> list[RegimeDecision]:
    decisions: list[RegimeDecision] = []
    for secs, fields in fields_at:
        ts = T0 + round(secs * SEC)
        decisions.extend(tracker.on_state(_state(ts, fields, **state_kwargs), ts))
    return decisions


def _every_second(
    fields: dict[str, float],
    start: int,
    stop: int,
) -> list[tuple[float, dict[str, float]]]:
    return [(float(t), fields) for t in range(start, stop + 1)]


def _summary(decisions: list[RegimeDecision]) -> list[tuple[str, str, float]]:
    return [(d.previous.value, d.regime.value, (d.ts_ns - T0) / SEC) for d in decisions]


# -- the table -------------------------------------------------------------------------------


def test_sideways_is_entered_after_holding_for_the_enter_confirmation_time() -> None:
    decisions = _run(_tracker(), _every_second(SIDEWAYS, 0, 30))
    assert _summary(decisions) == [("DISABLED", "SIDEWAYS", 30.0)]
    assert "oi_change_pct_15m=0.20 <= 1.00" in decisions[0].inputs


def test_sideways_is_not_entered_one_second_before_the_enter_confirmation_time() -> None:
    assert _run(_tracker(), _every_second(SIDEWAYS, 0, 29)) == []


def test_expansion_is_entered_after_holding_for_the_enter_confirmation_time() -> None:
    decisions = _run(_tracker(), _every_second(EXPANSION, 0, 30))
    assert _summary(decisions) == [("DISABLED", "EXPANSION", 30.0)]
    assert "oi_change_pct_1h=2.50 >= 2.00" in decisions[0].inputs


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("oi_change_pct_15m", 1.01),
        ("oi_change_pct_15m", -1.01),
        ("funding", 0.000031),
        ("funding", -0.000031),
        ("depth_asymmetry_mean_15m", 0.26),
        ("depth_asymmetry_mean_15m", -0.26),
    ],
)
def test_each_sideways_cap_breached_keeps_the_regime_disabled(name: str, value: float) -> None:
    fields = {**SIDEWAYS, name: value}
    assert _run(_tracker(), _every_second(fields, 0, 40)) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("oi_change_pct_15m", 1.0),
        ("funding", 0.00003),
        ("funding", -0.00003),
        ("depth_asymmetry_mean_15m", -0.25),
    ],
)
def test_sideways_caps_are_inclusive(name: str, value: float) -> None:
    fields = {**SIDEWAYS, name: value}
    assert _summary(_run(_tracker(), _every_second(fields, 0, 30))) == [
        ("DISABLED", "SIDEWAYS", 30.0),
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"oi_change_pct_1h": 1.9, "oi_change_pct_15m": 1.4},  # OI not rising enough
        {"funding": 0.00004, "funding_drift_15m": -0.000019},  # funding not skewed
        {"depth_asymmetry_mean_15m": 0.29},  # depth not asymmetric enough
    ],
)
def test_each_expansion_condition_missing_keeps_the_regime_disabled(
    changes: dict[str, float],
) -> None:
    fields = {**EXPANSION, **changes}
    assert _run(_tracker(), _every_second(fields, 0, 40)) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"oi_change_pct_1h": 0.0, "oi_change_pct_15m": 1.5},  # 15 min rise alone suffices
        {"funding": 0.0, "funding_drift_15m": -0.00002},  # drift alone suffices
        {"depth_asymmetry_mean_15m": 0.30},
    ],
)
def test_each_expansion_alternative_suffices(changes: dict[str, float]) -> None:
    fields = {**EXPANSION, **changes}
    assert _summary(_run(_tracker(), _every_second(fields, 0, 30))) == [
        ("DISABLED", "EXPANSION", 30.0),
    ]


def test_both_regimes_holding_is_ambiguous_and_disabled() -> None:
    # Arrange: thresholds under which the same inputs satisfy both rows.
    thresholds = RegimeThresholds(
        sideways_max_abs_oi_change_pct_15m=5.0,
        sideways_max_abs_funding_per_hour=0.001,
        sideways_max_abs_depth_asymmetry_mean_15m=0.9,
    )
    tracker = RegimeTracker(IID, thresholds, 30.0, 10.0, 2_000)
    state = _state(T0, EXPANSION)
    assert tracker._holds(state, Regime.SIDEWAYS) and tracker._holds(state, Regime.EXPANSION)

    # Act / Assert
    assert _run(tracker, _every_second(EXPANSION, 0, 60)) == []


@pytest.mark.parametrize("unknown", list(SIDEWAYS))
def test_any_unknown_input_while_warming_up_keeps_the_regime_disabled(unknown: str) -> None:
    if unknown in ("oi_change_pct_1h", "funding_drift_15m"):
        # Not read by the SIDEWAYS row; unknown there it still decides SIDEWAYS (no rule uses it).
        decisions = _run(_tracker(), _every_second({**SIDEWAYS, unknown: math.nan}, 0, 30))
        assert _summary(decisions) == [("DISABLED", "SIDEWAYS", 30.0)]
        return
    fields = {**SIDEWAYS, unknown: math.nan}
    assert _run(_tracker(), _every_second(fields, 0, 60)) == []


def test_warm_up_inputs_are_named_in_the_decision_that_leaves_a_regime() -> None:
    tracker = _tracker(enter=0.0, exit_=0.0)
    _run(tracker, [(0, SIDEWAYS)])
    decisions = _run(tracker, [(1, {**SIDEWAYS, "oi_change_pct_15m": math.nan})])
    assert _summary(decisions) == [("SIDEWAYS", "DISABLED", 1.0)]
    assert "oi_change_pct_15m unknown" in decisions[0].inputs


# -- confirmation times ----------------------------------------------------------------------


def test_an_interruption_restarts_the_enter_confirmation() -> None:
    # Arrange: SIDEWAYS for 20 s, one state that is not, then SIDEWAYS again.
    sequence = [
        *_every_second(SIDEWAYS, 0, 20),
        (21.0, {**SIDEWAYS, "funding": 0.0001}),
        *_every_second(SIDEWAYS, 22, 60),
    ]

    # Act / Assert: 30 s counted from 22 s.
    assert _summary(_run(_tracker(), sequence)) == [("DISABLED", "SIDEWAYS", 52.0)]


def test_leaving_for_a_market_reason_needs_the_exit_confirmation_time() -> None:
    tracker = _tracker()
    _run(tracker, _every_second(SIDEWAYS, 0, 30))
    breach = {**SIDEWAYS, "oi_change_pct_15m": 2.31}

    not_yet = _run(tracker, _every_second(breach, 31, 40))
    left = _run(tracker, [(41.0, breach)])

    assert not_yet == []
    assert _summary(left) == [("SIDEWAYS", "DISABLED", 41.0)]
    assert "oi_change_pct_15m=2.31 > 1.00" in left[0].inputs
    assert left[0].log_line().startswith("Regime BTC SIDEWAYS->DISABLED")


def test_a_short_breach_does_not_leave_the_regime() -> None:
    tracker = _tracker()
    _run(tracker, _every_second(SIDEWAYS, 0, 30))
    breach = {**SIDEWAYS, "oi_change_pct_15m": 2.31}
    sequence = [*_every_second(breach, 31, 39), *_every_second(SIDEWAYS, 40, 80)]
    assert _run(tracker, sequence) == []
    assert tracker.regime is Regime.SIDEWAYS


def test_sideways_to_expansion_passes_through_disabled_then_confirms_expansion() -> None:
    tracker = _tracker()
    _run(tracker, _every_second(SIDEWAYS, 0, 30))
    decisions = _run(tracker, _every_second(EXPANSION, 31, 61))
    assert _summary(decisions) == [
        ("SIDEWAYS", "DISABLED", 41.0),
        ("DISABLED", "EXPANSION", 61.0),
    ]


# -- staleness and feed health ---------------------------------------------------------------


def test_a_stale_state_disables_at_once() -> None:
    tracker = _tracker()
    _run(tracker, _every_second(SIDEWAYS, 0, 30))
    decisions = _run(tracker, [(31.0, SIDEWAYS)], input_age_ms=2_001)
    assert _summary(decisions) == [("SIDEWAYS", "DISABLED", 31.0)]
    assert decisions[0].reason == "state stale"
    assert "state_age_ms=2001 > 2000" in decisions[0].inputs


def test_a_state_exactly_at_the_age_limit_is_not_stale() -> None:
    tracker = _tracker()
    decisions = _run(tracker, _every_second(SIDEWAYS, 0, 30), input_age_ms=2_000)
    assert _summary(decisions) == [("DISABLED", "SIDEWAYS", 30.0)]


def test_stale_states_restart_the_enter_confirmation() -> None:
    tracker = _tracker()
    _run(tracker, _every_second(SIDEWAYS, 0, 20))
    _run(tracker, [(21.0, SIDEWAYS)], input_age_ms=5_000)
    decisions = _run(tracker, _every_second(SIDEWAYS, 22, 52))
    assert _summary(decisions) == [("DISABLED", "SIDEWAYS", 52.0)]


def test_an_unhealthy_feed_disables_at_once_and_names_the_stream() -> None:
    tracker = _tracker()
    _run(tracker, _every_second(SIDEWAYS, 0, 30))
    ts = T0 + 31 * SEC
    decisions = tracker.on_state(_state(ts, SIDEWAYS), ts, "l2Book:BTC STALE (no data 5s)")
    assert _summary(decisions) == [("SIDEWAYS", "DISABLED", 31.0)]
    assert decisions[0].reason == "feed unhealthy"
    assert "l2Book:BTC" in decisions[0].inputs


def test_thresholds_reject_negative_or_non_finite_values_naming_the_field() -> None:
    with pytest.raises(ValueError, match="sideways_max_abs_funding_per_hour"):
        RegimeThresholds(sideways_max_abs_funding_per_hour=math.inf)


def test_coin_of_takes_the_venue_coin_from_the_instrument_id() -> None:
    assert coin_of(InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")) == "BTC"
