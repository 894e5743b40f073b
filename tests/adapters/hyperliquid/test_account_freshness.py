"""The account view's staleness against the real simulator: REST delays beyond the timeout and
rate limiting leave it old, which moves the RiskEngine to REDUCING, and back once fresh."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.risk.engine import RiskEngine

from adapters.hyperliquid.account_freshness import ACCOUNT_CONDITION
from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.execution import HyperliquidExecutionClient
from adapters.hyperliquid.factories import build_exec_client
from adapters.hyperliquid.http import HyperliquidError
from adapters.hyperliquid.signing import address_from_private_key
from jarvis.testkit import sim_admin_async
from simulator.app import SimConfig
from simulator.app import SimServer

KEY = "0x" + "e8" * 32
ADDRESS = address_from_private_key(KEY)
SEC = 1_000_000_000
MAX_AGE_SECS = 3.0


@pytest.fixture
def risk_engine() -> Iterator[RiskEngine]:
    """The RiskEngine of a real (backtest) kernel."""
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    yield engine.kernel.risk_engine
    engine.dispose()


def make_client(base_url: str, **overrides: Any) -> HyperliquidExecutionClient:
    clock = LiveClock()
    values: dict[str, Any] = {
        "http_url": base_url,
        "coins": ("BTC",),
        "dead_man_switch_secs": 0,
        "dead_man_switch_required": False,
        "account_refresh_interval_secs": 1.0,
        "account_max_age_secs": MAX_AGE_SECS,
        "http_timeout_secs": 0.5,
    }
    values.update(overrides)
    return build_exec_client(
        asyncio.get_running_loop(),
        MessageBus(TraderId("TEST-001"), clock),
        Cache(),
        clock,
        HyperliquidExecClientConfig(**values),
        private_key=KEY,
    )


async def refresh(client: HyperliquidExecutionClient) -> bool:
    try:
        await client._refresh_account()
    except HyperliquidError:
        return False
    return True


@pytest.mark.parametrize(
    ("fault", "body", "cause"),
    [
        ("delay", {"ms": 1_500, "target": "http"}, "TransportError"),
        ("http-error", {"status": 429, "path": "info", "count": 100}, "429"),
        ("http-error", {"status": 503, "path": "info", "count": 100}, "503"),
    ],
)
async def test_failed_refreshes_older_than_the_max_age_mean_reducing_until_fresh(
    risk_engine: RiskEngine, fault: str, body: dict[str, Any], cause: str
) -> None:
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(ADDRESS, 10_000)
        client = make_client(sim.base_url)
        client.attach_health_gate(risk_engine, None)
        assert await refresh(client)
        fresh_ns = client.account_freshness.refreshed_ns
        assert fresh_ns is not None
        await sim_admin_async(sim.base_url, f"fault/{fault}", body)
        assert not await refresh(client)
        failures = client.account_freshness.failures
        client.account_freshness.check(fresh_ns + int(MAX_AGE_SECS * SEC) - SEC // 10)
        before_max_age = risk_engine.trading_state
        client.account_freshness.check(fresh_ns + int(MAX_AGE_SECS * SEC) + SEC // 10)
        stale = risk_engine.trading_state
        gate = client._gate
        assert gate is not None
        reason = gate.conditions.get(ACCOUNT_CONDITION)
        await sim_admin_async(sim.base_url, "fault/clear")
        assert await refresh(client)
        await client.http_client.close()

    assert failures == 1
    assert before_max_age == TradingState.ACTIVE
    assert stale == TradingState.REDUCING
    assert reason is not None and cause in reason and "account refresh" in reason
    assert risk_engine.trading_state == TradingState.ACTIVE
    assert client.account_freshness.failures == 0


def test_max_age_must_exceed_the_refresh_interval() -> None:
    with pytest.raises(ValueError, match="account_max_age_secs"):
        HyperliquidExecClientConfig(account_refresh_interval_secs=30.0, account_max_age_secs=30.0)
