"""End to end: a book subscribed while the coin's l2Book stream already runs gets every level.

NautilusTrader 1.231 swaps an EMPTY book into the cache on every managed book subscription but
calls the data client only for the first one. Two actors subscribe BTC's book through a
TradingNode against the simulator, the second several frames after the first; with the market
paused, the book both read must equal the simulator's book, level for level.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import LiveDataEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import InstrumentId

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.factories import HyperliquidLiveDataClientFactory
from adapters.hyperliquid.sim.app import SimConfig
from adapters.hyperliquid.sim.app import SimThread

COIN = "BTC"
INSTRUMENT_ID = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
FRAMES_BEFORE_SECOND = 4
FRAMES_AFTER_SECOND = 3

Levels = list[tuple[float, float]]


class BookWatcherConfig(ActorConfig, frozen=True):
    """``subscribe_on_start``: subscribe the managed BTC book in ``on_start`` (else later)."""

    subscribe_on_start: bool = True


class BookWatcher(Actor):
    """Subscribes BTC's managed L2 book and counts the deltas it receives."""

    def __init__(self, config: BookWatcherConfig) -> None:
        super().__init__(config)
        self.subscribe_on_start = config.subscribe_on_start
        self.deltas_received = 0

    def on_start(self) -> None:
        """Subscribe now or wait for the harness to call ``subscribe_book``."""
        if self.subscribe_on_start:
            self.subscribe_book()

    def subscribe_book(self) -> None:
        """The managed book subscription under test."""
        self.subscribe_order_book_deltas(INSTRUMENT_ID, book_type=BookType.L2_MBP, managed=True)

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        self.deltas_received += 1

    def book_levels(self) -> tuple[Levels, Levels]:
        """The book this actor reads (the node's cache), as (price, size) per side."""
        book = self.cache.order_book(INSTRUMENT_ID)
        assert book is not None
        bids = [(float(lvl.price), lvl.size()) for lvl in book.bids()]
        asks = [(float(lvl.price), lvl.size()) for lvl in book.asks()]
        return bids, asks


def _admin(base_url: str, path: str) -> Any:
    request = urllib.request.Request(
        f"{base_url}/admin/{path}",
        data=b"{}",
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


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Run the scenario once: what each actor's book and the simulator's book were at the end."""
    log_dir: Path = tmp_path_factory.mktemp("book_resubscribe")
    result: dict[str, Any] = {}
    with SimThread(SimConfig(coins=(COIN,), activity=3.0, seed=23)) as sim:
        node_config = TradingNodeConfig(
            trader_id="JARVIS-011",
            logging=LoggingConfig(
                log_level="ERROR",
                log_level_file="WARNING",
                log_directory=str(log_dir),
                log_file_name="node",
                log_colors=False,
            ),
            data_engine=LiveDataEngineConfig(),
            data_clients={
                "HYPERLIQUID": HyperliquidDataClientConfig(
                    http_url=sim.base_url,
                    coins=(COIN,),
                    instrument_refresh_interval_secs=0,
                    status_log_interval_secs=0,
                )
            },
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
        first = BookWatcher(BookWatcherConfig(component_id="FIRST"))
        second = BookWatcher(BookWatcherConfig(component_id="SECOND", subscribe_on_start=False))
        node.trader.add_actor(first)
        node.trader.add_actor(second)

        async def scenario() -> None:
            runner = loop.create_task(node.run_async())
            await _wait_for(lambda: node.kernel.trader.is_running, 30, "the node to run")
            await _wait_for(
                lambda: first.deltas_received >= FRAMES_BEFORE_SECOND, 20, "first book frames"
            )
            second.subscribe_book()
            await _wait_for(
                lambda: second.deltas_received >= FRAMES_AFTER_SECOND, 20, "second book frames"
            )
            await loop.run_in_executor(None, _admin, sim.base_url, "fault/pause-market")
            await asyncio.sleep(1.5)
            engine = sim.server.venue.engine  # type: ignore[union-attr]
            venue = sim.call(lambda: engine.l2_book(COIN, None, None, 20))
            result["venue"] = tuple(
                [(float(lvl["px"]), float(lvl["sz"])) for lvl in side] for side in venue["levels"]
            )
            result["first"] = first.book_levels()
            result["second"] = second.book_levels()
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
    yield result


def test_book_subscribed_after_the_stream_started_equals_the_venue_book(
    books: dict[str, Any],
) -> None:
    venue_bids, venue_asks = books["venue"]

    assert len(venue_bids) >= 5 and len(venue_asks) >= 5
    assert books["second"] == (venue_bids, venue_asks)


def test_first_subscriber_book_still_equals_the_venue_book(books: dict[str, Any]) -> None:
    venue_bids, venue_asks = books["venue"]

    assert books["first"] == (venue_bids, venue_asks)
