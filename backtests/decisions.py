"""
The whole decision chain over a recording, for replay validation: state builders -> regime
controller -> Geometry, Kinematics and Cascade -> risk guard -> orders, in a BacktestEngine.

Why: STRATEGIES.md asks that a recording replayed twice and run twice in a BacktestEngine gives
the identical sequence of regime changes, transitions and orders. ``decision_run`` collects
exactly those (``RegimeChange``, ``StrategyGate``, ``StrategyState`` off the bus, in publication
order, and every order the strategies submitted, from the cache) and ``decisions_hash`` hashes
them (SHA-256, every field, timestamps included).

The builders and the controller are the live ones; the strategies are created by the controller
from ``strategies`` (``ManagedStrategyConfig`` dicts, as in a node config); the venue is the
simulated exchange of ``backtests.recording.add_to_engine`` (fills differ from the live venue's,
but identically so on every run).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ImportableControllerConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import CryptoPerpetual

from actors.state_builder import MarketStateBuilder
from actors.state_builder import MarketStateBuilderConfig
from backtests.recording import RecordedData
from backtests.recording import add_to_engine
from backtests.recording import load_recording
from common.nautilus import custom_data_topic
from controllers.protocol import REGIME_CHANGE_DATA_TYPE
from controllers.protocol import STRATEGY_GATE_DATA_TYPE
from controllers.protocol import STRATEGY_STATE_DATA_TYPE
from strategies.risk_guard import RiskGuardConfig
from strategies.risk_guard import install_risk_guard

__all__ = ["DecisionRun", "decision_run", "decisions_hash"]


@dataclass(frozen=True)
class DecisionRun:
    """What one run decided: bus items (dicts, publication order) and the orders submitted."""

    published: list[dict[str, Any]]
    orders: list[dict[str, Any]]

    def of(self, kind: str) -> list[dict[str, Any]]:
        """The published items of one type (``RegimeChange``, ``StrategyGate``, ...)."""
        return [p for p in self.published if p["type"] == kind]


class _Collector(Actor):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict[str, Any]] = []

    def on_start(self) -> None:
        for data_type in (
            REGIME_CHANGE_DATA_TYPE,
            STRATEGY_GATE_DATA_TYPE,
            STRATEGY_STATE_DATA_TYPE,
        ):
            # First in line: items are recorded in the order they are published.
            self.msgbus.subscribe(custom_data_topic(data_type), self._on_item, priority=10)

    def _on_item(self, item: Any) -> None:
        self.items.append(item.to_dict())


def decision_run(
    recording: str | Path | RecordedData,
    strategies: Sequence[Mapping[str, Any]],
    *,
    builder: Mapping[str, Any] | None = None,
    controller: Mapping[str, Any] | None = None,
    risk_guard: Mapping[str, Any] | None = None,
    instrument_ids: Iterable[InstrumentId] | None = None,
) -> DecisionRun:
    """Run the decision chain over ``recording``; return what it published and ordered."""
    recorded = recording if isinstance(recording, RecordedData) else load_recording(recording)
    if instrument_ids is None:
        with_data = {getattr(d, "instrument_id", None) for d in recorded.data}
        ids = sorted(
            (i.id for i in recorded.instruments if isinstance(i, CryptoPerpetual)),
            key=str,
        )
        ids = [i for i in ids if i in with_data]
    else:
        ids = list(instrument_ids)
    engine = BacktestEngine(
        BacktestEngineConfig(
            trader_id="REPLAY-001",
            logging=LoggingConfig(log_level="ERROR", bypass_logging=True),
            controller=ImportableControllerConfig(
                controller_path="controllers.regime:RegimeController",
                config_path="controllers.regime:RegimeControllerConfig",
                config={
                    **(controller or {}),
                    "instrument_ids": [str(i) for i in ids],
                    "strategies": list(strategies),
                },
            ),
        ),
    )
    try:
        add_to_engine(engine, recorded.for_instruments(ids))
        for instrument_id in ids:
            config = {
                **(builder or {}),
                "component_id": f"MarketStateBuilder-{instrument_id.symbol}",
                "instrument_id": str(instrument_id),
            }
            engine.add_actor(MarketStateBuilder(MarketStateBuilderConfig.parse(json.dumps(config))))
        collector = _Collector()
        engine.add_actor(collector)
        install_risk_guard(engine.kernel, RiskGuardConfig.parse(json.dumps(risk_guard or {})))
        engine.run()
        orders = [
            {
                "client_order_id": o.client_order_id.value,
                "strategy_id": o.strategy_id.value,
                "instrument_id": o.instrument_id.value,
                "side": o.side_string(),
                "type": o.type_string(),
                "quantity": str(o.quantity),
                "status": o.status_string(),
                "filled_qty": str(o.filled_qty),
                "ts_init": o.ts_init,
                "tags": list(o.tags or []),
            }
            for o in sorted(engine.kernel.cache.orders(), key=lambda o: o.client_order_id.value)
        ]
        return DecisionRun(published=list(collector.items), orders=orders)
    finally:
        engine.dispose()


def decisions_hash(run: DecisionRun) -> str:
    """SHA-256 over every published item and every order, in order."""
    digest = hashlib.sha256()
    for item in run.published:
        digest.update(json.dumps(item, sort_keys=True, default=str).encode())
    for order in run.orders:
        digest.update(json.dumps(order, sort_keys=True).encode())
    return digest.hexdigest()
