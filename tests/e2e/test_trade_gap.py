"""End to end: a skipped trades message is detected as a GAP, and a normal run raises none.

The scenario runs once (``conftest.trade_gap_run``): a TradingNode subscribed to BTC trades
only, against the simulator on a fast clock (a minute every 2 s). The data client subscribes
the 1m candles itself and compares each closed minute's venue trade count with the prints it
received; the simulator then drops one trades frame (fault ``skip``). Truth comes from the
simulator's own candles, read while its market was paused.
"""

from __future__ import annotations

import calendar
import re
import time
from typing import Any

from jarvis.testkit import unexpected_log_lines

NANOS_PER_MS = 1_000_000
MINUTE_MS = 60_000
REASON = re.compile(
    r"trades: venue counted (\d+) in (\d{4}-\d\d-\d\d \d\d:\d\d) UTC, received (\d+)"
)


_EXPECTED_WARNINGS = [
    r"Feed trades:BTC: (STALE|GAP) \(",
    r"No `exec_clients` configuration found",
    r"ExecEngine: No clients to",
    # sim.toml's node is data-only. Its health gate holds trading until the streams the actors
    # subscribed have sent their first data: expected, so logged at INFO, not listed here.
    r"TradingNode: Reconciliation deactivated",
]


def _received_in(run: Any, minute_ms: int) -> int:
    """Distinct trade ids the node received for a venue minute."""
    return len(
        {
            t.trade_id.value
            for t in run.collector.ticks
            if minute_ms <= t.ts_event // NANOS_PER_MS < minute_ms + MINUTE_MS
        }
    )


def test_trades_subscribe_the_1m_candles_internally_without_publishing_bars(
    trade_gap_run: Any,
) -> None:
    # What sim.toml's actors and the collector asked for (book, quotes, trades, mark / index /
    # funding / open interest), plus the 1m candles nobody asked for: the trade-count check's.
    assert trade_gap_run.subscriptions == [
        "activeAssetCtx:BTC",
        "bbo:BTC",
        "candle:BTC:1m",
        "l2Book:BTC",
        "trades:BTC",
    ]
    assert trade_gap_run.bar_subscriptions == []
    assert trade_gap_run.bars_in_cache == 0


def test_a_normal_run_compares_minutes_and_raises_no_gap(trade_gap_run: Any) -> None:
    before_fault = [
        h
        for h in trade_gap_run.collector.health
        if h.status == "GAP" and h.since_ns < trade_gap_run.fault_wall_ns
    ]

    assert trade_gap_run.minutes_checked_before_fault >= 2
    assert trade_gap_run.gaps_before_fault == []
    assert before_fault == []


def test_a_skipped_trades_frame_is_a_gap_with_the_venue_and_received_counts(
    trade_gap_run: Any,
) -> None:
    gaps = [
        h for h in trade_gap_run.collector.health if h.stream == "trades:BTC" and h.status == "GAP"
    ]

    assert len(gaps) == 1
    match = REASON.fullmatch(gaps[0].reason)
    assert match is not None, gaps[0].reason
    venue, minute_text, received = int(match[1]), match[2], int(match[3])
    minute_ms = calendar.timegm(time.strptime(minute_text, "%Y-%m-%d %H:%M")) * 1000
    assert venue == trade_gap_run.venue_candles[minute_ms]  # the simulator's own count
    assert received == _received_in(trade_gap_run, minute_ms)  # what the node delivered
    assert venue > received
    assert gaps[0].since_ns > trade_gap_run.fault_wall_ns


def test_the_trades_stream_recovers_and_nothing_else_went_wrong(trade_gap_run: Any) -> None:
    trades_health = [h.status for h in trade_gap_run.collector.health if h.stream == "trades:BTC"]
    unexpected = unexpected_log_lines(trade_gap_run.log_text, _EXPECTED_WARNINGS)

    assert "OK" in trades_health[trades_health.index("GAP") + 1 :]
    assert unexpected == []
