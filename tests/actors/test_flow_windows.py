"""FlowWindows equals one AggressorFlow per window, bit for bit, and keeps the same time rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.model.enums import AggressorSide

from actors.book_metrics import AggressorFlow
from actors.flow_windows import FlowWindows

WINDOWS = (1_000, 5_000, 20_000, 40_000)
SIDES = (AggressorSide.BUYER, AggressorSide.SELLER, AggressorSide.NO_AGGRESSOR)

# One step: a trade after `gap` ns (price, size, side) or a query after `gap` ns.
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("trade"),
            st.integers(0, 3_000),
            st.floats(0.01, 100_000.0),
            st.floats(0.0, 50.0),
            st.sampled_from(SIDES),
        ),
        st.tuples(st.just("query"), st.integers(0, 8_000)),
    ),
    max_size=300,
)


@settings(max_examples=200, deadline=None)
@given(steps)
def test_readings_equal_one_aggressor_flow_per_window(script: list[tuple]) -> None:
    combined = FlowWindows(WINDOWS)
    single = [AggressorFlow(w) for w in WINDOWS]
    now = 1_000_000
    for step in script:
        now += step[1]
        if step[0] == "trade":
            _, _, price, size, side = step
            combined.update(now, price, size, side)
            for flow in single:
                flow.update(now, price, size, side)
        else:
            expected = []
            for flow in single:
                reading = flow.value(now)
                expected.append(None if reading is None else (reading.buy_usd, reading.sell_usd))
            assert repr(combined.usd(now)) == repr(expected)


def test_old_trades_are_dropped_from_the_shared_list() -> None:
    flows = FlowWindows((10, 20))
    for k in range(20_000):
        flows.update(k, 1.0, 1.0, AggressorSide.BUYER)
        flows.evict(k)
    assert flows.usd(20_100) == [(0.0, 0.0), (0.0, 0.0)]
    assert len(flows._trades) < 5_000


def test_time_never_goes_back() -> None:
    flows = FlowWindows((10,))
    flows.update(100, 1.0, 1.0, AggressorSide.SELLER)
    with pytest.raises(ValueError, match="observation out of order"):
        flows.update(99, 1.0, 1.0, AggressorSide.SELLER)
    with pytest.raises(ValueError, match="before the latest observation"):
        flows.evict(99)
    flows.evict(120)
    with pytest.raises(ValueError, match="query out of order"):
        flows.evict(110)
    with pytest.raises(ValueError, match="windows_ns must be positive"):
        FlowWindows((10, 0))
