"""End to end: a TradingNode with the Hyperliquid data client against the local simulator.

The scenario runs once (``conftest.data_node_run``); each test checks one promise on it. Truth
comes from the simulator's engine (read while the market was paused) or from the harness.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from nautilus_trader.core.data import Data
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import OrderBookDepth10
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import TradingState

from adapters.hyperliquid.data_types import HyperliquidTrade
from adapters.hyperliquid.data_types import OpenInterestUpdate
from adapters.hyperliquid.recorder import FrameKind
from adapters.hyperliquid.recorder import iter_records
from adapters.hyperliquid.replay import replay_frames
from jarvis.testkit import unexpected_log_lines

STALE_L2BOOK_SECS = 1.5
CHECK_INTERVAL_SECS = 0.2
L2_PUSH_INTERVAL_SECS = 0.5
GATE_RECOVERY_SECS = 1.0
GRACE_MS = 250


def _levels(levels: list[dict[str, Any]]) -> list[tuple[float, float]]:
    return [(float(lvl["px"]), float(lvl["sz"])) for lvl in levels]


def test_order_book_equals_the_venue_book_when_the_market_is_paused(data_node_run: Any) -> None:
    truth = data_node_run.truth["book"]

    assert data_node_run.node_book["bids"] == _levels(truth["levels"][0])
    assert data_node_run.node_book["asks"] == _levels(truth["levels"][1])
    assert len(data_node_run.node_book["bids"]) >= 5


def test_depth10_and_quote_equal_the_venue_top_of_book(data_node_run: Any) -> None:
    book = data_node_run.truth["book"]
    bbo = data_node_run.truth["bbo"]
    depth = data_node_run.collector.of_type(OrderBookDepth10)[-1]
    quote = data_node_run.collector.of_type(QuoteTick)[-1]

    bids = [(float(o.price), float(o.size)) for o in depth.bids]
    asks = [(float(o.price), float(o.size)) for o in depth.asks]
    assert bids == _levels(book["levels"][0][:10])
    assert asks == _levels(book["levels"][1][:10])
    bid, ask = bbo["bbo"]
    assert (float(quote.bid_price), float(quote.bid_size)) == (float(bid["px"]), float(bid["sz"]))
    assert (float(quote.ask_price), float(quote.ask_size)) == (float(ask["px"]), float(ask["sz"]))


def test_every_trade_matches_a_venue_print_with_side_addresses_and_hash(
    data_node_run: Any,
) -> None:
    venue = {int(t["tid"]): t for t in data_node_run.truth["trades"]}
    ticks = data_node_run.collector.of_type(TradeTick)
    prints = data_node_run.collector.of_type(HyperliquidTrade)

    assert len(ticks) >= 5
    assert len(prints) == len(ticks)
    for tick, hl in zip(ticks, prints, strict=True):
        trade = venue[int(tick.trade_id.value)]
        assert float(tick.price) == float(trade["px"])
        assert float(tick.size) == float(trade["sz"])
        side = AggressorSide.BUYER if trade["side"] == "B" else AggressorSide.SELLER
        assert tick.aggressor_side == side
        assert tick.ts_event == trade["time"] * 1_000_000
        assert hl.tid == trade["tid"]
        assert (hl.buyer, hl.seller) == tuple(trade["users"])
        assert hl.hash == trade["hash"]
    assert len({t.trade_id for t in ticks}) == len(ticks)  # replayed prints never duplicated


def test_mark_index_funding_and_open_interest_equal_the_venue_context(data_node_run: Any) -> None:
    ctx = data_node_run.truth["ctx"]
    collector = data_node_run.collector

    assert float(collector.of_type(MarkPriceUpdate)[-1].value) == float(ctx["markPx"])
    assert float(collector.of_type(IndexPriceUpdate)[-1].value) == float(ctx["oraclePx"])
    funding = collector.of_type(FundingRateUpdate)[-1]
    assert funding.rate == Decimal(ctx["funding"])
    assert funding.interval == 60
    assert collector.of_type(OpenInterestUpdate)[-1].value == float(ctx["openInterest"])


def test_bar_is_the_complete_venue_candle_emitted_right_after_its_close(
    data_node_run: Any,
) -> None:
    bar = data_node_run.collector.of_type(Bar)[0]
    close_ms = bar.ts_event // 1_000_000
    candle = next(c for c in data_node_run.truth["candles"] if c["T"] + 1 == close_ms)
    local_close_ns = (close_ms + data_node_run.venue_offset_ms) * 1_000_000
    next_candle_recv = [
        r.recv_ns
        for r in iter_records(data_node_run.recording_dir)
        if r.stream == "candle:BTC:1m" and b'"t":%d' % close_ms in r.payload
    ]

    assert close_ms % 60_000 == 0
    assert (float(bar.open), float(bar.high), float(bar.low), float(bar.close)) == (
        float(candle["o"]),
        float(candle["h"]),
        float(candle["l"]),
        float(candle["c"]),
    )
    assert float(bar.volume) == float(candle["v"])
    # Emitted once the close passed (50 ms for the test's estimate of the venue clock) ...
    assert bar.ts_init >= local_close_ns - 50_000_000
    assert bar.ts_init - local_close_ns < 1_500_000_000
    # ... and not by waiting for the next period's candle.
    assert not next_candle_recv or bar.ts_init <= next_candle_recv[0]
    assert len(data_node_run.collector.of_type(Bar)) == 1  # the next 1m close is after the run


def test_dropped_websocket_reconnects_resubscribes_and_rebuilds_the_book(
    data_node_run: Any,
) -> None:
    records = [r for r in iter_records(data_node_run.recording_dir) if r.kind == FrameKind.WS_IN]
    conn_ids = list(dict.fromkeys(r.conn_id for r in records))
    first, second = conn_ids[0], conn_ids[1]
    last_old = max(r.recv_ns for r in records if r.conn_id == first)
    new = [r for r in records if r.conn_id == second]
    snapshots = [
        d
        for d in data_node_run.collector.of_type(OrderBookDeltas)
        if d.deltas[0].action == BookAction.CLEAR
    ]
    l2_health = [h.status for h in data_node_run.collector.health if h.stream == "l2Book:BTC"]

    assert len(conn_ids) == 2
    assert new[0].recv_ns > last_old  # the gap is visible in the recording
    acks = {
        r.payload
        for r in new
        if r.stream == "subscriptionResponse" and b'"coin":"BTC"' in r.payload
    }
    assert len(acks) == 5  # BTC's book, bbo, trades, asset context, candle: all resubscribed
    assert len(snapshots) == 2  # one after the subscribe, one after the reconnect
    assert snapshots[1].ts_init >= new[0].recv_ns
    assert "RECONNECTING" in l2_health
    assert l2_health[l2_health.index("RECONNECTING") + 1] == "OK"
    assert data_node_run.checkpoint("after_reconnect").statuses["l2Book:BTC"] == "OK"


def test_stalled_book_goes_stale_within_threshold_and_gates_trading(data_node_run: Any) -> None:
    start = data_node_run.checkpoint("stall_started").wall_ns
    stale = next(
        h
        for h in data_node_run.collector.health
        if h.stream == "l2Book:BTC" and h.status == "STALE" and h.since_ns > start
    )
    recovered = next(
        h
        for h in data_node_run.collector.health
        if h.stream == "l2Book:BTC" and h.status == "OK" and h.since_ns > stale.since_ns
    )
    limit_secs = STALE_L2BOOK_SECS + L2_PUSH_INTERVAL_SECS + CHECK_INTERVAL_SECS + 0.5

    assert (stale.since_ns - start) / 1e9 <= limit_secs
    assert data_node_run.checkpoint("started").trading_state == TradingState.ACTIVE
    assert data_node_run.checkpoint("reducing").trading_state == TradingState.REDUCING
    assert data_node_run.checkpoint("recovered").trading_state == TradingState.REDUCING
    active = data_node_run.checkpoint("active_again")
    assert active.trading_state == TradingState.ACTIVE
    assert (active.wall_ns - recovered.since_ns) / 1e9 >= GATE_RECOVERY_SECS


def test_reordered_book_frame_is_a_gap_and_is_not_applied(data_node_run: Any) -> None:
    gaps = [
        h for h in data_node_run.collector.health if h.stream == "l2Book:BTC" and h.status == "GAP"
    ]
    deltas = data_node_run.collector.of_type(OrderBookDeltas)

    assert len(gaps) == 1
    assert "venue time went backwards" in gaps[0].reason
    event_times = [d.ts_event for d in deltas]
    assert event_times == sorted(event_times)  # the older snapshot never reached the book


def test_replayed_recording_reproduces_the_live_data_objects(data_node_run: Any) -> None:
    cutoff = data_node_run.checkpoint("paused").wall_ns
    live = [obj for _, obj in data_node_run.collector.received if obj.ts_init <= cutoff]
    result = replay_frames(
        iter_records(data_node_run.recording_dir),
        outputs={"BTC": data_node_run.outputs["BTC"]},  # the collector's instrument
        bar_close_grace_ms=GRACE_MS,
    )
    replayed = [
        d.data if isinstance(d, CustomData) else d for d in result.data if d.ts_init <= cutoff
    ]

    def as_dicts(objects: list[Data]) -> list[tuple[str, dict[str, Any]]]:
        return [(type(o).__name__, type(o).to_dict(o)) for o in objects]  # type: ignore[attr-defined]

    assert len(live) > 100
    assert as_dicts(replayed) == as_dicts(live)


_EXPECTED_WARNINGS = [
    r"TradingNode: No `exec_clients` configuration found",
    r"TradingNode: Reconciliation deactivated",  # sim.toml: a data-only node
    r"ExecEngine: No clients to (dis)?connect",
    r"DataClient-HYPERLIQUID: Feed \S+: (STALE|GAP|RECONNECTING) \(",
    r"DataClient-HYPERLIQUID: health gate: trading state -> REDUCING: unhealthy feed",
    r"DataClient-HYPERLIQUID: WebSocket disconnected: connection lost",
    r"DataClient-HYPERLIQUID: WebSocket reconnecting \(attempt \d+\)",
    # The test shortens the recovery below the safety default, so the client says so.
    r"DataClient-HYPERLIQUID: Health limit loosened by config override: gate_recovery_secs = ",
    # The transport's own lines, through NautilusTrader's logger under its component name.
    r"DataClient-HYPERLIQUID-WebSocket: \S+ disconnected: connection lost",
    r"DataClient-HYPERLIQUID-WebSocket: reconnecting to \S+, attempt \d+ in [\d.]+ s",
    r"DataClient-HYPERLIQUID-WebSocket: connection to \S+ failed: ",
]


def test_a_loosened_health_limit_is_logged_at_warning_when_the_client_starts(
    data_node_run: Any,
) -> None:
    assert re.search(
        r"\[WARN\] \S+\.DataClient-HYPERLIQUID: Health limit loosened by config override: "
        r"gate_recovery_secs = 1 s \(default 5 s\)",
        data_node_run.log_text,
    )


def test_no_error_and_only_expected_health_warnings_in_the_logs(data_node_run: Any) -> None:
    unexpected = unexpected_log_lines(data_node_run.log_text, _EXPECTED_WARNINGS)

    assert "health gate" in data_node_run.log_text  # the file did capture warnings
    # The transports log through NautilusTrader too: their lines are in the same file.
    assert "DataClient-HYPERLIQUID-WebSocket: " in data_node_run.log_text
    assert unexpected == []


def test_the_gap_shows_in_the_per_instrument_status_line(data_node_run: Any) -> None:
    line = data_node_run.status_line

    assert line.startswith("BTC-USD-PERP.HYPERLIQUID bid=")
    gaps = int(re.search(r" gaps=(\d+) ", line).group(1))  # type: ignore[union-attr]
    assert gaps >= 1
    assert line.endswith("decode_errors=0")
