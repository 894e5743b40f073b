"""NautilusTrader live client factories for Hyperliquid, usable from a ``TradingNodeConfig``.

    TradingNodeConfig(
        data_clients={"HYPERLIQUID": HyperliquidDataClientConfig(http_url=...)},
    )
    node.add_data_client_factory("HYPERLIQUID", HyperliquidLiveDataClientFactory)

The factory names and the config class names re-exported here are stable: node configs and the
``jarvis node`` / ``jarvis record`` commands refer to them. The execution client factory joins
this module later.
"""

from __future__ import annotations

import asyncio

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.live.factories import LiveDataClientFactory
from nautilus_trader.live.factories import LiveExecClientFactory

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
from adapters.hyperliquid.config import HyperliquidRecorderConfig
from adapters.hyperliquid.data import HyperliquidDataClient
from adapters.hyperliquid.data import wire_health_gates
from adapters.hyperliquid.execution import HyperliquidExecutionClient

__all__ = [
    "HyperliquidDataClientConfig",
    "HyperliquidExecClientConfig",
    "HyperliquidFeedHealthConfig",
    "HyperliquidLiveDataClientFactory",
    "HyperliquidLiveExecClientFactory",
    "HyperliquidRecorderConfig",
    "wire_health_gates",
]


class HyperliquidLiveDataClientFactory(LiveDataClientFactory):
    """Builds a ``HyperliquidDataClient`` from its config (what ``TradingNode.build`` calls)."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: HyperliquidDataClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> HyperliquidDataClient:
        """A data client named ``name`` (its client id) for the node's loop and components."""
        if not isinstance(config, HyperliquidDataClientConfig):
            raise TypeError(f"expected HyperliquidDataClientConfig, was {type(config).__name__}")
        return HyperliquidDataClient(loop, msgbus, cache, clock, config, name=name)


class HyperliquidLiveExecClientFactory(LiveExecClientFactory):
    """Builds a ``HyperliquidExecutionClient`` from its config (what ``TradingNode.build`` calls).

    The signing key is read from the environment variable the config names, here, at build time.
    """

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: HyperliquidExecClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> HyperliquidExecutionClient:
        """An execution client named ``name`` (its client id) for the node's loop and components."""
        if not isinstance(config, HyperliquidExecClientConfig):
            raise TypeError(f"expected HyperliquidExecClientConfig, was {type(config).__name__}")
        return HyperliquidExecutionClient(loop, msgbus, cache, clock, config, name=name)
