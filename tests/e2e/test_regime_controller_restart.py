"""
Strategies the regime controller creates get their saved state back after a restart.

NautilusTrader's ``load_state`` restores only strategies listed in ``config.strategies``; the
controller therefore calls ``cache.load_strategy`` itself before starting the ones it creates
(NAUTILUS_FACTS §8). Two TradingNodes in a row, with the real Redis-backed cache and a trader
id of their own: the first saves (``save_state``), the second must find what the first saved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from nautilus_trader.cache.config import CacheConfig
from nautilus_trader.common.config import DatabaseConfig
from nautilus_trader.config import ImportableControllerConfig
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode

from jarvis.testkit import new_event_loop
from jarvis.testkit import run_node

REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379
INSTRUMENT_ID = "BTC-USD-PERP.HYPERLIQUID"


@pytest.fixture
def trader_id() -> Iterator[str]:
    """A trader id no one else uses; its Redis keys are removed afterwards (only ours)."""
    trader = f"REGIME{uuid.uuid4().hex[:8].upper()}-001"
    yield trader
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT)
    for key in client.scan_iter(match=f"trader-{trader}:*"):
        client.delete(key)
    client.close()


def _node(trader_id: str, label: str, load_strategy_state: bool = True) -> TradingNode:
    new_event_loop()
    strategy = ImportableStrategyConfig(
        strategy_path="tests.controllers.protocol_strategy:ProtocolStrategy",
        config_path="tests.controllers.protocol_strategy:ProtocolStrategyConfig",
        config={"order_id_tag": "001", "instrument_id": INSTRUMENT_ID, "label": label},
    )
    config = TradingNodeConfig(
        trader_id=trader_id,
        logging=LoggingConfig(log_level="ERROR"),
        cache=CacheConfig(
            database=DatabaseConfig(type="redis", host=REDIS_HOST, port=REDIS_PORT),
            flush_on_start=False,
        ),
        exec_engine=LiveExecEngineConfig(reconciliation=False),
        save_state=True,
        load_state=True,
        timeout_connection=2.0,
        timeout_reconciliation=1.0,
        timeout_portfolio=1.0,
        timeout_disconnection=1.0,
        timeout_post_stop=0.0,
        timeout_shutdown=1.0,
        controller=ImportableControllerConfig(
            controller_path="controllers.regime:RegimeController",
            config_path="controllers.regime:RegimeControllerConfig",
            config={
                "strategies": [{"strategy": strategy, "side": "SIDEWAYS"}],
                "load_strategy_state": load_strategy_state,
            },
        ),
    )
    node = TradingNode(config=config)
    node.build()
    return node


def _run_and_read_loaded(node: TradingNode) -> dict[str, bytes]:
    loaded: dict[str, Any] = {}

    async def scenario() -> None:
        strategies = node.kernel.trader.strategies()
        assert [s.id.value for s in strategies] == ["ProtocolStrategy-001"]
        assert strategies[0].is_running
        loaded.update(strategies[0].loaded)  # type: ignore[attr-defined]

    run_node(node, scenario, timeout_secs=30)
    return loaded


def test_a_controller_created_strategy_gets_its_saved_state_back_after_a_restart(
    trader_id: str,
) -> None:
    # Arrange: a first node runs and stops (saving every strategy's on_save).
    first = _run_and_read_loaded(_node(trader_id, "first run"))
    key = f"trader-{trader_id}:strategies:ProtocolStrategy-001:state"
    assert redis.Redis(host=REDIS_HOST, port=REDIS_PORT).exists(key)

    # Act: a second node with the same trader id.
    second = _run_and_read_loaded(_node(trader_id, "second run"))

    # Assert: nothing to load the first time; the second got the first run's saved state.
    assert first == {}
    assert second == {"label": b"first run", "status": b"DISABLED"}


def test_without_load_strategy_state_the_saved_state_is_not_loaded(trader_id: str) -> None:
    _run_and_read_loaded(_node(trader_id, "first run"))
    second = _run_and_read_loaded(_node(trader_id, "second run", load_strategy_state=False))
    assert second == {}
