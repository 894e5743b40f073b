"""Helpers for driving a ``TradingNode`` against the local Hyperliquid simulator in tests.

Like ``nautilus_trader.test_kit``: the end-to-end tests all start a simulator, build a node (from
a config file or by hand), run a scenario on the node's own event loop with short timeouts, ask
the simulator's engine for the truth and scan the node's log file. pytest imports test modules
in importlib mode, so they cannot share helpers with each other; they share this module instead.

Nothing here runs at import time: no loop, no thread, no socket, no file.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time
import urllib.request
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from nautilus_trader.common.component import Logger
from nautilus_trader.common.component import flush_logger
from nautilus_trader.common.enums import LogColor
from nautilus_trader.config import ImportableConfig
from nautilus_trader.config import LiveDataClientConfig
from nautilus_trader.config import LiveExecClientConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.events import OrderEvent
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import Order
from nautilus_trader.trading.strategy import Strategy

from adapters.hyperliquid import rate_limit
from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.data import HyperliquidDataClient
from adapters.hyperliquid.data import wire_health_gates
from adapters.hyperliquid.execution import HyperliquidExecutionClient
from adapters.hyperliquid.factories import HyperliquidLiveDataClientFactory
from adapters.hyperliquid.factories import HyperliquidLiveExecClientFactory
from adapters.hyperliquid.signing import HyperliquidSigner
from config.loading import LoadedNodeConfig
from simulator.app import SimThread
from simulator.state import SCHEDULE_CANCEL_MIN_VOLUME_USD

__all__ = [
    "CapturingLogger",
    "Driver",
    "DriverConfig",
    "build_sim_node",
    "data_client_config",
    "file_logging",
    "fresh_rate_limiter",
    "fund_test_account",
    "hyperliquid_data_client",
    "hyperliquid_exec_client",
    "keep_actors_of",
    "new_event_loop",
    "read_logs",
    "replace_node",
    "run_node",
    "sim_admin",
    "sim_admin_async",
    "sim_book_shape",
    "sim_funding",
    "sim_mark",
    "sim_node_config",
    "sim_open_interest",
    "tune_data_client",
    "unexpected_log_lines",
    "venue_info",
    "venue_open_orders",
    "venue_position",
    "wait_for",
]

# --- the simulator ---------------------------------------------------------------------------


# Regime-controller inputs well inside each regime under STRATEGIES.md's default thresholds,
# shared by the controller tests and the decision benchmark.
SIDEWAYS_INPUTS: dict[str, float] = {
    "oi_change_pct_15m": 0.2,
    "oi_change_pct_1h": 0.5,
    "funding": 0.00001,
    "funding_drift_15m": 0.0,
    "depth_asymmetry_mean_15m": 0.05,
}
EXPANSION_INPUTS: dict[str, float] = {
    "oi_change_pct_15m": 1.8,
    "oi_change_pct_1h": 2.5,
    "funding": 0.00008,
    "funding_drift_15m": 0.00001,
    "depth_asymmetry_mean_15m": -0.4,
}

# The real venue captures tests and benchmarks use, copied into the repository with their
# sources (tests/resources/hyperliquid/SOURCES.md), so a clone of the project alone runs its suite.
VENUE_CAPTURES = Path(__file__).resolve().parents[1] / "tests" / "resources" / "hyperliquid"


def _post_json(url: str, body: Mapping[str, Any]) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(dict(body)).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def sim_admin(base_url: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
    """POST to the simulator's ``/admin/<path>`` (faults, pauses) and return its JSON answer."""
    return _post_json(f"{base_url}/admin/{path}", body or {})


def post_signed_action(
    base_url: str, key: str, action: dict[str, Any], nonce_offset_ms: int = 0
) -> Any:
    """Sign an L1 action with ``key`` and POST it to ``/exchange``, as another client would.

    For orders placed "outside the node"; ``nonce_offset_ms`` keeps the nonce clear of the ones
    a node signing with the same key uses at the same moment.
    """
    signer = HyperliquidSigner(key, is_mainnet=False)
    nonce = time.time_ns() // 1_000_000 + nonce_offset_ms
    body = {
        "action": action,
        "nonce": nonce,
        "signature": signer.sign_l1_action(action, nonce),
        "vaultAddress": None,
    }
    return _post_json(f"{base_url}/exchange", body)


async def sim_admin_async(base_url: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
    """``sim_admin`` from a node's loop: the blocking request runs in the default executor."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, sim_admin, base_url, path, body)


def sim_book_shape(base_url: str, coin: str, bid_mult: float = 1.0, ask_mult: float = 1.0) -> Any:
    """Scale the simulator makers' depth of ``coin`` per side (1, 1 restores the scenario's)."""
    return sim_admin(
        base_url, "book-shape", {"coin": coin, "bidMult": bid_mult, "askMult": ask_mult}
    )


def sim_open_interest(
    base_url: str, coin: str, delta_usd: float, aggressor: str | None = None
) -> Any:
    """Open (> 0) or close (< 0) ``delta_usd`` of open interest on the simulator, by trades;
    ``aggressor`` ``"sell"``/``"buy"``: that side takes in every trade (one-sided flow)."""
    body: dict[str, Any] = {"coin": coin, "deltaUsd": delta_usd}
    if aggressor is not None:
        body["aggressor"] = aggressor
    return sim_admin(base_url, "open-interest", body)


def sim_mark(
    base_url: str,
    coin: str,
    *,
    px: float | None = None,
    move_bps: float | None = None,
    book: bool = True,
) -> Any:
    """Move ``coin``'s price on the simulator now, to ``px`` or by ``move_bps`` from the mark
    (exactly one). ``book``: the makers' book (so the mid) moves too; False moves only the mark
    (mark-triggered stops and take-profits fire; the next market step restores it). Answers
    ``{"mark", "mid", ...}``."""
    body: dict[str, Any] = {"coin": coin, "book": book}
    if px is not None:
        body["px"] = px
    if move_bps is not None:
        body["moveBps"] = move_bps
    return sim_admin(base_url, "mark", body)


def sim_funding(base_url: str, coin: str, rate: float | None) -> Any:
    """Force ``coin``'s current hourly funding rate on the simulator (None: the venue's rule)."""
    return sim_admin(base_url, "funding", {"coin": coin, "rate": rate})


# Lifetime traded volume the kit gives the accounts it funds: the venue (and the simulator by
# default) refuses scheduleCancel, the node's dead-man switch, to accounts that traded less.
TEST_ACCOUNT_VOLUME_USD = SCHEDULE_CANCEL_MIN_VOLUME_USD


def fund_test_account(sim: SimThread, address: str, usdc: float) -> None:
    """Fund a node's account with perp USDC and enough traded volume for its dead-man switch."""
    sim.fund(address, usdc, volume_usd=TEST_ACCOUNT_VOLUME_USD)


def venue_info(sim: SimThread, body: Mapping[str, Any]) -> Any:
    """An /info answer straight from the simulator's venue, read on its thread (the truth)."""
    assert sim.server is not None
    venue = sim.server.venue
    return sim.call(lambda: venue.info(dict(body)))


def venue_open_orders(sim: SimThread, user: str) -> list[dict[str, Any]]:
    """The open orders the simulator's engine holds for ``user``."""
    assert sim.server is not None
    engine = sim.server.venue.engine
    return sim.call(lambda: engine.open_orders_of(user.lower()))


def venue_position(sim: SimThread, user: str, coin: str) -> Decimal:
    """``user``'s signed position size on ``coin`` on the simulator (0 when flat)."""
    state = venue_info(sim, {"type": "clearinghouseState", "user": user})
    for item in state["assetPositions"]:
        if item["position"]["coin"] == coin:
            return Decimal(item["position"]["szi"])
    return Decimal(0)


@contextmanager
def fresh_rate_limiter() -> Iterator[None]:
    """A full process-wide REST budget for this block, the previous limiter restored after.

    The budget is shared by every client of the process, and earlier runs in the same
    interpreter spent it against other simulators.
    """
    saved = rate_limit._SHARED
    rate_limit._SHARED = None
    try:
        yield
    finally:
        rate_limit._SHARED = saved


# --- waiting and running ---------------------------------------------------------------------


async def wait_for(
    predicate: Callable[[], bool], timeout_secs: float, what: str, poll_secs: float = 0.02
) -> None:
    """Poll ``predicate`` until it holds; fail with ``what`` and the timeout if it never does."""
    deadline = time.monotonic() + timeout_secs
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_secs} s waiting for {what}")
        await asyncio.sleep(poll_secs)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop, made current (NautilusTrader components look it up when built)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop


def run_node[T](
    node: TradingNode,
    scenario: Callable[[], Awaitable[T]],
    *,
    quotes_of: InstrumentId | None = None,
    timeout_secs: float | None = None,
    stop_grace_secs: float = 0.2,
    after_stop: Callable[[], None] | None = None,
) -> T:
    """Run ``node`` on its loop, await ``scenario()`` once it trades, stop and dispose the node.

    ``quotes_of``: first wait for a quote of this instrument (market orders are priced from
    quotes). ``timeout_secs`` bounds the scenario. ``after_stop`` runs once the node has
    stopped and before it is disposed (disposing resets it). The engines' queue tasks outlive
    ``run_async``; they are ended before the node is disposed, whatever happened.
    """
    loop = node.get_event_loop()
    assert loop is not None

    async def main() -> T:
        runner = loop.create_task(node.run_async())
        try:
            await wait_for(lambda: node.kernel.trader.is_running, 30, "the node to run")
            if quotes_of is not None:
                instrument_id = quotes_of
                await wait_for(
                    lambda: node.kernel.cache.quote_tick(instrument_id) is not None,
                    10,
                    f"quotes of {instrument_id}",
                )
            try:
                return await asyncio.wait_for(scenario(), timeout_secs)
            except TimeoutError:
                raise AssertionError(f"the scenario took more than {timeout_secs} s") from None
        finally:
            await node.stop_async()
            await asyncio.sleep(stop_grace_secs)
            if after_stop is not None:
                after_stop()
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

    try:
        return loop.run_until_complete(main())
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        node.dispose()
        asyncio.set_event_loop(None)


# --- node configs ----------------------------------------------------------------------------


def file_logging(log_dir: Path, name: str = "node", level_file: str = "WARNING") -> LoggingConfig:
    """Log to a file in ``log_dir`` (tests scan it); only errors reach the terminal."""
    return LoggingConfig(
        log_level="ERROR",
        log_level_file=level_file,
        log_directory=str(log_dir),
        log_file_name=name,
        log_colors=False,
    )


def data_client_config(
    base_url: str, coins: tuple[str, ...], **changes: Any
) -> HyperliquidDataClientConfig:
    """A Hyperliquid data client config for the simulator: no instrument refresh or status
    lines during a short run; ``changes`` override any field."""
    values: dict[str, Any] = {
        "http_url": base_url,
        "coins": coins,
        "instrument_refresh_interval_secs": 0,
    }
    values.update(changes)
    return HyperliquidDataClientConfig(**values)


def sim_node_config(
    data_client: LiveDataClientConfig,
    *,
    exec_client: LiveExecClientConfig | None = None,
    logging: LoggingConfig | None = None,
    exec_engine: LiveExecEngineConfig | None = None,
) -> TradingNodeConfig:
    """A node config with one client of each kind named HYPERLIQUID and short timeouts (the
    simulator answers in milliseconds: NautilusTrader's 10 s defaults only slow tests down)."""
    return TradingNodeConfig(
        trader_id="JARVIS-001",
        logging=logging or LoggingConfig(log_level="ERROR"),
        exec_engine=exec_engine or LiveExecEngineConfig(),
        data_clients={"HYPERLIQUID": data_client},
        exec_clients={} if exec_client is None else {"HYPERLIQUID": exec_client},
        timeout_connection=20.0,
        timeout_reconciliation=5.0,
        timeout_portfolio=2.0,
        timeout_disconnection=2.0,
        timeout_post_stop=0.2,
        timeout_shutdown=1.0,
    )


def build_sim_node(config: TradingNodeConfig) -> TradingNode:
    """A built node on a new current loop, Hyperliquid factories registered, health gates on."""
    node = TradingNode(config=config, loop=new_event_loop())
    node.add_data_client_factory("HYPERLIQUID", HyperliquidLiveDataClientFactory)
    if config.exec_clients:
        node.add_exec_client_factory("HYPERLIQUID", HyperliquidLiveExecClientFactory)
    node.build()
    wire_health_gates(node)
    return node


def replace_node(loaded: LoadedNodeConfig, **changes: Any) -> LoadedNodeConfig:
    """``loaded`` with some ``TradingNodeConfig`` fields replaced (everything else the file's)."""
    return dataclasses.replace(loaded, node=msgspec.structs.replace(loaded.node, **changes))


def tune_data_client(
    loaded: LoadedNodeConfig,
    name: str,
    tune: Callable[[HyperliquidDataClientConfig], HyperliquidDataClientConfig],
) -> LoadedNodeConfig:
    """``loaded`` with data client ``name``'s parsed config passed through ``tune``.

    The entry keeps the file's config class and factory paths: the node builder parses the
    tuned table again with that class, as it would the file's own.
    """
    entry = loaded.node.data_clients[name]
    assert isinstance(entry, ImportableConfig), f"{name}: not named by path in the file"
    tuned = tune(entry.create())
    table = json.loads(tuned.json())
    clients = {**loaded.node.data_clients, name: msgspec.structs.replace(entry, config=table)}
    return replace_node(loaded, data_clients=clients)


def keep_actors_of(loaded: LoadedNodeConfig, coins: Iterable[str]) -> LoadedNodeConfig:
    """``loaded`` without the actors whose instrument is a perp of a coin not in ``coins``
    (they would log an error for a missing instrument); actors naming none stay."""
    wanted = {f"{coin}-USD-PERP.HYPERLIQUID" for coin in coins}
    actors = [
        actor
        for actor in loaded.node.actors
        if actor.config.get("instrument_id") in (None, *wanted)
    ]
    return replace_node(loaded, actors=actors)


# --- inside a built node ---------------------------------------------------------------------


def hyperliquid_data_client(node: TradingNode) -> HyperliquidDataClient:
    """The node's (only) Hyperliquid data client."""
    clients = node.kernel.data_engine._clients.values()  # type: ignore[attr-defined]
    (client,) = [c for c in clients if isinstance(c, HyperliquidDataClient)]
    return client


def hyperliquid_exec_client(node: TradingNode) -> HyperliquidExecutionClient:
    """The node's (only) Hyperliquid execution client."""
    clients = node.kernel.exec_engine._clients.values()  # type: ignore[attr-defined]
    (client,) = [c for c in clients if isinstance(c, HyperliquidExecutionClient)]
    return client


class DriverConfig(StrategyConfig, frozen=True):
    """
    Configuration of the ``Driver``.

    Parameters
    ----------
    instrument_id : InstrumentId
        Whose book and quotes the driver subscribes to.
    """

    instrument_id: InstrumentId


class Driver(Strategy):
    """A strategy the harness drives by hand; it keeps every order event it receives."""

    def __init__(self, config: DriverConfig) -> None:
        super().__init__(config)
        self.instrument_id = config.instrument_id
        self.events: list[OrderEvent] = []

    def on_start(self) -> None:
        """Book and quotes of the instrument: MARKET orders are priced from them."""
        self.subscribe_order_book_deltas(self.instrument_id, book_type=BookType.L2_MBP)
        self.subscribe_quote_ticks(self.instrument_id)

    def on_stop(self) -> None:
        """Orders and positions stay: the tests read what is left on the venue."""

    def on_order_event(self, event: OrderEvent) -> None:
        self.events.append(event)

    def events_of(self, order: Order, cls: type | None = None) -> list[Any]:
        """The events received for one order (of type ``cls`` only, if given), in order."""
        mine = [e for e in self.events if e.client_order_id == order.client_order_id]
        return mine if cls is None else [e for e in mine if isinstance(e, cls)]


# --- logs ------------------------------------------------------------------------------------


def read_logs(
    log_dir: Path, pattern: str = "*", settle_secs: float = 0.2, deadline_secs: float = 3.0
) -> str:
    """Every node log file under ``log_dir`` (recursively), flushed first, as one text.

    NautilusTrader writes log files from its own thread, and ``flush_logger`` only asks it to
    flush: on a loaded machine the text lands a moment later. So this polls until the files
    hold text that has stopped growing for ``settle_secs`` (or ``deadline_secs`` pass).
    """
    flush_logger()
    deadline = time.monotonic() + deadline_secs
    text, settled_since = "", time.monotonic()
    while True:
        files = sorted(p for p in log_dir.rglob(pattern) if p.is_file())
        current = "\n".join(p.read_text(errors="replace") for p in files)
        now = time.monotonic()
        if current != text:
            text, settled_since = current, now
        elif text and now - settled_since >= settle_secs:
            return text
        if now >= deadline:
            return text
        time.sleep(0.05)


def unexpected_log_lines(text: str, allowed_warnings: Iterable[str] = ()) -> list[str]:
    """Every ERROR line, and every WARN line that matches none of the ``allowed_warnings``
    regular expressions."""
    allowed = [re.compile(p) for p in allowed_warnings]
    return [
        line
        for line in text.splitlines()
        if "[ERROR]" in line or ("[WARN]" in line and not any(p.search(line) for p in allowed))
    ]


# --- the strategies node on the simulator ------------------------------------------------------

SIM_STRATEGIES_TOML = Path(__file__).resolve().parents[1] / "config" / "sim_strategies.toml"


def geometry_sim_config(
    base_url: str,
    log_dir: Path,
    key_env: str = "HYPERLIQUID_SIM_PRIVATE_KEY",
    **geometry: Any,
) -> LoadedNodeConfig:
    """config/sim_strategies.toml for BTC only, with test windows and times (config, not code).

    The scenarios drive the market with another account's sweeps, which add open interest at
    every sweep on the simulator's small base: the sideways OI band and OI_SURGE are widened so
    the regime and the trade survive the driving. ``geometry`` overrides Geometry's config.
    """
    return rulebook_sim_config(base_url, log_dir, key_env=key_env, geometry=geometry)


GEOMETRY_TEST_CONFIG: dict[str, Any] = {
    "size_pct_equity": 10.0,
    "arm_timeout_secs": 40.0,
    "max_hold_secs": 600.0,
    "cooldown_secs": 1.0,
    "stop_buffer_bps": 15.0,
    # The quiet market's own 20 s ranges are narrower: Geometry arms where the driver steps the
    # oracle, not at an edge too narrow for the driver's sweeps to trigger anything.
    "min_width_bps": 40.0,
}


def rulebook_sim_config(
    base_url: str,
    log_dir: Path,
    *,
    key_env: str = "HYPERLIQUID_SIM_PRIVATE_KEY",
    geometry: Mapping[str, Any] | None = None,
    cascade: Mapping[str, Any] | None = None,
    windows_secs: tuple[float, ...] = (1.0, 5.0, 20.0, 60.0),
    builder_thresholds: Mapping[str, Any] | None = None,
    controller: Mapping[str, Any] | None = None,
    regime_thresholds: Mapping[str, Any] | None = None,
    risk_guard: Mapping[str, Any] | None = None,
) -> LoadedNodeConfig:
    """config/sim_strategies.toml for BTC only with test windows and times (config, not code):
    Geometry (``geometry``: its overrides; None leaves it out) on the sideways side and, when
    ``cascade`` is given, Cascade on the expansion side. ``builder_thresholds``,
    ``controller``, ``regime_thresholds`` and ``risk_guard`` override the defaults below."""
    from config.loading import parse_node_config
    from config.loading import read_config_file
    from jarvis.node import NodeOverrides
    from jarvis.node import apply_overrides

    raw = read_config_file(SIM_STRATEGIES_TOML, environ={key_env: "unused"})
    apply_overrides(raw, NodeOverrides(http_url=base_url))
    node = raw["node"]
    node["data_clients"]["HYPERLIQUID"]["config"]["coins"] = ["BTC"]
    node["exec_clients"]["HYPERLIQUID"]["config"]["coins"] = ["BTC"]
    node["exec_clients"]["HYPERLIQUID"]["config"]["leverage"] = {"BTC": 10}
    actors = []
    for actor in node["actors"]:
        instrument = actor["config"].get("instrument_id")
        if instrument not in (None, "BTC-USD-PERP.HYPERLIQUID"):
            continue
        if actor["actor_path"] == "actors.state_builder:MarketStateBuilder":
            actor["config"]["windows_secs"] = list(windows_secs)
            actor["config"]["thresholds"] = {
                "oi_surge_pct": 90.0,
                "absorption_min_usd": 80_000.0,
                "absorption_max_move_bps": 20.0,
                "thinning_baseline_window_secs": 20.0,
                **(builder_thresholds or {}),
            }
        if actor["actor_path"] == "strategies.risk_guard:RiskGuard":
            actor["config"].update(risk_guard or {})
        actors.append(actor)
    node["actors"] = actors
    ctl = node["controller"]["config"]
    ctl["enter_confirm_secs"] = 2.0
    ctl["exit_confirm_secs"] = 2.0
    ctl.update(controller or {})
    ctl["thresholds"] = {
        "sideways_max_abs_oi_change_pct_15m": 80.0,
        **(regime_thresholds or {}),
    }
    btc = [
        s
        for s in ctl["strategies"]
        if s["strategy"]["config"]["instrument_id"] == "BTC-USD-PERP.HYPERLIQUID"
    ]
    strategies = []
    if geometry is not None:
        btc[0]["strategy"]["config"].update({**GEOMETRY_TEST_CONFIG, **geometry})
        strategies.append(btc[0])
    if cascade is not None:
        strategies.append(
            {
                "side": "EXPANSION",
                "strategy": {
                    "strategy_path": "strategies.cascade:Cascade",
                    "config_path": "strategies.cascade:CascadeConfig",
                    "config": {
                        "order_id_tag": "CBTC",
                        "instrument_id": "BTC-USD-PERP.HYPERLIQUID",
                        "size_pct_equity": 10.0,
                        "cooldown_secs": 1.0,
                        **cascade,
                    },
                },
            }
        )
    ctl["strategies"] = strategies
    loaded = parse_node_config(raw, source=str(SIM_STRATEGIES_TOML))
    return replace_node(loaded, logging=file_logging(log_dir, level_file="INFO"))


def sim_mid(sim: SimThread, coin: str = "BTC") -> float:
    """The simulator's mid of ``coin`` (allMids)."""
    return float(venue_info(sim, {"type": "allMids"})[coin])


def sweep_ioc(sim: SimThread, key: str, usd: float, is_buy: bool, nonce_offset_ms: int) -> Any:
    """Another account takes ``usd`` of BTC liquidity with one IOC order (asset 0)."""
    mid = sim_mid(sim)
    price = f"{int(mid * (1.005 if is_buy else 0.995))}"
    order = {
        "a": 0,
        "b": is_buy,
        "p": price,
        "s": f"{usd / mid:.5f}",
        "r": False,
        "t": {"limit": {"tif": "Ioc"}},
    }
    action = {"type": "order", "orders": [order], "grouping": "na"}
    return post_signed_action(sim.base_url, key, action, nonce_offset_ms)


def venue_triggers(sim: SimThread, user: str) -> list[dict[str, Any]]:
    """``user``'s trigger (stop / take-profit) orders resting on the simulator."""
    orders = venue_info(sim, {"type": "frontendOpenOrders", "user": user})
    return [o for o in orders if o.get("isTrigger")]


class CapturingLogger(Logger):
    """A NautilusTrader ``Logger`` that also keeps every line it is given, for unit tests.

    The node's logger is process-global and writes only once a kernel initialised it; a unit test
    of a transport hands this one in and reads ``lines`` (``"LEVEL message"``) instead.
    """

    def __init__(self, name: str = "Test") -> None:
        super().__init__(name)
        self.lines: list[str] = []

    def debug(self, message: str, color: LogColor = LogColor.NORMAL) -> None:
        self.lines.append(f"DEBUG {message}")

    def info(self, message: str, color: LogColor = LogColor.NORMAL) -> None:
        self.lines.append(f"INFO {message}")

    def warning(self, message: str, color: LogColor = LogColor.YELLOW) -> None:
        self.lines.append(f"WARNING {message}")

    def error(self, message: str, color: LogColor = LogColor.RED) -> None:
        self.lines.append(f"ERROR {message}")

    @property
    def text(self) -> str:
        """Every captured line, newline-separated."""
        return "\n".join(self.lines)


# --- driving Geometry into a trade on the simulator --------------------------------------------


class GeometryDriver:
    """Drives the simulator until the node's Geometry on BTC arms and enters, as the market
    would: the oracle steps 60 bps up (the mid then sits at the high edge of the range the old
    prices make), and another account's IOC sweeps hit the defended side until the book
    absorbs one (ABSORPTION / BOOK_REFILL, the entry trigger). Runs on the node's loop.
    """

    def __init__(self, sim: SimThread, node: Any, taker_key: str, sweep_usd: float = 120_000.0):
        self.sim = sim
        self.node = node
        self.taker_key = taker_key
        self.sweep_usd = sweep_usd
        self.nonce = 0

    def strategy(self) -> Any:
        """The controller's Geometry (fails if it created none)."""
        from strategies.geometry import Geometry

        found = [s for s in self.node.trader.strategies() if isinstance(s, Geometry)]
        assert found, "the controller created no Geometry"
        return found[0]

    def state_is(self, state: Any) -> Callable[[], bool]:
        """A predicate: Geometry is in ``state``."""
        return lambda: self.strategy().state == state

    def is_long(self) -> bool:
        """The armed/entered trade is long (the low edge)."""
        return bool(self.strategy().levels.get("long") == 1.0)

    async def arm(self, timeout_secs: float = 20.0) -> None:
        from controllers.protocol import StrategyStatus

        if self.strategy().state == StrategyStatus.ARMED:
            return  # armed at an edge the market made by itself: sweep that one
        self.sim.set_oracle("BTC", sim_mid(self.sim) * 1.006)
        await wait_for(self.state_is(StrategyStatus.ARMED), timeout_secs, "Geometry ARMED")

    async def enter(self, timeout_secs: float = 30.0) -> None:
        """Sweeps 6 s apart (the 5 s absorption window drains in between) until ENTERED, then
        wait for the stop and target to rest at the venue."""
        from controllers.protocol import StrategyStatus

        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout_secs
        while self.strategy().state == StrategyStatus.ARMED and time.monotonic() < deadline:
            self.nonce += 7
            await loop.run_in_executor(
                None,
                sweep_ioc,
                self.sim,
                self.taker_key,
                self.sweep_usd,
                not self.is_long(),
                self.nonce,
            )
            until = time.monotonic() + 6.0
            while self.strategy().state == StrategyStatus.ARMED and time.monotonic() < until:
                await asyncio.sleep(0.05)
        await wait_for(self.state_is(StrategyStatus.ENTERED), 10, "Geometry ENTERED")

    async def trade(self, address: str, *, pause_when_entered: bool = False) -> None:
        """SCANNING -> ARMED -> ENTERED with stop and target resting at the venue (an arm that
        ends without a trade, e.g. an arm timeout, is retried once).

        ``pause_when_entered`` pauses the simulator's market as soon as Geometry is ENTERED,
        before the stop and target are placed (the random walk cannot carry the mark to the
        stop while the caller waits for them), then refills the makers' ladder at the unchanged
        oracle: the entry comes right after a sweep, whose consumed touch the paused makers
        would not requote, and a later oracle jump would take the mark (the median of oracle,
        bid and ask) to that swept ask, past the stop.
        """
        from controllers.protocol import StrategyStatus

        for attempt in (1, 2):
            await self.arm()
            try:
                await self.enter()
                break
            except AssertionError:
                if attempt == 2:
                    raise
                await wait_for(self.state_is(StrategyStatus.SCANNING), 60, "SCANNING to arm again")
        if pause_when_entered:
            await sim_admin_async(self.sim.base_url, "fault/pause-market")
            ctx = venue_info(self.sim, {"type": "metaAndAssetCtxs"})[1][0]
            self.sim.set_oracle("BTC", float(ctx["oraclePx"]))
        await wait_for(
            lambda: len(venue_triggers(self.sim, address)) == 2,
            10,
            "stop and target resting at the venue",
        )
