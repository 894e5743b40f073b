"""Build and run a NautilusTrader ``TradingNode`` from a config file in ``config/``.

Why a module of its own: ``jarvis node``, ``jarvis record`` and ``jarvis demo`` all run the same
node from the same files, differing only in small, explicit adjustments made to the file's tables
*before* they are parsed (point the data clients at a simulator's port, switch recording on, drop
trading for a data-only node) — so each adjusted config is validated exactly like the file itself.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_trader.config import ImportableConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.config import resolve_path
from nautilus_trader.live.node import TradingNode

from adapters.hyperliquid.data import wire_health_gates
from config.loading import ConfigError
from config.loading import LoadedNodeConfig
from config.loading import parse_node_config
from config.loading import read_config_file
from jarvis.market_log import MarketDataLogger
from jarvis.metrics_actor import install_node_metrics
from strategies.risk_guard import RiskGuardConfig
from strategies.risk_guard import install_risk_guard

__all__ = [
    "HYPERLIQUID_DATA_CONFIG_PATH",
    "HYPERLIQUID_EXEC_CONFIG_PATH",
    "JarvisTradingNode",
    "NodeOverrides",
    "NodeRunResult",
    "apply_overrides",
    "build_node",
    "check_client_environment",
    "describe",
    "load_for_run",
    "market_messages",
    "recording_directories",
    "register_exec_client_factories",
    "run_node",
    "wire_risk_guard",
]

HYPERLIQUID_DATA_CONFIG_PATH: Final[str] = "adapters.hyperliquid.config:HyperliquidDataClientConfig"
HYPERLIQUID_EXEC_CONFIG_PATH: Final[str] = "adapters.hyperliquid.config:HyperliquidExecClientConfig"
HYPERLIQUID_PAPER_CONFIG_PATH: Final[str] = (
    "adapters.hyperliquid.paper:HyperliquidPaperExecClientConfig"
)
_PAPER_FACTORY_PATH: Final[str] = "adapters.hyperliquid.paper:HyperliquidPaperExecClientFactory"
_RISK_GUARD_PATH: Final[str] = "strategies.risk_guard:RiskGuard"
# Tables of [node] that make a node trade; a data-only node drops them.
_TRADING_TABLES: Final[tuple[str, ...]] = (
    "exec_clients",
    "strategies",
    "exec_algorithms",
    "controller",
)


@dataclass(frozen=True)
class NodeOverrides:
    """
    Adjustments applied to a config file's tables before parsing.

    Parameters
    ----------
    http_url : str, optional
        Point every Hyperliquid data and execution client at this REST base URL (its WebSocket
        URL is then derived from it, as the SDK does).
    record_directory : str, optional
        Record every raw frame of every Hyperliquid data client into this folder.
    data_only : bool
        Drop execution clients, strategies, execution algorithms and the controller.
    run_directory : str, optional
        Add the run journal (``backtests.journal``) and the decision log
        (``backtests.decisions``): at stop the node writes what ``jarvis report --run`` needs
        and the decision digests into this folder.
    dry_run : bool
        Replace every Hyperliquid execution client by the paper client (same venue, simulated
        fills, nothing signed or sent) and switch the risk guard's ``dry_run`` on, which refuses
        every order should a live client remain.
    """

    http_url: str | None = None
    record_directory: str | None = None
    data_only: bool = False
    run_directory: str | None = None
    dry_run: bool = False


def _hyperliquid_client_configs(
    raw: Mapping[str, Any], kind: str = "data_clients"
) -> list[MutableMapping[str, Any]]:
    node = raw.get("node")
    if not isinstance(node, Mapping):
        return []
    clients = node.get(kind) or {}
    path = HYPERLIQUID_DATA_CONFIG_PATH if kind == "data_clients" else HYPERLIQUID_EXEC_CONFIG_PATH
    found: list[MutableMapping[str, Any]] = []
    for client in clients.values() if isinstance(clients, Mapping) else ():
        is_hyperliquid = isinstance(client, MutableMapping) and client.get("path") == path
        if is_hyperliquid:
            config = client.setdefault("config", {})
            if isinstance(config, MutableMapping):
                found.append(config)
    return found


def apply_overrides(raw: MutableMapping[str, Any], overrides: NodeOverrides) -> None:
    """Apply ``overrides`` to a config file's tables in place (see ``NodeOverrides``)."""
    clients = _hyperliquid_client_configs(raw)
    if (overrides.http_url is not None or overrides.record_directory is not None) and not clients:
        raise ConfigError("the config has no Hyperliquid data client to adjust")
    for config in clients:
        if overrides.http_url is not None:
            config["http_url"] = overrides.http_url
            config.pop("ws_url", None)
        if overrides.record_directory is not None:
            recorder = dict(config.get("recorder") or {})
            recorder["directory"] = overrides.record_directory
            config["recorder"] = recorder
    if overrides.http_url is not None and not overrides.data_only:
        # The execution clients trade where the data comes from: never data from a simulator
        # and orders to the venue named in the file.
        for config in _hyperliquid_client_configs(raw, "exec_clients"):
            config["http_url"] = overrides.http_url
            config.pop("ws_url", None)
    node = raw.get("node")
    if overrides.data_only and isinstance(node, MutableMapping):
        for table in _TRADING_TABLES:
            node.pop(table, None)
    if overrides.run_directory is not None and isinstance(node, MutableMapping):
        node.setdefault("actors", []).append(
            {
                "actor_path": "backtests.journal:RunJournal",
                "config_path": "backtests.journal:RunJournalConfig",
                "config": {"directory": overrides.run_directory, "kind": "live"},
            }
        )
        node["actors"].append(
            {
                "actor_path": "backtests.decisions:DecisionLog",
                "config_path": "backtests.decisions:DecisionLogConfig",
                "config": {"directory": overrides.run_directory},
            }
        )
    if overrides.dry_run and isinstance(node, MutableMapping):
        _to_paper(node)


def _to_paper(node: MutableMapping[str, Any]) -> None:
    """Every Hyperliquid execution client becomes the paper client; the guard goes dry-run."""
    clients = node.get("exec_clients") or {}
    for name, client in list(clients.items()):
        if (
            isinstance(client, MutableMapping)
            and client.get("path") == HYPERLIQUID_EXEC_CONFIG_PATH
        ):
            clients[name] = {
                "path": HYPERLIQUID_PAPER_CONFIG_PATH,
                "factory": {"path": _PAPER_FACTORY_PATH},
                "config": {},
            }
    actors = node.setdefault("actors", [])
    guards = [
        a
        for a in actors
        if isinstance(a, MutableMapping) and a.get("actor_path") == _RISK_GUARD_PATH
    ]
    if not guards:
        actors.append(
            {
                "actor_path": _RISK_GUARD_PATH,
                "config_path": "strategies.risk_guard:RiskGuardConfig",
                "config": {},
            }
        )
        guards = [actors[-1]]
    for guard in guards:
        guard.setdefault("config", {})["dry_run"] = True


def wire_risk_guard(node: TradingNode) -> None:
    """Put the node-wide risk guard in front of the RiskEngine when the node can trade."""
    if node.kernel.exec_engine.registered_clients:
        install_risk_guard(node.kernel, RiskGuardConfig())


def load_for_run(
    path: str | Path,
    overrides: NodeOverrides | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoadedNodeConfig:
    """Read a config file, apply ``overrides`` and parse it; ``ConfigError`` on any problem."""
    raw = read_config_file(path, environ)
    if overrides is not None:
        apply_overrides(raw, overrides)
    return parse_node_config(raw, source=str(path))


def _client_config(entry: Any) -> Any:
    return entry.create() if isinstance(entry, ImportableConfig) else entry


def recording_directories(loaded: LoadedNodeConfig) -> list[str]:
    """The recorder folders of the node's data clients (empty when nothing records)."""
    folders: list[str] = []
    for entry in loaded.node.data_clients.values():
        recorder = getattr(_client_config(entry), "recorder", None)
        if recorder is not None:
            folders.append(recorder.directory)
    return folders


def describe(loaded: LoadedNodeConfig) -> str:
    """One paragraph saying what this node is about to connect to (printed before start)."""
    lines = [
        f"config {loaded.source}: environment={loaded.jarvis.environment} "
        f"trader_id={loaded.node.trader_id}"
    ]
    if loaded.jarvis.description:
        lines.append(f"  {loaded.jarvis.description}")
    for name, entry in loaded.node.data_clients.items():
        config = _client_config(entry)
        url = getattr(config, "http_url", None)
        ws = getattr(config, "resolved_ws_url", None)
        where = f" {url} (ws {ws})" if url is not None else ""
        lines.append(f"  data client {name}:{where}")
    for folder in recording_directories(loaded):
        lines.append(f"  recording raw frames into {folder}")
    lines.append(
        f"  actors: {len(loaded.node.actors)}, strategies: {len(loaded.node.strategies)}, "
        f"exec clients: {len(loaded.node.exec_clients)}"
    )
    return "\n".join(lines)


def check_client_environment(
    loaded: LoadedNodeConfig, environ: Mapping[str, str] | None = None
) -> None:
    """Fail before anything is built when a variable a client config names is unset.

    Every ``*_env`` field of a data or execution client config names an environment variable
    the client reads when it is built (a signing key, an account address); a missing one is a
    ``ConfigError`` naming the client, the field and the variable, never a half-started node.
    """
    env = os.environ if environ is None else environ
    missing: list[str] = []
    for kind in ("data_clients", "exec_clients"):
        for name, entry in getattr(loaded.node, kind).items():
            config = _client_config(entry)
            fields = getattr(type(config), "__struct_fields__", ())
            for field_name in fields:
                variable = getattr(config, field_name)
                names_a_variable = field_name.endswith("_env") and isinstance(variable, str)
                if names_a_variable and variable and not env.get(variable, "").strip():
                    missing.append(f"{variable} ({kind}.{name}.{field_name})")
    if missing:
        raise ConfigError(f"{loaded.source}: environment variable(s) not set: {', '.join(missing)}")


def register_exec_client_factories(node: TradingNode, config: TradingNodeConfig) -> None:
    """Register the factory CLASS of every execution client a config file names by path.

    Why: NautilusTrader 1.231's node builder stores ``cfg.factory.create()`` (an instance) for
    a factory given by path and then reads ``factory.__name__``, which an instance does not
    have (AttributeError). A factory registered with ``add_exec_client_factory`` is taken as is,
    so registering the class first makes every path-named factory work without each one faking
    a ``__name__``. A factory that defines ``__name__`` itself (the paper factory answers the
    builder's "SandboxLiveExecClientFactory" check to receive the portfolio, which the builder
    passes only by that name) is left to the builder, so it keeps getting the portfolio.
    """
    registered: set[str] = set()
    for key, entry in config.exec_clients.items():
        if not isinstance(entry, ImportableConfig) or entry.factory is None:
            continue
        name = key.partition("-")[0]  # the builder's own naming of client keys
        factory = resolve_path(entry.factory.path)
        if name in registered or "__name__" in vars(factory):
            continue
        node.add_exec_client_factory(name, factory)
        registered.add(name)


@dataclass(frozen=True)
class NodeRunResult:
    """What a finished run saw, read before the node was disposed (disposing clears actors).

    ``start_failure`` is set when the node never started trading: its clients never connected
    before it was stopped (``duration_secs``, SIGTERM, Ctrl-C), or reconciliation / portfolio
    initialisation failed after they did.
    """

    market_messages: int | None
    start_failure: str | None = None


# How often the start-up wait looks at the clients (a poll, not the kernel's busy loop).
_CONNECT_POLL_SECS: Final[float] = 0.1


class JarvisTradingNode(TradingNode):
    """A ``TradingNode`` that waits for its venue and says RUNNING only once it trades.

    Why: NautilusTrader 1.231's kernel waits ``timeout_connection`` seconds for the clients in a
    busy loop (``asyncio.sleep(0)``), then gives up on the start but logs RUNNING anyway and
    keeps its engines running with no trader: a node started while the venue is down looks
    alive, never trades, and never connects when the venue comes back. Here the kernel's wait is
    replaced (one method of this node's kernel): the clients keep retrying their venue with
    capped backoff (``adapters.hyperliquid.startup``), the wait polls them with no deadline and
    logs a WARNING every ``timeout_connection`` seconds naming the clients not yet connected, and
    ends only when all are connected, the node is stopped, or a client's connect failed for good
    (an error retrying cannot cure: a wrong URL, a key the account does not accept). RUNNING is
    logged only when the trader runs; otherwise ``start_failure`` says why and the node stops
    (fail closed).
    """

    def __init__(self, config: TradingNodeConfig, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(config=config, loop=loop)
        self.start_failure: str | None = None
        self._connect_failures: dict[str, str] = {}
        self._watched: set[str] = set()
        self._waiting_report_secs = max(float(config.timeout_connection), 1.0)
        self.kernel._await_engines_connected = self._await_clients_connected  # type: ignore[method-assign]

    def unconnected_clients(self) -> list[str]:
        """``"<client id> (data|exec)"`` for every client not connected yet."""
        return [name for name, client in self._clients() if not client.is_connected]

    def _clients(self) -> list[tuple[str, Any]]:
        found: list[tuple[str, Any]] = []
        for kind, engine in (("data", self.kernel.data_engine), ("exec", self.kernel.exec_engine)):
            clients: Mapping[Any, Any] = engine._clients  # type: ignore[attr-defined]
            found.extend((f"{client.id} ({kind})", client) for client in clients.values())
        return found

    def _watch_connects(self) -> None:
        """Note a client whose ``_connect`` raised: it will not connect (NautilusTrader runs it
        once and only logs the error), so waiting for it would hang the start."""
        for name, client in self._clients():
            if name in self._watched:
                continue
            self._watched.add(name)
            connect = client._connect

            # Named like the method, so NautilusTrader's task logs read the same.
            async def _connect(name: str = name, connect: Any = connect) -> None:
                try:
                    await connect()
                except Exception as exc:
                    self._connect_failures[name] = f"{type(exc).__name__}: {exc}"
                    raise

            client._connect = _connect

    def _stopping(self) -> bool:
        kernel = self.kernel
        return bool(kernel._is_stopping) or not kernel.is_running()  # type: ignore[attr-defined]

    async def _await_clients_connected(self) -> bool:
        kernel = self.kernel
        loop = asyncio.get_running_loop()
        began = loop.time()
        next_report = began + self._waiting_report_secs
        kernel.logger.info(
            "Waiting for every client to connect and load its instruments (retried until "
            "connected or stopped)"
        )
        while True:
            if self._stopping() or self._connect_failures:
                return False
            if kernel.data_engine.check_connected() and kernel.exec_engine.check_connected():
                return True
            now = loop.time()
            if now >= next_report:
                kernel.logger.warning(
                    f"Not connected after {now - began:.0f} s: still waiting for "
                    f"{', '.join(self.unconnected_clients())}; not trading until connected"
                )
                next_report = now + self._waiting_report_secs
            await asyncio.sleep(_CONNECT_POLL_SECS)

    async def run_async(self) -> None:
        """Start; log RUNNING only once the trader runs, else record why and stop."""
        kernel = self.kernel
        self._watch_connects()
        try:
            await kernel.start_async()
            if kernel.trader.is_running:
                kernel.logger.info("RUNNING")
            else:
                self._start_failed()
            tasks: list[asyncio.Task[Any]] = [
                kernel.data_engine.get_cmd_queue_task(),
                kernel.data_engine.get_req_queue_task(),
                kernel.data_engine.get_res_queue_task(),
                kernel.data_engine.get_data_queue_task(),
                kernel.risk_engine.get_cmd_queue_task(),
                kernel.risk_engine.get_evt_queue_task(),
                kernel.exec_engine.get_cmd_queue_task(),
                kernel.exec_engine.get_evt_queue_task(),
            ]
            streams = self._config.message_bus and self._config.message_bus.external_streams
            if streams:  # as TradingNode.run_async does
                kernel.logger.info(f"Listening to streams: {streams}")
                self._task_streaming = asyncio.ensure_future(
                    kernel.msgbus_database.stream(self.publish_bus_message),
                )
                self._task_streaming.add_done_callback(self._handle_streaming_exception)
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            kernel.logger.debug("Engine queue tasks cancelled during shutdown")

    def _start_failed(self) -> None:
        kernel = self.kernel
        unconnected = self.unconnected_clients()
        failed = "; ".join(f"{name}: {cause}" for name, cause in self._connect_failures.items())
        if failed:
            reason = f"the node did not start: a client failed to connect: {failed}"
        elif unconnected:
            reason = (
                f"the node never connected: {', '.join(unconnected)} could not reach the venue "
                "before the node was stopped (see the log above)"
            )
        else:
            reason = (
                "the node did not start: execution reconciliation or portfolio initialisation "
                "failed (see the log above)"
            )
        self.start_failure = reason
        kernel.logger.error(f"NOT RUNNING: {reason}")
        if not self._stopping():  # a stop already under way (or done) is not repeated
            self.stop()


def build_node(
    loaded: LoadedNodeConfig,
    loop: asyncio.AbstractEventLoop,
    metrics_port: int | None = None,
) -> JarvisTradingNode:
    """A built (clients created, not started) ``JarvisTradingNode`` on ``loop``, with its
    Prometheus metrics (served on ``metrics_port`` when given; the sidecar serves them too)."""
    check_client_environment(loaded)
    node = JarvisTradingNode(config=loaded.node, loop=loop)
    register_exec_client_factories(node, loaded.node)
    node.build()
    wire_health_gates(node)
    wire_risk_guard(node)
    install_node_metrics(node, metrics_port)
    return node


def run_node(
    loaded: LoadedNodeConfig,
    duration_secs: float | None = None,
    metrics_port: int | None = None,
) -> NodeRunResult:
    """Build, run until Ctrl-C / SIGTERM (or ``duration_secs``), stop and dispose the node.

    The node waits for its venue as long as it runs (``JarvisTradingNode``); a run that ends
    before the node ever traded returns a ``start_failure``. With ``metrics_port`` the node
    serves its Prometheus metrics there (``jarvis.metrics``).
    """
    check_client_environment(loaded)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = JarvisTradingNode(config=loaded.node, loop=loop)
    seen: int | None = None
    try:
        register_exec_client_factories(node, loaded.node)
        node.build()
        # The feed-health gate needs the RiskEngine, which NautilusTrader does not hand to
        # data clients.
        wire_health_gates(node)
        # Every order of the node passes the risk guard (strategies/risk_guard.py).
        wire_risk_guard(node)
        if metrics_port is not None:
            install_node_metrics(node, metrics_port)
        if duration_secs is not None:
            loop.call_later(duration_secs, node.stop)
        node.run()
        seen = market_messages(node)
        _cache_venue_metadata(node, loaded.source)
    finally:
        node.dispose()
    return NodeRunResult(market_messages=seen, start_failure=node.start_failure)


def _cache_venue_metadata(node: TradingNode, source: str) -> None:
    """Leave the instruments this run knew for ``jarvis intent`` (which works with no venue);
    a failure to write is logged, never raised: the run itself is over and was fine."""
    from jarvis.intent_cli import cache_node_metadata

    try:
        cache_node_metadata(node, source)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        node.kernel.logger.warning(f"venue metadata not cached for jarvis intent: {exc}")


def market_messages(node: TradingNode) -> int | None:
    """Market data messages the node's ``MarketDataLogger`` received (None: no such actor)."""
    loggers = [a for a in node.trader.actors() if isinstance(a, MarketDataLogger)]
    if not loggers:
        return None
    return sum(logger.total_messages for logger in loggers)
