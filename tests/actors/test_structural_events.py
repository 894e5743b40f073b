"""Structural events: trigger / no-trigger per kind, hysteresis, serialisation, message bus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.actor import Actor
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.core.data import Data
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.persistence.catalog import ParquetDataCatalog
from nautilus_trader.portfolio.portfolio import Portfolio

from actors.structural_events import STRUCTURAL_EVENT_DATA_TYPE
from actors.structural_events import BookSide
from actors.structural_events import StructuralEvent
from actors.structural_events import StructuralEventDetector
from actors.structural_events import StructuralEventKind
from actors.structural_events import StructuralEventThresholds
from actors.structural_events import StructuralMetrics

SEC = 1_000_000_000
INSTRUMENT_ID = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
T0 = 1_700_000_000 * SEC

THRESHOLDS = StructuralEventThresholds(
    oi_drop_pct=5.0,
    oi_drop_window_secs=10.0,
    oi_surge_pct=5.0,
    oi_surge_window_secs=10.0,
    depth_low_usd=100_000.0,
    depth_low_bps=20.0,
    absorption_min_usd=250_000.0,
    absorption_max_move_bps=2.0,
    absorption_window_secs=5.0,
    funding_accel_per_hour=0.0001,
    funding_window_secs=3600.0,
    thinning_ratio=0.5,
    thinning_baseline_window_secs=900.0,
    refill_share=0.8,
    sweep_drop_share=0.5,
    hysteresis_share=0.2,
    rearm_secs=5.0,
)


def _detector() -> StructuralEventDetector:
    return StructuralEventDetector(INSTRUMENT_ID, THRESHOLDS)


def _feed(
    detector: StructuralEventDetector,
    readings: list[tuple[float, StructuralMetrics]],
) -> list[StructuralEvent]:
    events: list[StructuralEvent] = []
    for secs, metrics in readings:
        events.extend(detector.on_metrics(T0 + round(secs * SEC), metrics))
    return events


def _oi_readings(start: float, after_10s: float) -> list[tuple[float, StructuralMetrics]]:
    return [
        (0, StructuralMetrics(open_interest=start)),
        (10, StructuralMetrics(open_interest=after_10s)),
    ]


def _kinds(events: list[StructuralEvent]) -> list[str]:
    return [e.kind for e in events]


# --- OI ---------------------------------------------------------------------------------------


def test_oi_drop_fires_when_oi_falls_at_least_threshold_within_window() -> None:
    events = _feed(
        _detector(),
        [
            (0, StructuralMetrics(open_interest=1000.0)),
            (10, StructuralMetrics(open_interest=940.0)),
        ],
    )
    assert _kinds(events) == ["OI_DROP"]
    event = events[0]
    assert event.value == pytest.approx(-6.0)
    assert event.threshold == 5.0
    assert event.window_secs == 10.0
    assert event.instrument_id == INSTRUMENT_ID
    assert event.ts_event == event.ts_init == T0 + 10 * SEC


def test_oi_drop_does_not_fire_below_threshold_or_before_window_observed() -> None:
    events = _feed(
        _detector(),
        [
            (0, StructuralMetrics(open_interest=1000.0)),
            (5, StructuralMetrics(open_interest=800.0)),  # -20% but window not observed yet
            (10, StructuralMetrics(open_interest=960.0)),  # -4% over the full window
        ],
    )
    assert events == []


def test_oi_surge_fires_when_oi_rises_at_least_threshold_within_window() -> None:
    events = _feed(
        _detector(),
        [
            (0, StructuralMetrics(open_interest=1000.0)),
            (10, StructuralMetrics(open_interest=1060.0)),
        ],
    )
    assert _kinds(events) == ["OI_SURGE"]
    assert events[0].value == pytest.approx(6.0)


def test_oi_surge_does_not_fire_below_threshold() -> None:
    events = _feed(
        _detector(),
        [
            (0, StructuralMetrics(open_interest=1000.0)),
            (10, StructuralMetrics(open_interest=1040.0)),
        ],
    )
    assert events == []


# --- depth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "kind"),
    [("bid_depth_usd", "BID_DEPTH_LOW"), ("ask_depth_usd", "ASK_DEPTH_LOW")],
)
def test_depth_low_fires_when_side_depth_below_threshold(field: str, kind: str) -> None:
    events = _feed(_detector(), [(0, StructuralMetrics(**{field: 90_000.0}))])
    assert _kinds(events) == [kind]
    assert events[0].value == 90_000.0
    assert events[0].threshold == 100_000.0


@pytest.mark.parametrize("field", ["bid_depth_usd", "ask_depth_usd"])
def test_depth_low_does_not_fire_at_or_above_threshold(field: str) -> None:
    events = _feed(
        _detector(),
        [(0, StructuralMetrics(**{field: 100_000.0})), (1, StructuralMetrics(**{field: 5e6}))],
    )
    assert events == []


# --- absorption, funding, thinning, refill -----------------------------------------------------


def test_absorption_fires_when_absorbed_volume_reported() -> None:
    events = _feed(_detector(), [(0, StructuralMetrics(absorbed_usd=-300_000.0))])
    assert _kinds(events) == ["ABSORPTION"]
    assert events[0].value == -300_000.0
    assert events[0].threshold == 250_000.0
    assert events[0].window_secs == 5.0


def test_absorption_does_not_fire_when_nothing_absorbed() -> None:
    events = _feed(
        _detector(),
        [(0, StructuralMetrics(absorbed_usd=0.0)), (1, StructuralMetrics(absorbed_usd=None))],
    )
    assert events == []


def test_funding_acceleration_fires_when_funding_changes_fast_enough_per_hour() -> None:
    events = _feed(
        _detector(),
        [
            (0, StructuralMetrics(funding_rate=0.00001)),
            (3600, StructuralMetrics(funding_rate=-0.00011)),
        ],
    )
    assert _kinds(events) == ["FUNDING_ACCELERATION"]
    assert events[0].value == pytest.approx(-0.00012)
    assert events[0].window_secs == 3600.0


def test_funding_acceleration_does_not_fire_for_slow_drift() -> None:
    events = _feed(
        _detector(),
        [
            (0, StructuralMetrics(funding_rate=0.00001)),
            (3600, StructuralMetrics(funding_rate=0.00005)),
        ],
    )
    assert events == []


@pytest.mark.parametrize(
    ("field", "side"), [("bid_thinning_ratio", "BID"), ("ask_thinning_ratio", "ASK")]
)
def test_depth_thinning_fires_at_or_below_ratio_and_names_its_side(field: str, side: str) -> None:
    events = _feed(_detector(), [(0, StructuralMetrics(**{field: 0.5}))])
    assert _kinds(events) == ["DEPTH_THINNING"]
    assert events[0].side == side
    assert events[0].window_secs == 900.0


@pytest.mark.parametrize("field", ["bid_thinning_ratio", "ask_thinning_ratio"])
def test_depth_thinning_does_not_fire_above_ratio(field: str) -> None:
    events = _feed(_detector(), [(0, StructuralMetrics(**{field: 0.51}))])
    assert events == []


def test_depth_thinning_fires_per_side_each_with_its_own_hysteresis() -> None:
    # Arrange: the bid thins first (and stays thin), then the ask thins too.
    detector = _detector()
    readings: list[tuple[float, StructuralMetrics]] = [
        (0.0, StructuralMetrics(bid_thinning_ratio=0.4, ask_thinning_ratio=0.9)),
        (10, StructuralMetrics(bid_thinning_ratio=0.4, ask_thinning_ratio=0.3)),
        (20, StructuralMetrics(bid_thinning_ratio=0.3, ask_thinning_ratio=0.3)),
    ]

    # Act
    events = _feed(detector, readings)

    # Assert: one event per side; the thin bid does not hide the ask thinning later.
    assert [(e.kind, e.side, (e.ts_event - T0) // SEC) for e in events] == [
        ("DEPTH_THINNING", "BID", 0),
        ("DEPTH_THINNING", "ASK", 10),
    ]
    assert not detector.is_armed(StructuralEventKind.DEPTH_THINNING, BookSide.BID)
    assert not detector.is_armed(StructuralEventKind.DEPTH_THINNING, BookSide.ASK)


@pytest.mark.parametrize(
    ("field", "side"), [("bid_refill_secs", "BID"), ("ask_refill_secs", "ASK")]
)
def test_book_refill_fires_when_a_refill_completes_and_names_its_side(
    field: str, side: str
) -> None:
    events = _feed(_detector(), [(0, StructuralMetrics(**{field: 2.5}))])
    assert _kinds(events) == ["BOOK_REFILL"]
    assert events[0].side == side
    assert events[0].value == 2.5
    assert events[0].threshold == 0.8


def test_book_refill_on_both_sides_at_once_gives_two_events_bid_first() -> None:
    events = _feed(
        _detector(),
        [(0, StructuralMetrics(bid_refill_secs=1.5, ask_refill_secs=2.5))],
    )
    assert [(e.kind, e.side, e.value) for e in events] == [
        ("BOOK_REFILL", "BID", 1.5),
        ("BOOK_REFILL", "ASK", 2.5),
    ]


def test_book_refill_does_not_fire_without_completed_refill() -> None:
    events = _feed(_detector(), [(0, StructuralMetrics(bid_depth_usd=1e9, bid_refill_secs=None))])
    assert events == []


def test_events_that_concern_no_book_side_carry_an_empty_side() -> None:
    events = _feed(_detector(), [(0, StructuralMetrics(bid_depth_usd=1.0, absorbed_usd=3e5))])
    assert [(e.kind, e.side) for e in events] == [("BID_DEPTH_LOW", ""), ("ABSORPTION", "")]


# --- hysteresis -------------------------------------------------------------------------------


def test_depth_hovering_around_threshold_fires_once_until_clearly_released() -> None:
    # Arrange: release needs depth > 120k (20% hysteresis) and 5 s since the event.
    readings = [
        (0.0, 90_000.0),  # fires
        (0.5, 101_000.0),  # above threshold but not released
        (1.0, 90_000.0),  # still latched
        (1.5, 130_000.0),  # released past 120k but only 1.5 s after the event
        (2.0, 95_000.0),  # no re-fire
        (10.0, 130_000.0),  # released and 10 s later: re-arms
        (11.0, 95_000.0),  # fires again
    ]

    # Act
    events = _feed(_detector(), [(t, StructuralMetrics(bid_depth_usd=v)) for t, v in readings])

    # Assert
    assert [(e.ts_event - T0) / SEC for e in events] == [0.0, 11.0]


def test_oi_drop_oscillating_around_threshold_does_not_flap() -> None:
    # Arrange: the level 10 s earlier stays 1000 (readings at 0 s and 9 s) while OI swings
    # between 948 (-5.2%) and 955 (-4.5%); release needs a drop under 4%.
    detector = _detector()
    readings = [(0.0, 1000.0), (9.0, 1000.0)]
    readings += [(10.0 + i, 948.0 if i % 2 == 0 else 955.0) for i in range(10)]

    # Act
    events = _feed(detector, [(t, StructuralMetrics(open_interest=oi)) for t, oi in readings])

    # Assert
    assert _kinds(events) == ["OI_DROP"]
    assert not detector.is_armed(StructuralEventKind.OI_DROP)


def test_book_refill_events_are_rate_limited_by_rearm_time() -> None:
    events = _feed(
        _detector(),
        [(t, StructuralMetrics(bid_refill_secs=1.0)) for t in (0.0, 2.0, 4.0, 5.0, 6.0)],
    )
    assert [(e.ts_event - T0) / SEC for e in events] == [0.0, 5.0]


def test_same_inputs_give_identical_event_sequence() -> None:
    readings = [
        (float(t), StructuralMetrics(open_interest=1000.0 - 7 * t, bid_depth_usd=1e5 - 3e3 * t))
        for t in range(40)
    ]
    first = [e.to_dict() for e in _feed(_detector(), readings)]
    second = [e.to_dict() for e in _feed(_detector(), readings)]
    assert first
    assert first == second


def test_reset_rearms_and_restarts_warm_up() -> None:
    detector = _detector()
    _feed(detector, [(0, StructuralMetrics(bid_depth_usd=1.0))])
    assert not detector.is_armed(StructuralEventKind.BID_DEPTH_LOW)
    detector.reset()
    assert detector.is_armed(StructuralEventKind.BID_DEPTH_LOW)
    assert _feed(detector, [(1, StructuralMetrics(bid_depth_usd=1.0))]) != []


# --- config -----------------------------------------------------------------------------------


def test_thresholds_reject_nonsense_values_and_unknown_fields() -> None:
    with pytest.raises(ValueError, match="oi_drop_pct"):
        StructuralEventThresholds(oi_drop_pct=-1.0)
    with pytest.raises(ValueError, match="thinning_ratio"):
        StructuralEventThresholds(thinning_ratio=1.5)
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        StructuralEventThresholds.parse('{"oi_drop_pctt": 1.0}')
    parsed = StructuralEventThresholds.parse('{"oi_drop_pct": 3.0, "rearm_secs": 0}')
    assert parsed.oi_drop_pct == 3.0
    assert parsed.rearm_secs == 0.0


# --- custom data ------------------------------------------------------------------------------


def _event() -> StructuralEvent:
    ctor: Any = StructuralEvent
    event: StructuralEvent = ctor(
        ts_event=T0 + 1,
        ts_init=T0 + 2,
        kind=StructuralEventKind.OI_DROP.value,
        instrument_id=INSTRUMENT_ID,
        value=-6.25,
        threshold=5.0,
        window_secs=10.0,
    )
    return event


def test_structural_event_round_trips_through_dict_bytes_and_arrow() -> None:
    event = _event()

    as_dict = event.to_dict()
    from_dict = StructuralEvent.from_dict(as_dict)  # type: ignore[attr-defined]
    from_bytes = StructuralEvent.from_bytes(event.to_bytes())  # type: ignore[attr-defined]
    from_arrow = StructuralEvent.from_arrow(event.to_arrow())  # type: ignore[attr-defined]

    assert as_dict == {
        "kind": "OI_DROP",
        "instrument_id": "BTC-USD-PERP.HYPERLIQUID",
        "value": -6.25,
        "threshold": 5.0,
        "window_secs": 10.0,
        "side": "",
        "type": "StructuralEvent",
        "ts_event": T0 + 1,
        "ts_init": T0 + 2,
    }
    for restored in (from_dict, from_bytes, from_arrow[0]):
        assert restored == event
        assert restored.ts_event == T0 + 1
        assert restored.ts_init == T0 + 2


class _Publisher(Actor):
    def send(self, event: StructuralEvent) -> None:
        self.publish_data(STRUCTURAL_EVENT_DATA_TYPE, event)


class _Subscriber(Actor):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[Data] = []

    def on_start(self) -> None:
        # Same DataType as the publisher, no instrument_id (see STYLE.md point 7).
        self.subscribe_data(DataType(StructuralEvent))

    def on_data(self, data: Data) -> None:
        self.received.append(data)


def test_structural_event_is_delivered_over_message_bus_with_the_same_data_type() -> None:
    # Arrange: real bus, cache, portfolio and two registered actors.
    clock = TestClock()
    trader_id = TraderId("TESTER-001")
    msgbus = MessageBus(trader_id=trader_id, clock=clock)
    cache = Cache()
    portfolio = Portfolio(msgbus=msgbus, cache=cache, clock=clock)
    publisher = _Publisher()
    subscriber = _Subscriber()
    for actor in (publisher, subscriber):
        actor.register_base(portfolio=portfolio, msgbus=msgbus, cache=cache, clock=clock)
    subscriber.start()
    publisher.start()

    # Act
    events = _feed(
        _detector(),
        [(0, StructuralMetrics(ask_depth_usd=1.0)), (1, StructuralMetrics(ask_refill_secs=3.0))],
    )
    for event in events:
        publisher.send(event)

    # Assert
    assert subscriber.received == events
    assert [type(d) for d in subscriber.received] == [StructuralEvent, StructuralEvent]


def test_structural_events_round_trip_through_a_parquet_data_catalog(tmp_path: Path) -> None:
    # Arrange
    events = _feed(
        _detector(),
        [(0, StructuralMetrics(bid_depth_usd=1.0)), (1, StructuralMetrics(ask_refill_secs=3.0))],
    )
    catalog = ParquetDataCatalog(str(tmp_path))

    # Act
    catalog.write_data(events)
    restored = catalog.query(StructuralEvent)

    # Assert: the catalog wraps custom data in CustomData.
    assert [getattr(r, "data", r) for r in restored] == events


# --- the builder's paths equal on_metrics ---------------------------------------------------

_maybe = st.one_of(st.none(), st.floats(0.0, 2.0))
_inputs = st.lists(
    st.tuples(
        st.integers(0, 3 * SEC),
        st.one_of(
            st.tuples(
                st.just("book"),
                st.floats(0.0, 300_000.0),
                st.floats(0.0, 300_000.0),
                _maybe,
                _maybe,
                _maybe,
                _maybe,
            ),
            st.tuples(st.just("absorbed"), st.sampled_from([0.0, 300_000.0, -300_000.0])),
            st.tuples(st.just("oi"), st.floats(90.0, 110.0)),
            st.tuples(st.just("funding"), st.floats(-0.01, 0.01)),
        ),
    ),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(_inputs)
def test_builder_paths_equal_on_metrics(script: list[tuple[int, tuple[Any, ...]]]) -> None:
    reference = StructuralEventDetector(INSTRUMENT_ID, THRESHOLDS)
    fast = StructuralEventDetector(INSTRUMENT_ID, THRESHOLDS)
    ts = T0
    for gap, (kind, *values) in script:
        ts += gap
        if kind == "book":
            bid, ask, bid_ratio, ask_ratio, bid_refill, ask_refill = values
            expected = reference.on_metrics(
                ts,
                StructuralMetrics(
                    bid_depth_usd=bid,
                    ask_depth_usd=ask,
                    bid_thinning_ratio=bid_ratio,
                    ask_thinning_ratio=ask_ratio,
                    bid_refill_secs=bid_refill,
                    ask_refill_secs=ask_refill,
                ),
            )
            got = fast.on_book(ts, bid, ask, bid_ratio, ask_ratio, bid_refill, ask_refill)
        elif kind == "absorbed":
            expected = reference.on_metrics(ts, StructuralMetrics(absorbed_usd=values[0]))
            got = fast.on_absorbed(ts, values[0])
        elif kind == "oi":
            expected = reference.on_metrics(ts, StructuralMetrics(open_interest=values[0]))
            got = fast.on_open_interest(ts, values[0])
        else:
            expected = reference.on_metrics(ts, StructuralMetrics(funding_rate=values[0]))
            got = fast.on_funding_rate(ts, values[0])
        assert [e.to_dict() for e in got] == [e.to_dict() for e in expected]
