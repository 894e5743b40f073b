"""Python API of the simulator: `SimServer` (async) and `SimThread` (for synchronous tests).

    async with SimServer(SimConfig(scenario="quiet", seed=7)) as sim:
        info = Info(sim.base_url, skip_ws=True)

    with SimThread(SimConfig(stepped=True)) as sim:   # own event loop in a daemon thread
        sim.fund("0xabc...", 10_000)
        sim.step(20)

Port 0 picks a free port; `base_url` is then the real one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from simulator.clock import SimClock
from simulator.engine import SimEngine
from simulator.latency import NO_LATENCY
from simulator.latency import LatencyConfig
from simulator.latency import LatencyModel
from simulator.market import LivingMarket
from simulator.server import SimVenue
from simulator.server import build_app
from simulator.specs import DEFAULT_COINS
from simulator.specs import CoinSpec
from simulator.state import SCHEDULE_CANCEL_MIN_VOLUME_USD
from simulator.stress import StressBookFeed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimConfig:
    """How to run the simulator.

    Parameters
    ----------
    host : str
        Interface to bind (loopback by default: the simulator is a local tool).
    port : int
        TCP port; 0 picks a free one.
    scenario : str
        Market scenario: quiet, trend, cascade, thin.
    seed : int
        Seed of the market's random generator.
    coins : tuple[str, ...]
        Perp coins to list (from `specs.DEFAULT_COINS`).
    speed : float
        Accelerated clock: venue ms per wall ms (real mode).
    stepped : bool
        Manual clock: the market moves only on `step` / `POST /admin/step` (deterministic).
    start_ms : int | None
        Venue time at start (default: wall time, or a fixed epoch when stepped).
    step_ms : int
        Venue ms per market step.
    market : bool
        Run the background makers and takers (False: an empty venue).
    activity : float
        Multiplier on background taker activity (the benchmark raises it).
    idle_timeout_secs : float
        Close sockets silent for this long (the venue uses 60 s).
    is_mainnet : bool
        Verify L1 signatures with source "a" (mainnet) instead of "b".
    initial_usdc : float
        USDC every unknown account starts with (0: accounts must be funded).
    schedule_cancel_min_volume_usd : float
        Lifetime traded volume an account needs before scheduleCancel (the dead-man switch) is
        accepted; the venue's $1,000,000 by default, 0 turns the gate off. Test accounts get
        volume with `fund(..., volume_usd=...)`.
    latency : LatencyConfig
        Request and stream delays with jitter, seeded by `seed` (`latency.latency_profile`:
        "none", the default, or "mainnet-like").
    stress_book_fps : float
        Stress mode (0: off): every subscribed l2Book stream also gets this many varied book
        frames a second (`simulator.stress`; load tests only, not venue truth).
    hunter : bool
        `cascade` only: a stop hunter shorts before the sell-off and covers into it
        (`simulator.hunter`); off by default so the plain cascade market is unchanged.
    ground_truth_path : str | None
        Append the hunter's plan and orders to this JSON-lines file (implies `hunter`).
    hold_schedule : bool
        The first phase of `scenario` goes on, its clock held at 0, until `release_schedule`:
        for runs whose clients start at different times and must each watch it whole.
    """

    host: str = "127.0.0.1"
    port: int = 0
    scenario: str = "quiet"
    seed: int = 7
    coins: tuple[str, ...] = ("BTC", "ETH", "SOL")
    speed: float = 1.0
    stepped: bool = False
    start_ms: int | None = None
    step_ms: int = 250
    market: bool = True
    activity: float = 1.0
    idle_timeout_secs: float = 60.0
    is_mainnet: bool = False
    initial_usdc: float = 0.0
    hunter: bool = False
    ground_truth_path: str | None = None
    hold_schedule: bool = False
    schedule_cancel_min_volume_usd: float = SCHEDULE_CANCEL_MIN_VOLUME_USD
    latency: LatencyConfig = NO_LATENCY
    stress_book_fps: float = 0.0

    def __post_init__(self) -> None:
        if self.schedule_cancel_min_volume_usd < 0:
            raise ValueError(
                "SimConfig.schedule_cancel_min_volume_usd must be >= 0, "
                f"got {self.schedule_cancel_min_volume_usd}"
            )
        if self.stress_book_fps < 0:
            raise ValueError(f"SimConfig.stress_book_fps must be >= 0, got {self.stress_book_fps}")
        if not isinstance(self.latency, LatencyConfig):
            raise ValueError(
                "SimConfig.latency must be a LatencyConfig (see latency_profile), "
                f"got {self.latency!r}"
            )

    def coin_specs(self) -> list[CoinSpec]:
        """The CoinSpecs of `coins`, failing loudly on an unknown name."""
        unknown = [c for c in self.coins if c not in DEFAULT_COINS]
        if unknown:
            raise ValueError(f"unknown coins {unknown}; known: {', '.join(DEFAULT_COINS)}")
        return [DEFAULT_COINS[c] for c in self.coins]


def build_venue(config: SimConfig) -> SimVenue:
    """Engine, clock and market for `config`, wired into a SimVenue (no sockets yet)."""
    specs = config.coin_specs()
    engine = SimEngine(
        specs,
        is_mainnet=config.is_mainnet,
        initial_usdc=config.initial_usdc,
        schedule_cancel_min_volume_usd=config.schedule_cancel_min_volume_usd,
    )
    clock = SimClock(start_ms=config.start_ms, speed=config.speed, manual=config.stepped)
    market = None
    if config.market:
        market = LivingMarket(
            engine,
            specs,
            scenario=config.scenario,
            seed=config.seed,
            activity=config.activity,
            hunter=config.hunter,
            ground_truth_path=config.ground_truth_path,
            hold_schedule=config.hold_schedule,
        )
    return SimVenue(
        engine,
        clock,
        market,
        step_ms=config.step_ms,
        idle_timeout_s=config.idle_timeout_secs,
        latency=LatencyModel(config.latency, config.seed),
    )


class SimServer:
    """The simulator on one loopback port, run on the caller's event loop."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config = config or SimConfig()
        self.venue = build_venue(config)
        self.port = config.port
        self._runner: Any = None
        self.stress: StressBookFeed | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def base_url(self) -> str:
        """`http://host:port`, the base URL the SDK and our clients take."""
        return f"http://{self.config.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The WebSocket URL the SDK derives from `base_url`."""
        return f"ws://{self.config.host}:{self.port}/ws"

    async def start(self) -> None:
        """Bind the port, place the market's first quotes and start the timers."""
        venue = self.venue
        venue.step(venue.clock.now_ms())  # the market's opening step: funded makers, quotes
        self._runner = web.AppRunner(build_app(venue), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        if not self.config.stepped:
            self._tasks.append(asyncio.create_task(self._market_loop()))
        if self.config.stress_book_fps > 0:
            self.stress = StressBookFeed(venue, self.config.stress_book_fps)
            self._tasks.append(asyncio.create_task(self.stress.run()))
        self._tasks.append(asyncio.create_task(self._idle_loop()))

    async def stop(self) -> None:
        """Stop the timers, close every socket and release the port."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for conn in list(self.venue.hub.connections.values()):
            self.venue.hub.remove(conn)
            await conn.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def step(self, n: int = 1) -> int:
        """Stepped mode: advance the market `n` steps now; returns venue time."""
        return self.venue.advance(n)

    def fund(self, user: str, usdc: float, volume_usd: float = 0.0) -> None:
        """Credit perp USDC (and optionally lifetime traded volume) to `user`."""
        self.venue.fund(user, usdc, volume_usd)

    def set_oracle(self, coin: str, px: float) -> None:
        """Move `coin`'s oracle and mark to `px` now (to fire triggers, liquidations)."""
        self.venue.set_oracle(coin, px)

    async def _market_loop(self) -> None:
        """Step on a fixed wall-time grid; when late, step at once (no drift, no backlog)."""
        venue = self.venue
        loop = asyncio.get_running_loop()
        period = venue.clock.wall_delay_s(venue.step_ms)
        deadline = loop.time() + period
        while True:
            wait = deadline - loop.time()
            await asyncio.sleep(wait if wait > 0 else 0)
            deadline = max(deadline + period, loop.time())
            try:
                venue.step()
            except Exception:  # a market bug must not silently freeze the venue
                log.exception("simulator market step failed")

    async def _idle_loop(self) -> None:
        timeout = self.config.idle_timeout_secs
        period = max(0.05, min(1.0, timeout / 4.0))
        while True:
            await asyncio.sleep(period)
            await self.venue.hub.close_idle(timeout)


class SimThread:
    """A `SimServer` on its own event loop in a daemon thread, for synchronous tests and tools."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.server: SimServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """`http://host:port` of the running server."""
        assert self.server is not None, "SimThread not started"
        return self.server.base_url

    @property
    def ws_url(self) -> str:
        """`ws://host:port/ws` of the running server."""
        assert self.server is not None, "SimThread not started"
        return self.server.ws_url

    def start(self) -> SimThread:
        """Start the server and wait until it accepts connections."""
        self._thread = threading.Thread(target=self._run, name="jarvis-sim", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError("simulator failed to start") from self._error
        if self.server is None:
            raise RuntimeError("simulator did not start within 30 s")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self.server = SimServer(self.config)
            loop.run_until_complete(self.server.start())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self.server = None
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    def call[T](self, fn: Callable[[], T]) -> T:
        """Run `fn()` on the server's loop thread (the engine is single-threaded) and return."""
        return self.run(_as_coroutine(fn))

    def run[T](self, coro: Awaitable[T]) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(_await(coro), self._loop)
        return future.result(60)

    def step(self, n: int = 1) -> int:
        """Stepped mode: advance the market `n` steps; returns venue time."""
        server = self.server
        assert server is not None
        return self.call(lambda: server.step(n))

    def fund(self, user: str, usdc: float, volume_usd: float = 0.0) -> None:
        """Credit perp USDC (and optionally lifetime traded volume) to `user`."""
        server = self.server
        assert server is not None
        self.call(lambda: server.fund(user, usdc, volume_usd))

    def set_oracle(self, coin: str, px: float) -> None:
        """Move `coin`'s oracle and mark to `px` now."""
        server = self.server
        assert server is not None
        self.call(lambda: server.set_oracle(coin, px))

    def release_schedule(self) -> None:
        """Start the held scenario schedule's clock now (`SimConfig.hold_schedule`)."""
        server = self.server
        assert server is not None
        self.call(server.venue.release_schedule)

    def jump(self, ms: int) -> int:
        """Jump venue time forward by `ms`; returns the new venue time."""
        server = self.server
        assert server is not None
        return self.call(lambda: server.venue.jump(ms))

    def stop(self) -> None:
        """Stop the server and its thread."""
        if self._loop is None or self.server is None:
            return
        server = self.server
        with contextlib.suppress(Exception):
            self.run(server.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self.server = None

    def __enter__(self) -> SimThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _as_coroutine[T](fn: Callable[[], T]) -> T:
    return fn()


async def _await[T](aw: Awaitable[T]) -> T:
    return await aw


async def serve_forever(config: SimConfig) -> None:
    """Run the simulator until cancelled (the `jarvis sim` command)."""
    server = SimServer(config)
    await server.start()
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
