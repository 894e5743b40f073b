"""MeanWindows and ChangeWindows equal one rolling window per window, bit for bit."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from actors.rolling import RollingChange
from actors.rolling import RollingTimeWeightedMean
from actors.window_groups import ChangeWindows
from actors.window_groups import MeanWindows

WINDOWS = (1_000, 5_000, 20_000, 40_000)
SAMPLED = (False, False, True, True)

# One step: a level after `gap` ns (sampled by the slow windows or not), a read, or an
# eviction-only query after `gap` ns.
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("level"),
            st.integers(0, 3_000),
            st.floats(-1e6, 1e6, allow_nan=False),
            st.booleans(),
        ),
        st.tuples(st.just("read"), st.integers(0, 8_000)),
        st.tuples(st.just("evict"), st.integers(0, 8_000)),
    ),
    max_size=300,
)


def _reading(value: float | None) -> float:
    return math.nan if value is None else value


@settings(max_examples=200, deadline=None)
@given(steps)
def test_mean_windows_equal_one_time_weighted_mean_per_window(script: list[tuple]) -> None:
    combined = MeanWindows(WINDOWS, SAMPLED)
    single = [RollingTimeWeightedMean(w) for w in WINDOWS]
    now = 1_000_000
    for step in script:
        now += step[1]
        if step[0] == "level":
            _, _, level, sample = step
            combined.update(now, level, sample)
            for window, sampled in zip(single, SAMPLED, strict=True):
                if sample or not sampled:
                    window.update(now, level)
            continue
        expected = [
            None if window.last_ts is None else _reading(window.value(now)) for window in single
        ]
        if step[0] == "evict":
            combined.evict(now)
            continue
        got: list[float | None] = [None] * len(WINDOWS)
        combined.read_into(now, got, range(len(WINDOWS)))
        assert repr(got) == repr(expected)


@settings(max_examples=200, deadline=None)
@given(steps, st.booleans())
def test_change_windows_equal_one_rolling_change_per_window(script: list[tuple], pct: bool) -> None:
    combined = ChangeWindows(WINDOWS)
    single = [RollingChange(w) for w in WINDOWS]
    now = 1_000_000
    for step in script:
        now += step[1]
        if step[0] == "level":
            level = step[2] if step[3] else 0.0  # zero levels: pct is undefined there
            combined.update(now, level)
            for window in single:
                window.update(now, level)
            continue
        expected: list[float | None] = [
            None
            if window.last_ts is None
            else _reading(window.pct(now) if pct else window.value(now))
            for window in single
        ]
        got: list[float | None] = [None] * len(WINDOWS)
        combined.read_into(now, got, range(len(WINDOWS)), pct)
        assert repr(got) == repr(expected)


def test_change_windows_drop_old_levels_from_the_shared_list() -> None:
    changes = ChangeWindows((10, 20))
    values: list[float] = [0.0, 0.0]
    for k in range(20_000):
        changes.update(k, float(k))
        changes.read_into(k, values, (0, 1), False)
    assert values == [10.0, 20.0]
    assert len(changes._items) < 2_500


def test_time_never_goes_back() -> None:
    means = MeanWindows((10,), (False,))
    means.update(100, 1.0, False)
    with pytest.raises(ValueError, match="observation out of order"):
        means.update(99, 1.0, False)
    with pytest.raises(ValueError, match="would use future data"):
        means.evict(99)
    means.evict(120)
    with pytest.raises(ValueError, match="query out of order"):
        means.read_into(110, [0.0], (0,))
    changes = ChangeWindows((10,))
    changes.update(100, 1.0)
    with pytest.raises(ValueError, match="observation out of order"):
        changes.update(99, 1.0)
    with pytest.raises(ValueError, match="would use future data"):
        changes.read_into(99, [0.0], (0,), True)
    changes.read_into(120, [0.0], (0,), True)
    with pytest.raises(ValueError, match="query out of order"):
        changes.read_into(110, [0.0], (0,), True)
    with pytest.raises(ValueError, match="windows_ns must be positive"):
        ChangeWindows((10, 0))
    with pytest.raises(ValueError, match="one flag per window"):
        MeanWindows((10, 20), (False,))
