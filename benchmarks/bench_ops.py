"""Ops benchmark: what the node's Prometheus metrics cost on the ingest path.

The ingest path is ``bench_ingest``'s full client path (a realistic mix of 20x20 l2Book, bbo,
trades and asset-context frames through the data client's own frame handler into a DataEngine
with a managed book). It runs for a fixed number of passes over the mix, without metrics and
with a real ``NodeMetricsActor`` registered on the same bus, cache and clock (its bus
subscriptions in place) whose sampling tick and a scrape (``render``, what the HTTP thread does)
run once per second of wall time, in line (on one thread the GIL makes that the same CPU as a
scrape thread). Times are this process's CPU time (other work on the machine moves wall time
far more), and a "second" between scrapes is one CPU second: more scrapes than a wall-clock
second would give, so the figure errs high. Off and on runs are interleaved so both see the same
machine noise; the figure
is the per-frame time with metrics against without (best and median of the runs), and the
direct figure: the time one sample and scrape takes, as a share of each second.

Target: metrics cost <= 5 % of the ingest ceiling.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

from nautilus_trader.backtest.data_client import BacktestMarketDataClient
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.data.engine import DataEngine
from nautilus_trader.data.messages import SubscribeOrderBook
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.portfolio.portfolio import Portfolio

from adapters.hyperliquid.frame_handler import HyperliquidFrameHandler
from adapters.hyperliquid.health import StreamMonitor
from adapters.hyperliquid.providers import parse_perp_instruments
from adapters.hyperliquid.schemas.info import decode_info_response
from adapters.hyperliquid.websocket import HyperliquidWebSocketClient
from jarvis.metrics_actor import NodeMetricsActor
from jarvis.metrics_actor import NodeMetricsActorConfig
from jarvis.testkit import VENUE_CAPTURES

try:  # run as a script: its folder is on sys.path
    from bench_ingest import make_frames
    from bench_ingest import make_mix
except ImportError:  # imported as benchmarks.bench_ops
    from benchmarks.bench_ingest import make_frames
    from benchmarks.bench_ingest import make_mix

BOOKS = 3_000
PASSES = 50  # about 2 CPU seconds per run here: one or two 1 s scrapes in each
RUNS = 4
SCRAPE_EVERY_SECS = 1.0
STREAMS = ("l2Book:BTC", "bbo:BTC", "trades:BTC", "activeAssetCtx:BTC")


class _Feed:
    """The data-client surface the actor samples, over the bench's own monitor and a real (not
    started) WebSocket client: what a HyperliquidDataClient exposes."""

    def __init__(self, monitor: StreamMonitor) -> None:
        self._monitor = monitor
        self.ws_client = HyperliquidWebSocketClient("ws://127.0.0.1:9/ws", lambda *_: None)
        self.recorder = None

    def stream_last_received_ns(self) -> dict[str, int]:
        return self._monitor.last_received_ns()

    def stream_health(self) -> dict[str, Any]:
        return {}

    def feed_counters(self) -> dict[str, tuple[int, int]]:
        return {"BTC": (0, 0)}


def ingest(mix: list[tuple[bytes, str]], instrument: Any, with_metrics: bool) -> dict[str, float]:
    """PASSES passes over the mix; seconds taken, and the scrape count and time with metrics."""
    clock = TestClock()
    trader_id = TraderId("BENCH-001")
    msgbus = MessageBus(trader_id, clock)
    cache = Cache()
    portfolio = Portfolio(msgbus, cache, clock)
    engine = DataEngine(msgbus, cache, clock)
    client = BacktestMarketDataClient(ClientId("HYPERLIQUID"), msgbus, cache, clock)
    engine.register_client(client)
    engine.start()
    cache.add_instrument(instrument)
    engine.execute(
        SubscribeOrderBook(
            instrument.id, OrderBookDelta, BookType.L2_MBP, ClientId("HYPERLIQUID"), None,
            UUID4(), 0, managed=True,
        )
    )  # fmt: skip
    monitor = StreamMonitor({})
    for key in STREAMS:
        monitor.register(key, 0)
    handler = HyperliquidFrameHandler(engine.process, lambda _h: None, monitor)
    handler.add_instrument(instrument)
    for output in ("deltas", "quotes", "trades", "hl_trades", "mark", "index", "funding"):
        handler.set_output("BTC", output, True)
    actor = None
    if with_metrics:
        actor = NodeMetricsActor(NodeMetricsActorConfig())
        actor.register_base(portfolio, msgbus, cache, clock)
        feed = _Feed(monitor)
        actor.sources.data_clients = [feed]
        actor.sources.websockets = [("data", feed.ws_client)]
        actor.start()
    handle = handler.handle
    scrapes = 0
    scrape_s = 0.0
    recv_ns = 1_700_000_000_000_000_000
    seq = 0
    start = time.process_time()
    next_scrape = start + SCRAPE_EVERY_SECS
    for _ in range(PASSES):
        for raw, key in mix:
            seq += 1
            recv_ns += 1_000
            handle(raw, seq, recv_ns, "bench-1", key)
            if actor is not None and seq % 256 == 0 and time.process_time() >= next_scrape:
                began = time.process_time()
                actor.sample(recv_ns)
                actor.metrics.render()
                scrape_s += time.process_time() - began
                scrapes += 1
                next_scrape += SCRAPE_EVERY_SECS
    elapsed = time.process_time() - start
    if actor is not None:
        actor.stop()
        actor.dispose()
    return {"secs": elapsed, "frames": float(seq), "scrapes": scrapes, "scrape_s": scrape_s}


def main() -> None:
    """Interleaved runs without and with metrics; one JSON line."""
    asyncio.set_event_loop(asyncio.new_event_loop())  # the actor's tick is armed on it (never run)
    meta = decode_info_response("meta", (VENUE_CAPTURES / "info_meta.json").read_bytes())
    (btc,) = parse_perp_instruments(meta, 0, coins=["BTC"])
    mix = make_mix(make_frames(BOOKS))
    off: list[dict[str, float]] = []
    on: list[dict[str, float]] = []
    for _ in range(RUNS):
        off.append(ingest(mix, btc, with_metrics=False))
        on.append(ingest(mix, btc, with_metrics=True))
    frames = off[0]["frames"]
    off_s = [r["secs"] for r in off]
    on_s = [r["secs"] for r in on]
    scrapes = sum(r["scrapes"] for r in on)
    scrape_ms = sum(r["scrape_s"] for r in on) / scrapes * 1e3 if scrapes else 0.0
    print(
        json.dumps(
            {
                "benchmark": "ops_metrics_overhead_on_ingest",
                "frames_per_run": int(frames),
                "runs": RUNS,
                "scrape_every_secs": SCRAPE_EVERY_SECS,
                "ingest_frames_per_sec_without_metrics": round(frames / min(off_s)),
                "ingest_frames_per_sec_with_metrics": round(frames / min(on_s)),
                "us_per_frame_without_metrics": round(min(off_s) / frames * 1e6, 3),
                "us_per_frame_with_metrics": round(min(on_s) / frames * 1e6, 3),
                "metrics_overhead_pct": round((min(on_s) / min(off_s) - 1) * 100, 2),
                "metrics_overhead_pct_median": round(
                    (statistics.median(on_s) / statistics.median(off_s) - 1) * 100, 2
                ),
                "scrapes": scrapes,
                "ms_per_sample_and_scrape": round(scrape_ms, 3),
                # The direct figure (the A/B above carries the machine's noise): one sample and
                # scrape per second is this share of the second the ingest path had.
                "metrics_cpu_share_pct_at_1s_scrape": round(scrape_ms / 10, 3),
                "targets": {"metrics_overhead_pct_max": 5},
            }
        )
    )


if __name__ == "__main__":
    main()
