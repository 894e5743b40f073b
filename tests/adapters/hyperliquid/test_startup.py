"""Reaching the venue at start (``until_reachable``) against a real HTTP client and simulator.

What must hold: a venue that is down is retried until it answers (no give-up), with delays that
grow and stay under the cap; each failed attempt is ONE log line naming the cause; a failure a
retry cannot cure (HTTP 4xx: a wrong URL) is raised at once; a stopping client ends the loop.
The only stand-in is the sleep (it records delays and, at a chosen attempt, starts the venue).
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator

import pytest

from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.http import HyperliquidHttpError
from adapters.hyperliquid.schemas.info import Meta
from adapters.hyperliquid.startup import until_reachable
from jarvis.testkit import fresh_rate_limiter
from simulator.app import SimConfig
from simulator.app import SimThread
from simulator.faults import FaultKind


class RecordingLog:
    """Collects log lines (NautilusTrader's Logger is write-only)."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.infos: list[str] = []

    def warning(self, message: str) -> None:
        self.warnings.append(message)

    def info(self, message: str) -> None:
        self.infos.append(message)


@pytest.fixture(autouse=True)
def _limiter() -> Iterator[None]:
    with fresh_rate_limiter():
        yield


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _client(url: str) -> HyperliquidHttpClient:
    # One quick in-request retry, so each attempt of the start-up loop is short.
    return HyperliquidHttpClient(
        url, timeout_secs=2.0, max_info_retries=1, retry_initial_backoff_secs=0.01
    )


def test_a_venue_that_comes_up_later_is_reached_after_logged_capped_retries() -> None:
    port = _free_port()
    delays: list[float] = []
    sims: list[SimThread] = []

    async def sleep(secs: float) -> None:
        delays.append(secs)
        if len(delays) == 6:  # the venue appears while the client waits for its 7th attempt
            sims.append(SimThread(SimConfig(port=port, seed=3)).start())

    async def scenario() -> Meta:
        http = _client(f"http://127.0.0.1:{port}")
        try:
            meta: Meta = await until_reachable(
                lambda: http.info({"type": "meta"}),
                what="Loading instruments",
                log=log,
                initial_backoff_secs=0.5,
                max_backoff_secs=4.0,
                sleep=sleep,
                rng=random.Random(1),
            )
            return meta
        finally:
            await http.close()

    log = RecordingLog()
    try:
        meta = asyncio.run(scenario())
    finally:
        for sim in sims:
            sim.stop()

    assert {asset.name for asset in meta.universe} >= {"BTC", "ETH"}
    assert len(delays) == 6
    assert all(0.25 <= d <= 4.0 for d in delays)
    assert delays[-1] > delays[0]  # it backs off
    assert max(delays) >= 2.0  # and reaches the cap's range
    assert len(log.warnings) == 6  # one line per failed attempt
    for number, line in enumerate(log.warnings, start=1):
        assert line.startswith(f"Loading instruments: venue unreachable (attempt {number}: ")
        assert "info:meta" in line  # the cause, from the transport error
        assert "\n" not in line
    assert log.infos == ["Loading instruments: venue reached after 7 attempts"]


def test_5xx_answers_are_retried_and_4xx_answers_are_raised_at_once() -> None:
    log = RecordingLog()

    async def no_sleep(secs: float) -> None:
        return None

    with SimThread(SimConfig(seed=3)) as sim:
        assert sim.server is not None
        venue = sim.server.venue
        sim.call(
            lambda: venue.apply_fault(
                FaultKind.HTTP_ERROR, {"status": 503, "count": 4, "path": "info"}
            )
        )

        async def through_503s() -> Meta:
            http = _client(sim.base_url)
            try:
                meta: Meta = await until_reachable(
                    lambda: http.info({"type": "meta"}),
                    what="meta",
                    log=log,
                    initial_backoff_secs=0.1,
                    max_backoff_secs=0.2,
                    sleep=no_sleep,
                )
                return meta
            finally:
                await http.close()

        assert asyncio.run(through_503s()).universe
        assert len(log.warnings) == 2  # 4 x 503 = 2 attempts of 2 requests each
        assert all("HTTP 503" in line for line in log.warnings)

        sim.call(
            lambda: venue.apply_fault(
                FaultKind.HTTP_ERROR, {"status": 503, "count": 3, "path": "info"}
            )
        )

        async def one_request_per_attempt() -> Meta:
            http = _client(sim.base_url)
            try:
                with http.own_retries():  # start-up retries by itself, one line per attempt
                    meta: Meta = await until_reachable(
                        lambda: http.info({"type": "meta"}),
                        what="meta",
                        log=log,
                        initial_backoff_secs=0.1,
                        max_backoff_secs=0.2,
                        sleep=no_sleep,
                    )
                return meta
            finally:
                await http.close()

        assert asyncio.run(one_request_per_attempt()).universe
        assert len(log.warnings) == 2 + 3

        async def wrong_path() -> None:
            http = _client(sim.base_url + "/nothing-here")
            try:
                await until_reachable(
                    lambda: http.info({"type": "meta"}),
                    what="meta",
                    log=log,
                    initial_backoff_secs=0.1,
                    max_backoff_secs=0.2,
                    sleep=no_sleep,
                )
            finally:
                await http.close()

        with pytest.raises(HyperliquidHttpError) as raised:
            asyncio.run(wrong_path())
        assert 400 <= raised.value.status < 500
        assert len(log.warnings) == 2 + 3  # no retry logged for the 4xx


def test_a_stopping_client_ends_the_wait_instead_of_retrying() -> None:
    port = _free_port()
    log = RecordingLog()
    stopped = False

    async def sleep(secs: float) -> None:
        nonlocal stopped
        stopped = True  # the client is disconnected while it waits

    async def scenario() -> None:
        http = _client(f"http://127.0.0.1:{port}")
        attempt: Callable[[], Awaitable[object]] = lambda: http.info({"type": "meta"})  # noqa: E731
        try:
            await until_reachable(
                attempt,
                what="meta",
                log=log,
                initial_backoff_secs=0.1,
                max_backoff_secs=0.2,
                stopping=lambda: stopped,
                sleep=sleep,
            )
        finally:
            await http.close()

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(scenario())
    assert len(log.warnings) == 1


def test_backoff_bounds_are_checked() -> None:
    async def attempt() -> int:
        return 1

    with pytest.raises(ValueError, match="initial_backoff_secs"):
        asyncio.run(
            until_reachable(
                attempt, what="x", log=RecordingLog(), initial_backoff_secs=2, max_backoff_secs=1
            )
        )
