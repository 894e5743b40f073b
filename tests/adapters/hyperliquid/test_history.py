"""Historical REST data, paged (``history.py``), against the simulator's /info."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nautilus_trader.core.datetime import millis_to_nanos

from adapters.hyperliquid.history import fetch_candles
from adapters.hyperliquid.history import fetch_recent_trades
from adapters.hyperliquid.http import HyperliquidHttpClient
from simulator.app import SimConfig
from simulator.app import SimServer

STEP_MS = 250
MINUTE_STEPS = 60_000 // STEP_MS


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    config = SimConfig(stepped=True, seed=21, step_ms=STEP_MS, activity=3.0)
    async with SimServer(config) as server:
        server.step(3 * MINUTE_STEPS + MINUTE_STEPS // 2)  # three closed minutes and a half
        yield server


async def test_candles_are_the_closed_ones_oldest_first_and_never_the_open_one(
    sim: SimServer,
) -> None:
    now_ms = sim.venue.clock.now_ms()
    async with HyperliquidHttpClient(sim.base_url) as http:
        candles = await fetch_candles(http, "BTC", "1m", None, None, 0, millis_to_nanos(now_ms))
        last_two = await fetch_candles(http, "BTC", "1m", None, None, 2, millis_to_nanos(now_ms))
    venue = sim.venue.info(
        {
            "type": "candleSnapshot",
            "req": {"coin": "BTC", "interval": "1m", "startTime": 0, "endTime": now_ms},
        }
    )

    closed = [c for c in venue if c["T"] < now_ms]
    assert len(closed) >= 3
    assert [c.t for c in candles] == [c["t"] for c in closed]
    assert all(now_ms > c.T for c in candles)
    assert [c.t for c in candles] == sorted(c.t for c in candles)
    assert any(c["T"] >= now_ms for c in venue)  # the open minute exists and was left out
    assert [c.t for c in last_two] == [c.t for c in candles[-2:]]


async def test_recent_trades_come_oldest_first(sim: SimServer) -> None:
    async with HyperliquidHttpClient(sim.base_url) as http:
        trades = await fetch_recent_trades(http, "BTC")

    assert len(trades) >= 2
    assert [(t.time, t.tid) for t in trades] == sorted((t.time, t.tid) for t in trades)
