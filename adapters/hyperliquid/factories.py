"""NautilusTrader live client factories for Hyperliquid, usable from a ``TradingNodeConfig``.

    TradingNodeConfig(
        data_clients={"HYPERLIQUID": HyperliquidDataClientConfig(http_url=...)},
    )
    node.add_data_client_factory("HYPERLIQUID", HyperliquidLiveDataClientFactory)

The factory names and the config class names re-exported here are stable: node configs and the
``jarvis node`` / ``jarvis record`` commands refer to them.

The execution client gets its transports, instrument provider and signer from here
(`build_exec_client`): the environment is read once, at build time, and a node's data and
execution clients share one instrument provider (`shared_provider`), so the instruments are
loaded once per node. NautilusTrader's own adapters share their HTTP clients and providers the
same way (``get_cached_*`` functions keyed by the node's clock).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping

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
from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.providers import HyperliquidInstrumentProvider
from adapters.hyperliquid.signing import HyperliquidSigner
from adapters.hyperliquid.websocket import HyperliquidWebSocketClient

__all__ = [
    "HyperliquidDataClientConfig",
    "HyperliquidExecClientConfig",
    "HyperliquidFeedHealthConfig",
    "HyperliquidLiveDataClientFactory",
    "HyperliquidLiveExecClientFactory",
    "HyperliquidRecorderConfig",
    "build_exec_client",
    "shared_provider",
    "wire_health_gates",
]

# Per node (keyed by its clock, as NautilusTrader's adapters key their cached clients):
# (venue URL, perps, spot, coins) -> the provider whose load the node's clients share.
_PROVIDERS: dict[int, tuple[LiveClock, dict[tuple[object, ...], HyperliquidInstrumentProvider]]]
_PROVIDERS = {}


def _provider_key(
    http_url: str, perps: bool, spot: bool, coins: tuple[str, ...] | None
) -> tuple[object, ...]:
    return (http_url.rstrip("/"), perps, spot, None if coins is None else tuple(sorted(coins)))


def shared_provider(
    clock: LiveClock,
    http_url: str,
    *,
    include_perps: bool,
    include_spot: bool,
    coins: tuple[str, ...] | None,
    register: HyperliquidInstrumentProvider | None = None,
) -> HyperliquidInstrumentProvider | None:
    """The provider of this node (``clock``) for these instruments, if a client built one;
    ``register`` records a newly built one for the node's other clients."""
    entry = _PROVIDERS.get(id(clock))
    if entry is None or entry[0] is not clock:
        entry = (clock, {})
        _PROVIDERS[id(clock)] = entry
    key = _provider_key(http_url, include_perps, include_spot, coins)
    if register is not None:
        entry[1].setdefault(key, register)
    return entry[1].get(key)


def build_exec_client(
    loop: asyncio.AbstractEventLoop,
    msgbus: MessageBus,
    cache: Cache,
    clock: LiveClock,
    config: HyperliquidExecClientConfig,
    *,
    name: str | None = None,
    private_key: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> HyperliquidExecutionClient:
    """An execution client with its transports, provider and signer.

    The key comes from ``private_key`` (tools, tests) or else the environment variable the
    config names; the provider is the node's data client's when it loads the same instruments.
    """
    key = private_key if private_key is not None else environ.get(config.private_key_env)
    if not key:
        raise ValueError(
            f"no Hyperliquid signing key: set the environment variable "
            f"{config.private_key_env} (the account key or an approved API wallet key)"
        )
    signer = HyperliquidSigner(key, is_mainnet=config.resolved_is_mainnet)
    del key
    account_address = config.resolve_account_address(environ)
    http = HyperliquidHttpClient(
        config.http_url, timeout_secs=config.http_timeout_secs, clock_ns=clock.timestamp_ns
    )
    perps = "perp" in config.product_types
    spot = "spot" in config.product_types
    provider = shared_provider(
        clock, config.http_url, include_perps=perps, include_spot=spot, coins=config.coins
    )
    if provider is None:
        provider = HyperliquidInstrumentProvider(
            http.info_raw,
            clock.timestamp_ns,
            include_perps=perps,
            include_spot=spot,
            coins=config.coins,
        )
    client_name = (name or "HYPERLIQUID").lower()
    user_stream = HyperliquidWebSocketClient(
        config.resolved_ws_url,
        _unbound_handler,
        ping_interval_secs=config.ws_ping_interval_secs,
        reconnect_initial_backoff_secs=config.reconnect_initial_backoff_secs,
        reconnect_max_backoff_secs=config.reconnect_max_backoff_secs,
        clock_ns=clock.timestamp_ns,
        name=f"{client_name}-exec-ws",
    )
    return HyperliquidExecutionClient(
        loop,
        msgbus,
        cache,
        clock,
        config,
        http=http,
        provider=provider,
        signer=signer,
        account_address=account_address,
        user_stream=user_stream,
        name=name,
    )


def _unbound_handler(raw: bytes, seq: int, recv_ns: int, conn_id: str, key: str) -> None:
    raise RuntimeError("the user stream was started before a client bound itself to it")


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
        client = HyperliquidDataClient(loop, msgbus, cache, clock, config, name=name)
        shared_provider(
            clock,
            config.http_url,
            include_perps=config.include_perps,
            include_spot=config.include_spot,
            coins=config.coins,
            register=client.instrument_provider,
        )
        return client


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
        return build_exec_client(loop, msgbus, cache, clock, config, name=name)
