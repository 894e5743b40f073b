"""The actor that feeds a node's Prometheus metrics (``jarvis.metrics``), on the node's loop.

``NodeMetricsActor`` takes order events (``events.order.*``), trading-state events
(``events.risk``), feed health, regime, strategy state, risk-guard changes and market state from
the bus, and once a second (``sample_interval_secs``, scheduled with ``loop.call_later`` so the
tick itself measures the event-loop lag) samples what is not on the bus: the clients' WebSocket
counters, the data clients' per-stream receive times and decode errors, the recorder, the shared
REST rate limiter, positions, exposure and PnL from the cache and portfolio, the risk guard's
daily budget. Every read of a NautilusTrader object happens here, on the loop thread (the cache
and bus are not thread-safe: NAUTILUS_FACTS §2); scrapes only render the registry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import PositiveFloat
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderCancelRejected
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderModifyRejected
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.events import OrderSubmitted
from prometheus_client import Gauge

from actors.market_state import MARKET_STATE_DATA_TYPE
from actors.market_state import MarketState
from adapters.hyperliquid.data_types import FEED_HEALTH_DATA_TYPE
from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.data_types import FeedHealthStatus
from adapters.hyperliquid.rate_limit import shared_rate_limiter
from common.nautilus import custom_data_topic
from controllers.protocol import REGIME_CHANGE_DATA_TYPE
from controllers.protocol import STRATEGY_STATE_DATA_TYPE
from controllers.protocol import RegimeChange
from controllers.protocol import StrategyState
from jarvis.metrics import NodeMetrics
from jarvis.metrics import publish
from jarvis.metrics import rejection_reason_label
from jarvis.metrics import withdraw
from strategies.risk_guard import RISK_GUARD_CHANGE_DATA_TYPE
from strategies.risk_guard import GuardMode
from strategies.risk_guard import RiskGuard
from strategies.risk_guard import RiskGuardChange

__all__ = ["NodeMetricsActor", "NodeMetricsActorConfig", "install_node_metrics"]

_NS: Final[float] = 1e9
_CIRCUIT_BREAKER: Final[str] = "circuit breaker"
_TRADING: Final[tuple[str, ...]] = tuple(s.name for s in TradingState)
_MODES: Final[tuple[str, ...]] = tuple(m.value for m in GuardMode)


class NodeMetricsActorConfig(ActorConfig, frozen=True):
    """
    Configuration of the ``NodeMetricsActor``.

    Parameters
    ----------
    port : int, optional
        Serve ``/metrics`` on this port (0: a free one, see ``bound_port``); ``None``: no server
        of its own (the sidecar serves the registry).
    host : str
        Address the server binds.
    sample_interval_secs : float
        Period of the sampling tick (positions, PnL, streams, recorder, loop lag).
    """

    component_id: str = "NodeMetrics"
    port: int | None = None
    host: str = "127.0.0.1"
    sample_interval_secs: PositiveFloat = 1.0


@dataclass
class _Sources:
    """What the actor samples that is not on the bus (wired by ``install_node_metrics``)."""

    data_clients: list[Any] = field(default_factory=list)
    websockets: list[tuple[str, Any]] = field(default_factory=list)  # (client kind, ws client)
    guard: RiskGuard | None = None


class NodeMetricsActor(Actor):
    """Feeds ``NodeMetrics`` from the bus and a sampling tick (module notes)."""

    def __init__(self, config: NodeMetricsActorConfig | None = None) -> None:
        config = config or NodeMetricsActorConfig()
        super().__init__(config)
        self._cfg = config
        self.metrics = NodeMetrics()
        self.sources = _Sources()
        self.bound_port: int | None = None
        self._server: Any = None
        self._tick: asyncio.TimerHandle | None = None
        self._submitted_ns: dict[str, int] = {}
        self._states_ns: dict[str, int] = {}
        self._ws_seen: dict[int, tuple[int, int]] = {}
        self._rate_limited_seen = 0
        self._dropped_seen = 0
        self._one_hot: dict[tuple[Any, ...], set[str]] = {}
        self._errors_seen: dict[str, int] = {}
        self._held: set[str] = set()
        self._set_one_hot(self.metrics.trading_state, [], TradingState.ACTIVE.name, _TRADING)
        self._set_one_hot(self.metrics.guard_mode, [], GuardMode.ACTIVE.value, _MODES)

    # -- lifecycle -------------------------------------------------------------------------------

    def on_start(self) -> None:
        """Subscribe, start the server (if a port is set) and the sampling tick."""
        bus = self.msgbus
        bus.subscribe("events.order.*", self._on_order_event)
        bus.subscribe("events.risk*", self._on_risk)
        bus.subscribe(custom_data_topic(FEED_HEALTH_DATA_TYPE), self._on_health)
        bus.subscribe(custom_data_topic(REGIME_CHANGE_DATA_TYPE), self._on_regime)
        bus.subscribe(custom_data_topic(STRATEGY_STATE_DATA_TYPE), self._on_strategy)
        bus.subscribe(custom_data_topic(RISK_GUARD_CHANGE_DATA_TYPE), self._on_guard)
        bus.subscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self._on_state)
        self.metrics.up.set(1)
        self.metrics.started.set(time.time())
        publish(self.metrics)
        if self._cfg.port is not None and self._server is None:
            self._start_server()
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:  # no event loop (a backtest): bus-fed metrics only
            self.log.warning("No event loop: metrics are not sampled (positions, streams, lag)")
            return
        interval = self._cfg.sample_interval_secs
        self._tick = loop.call_later(interval, self._on_tick, loop.time() + interval)

    def on_stop(self) -> None:
        """Mirror ``on_start``; the server stays up until dispose (a last scrape sees the end)."""
        bus = self.msgbus
        bus.unsubscribe("events.order.*", self._on_order_event)
        bus.unsubscribe("events.risk*", self._on_risk)
        bus.unsubscribe(custom_data_topic(FEED_HEALTH_DATA_TYPE), self._on_health)
        bus.unsubscribe(custom_data_topic(REGIME_CHANGE_DATA_TYPE), self._on_regime)
        bus.unsubscribe(custom_data_topic(STRATEGY_STATE_DATA_TYPE), self._on_strategy)
        bus.unsubscribe(custom_data_topic(RISK_GUARD_CHANGE_DATA_TYPE), self._on_guard)
        bus.unsubscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self._on_state)
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        self.metrics.up.set(0)

    def on_dispose(self) -> None:
        """Close the server and leave the process's exposition."""
        withdraw(self.metrics)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _start_server(self) -> None:
        # prometheus_client's own threaded server: it reads only the registry.
        from prometheus_client import start_http_server

        server, _ = start_http_server(
            self._cfg.port or 0, addr=self._cfg.host, registry=self.metrics.registry
        )
        self._server = server
        self.bound_port = int(server.server_address[1])
        self.log.info(f"Prometheus metrics on http://{self._cfg.host}:{self.bound_port}/metrics")

    # -- bus handlers (loop thread) ----------------------------------------------------------------

    def _on_order_event(self, event: Any) -> None:
        m = self.metrics
        key = event.client_order_id.value
        if isinstance(event, OrderSubmitted):
            m.order_attempts.inc()
            self._submitted_ns[key] = event.ts_event or self.clock.timestamp_ns()
        elif isinstance(event, OrderAccepted):
            m.order_acks.inc()
            sent = self._submitted_ns.pop(key, None)
            if sent is not None:
                now = event.ts_init or self.clock.timestamp_ns()
                m.submit_to_ack.observe(max(now - sent, 0) / _NS)
        elif isinstance(event, OrderDenied):
            m.order_attempts.inc()
            m.order_rejections.labels(rejection_reason_label(event.reason, denied=True)).inc()
            m.orders_terminal.labels("DENIED").inc()
            m.errors.labels("order_denied").inc()
        elif isinstance(event, OrderRejected):
            self._submitted_ns.pop(key, None)
            m.order_rejections.labels(rejection_reason_label(event.reason, denied=False)).inc()
            m.orders_terminal.labels("REJECTED").inc()
            m.errors.labels("order_rejected").inc()
        elif isinstance(event, OrderFilled):
            m.order_fills.inc()
            self._submitted_ns.pop(key, None)
            order = self.cache.order(event.client_order_id)
            if order is not None and order.is_closed:
                m.orders_terminal.labels("FILLED").inc()
        elif isinstance(event, OrderCanceled):
            self._submitted_ns.pop(key, None)
            m.order_cancels.inc()
            m.orders_terminal.labels("CANCELED").inc()
        elif isinstance(event, OrderExpired):
            self._submitted_ns.pop(key, None)
            m.orders_terminal.labels("EXPIRED").inc()
        elif isinstance(event, OrderCancelRejected):
            m.errors.labels("cancel_rejected").inc()
        elif isinstance(event, OrderModifyRejected):
            m.errors.labels("modify_rejected").inc()

    def _on_risk(self, event: Any) -> None:
        state = getattr(event, "state", None)
        if state is not None:
            self._set_one_hot(self.metrics.trading_state, [], TradingState(state).name, _TRADING)

    def _on_health(self, health: FeedHealth) -> None:
        m = self.metrics
        m.stream_healthy.labels(health.stream).set(1 if health.is_healthy else 0)
        if health.status == FeedHealthStatus.GAP.value:
            m.feed_gaps.labels(health.stream).inc()

    def _on_regime(self, change: RegimeChange) -> None:
        instrument = str(change.instrument_id)
        self._set_one_hot(self.metrics.regime, [instrument], change.regime, None)

    def _on_strategy(self, report: StrategyState) -> None:
        self._set_one_hot(self.metrics.strategy_state, [report.strategy_id], report.state, None)

    def _on_guard(self, change: RiskGuardChange) -> None:
        m = self.metrics
        self._set_one_hot(m.guard_mode, [], change.mode, _MODES)
        tripped = change.mode != GuardMode.ACTIVE.value and _CIRCUIT_BREAKER in change.reason
        if tripped:
            m.circuit_breaker_trips.inc()
            m.circuit_breaker.set(1)
        elif change.mode == GuardMode.ACTIVE.value:
            m.circuit_breaker.set(0)

    def _on_state(self, state: MarketState) -> None:
        now = self.clock.timestamp_ns()
        self._states_ns[str(state.instrument_id)] = now
        if state.input_ts_ns:
            self.metrics.message_to_state.observe(max(now - state.input_ts_ns, 0) / _NS)

    def _set_one_hot(
        self, gauge: Gauge, labels: list[str], current: str, known: Iterable[str] | None
    ) -> None:
        """Set ``current`` to 1 and every other value seen for the same labels to 0."""
        values = self._one_hot.setdefault((id(gauge), *labels), set(known or ()))
        values.add(current)
        for value in values:
            gauge.labels(*labels, value).set(1 if value == current else 0)

    # -- sampling tick (loop thread) ---------------------------------------------------------------

    def _on_tick(self, expected: float) -> None:
        loop = asyncio.get_event_loop()
        self.metrics.loop_lag.set(max(loop.time() - expected, 0.0))
        try:
            self.sample(self.clock.timestamp_ns())
        except Exception as exc:  # a sampling bug must not end the metrics for good
            self.log.exception("Metrics sampling failed; sampling again next tick", exc)
        interval = self._cfg.sample_interval_secs
        self._tick = loop.call_later(interval, self._on_tick, loop.time() + interval)

    def sample(self, now_ns: int) -> None:
        """Read what is not on the bus into the gauges (module notes)."""
        self._sample_feeds(now_ns)
        self._sample_limiter()
        self._sample_portfolio()
        guard = self.sources.guard
        if guard is not None:
            self.metrics.budget_used.set(guard.daily_budget_used())
        for instrument, at in self._states_ns.items():
            self.metrics.state_age.labels(instrument).set(max(now_ns - at, 0) / _NS)

    def _sample_feeds(self, now_ns: int) -> None:
        m = self.metrics
        healthy = True
        recorded = 0
        lag = 0
        dropped = 0
        watched = False
        for client in self.sources.data_clients:
            for stream, last in client.stream_last_received_ns().items():
                m.stream_staleness.labels(stream).set(max(now_ns - last, 0) / _NS)
            for health in client.stream_health().values():
                watched = True
                healthy = healthy and health.is_healthy
            decode_errors = sum(errors for _, errors in client.feed_counters().values())
            self._count_error(f"decode_error:{id(client)}", "decode_error", decode_errors)
            recorder = client.recorder
            if recorder is not None:
                rec = recorder.stats()
                lag += max(rec.appended - rec.durable, 0)
                dropped += rec.dropped
                recorded += sum(
                    p.stat().st_size for p in recorder.directory.glob("*") if p.is_file()
                )
        for kind, ws in self.sources.websockets:
            self._sample_websocket(kind, ws)
        m.feed_healthy.set(1 if healthy and watched else 0)
        m.recorder_bytes.set(recorded)
        m.recorder_lag.set(lag)
        if dropped > self._dropped_seen:
            m.recorder_dropped.inc(dropped - self._dropped_seen)
            self._dropped_seen = dropped

    def _count_error(self, key: str, kind: str, total: int) -> None:
        """Add what a source's running total of errors grew by since the last sample."""
        seen = self._errors_seen.get(key, 0)
        if total > seen:
            self.metrics.errors.labels(kind).inc(total - seen)
        self._errors_seen[key] = max(total, seen)

    def _sample_websocket(self, kind: str, ws: Any) -> None:
        m = self.metrics
        stats = ws.stats
        self._count_error(f"ws_handler_error:{id(ws)}", "ws_handler_error", stats.handler_errors)
        connects, failed = self._ws_seen.get(id(ws), (0, 0))
        new = stats.connects - max(connects, 1)  # the first connect is not a reconnect
        if new > 0:
            m.ws_reconnects.labels(kind).inc(new)
            m.ws_resubscriptions.labels(kind).inc(new * len(ws.subscriptions))
        if stats.failed_connects > failed:
            m.ws_failed_connects.labels(kind).inc(stats.failed_connects - failed)
        self._ws_seen[id(ws)] = (max(stats.connects, connects), stats.failed_connects)

    def _sample_limiter(self) -> None:
        limiter = shared_rate_limiter()
        seen = limiter.metrics.rate_limited
        if seen > self._rate_limited_seen:
            self.metrics.rate_limited.inc(seen - self._rate_limited_seen)
        self._rate_limited_seen = max(seen, self._rate_limited_seen)
        self.metrics.rate_budget.set(limiter.available / limiter.capacity)

    def _sample_portfolio(self) -> None:
        m = self.metrics
        cache = self.cache
        portfolio = self.portfolio
        exposure = Decimal(0)
        unrealized = 0.0
        held: set[str] = set()
        for position in cache.positions_open():
            instrument = str(position.instrument_id)
            held.add(instrument)
            m.position_qty.labels(instrument).set(float(position.signed_qty))
            upnl = portfolio.unrealized_pnl(position.instrument_id)
            unrealized += float(upnl) if upnl is not None else 0.0
            net = portfolio.net_exposure(position.instrument_id)
            if net is not None:
                exposure += abs(net.as_decimal())
        for instrument in self._held - held:
            m.position_qty.labels(instrument).set(0)
        self._held |= held
        realized = sum(
            float(p.realized_pnl) for p in cache.positions() if p.realized_pnl is not None
        )
        m.positions_open.set(len(held))
        m.orders_open.set(len(cache.orders_open()))
        m.exposure.set(float(exposure))
        m.pnl_realized.set(realized)
        m.pnl_unrealized.set(unrealized)


def install_node_metrics(
    node: Any, port: int | None = None, host: str = "127.0.0.1"
) -> NodeMetricsActor:
    """Add a ``NodeMetricsActor`` to a built (not yet running) node and wire what it samples:
    the Hyperliquid data clients and the installed risk guard."""
    actor = NodeMetricsActor(NodeMetricsActorConfig(port=port, host=host))
    kernel = node.kernel
    # NautilusTrader keeps no public list of an engine's clients.
    clients = kernel.data_engine._clients.values()
    actor.sources.data_clients = [c for c in clients if hasattr(c, "stream_last_received_ns")]
    actor.sources.websockets = [("data", c.ws_client) for c in actor.sources.data_clients]
    for client in kernel.exec_engine._clients.values():
        ws = getattr(client, "ws_client", None)
        if ws is not None:
            actor.sources.websockets.append(("exec", ws))
    guards = [a for a in kernel.trader.actors() if isinstance(a, RiskGuard) and a.installed]
    actor.sources.guard = guards[0] if guards else None
    kernel.trader.add_actor(actor)
    return actor
