"""Check a loaded config against the venue before a node is built.

Why: what the loader cannot know from the file alone is what the venue lists. A coin it does not
list used to be dropped without a word, and an actor or strategy for an instrument that does not
exist failed to start while the node ran on. Here each Hyperliquid client's venue is asked once
(its public instrument metadata, nothing signed, nothing subscribed) and a mismatch is a
``ConfigError`` naming the file, the table and the field, before anything starts. A venue that
cannot be reached is not a config error: the check is skipped for it and said so (connecting,
with retries, is the node's job), and the data client still refuses unlisted coins on connect.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from nautilus_trader.config import ImportableConfig
from nautilus_trader.config import resolve_config_path
from nautilus_trader.model.identifiers import InstrumentId

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.enums import ProductType
from adapters.hyperliquid.http import HyperliquidError
from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.providers import HyperliquidInstrumentProvider
from adapters.hyperliquid.providers import unlisted_coins
from config.loading import ConfigError
from config.loading import LoadedNodeConfig
from config.loading import referenced_instruments

__all__ = [
    "VenueCheck",
    "check_against_venue",
]

_TIMEOUT_SECS = 10.0


@dataclass
class VenueCheck:
    """What the check did: venues whose listing was compared, and venues it could not reach."""

    checked: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)


def _hyperliquid_clients(loaded: LoadedNodeConfig) -> Iterator[tuple[str, Any]]:
    for kind in ("data_clients", "exec_clients"):
        for name, entry in getattr(loaded.node, kind).items():
            config = entry.create() if isinstance(entry, ImportableConfig) else entry
            if isinstance(config, HyperliquidDataClientConfig | HyperliquidExecClientConfig):
                yield f"node.{kind}.{name}.config", config


async def _listing(config: Any) -> list[Any]:
    """Every instrument the client's venue lists for its product types (and HIP-3 dexes)."""
    http = HyperliquidHttpClient(config.http_url, timeout_secs=_TIMEOUT_SECS, max_info_retries=1)
    try:
        provider = HyperliquidInstrumentProvider(
            http.info_raw,
            time.time_ns,
            include_perps=ProductType.PERP in config.product_types,
            include_spot=ProductType.SPOT in config.product_types,
            hip3_dexes=getattr(config, "hip3_dexes", ()),
        )
        await provider.load_all_async()
        return list(provider.list_all())
    finally:
        await http.close()


def check_against_venue(loaded: LoadedNodeConfig) -> VenueCheck:
    """Raise ``ConfigError`` when a client's coins, or an instrument an actor or strategy names,
    are not listed by the venue; venues that cannot be reached are reported, not raised."""
    result = VenueCheck()
    listed_ids: set[InstrumentId] = set()
    listings: dict[str, list[Any]] = {}
    for table, config in _hyperliquid_clients(loaded):
        key = f"{config.http_url}|{sorted(config.product_types)}"
        if key not in listings:
            try:
                listings[key] = asyncio.run(_listing(config))
            except (HyperliquidError, OSError, TimeoutError) as exc:
                result.unreachable.append(f"{config.http_url} ({exc})")
                listings[key] = []
                continue
            result.checked.append(config.http_url)
        instruments = listings[key]
        if not instruments:
            continue
        listed_ids.update(i.id for i in instruments)
        unlisted = unlisted_coins(config.coins or (), instruments)
        if unlisted:
            raise ConfigError(
                f"{loaded.source}: [{table}] coins: {unlisted} not listed by the venue at "
                f"{config.http_url}"
            )
    if result.unreachable or not listed_ids:
        return result  # the instruments named below cannot be compared with a full listing
    for field_name, where, instrument_id in _named_instruments(loaded):
        if instrument_id not in listed_ids:
            raise ConfigError(
                f"{loaded.source}: [{where}] {field_name}: {instrument_id} is not listed by the "
                "venue"
            )
    return result


def _named_instruments(loaded: LoadedNodeConfig) -> Iterator[tuple[str, str, InstrumentId]]:
    for kind in ("actors", "strategies", "exec_algorithms"):
        for index, item in enumerate(getattr(loaded.node, kind)):
            config_path = getattr(item, "config_path", None)
            if config_path is None:
                continue
            config_cls = resolve_config_path(config_path)
            config = config_cls.parse(json.dumps(item.config).encode())
            for field_name, instrument_id in referenced_instruments(config):
                yield field_name, f"node.{kind}[{index}].config", instrument_id
