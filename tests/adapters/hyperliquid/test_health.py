"""Feed health: stream continuity, staleness, and the RiskEngine health gate."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.enums import TradingState
from nautilus_trader.risk.engine import RiskEngine

from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.data_types import FeedHealthStatus
from adapters.hyperliquid.health import NO_DATA_YET
from adapters.hyperliquid.health import HealthGate
from adapters.hyperliquid.health import StreamMonitor
from adapters.hyperliquid.health import TradeCountCheck
from adapters.hyperliquid.health import stream_key
from adapters.hyperliquid.health import stream_kind
from adapters.hyperliquid.schemas.common import Trade
from jarvis.testkit import CapturingLogger

SEC = 1_000_000_000
BOOK = "l2Book:BTC"
TRADES = "trades:BTC"


def trade(time_ms: int, tid: int) -> Trade:
    """A BTC trade print with the given venue time and tid."""
    return Trade(
        coin="BTC",
        side="B",
        px="1.0",
        sz="1.0",
        time=time_ms,
        hash="0x0",
        tid=tid,
        users=("a", "b"),
    )


def health(stream: str, status: FeedHealthStatus, since_ns: int) -> FeedHealth:
    """A FeedHealth as the monitor would publish it."""
    ctor: Any = FeedHealth
    result: FeedHealth = ctor(
        stream=stream,
        status=status.value,
        reason="test",
        since_ns=since_ns,
        ts_event=since_ns,
        ts_init=since_ns,
    )
    return result


@pytest.fixture
def risk_engine() -> Iterator[RiskEngine]:
    """The RiskEngine of a real (backtest) kernel."""
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    yield engine.kernel.risk_engine
    engine.dispose()


# --- stream keys ------------------------------------------------------------------------------


def test_stream_keys_name_channel_coin_and_interval() -> None:
    assert stream_key("l2Book", "BTC") == "l2Book:BTC"
    assert stream_key("candle", "@107", "1m") == "candle:@107:1m"
    assert stream_kind("candle:xyz:XYZ100:1m") == "candle"


# --- StreamMonitor ------------------------------------------------------------------------------


def test_registered_stream_is_stale_until_its_first_frame_then_ok() -> None:
    monitor = StreamMonitor({"l2Book": 5 * SEC})

    registered = monitor.register(BOOK, 0)
    first = monitor.on_frame(BOOK, 1000, 1 * SEC)
    second = monitor.on_frame(BOOK, 1500, 2 * SEC)

    assert registered is not None
    assert (registered.stream, registered.status) == (BOOK, "STALE")
    assert first is not None
    assert (first.status, first.since_ns) == ("OK", 1 * SEC)
    assert second is None


def test_venue_time_going_backwards_is_a_gap_and_an_in_order_frame_recovers() -> None:
    monitor = StreamMonitor({})
    monitor.register(BOOK, 0)
    monitor.on_frame(BOOK, 2000, 1 * SEC)

    gap = monitor.on_frame(BOOK, 1999, 2 * SEC)
    same_time = monitor.on_frame(BOOK, 2000, 3 * SEC)

    assert gap is not None
    assert gap.status == "GAP"
    assert "1999 < 2000" in gap.reason
    assert same_time is not None
    assert same_time.status == "OK"


def test_silence_beyond_the_threshold_is_stale_only_for_configured_kinds() -> None:
    monitor = StreamMonitor({"l2Book": 5 * SEC})
    monitor.register(BOOK, 0)
    monitor.register(TRADES, 0)
    monitor.on_frame(BOOK, 1, 1 * SEC)
    monitor.on_trades(TRADES, [trade(1, 1)], 1 * SEC)

    assert monitor.check(6 * SEC) == []
    changes = monitor.check(6 * SEC + 1)
    repeat = monitor.check(100 * SEC)

    assert [(c.stream, c.status) for c in changes] == [(BOOK, "STALE")]
    assert "threshold 5 s" in changes[0].reason
    assert repeat == []
    assert monitor.status(TRADES) == "OK"


def test_disconnect_marks_streams_reconnecting_and_they_are_not_also_stale() -> None:
    monitor = StreamMonitor({"l2Book": 1 * SEC})
    monitor.register(BOOK, 0)
    monitor.on_frame(BOOK, 1, 0)

    changes = monitor.on_disconnected([BOOK, "bbo:UNKNOWN"], 1 * SEC, "socket closed")

    assert [(c.stream, c.status, c.reason) for c in changes] == [
        (BOOK, "RECONNECTING", "socket closed")
    ]
    assert monitor.check(10 * SEC) == []


def test_duplicate_trades_are_dropped_without_a_gap() -> None:
    monitor = StreamMonitor({})
    monitor.register(TRADES, 0)
    monitor.on_trades(TRADES, [trade(10, 111), trade(10, 222)], 1)

    fresh, change = monitor.on_trades(TRADES, [trade(10, 222), trade(11, 333)], 2)

    assert [t.tid for t in fresh] == [333]
    assert change is None
    assert monitor.duplicates_dropped == 1
    assert monitor.status(TRADES) == "OK"


def test_same_time_trades_with_non_monotonic_tids_are_all_accepted() -> None:
    # tid is a hash, so a smaller tid after a larger one is normal.
    monitor = StreamMonitor({})
    monitor.register(TRADES, 0)

    fresh, change = monitor.on_trades(
        TRADES, [trade(10, 1095884267920331), trade(10, 159797238452866)], 1
    )

    assert len(fresh) == 2
    assert change is not None
    assert change.status == "OK"


def test_an_older_new_trade_is_a_gap_but_still_published() -> None:
    monitor = StreamMonitor({})
    monitor.register(TRADES, 0)
    monitor.on_trades(TRADES, [trade(20, 1)], 1)

    fresh, change = monitor.on_trades(TRADES, [trade(19, 2)], 2)

    assert [t.tid for t in fresh] == [2]
    assert change is not None
    assert change.status == "GAP"
    assert "19 < 20" in change.reason


def test_replay_after_resubscribe_drops_old_prints_without_a_gap() -> None:
    monitor = StreamMonitor({})
    monitor.register(TRADES, 0)
    monitor.on_trades(TRADES, [trade(20, 1), trade(30, 2)], 1)
    monitor.on_disconnected([TRADES], 2)
    monitor.mark_resubscribed(TRADES, 3)

    fresh, change = monitor.on_trades(TRADES, [trade(25, 9), trade(30, 2), trade(31, 3)], 4)

    assert [t.tid for t in fresh] == [3]
    assert change is not None
    assert change.status == "OK"


def test_l2book_after_resubscribe_may_be_older_without_a_gap_once() -> None:
    monitor = StreamMonitor({})
    monitor.register(BOOK, 0)
    monitor.on_frame(BOOK, 100, 1)
    monitor.on_disconnected([BOOK], 2)
    monitor.mark_resubscribed(BOOK, 3)

    after = monitor.on_frame(BOOK, 90, 4)
    later = monitor.on_frame(BOOK, 80, 5)

    assert after is not None
    assert after.status == "OK"
    assert later is not None
    assert later.status == "GAP"


# --- HealthGate against a real RiskEngine -------------------------------------------------------


# 2026-01-01 00:00 UTC and the minutes after it, in venue ms.
M0 = 1_767_225_600_000
M1 = M0 + 60_000
M2 = M1 + 60_000
M3 = M2 + 60_000


def armed_check() -> TradeCountCheck:
    """A check for BTC that has seen a trades frame and then the first candle (minute M0)."""
    check = TradeCountCheck()
    check.reset("BTC")
    check.on_trades("BTC", [trade(M0 + 5, 1)])
    assert check.on_candle("BTC", M0, 9) is None
    return check


def test_a_minute_with_fewer_prints_than_the_venue_counted_is_reported_once_final() -> None:
    check = armed_check()
    check.on_trades("BTC", [trade(M1 + 1, 11), trade(M1 + 2, 12)])
    check.on_trades("BTC", [trade(M1 + 3, 13)])
    # The venue's count grows to 4 while the minute runs; one frame never reached us.

    during = [check.on_candle("BTC", M1, n) for n in (2, 3, 4)]
    final = check.on_candle("BTC", M2, 1)

    assert during == [None, None, None]
    assert final == "trades: venue counted 4 in 2026-01-01 00:01 UTC, received 3"
    assert (check.minutes_checked, check.gaps_found) == (1, 1)


def test_complete_minutes_and_repeated_prints_raise_nothing() -> None:
    check = armed_check()
    prints = [trade(M1 + 1, 11), trade(M1 + 1, 12), trade(M1 + 40_000, 13)]
    check.on_trades("BTC", prints)
    check.on_trades("BTC", prints[1:])  # replayed prints count once

    assert check.on_candle("BTC", M1, 3) is None
    assert check.on_candle("BTC", M2, 0) is None
    assert check.on_candle("BTC", M3, 0) is None  # M2: venue 0, received 0
    assert (check.minutes_checked, check.gaps_found) == (2, 0)


def test_the_first_candles_minute_is_never_compared() -> None:
    check = TradeCountCheck()
    check.reset("BTC")
    check.on_trades("BTC", [trade(M1 + 30_000, 11)])  # prints before this one were missed

    assert check.on_candle("BTC", M1, 50) is None
    assert check.on_candle("BTC", M2, 1) is None


def test_candles_before_any_trades_frame_do_not_start_the_count() -> None:
    check = TradeCountCheck()
    check.reset("BTC")
    assert check.on_candle("BTC", M0, 3) is None  # trades subscription not proven live yet
    check.on_trades("BTC", [trade(M1 + 10, 11)])

    assert check.on_candle("BTC", M1, 5) is None  # first candle after trades: skipped minute
    assert check.on_candle("BTC", M2, 1) is None
    check.on_trades("BTC", [trade(M2 + 10, 21)])
    assert check.on_candle("BTC", M2, 2) is None
    assert check.on_candle("BTC", M3, 1) == (
        "trades: venue counted 2 in 2026-01-01 00:02 UTC, received 1"
    )


def test_reset_after_a_reconnect_forgets_the_partial_minute() -> None:
    check = armed_check()
    check.on_trades("BTC", [trade(M1 + 1, 11)])
    check.on_candle("BTC", M1, 1)

    check.reset_all()  # new connection: prints of M1 may have been lost while disconnected
    check.on_trades("BTC", [trade(M1 + 50_000, 15)])

    assert check.on_candle("BTC", M1, 6) is None
    assert check.on_candle("BTC", M2, 1) is None


def test_older_candles_and_unwatched_coins_are_ignored() -> None:
    check = armed_check()
    check.on_trades("BTC", [trade(M1 + 1, 11)])
    check.on_candle("BTC", M1, 1)

    assert check.on_candle("BTC", M0, 100) is None  # a stale push of a finished minute
    assert check.on_candle("ETH", M2, 100) is None
    check.discard("BTC")
    assert check.on_candle("BTC", M3, 100) is None


def test_reported_gap_marks_the_trades_stream_until_its_next_in_order_frame() -> None:
    monitor = StreamMonitor({})
    monitor.register(TRADES, 0)
    monitor.on_trades(TRADES, [trade(1_000, 1)], 1)

    change = monitor.report_gap(TRADES, "trades: venue counted 2 in x, received 1", 2)
    _, recovered = monitor.on_trades(TRADES, [trade(2_000, 2)], 3)

    assert change is not None
    assert (change.stream, change.status) == (TRADES, "GAP")
    assert change.reason == "trades: venue counted 2 in x, received 1"
    assert recovered is not None and recovered.status == "OK"
    assert monitor.report_gap("trades:ETH", "x", 4) is None  # not registered


def test_gate_reduces_while_a_needed_stream_is_unhealthy_and_restores_after_recovery(
    risk_engine: RiskEngine,
) -> None:
    messages: list[str] = []
    gate = HealthGate(risk_engine, recovery_ns=5 * SEC, publish=messages.append)
    gate.on_health(health(BOOK, FeedHealthStatus.OK, 0))
    gate.set_required_streams([BOOK], 0)
    assert risk_engine.trading_state == TradingState.ACTIVE

    gate.on_health(health(BOOK, FeedHealthStatus.STALE, 10 * SEC))
    assert risk_engine.trading_state == TradingState.REDUCING
    gate.on_health(health(BOOK, FeedHealthStatus.OK, 20 * SEC))
    gate.check(24 * SEC)
    assert risk_engine.trading_state == TradingState.REDUCING
    gate.check(25 * SEC)

    assert risk_engine.trading_state == TradingState.ACTIVE
    assert len(messages) == 2
    assert "REDUCING" in messages[0]
    assert "l2Book:BTC=STALE" in messages[0]
    assert "ACTIVE" in messages[1]


def test_unneeded_streams_do_not_gate_and_unknown_needed_streams_do(
    risk_engine: RiskEngine,
) -> None:
    gate = HealthGate(risk_engine, recovery_ns=0)
    gate.on_health(health("bbo:ETH", FeedHealthStatus.GAP, 1))
    gate.set_required_streams([], 1)
    assert risk_engine.trading_state == TradingState.ACTIVE

    gate.set_required_streams([BOOK], 2)

    assert risk_engine.trading_state == TradingState.REDUCING


def test_a_relapse_during_recovery_keeps_reducing(risk_engine: RiskEngine) -> None:
    gate = HealthGate(risk_engine, recovery_ns=5 * SEC)
    gate.set_required_streams([BOOK, TRADES], 0)
    gate.on_health(health(BOOK, FeedHealthStatus.OK, 1 * SEC))
    gate.on_health(health(TRADES, FeedHealthStatus.OK, 2 * SEC))
    gate.check(6 * SEC)
    assert risk_engine.trading_state == TradingState.REDUCING

    gate.check(7 * SEC)
    assert risk_engine.trading_state == TradingState.ACTIVE
    gate.on_health(health(TRADES, FeedHealthStatus.GAP, 8 * SEC))
    gate.on_health(health(TRADES, FeedHealthStatus.OK, 9 * SEC))
    gate.on_health(health(BOOK, FeedHealthStatus.RECONNECTING, 10 * SEC))
    gate.check(20 * SEC)

    assert risk_engine.trading_state == TradingState.REDUCING


def test_gate_never_lifts_a_halt_set_by_someone_else(risk_engine: RiskEngine) -> None:
    gate = HealthGate(risk_engine, recovery_ns=0)
    gate.set_required_streams([BOOK], 0)
    assert risk_engine.trading_state == TradingState.REDUCING
    risk_engine.set_trading_state(TradingState.HALTED)

    gate.on_health(health(BOOK, FeedHealthStatus.OK, 1))
    gate.check(10 * SEC)

    assert risk_engine.trading_state == TradingState.HALTED
    assert not gate.engaged


def test_gate_leaves_an_operator_reducing_in_place(risk_engine: RiskEngine) -> None:
    risk_engine.set_trading_state(TradingState.REDUCING)
    gate = HealthGate(risk_engine, recovery_ns=0)
    gate.set_required_streams([BOOK], 0)
    gate.on_health(health(BOOK, FeedHealthStatus.OK, 1))

    gate.check(10 * SEC)

    assert risk_engine.trading_state == TradingState.REDUCING
    assert not gate.engaged


def test_monitor_transitions_drive_the_gate_end_to_end(risk_engine: RiskEngine) -> None:
    monitor = StreamMonitor({"l2Book": 2 * SEC})
    gate = HealthGate(risk_engine, recovery_ns=3 * SEC)

    def publish(change: FeedHealth | None) -> None:
        if change is not None:
            gate.on_health(change)

    publish(monitor.register(BOOK, 0))
    gate.set_required_streams([BOOK], 0)
    assert risk_engine.trading_state == TradingState.REDUCING
    for second in range(1, 5):
        publish(monitor.on_frame(BOOK, second * 1000, second * SEC))
        gate.check(second * SEC)
    assert risk_engine.trading_state == TradingState.ACTIVE

    for change in monitor.check(7 * SEC):
        publish(change)
    assert risk_engine.trading_state == TradingState.REDUCING
    publish(monitor.on_frame(BOOK, 8000, 8 * SEC))
    gate.check(11 * SEC)

    assert risk_engine.trading_state == TradingState.ACTIVE


def test_the_newest_first_snapshot_after_a_subscribe_is_published_oldest_first_without_a_gap() -> (
    None
):
    monitor = StreamMonitor({})
    monitor.register(TRADES, 0)
    snapshot = [trade(3_000, 30), trade(2_000, 20), trade(2_000, 21), trade(1_000, 10)]

    fresh, change = monitor.on_trades(TRADES, snapshot, 1)
    live, _ = monitor.on_trades(TRADES, [trade(500, 5)], 2)

    assert [(t.time, t.tid) for t in fresh] == [(1_000, 10), (2_000, 21), (2_000, 20), (3_000, 30)]
    assert change is not None and change.status == "OK"
    assert monitor.status(TRADES) == "GAP"  # after the snapshot, an older print is a GAP
    assert [t.tid for t in live] == [5]


def test_a_named_condition_holds_reducing_with_its_reason_until_lifted_and_recovered(
    risk_engine: RiskEngine,
) -> None:
    messages: list[str] = []
    gate = HealthGate(risk_engine, recovery_ns=2 * SEC, publish=messages.append)
    gate.on_health(health(BOOK, FeedHealthStatus.OK, 0))
    gate.set_required_streams([BOOK], 0)

    gate.set_condition("dead-man switch", "refused by the venue: X", 1 * SEC)
    assert risk_engine.trading_state == TradingState.REDUCING
    gate.set_condition("account view", "last refreshed 70 s ago", 2 * SEC)
    gate.set_condition("dead-man switch", None, 3 * SEC)
    gate.check(10 * SEC)
    assert risk_engine.trading_state == TradingState.REDUCING  # the account view still holds
    gate.set_condition("account view", None, 11 * SEC)
    gate.check(12 * SEC)
    assert risk_engine.trading_state == TradingState.REDUCING  # recovering
    gate.check(13 * SEC)

    assert risk_engine.trading_state == TradingState.ACTIVE
    assert "dead-man switch (refused by the venue: X)" in messages[0]
    assert gate.conditions == {}


def test_a_condition_and_an_unhealthy_stream_are_both_named(risk_engine: RiskEngine) -> None:
    messages: list[str] = []
    gate = HealthGate(risk_engine, recovery_ns=0, publish=messages.append)
    gate.set_condition("account view", "stale", 0)
    gate.set_required_streams([BOOK], 0)
    gate.set_condition("account view", None, 1)

    assert risk_engine.trading_state == TradingState.REDUCING  # the book is still UNKNOWN
    assert messages[0].endswith("account view (stale)")


def test_waiting_for_the_first_frame_is_info_and_still_waiting_a_threshold_later_is_a_warning(
    risk_engine: RiskEngine,
) -> None:
    """A node's start: every stream STALE "no data yet" and the gate REDUCING is the expected
    fail-closed start, logged at INFO (a newcomer's terminal is not a wall of warnings); a
    stream that has still sent nothing a threshold later is reported again, once, and that
    one is a warning. A stream that had data and went silent is the plain STALE as before."""
    log = CapturingLogger("HealthGate")
    monitor = StreamMonitor({"l2Book": 5 * SEC, "bbo": 5 * SEC})
    gate = HealthGate(risk_engine, recovery_ns=0, logger=log)
    for stream in (BOOK, "bbo:BTC"):
        change = monitor.register(stream, 0)
        assert change is not None and change.reason == NO_DATA_YET
        gate.on_health(change)
    gate.set_required_streams([BOOK, "bbo:BTC"], 0)
    assert risk_engine.trading_state == TradingState.REDUCING
    assert log.lines == [
        "INFO health gate: trading state -> REDUCING: unhealthy feed: "
        f"bbo:BTC=STALE ({NO_DATA_YET}), l2Book:BTC=STALE ({NO_DATA_YET})"
    ]

    monitor.on_frame(BOOK, 1_000, 1 * SEC)
    assert monitor.check(5 * SEC) == []  # bbo: 5 s, not more than its threshold
    (waiting,) = monitor.check(5 * SEC + 1)
    assert (waiting.stream, waiting.status) == ("bbo:BTC", "STALE")
    assert waiting.reason == "no data 5.000 s after subscribing (threshold 5 s)"
    assert monitor.check(60 * SEC) != [] and monitor.check(61 * SEC) == []  # book: plain STALE

    # A feed that was healthy and goes bad is a warning, as before.
    risk_engine.set_trading_state(TradingState.ACTIVE)
    gate2 = HealthGate(risk_engine, recovery_ns=0, logger=log)
    gate2.on_health(health(BOOK, FeedHealthStatus.OK, 0))
    gate2.set_required_streams([BOOK], 0)
    gate2.on_health(health(BOOK, FeedHealthStatus.STALE, 1 * SEC))
    assert log.lines[-1].startswith("WARNING health gate: trading state -> REDUCING")
