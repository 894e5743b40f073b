"""The metrics' names and labels follow Prometheus conventions; rejection labels stay bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.portfolio.portfolio import Portfolio

from common.nautilus import custom_data_topic
from controllers.protocol import REGIME_CHANGE_DATA_TYPE
from controllers.protocol import STRATEGY_STATE_DATA_TYPE
from controllers.protocol import Regime
from controllers.protocol import StrategyStatus
from controllers.protocol import new_regime_change
from controllers.protocol import new_strategy_state
from jarvis.checks import Scrape
from jarvis.cli import build_parser
from jarvis.metrics import NodeMetrics
from jarvis.metrics import rejection_reason_label
from jarvis.metrics_actor import NodeMetricsActor
from jarvis.metrics_actor import NodeMetricsActorConfig
from strategies.risk_guard import RISK_GUARD_CHANGE_DATA_TYPE
from strategies.risk_guard import RiskGuardChange

BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")


def test_names_follow_prometheus_conventions() -> None:
    families = list(NodeMetrics().registry.collect())
    assert len(families) >= 30
    for family in families:
        assert family.name.startswith("jarvis_"), family.name
        if family.type == "counter":
            # prometheus_client strips _total from the family name and adds it to samples.
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), family.name
        assert not family.name.endswith(("_ms", "_millis", "_us")), family.name


def test_rejection_labels_are_venue_codes_or_a_fixed_few() -> None:
    assert rejection_reason_label("MIN_VALUE: Order must have minimum value of $10.", False) == (
        "MIN_VALUE"
    )
    assert rejection_reason_label("something the venue never said before", False) == "OTHER"
    assert rejection_reason_label("RiskGuard: instrument not allowed", True) == "RISK_GUARD"
    assert rejection_reason_label("TRADING_STATE_REDUCING", True) == "RISK_ENGINE"


def test_metrics_port_must_be_a_port() -> None:
    parser = build_parser()
    args = parser.parse_args(["node", "--config", "x.toml", "--metrics-port", "9464"])
    assert args.metrics_port == 9464
    assert args.log_format == "human"
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--metrics-port", "70000"])


# --- the actor on a real message bus (no node: the bus, cache and portfolio it registers on) ---


@pytest.fixture
def actor() -> Iterator[tuple[NodeMetricsActor, MessageBus]]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    clock = TestClock()
    msgbus = MessageBus(TraderId("TEST-001"), clock)
    cache = Cache()
    actor = NodeMetricsActor(NodeMetricsActorConfig())
    actor.register_base(Portfolio(msgbus, cache, clock), msgbus, cache, clock)
    actor.start()
    try:
        yield actor, msgbus
    finally:
        actor.stop()
        actor.dispose()
        asyncio.set_event_loop(None)
        loop.close()


def _values(actor: NodeMetricsActor, name: str) -> dict[tuple[str, ...], float]:
    scrape = Scrape.parse(actor.metrics.render().decode())
    return {tuple(v for _, v in labels): value for labels, value in scrape.samples[name].items()}


def test_regime_and_strategy_state_are_one_hot_per_instrument_and_strategy(
    actor: tuple[NodeMetricsActor, MessageBus],
) -> None:
    metrics_actor, msgbus = actor
    topic = custom_data_topic(REGIME_CHANGE_DATA_TYPE)
    moves = ((Regime.DISABLED, Regime.SIDEWAYS), (Regime.SIDEWAYS, Regime.EXPANSION))
    for previous, regime in moves:
        msgbus.publish(topic, new_regime_change(BTC, previous, regime, "test", "", 1, 1))
    msgbus.publish(
        custom_data_topic(STRATEGY_STATE_DATA_TYPE),
        new_strategy_state("Geometry-BTC", BTC, StrategyStatus.DISABLED, StrategyStatus.ARMED,
                           "test", True, 1, 1),
    )  # fmt: skip

    regimes = _values(metrics_actor, "jarvis_regime")
    assert regimes == {(str(BTC), "SIDEWAYS"): 0.0, (str(BTC), "EXPANSION"): 1.0}
    assert _values(metrics_actor, "jarvis_strategy_state") == {("ARMED", "Geometry-BTC"): 1.0}


def test_the_circuit_breaker_gauge_follows_the_guard(
    actor: tuple[NodeMetricsActor, MessageBus],
) -> None:
    metrics_actor, msgbus = actor
    topic = custom_data_topic(RISK_GUARD_CHANGE_DATA_TYPE)
    ctor: Any = RiskGuardChange

    def change(previous: str, mode: str, reason: str) -> None:
        msgbus.publish(topic, ctor(ts_event=1, ts_init=1, previous=previous, mode=mode,
                                   reason=reason))  # fmt: skip

    change("ACTIVE", "REDUCE_ONLY", "circuit breaker: 5 consecutive rejections")
    assert _values(metrics_actor, "jarvis_circuit_breaker_tripped") == {(): 1.0}
    assert _values(metrics_actor, "jarvis_risk_guard_mode")[("REDUCE_ONLY",)] == 1.0
    change("REDUCE_ONLY", "ACTIVE", "operator RESUME: checked")
    assert _values(metrics_actor, "jarvis_circuit_breaker_tripped") == {(): 0.0}
    assert _values(metrics_actor, "jarvis_circuit_breaker_trips_total") == {(): 1.0}
    change("ACTIVE", "HALTED", "operator HALT: lunch")  # an operator halt is not the breaker
    assert _values(metrics_actor, "jarvis_circuit_breaker_tripped") == {(): 0.0}
    assert _values(metrics_actor, "jarvis_risk_guard_mode") == {
        ("ACTIVE",): 0.0, ("REDUCE_ONLY",): 0.0, ("HALTED",): 1.0,
    }  # fmt: skip
