"""One real TradingNode run against the simulator, shared by the end-to-end data-node tests.

Starting a node costs seconds, so the whole scenario runs once per module (``data_node_run``):
the node subscribes to every data type of BTC through the Hyperliquid data client, then the test
harness drives the simulator's admin faults in order -- quiet period, dropped WebSocket, stalled
book stream, skipped and reordered frames, paused market -- and records what it saw at each
step. Each test then asserts one behaviour on that record. Truth comes from the simulator's own
engine (read on its loop thread) or from what the harness asked for, never from the client.

The node logs to a file in a temporary directory at WARNING and above; tests scan it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.common.actor import Actor
from nautilus_trader.common.component import flush_logger
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import LiveDataEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import OrderBookDepth10
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId

from actors.market_state import OPEN_INTEREST_DATA_TYPE
from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
from adapters.hyperliquid.config import HyperliquidRecorderConfig
from adapters.hyperliquid.data import HyperliquidDataClient
from adapters.hyperliquid.data_types import FEED_HEALTH_DATA_TYPE
from adapters.hyperliquid.data_types import HYPERLIQUID_TRADE_DATA_TYPE
from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.factories import HyperliquidLiveDataClientFactory
from adapters.hyperliquid.factories import wire_health_gates
from adapters.hyperliquid.sim.app import SimConfig
from adapters.hyperliquid.sim.app import SimThread
from adapters.hyperliquid.websocket import subscription_stream_key

COIN = "BTC"
INSTRUMENT_ID = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
BAR_TYPE = BarType.from_str("BTC-USD-PERP.HYPERLIQUID-1-MINUTE-LAST-EXTERNAL")
CLIENT_ID = ClientId("HYPERLIQUID")
# The simulator's venue clock starts this long before a minute boundary, so a 1m candle closes
# a few seconds into the run (and another one 60 s later, after the run).
SECS_BEFORE_CLOSE = 8.0
STALE_L2BOOK_SECS = 1.5
GATE_RECOVERY_SECS = 1.0
GRACE_MS = 250


class CollectorConfig(ActorConfig, frozen=True):
    """Nothing to configure: the collector always subscribes to every BTC data type."""


class Collector(Actor):
    """Subscribes to everything the data client offers for BTC and keeps it in arrival order."""

    def __init__(self) -> None:
        super().__init__(CollectorConfig())
        self.received: list[tuple[int, Any]] = []  # (local receive ns, object)
        self.health: list[FeedHealth] = []

    def on_start(self) -> None:
        """Subscribe to every data type of BTC, plus feed health."""
        iid = INSTRUMENT_ID
        self.subscribe_order_book_deltas(iid, book_type=BookType.L2_MBP, managed=True)
        self.subscribe_order_book_depth(iid, book_type=BookType.L2_MBP, depth=10, managed=False)
        self.subscribe_quote_ticks(iid)
        self.subscribe_trade_ticks(iid)
        self.subscribe_mark_prices(iid)
        self.subscribe_index_prices(iid)
        self.subscribe_funding_rates(iid)
        self.subscribe_bars(BAR_TYPE)
        self.subscribe_data(HYPERLIQUID_TRADE_DATA_TYPE, client_id=CLIENT_ID, instrument_id=iid)
        self.subscribe_data(OPEN_INTEREST_DATA_TYPE, client_id=CLIENT_ID, instrument_id=iid)
        self.subscribe_data(FEED_HEALTH_DATA_TYPE, client_id=CLIENT_ID)

    def on_stop(self) -> None:
        """Nothing to undo: the node is shutting down with the actor."""

    def _keep(self, obj: Any) -> None:
        self.received.append((time.time_ns(), obj))

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        self._keep(deltas)

    def on_order_book_depth(self, depth: OrderBookDepth10) -> None:
        self._keep(depth)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self._keep(tick)

    def on_trade_tick(self, tick: TradeTick) -> None:
        self._keep(tick)

    def on_mark_price(self, update: MarkPriceUpdate) -> None:
        self._keep(update)

    def on_index_price(self, update: IndexPriceUpdate) -> None:
        self._keep(update)

    def on_funding_rate(self, update: FundingRateUpdate) -> None:
        self._keep(update)

    def on_bar(self, bar: Bar) -> None:
        self._keep(bar)

    def on_data(self, data: Any) -> None:
        if isinstance(data, FeedHealth):
            self.health.append(data)
        else:
            self._keep(data)

    def of_type(self, cls: type) -> list[Any]:
        """Received objects of one type, in order."""
        return [obj for _, obj in self.received if isinstance(obj, cls)]


@dataclass
class Checkpoint:
    """What the harness saw at one moment of the run."""

    name: str
    wall_ns: int
    trading_state: TradingState
    statuses: dict[str, str]


@dataclass
class DataNodeRun:
    """Everything the end-to-end tests assert on."""

    collector: Collector
    client: HyperliquidDataClient
    recording_dir: Path
    log_file: Path | None
    py_log_records: list[logging.LogRecord]
    checkpoints: list[Checkpoint] = field(default_factory=list)
    truth: dict[str, Any] = field(default_factory=dict)
    node_book: dict[str, Any] = field(default_factory=dict)
    venue_offset_ms: int = 0
    outputs: dict[str, frozenset[str]] = field(default_factory=dict)
    stopped_ns: int = 0

    def checkpoint(self, name: str) -> Checkpoint:
        """The checkpoint called ``name``."""
        return next(c for c in self.checkpoints if c.name == name)


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _admin(base_url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{base_url}/admin/{path}",
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def _wait_for(predicate: Callable[[], bool], timeout_secs: float, what: str) -> None:
    deadline = time.monotonic() + timeout_secs
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_secs} s waiting for {what}")
        await asyncio.sleep(0.05)


def _venue_start_ms() -> int:
    """A venue start time SECS_BEFORE_CLOSE before a minute boundary."""
    now_ms = time.time_ns() // 1_000_000
    minute = now_ms // 60_000 * 60_000
    return minute + 60_000 - int(SECS_BEFORE_CLOSE * 1000)


@pytest.fixture(scope="module")
def data_node_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataNodeRun]:
    """Run the whole scenario once (see module notes) and hand the observations to the tests."""
    tmp = tmp_path_factory.mktemp("data_node")
    log_dir = tmp / "logs"
    log_dir.mkdir()
    recording_dir = tmp / "recording"
    py_handler = _ListHandler()
    adapter_logger = logging.getLogger("adapters")
    adapter_logger.addHandler(py_handler)
    wall_start_ms = time.time_ns() // 1_000_000
    start_ms = _venue_start_ms()
    sim_config = SimConfig(coins=("BTC", "ETH"), start_ms=start_ms, activity=3.0, seed=11)
    with SimThread(sim_config) as sim:
        venue_offset_ms = wall_start_ms - start_ms
        client_config = HyperliquidDataClientConfig(
            http_url=sim.base_url,
            coins=("BTC", "ETH"),
            instrument_refresh_interval_secs=0,
            ws_ping_interval_secs=5.0,
            reconnect_initial_backoff_secs=0.2,
            reconnect_max_backoff_secs=1.0,
            status_log_interval_secs=1.0,
            bar_close_grace_ms=GRACE_MS,
            health=HyperliquidFeedHealthConfig(
                stale_l2book_secs=STALE_L2BOOK_SECS,
                stale_bbo_secs=30.0,
                stale_asset_ctx_secs=5.0,
                check_interval_secs=0.2,
                gate_recovery_secs=GATE_RECOVERY_SECS,
            ),
            recorder=HyperliquidRecorderConfig(directory=str(recording_dir), compression="gzip"),
        )
        node_config = TradingNodeConfig(
            trader_id="JARVIS-001",
            logging=LoggingConfig(
                log_level="ERROR",
                log_level_file="WARNING",
                log_directory=str(log_dir),
                log_file_name="node",
                log_colors=False,
            ),
            data_engine=LiveDataEngineConfig(),
            data_clients={"HYPERLIQUID": client_config},
            timeout_connection=20.0,
            timeout_disconnection=5.0,
            timeout_post_stop=0.5,
            timeout_shutdown=2.0,
            timeout_reconciliation=1.0,
            timeout_portfolio=1.0,
        )
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        node = TradingNode(config=node_config, loop=loop)
        node.add_data_client_factory("HYPERLIQUID", HyperliquidLiveDataClientFactory)
        node.build()
        (client,) = wire_health_gates(node)
        collector = Collector()
        node.trader.add_actor(collector)
        run = DataNodeRun(
            collector=collector,
            client=client,
            recording_dir=recording_dir,
            log_file=None,
            py_log_records=py_handler.records,
            venue_offset_ms=venue_offset_ms,
        )
        risk_engine = node.kernel.risk_engine

        def checkpoint(name: str) -> None:
            statuses = {k: v.status for k, v in client.stream_health().items()}
            run.checkpoints.append(
                Checkpoint(name, time.time_ns(), risk_engine.trading_state, statuses)
            )

        def status(stream: str) -> str | None:
            health = client.stream_health().get(stream)
            return None if health is None else health.status

        def all_ok() -> bool:
            streams = ("l2Book:BTC", "bbo:BTC", "activeAssetCtx:BTC")
            return all(status(s) == "OK" for s in streams)

        async def scenario() -> None:
            runner = loop.create_task(node.run_async())
            await _wait_for(lambda: node.kernel.trader.is_running, 30, "the node to run")
            await _wait_for(all_ok, 15, "the BTC streams to be OK")
            await _wait_for(
                lambda: risk_engine.trading_state == TradingState.ACTIVE, 10, "trading ACTIVE"
            )
            checkpoint("started")
            # 1) A 1m candle closes SECS_BEFORE_CLOSE after the venue start.
            await _wait_for(lambda: bool(collector.of_type(Bar)), 20, "the first bar")
            checkpoint("first_bar")
            # 2) Dropped WebSocket: reconnect, resubscribe, fresh book snapshot, health OK.
            frames_before_drop = client.ws_client.stats.connects
            await loop.run_in_executor(None, _admin, sim.base_url, "fault/drop-ws")
            await _wait_for(
                lambda: client.ws_client.stats.connects > frames_before_drop, 10, "a reconnect"
            )
            await _wait_for(all_ok, 10, "the streams to be OK after the reconnect")
            await asyncio.sleep(1.0)
            checkpoint("after_reconnect")
            await _wait_for(
                lambda: risk_engine.trading_state == TradingState.ACTIVE, 10, "ACTIVE again"
            )
            # 3) Stalled book stream: STALE within its threshold, REDUCING, then ACTIVE.
            stall = {"channel": "l2Book", "coin": COIN}
            await loop.run_in_executor(None, _admin, sim.base_url, "fault/stall", stall)
            checkpoint("stall_started")
            await _wait_for(lambda: status("l2Book:BTC") == "STALE", 10, "l2Book STALE")
            checkpoint("stale")
            await _wait_for(
                lambda: risk_engine.trading_state == TradingState.REDUCING, 5, "REDUCING"
            )
            checkpoint("reducing")
            await loop.run_in_executor(None, _admin, sim.base_url, "fault/clear")
            await _wait_for(lambda: status("l2Book:BTC") == "OK", 10, "l2Book OK again")
            checkpoint("recovered")
            await _wait_for(
                lambda: risk_engine.trading_state == TradingState.ACTIVE, 10, "ACTIVE after stall"
            )
            checkpoint("active_again")
            # 4) A reordered book frame: GAP detected (the older snapshot is never applied).
            reorder = {"channel": "l2Book", "coin": COIN, "count": 1}
            await loop.run_in_executor(None, _admin, sim.base_url, "fault/reorder", reorder)
            await _wait_for(
                lambda: any(
                    h.status == "GAP" and h.stream == "l2Book:BTC" for h in collector.health
                ),
                15,
                "a GAP on l2Book:BTC",
            )
            await _wait_for(lambda: status("l2Book:BTC") == "OK", 10, "l2Book OK after the GAP")
            # 5) Paused market: the node's view must equal the venue's.
            await loop.run_in_executor(None, _admin, sim.base_url, "fault/pause-market")
            await asyncio.sleep(1.5)
            engine = sim.server.venue.engine  # type: ignore[union-attr]
            run.truth = sim.call(
                lambda: {
                    "book": engine.l2_book(COIN, None, None, 20),
                    "bbo": engine.bbo(COIN),
                    "ctx": engine.asset_ctx(COIN),
                    "trades": list(engine.markets[COIN].trades),
                    "candles": engine.candles(COIN, "1m", start_ms - 120_000, start_ms + 600_000),
                }
            )
            book = node.kernel.cache.order_book(INSTRUMENT_ID)
            run.node_book = {
                "bids": [(float(p.price), float(p.size())) for p in book.bids()],
                "asks": [(float(p.price), float(p.size())) for p in book.asks()],
            }
            checkpoint("paused")
            run.outputs = client.frame_handler.outputs()
            await node.stop_async()
            run.stopped_ns = time.time_ns()
            await asyncio.sleep(0.5)
            runner.cancel()
            with_suppress = asyncio.gather(runner, return_exceptions=True)
            await with_suppress

        try:
            loop.run_until_complete(scenario())
        finally:
            # The engines' queue tasks outlive run_async; end them before the loop closes.
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            node.dispose()
            adapter_logger.removeHandler(py_handler)
            asyncio.set_event_loop(None)
    flush_logger()
    logs = sorted(log_dir.glob("*"))
    run.log_file = logs[0] if logs else None
    yield run


# ------------------------------------------------------------------------------------------------
# Skipped trades messages: a second, short scenario on an accelerated venue clock
# ------------------------------------------------------------------------------------------------

# Venue ms per wall ms: a 1m candle closes every 2 s, so minutes can be compared in seconds.
TRADE_GAP_SPEED = 30.0
TRADE_GAP_MINUTES_BEFORE_FAULT = 2


class TradesCollectorConfig(ActorConfig, frozen=True):
    """Nothing to configure: the collector subscribes to BTC trades and feed health only."""


class TradesCollector(Actor):
    """Subscribes to BTC trade ticks (no bars) and feed health, keeping them in order."""

    def __init__(self) -> None:
        super().__init__(TradesCollectorConfig())
        self.ticks: list[TradeTick] = []
        self.health: list[FeedHealth] = []

    def on_start(self) -> None:
        """Trades of BTC and feed health: nothing that needs candles."""
        self.subscribe_trade_ticks(INSTRUMENT_ID)
        self.subscribe_data(FEED_HEALTH_DATA_TYPE, client_id=CLIENT_ID)

    def on_stop(self) -> None:
        """Nothing to undo: the node is shutting down with the actor."""

    def on_trade_tick(self, tick: TradeTick) -> None:
        self.ticks.append(tick)

    def on_data(self, data: Any) -> None:
        if isinstance(data, FeedHealth):
            self.health.append(data)


@dataclass
class TradeGapRun:
    """What the skipped-trades scenario saw."""

    collector: TradesCollector
    log_file: Path | None
    subscriptions: list[str] = field(default_factory=list)
    bars_in_cache: int = 0
    minutes_checked_before_fault: int = 0
    gaps_before_fault: list[FeedHealth] = field(default_factory=list)
    fault_wall_ns: int = 0
    venue_candles: dict[int, int] = field(default_factory=dict)  # minute open ms -> n


@pytest.fixture(scope="module")
def trade_gap_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TradeGapRun]:
    """A node subscribed to BTC trades only, on a fast venue clock: first a normal run until
    the trade-count check has compared a few minutes, then one trades frame skipped by the
    simulator, until the GAP shows (see ``test_trade_gap.py``)."""
    tmp = tmp_path_factory.mktemp("trade_gap")
    log_dir = tmp / "logs"
    log_dir.mkdir()
    sim_config = SimConfig(coins=("BTC",), speed=TRADE_GAP_SPEED, activity=2.0, seed=5)
    with SimThread(sim_config) as sim:
        client_config = HyperliquidDataClientConfig(
            http_url=sim.base_url,
            coins=("BTC",),
            instrument_refresh_interval_secs=0,
            ws_ping_interval_secs=5.0,
            status_log_interval_secs=0,
            health=HyperliquidFeedHealthConfig(check_interval_secs=0.2),
        )
        node_config = TradingNodeConfig(
            trader_id="JARVIS-002",
            logging=LoggingConfig(
                log_level="ERROR",
                log_level_file="WARNING",
                log_directory=str(log_dir),
                log_file_name="node",
                log_colors=False,
            ),
            data_engine=LiveDataEngineConfig(),
            data_clients={"HYPERLIQUID": client_config},
            timeout_connection=20.0,
            timeout_disconnection=5.0,
            timeout_post_stop=0.5,
            timeout_shutdown=2.0,
            timeout_reconciliation=1.0,
            timeout_portfolio=1.0,
        )
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        node = TradingNode(config=node_config, loop=loop)
        node.add_data_client_factory("HYPERLIQUID", HyperliquidLiveDataClientFactory)
        node.build()
        (client,) = [
            c
            for c in node.kernel.data_engine._clients.values()
            if isinstance(c, HyperliquidDataClient)
        ]
        collector = TradesCollector()
        node.trader.add_actor(collector)
        run = TradeGapRun(collector=collector, log_file=None)
        check = client.frame_handler.trade_count_check

        def trade_gaps() -> list[FeedHealth]:
            return [h for h in collector.health if h.stream == "trades:BTC" and h.status == "GAP"]

        async def scenario() -> None:
            runner = loop.create_task(node.run_async())
            await _wait_for(lambda: node.kernel.trader.is_running, 30, "the node to run")
            minutes = TRADE_GAP_MINUTES_BEFORE_FAULT
            await _wait_for(lambda: check.minutes_checked >= minutes, 30, "minutes compared")
            run.minutes_checked_before_fault = check.minutes_checked
            run.gaps_before_fault = trade_gaps()
            run.fault_wall_ns = time.time_ns()
            skip = {"channel": "trades", "coin": COIN, "count": 1}
            await loop.run_in_executor(None, _admin, sim.base_url, "fault/skip", skip)
            await _wait_for(lambda: bool(trade_gaps()), 30, "a GAP on trades:BTC")
            await _wait_for(
                lambda: client.stream_health()["trades:BTC"].status == "OK", 10, "trades OK again"
            )
            await loop.run_in_executor(None, _admin, sim.base_url, "fault/pause-market")
            engine = sim.server.venue.engine  # type: ignore[union-attr]
            now_ms = sim.call(lambda: sim.server.venue.clock.now_ms())  # type: ignore[union-attr]
            candles = sim.call(lambda: engine.candles(COIN, "1m", now_ms - 3_600_000, now_ms))
            run.venue_candles = {int(c["t"]): int(c["n"]) for c in candles}
            run.subscriptions = sorted(
                subscription_stream_key(s) for s in client.ws_client.subscriptions
            )
            run.bars_in_cache = node.kernel.cache.bar_count(
                BarType.from_str("BTC-USD-PERP.HYPERLIQUID-1-MINUTE-LAST-EXTERNAL")
            )
            await node.stop_async()
            await asyncio.sleep(0.3)
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

        try:
            loop.run_until_complete(scenario())
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            node.dispose()
            asyncio.set_event_loop(None)
    flush_logger()
    logs = sorted(log_dir.glob("*"))
    run.log_file = logs[0] if logs else None
    yield run
