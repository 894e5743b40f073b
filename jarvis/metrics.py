"""Prometheus metrics of a running node: their definitions and their exposition.

Names follow Prometheus conventions (``jarvis_`` prefix, ``_total`` counters, ``_seconds`` and
``_usd`` units). Labels stay bounded: rejection reasons are the venue's stable codes
(``HyperliquidRejectReason``) or a fixed few, streams and instruments come from the config,
states and regimes from their enums; strategy ids are the node's strategies. Nothing is labelled
by order id or user.

Who writes them: ``jarvis.metrics_actor.NodeMetricsActor``, on the node's event loop. Who reads
them: ``prometheus_client``'s server thread (``--metrics-port``) or the sidecar's
``GET /metrics`` (``sidecar_exposition``), which only render the registry: metric values are
guarded by ``prometheus_client``'s own locks, so a scrape never touches the node.
"""

from __future__ import annotations

import weakref
from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Gauge
from prometheus_client import Histogram
from prometheus_client import generate_latest

from adapters.hyperliquid.rejections import HyperliquidRejectReason
from strategies.risk_guard import GUARD_DENIAL_PREFIX

__all__ = [
    "CONTENT_TYPE",
    "NodeMetrics",
    "process_exposition",
    "publish",
    "rejection_reason_label",
    "sidecar_exposition",
    "withdraw",
]

CONTENT_TYPE: Final[str] = CONTENT_TYPE_LATEST
_VENUE_CODES: Final[frozenset[str]] = frozenset(r.value for r in HyperliquidRejectReason)
# Submit-to-ack on the simulator is milliseconds, on the venue tens to hundreds of them.
_ACK_BUCKETS: Final[tuple[float, ...]] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
_STATE_BUCKETS: Final[tuple[float, ...]] = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
)  # fmt: skip


def rejection_reason_label(reason: str, denied: bool) -> str:
    """A bounded label for a rejection: the venue's stable code (``"MIN_VALUE: ..."`` ->
    ``MIN_VALUE``), ``RISK_GUARD`` / ``RISK_ENGINE`` for denials before the venue, else
    ``OTHER`` (free texts never become labels)."""
    if denied:
        return "RISK_GUARD" if reason.startswith(GUARD_DENIAL_PREFIX) else "RISK_ENGINE"
    code = reason.partition(":")[0].strip()
    return code if code in _VENUE_CODES else "OTHER"


class NodeMetrics:
    """The metric objects of one node, in a registry of their own (several nodes in one test
    process never collide in the global one)."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.order_attempts = Counter(
            "jarvis_order_attempts_total",
            "Orders a strategy tried to send (submitted to the venue, or denied before it)",
            registry=r,
        )
        self.order_acks = Counter(
            "jarvis_order_acks_total", "Orders the venue accepted (OrderAccepted)", registry=r
        )
        self.order_rejections = Counter(
            "jarvis_order_rejections_total",
            "Orders refused, by reason: the venue's code, RISK_GUARD, RISK_ENGINE or OTHER",
            ["reason"],
            registry=r,
        )
        self.order_fills = Counter("jarvis_order_fills_total", "Fills (OrderFilled)", registry=r)
        self.order_cancels = Counter(
            "jarvis_order_cancels_total", "Orders canceled (OrderCanceled)", registry=r
        )
        self.orders_terminal = Counter(
            "jarvis_orders_terminal_total",
            "Orders that reached a terminal state, by state",
            ["state"],
            registry=r,
        )
        self.errors = Counter(
            "jarvis_errors_total",
            "Things that went wrong, by kind (order rejections and denials, cancel/modify "
            "rejections, WebSocket handler errors, frames that failed to decode)",
            ["kind"],
            registry=r,
        )
        self.submit_to_ack = Histogram(
            "jarvis_order_submit_to_ack_seconds",
            "From OrderSubmitted to OrderAccepted (node clock)",
            buckets=_ACK_BUCKETS,
            registry=r,
        )
        self.message_to_state = Histogram(
            "jarvis_message_to_state_seconds",
            "From the newest market message's receipt to its MarketState on the bus",
            buckets=_STATE_BUCKETS,
            registry=r,
        )
        self.ws_reconnects = Counter(
            "jarvis_ws_reconnects_total",
            "WebSocket reconnections, by client kind (data, exec)",
            ["client"],
            registry=r,
        )
        self.ws_failed_connects = Counter(
            "jarvis_ws_failed_connects_total",
            "WebSocket connection attempts that failed, by client kind",
            ["client"],
            registry=r,
        )
        self.ws_resubscriptions = Counter(
            "jarvis_ws_resubscriptions_total",
            "Subscriptions sent again after a WebSocket reconnect, by client kind",
            ["client"],
            registry=r,
        )
        self.feed_gaps = Counter(
            "jarvis_feed_gaps_total", "Times a stream entered GAP", ["stream"], registry=r
        )
        self.stream_healthy = Gauge(
            "jarvis_feed_stream_healthy", "1 while the stream is OK", ["stream"], registry=r
        )
        self.stream_staleness = Gauge(
            "jarvis_feed_stream_staleness_seconds",
            "Seconds since the stream's latest frame",
            ["stream"],
            registry=r,
        )
        self.feed_healthy = Gauge(
            "jarvis_feed_healthy", "1 while every watched stream is OK", registry=r
        )
        self.trading_state = Gauge(
            "jarvis_trading_state",
            "The RiskEngine's trading state (1 for the current one)",
            ["state"],
            registry=r,
        )
        self.guard_mode = Gauge(
            "jarvis_risk_guard_mode",
            "The risk guard's mode (1 for the current one)",
            ["mode"],
            registry=r,
        )
        self.circuit_breaker = Gauge(
            "jarvis_circuit_breaker_tripped",
            "1 while the risk guard's circuit breaker holds the node close-only",
            registry=r,
        )
        self.circuit_breaker_trips = Counter(
            "jarvis_circuit_breaker_trips_total", "Times the circuit breaker tripped", registry=r
        )
        self.budget_used = Gauge(
            "jarvis_risk_budget_used_ratio",
            "Share of the account's daily notional cap used today (risk guard)",
            registry=r,
        )
        self.rate_limited = Counter(
            "jarvis_rest_rate_limited_total", "HTTP 429 answers from the venue", registry=r
        )
        self.rate_budget = Gauge(
            "jarvis_rest_budget_available_ratio",
            "Share of the per-IP REST weight budget available now",
            registry=r,
        )
        self.regime = Gauge(
            "jarvis_regime",
            "The regime per instrument (1 for the current one)",
            ["instrument", "regime"],
            registry=r,
        )
        self.strategy_state = Gauge(
            "jarvis_strategy_state",
            "Each strategy's state (1 for the current one)",
            ["strategy", "state"],
            registry=r,
        )
        self.state_age = Gauge(
            "jarvis_market_state_age_seconds",
            "Seconds since the instrument's latest MarketState",
            ["instrument"],
            registry=r,
        )
        self.positions_open = Gauge("jarvis_positions_open", "Open positions", registry=r)
        self.orders_open = Gauge("jarvis_orders_open", "Open orders", registry=r)
        self.position_qty = Gauge(
            "jarvis_position_quantity",
            "Signed position size per instrument (base units)",
            ["instrument"],
            registry=r,
        )
        self.exposure = Gauge(
            "jarvis_exposure_usd", "Gross notional of open positions at their last price",
            registry=r,
        )  # fmt: skip
        self.pnl_realized = Gauge(
            "jarvis_pnl_realized_usd", "Realized PnL of this run's positions", registry=r
        )
        self.pnl_unrealized = Gauge(
            "jarvis_pnl_unrealized_usd", "Unrealized PnL of open positions", registry=r
        )
        self.recorder_bytes = Gauge(
            "jarvis_recorder_bytes", "Bytes in the recording folders", registry=r
        )
        self.recorder_lag = Gauge(
            "jarvis_recorder_lag_frames",
            "Frames taken by the recorder not yet durable on disk",
            registry=r,
        )
        self.recorder_dropped = Counter(
            "jarvis_recorder_dropped_frames_total",
            "Frames the recorder dropped (queue full)",
            registry=r,
        )
        self.loop_lag = Gauge(
            "jarvis_event_loop_lag_seconds",
            "How late the latest sampling tick ran on the node's event loop",
            registry=r,
        )
        self.up = Gauge("jarvis_node_up", "1 while the node's metrics actor runs", registry=r)
        self.started = Gauge(
            "jarvis_node_start_time_seconds", "When the metrics actor started (Unix time)",
            registry=r,
        )  # fmt: skip

    def render(self) -> bytes:
        """The text exposition of this registry."""
        return generate_latest(self.registry)


# The running nodes' metrics in this process: the sidecar's ``GET /metrics`` renders them (the
# sidecar and its node share one process in ``jarvis serve``).
_LIVE: weakref.WeakSet[NodeMetrics] = weakref.WeakSet()


def publish(metrics: NodeMetrics) -> None:
    """Add a running node's metrics to this process's exposition."""
    _LIVE.add(metrics)


def withdraw(metrics: NodeMetrics) -> None:
    """Take a node's metrics out of the exposition (its node is disposed)."""
    _LIVE.discard(metrics)


def process_exposition() -> bytes:
    """Every running node's metrics in this process, one exposition (empty without a node)."""
    return b"".join(metrics.render() for metrics in list(_LIVE))


def sidecar_exposition(node_connected: bool, feed_healthy: bool) -> bytes:
    """What the sidecar serves at ``/metrics``: its view of the node, then the node's own
    metrics when the node runs in this process (``jarvis serve``)."""
    registry = CollectorRegistry()
    Gauge("jarvis_sidecar_up", "1 while the sidecar answers", registry=registry).set(1)
    Gauge(
        "jarvis_sidecar_node_connected",
        "1 while the sidecar's node link answers",
        registry=registry,
    ).set(1 if node_connected else 0)
    Gauge(
        "jarvis_sidecar_feed_healthy",
        "1 while the node link reports market data flowing",
        registry=registry,
    ).set(1 if feed_healthy else 0)
    return generate_latest(registry) + process_exposition()
