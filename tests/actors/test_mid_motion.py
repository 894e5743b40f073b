"""Mid changes, range, velocity and acceleration against a brute-force reference."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from actors.mid_motion import MidMotion
from actors.mid_motion import MidMotionReading

Obs = list[tuple[int, float]]
SEC = 1_000_000_000


# --- brute force: the mid in force at t from every observation fed so far -------------------


def _mid_at(obs: Obs, t: int, first_ts: int) -> float | None:
    if t < first_ts:
        return None
    return [v for ts, v in obs if ts <= t][-1]


def _bps(now: float | None, start: float | None) -> float | None:
    if now is None or start is None:
        return None
    return (now - start) / start * 1e4


def reference(obs: Obs, now: int, short: int, medium: int, long: int) -> MidMotionReading:
    assert all(ts <= now for ts, _ in obs)  # the model never feeds the future
    first = obs[0][0]
    mid_now = obs[-1][1]
    change_short = _bps(mid_now, _mid_at(obs, now - short, first))
    change_medium = _bps(mid_now, _mid_at(obs, now - medium, first))
    change_long = _bps(mid_now, _mid_at(obs, now - long, first))
    high = low = None
    if now - long >= first:
        in_force = [_mid_at(obs, now - long, first)] + [
            v for ts, v in obs if now - long < ts <= now
        ]
        high = max(v for v in in_force if v is not None)
        low = min(v for v in in_force if v is not None)
    velocity = None if change_medium is None else change_medium / (medium / SEC)
    then = _bps(_mid_at(obs, now - medium, first), _mid_at(obs, now - medium - short, first))
    accel = None
    if change_short is not None and then is not None:
        v_now = change_short / (short / SEC)
        v_then = then / (short / SEC)
        accel = (v_now - v_then) / (medium / SEC)
    return MidMotionReading(change_short, change_medium, change_long, high, low, velocity, accel)


def _close(actual: float | None, expected: float | None) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-7)


mid_st = st.floats(min_value=1.0, max_value=1e5, allow_nan=False, allow_infinity=False)
gap_st = st.integers(min_value=0, max_value=4 * SEC).map(lambda g: g - g % (SEC // 4))
op_st = st.one_of(
    st.tuples(st.just("obs"), gap_st, mid_st),
    st.tuples(st.just("query"), gap_st, st.integers(min_value=0, max_value=3 * SEC)),
)


@settings(max_examples=300, deadline=None)
@given(
    stream=st.lists(op_st, min_size=1, max_size=80),
    short_secs=st.integers(min_value=1, max_value=3),
    medium_extra=st.integers(min_value=0, max_value=6),
    long_extra=st.integers(min_value=0, max_value=20),
)
def test_every_reading_matches_brute_force_on_random_interleaved_stream(
    stream: list[tuple[str, int, float]],
    short_secs: int,
    medium_extra: int,
    long_extra: int,
) -> None:
    # Arrange: windows in whole seconds, observations and queries on a quarter-second grid so
    # exact window edges are common.
    short = short_secs * SEC
    medium = short + medium_extra * SEC
    long = medium + long_extra * SEC
    motion = MidMotion(short, medium, long)
    fed: Obs = []
    cursor = 1_000 * SEC
    last_query = cursor
    checked = 0
    for kind, gap, payload in stream:
        cursor += gap
        if kind == "obs":
            # Act
            motion.update(cursor, payload)
            fed.append((cursor, payload))
            continue
        if not fed:
            continue
        now = max(last_query, cursor + int(payload))
        last_query = now
        actual = motion.read(now)
        expected = reference(fed, now, short, medium, long)
        # Assert
        for name, a, e in zip(MidMotionReading._fields, actual, expected, strict=True):
            assert _close(a, e), (name, now - fed[0][0], fed, a, e)
        checked += 1


def test_readings_are_none_until_each_needs_only_observed_history() -> None:
    # Arrange: 1 s / 5 s / 15 s windows, the mid observed from t=0.
    motion = MidMotion(1 * SEC, 5 * SEC, 15 * SEC)
    motion.update(0, 100.0)

    # Act
    at_4s = motion.read(4 * SEC)
    at_5s = motion.read(5 * SEC)
    at_6s = motion.read(6 * SEC)
    at_15s = motion.read(15 * SEC)

    # Assert: the 1 s change is warm at 1 s; velocity at 5 s; acceleration needs 5 s + 1 s.
    assert at_4s.change_bps_short == 0.0
    assert at_4s.velocity_bps_s is None
    assert at_5s.velocity_bps_s == 0.0
    assert at_5s.accel_bps_s2 is None
    assert at_6s.accel_bps_s2 == 0.0
    assert at_6s.high_long is None
    assert at_15s.high_long == 100.0
    assert at_15s.low_long == 100.0


def test_velocity_and_acceleration_of_a_mid_that_starts_moving() -> None:
    # Arrange: flat at 100 until t=10 s, then +1 bp at every whole second from t=11 s.
    motion = MidMotion(1 * SEC, 5 * SEC, 60 * SEC)
    mid = 100.0
    motion.update(0, mid)
    for k in range(1, 6):
        mid *= 1.0001
        motion.update((10 + k) * SEC, mid)

    # Act
    at_15s = motion.read(15 * SEC)
    mid *= 1.0001
    motion.update(16 * SEC, mid)
    at_16s = motion.read(16 * SEC)

    # Assert: at 15 s the 1 s velocity is 1 bp/s and was 0 five seconds earlier (t=10 s):
    # acceleration (1 - 0) / 5 = 0.2 bp/s². At 16 s it was already 1 bp/s at t=11 s: 0.
    assert at_15s.change_bps_short == pytest.approx(1.0, rel=1e-6)
    assert at_15s.change_bps_medium == pytest.approx((1.0001**5 - 1) * 1e4, rel=1e-9)
    assert at_15s.velocity_bps_s == pytest.approx((1.0001**5 - 1) * 1e4 / 5, rel=1e-9)
    assert at_15s.accel_bps_s2 == pytest.approx(0.2, rel=1e-6)
    assert at_16s.accel_bps_s2 == pytest.approx(0.0, abs=1e-6)


def test_no_reading_can_use_a_mid_stamped_after_it() -> None:
    motion = MidMotion(1 * SEC, 5 * SEC, 15 * SEC)
    motion.update(0, 100.0)
    motion.update(20 * SEC, 101.0)
    with pytest.raises(ValueError, match="future data"):
        motion.read(19 * SEC)


def test_windows_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="short_ns <= medium_ns <= long_ns"):
        MidMotion(5 * SEC, 1 * SEC, 15 * SEC)
