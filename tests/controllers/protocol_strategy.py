"""
A minimal real strategy that speaks the controller protocol, for the controller's own tests.

It is not a rulebook strategy (those build on the strategies floor's base class): on ENABLE it
scans, optionally asks for the instrument and enters with a market order; on DISABLE it closes
and reports DISABLED and flat. ``keep_position_on_disable`` makes it report DISABLED and flat
while still holding its position -- a broken strategy the controller must not believe.
"""

from __future__ import annotations

import math
from decimal import Decimal

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import PositionClosed
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

from common.nautilus import custom_data_topic
from controllers.protocol import GRANT_ENDPOINT
from controllers.protocol import STRATEGY_GATE_DATA_TYPE
from controllers.protocol import STRATEGY_STATE_DATA_TYPE
from controllers.protocol import GrantRequest
from controllers.protocol import StrategyGate
from controllers.protocol import StrategyStatus
from controllers.protocol import new_strategy_state


class ProtocolStrategyConfig(StrategyConfig, frozen=True):
    """Test strategy behaviour switches."""

    instrument_id: InstrumentId
    side: str | None = None
    regime_gate: str | None = None
    arm_on_enable: bool = False
    enter_on_arm: bool = False
    trade_size: Decimal = Decimal("0.010")
    keep_position_on_disable: bool = False
    label: str = ""


class ProtocolStrategy(Strategy):
    """Scans when enabled, arms with a grant, enters at market, closes when disabled."""

    def __init__(self, config: ProtocolStrategyConfig) -> None:
        super().__init__(config)
        self.cfg = config
        self.status = StrategyStatus.DISABLED
        self.gates: list[StrategyGate] = []
        self.grants: list[GrantRequest] = []
        self.loaded: dict[str, bytes] = {}

    def on_start(self) -> None:
        self.msgbus.subscribe(custom_data_topic(STRATEGY_GATE_DATA_TYPE), self._on_gate)
        self._report(StrategyStatus.DISABLED, "started")

    def on_stop(self) -> None:
        self.msgbus.unsubscribe(custom_data_topic(STRATEGY_GATE_DATA_TYPE), self._on_gate)

    def on_save(self) -> dict[str, bytes]:
        return {"label": self.cfg.label.encode(), "status": self.status.value.encode()}

    def on_load(self, state: dict[str, bytes]) -> None:
        self.loaded = dict(state)

    def request_grant(self) -> GrantRequest:
        request = GrantRequest(strategy_id=self.id.value, instrument_id=self.cfg.instrument_id)
        self.msgbus.send(GRANT_ENDPOINT, request)
        self.grants.append(request)
        return request

    def back_to_scanning(self) -> None:
        self._report(StrategyStatus.SCANNING, "setup invalidated")

    def _on_gate(self, gate: StrategyGate) -> None:
        if gate.strategy_id != self.id.value:
            return
        self.gates.append(gate)
        if gate.action == "ENABLE" and self.status is StrategyStatus.DISABLED:
            self._report(StrategyStatus.SCANNING, "enabled")
            if self.cfg.arm_on_enable:
                request = self.request_grant()
                if request.granted:
                    self._report(StrategyStatus.ARMED, "granted")
                    if self.cfg.enter_on_arm:
                        self._enter()
        elif gate.action == "DISABLE":
            self._disable()

    def _enter(self) -> None:
        order = self.order_factory.market(
            self.cfg.instrument_id,
            OrderSide.BUY,
            self.cache.instrument(self.cfg.instrument_id).make_qty(self.cfg.trade_size),
        )
        self.submit_order(order)

    def on_order_filled(self, event: OrderFilled) -> None:
        if self.status is StrategyStatus.ARMED:
            self._report(StrategyStatus.ENTERED, "entry filled", flat=False)

    def on_position_closed(self, event: PositionClosed) -> None:
        if self.status is not StrategyStatus.DISABLED:
            self._report(StrategyStatus.DISABLED, "closed on disable")

    def _disable(self) -> None:
        positions = self.cache.positions_open(
            instrument_id=self.cfg.instrument_id,
            strategy_id=self.id,
        )
        if positions and not self.cfg.keep_position_on_disable:
            for position in positions:
                self.close_position(position)
            return  # DISABLED is reported once flat (on_position_closed)
        self._report(StrategyStatus.DISABLED, "disabled")

    def _report(self, status: StrategyStatus, reason: str, flat: bool = True) -> None:
        previous = self.status
        self.status = status
        now = self.clock.timestamp_ns()
        self.publish_data(
            STRATEGY_STATE_DATA_TYPE,
            new_strategy_state(
                self.id.value,
                self.cfg.instrument_id,
                previous,
                status,
                reason,
                flat,
                ts_event=now,
                ts_init=now,
                entry_price=math.nan,
            ),
        )
