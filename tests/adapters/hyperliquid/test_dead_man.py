"""The dead-man switch against the real simulator: armed from venue time, re-armed with backoff
after refusals and failures, and holding the node's RiskEngine in REDUCING while orders are
unprotected (unless the config makes the switch optional)."""

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

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.dead_man import DEAD_MAN_CONDITION
from adapters.hyperliquid.dead_man import VenueClock
from adapters.hyperliquid.execution import HyperliquidExecutionClient
from adapters.hyperliquid.factories import build_exec_client
from adapters.hyperliquid.signing import address_from_private_key
from jarvis.testkit import sim_admin_async
from simulator.app import SimConfig
from simulator.app import SimServer
from simulator.state import SCHEDULE_CANCEL_MIN_VOLUME_USD

KEY = "0x" + "d7" * 32
ADDRESS = address_from_private_key(KEY)
SEC = 1_000_000_000
WINDOW_SECS = 10.0
REFRESH_SECS = 4.0


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
        "dead_man_switch_secs": WINDOW_SECS,
        "dead_man_refresh_secs": REFRESH_SECS,
        "http_timeout_secs": 1.0,
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


def scheduled(sim: SimServer) -> int | None:
    """The venue's scheduleCancel time for the account (the truth, from the engine)."""
    return sim.venue.engine.scheduled.get(ADDRESS)


def test_venue_clock_takes_the_midpoint_of_the_request() -> None:
    clock = VenueClock()
    clock.observe(venue_ms=10_000, sent_ns=1_000 * 1_000_000, received_ns=3_000 * 1_000_000)
    assert clock.offset_ms == 8_000
    assert clock.venue_ms(5_000 * 1_000_000) == 13_000


async def test_switch_is_armed_from_venue_time_when_the_venue_clock_is_ahead(
    risk_engine: RiskEngine,
) -> None:
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(ADDRESS, 10_000, volume_usd=SCHEDULE_CANCEL_MIN_VOLUME_USD)
        ahead_ms = 120_000  # far more than the window: a local-clock schedule is in the past
        await sim_admin_async(sim.base_url, "fault/jump-clock", {"ms": ahead_ms})
        client = make_client(sim.base_url)
        client.attach_health_gate(risk_engine, None)
        assert risk_engine.trading_state == TradingState.REDUCING  # not armed yet

        armed = await client.dead_man.arm()
        venue_now = sim.venue.clock.now_ms()
        await client.http_client.close()

    assert armed
    assert client.venue_clock.offset_ms > ahead_ms - 2_000
    when = scheduled(sim)
    assert when is not None
    assert abs(when - (venue_now + WINDOW_SECS * 1000)) < 1_000  # venue now + window
    assert risk_engine.trading_state == TradingState.ACTIVE


async def test_a_refused_switch_means_reducing_until_it_is_armed_again(
    risk_engine: RiskEngine,
) -> None:
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(ADDRESS, 10_000)  # a fresh account: the venue's volume gate refuses it
        client = make_client(sim.base_url)
        client.attach_health_gate(risk_engine, None)

        delays = []
        for _ in range(4):
            assert not await client.dead_man.arm()
            delays.append(client.dead_man.retry_delay_secs())
        reducing = risk_engine.trading_state
        reason = client.dead_man.unprotected_reason(client._clock.timestamp_ns())
        gate = client._gate
        assert gate is not None
        held = gate.conditions.get(DEAD_MAN_CONDITION)

        sim.fund(ADDRESS, 0.0, volume_usd=SCHEDULE_CANCEL_MIN_VOLUME_USD)  # traded enough now
        assert await client.dead_man.arm()
        await client.http_client.close()

    assert reducing == TradingState.REDUCING
    assert reason is not None and "refused by the venue" in reason
    assert held is not None and "SCHEDULE_CANCEL_REFUSED" in held
    assert delays == [1.0, 2.0, REFRESH_SECS, REFRESH_SECS]  # backoff, capped at the refresh
    assert client.dead_man.retry_delay_secs() == REFRESH_SECS
    assert scheduled(sim) is not None
    assert risk_engine.trading_state == TradingState.ACTIVE


async def test_exchange_failures_longer_than_half_the_window_mean_reducing(
    risk_engine: RiskEngine,
) -> None:
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(ADDRESS, 10_000, volume_usd=SCHEDULE_CANCEL_MIN_VOLUME_USD)
        client = make_client(sim.base_url)
        client.attach_health_gate(risk_engine, None)
        assert await client.dead_man.arm()
        armed_ns = client.dead_man.armed_ns
        assert armed_ns is not None
        await sim_admin_async(
            sim.base_url, "fault/http-error", {"status": 500, "path": "exchange", "count": 50}
        )
        assert not await client.dead_man.arm()  # failed, but the last schedule still stands
        after_failure = risk_engine.trading_state
        overdue_at = armed_ns + int((REFRESH_SECS + WINDOW_SECS / 2) * SEC)
        client.dead_man.check(overdue_at - SEC // 10)
        just_before = risk_engine.trading_state
        client.dead_man.check(overdue_at + SEC // 10)
        after = risk_engine.trading_state
        reason = client.dead_man.unprotected_reason(overdue_at + SEC // 10)
        await sim_admin_async(sim.base_url, "fault/clear")
        assert await client.dead_man.arm()
        await client.http_client.close()

    assert after_failure == TradingState.ACTIVE
    assert just_before == TradingState.ACTIVE
    assert after == TradingState.REDUCING
    assert reason is not None and "overdue" in reason
    assert risk_engine.trading_state == TradingState.ACTIVE


async def test_an_optional_switch_never_reduces_and_warns_every_minute(
    risk_engine: RiskEngine,
) -> None:
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(ADDRESS, 10_000)  # a fresh account: refused
        client = make_client(sim.base_url, dead_man_switch_required=False)
        client.attach_health_gate(risk_engine, None)
        assert not await client.dead_man.arm()
        now = client._clock.timestamp_ns()
        counts = []
        for offset_secs in (1, 30, 59, 62, 100, 125):
            client.dead_man.check(now + offset_secs * SEC)
            counts.append(client.dead_man.unprotected_warnings)
        await client.http_client.close()

    assert risk_engine.trading_state == TradingState.ACTIVE
    assert counts == [1, 1, 1, 2, 2, 3]


async def test_a_disabled_switch_is_reported_unprotected() -> None:
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        client = make_client(sim.base_url, dead_man_switch_secs=0, dead_man_switch_required=False)
        reason = client.dead_man.unprotected_reason(client._clock.timestamp_ns())
        await client.http_client.close()
    assert reason is not None and "disabled" in reason


def test_disabling_the_switch_needs_the_explicit_optional_flag() -> None:
    with pytest.raises(ValueError, match=r"dead_man_switch_secs.*dead_man_switch_required"):
        HyperliquidExecClientConfig(dead_man_switch_secs=0)
