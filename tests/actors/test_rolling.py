"""Rolling windows against brute-force references: warm-up, exact window edges, no future data."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from actors.rolling import WINDOW_1H_NS
from actors.rolling import WINDOW_1S_NS
from actors.rolling import WINDOW_5S_NS
from actors.rolling import WINDOW_15M_NS
from actors.rolling import RollingChange
from actors.rolling import RollingLevelMax
from actors.rolling import RollingLevelMin
from actors.rolling import RollingMax
from actors.rolling import RollingMean
from actors.rolling import RollingMin
from actors.rolling import RollingSum
from actors.rolling import RollingTimeWeightedMean

Obs = list[tuple[int, float]]

# --- brute-force references: recompute from every observation fed so far ---------------------


def _warm(obs: Obs, now: int, window: int) -> bool:
    return bool(obs) and now - obs[0][0] >= window


def _in_window(obs: Obs, now: int, window: int) -> list[float]:
    assert all(ts <= now for ts, _ in obs)  # the model never feeds the future
    return [v for ts, v in obs if now - window < ts <= now]


def ref_sum(obs: Obs, now: int, window: int) -> float | None:
    return math.fsum(_in_window(obs, now, window)) if _warm(obs, now, window) else None


def ref_mean(obs: Obs, now: int, window: int) -> float | None:
    values = _in_window(obs, now, window)
    if not _warm(obs, now, window) or not values:
        return None
    return math.fsum(values) / len(values)


def ref_max(obs: Obs, now: int, window: int) -> float | None:
    values = _in_window(obs, now, window)
    return max(values) if _warm(obs, now, window) and values else None


def ref_min(obs: Obs, now: int, window: int) -> float | None:
    values = _in_window(obs, now, window)
    return min(values) if _warm(obs, now, window) and values else None


def _levels_in_force(obs: Obs, now: int, window: int) -> list[float]:
    """Every level the step function takes in [now - window, now]: the start level and later."""
    return [_anchor(obs, now, window), *_in_window(obs, now, window)]


def ref_level_max(obs: Obs, now: int, window: int) -> float | None:
    return max(_levels_in_force(obs, now, window)) if _warm(obs, now, window) else None


def ref_level_min(obs: Obs, now: int, window: int) -> float | None:
    return min(_levels_in_force(obs, now, window)) if _warm(obs, now, window) else None


def _anchor(obs: Obs, now: int, window: int) -> float:
    return [v for ts, v in obs if ts <= now - window][-1]


def ref_change(obs: Obs, now: int, window: int) -> float | None:
    if not _warm(obs, now, window):
        return None
    return obs[-1][1] - _anchor(obs, now, window)


def ref_pct(obs: Obs, now: int, window: int) -> float | None:
    if not _warm(obs, now, window):
        return None
    anchor = _anchor(obs, now, window)
    if anchor == 0.0:
        return None
    return (obs[-1][1] - anchor) / abs(anchor) * 100.0


def ref_twm(obs: Obs, now: int, window: int) -> float | None:
    if not _warm(obs, now, window):
        return None
    start = now - window
    parts = []
    for i, (ts, level) in enumerate(obs):
        end = obs[i + 1][0] if i + 1 < len(obs) else now
        overlap = min(end, now) - max(ts, start)
        if overlap > 0:
            parts.append(level * overlap)
    return math.fsum(parts) / window


# --- random streams ---------------------------------------------------------------------------

values_st = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
# Small integer gaps (0 included) so equal timestamps and exact window edges are common.
gap_st = st.integers(min_value=0, max_value=12)
op_st = st.one_of(
    st.tuples(st.just("obs"), gap_st, values_st),
    st.tuples(st.just("query"), gap_st, st.integers(min_value=0, max_value=6)),
)
stream_st = st.lists(op_st, min_size=1, max_size=120)
window_st = st.integers(min_value=1, max_value=25)


def _close(actual: float | None, expected: float | None, scale: float) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9 * max(scale, 1.0))


@dataclass
class Case:
    """One window type, its reference and how to read it."""

    make: Callable[[int], object]
    read: Callable[[object, int], float | None]
    reference: Callable[[Obs, int, int], float | None]
    checked: list[int] = field(default_factory=lambda: [0, 0])  # [queries, non-None]


def _cases() -> dict[str, Case]:
    return {
        "sum": Case(RollingSum, lambda w, t: w.value(t), ref_sum),  # type: ignore[attr-defined]
        "mean": Case(RollingMean, lambda w, t: w.value(t), ref_mean),  # type: ignore[attr-defined]
        "max": Case(RollingMax, lambda w, t: w.value(t), ref_max),  # type: ignore[attr-defined]
        "min": Case(RollingMin, lambda w, t: w.value(t), ref_min),  # type: ignore[attr-defined]
        "change": Case(
            RollingChange,
            lambda w, t: w.value(t),  # type: ignore[attr-defined]
            ref_change,
        ),
        "pct": Case(RollingChange, lambda w, t: w.pct(t), ref_pct),  # type: ignore[attr-defined]
        "twm": Case(
            RollingTimeWeightedMean,
            lambda w, t: w.value(t),  # type: ignore[attr-defined]
            ref_twm,
        ),
        "level_max": Case(
            RollingLevelMax,
            lambda w, t: w.value(t),  # type: ignore[attr-defined]
            ref_level_max,
        ),
        "level_min": Case(
            RollingLevelMin,
            lambda w, t: w.value(t),  # type: ignore[attr-defined]
            ref_level_min,
        ),
    }


@pytest.mark.parametrize("name", list(_cases()))
@settings(max_examples=200, deadline=None)
@given(window=window_st, stream=stream_st)
def test_window_matches_brute_force_on_random_interleaved_stream(
    name: str,
    window: int,
    stream: list[tuple[str, int, float]],
) -> None:
    # Arrange: observations advance a cursor; queries land at or after it and never go back,
    # so observations may arrive stamped before the latest query (as live timers allow).
    case = _cases()[name]
    rolling = case.make(window)
    fed: Obs = []
    cursor = 1_000
    last_query = cursor
    for kind, gap, payload in stream:
        cursor += gap
        if kind == "obs":
            # Act
            rolling.update(cursor, payload)  # type: ignore[attr-defined]
            fed.append((cursor, payload))
            continue
        now = max(last_query, cursor + int(payload))
        last_query = now
        actual = case.read(rolling, now)
        expected = case.reference(fed, now, window)
        # Assert
        scale = max((abs(v) for _, v in fed), default=1.0)
        if name == "pct" and expected is not None:
            scale = abs(expected)
        assert _close(actual, expected, scale), (name, now, fed, actual, expected)


@pytest.mark.parametrize("name", list(_cases()))
@settings(max_examples=200, deadline=None)
@given(
    window=window_st,
    past=st.lists(st.tuples(gap_st, values_st), min_size=1, max_size=60),
    at_t=st.lists(values_st, min_size=0, max_size=3),
    future=st.lists(st.tuples(st.integers(min_value=1, max_value=12), values_st), min_size=1),
    extra=st.integers(min_value=0, max_value=30),
)
def test_value_at_t_uses_exactly_the_observations_stamped_at_or_before_t(
    name: str,
    window: int,
    past: list[tuple[int, float]],
    at_t: list[float],
    future: list[tuple[int, float]],
    extra: int,
) -> None:
    # Arrange: a stream with observations before t, exactly at t, and after t.
    case = _cases()[name]
    ts = 1_000
    stream: Obs = []
    for gap, value in past:
        ts += gap
        stream.append((ts, value))
    t = ts + extra
    stream.extend((t, value) for value in at_t)
    future_ts = t
    for gap, value in future:
        future_ts += gap
        stream.append((future_ts, value))
    upto_t = [(s, v) for s, v in stream if s <= t]

    # Act: feed everything stamped <= t (including the observations exactly at t), query at t.
    rolling = case.make(window)
    for s, v in upto_t:
        rolling.update(s, v)  # type: ignore[attr-defined]
    actual = case.read(rolling, t)

    # Assert: equal to the reference over ts <= t, and the window refuses to answer for t once
    # later observations are in (it can never leak them into a value at t).
    expected = case.reference(upto_t, t, window)
    scale = abs(expected) if name == "pct" and expected is not None else 1e6
    assert _close(actual, expected, scale)
    for s, v in stream[len(upto_t) :]:
        rolling.update(s, v)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="future data"):
        case.read(rolling, t)


def test_sum_counts_an_observation_stamped_exactly_at_now_but_not_one_stamped_after() -> None:
    # Arrange
    rolling = RollingSum(10)
    rolling.update(0, 1.0)
    rolling.update(10, 2.0)

    # Act
    at_10 = rolling.value(10)
    rolling.update(11, 4.0)
    at_11 = rolling.value(11)

    # Assert: (0, 10] holds only the value at 10; (1, 11] holds 10 and 11.
    assert at_10 == 2.0
    assert at_11 == 6.0


@pytest.mark.parametrize(
    "make",
    [
        RollingSum,
        RollingMean,
        RollingMax,
        RollingMin,
        RollingChange,
        RollingTimeWeightedMean,
        RollingLevelMax,
        RollingLevelMin,
    ],
)
def test_warm_up_returns_none_until_window_fully_observed(make: Callable[[int], object]) -> None:
    # Arrange
    rolling = make(WINDOW_1S_NS)
    rolling.update(5 * WINDOW_1S_NS, 3.0)  # type: ignore[attr-defined]
    rolling.update(5 * WINDOW_1S_NS + 1, 4.0)  # type: ignore[attr-defined]

    # Act
    before = rolling.value(6 * WINDOW_1S_NS - 1)  # type: ignore[attr-defined]
    at_edge = rolling.value(6 * WINDOW_1S_NS)  # type: ignore[attr-defined]

    # Assert
    assert before is None
    assert at_edge is not None


def test_empty_rolling_object_returns_none() -> None:
    assert RollingSum(5).value(100) is None
    assert RollingChange(5).pct(100) is None


@pytest.mark.parametrize(
    "make",
    [RollingSum, RollingMean, RollingMax, RollingMin, RollingChange, RollingTimeWeightedMean],
)
def test_out_of_order_observation_raises_clear_value_error(make: Callable[[int], object]) -> None:
    rolling = make(10)
    rolling.update(100, 1.0)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="out of order"):
        rolling.update(99, 1.0)  # type: ignore[attr-defined]


def test_query_earlier_than_previous_query_raises() -> None:
    rolling = RollingSum(10)
    rolling.update(100, 1.0)
    rolling.value(120)
    with pytest.raises(ValueError, match="query out of order"):
        rolling.value(119)


def test_observation_stamped_before_latest_query_counts_from_next_query() -> None:
    # Arrange: a timer query at 120 runs before a trade stamped 115 is handled.
    rolling = RollingSum(10)
    rolling.update(100, 1.0)
    assert rolling.value(120) == 0.0

    # Act
    rolling.update(115, 5.0)

    # Assert
    assert rolling.value(120) == 5.0


def test_change_and_pct_use_last_level_at_or_before_window_start() -> None:
    # Arrange: OI 100 at t=0, 90 at t=4 (the level in force at t=10-5=5), 99 at t=10.
    change = RollingChange(5)
    for ts, level in ((0, 100.0), (4, 90.0), (10, 99.0)):
        change.update(ts, level)

    # Act / Assert
    assert change.value(10) == pytest.approx(9.0)
    assert change.pct(10) == pytest.approx(10.0)


def test_pct_is_none_when_start_level_is_zero() -> None:
    change = RollingChange(5)
    change.update(0, 0.0)
    change.update(5, 3.0)
    assert change.value(5) == 3.0
    assert change.pct(5) is None


def test_time_weighted_mean_weights_levels_by_how_long_they_held() -> None:
    # Arrange: level 10 for 9 ns, then 100 for 1 ns, over a 10 ns window.
    twm = RollingTimeWeightedMean(10)
    twm.update(0, 10.0)
    twm.update(9, 100.0)

    # Act / Assert: (10*9 + 100*1) / 10, whereas the sample mean would be 55.
    assert twm.value(10) == pytest.approx(19.0)


def test_long_running_sum_does_not_drift_after_many_add_and_evict_cycles() -> None:
    # Arrange: 200k updates of awkward decimals through a 1 000-sample window.
    rolling = RollingSum(1_000)
    last = 0.0
    for i in range(200_000):
        rolling.update(i, 0.1 + (i % 7) * 1e5)
        last = 0.1 + (i % 7) * 1e5

    # Act
    value = rolling.value(199_999)

    # Assert
    expected = math.fsum(0.1 + (i % 7) * 1e5 for i in range(199_000, 200_000))
    assert last > 0
    assert value == pytest.approx(expected, rel=1e-13)


def test_level_extremes_keep_the_level_in_force_when_nothing_changed_inside_the_window() -> None:
    # Arrange: the mid was 100, then 90 at t=2, and has not moved for longer than the window.
    high = RollingLevelMax(10)
    low = RollingLevelMin(10)
    plain_high = RollingMax(10)
    for ts, level in ((0, 100.0), (2, 90.0)):
        high.update(ts, level)
        low.update(ts, level)
        plain_high.update(ts, level)

    # Act / Assert: at t=11 the window [1, 11] saw 100 (until 2) and 90; at t=30 only 90.
    assert high.value(11) == 100.0
    assert low.value(11) == 90.0
    assert high.value(30) == 90.0
    assert low.value(30) == 90.0
    assert plain_high.value(30) is None  # the observation extreme has nothing in the window


def test_window_constants_match_the_issue() -> None:
    assert WINDOW_1S_NS == 1_000_000_000
    assert WINDOW_5S_NS == 5_000_000_000
    assert WINDOW_15M_NS == 900_000_000_000
    assert WINDOW_1H_NS == 3_600_000_000_000


def test_invalid_window_is_rejected() -> None:
    with pytest.raises(ValueError, match="window_ns"):
        RollingSum(0)


def test_mark_observed_makes_a_quiet_event_window_zero_instead_of_warming_up() -> None:
    # Arrange: trades watched from t=0, first trade only at t=12.
    volume = RollingSum(10)
    highs = RollingMax(10)
    volume.mark_observed(0)
    highs.mark_observed(0)

    # Act / Assert: at t=10 the window (0, 10] was fully watched and held no trade.
    assert volume.value(10) == 0.0
    assert highs.value(10) is None
    volume.update(12, 5.0)
    assert volume.value(12) == 5.0


@pytest.mark.parametrize("make", [RollingChange, RollingTimeWeightedMean])
def test_mark_observed_level_window_stays_none_until_start_level_is_known(
    make: Callable[[int], object],
) -> None:
    rolling = make(10)
    rolling.mark_observed(0)  # type: ignore[attr-defined]
    rolling.update(5, 100.0)  # type: ignore[attr-defined]
    assert rolling.value(14) is None  # type: ignore[attr-defined]
    assert rolling.value(15) is not None  # type: ignore[attr-defined]


def test_mark_observed_obeys_the_time_rules() -> None:
    rolling = RollingSum(10)
    rolling.update(5, 1.0)
    with pytest.raises(ValueError, match="out of order"):
        rolling.mark_observed(4)
