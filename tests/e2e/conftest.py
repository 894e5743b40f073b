"""Real TradingNode runs against the simulator, shared by the end-to-end data-node tests.

Both nodes are built from ``config/sim.toml`` the way ``jarvis node`` builds them
(``jarvis.node.load_for_run`` with ``NodeOverrides``, then ``build_node``); only the knobs a
fast, deterministic test needs are changed (``_from_sim_toml``).

Starting a node costs seconds, so the whole scenario runs once per module (``data_node_run``):
a collector subscribes to every data type of BTC through the Hyperliquid data client, then the
test harness drives the simulator's admin faults in order -- quiet period, dropped WebSocket,
stalled book stream, skipped and reordered frames, paused market -- and records what it saw at
each step. Each test then asserts one behaviour on that record. Truth comes from the simulator's
own engine (read on its loop thread) or from what the harness asked for, never from the client.

The node logs to a file in a temporary directory at WARNING and above; tests scan it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import msgspec
import pytest
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
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

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.data import HyperliquidDataClient
from adapters.hyperliquid.data_types import FEED_HEALTH_DATA_TYPE
from adapters.hyperliquid.data_types import HYPERLIQUID_TRADE_DATA_TYPE
from adapters.hyperliquid.data_types import OPEN_INTEREST_DATA_TYPE
from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.websocket import subscription_stream_key
from config.loading import CONFIG_DIR
from config.loading import LoadedNodeConfig
from jarvis.market_log import MarketDataLogger
from jarvis.node import NodeOverrides
from jarvis.node import build_node
from jarvis.node import load_for_run
from jarvis.testkit import file_logging
from jarvis.testkit import hyperliquid_data_client
from jarvis.testkit import keep_actors_of
from jarvis.testkit import new_event_loop
from jarvis.testkit import read_logs
from jarvis.testkit import replace_node
from jarvis.testkit import run_node
from jarvis.testkit import sim_admin_async
from jarvis.testkit import tune_data_client
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread

SIM_TOML = CONFIG_DIR / "sim.toml"
SIM_COINS = ("BTC", "ETH", "SOL")  # the coins sim.toml's data client and actors name
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
    checkpoints: list[Checkpoint] = field(default_factory=list)
    truth: dict[str, Any] = field(default_factory=dict)
    node_book: dict[str, Any] = field(default_factory=dict)
    venue_offset_ms: int = 0
    outputs: dict[str, frozenset[str]] = field(default_factory=dict)
    log_text: str = ""  # the node's log file (WARNING and above)
    status_line: str = ""  # the MarketDataLogger's BTC line after the GAP

    def checkpoint(self, name: str) -> Checkpoint:
        """The checkpoint called ``name``."""
        return next(c for c in self.checkpoints if c.name == name)


def _venue_start_ms() -> int:
    """A venue start time SECS_BEFORE_CLOSE before a minute boundary."""
    now_ms = time.time_ns() // 1_000_000
    minute = now_ms // 60_000 * 60_000
    return minute + 60_000 - int(SECS_BEFORE_CLOSE * 1000)


def _from_sim_toml(
    base_url: str,
    log_dir: Path,
    tune: Callable[[HyperliquidDataClientConfig], HyperliquidDataClientConfig],
    record_directory: Path | None = None,
) -> LoadedNodeConfig:
    """config/sim.toml as ``jarvis node`` loads it, pointed at the simulator, with the test's
    knobs. Everything else -- clients, factories, actors (MarketDataLogger and the
    MarketStateBuilders), engine settings and timeouts -- comes from the shipped file."""
    overrides = NodeOverrides(
        http_url=base_url,
        record_directory=None if record_directory is None else str(record_directory),
    )
    loaded = tune_data_client(load_for_run(SIM_TOML, overrides), "HYPERLIQUID", tune)
    return replace_node(loaded, logging=file_logging(log_dir))


@pytest.fixture(scope="module")
def data_node_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataNodeRun]:
    """Run the whole scenario once (see module notes) and hand the observations to the tests."""
    tmp = tmp_path_factory.mktemp("data_node")
    log_dir = tmp / "logs"
    log_dir.mkdir()
    recording_dir = tmp / "recording"
    wall_start_ms = time.time_ns() // 1_000_000
    start_ms = _venue_start_ms()
    # Every coin sim.toml's data client and actors name.
    sim_config = SimConfig(coins=SIM_COINS, start_ms=start_ms, activity=3.0, seed=11)

    def tune(client: HyperliquidDataClientConfig) -> HyperliquidDataClientConfig:
        # Short thresholds so a stall shows (and clears) in seconds.
        health = msgspec.structs.replace(
            client.health,
            stale_l2book_secs=STALE_L2BOOK_SECS,
            check_interval_secs=0.2,
            gate_recovery_secs=GATE_RECOVERY_SECS,
            loosen=("gate_recovery_secs",),  # shorter than the default: recover in seconds
        )
        return msgspec.structs.replace(client, health=health, bar_close_grace_ms=GRACE_MS)

    with SimThread(sim_config) as sim:
        venue_offset_ms = wall_start_ms - start_ms
        loaded = _from_sim_toml(sim.base_url, log_dir, tune, record_directory=recording_dir)
        node = build_node(loaded, new_event_loop())
        client = hyperliquid_data_client(node)
        collector = Collector()
        node.trader.add_actor(collector)
        run = DataNodeRun(
            collector=collector,
            client=client,
            recording_dir=recording_dir,
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

        def trading_is(state: TradingState) -> Callable[[], bool]:
            return lambda: risk_engine.trading_state == state

        async def scenario() -> None:
            await wait_for(all_ok, 15, "the BTC streams to be OK")
            await wait_for(trading_is(TradingState.ACTIVE), 10, "trading ACTIVE")
            checkpoint("started")
            # 1) A 1m candle closes SECS_BEFORE_CLOSE after the venue start.
            await wait_for(lambda: bool(collector.of_type(Bar)), 20, "the first bar")
            checkpoint("first_bar")
            # 2) Dropped WebSocket: reconnect, resubscribe, fresh book snapshot, health OK.
            frames_before_drop = client.ws_client.stats.connects
            await sim_admin_async(sim.base_url, "fault/drop-ws")
            await wait_for(
                lambda: client.ws_client.stats.connects > frames_before_drop, 10, "a reconnect"
            )
            await wait_for(all_ok, 10, "the streams to be OK after the reconnect")
            await asyncio.sleep(1.0)
            checkpoint("after_reconnect")
            await wait_for(trading_is(TradingState.ACTIVE), 10, "ACTIVE again")
            # 3) Stalled book stream: STALE within its threshold, REDUCING, then ACTIVE.
            stall = {"channel": "l2Book", "coin": COIN}
            await sim_admin_async(sim.base_url, "fault/stall", stall)
            checkpoint("stall_started")
            await wait_for(lambda: status("l2Book:BTC") == "STALE", 10, "l2Book STALE")
            checkpoint("stale")
            await wait_for(trading_is(TradingState.REDUCING), 5, "REDUCING")
            checkpoint("reducing")
            await sim_admin_async(sim.base_url, "fault/clear")
            await wait_for(lambda: status("l2Book:BTC") == "OK", 10, "l2Book OK again")
            checkpoint("recovered")
            await wait_for(trading_is(TradingState.ACTIVE), 10, "ACTIVE after stall")
            checkpoint("active_again")
            # 4) A reordered book frame: GAP detected (the older snapshot is never applied).
            reorder = {"channel": "l2Book", "coin": COIN, "count": 1}
            await sim_admin_async(sim.base_url, "fault/reorder", reorder)
            await wait_for(
                lambda: any(
                    h.status == "GAP" and h.stream == "l2Book:BTC" for h in collector.health
                ),
                15,
                "a GAP on l2Book:BTC",
            )
            await wait_for(lambda: status("l2Book:BTC") == "OK", 10, "l2Book OK after the GAP")
            # The GAP reaches the per-instrument status line (FeedCounters -> MarketDataLogger).
            (market_log,) = [a for a in node.trader.actors() if isinstance(a, MarketDataLogger)]
            tally = market_log._tallies[INSTRUMENT_ID]
            await wait_for(lambda: tally.gaps >= 1, 10, "the GAP counted in the status line")
            run.status_line = market_log._line(INSTRUMENT_ID, tally)
            # 5) Paused market: the node's view must equal the venue's.
            await sim_admin_async(sim.base_url, "fault/pause-market")
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

        run_node(node, scenario, stop_grace_secs=0.5)
    run.log_text = read_logs(log_dir)
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
    subscriptions: list[str] = field(default_factory=list)
    bars_in_cache: int = 0
    minutes_checked_before_fault: int = 0
    gaps_before_fault: list[FeedHealth] = field(default_factory=list)
    fault_wall_ns: int = 0
    venue_candles: dict[int, int] = field(default_factory=dict)  # minute open ms -> n
    bar_subscriptions: list[BarType] = field(default_factory=list)
    log_text: str = ""  # the node's log file (WARNING and above)


@pytest.fixture(scope="module")
def trade_gap_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TradeGapRun]:
    """A node subscribed to BTC trades only, on a fast venue clock: first a normal run until
    the trade-count check has compared a few minutes, then one trades frame skipped by the
    simulator, until the GAP shows (see ``test_trade_gap.py``)."""
    log_dir = tmp_path_factory.mktemp("trade_gap") / "logs"
    log_dir.mkdir()
    sim_config = SimConfig(coins=(COIN,), speed=TRADE_GAP_SPEED, activity=2.0, seed=5)

    def tune(client: HyperliquidDataClientConfig) -> HyperliquidDataClientConfig:
        # BTC only (the simulator's one coin, on a fast clock); a quick staleness timer.
        health = msgspec.structs.replace(client.health, check_interval_secs=0.2)
        return msgspec.structs.replace(client, coins=(COIN,), health=health)

    with SimThread(sim_config) as sim:
        # Without the actors of the coins this simulator does not serve.
        loaded = keep_actors_of(_from_sim_toml(sim.base_url, log_dir, tune), (COIN,))
        node = build_node(loaded, new_event_loop())
        client = hyperliquid_data_client(node)
        collector = TradesCollector()
        node.trader.add_actor(collector)
        run = TradeGapRun(collector=collector)
        check = client.frame_handler.trade_count_check

        def trade_gaps() -> list[FeedHealth]:
            return [h for h in collector.health if h.stream == "trades:BTC" and h.status == "GAP"]

        async def scenario() -> None:
            minutes = TRADE_GAP_MINUTES_BEFORE_FAULT
            await wait_for(lambda: check.minutes_checked >= minutes, 30, "minutes compared")
            run.minutes_checked_before_fault = check.minutes_checked
            run.gaps_before_fault = trade_gaps()
            run.fault_wall_ns = time.time_ns()
            skip = {"channel": "trades", "coin": COIN, "count": 1}
            await sim_admin_async(sim.base_url, "fault/skip", skip)
            await wait_for(lambda: bool(trade_gaps()), 30, "a GAP on trades:BTC")
            await wait_for(
                lambda: client.stream_health()["trades:BTC"].status == "OK", 10, "trades OK again"
            )
            await sim_admin_async(sim.base_url, "fault/pause-market")
            engine = sim.server.venue.engine  # type: ignore[union-attr]
            now_ms = sim.call(lambda: sim.server.venue.clock.now_ms())  # type: ignore[union-attr]
            candles = sim.call(lambda: engine.candles(COIN, "1m", now_ms - 3_600_000, now_ms))
            run.venue_candles = {int(c["t"]): int(c["n"]) for c in candles}
            run.subscriptions = sorted(
                subscription_stream_key(s) for s in client.ws_client.subscriptions
            )
            run.bar_subscriptions = node.kernel.data_engine.subscribed_bars()
            run.bars_in_cache = node.kernel.cache.bar_count(BAR_TYPE)

        run_node(node, scenario, stop_grace_secs=0.3)
    run.log_text = read_logs(log_dir)
    yield run
